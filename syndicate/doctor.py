"""`syndicate doctor`: what is fine and what to fix, before a post finds out.

Each check is one function returning `Finding`s (check, what, state, detail,
fix). The config is read first (invalid: the CLI exits 2); the site's posts
are read once for a sample (the newest published post); then every check that
waits on the network runs in a thread of its own, all at once, each with its
own deadline, so that one platform that does not answer delays only its own
row and one that fails stops nothing else:

- `credentials`: each target's `Connector.build_verify()` (its cheapest
  authenticated read), sent through the connector as a push would send it;
  a target skipped for want of its variables fails here;
- `notice` and `budget`: each connector's `notices` as `status` shows them (a
  token about to expire, an API version near its sunset, a spent X budget),
  with the instance's facts fetched afresh, and what is left of a
  `monthly_budget`;
- `broker`, `redis`, `ledger`: reachable, each within the timeout; the ledger
  is read, never created or upgraded (a schema behind is upgraded by the next
  run, a ledger of another site is said as `push` would refuse it);
- `site`, `canonical`: the site's URL and the sample post's canonical URL
  answer 2xx, through the SSRF-safe client (`[media] allow` for a private
  site);
- `images`: each image of the sample post answers as an image, or else can be
  uploaded from the local file, or rehosted (`[media.rehost]`) for the
  targets that fetch images by URL.

Every text is passed through one redactor (every configured secret, database
and broker passwords) before it is returned: a platform's error body that
echoes a token shows `**********`.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

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

if TYPE_CHECKING:
    import httpx

    from syndicate.config import Config
    from syndicate.content.post import Image, Post
    from syndicate.engine.runner import Syndicator

State = Literal["ok", "warn", "fail", "skip"]
STATES: tuple[State, ...] = ("fail", "warn", "ok", "skip")
DEFAULT_TIMEOUT = 10.0
MAX_IMAGES = 10  # of the sample post: a gallery of 80 is not checked one by one
MASK = "**********"
ORDER = ("config", "posts", "credentials", "notice", "budget", "broker", "redis", "ledger", "site", "canonical",
         "images")  # the report's order of checks
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s]*:)[^@/\s]+@")


@dataclass
class Finding:
    """One row of the report: a check, what it looked at, its state, what was seen and how to fix it."""

    check: str
    what: str
    state: State
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.state == "fail" for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.state == s) for s in STATES}

    def summary(self) -> str:
        """"1 to fix, 2 warnings, 9 ok" (only what occurs)."""
        counts = self.counts()
        words = {"fail": "to fix", "warn": "warning" + ("s" if counts["warn"] != 1 else ""), "ok": "ok",
                 "skip": "not checked"}
        return ", ".join(f"{counts[s]} {words[s]}" for s in STATES if counts[s]) or "nothing checked"

    def as_json(self) -> dict[str, Any]:
        return {"ok": not self.failed, "summary": self.counts(), "checks": [f.as_dict() for f in self.findings]}


# --- secrets ----------------------------------------------------------------------------------------


class Scrub:
    """Every configured secret (targets, `[media.rehost]`) and every URL password, masked."""

    def __init__(self, config: Config) -> None:
        from syndicate.config import Secret
        from syndicate.engine.runner import Redactor

        self._targets = Redactor(config)
        values: set[str] = set()
        rehost = config.media.rehost
        if rehost is not None:
            for value in dict(rehost).values():
                if isinstance(value, Secret) and len(value.reveal()) >= 4:
                    values.add(value.reveal())
        for url in (config.broker, config.redis_url, config.state_url):
            password = _password(url)
            if password and len(password) >= 4:
                values.add(password)
        self._values = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = self._targets(text)
        for value in self._values:
            text = text.replace(value, MASK)
        return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + "@", text)


def _password(url: str | None) -> str | None:
    if not url:
        return None
    from urllib.parse import unquote, urlsplit

    try:
        raw = urlsplit(url).password
    except ValueError:
        return None
    return unquote(raw) if raw else None


def shown_url(url: str) -> str:
    """A URL for the report: no password, no query string (it may hold a token)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unreadable URL)"
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(":" + parts.password + "@", ":" + MASK + "@", 1)
    return urlunsplit(parts._replace(netloc=netloc, query="", fragment=""))


# --- running the checks --------------------------------------------------------------------------------


Task = tuple[str, str, Callable[[], list[Finding]]]  # check, what, the work


