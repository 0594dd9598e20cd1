"""Syndication links written back into the post (IndieWeb `u-syndication`), when `[site] write_back` is on.

Once a copy exists, its URL goes into the post's front matter under `[site]
write_back_key` (default `syndication`), so a theme can print "Also on: …".
The edit is a splice of the one key's lines into the file as it is: every other
byte (comments, key order, quoting, anchors, the body, a BOM, CRLF line ends)
stays, and the result is parsed again and compared with the original before it
replaces the file (temp file + rename, same permissions). A file that cannot be
edited safely is left alone with a warning; a publish is never lost for it.

The list is merged, never overwritten: URLs the user wrote by hand stay where
they are, a copy's URL is appended (targets in config order), and a URL this
program wrote for a copy that is gone is taken out. What was written is kept in
the ledger's `facts` (`written_scope`), so a hand-added URL is never mistaken
for one of ours. Writing the same list again changes nothing: not even mtime.

`masked_digest` is the content hash change detection uses while write-back is
on: the front matter without the key, and the body. An edit of the key alone
(ours, or a webhook's push of our commit) is never a change; a body edit is.
"""
from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicate.content.fmedit import edit, listed, merged, value_of
from syndicate.content.fmedit.common import FAILED_TTL, FOREVER, Text, WriteBackError

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.state.ledger import Ledger

log = logging.getLogger(__name__)


# --- one post's write-back ------------------------------------------------------------------------------

@dataclass
class Result:
    path: str  # relative to the site root
    changed: bool
    urls: list[Any]
    reason: str = ""
    mine: list[str] | None = None  # our copies' URLs now, and those written before (`remember`)
    wrote: list[str] | None = None


def written_scope(site_id: str, post_id: str) -> str:
    return f"writeback|{site_id}|{post_id}"[:300]


def failed_scope(site_id: str) -> str:
    return f"writeback-failed|{site_id}"[:300]


def ours(config: Config, ledger: Ledger, post_id: str) -> list[str]:
    """The URLs of the post's live copies, targets in config order."""
    return _ours(config, ledger.all([post_id]))


def _ours(config: Config, found: list[Any]) -> list[str]:
    rows = {r.target: r for r in found}
    out = []
    for target in config.targets:
        row = rows.get(target)
        if row is not None and row.state == "published" and row.remote_url:
            out.append(row.remote_url)
    return list(dict.fromkeys(out))


def owed(config: Config, ledger: Ledger, post_id: str, rows: list[Any] | None = None) -> bool:
    """Whether the post's file may lack a change: its live copies are not those last written (a new copy,
    a copy gone, a write that failed). Two small queries, no file read: a unit that changed nothing asks
    this before it opens the file."""
    mine = ours(config, ledger, post_id) if rows is None else _ours(config, rows)
    wrote = (ledger.get_fact(written_scope(config.site_id, post_id)) or {}).get("urls") or []
    return sorted(mine) != sorted(wrote)


def write_back(config: Config, ledger: Ledger, post_id: str, path: Path, *, now: Any = None,
               remember_written: bool = True) -> Result:
    """Bring the post's list up to date with the ledger. Raises `WriteBackError` (the file is left as it was).

    `remember_written` False: the caller records what was written (`remember`) once it is kept for good
    (the webhook: once the commit is pushed)."""
    with _locked(config):  # one write-back at a time: two targets' units finishing together never race
        for tries in range(3):
            try:
                return _write_back(config, ledger, post_id, path, now, remember_written)
            except _Changed:
                if tries == 2:
                    raise WriteBackError(f"{_shown(config, path)}: kept changing while its links were written; "
                                         "the next change writes them") from None
    raise AssertionError("unreachable")


class _Changed(WriteBackError):
    """The file changed between its reading and its replacing: read it again."""


_THREAD_LOCK = threading.Lock()


@contextmanager
def _locked(config: Config) -> Iterator[None]:
    """This process's lock, then the data folder's lock file (other processes and workers of this site)."""
    with _THREAD_LOCK:
        try:
            config.data_dir.mkdir(parents=True, exist_ok=True)
            fh = open(config.data_dir / "writeback.lock", "a+b")
        except OSError:
            yield  # a read-only data folder: the in-process lock is all there is
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            yield
        finally:
            fh.close()


def _write_back(config: Config, ledger: Ledger, post_id: str, path: Path, now: Any,
                remember_written: bool) -> Result:
    from syndicate.content.frontmatter import split
    from syndicate.content.loader import load_post
    from syndicate.content.post import PostError

    key = config.site.write_back_key
    where = _shown(config, path)
    real = path.resolve()  # a symlinked post: its target is edited, the link stays a link
    try:
        st = real.stat()
        data = real.read_bytes()
    except FileNotFoundError:
        return Result(where, False, [], "the file is gone")
    except OSError as exc:
        raise WriteBackError(f"{where}: cannot read ({exc.strerror or exc}); links not written") from None
    try:
        post = load_post(path, config.site, light=True)
    except PostError as exc:
        return Result(where, False, [], f"not a post now ({exc})")
    if post.id != post_id:
        return Result(where, False, [], "the file is another post's now: not its source")
    from syndicate.state.ledger import utcnow

    if post.draft or post.visible_at(now or utcnow()) is not None:
        return Result(where, False, [], "a draft or hidden post: never written into")
    text = Text.decode(data, where)
    fm, _body, _kind = split(text.text, path)
    current = listed(value_of(fm, key)[1])
    scope = written_scope(config.site_id, post_id)
    wrote = (ledger.get_fact(scope) or {}).get("urls") or []
    mine = ours(config, ledger, post_id)
    new = merged(current, mine, wrote)
    if new == current:
        result = Result(where, False, new, "up to date", mine, wrote)
    else:
        out = edit(text.text, key, new, where)
        replace_file(real, text.encode(out), st, where)
        log.info("write-back %s: %s = %s", where, key, ", ".join(map(str, new)) or "(removed)")
        result = Result(where, True, new, "", mine, wrote)
    if remember_written or not result.changed:
        remember(config, ledger, post_id, result)
    return result


