"""Whether a post goes out, and where: drafts, hidden flags, scheduled and expiry dates, `syndicate:` opt-outs."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from syndicate.content.frontmatter import FALSE_WORDS, TRUE_WORDS, lookup
from syndicate.content.permalinks import SiteInfo
from syndicate.content.post import Control, Post
from syndicate.errors import PostError

# Hugo's publishDate/expiryDate and their aliases (https://gohugo.io/configuration/front-matter/#aliases),
# honoured for every generator: a post scheduled or withdrawn this way must not go out early or late.
PUBLISH_KEYS = ("publishdate", "publish_date", "pubdate", "published")
EXPIRY_KEYS = ("expirydate", "expiry_date", "unpublishdate")
HIDDEN_FLAGS = (("unlisted", "unlisted"), ("archived", "archived"), ("secret", "secret"), ("private", "private"),
                ("hidden", "hidden"), ("extra.hide_from_feed", "hidden from feed"), ("headless", "headless bundle"))
_TRUE, _FALSE = TRUE_WORDS, FALSE_WORDS
_DRAFT_DIRS = frozenset({"drafts", "_drafts"})
_HIDDEN_STATUS = frozenset({"private", "unlisted", "archived", "unpublished", "hidden", "trash"})


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, (str, int)) and str(value).strip().lower() in _TRUE


def _falsy(value: Any) -> bool:
    if isinstance(value, bool):
        return not value
    return isinstance(value, (str, int)) and str(value).strip().lower() in _FALSE


def _hidden(post: Post, view: dict[str, Any], info: SiteInfo, rel: Path) -> None:
    """`hidden` for the reasons that do not depend on the clock (expiry is `Post.visible_at`)."""
    status = view.get("status")
    status = status.strip().lower() if isinstance(status, str) else ""
    if _truthy(view.get("draft")) or _truthy(lookup(view, "extra.draft")):
        post.draft, post.hidden = True, "draft"
    elif "published" in view and _falsy(view["published"]):
        # Jekyll https://jekyllrb.com/docs/front-matter/#predefined-global-variables, Gatsby/Next starters
        post.draft, post.hidden = True, "unpublished (published: false)"
    elif status == "draft":  # Ghost-style `status: draft` (Next/Gatsby/MDX starters)
        post.draft, post.hidden = True, "draft (status: draft)"
    elif _DRAFT_DIRS & set(rel.parts[:-1]):
        post.draft, post.hidden = True, "draft (in a drafts folder)"
    else:
        post.hidden = _hidden_reason(view, info, status)


def _hidden_reason(view: dict[str, Any], info: SiteInfo, status: str) -> str | None:
    mapped = info.fields.get("hidden")
    if mapped and _truthy(lookup(view, mapped.lower())):
        return mapped
    for key, reason in HIDDEN_FLAGS:
        if _truthy(lookup(view, key)):
            return reason
    if status in _HIDDEN_STATUS:
        return f"{status} (status: {status})"
    # Eleventy https://www.11ty.dev/docs/permalinks/#permalink-false, https://www.11ty.dev/docs/collections/
    if view.get("permalink") is False:
        return "not published as a page (Eleventy permalink: false)"
    if _truthy(view.get("eleventyexcludefromcollections")):
        return "excluded from collections (Eleventy eleventyExcludeFromCollections)"
    # Hugo https://gohugo.io/content-management/build-options/ (`_build` before v0.123)
    build = view.get("build") or view.get("_build")
    if isinstance(build, dict):
        opts = {str(k).lower(): str(v).lower() for k, v in build.items()}
        if opts.get("render") in ("never", "false"):
            return "not rendered (build.render: never)"
        if opts.get("list") in ("never", "false"):
            return "not listed (build.list: never)"
    return None


def _control(value: Any, path: Path) -> Control:
    if value is None or value is True:
        return Control()
    if value is False:
        return Control(enabled=False)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _FALSE:
            return Control(enabled=False)
        if word in _TRUE:
            return Control()
        return Control(only=_names(value))
    if isinstance(value, list):
        return Control(only=_names(value))
    if not isinstance(value, dict):
        raise PostError(f"{path}: syndicate: expected true/false, a list of targets or a table, got {value!r}")
    control = Control(enabled=not _falsy(value.get("enabled", True)))
    for key, item in value.items():
        if key == "enabled":
            continue
        if key in ("skip", "except"):
            control.skip.extend(_names(item))
        elif key in ("only", "targets"):
            control.only = _names(item)
        elif isinstance(item, dict):
            control.overrides[str(key)] = dict(item)
        elif item is False:
            control.skip.append(str(key))
        elif item is not True:
            raise PostError(f"{path}: syndicate.{key}: expected a table of overrides or true/false, got {item!r}")
    return control


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in re.split(r"[,\s]+", value.strip()) if v]
    if isinstance(value, list):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value)]
