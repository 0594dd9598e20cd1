"""The one exception tree of syndicate, written out once.

    SyndicateError                 every error syndicate raises on purpose
    ├── ConfigError                the configuration cannot be used (exit 2)
    ├── PostError                  a post cannot be used; names the file and the problem
    ├── MediaError                 an image cannot be used; names the image
    │   ├── MediaUnavailable       may work later (a timeout, a 5xx, the site not deployed yet)
    │   └── MediaRefused           never will (SSRF rules, too large, not an image)
    └── ConnectorError             what a platform answered, as the scheduler needs it
        ├── Transient              a passing failure (5xx, timeout): retry with backoff
        │   ├── OutcomeUnknown     a create whose response was lost: `find` before retrying
        │   └── NotCreated         an answer that proves nothing was made (a proxy's HTML 5xx page,
        │                          a refused connection): retry, then `failed`, never "outcome unknown"
        ├── RateLimited            the platform said wait `retry_after` seconds
        │   └── Throttled          our own shared limiter said wait; nothing was sent
        ├── Permanent              the platform refused this content: record why, never retry
        │   ├── NotFound           the remote copy is gone
        │   └── RenderError        the post cannot be turned into this platform's draft
        └── AuthFailed             credentials missing, wrong or lacking a scope: stop the target

Every class takes positional arguments only and passes them to
`Exception.__init__`, so that it pickles across Celery. `str(e)` never holds
a secret: messages are built from names, never from credential values.
"""
from __future__ import annotations


class SyndicateError(Exception):
    """Base of every error syndicate raises on purpose."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__

    def __str__(self) -> str:
        return self.message


class ConfigError(SyndicateError):
    """The configuration cannot be used; the message names the file, the key and what is allowed."""


class PostError(SyndicateError):
    """A post cannot be used; the message names the file and the problem."""


class MediaError(SyndicateError):
    """An image cannot be used; the message names the image (the caller adds the post)."""


class MediaUnavailable(MediaError):
    """The image may be usable later: a timeout, a 5xx from its host, a site not yet deployed."""


class MediaRefused(MediaError):
    """The image will never be usable as given: refused by the SSRF rules, too large, not an image."""


class ConnectorError(SyndicateError):
    """What a platform answered, mapped to what the scheduler must do next."""


class Transient(ConnectorError):
    """A passing failure (5xx, timeout, connection reset): retry with backoff."""


class OutcomeUnknown(Transient):
    """The request may have landed (response lost): call `find()` before retrying."""


class NotCreated(Transient):
    """A passing failure that proves the request made nothing: a refused connection, or a 5xx
    page from a proxy in front of the platform. A create that ends here is `failed`, not unknown."""


class RateLimited(ConnectorError):
    """The platform refused for now: retry after `retry_after` seconds (None: unknown)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after)

    @property
    def retry_after(self) -> float | None:
        return self.args[1] if len(self.args) > 1 else None


class Throttled(RateLimited):
    """Our own shared limiter said wait: nothing was sent to the platform."""


class Permanent(ConnectorError):
    """The platform refused this content: record why, never retry."""


class NotFound(Permanent):
    """The remote object is gone (deleted on the platform)."""


class RenderError(Permanent):
    """The post cannot be rendered for this target (the message says why)."""


class AuthFailed(ConnectorError):
    """Credentials missing, wrong or lacking a scope: stop this target, tell the user."""


__all__ = [
    "AuthFailed",
    "ConfigError",
    "ConnectorError",
    "MediaError",
    "MediaRefused",
    "MediaUnavailable",
    "NotCreated",
    "NotFound",
    "OutcomeUnknown",
    "Permanent",
    "PostError",
    "RateLimited",
    "RenderError",
    "SyndicateError",
    "Throttled",
    "Transient",
]
