"""Two test-only connectors on the fake notes platform, declaring what Medium-, Slack- and
thread-style platforms declare, so the engine's handling of each ability is tested once."""
from __future__ import annotations

from typing import Any, ClassVar

import httpx

from syndicate.auth import Bearer
from syndicate.config import Secret, TargetOptions
from syndicate.content.post import Post
from syndicate.contract import (
    Abilities,
    Connector,
    Draft,
    Facts,
    Limits,
    Part,
    Remote,
    Request,
    SendContext,
    Template,
    TextLimit,
)


class NotesOptions(TargetOptions):
    base_url: str
    token: Secret
    thread: bool = False
    max_thread: int = 4


class Notes(Connector):
    """Cannot find, cannot edit, can delete, can thread (text ≤ 50 characters)."""

    type = "notes"
    options = NotesOptions
    auth = Bearer("token")
    limits = Limits(text=TextLimit(50, "characters"))
    abilities = Abilities(can_update=False, delete="delete", can_find=False, threads=True,
                          find_hint="look at the notes list")

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        template = Template("{title}\n\n{excerpt}\n\n{url}", {"title": post.title, "excerpt": post.excerpt,
                                                             "url": post.url})
        return Draft(self.type, parts=[Part(template=template)])

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        body: dict[str, Any] = {"text": draft.parts[ctx.part].text}
        if ctx.thread:
            body["reply_to"] = ctx.thread[-1].id
        return Request("POST", self.base + "/notes", json=body, idempotent=False)

    def build_delete(self, remote: Remote) -> Request:
        return Request("DELETE", f"{self.base}/notes/{remote.id}")

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        body = response.json()
        return Remote(str(body["id"]), body.get("url"))


class Hook(Notes):
    """A webhook: answers with no id, so it can neither edit nor delete (Slack)."""

    type = "hook"
    abilities = Abilities(can_update=False, delete="none", can_find=False, returns_id=False,
                          find_hint="look at the channel")

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        return Remote(None)


class Steps(Notes):
    """A create of two steps (Threads' container, then publish): the first step is kept in the intent
    (`ctx.record`), and a retry under the same key resumes from it (`ctx.progress`)."""

    type = "steps"
    abilities = Abilities(can_update=False, delete="delete", can_find=True, threads=True,
                          find_hint="look at the notes list",
                          lost_create_settle=0)  # the kept step settles a lost create (as Threads' container)
    lose_after_step: ClassVar[set[str]] = set()  # keys whose first try is lost after its first step
    seen: ClassVar[list[dict[str, Any]]] = []  # the progress each create found

    def create(self, draft: Draft, key: str, ctx: SendContext | None = None) -> Remote:
        from syndicate.errors import OutcomeUnknown

        ctx = ctx or SendContext()
        type(self).seen.append(dict(ctx.progress))
        if not ctx.progress and ctx.record is not None:
            ctx.record({"step": 1, "key": key})
            if key in self.lose_after_step:
                self.lose_after_step.discard(key)
                raise OutcomeUnknown(f"{self.name}: response lost after step 1")
        return super().create(draft, key, ctx)


class Staged(Notes):
    """A create that takes two requests (a draft note, then its publication), both shown by `preview`."""

    type = "staged"

    def preview_create(self, draft: Draft, key: str, ctx: SendContext) -> list[Request]:
        return [self.build_create(draft, key, ctx),
                Request("POST", self.base + "/notes/<draft>/publish", params={"key": key})]
