"""syndicate.content.text: counting rules, truncation and template fitting."""
from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.content.templates import fit_template
from syndicate.content.text import ELLIPSIS, count, find_urls, truncate, x_valid
from tests.conftest import SHARED

FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"  # one grapheme, 7 code points
FLAG = "\U0001F1EF\U0001F1F5"  # regional indicator pair
TEMPLATE = "{title}\n\n{excerpt}\n\n{url}\n\n{hashtags}"


# --- count ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "counting", "expected"),
    [
        ("abc", "graphemes", 3),
        (FAMILY, "graphemes", 1),
        (FAMILY, "characters", 7),
        (FAMILY, "utf8-bytes", 25),
        ("e\u0301", "graphemes", 1),  # combining acute
        ("e\u0301", "characters", 2),
        (FLAG + FLAG, "graphemes", 2),
        ("日本語", "utf8-bytes", 9),
        ("مرحبا", "graphemes", 5),
        # Threads: characters, but an emoji counts as its UTF-8 bytes (the whole cluster)
        ("abc", "emoji-bytes", 3),
        ("日本語", "emoji-bytes", 3),
        ("e\u0301", "emoji-bytes", 2),
        (FAMILY, "emoji-bytes", 25),
        (FLAG, "emoji-bytes", 8),
        ("Hi \U0001F44D\U0001F3FD!", "emoji-bytes", 12),  # thumbs up + skin tone: 8 bytes
        ("1\ufe0f\u20e3", "emoji-bytes", 7),  # a keycap
        ("\u2764\ufe0f x", "emoji-bytes", 8),  # a heart with VS16: 6 bytes
        ("\u00a9 2026", "emoji-bytes", 7),  # © is pictographic: counted as its 2 bytes (never under)
    ],
)
def test_count_basic(text: str, counting: str, expected: int) -> None:
    assert count(text, counting) == expected


def test_url_weight_counts_every_url_the_same() -> None:
    short, long = "https://a.io", "https://example.com/" + "x" * 200
    assert count(f"see {short}", "graphemes", 23) == 4 + 23
    assert count(f"see {long} and {short}", "graphemes", 23) == 4 + 23 + 5 + 23
    # without a weight the URL counts as written
    assert count(short, "graphemes") == len(short)


def test_url_trailing_punctuation_is_not_part_of_the_url() -> None:
    assert find_urls("(see https://example.com/a).") == [(5, 26)]
    assert count("https://example.com/a.", "graphemes", 23) == 24


def test_mastodon_mentions_count_without_domain() -> None:
    assert count("@alice@mastodon.social hi", "graphemes", 23) == len("@alice hi")
    # a local mention and an e-mail address are counted as written
    assert count("@alice hi", "graphemes", 23) == 9
    assert count("mail bob@example.com", "graphemes", 23) == len("mail bob@example.com")
    # mentions are Mastodon's rule: off for plain counting
    assert count("@alice@mastodon.social", "graphemes") == len("@alice@mastodon.social")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        ("日本語", 6),  # CJK weighs 2
        ("\u2014", 1),  # em dash in U+2010–U+201F
        ("\u2026", 2),  # ellipsis U+2026 is outside the light ranges
        ("😀", 2),
        (FAMILY, 2),  # an emoji sequence weighs 2
        (FLAG, 2),
        ("Ελληνικά", 8),  # Greek is below U+10FF
        ("e\u0301", 1),  # NFC first: é
        ("go https://example.com/" + "x" * 100, 3 + 23),
    ],
)
def test_x_weighted(text: str, expected: int) -> None:
    assert count(text, "x-weighted") == expected


def test_mentions_option_both_ways() -> None:
    text = "hi @alice@mastodon.social"
    # Mastodon counts the local part only (the default with a URL weight)...
    assert count(text, "graphemes", 23) == count(text, "graphemes", 23, mentions=True) == len("hi @alice")
    assert count(text, "graphemes", 23, mentions=False) == len(text)
    # ...X counts a mention as written, unless asked otherwise
    assert count(text, "x-weighted") == len(text)
    assert count(text, "x-weighted", mentions=True) == len("hi @alice")
    assert count(text, "characters", mentions=True) == len("hi @alice")


def test_x_counts_bare_domains_and_line_breaks_as_x_does() -> None:
    assert count("see example.com now", "x-weighted") == 4 + 23 + 4  # no scheme, still a URL on X
    assert count("see example.com now", "x-weighted", url_weight=30) == 4 + 30 + 4
    assert count("a\r\nb", "x-weighted") == 3  # one line break
    assert count("v1.2", "x-weighted") == 4  # a dot alone is no URL


# --- the twitter-text conformance suite (../shared/specs/x/twitter-text-conformance) --------------

