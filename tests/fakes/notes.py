"""A fake micro-posting platform for the engine's ability tests: `notes` and `hook`.

`POST /notes` with `{"text", "reply_to"}` stores a note; its answer carries
the note's id unless the server runs as a webhook (`returns_id=False`, like
Slack's incoming webhooks: "ok" and nothing else). `PUT /notes/{id}` replaces the text;
`DELETE /notes/{id}`.
Texts over `max_length` characters are refused (400), as a real platform
would; a bearer token is required.
"""
from __future__ import annotations

import itertools
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

TOKEN = "notes-test-token"


class FakeNotes(FakeServer):
    def __init__(self, *, returns_id: bool = True, max_length: int = 50, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.returns_id = returns_id
        self.max_length = max_length
        self.notes: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def handle(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Reply(401, {"error": "bad token"})
        if request.method == "POST" and request.path == "/notes":
            body = request.json()
            text = body.get("text") if isinstance(body, dict) else None
            if not isinstance(text, str) or not text:
                return Reply(400, {"error": "text is required"})
            if len(text) > self.max_length:
                return Reply(400, {"error": f"text is {len(text)} characters, over {self.max_length}"})
            reply_to = body.get("reply_to")
            if reply_to is not None and reply_to not in self.notes:
                return Reply(400, {"error": f"no note {reply_to} to reply to"})
            note_id = str(next(self._ids))
            self.notes[note_id] = {"id": note_id, "text": text, "reply_to": reply_to}
            return Reply(200, {"id": note_id, "url": f"{self.url}/n/{note_id}"} if self.returns_id else {"ok": True})
        if request.method == "PUT" and request.path.startswith("/notes/"):
            note_id = request.path.rsplit("/", 1)[1]
            body = request.json()
            text = body.get("text") if isinstance(body, dict) else None
            if note_id not in self.notes:
                return Reply(404, {"error": "no such note"})
            if not isinstance(text, str) or not text or len(text) > self.max_length:
                return Reply(400, {"error": "text is required, within max_length"})
            self.notes[note_id]["text"] = text
            return Reply(200, {"id": note_id, "url": f"{self.url}/n/{note_id}"})
        if request.method == "DELETE" and request.path.startswith("/notes/"):
            note_id = request.path.rsplit("/", 1)[1]
            if self.notes.pop(note_id, None) is None:
                return Reply(404, {"error": "no such note"})
            return Reply(200, {})
        return Reply(404, {"error": "no such route"})
