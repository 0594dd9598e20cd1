"""A fake PDS for standard.site: any collection, records checked against the lexicons the fake knows.

On top of tests/fakes/bluesky.py (sessions, expired tokens, blobs, 429 headers, lost writes) it
does what PDS 0.5.35 does for records of any collection (../shared/peers/bluesky-pds/README.md and
com.atproto.repo.putRecord's lexicon): a record of a known lexicon is validated (unless
`validate: false`), one of an unknown lexicon is stored with `validationStatus: "unknown"`;
`swapRecord` that is not the current CID is 400 `InvalidSwap`; an identical put is a no-op;
`listRecords` pages by `cursor`; a putRecord body over 1,000,000 bytes (other calls: 150 KB) is 413 `PayloadTooLarge`; `getSession` and `resolveHandle` answer the DID (reads need no session). The standard.site lexicons (and
markpub.at's Markdown) are in tests/fakes/lexicons/, with the strictest published limits; a
record key of a `key: tid` lexicon must be a TID; a `site` that is an at-uri must name a
publication of this repo by the time a document is read back (`dangling`).
"""
from __future__ import annotations

from typing import Any

from tests.fakes.bluesky import DID, HANDLE, FakeBluesky, _error, cid_of
from tests.fakes.bluesky_lexicon import _FORMATS, check, definition, facet_problems
from tests.fakes.server import Reply, Request

DOCUMENT = "site.standard.document"
PUBLICATION = "site.standard.publication"
JSON_LIMIT = 150 * 1024  # @atproto/pds: jsonLimit of an XRPC procedure
PUT_LIMIT = 1_000_000  # ... but putRecord's own (api/com/atproto/repo/putRecord.js)
KNOWN = ("app.bsky.feed.post", DOCUMENT, PUBLICATION)


