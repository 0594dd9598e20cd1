"""Slack's errors onto the error classes: the Web API's `ok: false` in an HTTP 200, and a webhook's codes.

Web API (docs.slack.dev/reference/methods/chat.postMessage#errors, chat.update, chat.delete, and the
errors every method shares): `{"ok": false, "error": "channel_not_found"}` with HTTP 200;
`invalid_blocks` adds `response_metadata.messages`, `missing_scope` adds `needed`. Rate limited:
HTTP 429 with Retry-After (docs.slack.dev/apis/web-api/rate-limits).

Incoming webhooks (api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks and
the webhooks page): a plain-text body, `invalid_payload` / `user_not_found` (400), `action_prohibited`
(403), `channel_not_found` (404), `channel_is_archived` (410), `rollup_error` (500); a removed or wrong
webhook answers `no_service` (404), `invalid_token` (403), `no_team` or `team_disabled`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.slack_text import ALT_MAX, BLOCKS_MAX, HEADER_MAX, SECTION_MAX, TEXT_MAX
from syndicate.contract import (
    AuthFailed,
    NotFound,
    Permanent,
    RateLimited,
    Transient,
    raise_for_status,
    retry_after_from,
)

if TYPE_CHECKING:
    import httpx

_AUTH = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "no_permission",
         "missing_scope", "not_allowed_token_type", "org_login_required", "two_factor_setup_required",
         "team_access_not_granted", "invalid_token", "no_service", "no_service_id", "no_team", "team_disabled"}
_RATE = {"ratelimited", "rate_limited"}
_TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "rollup_error",
              "team_added_to_org"}
_NOT_FOUND = {"message_not_found"}
_BLOCK_LIMITS = (f"at most {BLOCKS_MAX} blocks; header ≤ {HEADER_MAX}, section ≤ {SECTION_MAX}, "
                 f"alt_text ≤ {ALT_MAX} characters")
_WHAT = {
    "channel_not_found": "the channel does not exist or the app cannot see it: set `channel` to its id (C…), "
                         "and for a private channel invite the app",
    "not_in_channel": "the bot is not a member of the channel: `/invite @YourApp` in it (or add chat:write.public)",
    "is_archived": "the channel is archived",
    "channel_is_archived": "the channel is archived",
    "action_prohibited": "the workspace forbids this webhook to post here",
    "posting_to_general_channel_denied": "only admins may post in #general",
    "restricted_action": "a workspace setting stops the app posting in this channel",
    "msg_too_long": f"the message text is over {TEXT_MAX:,} characters",
    "invalid_blocks": f"Slack refused the blocks ({_BLOCK_LIMITS})",
    "invalid_blocks_format": "Slack could not read the blocks (not an array of block objects)",
    "invalid_payload": f"Slack could not read the message ({_BLOCK_LIMITS})",
    "no_text": "the message has neither text nor blocks",
    "cant_update_message": "the message was not posted by this app, so it cannot be edited",
    "cant_delete_message": "the message was not posted by this app, so it cannot be deleted",
    "edit_window_closed": "the workspace's edit window for this message has passed",
    "compliance_exports_prevent_deletion": "the workspace's compliance exports keep every message",
    "too_many_attachments": "too many attachments",
}
_AUTH_WHAT = {
    "missing_scope": "the token lacks a scope",
    "not_authed": "no token was sent",
    "token_revoked": "the token was revoked (the app was uninstalled?): install it again and set a new bot_token",
    "token_expired": "the token expired: set a new bot_token",
    "invalid_auth": "the token was refused: check bot_token",
    "account_inactive": "the token's user or workspace was deleted",
}
_WEBHOOK_CODES = {"invalid_token", "no_service", "no_service_id", "no_team", "team_disabled"}
_WEBHOOK_GONE = "the webhook was removed or its URL is wrong: make a new one and set webhook_url"


def check_response(response: httpx.Response, name: str, *, webhook: bool) -> None:
    """Raise the error class for a Slack answer; return when it succeeded."""
    status = response.status_code
    body = _json(response)
    if status == 429:
        code = str(body.get("error") or "") if body is not None else response.text.strip()[:40]
        raise RateLimited(f"{name}: HTTP 429: {code or 'rate limited'}", retry_after_from(response))
    if body is not None and "ok" in body:
        if body.get("ok") is True and status < 400:
            return
        _api_error(response, body, name)
    if webhook and status < 400 and response.text.strip() == "ok":
        return
    code = response.text.strip()[:80] if body is None else str(body.get("error") or "")
    if code:
        _raise(name, f"HTTP {status}: {code}", code, None, webhook=webhook, status=status)
    raise_for_status(response, name)
    if webhook:
        raise Transient(f"{name}: HTTP {status}: the webhook answered {response.text.strip()[:40]!r}, not ok")


def _json(response: httpx.Response) -> dict[str, Any] | None:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _api_error(response: httpx.Response, body: dict[str, Any], name: str) -> None:
    code = str(body.get("error") or "unknown_error")
    detail: str | None = None
    if code == "missing_scope" and body.get("needed"):
        detail = f"needs {body['needed']}"
    messages = (body.get("response_metadata") or {}).get("messages") if isinstance(
        body.get("response_metadata"), dict) else None
    if isinstance(messages, list) and messages:
        detail = "; ".join(str(m) for m in messages[:3])[:300]
    if response.status_code >= 500 and code == "unknown_error":
        raise Transient(f"{name}: HTTP {response.status_code}")
    _raise(name, code, code, detail, webhook=False, status=response.status_code, response=response)


def _raise(name: str, said: str, code: str, detail: str | None, *, webhook: bool, status: int,
           response: httpx.Response | None = None) -> None:
    what = f"{name}: {said}" + (f" ({detail})" if detail else "")
    if code in _RATE:
        raise RateLimited(what, retry_after_from(response) if response is not None else None)
    if code in _AUTH:
        why = _WEBHOOK_GONE if webhook or code in _WEBHOOK_CODES else _AUTH_WHAT.get(code)
        raise AuthFailed(f"{what}: {why}" if why else what)
    if code in _NOT_FOUND:
        raise NotFound(f"{what}: the message is gone")
    if code in _TRANSIENT or status >= 500 or status in (408, 425):
        raise Transient(what)
    raise Permanent(f"{what}: {_WHAT[code]}" if code in _WHAT else what)