CONFORMANCE = SHARED / "specs" / "x" / "twitter-text-conformance" / "validate.yml"
# Sections we do not run, and why; every case of them is reported as skipped with its reason.
NOT_COUNTING = {
    "tweets": "config v1 (140 code points, every URL as written): superseded by v3, which X uses",
    "usernames": "validates a bare @username; syndicate never checks usernames",
    "lists": "validates a bare @user/list; syndicate never checks lists",
    "hashtags": "validates a bare #hashtag; syndicate never checks hashtags",
    "urls": "validates one URL as a whole; counting is covered by the weighted sections",
    "urls_without_protocol": "validates one bare domain; counting is covered by the weighted sections",
    "WeightedTweetsCounterTest": "config v2 (each emoji code point weighed): superseded by v3, which X uses "
    "(the same texts run in WeightedTweetsWithDiscountedEmojiCounterTest)",
}
WEIGHTED = ("WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest")


def _conformance() -> list[Any]:
    tests = yaml.safe_load(CONFORMANCE.read_text(encoding="utf-8"))["tests"]
    unknown = set(tests) - set(NOT_COUNTING) - set(WEIGHTED)
    assert not unknown, f"new conformance sections to decide on: {unknown}"
    cases = []
    for section, items in tests.items():
        for case in items:
            marks = [pytest.mark.skip(reason=NOT_COUNTING[section])] if section in NOT_COUNTING else []
            cases.append(pytest.param(section, case, id=f"{section}: {case['description']}", marks=marks))
    return cases


@pytest.mark.parametrize(("section", "case"), _conformance())
def test_x_conformance(section: str, case: dict[str, Any]) -> None:
    text, expected = case["text"], case["expected"]
    assert count(text, "x-weighted") == expected["weightedLength"]
    assert x_valid(text) is expected["valid"]


def test_x_valid_refuses_empty_long_and_invalid_characters() -> None:
    assert x_valid("hello") and not x_valid("") and not x_valid("a\ufffe")
    assert x_valid("x" * 280) and not x_valid("x" * 281) and not x_valid("日" * 141)
    assert x_valid("x" * 30, limit=30) and not x_valid("x" * 31, limit=30)


def test_unknown_counting_is_refused() -> None:
    with pytest.raises(ValueError, match="counting"):
        count("abc", "words")


# --- truncate ---------------------------------------------------------------------


def test_truncate_keeps_short_text() -> None:
    assert truncate("short", 10) == "short"


def test_truncate_cuts_at_a_word_boundary() -> None:
    out = truncate("The quick brown fox jumps over the lazy dog", 20)
    assert out == "The quick brown fox" + ELLIPSIS
    assert count(out, "characters") <= 20


def test_truncate_cjk_cuts_between_graphemes() -> None:
    text = "日本語の文章はスペースがありませんとても長い文章です"
    out = truncate(text, 10, "graphemes")
    assert out.endswith(ELLIPSIS) and count(out, "graphemes") == 10
    assert text.startswith(out[:-1])


def test_truncate_never_splits_a_grapheme() -> None:
    text = FAMILY * 20
    out = truncate(text, 5, "graphemes")
    assert out == FAMILY * 4 + ELLIPSIS
    out = truncate("e\u0301" * 10, 4, "characters")  # 2 code points per grapheme
    assert out.count("\u0301") == out.count("e")


def test_truncate_does_not_cut_inside_a_url() -> None:
    text = "read https://example.com/some/long/path/to/a/page right now please"
    out = truncate(text, 40, "characters")
    assert "https://example.com/some/long/path/to/a/page" not in out or out.index(ELLIPSIS) > 40
    assert "https://example.com/so" not in out
    assert count(out, "characters") <= 40


def test_truncate_to_nothing() -> None:
    assert truncate("abcdef", 0) == ""


# --- fit_template ------------------------------------------------------------------


def fields(excerpt: str = "An excerpt.", tags: str = "#one #two #three") -> dict[str, str]:
    return {"title": "A title", "excerpt": excerpt, "url": "https://blog.example/post/", "hashtags": tags}


def test_fit_template_untouched_when_it_fits() -> None:
    out = fit_template(TEMPLATE, fields(), 500, "graphemes", 23)
    assert out == "A title\n\nAn excerpt.\n\nhttps://blog.example/post/\n\n#one #two #three"


def test_fit_template_shortens_the_excerpt_first() -> None:
    excerpt = " ".join(f"word{i}" for i in range(100))
    out = fit_template(TEMPLATE, fields(excerpt), 120, "graphemes", 23)
    assert count(out, "graphemes", 23) <= 120
    assert out.startswith("A title\n\nword0 word1")
    assert ELLIPSIS in out and out.endswith("#one #two #three")


