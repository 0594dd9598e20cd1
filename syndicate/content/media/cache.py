"""Disk cache of fitted images, keyed by (source bytes, policy).

A retry or an update of a post finds its images already fitted. Entries are
written to a temporary file and renamed into place (`os.replace`), so several
worker processes can share one folder: a reader sees a whole entry or none.
The cache is an optimisation only: a folder that cannot be written (a
read-only site, a full disk) turns it off with one warning, never an error.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from syndicate.contract import FittedMedia, MediaPolicy

FIT_VERSION = 1  # bump when fit() output changes, so old entries are not reused
_MAGIC = b"SYNFIT1\n"
_BYTES_FIELDS = ("max_bytes", "max_pixels", "max_width", "max_height", "formats")
log = logging.getLogger("syndicate.content.media")


def policy_key(policy: MediaPolicy) -> str:
    """The part of a policy that changes the fitted bytes (not count or alt rules)."""
    fields = dataclasses.asdict(policy)
    return json.dumps({k: fields[k] for k in _BYTES_FIELDS}, sort_keys=True, default=list)


def cache_key(source_sha256: str, policy: MediaPolicy) -> str:
    blob = f"{FIT_VERSION}\n{source_sha256}\n{policy_key(policy)}".encode()
    return hashlib.sha256(blob).hexdigest()


class FitCache:
    """Fitted images on disk under `directory` (created on first write).

    `disabled` becomes True after a write fails; from then on `put` does nothing.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.disabled = False

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.fit"

    def get(self, source_sha256: str, policy: MediaPolicy) -> FittedMedia | None:
        path = self._path(cache_key(source_sha256, policy))
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        if not raw.startswith(_MAGIC):
            return None
        head, sep, data = raw[len(_MAGIC):].partition(b"\n")
        try:
            meta = json.loads(head)
            if not sep or len(data) != meta["size"]:
                return None
            return FittedMedia(data, meta["mime"], meta["width"], meta["height"], meta["filename"])
        except (ValueError, KeyError, TypeError):
            return None

    def put(self, source_sha256: str, policy: MediaPolicy, fitted: FittedMedia) -> bool:
        """Store `fitted`; False when the cache is (or just became) disabled."""
        if self.disabled:
            return False
        path = self._path(cache_key(source_sha256, policy))
        meta = {"mime": fitted.mime, "width": fitted.width, "height": fitted.height, "filename": fitted.filename, "size": len(fitted.data)}
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".fit")
            with os.fdopen(fd, "wb") as out:
                out.write(_MAGIC + json.dumps(meta).encode() + b"\n" + fitted.data)
            os.replace(tmp, path)
            tmp = None
            return True
        except OSError as exc:
            self.disabled = True
            log.warning("media cache %s cannot be written (%s); fitting without a cache", self.directory, exc.strerror or exc)
            return False
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
