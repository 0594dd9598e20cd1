"""standard.site's publication record and the repo's public reads: the base of `StandardSite`.

A document names its publication by URI, so the publication is looked up first (listRecords, public:
a preview never logs in) and written after the document, under a record key derived from its URL
(`publication_rkey`), so that every worker and run writes the same one. See connectors.standard_site.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from connectors.atproto import GET_RECORD, LIST_RECORDS, PUT_RECORD, AtprotoSession, rkey_of, tid_from_key
from syndicate.contract import Facts, Permanent, Request, Transient

if TYPE_CHECKING:
    import httpx

DOCUMENT = "site.standard.document"
PUBLICATION = "site.standard.publication"
LIST_PAGES = 10  # pages of 100 publications read to find this site's
RESOLVE_HANDLE = "/xrpc/com.atproto.identity.resolveHandle"


class StandardSiteRepo(AtprotoSession):
    """The account's repo as standard.site uses it: its DID, its publications, its records (public reads)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._publications: dict[str, dict[str, Any]] = {}  # site URL -> {"uri", "cid", "exists", "record"}

    def _repo(self, facts: Facts | None) -> str:
        """The repo's DID when known (a session said it, or the facts), else `identifier` as configured."""
        return self.did or str((facts or {}).get("did") or "") or str(self.option("identifier"))

    def _site_uri(self, site: str, facts: Facts | None) -> str:
        known = self._publications.get(site) or known_publication(facts, site)
        if known is not None:
            return str(known["uri"])
        return f"at://{self._repo(facts)}/{PUBLICATION}/{publication_rkey(site)}"

    def _publication_record(self, site: str) -> dict[str, Any]:
        record: dict[str, Any] = {"$type": PUBLICATION, "url": site,
                                  "name": str(self.option("publication_name") or urlsplit(site).hostname or site)}
        if self.option("publication_description"):
            record["description"] = str(self.option("publication_description"))
        return record

    def _publication_request(self, site: str, facts: Facts | None) -> Request:
        body = {"repo": self._repo(facts), "collection": PUBLICATION, "rkey": publication_rkey(site),
                "record": self._publication_record(site)}
        return Request("POST", self.base + PUT_RECORD, json=body, kind="create")

    def fetch_facts(self) -> Facts | None:
        """The repo's DID and its publications (url -> uri): so that `preview` shows what `create` sends.

        Public reads only: a preview never logs in (createSession is limited to 30 per 5 minutes)."""
        did = self._did()
        return {"did": did, "publications": self._list_publications(did)}

    def _did(self) -> str:
        """The repo's DID: the session's, else the identifier resolved (no login: facts never log in)."""
        if self.did:
            return self.did
        identifier = str(self.option("identifier"))
        if identifier.startswith("did:"):
            self.did = identifier
            return identifier
        request = _Public("GET", self.base + RESOLVE_HANDLE, params={"handle": identifier})
        did = _json(self.send(request), self.name).get("did")
        if not isinstance(did, str) or not did.startswith("did:"):
            raise Transient(f"{self.name}: resolveHandle answered without a DID")
        self.did = did
        return did

    def _transmit(self, request: Request) -> httpx.Response:
        if not isinstance(request, _Public):
            return super()._transmit(request)
        import httpx

        # a public read (a PDS serves records and handles to anyone): no session, so no login
        try:
            return self.http.request(request.method, request.url, params=request.params)
        except httpx.TransportError as exc:
            raise Transient(f"{self.name}: request failed ({type(exc).__name__})") from None

    def _list_publications(self, did: str) -> dict[str, dict[str, Any]]:
        """This repo's publications by URL (without a trailing slash): ours (its derived key) wins a tie."""
        found: dict[str, dict[str, Any]] = {}
        cursor: str | None = None
        for _ in range(LIST_PAGES):
            params: dict[str, Any] = {"repo": did, "collection": PUBLICATION, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            body = _json(self.send(_Public("GET", self.base + LIST_RECORDS, params=params)), self.name)
            records = body.get("records") if isinstance(body.get("records"), list) else []
            for item in records or []:
                if not isinstance(item, dict) or not isinstance(item.get("value"), dict):
                    continue
                url = item["value"].get("url")
                if not isinstance(url, str) or not item.get("uri"):
                    continue
                site = no_slash(url)
                entry = {"uri": str(item["uri"]), "cid": str(item.get("cid") or ""), "exists": True,
                         "record": item["value"]}
                if site not in found or rkey_of(entry["uri"]) == publication_rkey(site):
                    found[site] = entry
            cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if not cursor or not records:
                break
        return found

    def _publication(self, site: str) -> dict[str, Any]:
        """This site's publication as the repo holds it now (read once per process)."""
        known = self._publications.get(site)
        if known is None:
            did = self._did()
            known = self._list_publications(did).get(site) or {
                "uri": f"at://{did}/{PUBLICATION}/{publication_rkey(site)}", "exists": False}
            self._publications[site] = known
        return known

    def _ensure_publication(self, site: str) -> None:
        """Write the publication record when it is missing, or when its name or description changed (ours only)."""
        known = self._publication(site)
        wanted = self._publication_record(site)
        ours = rkey_of(str(known["uri"])) == publication_rkey(site)
        if known.get("exists") and (not ours or same_record(known.get("record") or {}, wanted)):
            return
        response = self.send(self._publication_request(site, None))
        body = _json(response, self.name)
        self._publications[site] = {"uri": str(body.get("uri") or known["uri"]), "cid": str(body.get("cid") or ""),
                                    "exists": True, "record": wanted}

    def _get(self, rkey: str) -> tuple[str, dict[str, Any]] | None:
        params = {"repo": self._did(), "collection": DOCUMENT, "rkey": rkey}
        try:
            response = self.send(_Public("GET", self.base + GET_RECORD, params=params))
        except Permanent as exc:
            if "RecordNotFound" in str(exc):
                return None
            raise
        body = _json(response, self.name)
        value = body.get("value")
        if not isinstance(value, dict) or not body.get("cid"):
            raise Transient(f"{self.name}: unreadable record")
        return str(body["cid"]), value


class _Public(Request):
    """A read every PDS answers without a session."""


def publication_rkey(site: str) -> str:
    """The publication's record key: a TID derived from its URL, the same for every worker and run."""
    return tid_from_key(PUBLICATION + "|" + no_slash(site))


def no_slash(url: str) -> str:
    return url.strip().rstrip("/")


def known_publication(facts: Facts | None, site: str) -> dict[str, Any] | None:
    pubs = (facts or {}).get("publications")
    entry = pubs.get(site) if isinstance(pubs, dict) else None
    return entry if isinstance(entry, dict) and entry.get("uri") else None


def same_record(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return json.dumps(a, sort_keys=True, ensure_ascii=False) == json.dumps(b, sort_keys=True, ensure_ascii=False)


def _json(response: httpx.Response, name: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise Transient(f"{name}: unreadable answer") from None
    return body if isinstance(body, dict) else {}
