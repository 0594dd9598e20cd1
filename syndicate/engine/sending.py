"""Sending one unit: create (a single post or a thread, resumable), update, and what comes before
a send: `wait_live`, the media checked or uploaded, the sibling copies. Every step records to the
ledger in the order docs/exactly-once.md gives: the intent before the request, the result after.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from syndicate.contract import Connector, Draft, MediaItem, Remote, SendContext
from syndicate.engine.follow import Following
from syndicate.engine.outcome import Outcome, _Deferred, idempotency_key
from syndicate.errors import (
    AuthFailed,
    MediaError,
    MediaRefused,
    NotCreated,
    NotFound,
    OutcomeUnknown,
    Permanent,
    RateLimited,
    SyndicateError,
    Throttled,
    Transient,
)
from syndicate.state.ledger import Row, utcnow

if TYPE_CHECKING:

    from syndicate.content.post import Post

log = logging.getLogger(__name__)


class Sending(Following):
    """Create and update on the platform, recorded in the ledger (a mixin of `runner.Syndicator`)."""

    clock: Callable[[], float] = staticmethod(time.time)  # seconds since the epoch; tests move it by hand

    def _create(self, conn: Connector, post: Post, target: str, row: Row, draft: Draft, out: Outcome) -> Remote:
        digest = draft.content_hash()
        # an intent with no result yet: `creating`, or deferred since (a long 429 while finding, a lost
        # create still settling) — the copy may exist, so it is looked for before anything is sent
        unsettled = row.state == "creating" or (row.state == "deferred" and bool(row.idem_key)
                                                and not row.remote_id and conn.abilities.can_find)
        key = row.idem_key if unsettled and row.idem_key else idempotency_key(post.id, target, row.revision)
        if len(draft.parts) > 1:
            return self._create_thread(conn, post, target, row, draft, key, digest, out)
        if unsettled:
            found = conn.find(post, key)
            if found is not None:
                # an earlier attempt landed; bring it in line with the current draft
                self.ledger.record_published(post.id, target, found.id, found.url, found.extra, "", first=True)
                if conn.abilities.can_update:
                    found = conn.update(found, draft, self._send_context(conn, draft, draft.all_media, out))
                self.ledger.record_published(post.id, target, found.id, found.url, found.extra, digest,
                                             first=False, release=True)
                return found
            self._settled(conn, target, row)
        self._wait_live(post, target, row)  # before anything: a copy must not link to a 404
        ctx = self._send_context(conn, draft, draft.all_media, out)  # before the intent: nothing sent yet
        self.ledger.record_intent(post.id, target, key, digest)
        _resumable(ctx, row.remote_extra, key, lambda extra: self.ledger.update(post.id, target, remote_extra=extra))
        try:
            remote = conn.create(draft, key, ctx)
        except (Permanent, AuthFailed, RateLimited):
            # refused: nothing landed, so the next create may start afresh
            self.ledger.update(post.id, target, state="new")
            raise
        except Transient as exc:
            # a 5xx or no connection is an answer, not a lost one: where no `find` could settle a
            # `creating` row later, start afresh (a connector raises OutcomeUnknown when unsure);
            # an answer that proves nothing was made (NotCreated) starts afresh everywhere
            if isinstance(exc, NotCreated) or (not isinstance(exc, OutcomeUnknown) and not conn.abilities.can_find):
                self.ledger.update(post.id, target, state="new")
            elif isinstance(exc, OutcomeUnknown) and conn.abilities.can_find and conn.abilities.lost_create_settle:
                self._note_create(post.id, target, lost_at=self.clock())
            elif conn.abilities.can_find and conn.abilities.lost_create_settle:
                self._note_create(post.id, target, answered=row.attempts + 1)
            raise
        # any other error (a lost response) leaves the row `creating`:
        # the outcome is unknown, and the next attempt finds before it creates
        if ctx.media and not conn.abilities.needs_public_media_url:
            remote.extra = {**remote.extra, "uploads": ctx.media}  # so an edit re-uploads nothing it has
        self.ledger.record_published(post.id, target, remote.id, remote.url, remote.extra, digest, first=True,
                                     release=True)
        return remote

    def _note_create(self, post_id: str, target: str, **said: Any) -> None:
        """What became of a create whose copy may exist, beside its progress in `remote_extra` (read again: the
        create may have recorded steps): `lost_at` — its answer was lost, so an empty `find` soon after waits
        for a create that may still land; `answered` — the attempt got an answer, if an error (a 5xx), so its
        empty `find` is no lost create to wait for (the row stays `creating`: the copy is looked for first)."""
        row = self.ledger.get(post_id, target)
        extra = dict(row.remote_extra) if row is not None else {}
        self.ledger.update(post_id, target, remote_extra={**extra, **said})

    def _settled(self, conn: Connector, target: str, row: Row) -> None:
        """Raise `_Deferred` while a lost create may still land: the platform takes no key that would refuse
        a second create, so an empty `find` proves nothing until `lost_create_settle` seconds have passed."""
        if not conn.abilities.lost_create_settle:
            return
        lost_at = row.remote_extra.get("lost_at")
        died = (not isinstance(lost_at, (int, float)) and row.state == "creating" and row.updated_at is not None
                and row.remote_extra.get("answered") != row.attempts)
        if died:
            # the last intent was neither answered nor said lost: the process that sent it died first (killed,
            # a crash, a power cut). The row's last change — the intent, or the create's progress — stands for
            # the loss, and is remembered as one
            assert row.updated_at is not None
            lost_at = row.updated_at.timestamp()
        if not isinstance(lost_at, (int, float)):
            return
        wait = float(lost_at) + conn.abilities.lost_create_settle - self.clock()
        if wait > 0:
            if died:
                self.ledger.update(row.post_id, target, remote_extra={**row.remote_extra, "lost_at": lost_at})
            raise _Deferred(wait, f"{target}: a create whose answer was lost may still land; "
                                  f"looked for it and found nothing yet, looking again before sending again")

    def _create_thread(self, conn: Connector, post: Post, target: str, row: Row, draft: Draft, key: str,
                       digest: str, out: Outcome) -> Remote:
        """Post each part in turn; a part already posted is kept, so a half-posted thread resumes."""
        done = {p.idx: p for p in self.ledger.parts(post.id, target) if p.revision == row.revision}
        if row.state != "creating":
            self.ledger.record_intent(post.id, target, key, digest)
        remotes: list[Remote] = []
        for i, part in enumerate(draft.parts):
            pkey = key if i == 0 else f"{key}.p{i}"
            prior = done.get(i)
            if prior is not None and prior.state == "published":
                remotes.append(Remote(prior.remote_id, prior.remote_url, prior.remote_extra))
                continue
            if prior is not None and prior.state == "creating":
                if not conn.abilities.can_find:
                    self.ledger.mark_check(post.id, target, f"part {i + 1} of the thread has an unknown outcome")
                    raise Permanent(f"{target}: part {i + 1} of the thread has an unknown outcome; "
                                    f"{conn.abilities.find_hint or 'look on the platform'}, then `syndicate resolve`")
                found = conn.find(post, pkey)
                if found is not None:
                    self.ledger.record_part(post.id, target, i, revision=row.revision, idem_key=pkey,
                                            state="published", remote_id=found.id, remote_url=found.url,
                                            remote_extra=found.extra, content_hash=draft.part_hash(i))
                    remotes.append(found)
                    continue
            ctx = self._send_context(conn, draft, part.media, out, part=i, thread=remotes)
            self.ledger.record_part(post.id, target, i, revision=row.revision, idem_key=pkey, state="creating")

            def save(extra: dict[str, Any], i: int = i, pkey: str = pkey) -> None:
                self.ledger.record_part(post.id, target, i, revision=row.revision, idem_key=pkey, state="creating",
                                        remote_extra=extra)

            _resumable(ctx, prior.remote_extra if prior is not None else None, pkey, save)
            try:
                remote = conn.create(draft, pkey, ctx)
            except (Permanent, AuthFailed, RateLimited, NotCreated):
                # refused: this part did not land; the thread resumes from here next time
                self.ledger.record_part(post.id, target, i, revision=row.revision, idem_key=pkey, state="refused")
                self.ledger.update(post.id, target, state="new" if i == 0 else "failed")
                raise
            self.ledger.record_part(post.id, target, i, revision=row.revision, idem_key=pkey, state="published",
                                    remote_id=remote.id, remote_url=remote.url, remote_extra=remote.extra,
                                    content_hash=draft.part_hash(i))
            remotes.append(remote)
        root = remotes[0]
        extra = {**root.extra, "parts": [r.id for r in remotes]}
        self.ledger.record_published(post.id, target, root.id, root.url, extra, digest, first=True, release=True)
        return Remote(root.id, root.url, extra)

    def _update(self, conn: Connector, post: Post, target: str, row: Row, draft: Draft, out: Outcome) -> Remote:
        digest = draft.content_hash()
        remote = Remote(row.remote_id, row.remote_url, row.remote_extra)
        try:
            if len(draft.parts) > 1 or row.remote_extra.get("parts"):
                remote = self._update_thread(conn, post, target, row, draft, out)
            else:
                ctx = SendContext(facts=self.facts(conn.name), siblings=dict(out.siblings or {}))
                if conn.abilities.needs_public_media_url:
                    ctx = self._send_context(conn, draft, draft.all_media, out)
                elif type(conn).upload is not Connector.upload:
                    # upload only the images the copy does not have yet; the others keep their ids
                    known = dict(row.remote_extra.get("uploads") or {})
                    fresh = [m for m in draft.all_media if m.source not in known]
                    ctx = self._send_context(conn, draft, fresh, out)
                    ctx.media = {**known, **ctx.media}
                remote = conn.update(remote, draft, ctx)
                if ctx.media and not conn.abilities.needs_public_media_url:
                    remote.extra = {**remote.extra, "uploads": ctx.media}
            if conn.abilities.max_edits is not None:  # counted, so the plan stops at the platform's limit
                remote.extra = {**remote.extra, "edits": int((row.remote_extra or {}).get("edits") or 0) + 1}
        except NotFound:
            # the copy was deleted on the platform: the next attempt creates a new one
            self.ledger.mark_deleted(post.id, target, "the copy was deleted on the platform")
            self.ledger.update(post.id, target, published_at=None)
            raise Transient(f"{target}: the copy was deleted on the platform; it will be created again") from None
        self.ledger.record_published(post.id, target, remote.id, remote.url or row.remote_url, remote.extra, digest,
                                     first=False, release=True)
        return remote

    def _update_thread(self, conn: Connector, post: Post, target: str, row: Row, draft: Draft,
                       out: Outcome) -> Remote:
        """Update the parts both versions have, post the new ones, delete the ones no longer there."""
        old = sorted((p for p in self.ledger.parts(post.id, target) if p.state == "published"), key=lambda p: p.idx)
        key = row.idem_key or idempotency_key(post.id, target, row.revision)
        remotes: list[Remote] = []
        for i, _part in enumerate(draft.parts):
            ctx = self._send_context(conn, draft, [], out, part=i, thread=remotes)
            if i < len(old):
                prior = Remote(old[i].remote_id, old[i].remote_url, old[i].remote_extra)
                remote = conn.update(prior, draft, ctx)
            else:
                remote = conn.create(draft, f"{key}.p{i}", ctx)
            self.ledger.record_part(post.id, target, i, revision=row.revision, idem_key=key if i == 0 else f"{key}.p{i}",
                                    state="published", remote_id=remote.id, remote_url=remote.url,
                                    remote_extra=remote.extra, content_hash=draft.part_hash(i))
            remotes.append(remote)
        for extra in reversed(old[len(draft.parts):]):
            conn.delete(Remote(extra.remote_id, extra.remote_url, extra.remote_extra))
        root = remotes[0]
        return Remote(root.id, root.url, {**root.extra, "parts": [r.id for r in remotes]})

    # --- `[watch] wait_live`: a create waits until the post's page answers ---

    def _wait_live(self, post: Post, target: str, row: Row) -> None:
        """Raise `Throttled` (wait and try again) while the canonical URL does not answer 2xx; past
        `wait_live_timeout`, defer the row with the reason (the periodic job tries again)."""
        watch = self.config.watch
        if not watch.wait_live:
            return
        if self.is_live(post.url):
            self._live_tries.pop(post.url, None)  # a long-running worker keeps no count for live pages
            return
        waited = (utcnow() - row.created_at).total_seconds() if row.created_at is not None else 0.0
        if waited < float(watch.wait_live_timeout):
            self._live_tries[post.url] = tries = self._live_tries.get(post.url, 0) + 1
            raise Throttled(f"{post.url} does not answer yet (wait_live): not sent",
                            min(60.0, self.policy.backoff(tries)))
        raise _Deferred(float(watch.wait_live_timeout),
                        f"{post.url} did not answer within {watch.wait_live_timeout:g}s (wait_live)")

    def is_live(self, url: str) -> bool:
        """HEAD, then GET, through the SSRF-safe client: a private site only by `[media] allow`."""
        if self._live_client is None:
            from syndicate.content.media.fetch import safe_client
            from syndicate.content.media.safety import AddressPolicy

            self._live_client = safe_client(AddressPolicy.allowing(*self.config.media.allow),
                                            timeout=float(self.config.http.timeout))
        import httpx

        try:
            for method in ("HEAD", "GET"):
                with self._live_client.stream(method, url, follow_redirects=True) as response:
                    if 200 <= response.status_code < 300:
                        return True
        except (httpx.HTTPError, SyndicateError) as exc:
            log.info("wait_live: %s does not answer: %s", url, exc)
        return False

    # --- media: checked or uploaded before anything is recorded ---

    def _send_context(self, conn: Connector, draft: Draft, items: list[MediaItem], out: Outcome, *,
                      part: int = 0, thread: list[Remote] | None = None) -> SendContext:
        ctx = SendContext(part=part, thread=list(thread or []), facts=self.facts(conn.name),
                          siblings=dict(out.siblings or {}))  # as the plan saw them
        if not items:
            return ctx
        policy = conn.limits_for(self.facts(conn.name)).media
        if conn.abilities.needs_public_media_url:
            for item in items:
                ctx.media[item.source] = self._public_url(conn, item, policy)
            return ctx
        if type(conn).upload is Connector.upload or policy is None:
            return ctx
        for item in items[: policy.max_count]:
            local = replace(item, source=str(item.path)) if item.path is not None else item
            try:
                fitted = self.media.fitted(local, policy)
            except MediaRefused as exc:  # one bad image must not sink the post
                out.warnings.append(f"image left out: {exc}")
                continue
            except MediaError as exc:
                raise Transient(f"{conn.name}: image {item.source}: {exc}") from None
            if fitted.alt and policy.alt_max_length is not None:
                fitted = replace(fitted, alt=fitted.alt[: policy.alt_max_length])  # the platform's alt limit
            ctx.media[item.source] = conn.upload(item, fitted)
        return ctx

    def _public_url(self, conn: Connector, item: MediaItem, policy: Any) -> str:
        """The URL the platform will fetch: the image's own when it answers, else a rehosted copy."""
        media = self.media
        problem = media.probe(item.source)
        if problem is None:
            return item.source
        if isinstance(problem, MediaRefused) and item.path is None:
            raise Permanent(f"{conn.name}: image {item.source} can never be fetched: {problem}")
        if getattr(media, "rehost_store", None) is None:
            raise Transient(
                f"{conn.name}: image {item.source} does not answer ({problem}); not published yet, because "
                f"{conn.type} would keep the broken image (deploy the site, or configure [media.rehost])"
            )
        try:
            return str(media.rehost(item, policy, local=item.path))
        except MediaRefused as exc:
            raise Permanent(f"{conn.name}: image {item.source} cannot be rehosted: {exc}") from None
        except MediaError as exc:
            raise Transient(f"{conn.name}: image {item.source} cannot be rehosted yet: {exc}") from None


def _resumable(ctx: SendContext, kept: dict[str, Any] | None, key: str,
               save: Callable[[dict[str, Any]], None]) -> None:
    """Give `ctx` what an earlier try of this create recorded under the same key, and a way to record more."""
    prior = (kept or {}).get("progress")
    ctx.progress = dict(prior.get("data") or {}) if isinstance(prior, dict) and prior.get("key") == key else {}

    def record(data: dict[str, Any]) -> None:
        save({"progress": {"key": key, "data": data}})
        ctx.progress = dict(data)

    ctx.record = record
