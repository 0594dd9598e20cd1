"""syndicate: cross-post a static site's posts, exactly once, kept in step."""

__version__ = "0.2.0"

from syndicate import _moved

_moved.install()
