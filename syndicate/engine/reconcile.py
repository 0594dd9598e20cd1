"""The reconcile scan: what changed in the site's files since the ledger last saw them.

Cheap by construction: stat data (size, mtime_ns, inode) is compared with the
ledger's `files` table first; only a file whose stat changed is read and
hashed, and only a file whose hash changed is parsed. An unchanged site costs
one `stat` per file and no reads.

A vanished file is paired with a new one by the post's stable id, else by the
content hash (a rename that changed the URL), so a move is never a deletion.
A file that stays gone is kept in `files` as a marker row (`size` < 0, see
`GONE` and `HELD`) whose `seen_at` is when it vanished: the delete grace
period and the mass-change guard survive a restart of the watcher. Posts that
only the ledger knows (sent by `push` or a webhook, never scanned) are covered
too: a row whose file is gone is a deletion like any other.

Nothing is sent here: `syndicate.triggers.watch` applies a `Scan`.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from syndicate.config import Config
from syndicate.content.loader import discover, load_post, unique
from syndicate.content.post import Post
from syndicate.errors import SyndicateError
from syndicate.state.ledger import FileRow, Ledger, utcnow

GONE = -1  # marker size: the file vanished at `seen_at`; its copies go after the grace period
HELD = -2  # marker size: the mass-change guard holds this deletion until `push --apply-deletes`
KEPT = -3  # marker size: gone, its deletion carried out, and a copy kept (on_delete = keep, a refusal)
EDITOR_JUNK = (".swp", ".swx", ".swo", "~", ".tmp", ".bak")


def is_junk(name: str) -> bool:
    """Editor swap, backup and lock files (vim `.x.swp` and `4913`, emacs `.#x` and `x~`)."""
    return name.startswith((".", "#")) or name.endswith(EDITOR_JUNK) or name == "4913"


@dataclass
class Found:
    """A post file whose content changed (or is new), parsed."""

    path: str  # relative to the site root
    post: Post
    kind: str  # "new" | "saved" | "moved" | "restored"
    old_path: str | None = None
    old_id: str | None = None  # set when a rename changed the post's id: its rows are adopted


@dataclass
class Scan:
    """What a scan saw; `commit` records it in the ledger once the work is dispatched."""

    changed: list[Found] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): once per change
    warnings: list[str] = field(default_factory=list)
    vanished: list[FileRow] = field(default_factory=list)  # newly gone, waiting out the grace period
    due: list[FileRow] = field(default_factory=list)  # gone past the grace period: delete their copies now
    held: list[FileRow] = field(default_factory=list)  # held by the mass-change guard
    cancelled: list[str] = field(default_factory=list)  # paths whose pending deletion a return cancelled
    put: list[FileRow] = field(default_factory=list)
    drop: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=lambda: {"files": 0, "hashed": 0, "parsed": 0})
    cache: dict[str, FileRow] | None = field(default=None, repr=False)  # the scanner's copy of `files`

    def commit(self, ledger: Ledger) -> None:
        ledger.put_files(self.put)
        if self.drop:
            ledger.delete_files(self.drop)
        if self.cache is not None:  # keep the scanner's copy as the ledger now is
            self.cache.update((r.path, r) for r in self.put)
            for path in self.drop:
                self.cache.pop(path, None)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Scanner:
    """Compares the files on disk with the `files` table; `now` is injectable for the grace period."""

    def __init__(self, config: Config, ledger: Ledger, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.config = config
        self.ledger = ledger
        self.clock = clock
        self.root = config.site.root
        self._unreadable: set[tuple[str, int]] = set()  # warned once per (path, mtime)
        # the `files` table as this scanner last read and wrote it: an event scan (a few paths) compares
        # with it instead of reading 10,000 rows again; every full scan reads the table afresh
        self._known: dict[str, FileRow] | None = None

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def matches(self, path: Path) -> bool:
        """Whether `path` is a post file by the content globs (without touching the disk)."""
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return False
        if is_junk(rel.name) or any(p.startswith(".") for p in rel.parts[:-1]):
            return False
        return any(rel.match(pattern) or _glob_match(rel.as_posix(), pattern) for pattern in self.config.site.content)

    def listing(self) -> list[Path]:
        """The files `discover` finds, by one `os.scandir` walk per glob prefix (no stat of each file).

        `Path.glob` costs a stat per match and more; this keeps a no-change rescan of
        10,000 files to the one stat per file that the comparison needs.
        """
        simple = all(_prefix(p) is not None for p in self.config.site.content)
        if not simple:
            return discover(self.config)
        return [Path(full) for _rel, full in self._walk()]

    def _walk(self) -> list[tuple[str, str]]:
        """(path relative to the root, full path) of every post file, sorted, as plain strings (the
        no-change rescan's hot loop: no Path objects for the files that did not change)."""
        found: dict[str, str] = {}
        root = str(self.root)
        for pattern in self.config.site.content:
            prefix = _prefix(pattern) or ""
            stack = [self.root / prefix]
            while stack:
                try:
                    entries = list(os.scandir(stack.pop()))
                except OSError:
                    continue
                for entry in entries:
                    if entry.name.startswith(".") or entry.name == "node_modules":
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    elif entry.is_file() and not entry.name.startswith("_index."):
                        rel = entry.path[len(root) + 1:]
                        if rel not in found and _glob_match(rel, pattern) and not is_junk(entry.name):
                            found[rel] = entry.path
        return sorted(found.items())

    def scan(self, only: Iterable[Path] | None = None) -> Scan:
        """A full scan (`only` None) or one of the named paths (after filesystem events)."""
        now = self.clock()
        if only is None or self._known is None:
            self._known = self.ledger.files()
        known = dict(self._known)
        out = Scan(cache=self._known)
        if only is None:
            walked = self._walk() if all(_prefix(p) is not None for p in self.config.site.content) else None
            if walked is not None:
                candidates = {rel for rel, _ in walked}
                paths = []
                for rel, full in walked:  # unchanged stat: nothing more is done for the file
                    row = known.get(rel)
                    if row is not None and row.size >= 0:
                        try:
                            st = os.stat(full)
                        except OSError:
                            continue
                        if (row.size, row.mtime_ns, row.inode) == (st.st_size, st.st_mtime_ns, st.st_ino):
                            continue
                    paths.append(Path(full))
                listed = len(walked)
            else:
                paths = self.listing()
                candidates = {self.rel(p) for p in paths}
                listed = len(paths)
            gone = [r for p, r in known.items() if r.size >= 0 and p not in candidates]
            untracked = self._untracked(candidates)
            gone += untracked
            lost_folder = not listed and (bool(untracked) or any(r.size >= 0 for r in known.values()))
        else:
            paths = sorted({p for p in only if self.matches(p) and p.is_file()})
            asked = {self.rel(p) for p in only if self.matches(p)}
            gone = [known[p] for p in sorted(asked) if p in known and known[p].size >= 0
                    and not (self.root / p).is_file()]
            lost_folder = False
            listed = len(paths)
        out.stats["files"] = listed
        new: list[tuple[str, str, Post | None]] = []  # (path, sha256, post) of files not known live before
        for path in paths:
            self._look(path, known, out, new)
        self._stop_shared(out, new)
        # a file moved away: the same post is somewhere else now (by id, else by content hash)
        live_ids: set[str | None] = {f.post.id for f in out.changed}
        vanished = {g.path for g in gone}
        live_ids |= {r.post_id for p, r in known.items() if r.size >= 0 and r.post_id and p not in vanished}
        by_hash = {digest: (rel, post) for rel, digest, post in new if post is not None}
        if only is not None:  # events: the old name of a new file may not have been reported yet
            gone_paths = {g.path for g in gone}
            for rel, digest, post in new:
                for row in known.values():
                    if (row.size >= 0 and row.path != rel and row.path not in gone_paths
                            and (row.sha256 == digest or (post is not None and row.post_id == post.id))
                            and not (self.root / row.path).is_file()):
                        gone.append(row)
                        gone_paths.add(row.path)
                        live_ids.discard(row.post_id)
                        if post is not None and row.post_id == post.id:
                            live_ids.add(post.id)
        back = {f.path for f in out.changed} | set(out.cancelled)
        pending = [r for r in known.values() if r.size == GONE and r.path not in back]
        for row in gone + pending:
            self._pair(row, live_ids, by_hash, out)
        fresh = [r for r in gone if r.path not in out.drop]
        waiting = [r for r in pending if r.path not in out.drop]
        if lost_folder or len({r.post_id for r in fresh + waiting}) > self.config.watch.max_deletes:
            out.held = [replace(r, size=HELD, mtime_ns=0, inode=0, seen_at=r.seen_at if r.size < 0 else now)
                        for r in fresh + waiting]
            out.put.extend(out.held)
            out.held += [r for r in known.values() if r.size == HELD and r.path not in back]
            return out
        out.held = [r for r in known.values() if r.size == HELD and r.path not in back]
        grace = timedelta(seconds=float(self.config.watch.delete_grace))
        for row in fresh:
            marker = replace(row, size=GONE, mtime_ns=0, inode=0, seen_at=now)
            (out.due if grace.total_seconds() <= 0 else out.vanished).append(marker)
            out.put.append(marker)
        for row in waiting:
            if row.seen_at is None or row.seen_at + grace <= now:
                out.due.append(row)
        return out

    def _untracked(self, listed: set[str]) -> list[FileRow]:
        """Posts in the ledger that no scan has seen (sent by `push` or a webhook) whose file is gone:
        deletion covers every row, whoever wrote it. A path outside the site is never taken for gone."""
        out = []
        for path, ids in sorted(self.ledger.untracked_paths().items()):
            if path not in listed and not Path(path).is_absolute() and not (self.root / path).exists():
                out.append(_untracked_row(path, ids))
        return out

    def _look(self, path: Path, known: dict[str, FileRow], out: Scan,
              new: list[tuple[str, str, Post | None]]) -> None:
        rel = self.rel(path)
        row = known.get(rel)
        try:
            st = path.stat()
            if row is not None and row.size >= 0 and (row.size, row.mtime_ns, row.inode) == (
                    st.st_size, st.st_mtime_ns, st.st_ino):
                return
            digest = sha256_file(path)
        except FileNotFoundError:
            return  # gone between the listing and the read: the next event or scan sees it
        except OSError as exc:
            if (rel, getattr(exc, "errno", 0) or 0) not in self._unreadable:
                self._unreadable.add((rel, getattr(exc, "errno", 0) or 0))
                out.warnings.append(f"{rel}: cannot read ({exc.strerror or exc}); skipped")
            return
        out.stats["hashed"] += 1
        stat_row = FileRow(rel, st.st_size, st.st_mtime_ns, st.st_ino, digest, row.post_id if row else None)
        if row is not None and row.size >= 0 and row.sha256 == digest:
            out.put.append(stat_row)  # touched, not changed
            return
        if row is not None and row.size < 0 and row.sha256 == digest:
            out.put.append(stat_row)  # came back as it was: the pending deletion is cancelled
            if row.size != KEPT:
                out.cancelled.append(rel)
            return
        out.stats["parsed"] += 1
        try:
            post = load_post(path, self.config.site)
        except (SyndicateError, UnicodeDecodeError, OSError) as exc:
            out.errors.append((rel, str(exc)))  # reported once: the hash is recorded below
            out.put.append(stat_row)
            if row is None or row.size < 0:
                new.append((rel, digest, None))
            return
        out.put.append(replace(stat_row, post_id=post.id))
        if row is None:
            kind = "new"
            new.append((rel, digest, post))
        elif row.size < 0:
            kind = "restored"
            if row.size != KEPT:
                out.cancelled.append(rel)
        else:
            kind = "saved"
        out.changed.append(Found(rel, post, kind))

    def _stop_shared(self, out: Scan, new: list[tuple[str, str, Post | None]]) -> None:
        """Posts sharing a URL or id with another post of the site are never sent: reported, and left
        unrecorded so that every full scan looks at them again until one of the two changes."""
        if not out.changed:
            return
        _kept, clashes = unique([f.post for f in out.changed], self.config.site)
        stopped = {path: str(exc) for path, exc in clashes}
        if not stopped:
            return
        gone = {f.path for f in out.changed if f.post.path in stopped}
        out.errors.extend((f.path, stopped[f.post.path]) for f in out.changed if f.path in gone)
        out.changed = [f for f in out.changed if f.path not in gone]
        out.put = [r for r in out.put if r.path not in gone]
        new[:] = [n for n in new if n[0] not in gone]

    def _pair(self, row: FileRow, live_ids: set[str | None], by_hash: dict[str, tuple[str, Post]],
              out: Scan) -> None:
        """Drop `row` from the gone ones when its post lives on under another name."""
        if row.post_id is not None and row.post_id in live_ids:
            out.drop.append(row.path)
            for f in out.changed:
                if f.post.id == row.post_id and f.kind == "new":
                    f.kind, f.old_path = "moved", row.path
            return
        hit = by_hash.get(row.sha256)
        if hit is not None:
            out.drop.append(row.path)
            for f in out.changed:
                if f.path == hit[0]:
                    f.kind, f.old_path = "moved", row.path
                    f.old_id = row.post_id if row.post_id != f.post.id else None


def _untracked_row(path: str, ids: set[str]) -> FileRow:
    """A stand-in `files` row for a post only the ledger knows (no hash: it pairs by id alone)."""
    return FileRow(path, 0, 0, 0, "", sorted(ids)[0])


def _glob_match(rel: str, pattern: str) -> bool:
    """`**` patterns as `Path.glob` reads them (PurePath.match has no `**` before Python 3.13)."""
    from fnmatch import fnmatchcase

    if fnmatchcase(rel, pattern):
        return True
    if "**/" in pattern:
        return fnmatchcase(rel, pattern.replace("**/", "", 1)) or fnmatchcase(rel, pattern.replace("**/", "*/"))
    return False


def _prefix(pattern: str) -> str | None:
    """The literal folder a glob starts from; None for patterns this walk does not read alike."""
    parts = pattern.split("/")
    if pattern.startswith("/") or ".." in parts or any(c in pattern for c in "[]{}"):
        return None
    head = []
    for part in parts[:-1]:
        if any(c in part for c in "*?"):
            break
        head.append(part)
    if head and head[0] in ("_site", "public", "dist"):
        return None
    return "/".join(head)
