"""standard.site: the long-form post itself, as a `site.standard.document` on the writer's AT Protocol repo.

Lexicons: standard.site (tangled.org/standard.site/lexicons) — `site.standard.publication`
(required `url`, `name`) and `site.standard.document` (required `site`, `title`, `publishedAt`;
`path`, `description`, `coverImage`, `content` an open union, `textContent`, `bskyPostRef` a
com.atproto.repo.strongRef, `tags`, `updatedAt`). The Markdown goes in `content` as
`at.markpub.markdown` (markpub.at: `text.markdown`, `flavor`), the shape standard.site readers
know for Markdown. Limits kept here are the strictest seen across the published copies of the
lexicon: a title ≤ 128 graphemes, a description ≤ 300 graphemes (3,000 bytes), a tag ≤ 50
graphemes (100 bytes), a cover ≤ 1,000,000 bytes.

The account is the Bluesky target's (`base_url`, `identifier`, `app_password`): the session is
connectors.atproto's, shared by every target on that account and every worker.

Exactly once:
- The publication's record key is derived from its URL (a TID, like a post's), and an existing
  publication for the same URL is found with listRecords first: a second worker or run adopts
  it, and two racing workers write the same key (a put of the same record is a no-op).
- A document's record key is derived from the idempotency key (connectors.atproto.tid_from_key),
  so a retry rewrites the same record and `find` is getRecord on that key.
- The document is written before the publication is (the document names the publication by its
  URI, which is known beforehand): a lost document write is then settled by `find` like any other.
- Edits put the record in place with `swapRecord` (the CID we wrote last): a record changed
  outside syndicate is never overwritten, and a lost edit whose record already holds what we
  meant to write is done.

`bskyPostRef` is part of the draft (`linked`, given the post's copies on the other targets by the
engine), so whichever target goes first, a Bluesky post made after the document is a changed draft:
the engine plans the document again when the Bluesky copy changes, and updates it in place.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from connectors.atproto import DELETE_RECORD, PUT_RECORD, repo_of, rkey_of, tid_from_key
from connectors.standard_site_repo import (
    DOCUMENT,
    StandardSiteRepo,
    known_publication,
    no_slash,
    publication_rkey,
    same_record,
)
from syndicate.auth import Session
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.content.markdown.convert import Renders, for_platform
from syndicate.content.markdown.plain import plain_field
from syndicate.content.text import truncate
from syndicate.contract import (
    Abilities,
    Draft,
    Facts,
    Limits,
    MediaItem,
    MediaPolicy,
    Notice,
    OutcomeUnknown,
    Permanent,
    RateLimit,
    Remote,
    Request,
    SendContext,
    TagRules,
    Transient,
)
from syndicate.engine.fitting import shape_tags, tag_names, title_of

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post

MARKDOWN = "at.markpub.markdown"
MARKDOWN_TEXT = "at.markpub.text"
STANDARD_MARKDOWN = Renders()  # CommonMark: footnotes, definition and task lists are rewritten
TITLE_MAX = 128  # graphemes (1,280 bytes); cut by characters, so that both hold
DESCRIPTION_MAX, DESCRIPTION_BYTES = 300, 3000
TAG_MAX, TAG_BYTES = 50, 100
BODY_MAX = 1_000_000  # @atproto/pds putRecord: a JSON body of at most 1,000,000 bytes (its jsonLimit)
BODY_MARGIN = 4096  # bytes of the body besides the draft's fields: repo, rkey, site, cover and Bluesky refs
APP_URL = "https://pdsls.dev/at://{repo}/" + DOCUMENT + "/{rkey}"  # a record viewer: no app owns documents

_COVER = MediaPolicy(max_bytes=1_000_000, formats=("jpeg", "png", "webp"), max_count=1)  # coverImage maxSize
_WRITES = (  # https://docs.bsky.app/docs/advanced-guides/rate-limits: a PDS's points per account
    RateLimit("write-points:create", 5000, 3600, cost=3), RateLimit("write-points:create", 35000, 86400, cost=3),
    RateLimit("write-points:update", 5000, 3600, cost=2), RateLimit("write-points:update", 35000, 86400, cost=2),
    RateLimit("write-points:delete", 5000, 3600, cost=1), RateLimit("write-points:delete", 35000, 86400, cost=1),
    RateLimit("request", 3000, 300),  # per IP, all XRPC calls
)


class StandardSiteOptions(TargetOptions):
    base_url: HttpUrl = Field(default="https://bsky.social", description="The account's PDS (the Bluesky target's).")
    identifier: str = Field(description="The account's handle (me.bsky.social) or DID.")
    app_password: Secret = Field(description="An app password (Bluesky: Settings → Privacy and security → App "
                                             "passwords).")
    publication_name: str | None = Field(
        default=None, min_length=1, max_length=500,
        description="The publication's name; unset: the site's host name.")
    publication_url: HttpUrl | None = Field(
        default=None, description="The publication's URL; unset: the site's `url`.")
    publication_description: str | None = Field(default=None, description="A short description of the site.")
    content: Literal["markdown", "none"] = Field(
        default="markdown", description="markdown: the body in `content` (at.markpub.markdown); none: only "
                                        "`textContent`.")


class StandardSite(StandardSiteRepo):
    """Documents of a standard.site publication, on the AT Protocol repo of `identifier`."""

    type = "standard_site"
    options = StandardSiteOptions
    wants_siblings = True  # the Bluesky copy of the same post, for bskyPostRef (`linked`)
    auth = Session(secret_options=("app_password",))
    limits = Limits(
        title_max=TITLE_MAX,
        tags=TagRules(style="name", max_length=TAG_MAX),
        media=_COVER,
        rates=_WRITES,
    )
    abilities = Abilities(
        can_update=True, delete="delete", can_find=True,
        find_hint="list the repo's site.standard.document records (com.atproto.repo.listRecords)",
        lost_create_settle=0,  # putRecord under a record key from the post: a second write is the same record
    )

    # --- pure ---------------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        over = post.control.override(self.name, self.type)
        warnings: list[str] = []
        site = no_slash(str(self.option("publication_url") or post.site.url))
        title, shortened = title_of(plain_field(post.title), self.limits, over)
        warnings += shortened
        fields: dict[str, Any] = {"site_url": site, "title": title or post.slug}
        path = _path_under(post.url, site)
        if path is None:
            warnings.append(f"{post.url} is not under the publication's URL {site}: the document has no `path`")
        else:
            fields["path"] = path
        description = _cut(plain_field(str(over.get("description") or post.excerpt)))
        if description:
            fields["description"] = description
        when = post.date or post.publish_date or post.updated
        if when is not None:
            fields["publishedAt"] = _datetime(when)
        else:
            warnings.append("the post has no date: publishedAt is the time of the first write")
        if post.updated is not None and (when is None or post.updated > when):
            fields["updatedAt"] = _datetime(post.updated)
        assert self.limits.tags is not None
        tags, tag_warnings = shape_tags(tag_names([*post.tags, *post.categories], over), self.limits.tags)
        # 50 characters may still be over 100 bytes (CJK): cut on a character boundary
        tags = list(dict.fromkeys(t for t in (_cut_bytes(t, TAG_BYTES).strip() for t in tags) if t))
        warnings += tag_warnings
        if tags:
            fields["tags"] = tags
        fields["textContent"] = post.document.text()
        if str(over.get("content") or self.option("content", "markdown")) == "markdown":
            fields["markdown"] = for_platform(post.document, STANDARD_MARKDOWN).markdown()
        warnings += _fit_body(fields, post.url)
        media: list[MediaItem] = []
        cover = post.cover
        if cover is not None and (cover.url or cover.src):
            media.append(MediaItem("cover", str(cover.url or cover.src), cover.alt, cover.path))
        return Draft(self.type, fields=fields, media=media, warnings=warnings)

    def linked(self, draft: Draft, siblings: dict[str, Remote]) -> Draft:
        """The draft with `bskyPostRef`, the Bluesky copy of the same post, when there is one: a part of
        the draft, so that a Bluesky post made (or reposted, or edited: a new CID) after the document
        changes its content hash, and the engine updates the document in place."""
        ref = _bsky_ref(siblings)
        if ref is None:
            return draft
        return replace(draft, fields={**draft.fields, "bskyPostRef": ref})

    def record(self, draft: Draft, ctx: SendContext, stored: dict[str, str] | None = None,
               published: str | None = None) -> dict[str, Any]:
        """The `site.standard.document` record (`stored`: blob refs kept from before)."""
        f = draft.fields
        record: dict[str, Any] = {
            "$type": DOCUMENT,
            "site": self._site_uri(str(f["site_url"]), ctx.facts),
            "title": f["title"],
            "publishedAt": f.get("publishedAt") or published or (
                "<the time of the first write>" if ctx.preview else _datetime(datetime.now(UTC))),
        }
        for key in ("path", "description", "tags", "updatedAt", "textContent"):
            if f.get(key):
                record[key] = f[key]
        if "markdown" in f:
            record["content"] = {"$type": MARKDOWN, "flavor": "commonmark",
                                 "text": {"$type": MARKDOWN_TEXT, "markdown": f["markdown"]}}
        blobs = {**(stored or {}), **ctx.media}
        cover = next((blobs[m.source] for m in draft.media if m.source in blobs), None)
        if cover is not None:
            record["coverImage"] = _blob(cover)
        if f.get("bskyPostRef"):  # the draft's (`linked`): what the plan hashed is what is written
            record["bskyPostRef"] = f["bskyPostRef"]
        return record

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        body = {"repo": self._repo(ctx.facts), "collection": DOCUMENT, "rkey": tid_from_key(key),
                "record": self.record(draft, ctx)}
        return Request("POST", self.base + PUT_RECORD, json=body, kind="create", idempotent=False)

    def preview_create(self, draft: Draft, key: str, ctx: SendContext) -> list[Request]:
        """The document, then the publication when it does not exist yet."""
        out = [self.build_create(draft, key, ctx)]
        site = str(draft.fields["site_url"])
        known = self._publications.get(site) or known_publication(ctx.facts, site)
        if known is None or not known.get("exists"):
            out.append(self._publication_request(site, ctx.facts))
        return out

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        assert remote.id is not None
        record = self.record(draft, ctx, dict(remote.extra.get("media") or {}),
                             remote.extra.get("publishedAt"))
        body: dict[str, Any] = {"repo": repo_of(remote.id), "collection": DOCUMENT, "rkey": rkey_of(remote.id),
                                "record": record}
        if remote.extra.get("cid"):
            body["swapRecord"] = str(remote.extra["cid"])  # never overwrite an edit made elsewhere
        return Request("POST", self.base + PUT_RECORD, json=body, kind="update")

    def build_delete(self, remote: Remote) -> Request:
        assert remote.id is not None
        body = {"repo": repo_of(remote.id), "collection": DOCUMENT, "rkey": rkey_of(remote.id)}
        return Request("POST", self.base + DELETE_RECORD, json=body, kind="delete")

    def notices(self, facts: Facts | None, now: datetime) -> list[Notice]:
        """Where the documents go, when `publication_url` names it: a publication to write, or another app's."""
        site = self.option("publication_url")
        if not site or not facts:
            return []  # an app password does not expire; the site's URL comes with the first post
        site = no_slash(str(site))
        entry = known_publication(facts, site)
        if entry is None:
            return [Notice("info", f"no publication for {site} yet: the first document writes it")]
        if rkey_of(str(entry["uri"])) != publication_rkey(site):
            return [Notice("info", f"documents go into the existing publication {entry['uri']} (made by another "
                                   "app; syndicate leaves that record alone)")]
        return []

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        body = response.json()
        uri, cid = str(body["uri"]), str(body["cid"])
        media = {} if ctx.preview else dict(ctx.media)
        return Remote(uri, APP_URL.format(repo=repo_of(uri), rkey=rkey_of(uri)),
                      {"cid": cid, **({"media": media} if media else {})})

    # --- I/O ------------------------------------------------------------------------------------

    def create(self, draft: Draft, key: str, ctx: SendContext | None = None) -> Remote:
        ctx = ctx or SendContext()
        site = str(draft.fields["site_url"])
        self._publication(site)  # reads first: the document names the publication this repo really has
        request = self.build_create(draft, key, ctx)
        response = self.send(request)
        remote = self._parsed(response, ctx, OutcomeUnknown)
        remote.extra["publishedAt"] = request.json["record"]["publishedAt"]
        self._ensure_publication(site)
        return remote

    def update(self, remote: Remote, draft: Draft, ctx: SendContext | None = None) -> Remote:
        ctx = ctx or SendContext()
        request = self.build_update(remote, draft, ctx)
        try:
            response = self.send(request)
        except Permanent as exc:
            if "InvalidSwap" not in str(exc):
                raise
            # the record is not the one we wrote last: our own lost edit, or a change made elsewhere
            current = self._get(rkey_of(str(remote.id)))
            if current is None or not same_record(current[1], request.json["record"]):
                raise Permanent(f"{self.name}: {remote.id} was changed outside syndicate; not overwritten "
                                "(delete the record or edit it back, then push again)") from None
            return Remote(remote.id, remote.url, {**remote.extra, "cid": current[0]})
        parsed = self._parsed(response, ctx, Transient)
        return Remote(parsed.id or remote.id, parsed.url or remote.url, {**remote.extra, **parsed.extra})

    def find(self, post: Post, key: str) -> Remote | None:
        found = self._get(tid_from_key(key))
        if found is None:
            return None
        cid, value = found
        draft = self.render(post)
        uri = f"at://{self._did()}/{DOCUMENT}/{tid_from_key(key)}"
        cover = value.get("coverImage")
        media = {m.source: json.dumps({"blob": cover}) for m in draft.media[:1]} if cover else {}
        self._ensure_publication(str(draft.fields["site_url"]))  # the create may have stopped before it
        return Remote(uri, APP_URL.format(repo=repo_of(uri), rkey=rkey_of(uri)),
                      {"cid": cid, "publishedAt": value.get("publishedAt"), **({"media": media} if media else {})})