def remember(config: Config, ledger: Ledger, post_id: str, result: Result) -> None:
    """Keep which URLs are ours (written for a copy), so that a copy gone takes its URL out with it."""
    mine, wrote = result.mine or [], result.wrote or []
    if sorted(mine) != sorted(wrote):
        ledger.put_fact(written_scope(config.site_id, post_id), {"urls": mine}, FOREVER)


def _shown(config: Config, path: Path) -> str:
    try:
        return path.resolve().relative_to(config.site.root).as_posix()
    except ValueError:
        return str(path)


def replace_file(path: Path, data: bytes, before: os.stat_result, where: str | None = None) -> None:
    """Write `data` to `path` atomically (temp file beside it, then rename), keeping its mode and owner;
    refused when the file changed since `before` was taken (a save in between is never overwritten)."""
    where = where or path.name
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".syndicate-tmp", dir=path.parent)
    except OSError as exc:
        raise WriteBackError(f"{where}: cannot write ({exc.strerror or exc}); the copies are published and "
                             "recorded, their links were not written") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, before.st_mode & 0o7777)
        try:
            os.chown(tmp, before.st_uid, before.st_gid)
        except OSError:
            pass  # not ours to give away: the file keeps the writer's owner
        now = path.stat()
        if (now.st_size, now.st_mtime_ns, now.st_ino) != (before.st_size, before.st_mtime_ns, before.st_ino):
            raise _Changed(f"{where}: changed while its links were written")
        os.replace(tmp, path)
    except OSError as exc:
        raise WriteBackError(f"{where}: cannot write ({exc.strerror or exc}); the copies are published and "
                             "recorded, their links were not written") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def record_failure(config: Config, ledger: Ledger, message: str) -> None:
    """Keep a write-back failure for `status` (and the log)."""
    log.warning("write-back: %s", message)
    try:
        ledger.put_fact(failed_scope(config.site_id), {"message": message[:500]}, FAILED_TTL)
    except Exception:  # the warning is logged already; a full disk must not fail the publish
        log.warning("write-back: the failure could not be recorded for status")


def clear_failure(config: Config, ledger: Ledger) -> None:
    scope = failed_scope(config.site_id)
    if ledger.get_fact(scope) is not None:
        ledger.put_fact(scope, {}, 0.0)


def try_write_back(config: Config, ledger: Ledger, post_id: str, path: Path) -> Result | None:
    """`write_back`, with any failure logged and kept for `status` instead of raised."""
    try:
        result = write_back(config, ledger, post_id, path)
    except WriteBackError as exc:
        record_failure(config, ledger, str(exc))
        return None
    except Exception as exc:  # never lose a publish to a write-back bug
        record_failure(config, ledger, f"{_shown(config, path)}: {type(exc).__name__}: {exc}")
        return None
    if result.changed:
        clear_failure(config, ledger)
    return result


def write_back_all(config: Config, ledger: Ledger, *, remember_written: bool = True,
                   warn: Any = None) -> list[tuple[str, Result]]:
    """Every post with a copy (or a copy gone) brought up to date: the webhook's pass after each sync, and
    the watcher's after a write-back failed (a read-only site made writable again). Returns the
    (post id, result) of the files changed; a file that fails is recorded for `status` and skipped."""
    root = config.site.root
    paths: dict[str, str] = {}
    by_post: dict[str, list[Any]] = {}
    for row in ledger.all(states=["published", "deleted"]):
        by_post.setdefault(row.post_id, []).append(row)
        if row.post_path and not Path(row.post_path).is_absolute():
            paths.setdefault(row.post_id, row.post_path)
    changed: list[tuple[str, Result]] = []
    failed = False
    for post_id, rel in sorted(paths.items()):
        if not owed(config, ledger, post_id, by_post[post_id]):
            continue  # its file has what was last written: not even read
        try:
            result = write_back(config, ledger, post_id, root / rel, remember_written=remember_written)
        except WriteBackError as exc:
            failed = True
            record_failure(config, ledger, str(exc))
            if warn is not None:
                warn(f"warning: {exc}")
            continue
        if result.changed:
            changed.append((post_id, result))
    if not failed:
        clear_failure(config, ledger)
    return changed


def failure(config: Config, ledger: Any) -> str | None:
    """The last write-back failure `status` shows, if any."""
    found = ledger.get_fact(failed_scope(config.site_id))
    message = (found or {}).get("message")
    return str(message) if message else None