def test_fit_template_then_drops_hashtags_from_the_end_then_the_title() -> None:
    f = {"title": "T" * 30, "excerpt": "", "url": "https://blog.example/p", "hashtags": "#aaaa #bbbb #cccc"}
    # 30 + 2 + 23 + 2 + 17 = 74
    assert fit_template(TEMPLATE, f, 74, "graphemes", 23).endswith("#cccc")
    assert fit_template(TEMPLATE, f, 70, "graphemes", 23).endswith("https://blog.example/p\n\n#aaaa #bbbb")
    out = fit_template(TEMPLATE, f, 55, "graphemes", 23)
    assert out == "T" * 30 + "\n\nhttps://blog.example/p"
    out = fit_template(TEMPLATE, f, 40, "graphemes", 23)
    assert out.endswith("\n\nhttps://blog.example/p") and count(out, "graphemes", 23) <= 40
    assert out.startswith("TTT") and ELLIPSIS in out


def test_fit_template_collapses_blank_lines_of_emptied_fields() -> None:
    out = fit_template(TEMPLATE, {"title": "T", "excerpt": "", "url": "https://x.io/a", "hashtags": ""}, 500, "graphemes", 23)
    assert out == "T\n\nhttps://x.io/a"


def test_fit_template_bare_url_and_error() -> None:
    url = "https://blog.example/" + "p" * 50
    assert fit_template("{title} {url}", {"title": "x" * 40, "url": url}, 23, "graphemes", 23) == url
    with pytest.raises(ValueError, match="bare URL"):
        fit_template(TEMPLATE, {"url": url}, 30, "characters")


# --- properties -----------------------------------------------------------------------

NASTY = st.sampled_from(
    [FAMILY, FLAG, "e\u0301", "日本語", "한국어", "مرحبا بالعالم", "שלום", "\u200f", "\u200d", " ", "\n", "#", "@a@b.c",
     "https://", "{{ x }}", "👍🏽", "a\u0308\u0301", "\u0301"]
)
TEXT = st.lists(st.one_of(st.text(max_size=20), NASTY), max_size=40).map("".join)
URLS = st.builds(
    lambda host, path: f"https://{host}.example/{path}",
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=30),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-_/%~=&?", max_size=200),
)
COUNTING = st.sampled_from([("graphemes", 23), ("graphemes", None), ("characters", None), ("x-weighted", None),
                           ("x-weighted", 23), ("utf8-bytes", 23), ("utf8-bytes", None), ("emoji-bytes", None)])
X_NASTY = st.sampled_from(["example.com", "t.co/x", "a.b", "1\u20e3", "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063"
                           "\U000E0074\U000E007F", "\u00c1", "A\u0301", "\r\n", "\u2026", "\u2014", "\ufffe",
                           "http://☃.net/", "のの", "@u@x.social"])
X_TEXT = st.lists(st.one_of(st.text(max_size=10), NASTY, X_NASTY), max_size=40).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=TEXT, excerpt=TEXT, tags=st.lists(TEXT, max_size=6), url=URLS, counting=COUNTING, limit=st.integers(0, 600))
def test_fit_template_never_over_the_limit_and_keeps_the_url(
    title: str, excerpt: str, tags: list[str], url: str, counting: tuple[str, int | None], limit: int
) -> None:
    how, weight = counting
    f = {"title": title, "excerpt": excerpt, "url": url, "hashtags": " ".join("#" + t for t in tags)}
    try:
        out = fit_template(TEMPLATE, f, limit, how, weight)
    except ValueError:
        assert count(url, how, weight) > limit
        return
    assert count(out, how, weight) <= limit
    assert url in out
    i = out.index(url)
    assert out[i + len(url) : i + len(url) + 1] in ("", "\n", " ")


@settings(max_examples=300, deadline=None)
@given(text=TEXT, limit=st.integers(0, 80), counting=COUNTING)
def test_truncate_never_over_and_a_prefix(text: str, limit: int, counting: tuple[str, int | None]) -> None:
    how, weight = counting
    out = truncate(text, limit, how, weight)
    assert count(out, how, weight) <= limit
    if out != text and out:
        assert out.endswith(ELLIPSIS)
        assert text.startswith(out[: -len(ELLIPSIS)])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=X_TEXT, limit=st.integers(0, 120), counting=st.sampled_from(["x-weighted", "utf8-bytes", "emoji-bytes"]),
       mentions=st.booleans())
def test_truncate_never_over_x_weighted_or_bytes(text: str, limit: int, counting: str, mentions: bool) -> None:
    out = truncate(text, limit, counting, mentions=mentions)
    assert count(out, counting, mentions=mentions) <= limit
    if out != text and out:
        assert text.startswith(out[: -len(ELLIPSIS)])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=X_TEXT, excerpt=X_TEXT, url=URLS, limit=st.integers(0, 300),
       counting=st.sampled_from(["x-weighted", "utf8-bytes", "emoji-bytes"]))
def test_fit_template_never_over_x_weighted_or_bytes(title: str, excerpt: str, url: str, limit: int, counting: str) -> None:
    f = {"title": title, "excerpt": excerpt, "url": url, "hashtags": "#a #b"}
    try:
        out = fit_template(TEMPLATE, f, limit, counting)
    except ValueError:
        assert count(url, counting) > limit
        return
    assert count(out, counting) <= limit and url in out