def run_all(tasks: list[Task], timeout: float) -> list[Finding]:
    """Every task at once, each in a daemon thread with its own deadline; the findings in task order.

    A task that raises becomes a `fail` naming the error; one still running at its deadline becomes a
    `fail` saying so (its thread is left behind: a daemon, it never holds the process up).
    """
    results: list[list[Finding] | None] = [None] * len(tasks)

    def work(i: int, check: str, what: str, fn: Callable[[], list[Finding]]) -> None:
        try:
            results[i] = fn()
        except Exception as exc:  # a check's own bug must not stop the others
            results[i] = [Finding(check, what, "fail", f"the check itself failed: {type(exc).__name__}: {exc}")]

    threads = []
    for i, (check, what, fn) in enumerate(tasks):
        thread = threading.Thread(target=work, args=(i, check, what, fn), name=f"doctor-{check}", daemon=True)
        thread.start()
        threads.append(thread)
    # each check's own I/O stops at `timeout`; the grace lets it say why itself (a better message)
    deadline = time.monotonic() + timeout * 2 + 1.0
    out: list[Finding] = []
    for (check, what, _fn), thread, i in zip(tasks, threads, range(len(tasks)), strict=True):
        thread.join(max(0.0, deadline - time.monotonic()))
        found = results[i]
        if found is None:
            out.append(Finding(check, what, "fail", f"no answer within {timeout:g}s",
                               "check that it is up and reachable from here (or raise --timeout)"))
        else:
            out.extend(found)
    return out


def diagnose(config: Config, *, now: datetime | None = None, timeout: float = DEFAULT_TIMEOUT,
             http: httpx.Client | None = None) -> Report:
    """Every check of `config`, as a report whose texts hold no secret. `now` is the clock the notices read."""
    from syndicate.state.ledger import utcnow

    now = now or utcnow()
    scrub = Scrub(config)
    report = Report()
    where = str(config.path) if config.path else "the config"
    count = len(config.targets) + len(config.skipped)
    report.findings.append(Finding("config", where, "ok", f"valid; {count} target(s)"))
    sample, older, post_problem = _sample(config, now)
    if post_problem:
        report.findings.append(Finding("posts", str(config.site.root), "warn", post_problem,
                                       "fix the files named (see `syndicate preview`)"))
    syn = _syndicator(config, timeout, http)
    tasks: list[Task] = []
    for name in config.skipped:
        report.findings.append(_skipped(config, name))
    broken: dict[str, str] = {}
    for name in config.targets:  # made here, once: the threads below only use them
        try:
            syn.connector(name)
        except Exception as exc:
            broken[name] = f"{type(exc).__name__}: {exc}"
    for name in config.targets:
        if name in broken:
            report.findings.append(Finding("credentials", name, "fail", f"cannot be set up: {broken[name]}",
                                           f"check [targets.{name}]"))
        else:
            tasks.append(("credentials", name, lambda name=name: _target(syn, name, now)))  # type: ignore[misc]
    tasks.append(("broker", "[queue] broker", lambda: [_broker(config, timeout)]))
    tasks.append(("redis", "[queue] redis", lambda: [_redis(config, timeout)]))
    tasks.append(("ledger", "[state] url", lambda: [_ledger(config, timeout)]))
    client = _page_client(config, timeout)
    media: Any = None
    tasks.append(("site", config.site.url, lambda: [_site(client, config.site.url)]))
    tasks.append(("canonical", "newest post", lambda: [_canonical(client, sample, older)]))
    if sample is not None:
        images = _images_of(sample)
        if not images:
            report.findings.append(Finding("images", _rel(config, sample), "skip", "the newest post has no image"))
        media = _pipeline(config, timeout)
        fetchers = [n for n in config.targets if n not in broken and syn.connector(n).abilities.needs_public_media_url]
        for image in images[:MAX_IMAGES]:
            role = "cover" if image is sample.cover else "inline"
            tasks.append(("images", image.url or image.src,
                          lambda image=image, role=role: [_image(syn, media, image, role, fetchers)]))  # type: ignore[misc]
    try:
        report.findings += run_all(tasks, timeout)
    finally:  # a check still running past its deadline fails on a closed client: it was already said
        client.close()
        if http is None:
            syn.http.close()
        if media is not None and not isinstance(media, Exception):
            media.close()
    for f in report.findings:
        f.what, f.detail, f.fix = scrub(f.what), scrub(f.detail), scrub(f.fix)
    report.findings.sort(key=lambda f: ORDER.index(f.check) if f.check in ORDER else len(ORDER))
    return report


def _syndicator(config: Config, timeout: float, http: httpx.Client | None) -> Syndicator:
    import httpx

    from syndicate.engine.runner import Syndicator

    if http is None:
        from syndicate import __version__

        http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                            headers={"User-Agent": f"syndicate/{__version__} (doctor)"})
    return Syndicator(config, readonly=True, http=http)


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


