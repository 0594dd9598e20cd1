"""The git CLI for the webhook's sync (`syndicate.triggers.gitsync`): a shallow checkout of one branch.

Every command is a subprocess with an argument list (never a shell), a deadline and
git's own words in its errors, credentials removed. A token reaches git through a
credential helper reading an environment variable of the git process only: never in
a URL, an argument or a log.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from syndicate.errors import ConfigError, SyndicateError

if TYPE_CHECKING:
    from syndicate.config.schema import Secret

SYNCED_REF = "refs/syndicate/synced"
GIT_TIMEOUT = 600.0
SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
TOKEN_ENV = "SYNDICATE_GIT_TOKEN"
WRITE_BACK_TRAILER = "Syndicate-Write-Back"  # marks the commits `[site] write_back` makes
# git runs the helper through the shell itself; the token stays in the git process's environment
HELPER = '!f() { test "$1" = get || exit 0; echo "username=%s"; echo "password=${%s}"; }; f'


class GitError(SyndicateError):
    """A git command failed: the message has git's own words, without credentials."""


def git_binary() -> str:
    """The git executable, or a clear start-up error."""
    found = shutil.which("git")
    if found is None:
        raise ConfigError("`git` is not installed or not on PATH: the webhook's sync runs the git CLI "
                          "(install git, e.g. `apt-get install git`)")
    return found


def _user_for(repo: str) -> str:
    host = (urlsplit(repo).hostname or "") if "://" in repo else ""
    # https://docs.gitlab.com/user/profile/personal_access_tokens/ (any non-blank user; oauth2 is customary),
    # https://support.atlassian.com/bitbucket-cloud/docs/using-access-tokens/ (x-token-auth)
    if "gitlab" in host:
        return "oauth2"
    if "bitbucket" in host:
        return "x-token-auth"
    return "x-access-token"


@dataclass
class Change:
    """One line of `git diff --name-status -M`: status A/M/D/R/C/T and the path (and the old one)."""

    status: str
    path: str
    old_path: str | None = None


class Git:
    """The git CLI on one checkout, fetching one configured repository."""

    def __init__(self, repo: str, checkout: Path, token: Secret | None = None, timeout: float = GIT_TIMEOUT) -> None:
        self.binary = git_binary()
        self.repo = repo
        self.checkout = checkout
        self.timeout = timeout
        self.env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "",
                    "LC_ALL": "C"}
        self.env.pop(TOKEN_ENV, None)
        self.config: list[str] = ["-c", "advice.detachedHead=false", "-c", "core.quotePath=false"]
        if token:
            self.env[TOKEN_ENV] = token.reveal()
            self.config += ["-c", "credential.helper=", "-c",
                            "credential.helper=" + HELPER % (_user_for(repo), TOKEN_ENV)]

    def run(self, *args: str, cwd: Path | None = None) -> str:
        argv = [self.binary, *self.config, *args]
        try:
            done = subprocess.run(argv, cwd=cwd or self.checkout, env=self.env, capture_output=True,
                                  text=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]}: no answer in {self.timeout:g}s") from None
        if done.returncode != 0:
            raise GitError(f"git {args[0]} failed: {self._clean(done.stderr)}")
        return done.stdout

    def _clean(self, text: str) -> str:
        token = self.env.get(TOKEN_ENV)
        if token:
            text = text.replace(token, "**********")
        return re.sub(r"://[^/@\s]+@", "://***@", text).strip()[-500:]

    def default_branch(self) -> str:
        """The repository's default branch, from its HEAD."""
        out = self.run("ls-remote", "--symref", "--", self.repo, "HEAD", cwd=Path.cwd())
        for line in out.splitlines():
            if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
                return line[len("ref: refs/heads/"):-len("\tHEAD")]
        raise GitError(f"cannot tell the default branch of {self._clean(self.repo)}: set [webhook] branch")

    def fetch(self, branch: str) -> str:
        """Fetch the branch's tip (shallow) into the checkout; returns its commit."""
        if not (self.checkout / ".git").is_dir():
            self.checkout.mkdir(parents=True, exist_ok=True)
            self.run("init", "-q", str(self.checkout), cwd=self.checkout)
        local = f"refs/remotes/origin/{branch}"
        self.run("fetch", "-q", "--depth=1", "--no-tags", "--no-write-fetch-head", "--", self.repo,
                 f"+refs/heads/{branch}:{local}")
        return self.run("rev-parse", "--verify", f"{local}^{{commit}}").strip()

    def fetch_commit(self, commit: str) -> bool:
        """Fetch one commit by its id (shallow); False when the repository will not give it (force-pushed away)."""
        if self.has(commit):
            return True
        try:
            self.run("fetch", "-q", "--depth=1", "--no-tags", "--no-write-fetch-head", "--", self.repo, commit)
        except GitError:
            return False
        return self.has(commit)

    def has(self, commit: str) -> bool:
        try:
            self.run("cat-file", "-e", f"{commit}^{{commit}}")
        except GitError:
            return False
        return True

    def diff(self, base: str, tip: str) -> list[Change]:
        out = self.run("diff", "--name-status", "-M", "-z", base, tip, "--")
        fields = out.split("\0")
        changes: list[Change] = []
        i = 0
        while i < len(fields) and fields[i]:
            status = fields[i][0]
            if status in "RC":
                changes.append(Change(status, fields[i + 2], fields[i + 1]))
                i += 3
            else:
                changes.append(Change(status, fields[i + 1]))
                i += 2
        return changes

    def commit_and_push(self, paths: list[str], message: str, author: str, branch: str) -> str:
        """Commit `paths` (relative to the checkout) on the checked-out tip as `author` ("Name <email>"),
        with the write-back trailer, and push it to `branch`; returns the new commit."""
        name, email = author[:author.rindex("<")].strip(), author[author.rindex("<") + 1:].rstrip(">").strip()
        self.run("add", "--", *paths)
        who = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
        saved = dict(self.env)
        self.env.update({"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
                         "GIT_COMMITTER_EMAIL": email})
        try:
            self.run(*who, "commit", "-q", "--no-verify", "-m", message, "-m", f"{WRITE_BACK_TRAILER}: yes",
                     "--", *paths)
        finally:
            self.env = saved
        commit = self.run("rev-parse", "--verify", "HEAD^{commit}").strip()
        self.run("push", "-q", "--no-verify", "--", self.repo, f"{commit}:refs/heads/{branch}")
        self.run("update-ref", f"refs/remotes/origin/{branch}", commit)
        self.run("update-ref", SYNCED_REF, commit)
        return commit

    def switch(self, tip: str, *, synced: bool = True) -> None:
        """The working tree at `tip` (files outside git's index, like a build's output, are left alone)."""
        self.run("checkout", "-q", "-f", "--detach", tip)
        if synced:
            self.run("update-ref", SYNCED_REF, tip)
