"""A first backfill to every target at once, against the fakes' documented limits (issues 15 and 13.4).

    .venv/bin/python bench/bench_backfill.py [--posts 200] [--scale 0.5] [--workers 2] [--peers]
    .venv/bin/python bench/bench_backfill.py --inline [--ledger sqlite|postgresql] [--posts 200] [--scale 0.5] [--peers]

Everything is real: each connector's contract fake (tests/*: the same server its
contract suite runs against) with its documented rate limits switched on and
every window scaled by --scale (the limiter is scaled the same way); --peers adds
Ghost and WordPress, which have no fake: their real servers from ../shared/peers
(installed by tests/peers.py). Two ways to send:

- by default, a private redis-server (broker + shared limits), the ledger on the
  local PostgreSQL (or --ledger sqlite), Celery workers started as
  `celery -A syndicate.engine.tasks worker`, fed by one `syndicate push`;
- --inline: no Redis, no Celery: one `syndicate push` with no broker configured,
  as a user without one runs it (every target on its own thread, the embedded
  limiter in the ledger's database), the ledger on SQLite in a temporary data
  folder (or --ledger postgresql). A push waits at most 2 minutes for a window and
  defers a row that would wait longer (LinkedIn's 151st post of a day): the next
  push starts when it is due, as a user's or a cron job's would.

Reports the time from the first request to the last copy, against the minimum
the slowest declared limit allows (each target's create limits: ceil(n / amount)
- 1 full windows, as the limiter rounds them), the 429s the fakes answered, and
duplicates (copies the fakes hold beyond one per post).
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from syndicate import registry  # noqa: E402
from syndicate.state.ledger import Ledger  # noqa: E402
from syndicate.state.ledger.rows import utcnow  # noqa: E402
from syndicate.testing import ConnectorContract  # noqa: E402
from tests.harness import RedisServer, Workers, pg_schema, write_config, write_site  # noqa: E402

PG = os.environ.get("SYNDICATE_TEST_PG", "postgresql://postgres:postgres@127.0.0.1:5432/syndicate_test")
# module:class of each connector's contract suite on its fake; a module not there yet is left out (said so)
SUITES = [
    "tests.test_connector_contract:TestDevToContract",
    "tests.test_connector_contract:TestMastodonContract",
    "tests.test_hashnode:TestHashnodeContract",
    "tests.test_medium:TestMediumContract",
    "tests.test_bluesky:TestBlueskyContract",
    "tests.test_threads:TestThreadsContract",
    "tests.test_discord:TestDiscordContract",
    "tests.test_x:TestXContract",
    "tests.test_linkedin:TestLinkedInContract",
    "tests.test_slack:TestSlackContract",
    "tests.test_telegram:TestTelegramContract",
    "tests.test_micropub:TestMicropubContract",
    "tests.test_standard_site:TestStandardSiteContract",
]
PEER_GHOST_VERSION: list[str] = []
CREATE_KINDS = ("create", "request", "publish", "post", "message")


def suites() -> tuple[list[ConnectorContract], list[str]]:
    found, missing = [], []
    for spec in SUITES:
        module, _, name = spec.partition(":")
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            missing.append(spec)
            continue
        found.append(cls())
    return found, missing


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def minimum(kind: str, posts: int, scale: float) -> float:
    """Seconds the declared create limits of one target need for `posts` creates: ceil(n / amount) - 1
    full (scaled) windows. The platform's own rule, so the limiter's safety margin counts against us."""
    worst = 0.0
    for rate in registry.get(kind).limits.rates:
        if not any(rate.kind == k or rate.kind.endswith(":" + k) for k in CREATE_KINDS):
            continue
        worst = max(worst, (math.ceil(posts * rate.cost / rate.amount) - 1) * rate.seconds * scale)
    return worst


def counting(fake: Any) -> list[int]:
    """Count the 429s a fake answers (wraps its dispatch)."""
    seen = [0]
    dispatch = fake.dispatch

    def counted(request: Any) -> Any:
        reply, lose = dispatch(request)
        if reply is not None and getattr(reply, "status", None) == 429:
            seen[0] += 1
        return reply, lose

    fake.dispatch = counted
    return seen


def peer_targets(stack: ExitStack, env: dict[str, str], fakes: dict[str, Any]) -> list[str]:
    """Ghost and WordPress from ../shared/peers (installed by tests/peers.py), each behind its test proxy."""
    from contextlib import contextmanager

    from tests import peers
    from tests.fakes.ghost_proxy import GhostProxy
    from tests.fakes.wordpress_proxy import WordPressProxy

    os.environ.setdefault("SYNDICATE_TEST_RUN_DIR", stack.enter_context(tempfile.TemporaryDirectory()))
    peers.ensure([peers.PEERS["ghost"], peers.PEERS["wordpress"]], print)
    ghost = stack.enter_context(contextmanager(peers.running)("ghost"))
    wordpress = stack.enter_context(contextmanager(peers.running)("wordpress"))
    fakes["ghost"] = stack.enter_context(GhostProxy(ghost["url"]))
    fakes["wordpress"] = stack.enter_context(
        WordPressProxy(wordpress["url"], wordpress["user"], wordpress["app_password"]))
    env["GHOST_ADMIN_API_KEY"] = ghost["admin_api_key"]
    PEER_GHOST_VERSION[:] = [ghost["accept_version"]]
    env["WORDPRESS_APP_PASSWORD"] = wordpress["app_password"]
    return ["[targets.ghost]", 'type = "ghost"', f'base_url = "{fakes["ghost"].url}"',
            'admin_api_key = "${GHOST_ADMIN_API_KEY}"', f'accept_version = "{ghost["accept_version"]}"', "",
            "[targets.wordpress]", 'type = "wordpress"', f'base_url = "{fakes["wordpress"].url}"',
            f'username = "{wordpress["user"]}"', 'app_password = "${WORDPRESS_APP_PASSWORD}"', ""]


def peer_live(fakes: dict[str, Any], env: dict[str, str]) -> tuple[int, int]:
    from tests.fakes.ghost_proxy import GhostAdmin

    admin = GhostAdmin(fakes["ghost"].upstream, env["GHOST_ADMIN_API_KEY"], PEER_GHOST_VERSION[0])
    return admin.live(), int(fakes["wordpress"].live())


def pg_ledger(stack: ExitStack) -> str:
    """A schema of its own on the local PostgreSQL, dropped when the run ends (the stack's last step)."""
    url, drop = pg_schema(PG, "bench_")
    stack.callback(drop)
    return url


def start_fakes(stack: ExitStack, contracts: list[ConnectorContract], scale: float
                ) -> tuple[list[str], dict[str, str], dict[str, Any], dict[str, list[int]]]:
    """Each contract's fake with its documented limits on (windows × scale): the targets' TOML, their
    credentials, the fakes and each one's 429 count."""
    env: dict[str, str] = {}
    lines: list[str] = []
    fakes: dict[str, Any] = {}
    refused: dict[str, list[int]] = {}
    for contract in contracts:
        kind = contract.connector_type
        fake = stack.enter_context(contract.fake())
        fake.time_scale = scale
        fakes[kind] = fake
        refused[kind] = counting(fake)
        # each target's credentials under its own names: two suites may both say ${BLUESKY_APP_PASSWORD}
        env.update({f"{name}__{kind.upper()}": value for name, value in contract.env.items()})
        lines += [f"[targets.{kind}]", f'type = "{kind}"']
        for key, value in contract.options(fake).items():
            for name in contract.env:
                if isinstance(value, str):
                    value = value.replace("${" + name + "}", "${" + f"{name}__{kind.upper()}" + "}")
            lines.append(f"{key} = {toml_value(value)}")
        lines.append("")
    return lines, env, fakes, refused


def start_workers(stack: ExitStack, args: argparse.Namespace, tmp: Path, lines: list[str], url: str,
                  env: dict[str, str]) -> None:
    """A private redis-server, `syndicate push` queueing every (post, target), then the Celery workers."""
    broker = RedisServer(tmp / "redis")
    broker.start()
    stack.callback(broker.stop)
    config = write_config(tmp, lines, state_url=url, broker=broker.url,
                          queue={"visibility_timeout": 3600, "scan_interval": 1, "rate_time_scale": args.scale})
    push = subprocess.run([sys.executable, "-m", "syndicate.cli", "push", str(tmp / "content")],
                          env={**os.environ, **env, "SYNDICATE_CONFIG": str(config)}, cwd=ROOT,
                          capture_output=True, text=True)
    if push.returncode != 0:
        raise SystemExit(f"push failed ({push.returncode}):\n{push.stdout[-2000:]}\n{push.stderr[-2000:]}")
    w = Workers(config, pool="threads", concurrency=args.concurrency, log_dir=tmp, extra_env=env)
    stack.callback(w.stop)
    w.start(1, beat=True)
    if args.workers > 1:
        w.start(args.workers - 1)


class Pushes:
    """`syndicate push` with no broker: the in-process run, the embedded limiter in the ledger's database.
    One push waits at most the retry policy's `max_wait` (120 s, unscaled) for a window, then defers the
    row to the ledger (LinkedIn's 151st post of a day); as a user or a cron job would, the next push starts
    when the first deferred row is due, until none is left."""

    def __init__(self, stack: ExitStack, args: argparse.Namespace, tmp: Path, lines: list[str], url: str,
                 env: dict[str, str]) -> None:
        config = write_config(tmp, lines, state_url=url, extra=["[queue]", f"rate_time_scale = {args.scale}"])
        self.env = {k: v for k, v in os.environ.items() if k not in
                    ("SYNDICATE_BROKER_URL", "SYNDICATE_REDIS_URL", "SYNDICATE_STATE_URL")}
        self.env.update(env, SYNDICATE_CONFIG=str(config), SYNDICATE_DATA=str(tmp / "data"))
        self.content, self.log = tmp / "content", tmp / "push.log"
        self.ledger: Ledger | None = None  # set once the first push has made it
        self.runs = 0
        self.next_at: float | None = None
        self.proc = self._start()
        stack.callback(self._stop)

    def _start(self) -> subprocess.Popen[bytes]:
        self.runs += 1
        with open(self.log, "ab") as out:
            return subprocess.Popen([sys.executable, "-m", "syndicate.cli", "push", "--no-progress", str(self.content)],
                                    env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def _stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)

    def ended(self) -> int | None:
        """None while a push runs or another is due; else the last push's exit code."""
        code = self.proc.poll()
        if code is None:
            return None
        if self.next_at is None:
            waiting = [r.deferred_until for r in self.ledger.all(states=["deferred"])] if self.ledger else []
            if not waiting or self.runs >= 50 or not all(waiting):
                return code
            due = (min(w for w in waiting if w is not None) - utcnow()).total_seconds()
            self.next_at = time.monotonic() + max(1.0, due + 0.2)  # the push takes a row due by its start
        if time.monotonic() < self.next_at:
            return None
        self.next_at = None
        self.proc = self._start()
        return None

    def said(self) -> list[str]:
        """Each push's summary ("2950 created, 50 deferred"), else what the log ends with."""
        lines = self.log.read_text(errors="replace").strip().splitlines() or ["(nothing)"]
        return [line for line in lines if line[:1].isdigit()] or lines[-1:]


def wait_for(ledger: Ledger, posts: int, expected: int, args: argparse.Namespace,
             ended: Any = lambda: None) -> tuple[float, dict[str, float], str]:
    """From the first request to the last copy in the ledger: the time, each target's, and why it gave up
    (the limit passed, or `ended()` says the push is over with rows left: "" when all were published)."""
    started = time.monotonic()
    done_at: dict[str, float] = {}
    said = started
    while True:
        over = ended()
        rows = ledger.all()
        by: dict[str, int] = {}
        for r in rows:
            if r.state == "published":
                by[r.target] = by.get(r.target, 0) + 1
        for kind, n in by.items():
            if n >= posts and kind not in done_at:
                done_at[kind] = time.monotonic() - started
        if sum(by.values()) >= expected:
            return time.monotonic() - started, done_at, ""
        failed = [r for r in rows if r.state in ("failed", "check")]
        if failed:
            raise SystemExit(f"{len(failed)} rows failed, e.g. {failed[0].target}: {failed[0].last_error}")
        if over is not None or time.monotonic() - started > args.limit:
            states: dict[str, int] = {}
            for r in rows:
                if r.state != "published":
                    states[f"{r.target}:{r.state}"] = states.get(f"{r.target}:{r.state}", 0) + 1
            why = {r.target: r.defer_reason or r.last_error for r in rows if r.state != "published"}
            end = f"the push ended ({over})" if over is not None else f"timed out after {args.limit:.0f} s"
            gave_up = f"{end}: published {by}; the rest {states}; why: {why}"
            print("  " + gave_up)
            return time.monotonic() - started, done_at, gave_up
        if time.monotonic() - said > args.every:
            said = time.monotonic()
            waiting: dict[str, int] = {}
            for r in rows:
                if r.state != "published":
                    waiting[r.state] = waiting.get(r.state, 0) + 1
            print(f"  {said - started:5.0f} s: {sum(by.values())}/{expected} published; {waiting}", file=sys.stderr)
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--inline", action="store_true",
                        help="no Redis, no Celery: one `syndicate push` in-process, the limiter in the ledger")
    parser.add_argument("--ledger", choices=("sqlite", "postgresql"),
                        help="the ledger's database (default: SQLite --inline, else PostgreSQL)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--peers", action="store_true")
    parser.add_argument("--every", type=float, default=15.0, help="progress every this many seconds")
    parser.add_argument("--limit", type=float, default=1800.0, help="give up after this many seconds")
    parser.add_argument("--skip", action="append", default=[], help="leave out a target type (repeatable)")
    args = parser.parse_args()
    database = args.ledger or ("sqlite" if args.inline else "postgresql")
    # a `timeout` or Ctrl-C still stops the workers or the push, and the broker (the ExitStack below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    contracts, missing = suites()
    contracts = [c for c in contracts if c.connector_type not in args.skip]
    with tempfile.TemporaryDirectory() as tmp_s, ExitStack() as stack:
        tmp = Path(tmp_s)
        (tmp / "data").mkdir()
        url = f"sqlite:///{tmp / 'data' / 'state.db'}" if database == "sqlite" else pg_ledger(stack)
        lines, env, fakes, refused = start_fakes(stack, contracts, args.scale)
        if args.peers:  # Ghost and WordPress have no fake: their real servers (no documented rate limits)
            lines += peer_targets(stack, env, fakes)
            for kind in ("ghost", "wordpress"):
                refused[kind] = counting(fakes[kind])
        before = dict(zip(("ghost", "wordpress"), peer_live(fakes, env), strict=True)) if args.peers else {}
        write_site(tmp, args.posts)
        floor = {kind: minimum(kind, args.posts, args.scale) for kind in fakes}
        slowest = max(floor, key=lambda k: floor[k])
        how = (f"in-process (`syndicate push`, no broker), ledger on {database}" if args.inline else
               f"{args.workers} worker process(es) threads×{args.concurrency}, ledger on {database}")
        print(f"backfill: {args.posts} posts × {len(fakes)} targets, windows ×{args.scale}, {how}")
        if missing:
            print("  not there yet: " + ", ".join(m.split(":")[1] for m in missing))
        ended: Any = lambda: None  # noqa: E731
        if args.inline:
            pushes = Pushes(stack, args, tmp, lines, url, env)
            ended = pushes.ended
        else:
            start_workers(stack, args, tmp, lines, url, env)
        while not any(f.requests for f in fakes.values()):
            if (code := ended()) is not None:
                raise SystemExit(f"push failed ({code}):\n{(tmp / 'push.log').read_text()[-3000:]}")
            time.sleep(0.01)
        ledger = Ledger(url, site="blog.example")  # after the first request: the push has made the ledger
        stack.callback(ledger.dispose)
        if args.inline:
            pushes.ledger = ledger
        elapsed, done_at, gave_up = wait_for(ledger, args.posts, args.posts * len(fakes), args, ended)
        low = floor[slowest]
        if not gave_up:
            print(f"  total {elapsed:.1f} s; the slowest limit ({slowest}) allows {low:.1f} s at best: "
                  f"{elapsed / low:.2f}× the minimum" if low else f"  total {elapsed:.1f} s")
        if args.inline:
            print(f"  {pushes.runs} push(es), the last exit {pushes.proc.wait()}: " + "; ".join(pushes.said()))
        live = {c.connector_type: c.live(fakes[c.connector_type]) for c in contracts}
        if args.peers:  # a real server may hold posts of its own before the run (WordPress: "Hello world!")
            live["ghost"], live["wordpress"] = peer_live(fakes, env)
            live = {k: v - before.get(k, 0) for k, v in live.items()}
        extra = {k: v for k, v in live.items() if v != args.posts}
        if extra:
            print(f"  live copies not equal to the posts: {extra}")
        print(f"  429s answered: {sum(c[0] for c in refused.values())}; "
              f"duplicates: {sum(max(0, n - args.posts) for n in live.values())} "
              f"(live copies per target: {min(live.values())}–{max(live.values())} for {args.posts} posts)")
        for kind in fakes:
            print(f"    {kind:<14} done at {done_at.get(kind, float('nan')):7.1f} s (its own minimum "
                  f"{floor[kind]:6.1f} s), 429s {refused[kind][0]}, requests {len(fakes[kind].requests)}")
    if gave_up:  # the 429s and each target's line are printed above: what held the run up
        raise SystemExit(1)


if __name__ == "__main__":
    main()
