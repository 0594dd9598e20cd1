"""X's weighted length (twitter-text config v3): what `count(..., "x-weighted")` and `x_valid` measure.

Counted by the `twitter-text-parser` package (a port that passes the conformance suite);
the fast paths here (the light runs of weight 1, URLs looked for only in words with a dot)
give the same numbers, which tests/test_text.py and tests/test_onepass.py check.
"""
from __future__ import annotations

import re
from functools import cache, lru_cache

import regex

from syndicate.content.xtlds import ASCII_TLDS

X_URL_WEIGHT = 23
X_MAX = 280
_X_OPTIONS: dict[int, dict[str, object]] = {}
_NEWLINES = regex.compile(r"\r\n|\r")  # twitter-text counts every line break as one "\n"


@cache
def _emoji_hint() -> regex.Pattern[str]:
    """A superset of what twitter-text's emoji pattern can start or hold: without one, no emoji is found
    (compiled on the first X count: a preview without X never needs it)."""
    return regex.compile(r"[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\u20e3\ufe0f"
                         r"\U000e0020-\U000e007f]")

_X_HEAVY: re.Pattern[str] | bool | None = None


def _parse_tweet(text: str, options: dict[str, object]) -> object:
    # twitter-text compiles its large URL and emoji patterns at import (about a second):
    # imported on the first X-weighted count only, never on a start-up that needs none
    from twitter_text import parse_tweet

    return parse_tweet(text, options)


def _x_options(url_weight: int) -> dict[str, object]:
    options = _X_OPTIONS.get(url_weight)
    if options is None:
        from twitter_text.config import config

        options = _X_OPTIONS[url_weight] = {**dict(config["version3"]), "transformed_url_length": url_weight}
    return options


# twitter-text's config v3 (twitter_text/config.py, "version3"): characters in these ranges weigh 1, all
# others 2, a URL `transformed_url_length`. Kept here because importing any part of twitter-text runs its
# package, which compiles its URL and emoji patterns (about a second of CPU on a loaded machine);
# tests/test_onepass.py checks these against the installed package's config.
X_V3_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def _x_heavy() -> re.Pattern[str] | None:
    """The characters twitter-text v3 weighs 2: what its weight-1 runs leave."""
    global _X_HEAVY
    if _X_HEAVY is None:
        light = "".join(f"\\U{start:08x}-\\U{end:08x}" for start, end in X_V3_RANGES)
        _X_HEAVY = re.compile(f"[{light}]+")  # runs of weight-1 characters: what is left weighs 2
    return _X_HEAVY if isinstance(_X_HEAVY, re.Pattern) else None


def _heavy(chunk: str, light: re.Pattern[str]) -> int:
    """How many characters of `chunk` weigh 2 (none in ASCII)."""
    return 0 if chunk.isascii() else len(light.sub("", chunk))


def _x_count(text: str, url_weight: int) -> int:
    if text.isascii() and "." not in text:
        # no emoji is ASCII, and X's URL extractor needs a dot (a host and a TLD)
        return len(_NEWLINES.sub("\n", text)) if "\r" in text else len(text)
    heavy = _x_heavy()
    if heavy is not None and not _emoji_hint().search(text):
        # parse_tweet's own sum without its emoji scan (most of its time), which finds nothing here:
        # each character 1, or 2 outside the v3 ranges, and each URL `url_weight`
        text = _NEWLINES.sub("\n", text) if "\r" in text else text
        total = pos = 0
        for start, end in _x_urls(text) if "." in text else ():
            chunk = text[pos:start]
            total += len(chunk) + _heavy(chunk, heavy) + url_weight
            pos = end
        chunk = text[pos:]
        return total + len(chunk) + _heavy(chunk, heavy)
    return int(_parse_tweet(text, _x_options(url_weight)).weightedLength)  # type: ignore[attr-defined]


# twitter-text's spaces (regexp/spaces_group.py): no URL it extracts holds one, and before a URL one
# counts as the start of the text does
_X_SPACES = "\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_X_DOTTED = f"[^{_X_SPACES}]*\\.[^{_X_SPACES}]*"  # a word with a dot: where a URL can be


def _x_urls(text: str) -> list[tuple[int, int]]:
    """(start, end) of each URL twitter-text extracts from `text`, found word by word (words with a dot)."""
    spans: list[tuple[int, int]] = []
    for m in re.finditer(_X_DOTTED, text):  # re's own cache keeps the compiled patterns of this module
        at = max(m.start() - 1, 0)  # with the space before it: what the extractor sees before the word
        spans.extend((at + a, at + b) for a, b in _word_urls(text[at:m.end()]))
    return spans


