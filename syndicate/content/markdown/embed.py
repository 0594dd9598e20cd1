"""An embed: something a platform may show natively (a video, a post, a gist), with its plain URL."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

EMBED_OPEN, EMBED_CLOSE = "\ue002", "\ue003"
EMBEDDED = re.compile("\ue002(\\d+)\ue003")  # an embed's placeholder in the text


@dataclass(frozen=True)
class Embed:
    """Something a platform may show natively: a video, a tweet, a gist..."""

    kind: str  # "youtube" | "vimeo" | "x" | "gist" | "instagram" | "codepen" | ...
    id: str  # the platform's id ("dQw4w9WgXcQ", "user/abcdef", tweet id)
    url: str  # a plain URL to it, the fallback everywhere


EmbedStyle = Callable[[Embed], str]
