"""A social post's template filled within a platform's limit: the excerpt shortened, hashtags dropped from the
end, then the title shortened, the URL never cut (`fit_template`), counted as `syndicate.content.text` counts."""
from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping

from syndicate.content.text import count, shrink

_BLANK_LINES = re.compile(r"\n{3,}")
_LINE_TRAILING = re.compile(r"[ \t]+\n")


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


_FORMATTER = string.Formatter()


def template_fields(template: str) -> list[str]:
    """The field names a template uses; ValueError if it is malformed."""
    return [name for _, name, _, _ in _FORMATTER.parse(template) if name]


_SLOT = "\ue00f"  # stands for the field being shortened while its frame is tidied


def _frame(template: str, values: Mapping[str, str], name: str) -> str | None:
    """The filled, tidied template with `_SLOT` for field `name`; None when a value cannot simply be put in its place.

    For a value that is one line, not empty, with no whitespace at either end, `_tidy(filled)` equals the frame
    with the value in the slot: tidying works on whole lines, blank runs and the ends, none of which such a
    value changes (tests/test_fastpaths.py checks this against filling and tidying each time).
    """
    try:
        fields = [(field, spec, conv) for _, field, spec, conv in _FORMATTER.parse(template) if field is not None]
        if any(re.split(r"[.\[]", field, maxsplit=1)[0] == name and (field != name or spec or conv)
               for field, spec, conv in fields) or _SLOT in template or any(_SLOT in v for v in values.values()):
            return None  # the value formatted, or one of its attributes: filled each time
        return _tidy(template.format_map(_Blank({**values, name: _SLOT})))
    except (ValueError, KeyError, IndexError, AttributeError):
        return None


def _slot_fits(value: str) -> bool:
    """Whether `value` can stand in a frame's slot (see `_frame`)."""
    return bool(value) and "\n" not in value and not value[0].isspace() and not value[-1].isspace() \
        and _SLOT not in value


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n")
    if " \n" in text or "\t\n" in text:
        text = _LINE_TRAILING.sub("\n", text)
    lines = [line if line.strip() else "" for line in text.split("\n")]
    text = "\n".join(lines)
    return (_BLANK_LINES.sub("\n\n", text) if "\n\n\n" in text else text).strip()


def fit_template(
    template: str,
    fields: Mapping[str, str],
    limit: int,
    counting: str = "graphemes",
    url_weight: int | None = None,
    shrink_order: Iterable[str] = ("excerpt", "hashtags", "title"),
    *,
    url_field: str = "url",
    mentions: bool | None = None,
) -> str:
    """Fill `template`; if too long, shorten the excerpt, drop hashtags from the end, then shorten the title.

    The URL is never cut; blank lines left by emptied fields collapse. The
    result is never over `limit`; ValueError only when the bare URL cannot fit.
    """
    values = _Blank({k: v or "" for k, v in fields.items()})

    def render() -> str:
        return _tidy(template.format_map(values))

    seen: dict[str, int] = {}  # the shrinking asks again about texts it has counted

    def measured(text: str) -> int:
        hit = seen.get(text)
        if hit is None:
            hit = seen[text] = count(text, counting, url_weight, mentions=mentions)
        return hit

    def fits(text: str) -> bool:
        return measured(text) <= limit

    out = render()
    if fits(out):
        return out
    for name in shrink_order:
        value = values.get(name, "")
        if name == url_field or not value:
            continue
        if name == "hashtags":  # the most tags from the front that fit: a binary search (10,000 tags happen)
            tags = value.split()
            low, high = 0, len(tags) - 1
            while low < high:
                mid = (low + high + 1) // 2
                values[name] = " ".join(tags[:mid])
                if fits(render()):
                    low = mid
                else:
                    high = mid - 1
            values[name] = " ".join(tags[:low])
            out = render()
            if fits(out):
                return out
            continue

        frame = _frame(template, values, name)

        def measured_with(candidate: str, name: str = name, frame: str | None = frame) -> int:
            values[name] = candidate
            if frame is not None and _slot_fits(candidate):
                return measured(frame.replace(_SLOT, candidate))  # the same text as render(), not filled again
            return measured(render())

        values[name] = shrink(value, measured_with, limit)
        out = render()
        if fits(out):
            return out
    url = (fields.get(url_field) or "").strip()
    if fits(url):
        return url
    raise ValueError(f"even the bare URL does not fit in {limit} ({counting})")