def _ping_redis(url: str, timeout: float) -> str | None:
    """None when Redis at `url` answers PING within `timeout`; else why not."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                  retry=Retry(NoBackoff(), 0), retry_on_timeout=False)
    try:
        client.ping()
    except redis.TimeoutError:
        return f"it took the connection but did not answer PING within {timeout:g}s (is that port Redis?)"
    except redis.AuthenticationError as exc:
        return f"the password was refused: {exc}"
    except redis.ConnectionError as exc:
        return f"cannot connect within {timeout:g}s: {exc}"
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        client.close()
    return None


def _broker(config: Config, timeout: float) -> Finding:
    url = config.broker
    if not url:
        return Finding("broker", "[queue] broker", "skip", "not configured: `push` runs in-process")
    shown = shown_url(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        problem = _ping_redis(url, timeout)
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
    problem = _ping_redis(url, timeout)
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


# --- the site, the canonical URL, the images ----------------------------------------------------------------


def _page_client(config: Config, timeout: float) -> httpx.Client:
    """The SSRF-safe client (a private site only by `[media] allow`), asking for pages."""
    from syndicate.content.media.fetch import safe_client
    from syndicate.content.media.safety import AddressPolicy

    client = safe_client(AddressPolicy.allowing(*config.media.allow), timeout=timeout)
    client.headers["accept"] = "text/html,application/xhtml+xml,*/*;q=0.8"
    return client


def _answer(client: httpx.Client, url: str) -> tuple[int | None, str]:
    """The final status of `url` (redirects followed, each connection checked), or None and why not."""
    import httpx

    try:
        with client.stream("GET", url, follow_redirects=True) as response:
            return response.status_code, f"HTTP {response.status_code}"
    except httpx.TimeoutException:
        return None, "no answer in time"
    except httpx.TooManyRedirects:
        return None, "too many redirects"
    except httpx.HTTPError as exc:
        return None, f"cannot connect ({type(exc).__name__})"
    except SyndicateError as exc:  # the address checks: a private address not in [media] allow
        return None, f"{exc}; a site on a private address needs it in [media] allow"


def _site(client: httpx.Client, url: str) -> Finding:
    status, said = _answer(client, url)
    if status is not None and 200 <= status < 300:
        return Finding("site", url, "ok", f"answers {said}")
    return Finding("site", url, "fail", f"does not answer 2xx: {said}",
                   "deploy the site, or correct [site] url (every copy links back to it)")


def _canonical(client: httpx.Client, sample: Post | None, older: Post | None) -> Finding:
    if sample is None:
        return Finding("canonical", "newest post", "skip", "no published post yet")
    status, said = _answer(client, sample.url)
    if status is not None and 200 <= status < 300:
        return Finding("canonical", sample.url, "ok", f"answers {said} ({sample.title})")
    if older is not None:  # the newest may not be deployed yet: the URLs are right if an older one answers
        before, _ = _answer(client, older.url)
        if before is not None and 200 <= before < 300:
            return Finding("canonical", sample.url, "warn",
                           f"does not answer 2xx: {said}; the one before it ({older.url}) does",
                           "deploy the site before this post is sent (or set [watch] wait_live)")
    return Finding("canonical", sample.url, "fail", f"does not answer 2xx: {said}: every copy would link to it",
                   "check [site] url and permalink (or the generator's own) against the deployed site")


def _pipeline(config: Config, timeout: float) -> Any:
    from syndicate.content.media import pipeline_for

    try:
        media = pipeline_for(config)
    except SyndicateError as exc:
        return exc
    media.timeout = min(media.timeout, timeout)
    return media


def _image(syn: Syndicator, media: Any, image: Image, role: Literal["cover", "inline"],
           fetchers: list[str]) -> Finding:
    """The image answers as an image, or the targets can still have it: uploaded from the local file, or
    rehosted for the targets that fetch images by URL."""
    from syndicate.contract import MediaItem

    what = image.url or image.src
    if image.refused:
        return Finding("images", image.src, "fail", "outside the site root: left out of every copy",
                       "move the image into the site (beside the post, or a static folder)")
    if isinstance(media, Exception):
        return Finding("images", what, "fail", f"the media settings are unusable: {media}", "check [media]")
    problem = media.probe(image.url) if image.url else None
    if image.url and problem is None:
        return Finding("images", what, "ok", "answers with an image")
    said = problem.message if problem is not None else "no public URL"
    local = image.path if image.path is not None and Path(image.path).is_file() else None
    if local is None:
        return Finding("images", what, "fail", f"{said}, and the site has no file for it",
                       "fix the image's src, or deploy it")
    if not fetchers:
        return Finding("images", what, "ok", f"{said}; the targets upload it from {local.name}")
    names = ", ".join(fetchers)
    if media.rehost_store is None:
        verb = "fetches" if len(fetchers) == 1 else "fetch"
        return Finding("images", what, "fail", f"{said}; {names} {verb} images by URL",
                       "deploy the site, or configure [media.rehost]")
    policy = next((p for p in (syn.connector(n).limits.media for n in fetchers) if p is not None), None)
    if policy is None:
        from syndicate.contract import MediaPolicy

        policy = MediaPolicy(max_bytes=5 * 1024 * 1024)
    try:
        url = media.rehost(MediaItem(role, what, image.alt, local), policy, local=local)
    except SyndicateError as exc:
        return Finding("images", what, "fail", f"{said}; rehosting failed: {exc}",
                       "check [media.rehost] (endpoint, bucket, keys)")
    return Finding("images", what, "ok", f"{said}; rehosted for {names} at {url}")
