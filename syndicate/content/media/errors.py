"""The media errors, re-exported from the one tree in syndicate/errors.py.

    MediaError          an image cannot be used; names the image
    ├── MediaUnavailable  may work later: a timeout, a 5xx or 404 (the site not deployed yet),
    │                     a host that does not resolve or refuses connections
    └── MediaRefused      never will as given: SSRF rules, too large, not an image, a
                          decompression bomb, an unsupported format, a path out of the site
"""
from __future__ import annotations

from syndicate.errors import MediaError, MediaRefused, MediaUnavailable

__all__ = ["MediaError", "MediaRefused", "MediaUnavailable"]
