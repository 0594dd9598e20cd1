"""The engine's side of declared limits: texts fitted, threads split, tags shaped.

A connector declares `Limits` (how long, how counted, which tags) and leaves
its status text as a `Template`; `fit_draft` fills every part so that it fits,
the same way for every platform. No connector truncates by itself.

Tag shapes (PLATFORMS.md §1 (d), §6 (d)): "alnum" is lowercase ASCII letters
and digits (dev.to), "hashtag" letters, digits and underscores, not digits
only (Mastodon, Bluesky), "name" the tag as written (blogs).
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import lru_cache
from typing import Any

import regex

from syndicate.content.templates import fit_template, template_fields
from syndicate.content.text import count, truncate
from syndicate.contract import Draft, Limits, Part, TagRules, Template, TextLimit
from syndicate.errors import RenderError

# Names whose punctuation carries the meaning; mapped before stripping.
SPECIAL_TAGS = {
    "c++": "cpp",
    "c#": "csharp",
    "f#": "fsharp",
    ".net": "dotnet",
    "asp.net": "aspnet",
    "objective-c": "objectivec",
}

_NOT_ASCII_ALNUM = regex.compile(r"[^a-z0-9]+")
_WORDS = regex.compile(r"[\p{L}\p{M}\p{Nd}_]+")
_HAS_LETTER = regex.compile(r"[\p{L}_]")
_BREAKS = (regex.compile(r"\n\s*\n"), regex.compile(r"(?<=[.!?。！？])\s+"), regex.compile(r"\s+"))


# --- tags -------------------------------------------------------------------------------


def _special(name: str) -> str | None:
    return SPECIAL_TAGS.get(name.strip().casefold())


def alnum_tag(name: str) -> str:
    """`Machine Learning` → `machinelearning`, `C++` → `cpp`, `Café` → `cafe`; may return ""."""
    special = _special(name)
    if special:
        return special
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _NOT_ASCII_ALNUM.sub("", folded.lower())


def hashtag(name: str) -> str | None:
    """`Machine Learning` → `MachineLearning`, `python` → `python`; None if no valid tag remains."""
    special = _special(name)
    if special:
        return special
    words = _WORDS.findall(unicodedata.normalize("NFC", name))
    if not words:
        return None
    tag = words[0] if len(words) == 1 else "".join(w[:1].upper() + w[1:] for w in words)
    if not _HAS_LETTER.search(tag) or unicodedata.category(tag[0]).startswith("M"):
        return None
    return tag


def shape_tags(names: Iterable[str], rules: TagRules) -> tuple[list[str], list[str]]:
    """Tags in the platform's shape, deduplicated, at most `rules.max`; and the warnings."""
    given = tuple(str(n) for n in names if str(n).strip())
    # every target of a post, and most posts of a site, shape the same few names
    out, warnings = _shaped_few(given, rules) if len(given) <= 32 else _shaped(given, rules)
    return list(out), list(warnings)


def _shaped(given: tuple[str, ...], rules: TagRules) -> tuple[tuple[str, ...], tuple[str, ...]]:
    out: list[str] = []
    seen: set[str] = set()
    dropped: list[str] = []
    for name in given:
        tag: str | None
        if rules.style == "alnum":
            tag = alnum_tag(name) or None
        elif rules.style == "hashtag":
            tag = hashtag(name)
        else:
            tag = " ".join(name.split())
        if tag and rules.max_length is not None and len(tag) > rules.max_length:
            tag = tag[: rules.max_length].rstrip()
        if not tag:
            dropped.append(name)
            continue
        if tag.casefold() in seen:
            continue
        seen.add(tag.casefold())
        out.append(tag)
    warnings = []
    if dropped:
        warnings.append("tags with nothing usable left out: " + listed(repr(d) for d in dropped))
    if rules.max is not None and len(out) > rules.max:
        warnings.append(f"{len(out):,} tags, the platform keeps {rules.max}: {listed(out[:rules.max])}; "
                        f"left out: {listed(out[rules.max:])}")
        out = out[: rules.max]
    return tuple(out), tuple(warnings)


_shaped_few = lru_cache(maxsize=2048)(_shaped)


def listed(items: Iterable[str], most: int = 10) -> str:
    """"a, b, c" for a warning: at most `most` items and how many more there are ("(+9,996 more)")."""
    names = list(items)
    head = ", ".join(names[:most])
    return head if len(names) <= most else f"{head} (+{len(names) - most:,} more)"


def title_of(title: str, limits: Limits, over: Mapping[str, Any] | None = None) -> tuple[str, list[str]]:
    """The post's title (or the per-post override), on one line, shortened to `limits.title_max`."""
    text = " ".join(str((over or {}).get("title") or title).split())
    if limits.title_max is not None and len(text) > limits.title_max:
        return truncate(text, limits.title_max, "characters"), [f"title shortened to {limits.title_max} characters"]
    return text, []


def tag_names(post_tags: Iterable[str], over: Mapping[str, Any] | None = None) -> list[str]:
    """The names to make tags of: a per-post `tags` override (a list, or a comma-separated string), else
    the post's tags then its categories."""
    raw = (over or {}).get("tags")
    if isinstance(raw, str):
        return [t for t in raw.split(",") if t.strip()]
    if isinstance(raw, (list, tuple)):
        return [str(t) for t in raw]
    if raw is not None:
        return [str(raw)]
    return [str(t) for t in post_tags]


def hashtags(names: Iterable[str], rules: TagRules | None = None) -> list[str]:
    """`#Tag` strings, deduplicated case-insensitively, in order."""
    tags, _ = shape_tags(names, rules or TagRules(style="hashtag"))
    return ["#" + t for t in tags]


