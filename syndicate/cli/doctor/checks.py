"""`doctor`'s checks of the posts, credentials, notices and budgets, the broker, Redis and the ledger."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicate.cli.doctor.findings import Finding, State, shown_url
from syndicate.contract import Connector, Notice
from syndicate.errors import (
    AuthFailed,
    NotCreated,
    NotFound,
    Permanent,
    RateLimited,
    SyndicateError,
    Transient,
)
from syndicate.state.ping import ping_redis

if TYPE_CHECKING:

    from syndicate.config import Config
    from syndicate.content.post import Image, Post
    from syndicate.engine.runner import Syndicator



def _rel(config: Config, post: Post) -> str:
    try:
        return str(post.path.resolve().relative_to(config.site.root))
    except ValueError:
        return str(post.path)


# --- the sample post ----------------------------------------------------------------------------------


def _sample(config: Config, now: datetime) -> tuple[Post | None, Post | None, str]:
    """The newest published post and the one before it (the site's own files), and a problem reading them."""
    from syndicate.content.loader import load_posts

    try:
        posts, errors = load_posts(config)
    except SyndicateError as exc:
        return None, None, str(exc)
    live = [p for p in posts if not p.draft and p.visible_at(now) is None and p.due(now)]
    live.sort(key=lambda p: (p.due_at is not None, p.due_at or now), reverse=True)
    problem = ""
    if errors:
        problem = f"{len(errors)} file(s) cannot be read as posts, e.g. {errors[0]}"
    return (live[0] if live else None), (live[1] if len(live) > 1 else None), problem


def _images_of(post: Post) -> list[Image]:
    images = [post.cover] if post.cover is not None else []
    try:
        body = post.document.images
    except SyndicateError:
        body = []
    seen: set[str] = set()
    out = []
    for image in [*images, *body]:
        key = image.url or image.src
        if key not in seen:
            seen.add(key)
            out.append(image)
    return out


# --- credentials, notices, budgets --------------------------------------------------------------------------


def _secret_keys(config: Config, name: str) -> list[str]:
    from syndicate.config import Secret

    target = config.targets.get(name)
    if target is None:
        return []
    return [k for k, v in target.options.items() if isinstance(v, Secret)]


def _skipped(config: Config, name: str) -> Finding:
    reason = config.skipped[name]
    return Finding("credentials", name, "fail", f"not set: {reason}; every sending command skips this target",
                   "set the variable(s) in this environment, or `enabled = false` in "
                   f"[targets.{name}] if it is not meant to send from here")


def _credentials(syn: Syndicator, name: str) -> list[Finding]:
    conn = syn.connector(name)
    keys = ", ".join(_secret_keys(syn.config, name)) or "the credentials"
    try:
        request = conn.build_verify()
    except Exception as exc:  # a connector that must ask first (Micropub discovers its endpoint)
        return [Finding("credentials", name, "fail", f"cannot build the check: {type(exc).__name__}: {exc}",
                        f"check [targets.{name}] (base_url, and that the site answers)")]
    if request is None:
        return [Finding("credentials", name, "skip",
                        f"{conn.type}: no read proves these credentials (anything sent is posted)")]
    from urllib.parse import urlsplit

    said = f"{request.method} {urlsplit(request.url).path or '/'}"
    try:
        conn.send(request)
    except AuthFailed as exc:
        return [Finding("credentials", name, "fail", f"refused: {exc}",
                        f"check {keys} in [targets.{name}] (a new token, or the right account)")]
    except RateLimited as exc:
        wait = f" for {exc.retry_after:.0f}s" if exc.retry_after is not None else ""
        return [Finding("credentials", name, "warn", f"rate limited{wait}, not proved: {exc}",
                        "run `syndicate doctor` again later")]
    except NotFound as exc:
        return [Finding("credentials", name, "fail", f"not found: {exc}",
                        f"check base_url and the account keys in [targets.{name}]")]
    except NotCreated as exc:
        return [Finding("credentials", name, "fail", f"cannot connect ({said}): {exc}",
                        f"check base_url in [targets.{name}] and the network")]
    except Transient as exc:
        return [Finding("credentials", name, "fail", f"no usable answer ({said}): {exc}",
                        "the platform may be down: try again later")]
    except Permanent as exc:
        return [Finding("credentials", name, "fail", f"refused ({said}): {exc}", f"check [targets.{name}]")]
    except SyndicateError as exc:
        return [Finding("credentials", name, "fail", f"{type(exc).__name__}: {exc}", f"check [targets.{name}]")]
    return [Finding("credentials", name, "ok", f"accepted ({said})")]


def _target(syn: Syndicator, name: str, now: datetime) -> list[Finding]:
    """The credentials, then what the target has to say now (`Connector.notices`, as `status` shows them,
    with the instance's facts fetched afresh: `doctor` looks), and what is left of its budget."""
    out = _credentials(syn, name)
    conn = syn.connector(name)
    facts = None
    if type(conn).fetch_facts is not Connector.fetch_facts:
        try:
            facts = conn.fetch_facts()
        except SyndicateError:
            facts = None  # said by the credentials' row when it matters
    try:
        notices = conn.notices(facts, now)
    except Exception as exc:
        notices = [Notice("warn", f"{name}: its notices could not be read ({type(exc).__name__}: {exc})")]
    noted = False
    for notice in notices:
        state: State = {"error": "fail", "warn": "warn"}.get(notice.level, "ok")  # type: ignore[assignment]
        noted = noted or state != "ok"
        fix = ""
        if notice.until is not None and state != "ok":
            fix = f"before {notice.until.date().isoformat()}" if notice.until > now else "now"
        out.append(Finding("notice", name, state, notice.message, fix))
    budget = conn.budget
    if budget is not None and not noted:
        from syndicate.state.budget import resets_at

        stamp = now.timestamp()
        out.append(Finding("budget", name, "ok", f"{budget.left(stamp):.2f} of {budget.limit:.2f} USD left until "
                                                 f"{resets_at(stamp).date().isoformat()}"))
    return out


# --- broker, Redis, ledger ------------------------------------------------------------------------------------



def _broker(config: Config, timeout: float) -> Finding:
    url = config.broker
    if not url:
        return Finding("broker", "[queue] broker", "skip", "not configured: `push` runs in-process")
    shown = shown_url(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        problem = ping_redis(url, timeout)
    else:
        from syndicate.engine.tasks import check_broker, configure

        configure(config)
        problem = check_broker(timeout)
    if problem:
        return Finding("broker", shown, "fail", f"does not answer: {problem}",
                       "start the broker, or remove [queue] broker to run in-process")
    return Finding("broker", shown, "ok", "answers")


def _redis(config: Config, timeout: float) -> Finding:
    url = config.redis_url
    if not url:
        return Finding("redis", "[queue] redis", "skip",
                       "not configured: rate limits and tokens are kept in the ledger and the data folder")
    problem = ping_redis(url, timeout)
    if problem:
        return Finding("redis", shown_url(url), "fail", f"does not answer: {problem}",
                       "start Redis, or correct [queue] redis / $SYNDICATE_REDIS_URL")
    return Finding("redis", shown_url(url), "ok", "answers PING")


def _known_revisions() -> set[str]:
    from syndicate.state.ledger.migrate import MIGRATIONS

    return {p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py")}


def _ledger(config: Config, timeout: float) -> Finding:
    """The ledger answers, read only: nothing is created, upgraded or joined."""
    import sqlalchemy as sa

    from syndicate.state.ledger.full import where
    from syndicate.state.ledger.migrate import current_revision
    from syndicate.state.ledger.schema import HEAD

    url = config.state_url
    shown = where(url)
    if url.startswith("sqlite"):
        file = url.split("///", 1)[1] if "///" in url else ""
        if not file or file == ":memory:":
            return Finding("ledger", shown, "ok", "an in-memory SQLite ledger")
        path = Path(file)
        if not path.exists():
            folder = next((p for p in path.parents if p.exists()), None)
            import os

            if folder is None or not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
                return Finding("ledger", shown, "fail", f"cannot be made: {folder or path.parent} is not writable",
                               "set [state] dir or $SYNDICATE_DATA to a writable folder")
            return Finding("ledger", shown, "ok", "not made yet: the first run makes it")
        engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true",
                                  connect_args={"timeout": timeout}, poolclass=sa.pool.NullPool)
        kind = "SQLite"
    else:
        driver = "postgresql+psycopg://" + url[len("postgresql://"):] if url.startswith("postgresql://") else url
        args = {"connect_timeout": max(1, int(timeout))} if driver.startswith("postgresql") else {}
        engine = sa.create_engine(driver, connect_args=args, poolclass=sa.pool.NullPool)
        kind = "PostgreSQL"
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        revision = current_revision(engine)
        if revision is None:
            return Finding("ledger", shown, "ok", f"{kind} answers; no tables yet: the first run makes them")
        if revision != HEAD and revision not in _known_revisions():
            return Finding("ledger", shown, "fail", f"{kind} answers, but its schema {revision} is newer than this "
                           f"syndicate knows ({HEAD})", "upgrade syndicate where this runs")
        conflict = _site_conflict(engine, config, shown)
        if conflict:
            return Finding("ledger", shown, "fail", conflict, "see [state] shared and [state] site in the README")
        rows = _row_count(engine, config.site_id)
        said = f"{kind} answers; {rows} row(s) of this site"
        if revision != HEAD:
            return Finding("ledger", shown, "ok", f"{said}; schema {revision}, upgraded to {HEAD} by the next run")
        return Finding("ledger", shown, "ok", said)
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return Finding("ledger", shown, "fail", f"{kind} does not answer: {reason}",
                       "start the database, or correct [state] url / $SYNDICATE_STATE_URL")
    finally:
        engine.dispose()


def _site_conflict(engine: Any, config: Config, shown: str) -> str | None:
    """What `push` would refuse: this ledger already holds another site's rows and is not shared."""
    import sqlalchemy as sa

    from syndicate.state.ledger.sites import refusal

    try:
        from syndicate.state.ledger.sites import members

        known = members(engine)
    except sa.exc.SQLAlchemyError:
        return None  # a ledger from before sites: its rows become the first site's
    others = [s for s in known if s not in ("", config.site_id)]
    if others and not config.shared_ledger:
        return refusal(shown, config.site_id, others)
    return None


def _row_count(engine: Any, site: str) -> int:
    import sqlalchemy as sa

    from syndicate.state.ledger.schema import rows

    with engine.connect() as conn:
        try:
            return int(conn.execute(sa.select(sa.func.count()).select_from(rows).where(rows.c.site == site)).scalar()
                       or 0)
        except sa.exc.SQLAlchemyError:
            return 0
