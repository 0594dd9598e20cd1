"""Count what one unit of work costs: SQL statements on an engine, Redis round trips of a process.

Shared by tests/test_lean.py (a regression guard on the counts, not a timing test) and
bench/bench_worker.py (`counts`). Nothing is mocked: the statements go to the real
database and the commands to the real Redis; these only watch them go by.

    with Statements(ledger.engine) as sql, RoundTrips() as rt:
        syn.attempt(post, "mastodon")
    sql.count, sql.statements, rt.count, rt.commands
"""
from __future__ import annotations

from types import TracebackType
from typing import Any

import redis
import sqlalchemy as sa
from redis.client import Pipeline


class Statements:
    """Every statement the engine sends to its database (a `before_cursor_execute` listener)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        self.statements.append(" ".join(statement.split()))

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()

    def __enter__(self) -> Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)

    def summary(self) -> list[str]:
        """Each statement's first words (`UPDATE syndicate_rows`, `SELECT ...`), for a message."""
        return [" ".join(s.split()[:3])[:60] for s in self.statements]


class RoundTrips:
    """Every round trip to Redis of every client in this process: a command, or a pipeline's batch.

    Wraps `redis.Redis.execute_command` and `Pipeline.execute` for the duration (the class, so
    clients made inside the block count too); a pipeline counts once, its commands are listed.
    """

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.count = 0

    def reset(self) -> None:
        self.commands.clear()
        self.count = 0

    def __enter__(self) -> RoundTrips:
        self._command = command = redis.Redis.execute_command
        self._execute = execute = Pipeline.execute
        seen = self

        def execute_command(client: Any, *args: Any, **options: Any) -> Any:
            if not isinstance(client, Pipeline):  # a pipeline's commands go in its one batch
                seen.count += 1
                seen.commands.append(str(args[0]))
            return command(client, *args, **options)

        def pipeline_execute(pipe: Any, *args: Any, **kwargs: Any) -> Any:
            if pipe.command_stack:
                seen.count += 1
                seen.commands.append("PIPELINE(" + ",".join(str(c[0][0]) for c in pipe.command_stack) + ")")
            return execute(pipe, *args, **kwargs)

        redis.Redis.execute_command = execute_command  # type: ignore[method-assign]
        Pipeline.execute = pipeline_execute  # type: ignore[method-assign]
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        redis.Redis.execute_command = self._command  # type: ignore[method-assign]
        Pipeline.execute = self._execute  # type: ignore[method-assign]


def unit_counts(root: Any, *, state_url: str, redis_url: str, masto_url: str, posts: int = 4) -> dict[str, Any]:
    """What one (post, target) costs a worker process, as the `syndicate.publish` task runs it.

    `posts` posts are queued for one Mastodon target (`masto_url`) as `syndicate push` queues them
    (the row made and set `queued`); the first is published to warm the process up (its facts,
    connector and limiter are made once per process), the others are counted one by one, then each is
    attempted again (an unchanged row: skipped). Returns the per-unit medians and the statements seen.
    """
    import os
    import statistics
    from pathlib import Path

    from syndicate.content.loader import load_post
    from syndicate.engine.lease import unit_owner
    from syndicate.engine.runner import Syndicator
    from syndicate.registry import load_config
    from tests.harness import write_config, write_site

    root = Path(root)
    paths = write_site(root, posts)
    config_path = write_config(root, ["[targets.mastodon]", 'type = "mastodon"', f'base_url = "{masto_url}"',
                                      'access_token = "${MASTODON_ACCESS_TOKEN}"'],
                               state_url=state_url, extra=["[queue]", f'redis = "{redis_url}"'])
    os.environ.setdefault("MASTODON_ACCESS_TOKEN", "mastodon-test-token")
    syn = Syndicator(load_config(config_path))
    loaded = [load_post(p, syn.config.site) for p in paths]
    for post in loaded:
        syn.ledger.ensure(post.id, "mastodon", syn.relpath(post))
        syn.ledger.update(post.id, "mastodon", state="queued")

    def unit(post: Any) -> tuple[str, int, int, list[str], list[str]]:
        with Statements(syn.ledger.engine) as sql, RoundTrips() as rt:
            # as the task does: the post read from its file, then one attempt
            fresh = load_post(post.path, syn.config.site)
            outcome = syn.attempt(fresh, "mastodon", owner=unit_owner())
        return outcome.status, sql.count, rt.count, sql.summary(), rt.commands

    first = unit(loaded[0])
    assert first[0] == "done", first
    new = [unit(post) for post in loaded[1:]]
    again = [unit(post) for post in loaded[1:]]
    assert all(u[0] == "done" for u in new), new
    assert all(u[0] == "skipped" for u in again), again
    syn.ledger.dispose()
    return {
        "sql_new": statistics.median(u[1] for u in new), "redis_new": statistics.median(u[2] for u in new),
        "sql_unchanged": statistics.median(u[1] for u in again),
        "redis_unchanged": statistics.median(u[2] for u in again),
        "statements_new": new[0][3], "commands_new": new[0][4], "statements_unchanged": again[0][3],
        "sql_first": first[1], "statements_first": first[3],
    }