def _size(value: Any) -> int:
    """Bytes of `value` as JSON the way the client sends it (compact UTF-8)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _fit_body(fields: dict[str, Any], url: str) -> list[str]:
    """Keep the putRecord body within the PDS's JSON limit: `textContent` goes first, then the body's tail."""
    def fits(value: dict[str, Any]) -> bool:
        return _size(value) + BODY_MARGIN <= BODY_MAX

    # a character takes at most 6 bytes of JSON (\u00XX): most posts fit without encoding them
    chars = sum(len(v) for v in fields.values() if isinstance(v, str)) + sum(
        len(t) + 3 for t in fields.get("tags") or [])
    if 6 * chars + 1024 + BODY_MARGIN <= BODY_MAX or fits(fields):
        return []
    kb = f"{(_size(fields) + BODY_MARGIN) / 1000:,.0f} KB"
    limit = f"a PDS takes {BODY_MAX // 1000:,} KB"
    if "markdown" in fields:
        fields.pop("textContent", None)
        if fits(fields):
            return [f"textContent left out: the record would be {kb}, {limit}"]
        key, tail = "markdown", f"\n\n…\n\n[The whole post]({url})\n"
    else:  # content = "none": the plain text is all there is
        key, tail = "textContent", f"\n\n…\n\nThe whole post: {url}"
    text = str(fields.get(key) or "")
    low, high = 0, len(text)
    while low < high:  # the longest head that fits
        mid = (low + high + 1) // 2
        if fits({**fields, key: text[:mid] + tail}):
            low = mid
        else:
            high = mid - 1
    fields[key] = text[:low].rstrip() + tail
    return [f"the record would be {kb}, {limit}: " + ("textContent left out, " if key == "markdown" else "")
            + f"{key} cut after {low:,} of {len(text):,} characters, with a link to the whole post"]


def _path_under(url: str, site: str) -> str | None:
    """`url`'s path below `site` with a leading slash ("/posts/a/"); None when it is elsewhere."""
    if url == site:
        return "/"
    if not url.startswith(site + "/"):
        return None
    return url[len(site):]


def _cut(text: str) -> str:
    if not text:
        return ""
    out = truncate(text, DESCRIPTION_MAX, "graphemes")
    if len(out.encode("utf-8")) > DESCRIPTION_BYTES:
        out = truncate(out, DESCRIPTION_BYTES, "utf8-bytes")
    return out


def _cut_bytes(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def _datetime(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _blob(stored: str) -> Any:
    try:
        return json.loads(stored)["blob"]
    except (ValueError, KeyError, TypeError):
        return stored  # a preview's placeholder


def _bsky_ref(siblings: dict[str, Remote]) -> dict[str, str] | None:
    """The strong ref of the Bluesky post that announces the same post, when there is one."""
    remote = siblings.get("bluesky")
    if remote is None or not remote.id or not str(remote.id).startswith("at://"):
        return None
    cid = remote.extra.get("cid")
    return {"uri": str(remote.id), "cid": str(cid)} if cid else None
