"""Durations as a config writes them: seconds, or a string with units.

`90`, `1.5`, `"90s"`, `"10m"`, `"1h30m"`, `"500ms"`, `"2d"` and `"1h 30m"` all
parse to float seconds. A bare number string (`"90"`) counts as seconds.
"""
from __future__ import annotations

import math
import re

UNITS: dict[str, float] = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
HELP = 'seconds (90, 1.5) or a string with units ("500ms", "90s", "10m", "1h30m", "2d")'
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)", re.IGNORECASE)
_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")


class DurationError(ValueError):
    """A value that is not a duration; the message says what is allowed."""


def parse_duration(value: object) -> float:
    """Seconds from `value` (int, float or a string like "1h30m"); `DurationError` otherwise."""
    if isinstance(value, bool):  # bool is an int subclass: `true` is not a duration
        raise DurationError(f"expected a duration, {HELP}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_text(value)
    else:
        raise DurationError(f"expected a duration, {HELP}")
    if math.isnan(seconds) or math.isinf(seconds):
        raise DurationError(f"expected a finite duration, {HELP}")
    return seconds


def _parse_text(text: str) -> float:
    if _NUMBER.match(text):
        return float(text)
    compact = text.strip()
    pos, total, seen = 0, 0.0, False
    while pos < len(compact):
        if compact[pos].isspace():
            pos += 1
            continue
        match = _PART.match(compact, pos)
        if not match:
            raise DurationError(f"not a duration; use {HELP}")
        total += float(match.group(1)) * UNITS[match.group(2).lower()]
        pos, seen = match.end(), True
    if not seen:
        raise DurationError(f"not a duration; use {HELP}")
    return total


def format_duration(seconds: float) -> str:
    """The shortest unit string for `seconds`: 5400 -> "1h30m", 0.5 -> "500ms"."""
    if seconds < 1 and seconds != 0:
        return f"{seconds * 1000:g}ms"
    parts: list[str] = []
    rest = seconds
    for unit in ("d", "h", "m"):
        size = UNITS[unit]
        if rest >= size:
            count = int(rest // size)
            parts.append(f"{count}{unit}")
            rest -= count * size
    if rest or not parts:
        parts.append(f"{rest:g}s")
    return "".join(parts)
