"""The two trees of a range, read from git without a checkout."""
from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate.triggers.diffplan.model import GIT_TIMEOUT, MEDIA, PlanError

if TYPE_CHECKING:
    pass



# --- git -------------------------------------------------------------------------------------


class Repo:
    """Read-only git on the repository that holds the site: rev-parse, diff, archive."""

    def __init__(self, where: Path) -> None:
        from syndicate.triggers.gitsync import git_binary

        self.binary = git_binary()
        self.where = where
        if not where.is_dir():
            raise PlanError(f"{where}: the site folder does not exist")
        try:
            top = self._run("rev-parse", "--show-toplevel", cwd=where).decode().strip()
        except PlanError as exc:
            said = str(exc)
            if "not a git repository" in said:
                raise PlanError(f"{where}: not inside a git repository (plan reads the range from git)") from None
            raise PlanError(f"{where}: git cannot read this repository: {said}") from None
        self.top = Path(top)
        try:
            self.prefix = where.resolve().relative_to(self.top.resolve()).as_posix()
        except ValueError:
            self.prefix = "."
        if self.prefix == ".":
            self.prefix = ""

    def _run(self, *args: str, cwd: Path | None = None) -> bytes:
        env = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
        import os

        try:
            done = subprocess.run([self.binary, "-c", "core.quotePath=false", *args], cwd=cwd or self.top,
                                  env={**os.environ, **env}, capture_output=True, timeout=GIT_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise PlanError(f"git {args[0]}: no answer in {GIT_TIMEOUT:g}s") from None
        if done.returncode != 0:
            raise PlanError(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()[-400:]}")
        return done.stdout

    def commit(self, ref: str) -> str:
        if not ref or ref.startswith("-"):
            raise PlanError(f"{ref!r}: not a git ref")
        try:
            return self._run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").decode().strip()
        except PlanError:
            raise PlanError(f"unknown ref {ref!r}: no such commit, branch or tag in {self.top} "
                            "(in CI, check out with fetch-depth: 0 so that the base is there)") from None

    def range(self, spec: str) -> tuple[str, str, str, str]:
        """BASE..HEAD (or BASE...HEAD: from their merge base) -> (base ref, head ref, base commit, head commit)."""
        three = "..." in spec
        sep = "..." if three else ".."
        if sep not in spec:
            raise PlanError(f"--diff {spec!r}: give a range, BASE..HEAD (e.g. origin/main..HEAD)")
        base, head = spec.split(sep, 1)
        base, head = base or "HEAD", head or "HEAD"
        if ".." in head:
            raise PlanError(f"--diff {spec!r}: one range only, BASE..HEAD")
        b, h = self.commit(base), self.commit(head)
        if three:
            try:
                b = self._run("merge-base", b, h).decode().strip()
            except PlanError:
                raise PlanError(f"--diff {spec!r}: {base} and {head} have no common ancestor") from None
        return base, head, b, h

    def changes(self, base: str, head: str) -> list[tuple[str, str, str | None]]:
        """(status letter, path, old path) under the site folder, paths relative to the site root."""
        out = self._run("diff", "--name-status", "-M", "-z", "--no-ext-diff", base, head, "--",
                        self.prefix or ".").decode("utf-8", errors="surrogateescape")
        fields = out.split("\0")
        found: list[tuple[str, str, str | None]] = []
        i = 0
        while i < len(fields) and fields[i]:
            status = fields[i][0]
            if status in "RC":
                found.append((status, self._rel(fields[i + 2]), self._rel(fields[i + 1])))
                i += 3
            else:
                found.append((status, self._rel(fields[i + 1]), None))
                i += 2
        return found

    def _rel(self, path: str) -> str:
        return path[len(self.prefix) + 1:] if self.prefix and path.startswith(self.prefix + "/") else path

    def extract(self, commit: str, into: Path) -> Path:
        """The site folder at `commit`, written under `into` (git archive: the repository is only read).

        Media files (images, video, fonts, archives: `MEDIA`) are written empty: planning needs to know
        that an image is there (its URL, whether it is the site's), never its bytes, and a site's images
        are most of its size.
        """
        into.mkdir(parents=True, exist_ok=True)
        root = into / self.prefix if self.prefix else into
        where = self.prefix or "."
        listed = self._run("ls-tree", "-r", "-z", "--full-tree", commit, "--", where).decode(
            "utf-8", errors="surrogateescape")
        if listed.strip("\0"):
            skip = [f":(exclude,glob,icase)**/*{ext}" for ext in sorted(MEDIA)]
            data = self._run("archive", "--format=tar", commit, "--", where, *skip)
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
                tar.extractall(into, filter="data")
            for line in listed.split("\0"):
                meta, _, path = line.partition("\t")
                if not path or not meta.startswith("100") or Path(path).suffix.lower() not in MEDIA:
                    continue
                target = into / path
                if target.resolve().is_relative_to(into.resolve()):
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.touch()
        root.mkdir(parents=True, exist_ok=True)
        return root