# --- text ---------------------------------------------------------------------------------


def _units(text: str, limit: TextLimit) -> int:
    return count(text, limit.counting, limit.url_weight, mentions=limit.mentions_local) if text else 0


def fits(text: str, limit: TextLimit) -> bool:
    if _units(text, limit) > limit.max:
        return False
    return limit.max_bytes is None or len(text.encode("utf-8")) <= limit.max_bytes


def fit_text(template: Template, limit: TextLimit) -> str:
    """The template filled and shortened to fit `limit` (and its byte limit); the URL stays whole."""
    budget = min(limit.max, template.max or limit.max) - template.reserve
    if budget <= 0:
        raise RenderError(f"no room left for the text ({template.reserve} of {limit.max} taken)")
    for _ in range(8):
        try:
            text = fit_template(template.template, template.values, budget, limit.counting, limit.url_weight,
                                template.shrink, mentions=limit.mentions_local)
        except (ValueError, KeyError, IndexError) as exc:
            raise RenderError(f"cannot fit the text: {exc}") from None
        if limit.max_bytes is None:
            return text
        size = len(text.encode("utf-8"))
        if size <= limit.max_bytes:
            return text
        # over the byte limit: shrink the unit budget in proportion and fit again
        budget = max(1, int(budget * limit.max_bytes / size) - 1)
    raise RenderError(f"cannot fit the text in {limit.max_bytes} bytes")


def checked_template(value: str, allowed: frozenset[str], required: str = "url") -> str:
    """A status template as an option validator takes it: well formed, only `allowed` fields, `{url}` in it."""
    try:
        names = set(template_fields(value))
    except ValueError as exc:
        raise ValueError(f"malformed template: {exc}") from None
    if not names <= allowed or required not in names:
        raise ValueError(f"must contain {{{required}}} and use only " + ", ".join("{" + n + "}" for n in sorted(allowed)))
    return value


def fill(template: Template) -> str:
    """The template filled with nothing shortened."""
    return fit_template(template.template, template.values, 10**9, "characters")


def split_thread(text: str, limit: TextLimit, max_parts: int) -> list[str]:
    """`text` cut into at most `max_parts` posts that each fit; the last is shortened if need be."""
    parts: list[str] = []
    rest = text.strip()
    while rest and len(parts) < max_parts - 1:
        if fits(rest, limit):
            break
        cut = _cut(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].strip()
    if rest:
        if not fits(rest, limit):
            rest = truncate(rest, limit.max, limit.counting, limit.url_weight, mentions=limit.mentions_local)
            while limit.max_bytes is not None and len(rest.encode("utf-8")) > limit.max_bytes:
                rest = truncate(rest, max(1, _units(rest, limit) - 5), limit.counting, limit.url_weight)
        parts.append(rest)
    return parts


def _cut(text: str, limit: TextLimit) -> int:
    """Where to end the next post: the last paragraph, sentence or word break that fits."""
    for pattern in _BREAKS:
        best = 0
        for m in pattern.finditer(text):
            if fits(text[: m.start()], limit):
                best = m.end()
            else:
                break
        if best:
            return best
    shortened = truncate(text, limit.max, limit.counting, limit.url_weight, ellipsis="")
    return max(1, len(shortened))


def fit_draft(draft: Draft, limits: Limits, *, thread: int = 1) -> Draft:
    """Every templated part filled to fit `limits.text`; with `thread` > 1, a long text becomes a thread.

    The first post of a thread keeps the URL and the card (its media); the
    following posts carry the rest of the text.
    """
    limit = limits.text
    parts: list[Part] = []
    notes: list[str] = []
    for part in draft.parts:
        if part.template is None or limit is None:
            parts.append(part if part.text is not None or part.template is None
                         else replace(part, text=fill(part.template)))
            continue
        full = fill(part.template)
        if thread > 1 and not fits(full, replace(limit, max=limit.max - part.template.reserve)):
            pieces = split_thread(full, replace(limit, max=limit.max - part.template.reserve), thread)
            parts.append(replace(part, text=pieces[0]))
            parts.extend(Part(text=p, fields=dict(part.fields)) for p in pieces[1:])
            if " ".join(" ".join(pieces).split()) != " ".join(full.split()):
                notes.append(f"text cut to fit a thread of {thread} posts of {limit.max} {_unit(limit)}")
            continue
        text = fit_text(part.template, limit)
        parts.append(Part(text, part.template, part.media, part.fields))  # replace(part, text=text), built directly
        if text != full:
            notes.append(_cut_note(part.template, text, limit))
    # replace(draft, parts=..., warnings=...), built directly: a draft per target and post (tests/test_fastpaths.py)
    return Draft(draft.target_type, draft.fields, parts, draft.media, [*draft.warnings, *dict.fromkeys(notes)])


def _unit(limit: TextLimit) -> str:
    return {"graphemes": "characters", "x-weighted": "weighted characters", "utf8-bytes": "bytes",
            "emoji-bytes": "characters (an emoji as its UTF-8 bytes)", "utf16": "UTF-16 code units"}.get(
        limit.counting, limit.counting)


def _cut_note(template: Template, text: str, limit: TextLimit) -> str:
    """What a fitted text says of its cut: the limit, and which fields were shortened or left out."""
    cut = [name for name in template.shrink if (template.values.get(name) or "").strip()
           and template.values[name].strip() not in text]
    most = min(limit.max, template.max or limit.max)
    size = f"{most} {_unit(limit)}" + (f" and {limit.max_bytes} bytes" if limit.max_bytes else "")
    return f"text cut to fit {size}" + (f" ({', '.join(cut)} shortened)" if cut else "")
