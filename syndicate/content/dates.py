"""Dates as blogs write them, made timezone-aware.

Front matter holds `date`/`pubDate`/`lastmod` as strings with odd offsets
(`2012-10-02 21:19:08 +0200` stays a string in PyYAML), YAML/TOML dates and
datetimes, or nothing at all: then the date is in the file name
(`2019-05-01-slug.md`, `2017-03-08-index.md`), a folder (`2019/05/01/slug.md`,
`2019-05-01-slug/index.md`) or a Zola `path = "2015/05/15/Rust-1.0"`.
Naive values are read in the site's timezone. `first_date`/`hugo_date` pick
the date a post means from its front matter (Hugo: its `[frontmatter]` sources).
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syndicate.config import ConfigError
from syndicate.content.frontmatter import is_empty, is_flag, lookup, spelled
from syndicate.content.post import PostError

# 2012-10-02 21:19:08 +0200 | 2012-10-02T21:19 Z | 2012-10-02 21:19:08.123+02:00 | 2012-10-02
_ISOISH = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_DAY_FIRST = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_TEXT_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y")
NAME_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[-_ ]+(.*))?$")
PATH_DATE = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})(?:/|$)")


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo:
    """The tzinfo for `site.timezone`; a clear `ConfigError` when unknown."""
    if name.upper() in ("UTC", "Z", "GMT", ""):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"site.timezone: unknown timezone {name!r} (use an IANA name such as 'Europe/Berlin')") from None


def parse_date(value: object, tz: tzinfo) -> datetime | None:
    """A front-matter date value as an aware datetime; None when it is empty.

    Raises ValueError with a short reason when the value is not a date.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date")
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=tz)
    if isinstance(value, (int, float)):
        if 1_000_000_000 <= value < 100_000_000_000:  # Unix seconds (2001..5138)
            return datetime.fromtimestamp(value, UTC)
        raise ValueError(f"{value!r} is not a date")
    if not isinstance(value, str):
        raise ValueError(f"a {type(value).__name__} is not a date")
    return _parse_text(value.strip(), tz)


def _parse_text(text: str, tz: tzinfo) -> datetime:
    m = _ISOISH.match(text)
    if m:
        y, mo, d, hh, mm, ss, frac, off = m.groups()
        micro = int((frac or "0")[:6].ljust(6, "0"))
        try:
            naive = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0), micro)
        except ValueError as exc:
            raise ValueError(f"{text!r}: {exc}") from None
        return naive.replace(tzinfo=_offset(off) if off else tz)
    m = _DAY_FIRST.match(text)
    if m:
        try:
            return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=tz)
        except ValueError as exc:
            raise ValueError(f"{text!r}: {exc}") from None
    try:
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(text)  # RFC 2822: "Tue, 02 Oct 2012 21:19:08 +0200"
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in _TEXT_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date I can read")


def _offset(text: str) -> tzinfo:
    text = text.upper()
    if text in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
    else:
        hours, minutes = int(digits[:-2]), int(digits[-2:])
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {text} out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def date_from_name(stem: str, tz: tzinfo) -> tuple[datetime | None, str]:
    """(date, rest) from a `2019-05-01-slug` file or folder name; (None, stem) if there is none."""
    m = NAME_DATE.match(stem)
    if not m:
        return None, stem
    try:
        when = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=tz)
    except ValueError:
        return None, stem
    return when, (m[4] or "")


def date_from_path(text: str, tz: tzinfo) -> datetime | None:
    """The first `yyyy/mm/dd` run of segments in a path or URL path."""
    m = PATH_DATE.search(text)
    if not m:
        return None
    try:
        return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=tz)
    except ValueError:
        return None


def first_date(view: dict[str, Any], fm: dict[str, Any], keys: tuple[str, ...], tz: tzinfo,
               path: Path) -> datetime | None:
    """The first of `keys` (lowercased) with a value, read as a date; `PostError` names the key when it is none."""
    for key in keys:
        value = lookup(view, key)
        if is_empty(value) or (key == "published" and is_flag(value)):
            continue
        try:
            return parse_date(value, tz)
        except ValueError as exc:
            raise PostError(f"{path}: {spelled(fm, key)}: {exc}") from None
    return None


def hugo_date(view: dict[str, Any], fm: dict[str, Any], sources: tuple[str, ...], tz: tzinfo, path: Path,
              dated: tuple[datetime, str] | None) -> tuple[datetime | None, str | None]:
    """One of Hugo's four dates from its `[frontmatter]` sources; the slug too when `:filename` wins.

    https://gohugo.io/configuration/front-matter/ — the first source with a value wins;
    `:filename` also sets the slug to the rest of the name; `:git` is skipped (no history here).
    """
    for source in sources:
        if source == ":filename":
            if dated is not None:
                return dated
            continue
        if source == ":filemodtime":
            return datetime.fromtimestamp(path.stat().st_mtime, UTC), None
        if source.startswith(":"):
            continue
        when = first_date(view, fm, (source,), tz, path)
        if when is not None:
            return when, None
    return None, None
