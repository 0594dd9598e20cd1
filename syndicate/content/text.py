"""Grapheme-aware counting and truncation for every connector (a template filled within a limit: `templates`).

Connectors declare how a platform counts (`Limits.counting`, `url_weight`); this
module applies it the same way everywhere, so no connector hand-rolls
truncation. Counting rules:

- "graphemes": extended grapheme clusters (`regex` `\\X`), as Mastodon's
  `StatusLengthValidator` (`each_grapheme_cluster`) and Bluesky `maxGraphemes`.
- "characters": Unicode code points.
- "utf8-bytes": UTF-8 encoded length (Bluesky `maxLength`).
- "utf16": UTF-16 code units, a code point past U+FFFF counting 2 (Telegram,
  whose message entities are measured in them).
- "emoji-bytes": Unicode code points, except that an emoji counts as the
  UTF-8 bytes of its whole grapheme cluster (Threads: "emojis are counted as
  the number of UTF-8 bytes", PLATFORMS.md §10). A cluster is an emoji when it
  holds an Extended_Pictographic code point, a regional indicator (flags), a
  keycap (U+20E3) or VS16 (U+FE0F): `©` counts 2, which can only make us count
  more than Threads, never less.
- "x-weighted": twitter-text config v3 weighted length (PLATFORMS.md §8;
  developer.x.com "counting characters"): NFC first, weight 1 for
  U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F, U+2032–U+2037, 2 otherwise,
  an emoji sequence weighs 2, a URL (with or without a scheme, as X's own
  extractor finds it) `url_weight`, 23 by default. Counted by the
  `twitter-text-parser` package, a port of twitter-text that passes the
  conformance suite (../shared/specs/x/twitter-text-conformance, run by
  tests/test_text.py); `x_valid` says whether X accepts the text at all.

With `url_weight` set, each http(s) URL counts that many. `mentions`: whether
`@user@domain` counts as `@user` (Mastodon, PLATFORMS.md §6) — by default
true for grapheme counting with a URL weight (Mastodon's rule), false
otherwise; X counts a mention as written.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from itertools import accumulate

import regex

from syndicate.content.xtext import X_URL_WEIGHT, _x_count, x_valid

__all__ = ["count", "truncate", "shrink", "find_urls", "x_valid", "ELLIPSIS"]

ELLIPSIS = "…"

# A URL: the scheme, then URL-safe ASCII; trailing punctuation is left out, as
# twitter-text (used by Mastodon) does. A scheme followed by anything else
# (an IDN host, a brace) still counts as a URL of its own. Both choices can only
# make us count more than the server, never less.
_URL = regex.compile(r"https?://(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+|(?=\S))", regex.IGNORECASE)
_URL_TRAILING = ".,:;!?'\")]*"
# Mastodon's mention pattern (app/models/account.rb MENTION_RE), simplified.
_MENTION = regex.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)@[\p{L}\p{M}\p{Nd}_]+(?:[.-]+[\p{L}\p{M}\p{Nd}_]+)*",
    regex.IGNORECASE,
)
_GRAPHEME = regex.compile(r"\X")
# Characters that join no neighbour (UAX #29 Grapheme_Cluster_Break Other, Control or LF): between two
# of them there is always a boundary (no rule GB3–GB13 applies), so a run of them counts with len().
# CJK, Arabic letters, Latin, punctuation and a lone emoji are; combining marks, ZWJ, variation
# selectors, regional indicators, Hangul jamo and CR are not.
_JOINING = regex.compile(r"[^\p{GCB=Other}\p{GCB=Control}\p{GCB=LF}]+")
_SPACE = regex.compile(r"\s")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3\ufe0f]")
_TRAILING_JUNK = " \t\r\n,;:–—-"  # stripped before the ellipsis
_BLANK_LINES = re.compile(r"\n{3,}")
_LINE_TRAILING = re.compile(r"[ \t]+\n")


def find_urls(text: str) -> list[tuple[int, int]]:
    """(start, end) of every http(s) URL in `text`, trailing punctuation excluded."""
    spans = []
    for m in _URL.finditer(text):
        start, end = m.span()
        floor = text.index("//", start) + 2
        while end > floor and text[end - 1] in _URL_TRAILING:
            end -= 1
        spans.append((start, end))
    return spans


def _entities(text: str, url_weight: int | None, mentions: bool) -> list[tuple[int, int, str | None]]:
    """Spans that count specially: (start, end, replacement); None = a URL."""
    spans: list[tuple[int, int, str | None]] = []
    if url_weight is not None and "://" in text:
        spans.extend((s, e, None) for s, e in find_urls(text))
    if mentions and "@" in text:
        taken = [(s, e) for s, e, _ in spans]
        for m in _MENTION.finditer(text):
            s, e = m.span()
            if not any(s < te and ts < e for ts, te in taken):
                spans.append((s, e, "@" + m.group(1)))
        spans.sort()
    return spans


def graphemes(text: str) -> int:
    """The number of extended grapheme clusters in `text` (as `regex`'s `\\X` finds them).

    Only around the characters that can join a neighbour is the text segmented: each stretch of
    them with one character either side (a base before a combining mark or ZWJ, the character after
    a Prepend or ZWJ); outside those windows every character is a cluster of its own.
    """
    if text.isascii():
        return len(text) - text.count("\r\n")
    total = len(text)
    end = -1  # where the current window ends
    start = 0
    size = len(text)
    for m in _JOINING.finditer(text):
        a, b = max(m.start() - 1, 0), min(m.end() + 1, size)
        if a < end:  # overlaps the current window: one window
            end = b
            continue
        if end > 0:
            total -= end - start - len(_GRAPHEME.findall(text, start, end))
        start, end = a, b
    if end > 0:
        total -= end - start - len(_GRAPHEME.findall(text, start, end))
    return total


def _plain_count(text: str, counting: str) -> int:
    if counting == "graphemes":
        return graphemes(text)
    if counting == "characters":
        return len(text)
    if counting == "utf8-bytes":
        return len(text.encode("utf-8"))
    if counting == "utf16":
        return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2
    if counting == "emoji-bytes":
        if not _EMOJI.search(text):
            return len(text)
        return sum(len(c.encode("utf-8")) if _EMOJI.search(c) else len(c) for c in _GRAPHEME.findall(text))
    raise ValueError(f"unknown counting {counting!r}")


def count(text: str, counting: str = "characters", url_weight: int | None = None, *, mentions: bool | None = None) -> int:
    """Length of `text` as the platform counts it.

    `mentions`: count `@user@domain` as `@user` (Mastodon); None: true only for
    "graphemes" with a URL weight. X ("x-weighted") counts mentions as written.
    """
    if mentions is None:
        mentions = counting == "graphemes" and url_weight is not None
    if counting == "x-weighted":
        weight = X_URL_WEIGHT if url_weight is None else url_weight
        text = unicodedata.normalize("NFC", text)
        if mentions and "@" in text:
            text = _MENTION.sub(lambda m: "@" + m.group(1), text)
        return _x_count(text, weight)
    spans = _entities(text, url_weight, mentions)
    if not spans:
        return _plain_count(text, counting)
    if counting == "graphemes":
        # Mastodon rewrites entities, then counts clusters of the result.
        parts, pos = [], 0
        for s, e, repl in spans:
            parts.append(text[pos:s])
            parts.append("x" * url_weight if repl is None else repl)  # type: ignore[operator]
            pos = e
        parts.append(text[pos:])
        return _plain_count("".join(parts), counting)
    total, pos = 0, 0
    for s, e, repl in spans:
        total += _plain_count(text[pos:s], counting)
        total += url_weight if repl is None else _plain_count(repl, counting)  # type: ignore[operator]
        pos = e
    return total + _plain_count(text[pos:], counting)


def shrink(text: str, measure: Callable[[str], int], limit: int, ellipsis: str = ELLIPSIS) -> str:
    """The longest cut of `text` (with `ellipsis`) whose `measure` is within `limit`, or "".

    Cuts at a word boundary unless that loses more than 40% against a cut
    between graphemes (CJK text without spaces); never inside a URL. The search
    starts at the count's guess (`_bracket`).
    """

    def fits(cut: str) -> bool:
        return measure(cut) <= limit

    if (text.isascii() and "\r" not in text) or not _JOINING.search(text):
        clusters = list(text)  # one character each
        offsets: Sequence[int] = range(len(text) + 1)
    else:
        clusters = _GRAPHEME.findall(text)
        offsets = list(accumulate(map(len, clusters), initial=0))
    inside_url: set[int] = set()
    for s, e in find_urls(text):
        inside_url.update(range(s + 1, e))

    def candidate(k: int) -> str:
        head = text[: offsets[k]].rstrip(_TRAILING_JUNK)
        return head + ellipsis if head else ""

    cuts: Sequence[int] = [k for k in range(1, len(clusters)) if offsets[k] not in inside_url] if inside_url \
        else range(1, len(clusters))
    lo, hi, best = 0, len(cuts) - 1, -1
    if hi >= 8:
        lo, hi, best = _bracket(len(cuts), lambda i: measure(candidate(cuts[i])), limit)
    while lo <= hi:  # the count grows with the cut: binary search, then check
        mid = (lo + hi) // 2
        if fits(candidate(cuts[mid])):
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    while best >= 0 and not fits(candidate(cuts[best])):
        best -= 1
    if best < 0:
        return ""
    k = cuts[best]
    # prefer the last word boundary at or before k
    for j in range(best, -1, -1):
        w = cuts[j]
        if _SPACE.match(clusters[w]) or _SPACE.match(clusters[w - 1]):
            if w >= 0.6 * k and fits(candidate(w)):
                k = w
            break
    return candidate(k)


def _bracket(n: int, measured: Callable[[int], int], limit: int) -> tuple[int, int, int]:
    """(lo, hi, best) for `shrink`'s binary search over cuts 0..n-1: the last cut within `limit` lies in lo..hi,
    or is `best` (-1: none known). The count drops about evenly per cut, so the cut that removes the excess is a
    close guess; from it the search gallops (1, 2, 4... cuts) until a cut that fits and one that does not
    enclose the answer: the same cut as halving all of them, with a third fewer counts."""
    top = n - 1
    total = measured(top)
    if total <= limit:
        return top + 1, top, top  # the whole text but its last cut fits: nothing left to search
    least = measured(0)
    if least > limit:
        return 0, -1, -1  # not even the first cut fits
    per_cut = max((total - least) / top, 1e-9)  # the slope between the two ends (the frame's own count cancels)
    guess = min(top - 1, max(1, top - int((total - limit) / per_cut + 0.5)))
    step = 1
    if measured(guess) <= limit:
        lo = guess
        while True:
            probe = lo + step
            if probe >= top:
                return lo + 1, top - 1, lo
            if measured(probe) > limit:
                return lo + 1, probe - 1, lo
            lo, step = probe, step * 2
    hi = guess - 1
    while True:
        probe = hi - step + 1
        if probe <= 0:
            return 1, hi, 0  # cut 0 fits (measured above)
        if measured(probe) <= limit:
            return probe + 1, hi, probe
        hi, step = probe - 1, step * 2


def truncate(
    text: str,
    limit: int,
    counting: str = "characters",
    url_weight: int | None = None,
    *,
    ellipsis: str = ELLIPSIS,
    mentions: bool | None = None,
) -> str:
    """`text` shortened with an ellipsis to at most `limit`, at a word boundary if possible."""
    if count(text, counting, url_weight, mentions=mentions) <= limit:
        return text
    seen: dict[str, int] = {}

    def measured(cut: str) -> int:
        hit = seen.get(cut)
        if hit is None:
            hit = seen[cut] = count(cut, counting, url_weight, mentions=mentions)
        return hit

    return shrink(text, measured, limit, ellipsis)

