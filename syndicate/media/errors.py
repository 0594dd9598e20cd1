"""The one error of the media package."""
from __future__ import annotations


class MediaError(Exception):
    """An image cannot be used; the message names the image (the caller adds the post).

    `transient` is True when trying again later may succeed (a timeout, a 5xx
    from the image host); a connector skips the image with a warning otherwise.
    Positional arguments only, so that it pickles across Celery.
    """

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message, transient)

    @property
    def message(self) -> str:
        return str(self.args[0])

    @property
    def transient(self) -> bool:
        return bool(self.args[1])

    def __str__(self) -> str:
        return self.message