# A word that holds no URL for twitter-text: each dot followed by nothing, a digit or punctuation (a
# domain's last label, its TLD, starts with a letter), e.g. "debugging." "1.5" "end.)".
_NO_TLD = r"[^.]*(?:\.(?=$|[0-9.,;:!?)\]}'\"])[^.]*)*"
# A word that is one URL, whole: http(s), a lower-case ASCII host ending in a TLD twitter-text lists
# (tests/test_onepass.py checks each), an optional path of letters, digits, "-", "_" and "/" (all of
# which may end a URL). Any other word is left to twitter-text.
_X_TLDS = ("com", "org", "net", "dev", "app", "blog", "info", "site", "page", "tech", "social", "xyz", "io",
           "co", "me", "uk", "de", "fr", "jp", "eu", "ca", "au", "nl", "ch", "se", "us")
_HOST = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,8}"
_WHOLE_URL = "https?://" + _HOST + "(?:" + "|".join(_X_TLDS) + r")(?:/[A-Za-z0-9_/-]{0,400})?"
_X_SPACE = f"[{_X_SPACES}]"
# the label after each dot, as far as twitter-text's TLD patterns look (they end before any other character)
_LABEL = re.compile(r"\.([0-9A-Za-z@+-]*)")


def _tld_after_a_dot(word: str) -> bool:
    """Whether `word` has a label twitter-text could take for a TLD right after a dot: an ASCII one it lists,
    punycode, or any label going on with a non-ASCII character (but "…", which no TLD holds). Without
    one the word holds no URL (a host needs a TLD)."""
    for m in _LABEL.finditer(word):
        label = m.group(1).lower()
        if label in ASCII_TLDS or label.startswith("xn--"):
            return True
        after = word[m.end():m.end() + 1]
        if after and not after.isascii() and after != "\u2026":
            return True
    return False


# A word that starts with one URL of a simple shape: an optional "(", http(s) or no scheme, a lower-case
# ASCII host whose last label is a TLD twitter-text lists, and a path of its general characters (the
# ASCII ones but parentheses), the URL ending at the path's last character that may end one. What
# follows must be something twitter-text stops at and takes no URL from (`_simple_url`).
_SIMPLE_URL = re.compile(r"\(?((?:https?://)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,8}([a-z]{2,63}))"
                         r"(/[A-Za-z0-9!*';:=+,.$/%#\[\]_~@|&-]*)?")
_PATH_END = re.compile(r"[A-Za-z0-9+=_#/-]")  # twitter-text's valid_url_path_ending_chars (ASCII)
_STOPS = "\u2026!\"'),.:;]*"  # what may follow such a URL: never part of a host's TLD or of a path's end
_PORT = re.compile(r":[0-9]")


def _simple_url(word: str, lead: int) -> tuple[tuple[int, int], ...] | None:
    """The URL of a word of the shape `_SIMPLE_URL` takes, as twitter-text extracts it; None for any other."""
    m = _SIMPLE_URL.match(word, lead)
    if m is None or m.group(2) not in ASCII_TLDS:
        return None
    end = m.end(1)
    path = m.group(3)
    if path is not None:
        while not _PATH_END.match(path, len(path) - 1):  # "/" itself may end one: this stops
            path = path[:-1]
        end += len(path)
    rest = word[end:]
    if end - m.start(1) > 400:
        return None  # twitter-text's bound on a URL's length is left to it
    if rest and (rest[0] not in _STOPS or "?" in rest or "(" in rest or _PORT.match(rest)
                 or not rest.replace("\u2026", "").isascii() or _tld_after_a_dot(rest)):
        return None
    return ((m.start(1), end),)


@lru_cache(maxsize=4096)
def _word_urls(word: str) -> tuple[tuple[int, int], ...]:
    # a fitting counts the same words again and again (each cut of an excerpt): each is extracted once
    if re.fullmatch(_NO_TLD, word) or not _tld_after_a_dot(word):
        return ()  # e.g. https://blog.example/a/: twitter-text lists no TLD `example`
    lead = 1 if re.match(_X_SPACE, word) else 0  # the space before the word, when there is one
    if "t.co" not in word:  # t.co: twitter-text cuts its path
        if re.fullmatch(_WHOLE_URL, word[lead:]):
            return ((lead, len(word)),)
        simple = _simple_url(word, lead)
        if simple is not None:
            return simple
    from twitter_text import extract_urls_with_indices

    return tuple((int(e["indices"][0]), int(e["indices"][1])) for e in extract_urls_with_indices(word))


def x_valid(text: str, limit: int = X_MAX, url_weight: int = X_URL_WEIGHT) -> bool:
    """Whether X accepts `text`: not empty, at most `limit` weighted, no invalid character (U+FFFE…)."""
    options = {**_x_options(url_weight), "max_weighted_tweet_length": limit}
    return bool(_parse_tweet(text, options).valid)  # type: ignore[attr-defined]