class FakeStandardSite(FakeBluesky):
    def __init__(self, password: str = "app-pass-1234", **kwargs: Any) -> None:
        super().__init__(password, **kwargs)
        self.repo: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}  # (collection, rkey) -> (cid, value)

    def of(self, collection: str) -> dict[str, dict[str, Any]]:
        return {rkey: value for (c, rkey), (_cid, value) in self.repo.items() if c == collection}

    @property
    def documents(self) -> dict[str, dict[str, Any]]:
        return self.of(DOCUMENT)

    @property
    def publications(self) -> dict[str, dict[str, Any]]:
        return self.of(PUBLICATION)

    def dangling(self) -> list[str]:
        """Documents whose `site` names a publication this repo does not hold."""
        held = {f"at://{DID}/{PUBLICATION}/{rkey}" for rkey in self.publications}
        return [rkey for rkey, doc in self.documents.items()
                if str(doc.get("site", "")).startswith("at://") and doc["site"] not in held]

    # --- dispatch ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        method = request.path.removeprefix("/xrpc/")
        limit = PUT_LIMIT if method == "com.atproto.repo.putRecord" else JSON_LIMIT
        if request.method == "POST" and "json" in request.headers.get("content-type", "") \
                and len(request.body) > limit:
            return _error(413, "PayloadTooLarge", "request entity too large")
        if method == "com.atproto.repo.getRecord":
            key = (request.param("collection") or "", request.param("rkey") or "")
            if request.param("repo") not in (HANDLE, DID) or key not in self.repo:
                return _error(400, "RecordNotFound", f"Could not locate record: at://{DID}/{key[0]}/{key[1]}")
            cid, value = self.repo[key]
            return Reply(200, {"uri": f"at://{DID}/{key[0]}/{key[1]}", "cid": cid, "value": value})
        if method == "com.atproto.identity.resolveHandle":
            if request.param("handle") != HANDLE:
                return _error(400, "InvalidRequest", "Unable to resolve handle")
            return Reply(200, {"did": DID})
        if method == "com.atproto.repo.listRecords":
            return self._list(request)
        if method in ("com.atproto.server.createSession", "com.atproto.server.refreshSession",
                      "com.atproto.repo.uploadBlob"):
            return super().handle(request)
        refused = self._authorized(request)
        if refused is not None:
            return refused
        if method == "com.atproto.server.getSession":
            return Reply(200, {"handle": HANDLE, "did": DID, "active": True})
        if method == "com.atproto.repo.putRecord":
            return self._put_any(request.json())
        if method == "com.atproto.repo.deleteRecord":
            body = request.json()
            problems = check("com.atproto.repo.deleteRecord", body)
            if problems:
                return _error(400, "InvalidRequest", "Input/" + problems[0])
            if body["repo"] not in (HANDLE, DID):
                return _error(400, "InvalidRequest", "Input/repo: not this account")
            if self.repo.pop((str(body["collection"]), str(body["rkey"])), None) is not None:
                self.writes += 1
            return Reply(200, {})  # a missing record too
        return _error(501, "MethodNotImplemented", f"Method Not Implemented: {method}")

    def _list(self, request: Request) -> Reply:
        problems = check("com.atproto.repo.listRecords",
                         {k: v[0] for k, v in request.query.items()} | {"limit": int(request.param("limit") or 50)})
        if problems:
            return _error(400, "InvalidRequest", "Params/" + problems[0])
        if request.param("repo") not in (HANDLE, DID):
            return _error(400, "InvalidRequest", "Could not find repo")
        collection = request.param("collection") or ""
        limit = int(request.param("limit") or 50)
        if not 1 <= limit <= 100:
            return _error(400, "InvalidRequest", "limit must be between 1 and 100")
        after = request.param("cursor") or ""
        rkeys = sorted((r for (c, r) in self.repo if c == collection and (not after or r < after)), reverse=True)
        page = rkeys[:limit]
        out: dict[str, Any] = {"records": [
            {"uri": f"at://{DID}/{collection}/{r}", "cid": self.repo[(collection, r)][0],
             "value": self.repo[(collection, r)][1]} for r in page]}
        if len(rkeys) > limit:
            out["cursor"] = page[-1]
        return Reply(200, out)

    def _put_any(self, body: Any) -> Reply:
        problems = check("com.atproto.repo.putRecord", body)
        if problems:
            return _error(400, "InvalidRequest", "Input/" + problems[0])
        if body["repo"] not in (HANDLE, DID):
            return _error(400, "InvalidRequest", "Input/repo: not this account")
        collection, rkey, record = str(body["collection"]), str(body["rkey"]), body["record"]
        if not _FORMATS["record-key"].match(rkey) or rkey in (".", ".."):
            return _error(400, "InvalidRequest", "Input/rkey must be a valid Record Key")
        if record.get("$type", collection) != collection:
            return _error(400, "InvalidRequest", f"Invalid $type: expected {collection}, got {record.get('$type')}")
        status = "unknown"
        if collection in KNOWN and body.get("validate") is not False:
            problems = check(collection, record) + self._blobs_of(collection, record)
            if definition(collection)[1].get("key") == "tid" and not _FORMATS["tid"].match(rkey):
                problems.append(f"Invalid record key for {collection}: must be a TID")
            if problems:
                return _error(400, "InvalidRequest",
                              f"Invalid {collection} record: " + problems[0].replace("$", "$.record", 1))
            status = "valid"
        current = self.repo.get((collection, rkey))
        swap = body.get("swapRecord")
        if "swapRecord" in body and (current[0] if current else None) != swap:
            return _error(400, "InvalidSwap", f"Record was at {current[0] if current else 'null'}")
        uri, cid = f"at://{DID}/{collection}/{rkey}", cid_of(record)
        if current is not None and current[0] == cid:
            return Reply(200, {"uri": uri, "cid": cid, "validationStatus": status})  # no-op: no commit
        self.repo[(collection, rkey)] = (cid, record)
        self.writes += 1
        return Reply(200, {"uri": uri, "cid": cid, "commit": {"cid": cid_of([rkey, cid]), "rev": str(self.writes)},
                           "validationStatus": status})

    def _blobs_of(self, collection: str, record: dict[str, Any]) -> list[str]:
        if collection == "app.bsky.feed.post":
            return facet_problems(record) + self._blob_problems(record)
        out = []
        for name in ("coverImage", "icon"):
            ref = record.get(name)
            if not isinstance(ref, dict):
                continue
            link = (ref.get("ref") or {}).get("$link")
            stored = self.blobs.get(str(link))
            if stored is None:
                out.append(f"Could not find blob: {link}")
            elif (ref.get("mimeType"), ref.get("size")) != stored:
                out.append(f"blob {link} does not match its upload")
        return out

    def edit_elsewhere(self, rkey: str, **changes: Any) -> None:
        """Another app rewrites a document (a new CID)."""
        with self.lock:
            cid, value = self.repo[(DOCUMENT, rkey)]
            value = {**value, **changes}
            self.repo[(DOCUMENT, rkey)] = (cid_of(value), value)
