"""`syndicate serve` as a real subprocess, a real bare git repository as the remote, the host's own payloads.

Deliveries are built from the payload examples in ../shared/specs (GitHub,
GitLab, Gitea), pointed at the test repository and signed here. Every wait is
on a condition (`/healthz` naming the synced commit, what a fake received).
"""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REDIS_URL, SHARED
from tests.harness import free_port

ROOT = Path(__file__).resolve().parents[1]
SPECS = SHARED / "specs"
SECRET = "it's a secret to everybody"
NAME = "me/blog"
ENV = {"DEVTO_API_KEY": "devto-test-key", "MASTODON_ACCESS_TOKEN": "mastodon-test-token", "WEBHOOK_SECRET": SECRET}
DEADLINE = 60.0
ZERO = "0" * 40
GIT_ENV = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}

pytestmark = pytest.mark.skipif(not SPECS.exists(), reason="../shared/specs not beside the repo")


def wait_for(what: str, cond: Callable[[], object], deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=cwd, env={**os.environ, **GIT_ENV},
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class Repo:
    """A bare repository (the remote) and a working clone where commits are made and pushed."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "remote.git"
        self.work = root / "work"
        root.mkdir(parents=True, exist_ok=True)
        git(root, "init", "-q", "--bare", str(self.bare))
        git(root, "init", "-q", str(self.work))

    def write(self, rel: str, text: str) -> None:
        path = self.work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        git(self.work, "add", rel)

    def commit(self, message: str) -> str:
        git(self.work, "commit", "-q", "-m", message)
        return git(self.work, "rev-parse", "HEAD")

    def head(self) -> str:
        try:
            return git(self.bare, "rev-parse", "refs/heads/main")
        except AssertionError:
            return ZERO

    def push(self, *, force: bool = False) -> tuple[str, str]:
        """Push main; returns (before, after) as the host would send them."""
        before = self.head()
        git(self.work, "push", "-q", *(["--force"] if force else []), str(self.bare), "HEAD:refs/heads/main")
        return before, self.head()


def post_text(title: str, body: str = "A first paragraph.", extra: str = "") -> str:
    return f"---\ntitle: {title}\ndate: 2024-03-01\n{extra}---\n\n{body}\n"


def write_config(folder: Path, repo: Path, *, devto: str = "http://127.0.0.1:9", masto: str = "http://127.0.0.1:9",
                 ledger: str | None = None, broker: str | None = None, queue: str = "syndicate",
                 extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    queue_section = f'[queue]\nbroker = "{broker}"\nname = "{queue}"\n' if broker else ""
    (folder / "syndicate.toml").write_text(f"""
[site]
url = "https://blog.example"
content = ["content/posts/**/*.md"]
permalink = "/posts/:slug/"

[state]
url = "{ledger or f'sqlite:///{folder / "state.db"}'}"

{queue_section}
[webhook]
secret = "${{WEBHOOK_SECRET}}"
repo = "{repo}"
name = "{NAME}"
branch = "main"
checkout = "checkout"
{extra}

[targets.devto]
api_key = "${{DEVTO_API_KEY}}"
base_url = "{devto}"

[targets.mastodon]
base_url = "{masto}"
access_token = "${{MASTODON_ACCESS_TOKEN}}"
""", encoding="utf-8")
    return folder / "syndicate.toml"


class Server:
    """`syndicate serve` as a subprocess, its output gathered in a file."""

    def __init__(self, config: Path, *, nofile: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = config.parent / "serve.log"
        env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT), "SYNDICATE_CONFIG": str(config), "COLUMNS": "400"}
        for name in ("SYNDICATE_BROKER_URL", "SYNDICATE_REDIS_URL", "SYNDICATE_STATE_URL"):
            env.pop(name, None)

        def limit() -> None:  # in the server's process, before it starts: a small open-file limit
            if nofile is not None:
                import resource

                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

        self.proc = subprocess.Popen([sys.executable, "-m", "syndicate.cli", "serve", "--port", str(self.port)],
                                     cwd=config.parent, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
                                     preexec_fn=limit if nofile is not None else None)
        self.http = httpx.Client(base_url=self.url, timeout=30)
        wait_for(f"the server to answer:\n{self.text()}", self._up)

    def _up(self) -> bool:
        assert self.proc.poll() is None, self.text()
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def health(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.get("/healthz").json()
        return data

    def synced(self, commit: str) -> bool:
        h = self.health()
        return h.get("last_sync", {}).get("commit") == commit and h.get("pending") == 0

    def wait_synced(self, commit: str) -> None:
        wait_for(f"the sync of {commit[:12]}:\n{self.text()}\n{self.health()}", lambda: self.synced(commit))

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


# --- deliveries from the hosts' own examples -----------------------------------------------


def _example(host: str) -> dict[str, Any]:
    path = {"github": SPECS / "github" / "payload-examples" / "api.github.com" / "push" / "payload.json",
            "gitlab": SPECS / "gitlab" / "push_hook.example.json",
            "gitea": SPECS / "gitea" / "push.payload.example.json"}[host]
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def payload(host: str, before: str, after: str, *, ref: str = "refs/heads/main", name: str = NAME,
            clone_url: str | None = None, forced: bool = False) -> dict[str, Any]:
    """The host's example push, pointed at the test repository (or `clone_url`)."""
    kind = "gitea" if host == "forgejo" else host
    data = copy.deepcopy(_example(kind))
    data.update(ref=ref, before=before, after=after)
    url = clone_url or "https://git.example/me/blog.git"
    if kind == "gitlab":
        data["project"].update(path_with_namespace=name, git_http_url=url, git_ssh_url=url, url=url)
        data["repository"].update(git_http_url=url, git_ssh_url=url, url=url)
        data["checkout_sha"] = after
    else:
        data["repository"].update(full_name=name, clone_url=url, ssh_url=url, html_url=url)
        if kind == "github":
            data["repository"].update(git_url=url, url=url, svn_url=url)
            data.update(forced=forced, created=before == ZERO, deleted=after == ZERO)
        else:
            data.pop("secret", None)  # the old Gitea payload carried it; current ones do not
    return data


def headers(host: str, body: bytes, *, event: str = "push", delivery: str | None = None,
            secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    delivery = delivery or str(uuid.uuid4())
    h = {"content-type": "application/json"}
    if host == "github":
        h.update({"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": f"sha256={digest}"})
    elif host in ("gitea", "forgejo"):
        cap = host.capitalize()
        h.update({f"X-{cap}-Event": event, f"X-{cap}-Delivery": delivery, f"X-{cap}-Signature": digest})
    elif host == "gitlab":
        h.update({"X-Gitlab-Event": "Push Hook" if event == "push" else event, "X-Gitlab-Event-UUID": delivery,
                  "X-Gitlab-Token": secret})
    elif host == "bitbucket":
        h.update({"X-Event-Key": "repo:push" if event == "push" else event, "X-Request-UUID": delivery,
                  "X-Hub-Signature": f"sha256={digest}"})
    return h


def deliver(server: Server, host: str, data: dict[str, Any] | bytes, **kw: Any) -> httpx.Response:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return server.http.post(f"/hooks/{host}", content=body, headers=headers(host, body, **kw))


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for s in started:
        s.stop()


def queue_length(name: str) -> int:
    import redis

    length: Any = redis.Redis.from_url(REDIS_URL).llen(name)
    return int(length)


# --- what is refused, and that nothing is queued for it -------------------------------------


def test_forged_unsigned_replayed_oversized_and_foreign_deliveries_queue_nothing(
        tmp_path: Path, servers: list[Server]) -> None:
    import redis

    repo = Repo(tmp_path / "git")
    repo.write("content/posts/alpha.md", post_text("Alpha"))
    repo.commit("alpha")
    before, after = repo.push()
    queue = f"webhook-test-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"syndicate:hook:{NAME}:*"):
        client.delete(key)
    config = write_config(tmp_path / "site", repo.bare, broker=REDIS_URL, queue=queue,
                          extra="max_body = 65536")
    server = Server(config)
    servers.append(server)
    good = payload("github", before, after)
    body = json.dumps(good).encode()

    # unsigned and forged: 401, whatever the body
    assert server.http.post("/hooks/github", content=body, headers={"X-GitHub-Event": "push"}).status_code == 401
    assert deliver(server, "github", good, secret="wrong").status_code == 401
    forged = headers("github", body)
    assert server.http.post("/hooks/github", content=body.replace(b"main", b"mainx"), headers=forged).status_code == 401
    assert deliver(server, "gitlab", payload("gitlab", before, after), secret="wrong").status_code == 401
    assert deliver(server, "gitea", payload("gitea", before, after), secret="wrong").status_code == 401
    # oversized: 413 before the signature is even computed (declared, and streamed without a length)
    big = json.dumps({**good, "padding": "x" * 70000}).encode()
    assert server.http.post("/hooks/github", content=big, headers=headers("github", big)).status_code == 413
    chunks = iter([big[:40000], big[40000:]])
    assert server.http.post("/hooks/github", content=chunks, headers=headers("github", big)).status_code == 413
    # malformed JSON, and a push without commit ids: 400
    assert deliver(server, "github", b"{not json").status_code == 400
    assert deliver(server, "github", {**good, "after": "not-a-commit"}).status_code == 400
    # not a push: 204 (GitHub's ping is answered)
    ping = json.loads((SPECS / "github" / "payload-examples" / "api.github.com" / "ping" / "payload.json").read_text())
    assert deliver(server, "github", ping, event="ping").status_code == 204
    assert deliver(server, "gitea", payload("gitea", before, after), event="issues").status_code == 204
    # another branch, another repository: 202, ignored
    r = deliver(server, "github", payload("github", before, after, ref="refs/heads/develop"))
    assert (r.status_code, r.text) == (202, "ignored: branch develop")
    r = deliver(server, "gitlab", payload("gitlab", before, after, name="someone/else"))
    assert (r.status_code, r.text) == (202, "ignored: repository someone/else")
    assert deliver(server, "github", payload("github", before, after, ref="refs/tags/v1")).status_code == 202
    assert queue_length(queue) == 0

    # the one good delivery: one task; its redelivery and the same commit under another id: none
    delivery = str(uuid.uuid4())
    r = deliver(server, "github", good, delivery=delivery)
    assert (r.status_code, r.text) == (202, "queued")
    assert queue_length(queue) == 1
    r = deliver(server, "github", good, delivery=delivery)
    assert (r.status_code, r.text) == (202, "duplicate")
    r = deliver(server, "gitea", payload("gitea", before, after))
    assert r.status_code == 202 and r.text.startswith("duplicate")
    assert queue_length(queue) == 1
    # a new push while that sync still waits in the queue: recorded, and folded into it (no second task)
    repo.write("content/posts/beta.md", post_text("Beta"))
    repo.commit("beta")
    before2, after2 = repo.push()
    r = deliver(server, "gitlab", payload("gitlab", before2, after2))
    assert (r.status_code, r.text) == (202, "queued")
    assert queue_length(queue) == 1
    assert server.health()["pending"] == 2
    raw: Any = client.lpop(queue)
    task = json.loads(raw or b"{}")
    assert task["headers"]["task"] == "syndicate.sync"
    assert SECRET not in server.text()

    metrics = server.http.get("/metrics").text
    assert 'syndicate_webhook_deliveries_total{host="github",result="forged"} 2.0' in metrics
    assert 'syndicate_webhook_deliveries_total{host="github",result="accepted"} 1.0' in metrics
    assert "syndicate_queue_depth 0.0" in metrics
    client.delete(queue)


def test_serve_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "git")
    config = write_config(tmp_path / "site", repo.bare)
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT), "SYNDICATE_CONFIG": str(config), "WEBHOOK_SECRET": ""}
    done = subprocess.run([sys.executable, "-m", "syndicate.cli", "serve", "--port", str(free_port())],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "webhook.secret is empty" in done.stdout + done.stderr


def test_uvicorn_serves_the_module_app_with_the_config_it_finds(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "git")
    config = write_config(tmp_path / "site", repo.bare)
    port = free_port()
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT), "SYNDICATE_CONFIG": str(config)}
    for name in ("SYNDICATE_BROKER_URL", "SYNDICATE_REDIS_URL", "SYNDICATE_STATE_URL"):
        env.pop(name, None)
    log = tmp_path / "uvicorn.log"
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "syndicate.triggers.webhook.app:app", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            def up() -> bool:
                assert proc.poll() is None, log.read_text()
                try:
                    return http.get("/healthz").status_code == 200
                except httpx.TransportError:
                    return False

            wait_for("uvicorn to answer", up)
            assert http.get("/healthz").json()["branch"] == "main"
            body = b'{"zen": "Keep it logically awesome."}'
            assert http.post("/hooks/github", content=body, headers=headers("github", body, event="ping")).status_code == 204
            assert http.post("/hooks/nowhere", content=body).status_code == 404
    finally:
        proc.terminate()
        proc.wait(20)
