"""Issue 17's fast paths give exactly what the slow ones gave: grapheme counts, X's URLs, WordPress-safe
HTML, Forem's code spans, and a document's outputs once evicted from the few kept."""
from __future__ import annotations

import random
import re

import pytest
from twitter_text import extract_urls_with_indices

from connectors import forem_liquid, wordpress_html
from syndicate.content import text, xtext
from syndicate.content.markdown.dialect import DEFAULT
from syndicate.content.markdown.document import _TREES_KEPT, Document
from syndicate.content.markdown.embed import Embed

GRAPHEME_PIECES = [
    "a", " ", "\n", "\r", "\r\n", "\t", "日本", "テキスト", "عربى", "\u064e", "e\u0301", "\u200d", "\ufe0f",
    "\U0001F468", "\U0001F469", "\U0001F3FD", "\U0001F1E9", "\U0001F1EA", "\u0915", "\u094d", "\u0937", "\u1100",
    "\u1161", "\u11a8", "\uac00", "\u0600", "\u0903", "\u20e3", "1", "\U000e0067", "\U0001F3F4", "…", "—",
]


@pytest.mark.parametrize("sample", [
    "plain ASCII", "line\r\nbreak", "日本語 テキスト 中文 عربى", "caf\u00e9 cafe\u0301", "👨‍👩‍👧 family",
    "🇩🇪🇫🇷 flags", "\u0915\u094d\u0937 conjunct", "\u1100\u1161\u11a8 jamo", "👍🏽 tone", "1\ufe0f\u20e3 keycap",
])
def test_graphemes_count_as_the_segmenter_does(sample: str) -> None:
    assert text.graphemes(sample) == len(text._GRAPHEME.findall(sample))


def test_graphemes_agree_with_the_segmenter_on_random_mixes() -> None:
    rng = random.Random(17)
    for _ in range(20000):
        sample = "".join(rng.choice(GRAPHEME_PIECES) for _ in range(rng.randint(0, 12)))
        assert text.graphemes(sample) == len(text._GRAPHEME.findall(sample)), repr(sample)


def test_a_combining_mark_is_not_counted_on_its_own() -> None:
    assert text.count("e\u0301" * 10, "graphemes") == 10
    assert text.count("日本" * 10, "graphemes") == 20


URL_PIECES = ["example.com", "https://a.b.co/x?y=1", " ", "\n", "\u3000", "\x1c", "\u180e", "-", "_", ".", "/", "a",
              "日本語.jp", "(", ")", "@", "#", "$", "t.co/abcdef", "www.x.org", ",", "http://", "ü", "\u202a", "\ufeff",
              "x.com", "中文", "..", "1.2", "\t", "\u2029", "é.fr", "?q=1", ":80", "@x.com"]


def test_x_urls_word_by_word_are_twitter_texts() -> None:
    rng = random.Random(17)
    for _ in range(20000):
        sample = "".join(rng.choice(URL_PIECES) for _ in range(rng.randint(0, 10)))
        want = [tuple(e["indices"]) for e in extract_urls_with_indices(sample)] if "." in sample else []
        assert (xtext._x_urls(sample) if "." in sample else []) == want, repr(sample)


def test_x_weight_counts_a_url_and_a_heavy_character() -> None:
    assert text.count("日本 see example.com now", "x-weighted") == len("日本 see  now") + 2 + 23


_OLD_SAFE = re.compile(r"(<!--.*?-->|<[^>]*>)|([\[\]])|[ \t]*\n[ \t]*", re.DOTALL)


def _reference_wordpress_safe(markup: str) -> str:
    """One pattern over the whole markup, tags matched first (what `wordpress_safe` did before issue 17)."""
    parts = wordpress_html._PRE.split(markup)
    for k, part in enumerate(parts):
        parts[k] = _OLD_SAFE.sub(wordpress_html._in_pre if k % 2 else wordpress_html._outside_pre, part)
    return "".join(parts)


def test_wordpress_safe_rewrites_as_the_one_pattern_did() -> None:
    pieces = ["<p>", "</p>", "\n", " ", "\t", "[", "]", "a", ">", "<", "<!-- x\n[ -->", "<pre>", "</pre>",
              '<a href="[x]\n">', "b c", "<!--", "-->", "\n\n", " \n "]
    rng = random.Random(17)
    for _ in range(20000):
        sample = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        assert wordpress_html.wordpress_safe(sample) == _reference_wordpress_safe(sample), repr(sample)


def test_wordpress_safe_on_rendered_html() -> None:
    html = '<p>a [gallery]\nb</p>\n<pre><code>[x]\ny</code></pre>\n<p><a href="/[z]">t</a></p>\n'
    assert wordpress_html.wordpress_safe(html) == (
        '<p>a &#91;gallery&#93; b</p>\n<pre><code>&#91;x&#93;\ny</code></pre>\n<p><a href="/[z]">t</a></p>\n')


_OLD_PROTECTED = re.compile(
    r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}|(?<!`)(`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)\1(?!`)", re.DOTALL)


def test_forem_code_spans_are_found_as_the_tempered_pattern_found_them() -> None:
    pieces = ["`", "``", "a", " ", "\n", "\n\n", "\n \n", "\n\t\n", "{% raw %}", "{% endraw %}", "{{x}}", "{%", "%}",
              "b c d e", "\\`"]
    rng = random.Random(17)
    for _ in range(20000):
        sample = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        got = [(m.span(), m.group(0)) for m in forem_liquid._PROTECTED.finditer(sample)]
        assert got == [(m.span(), m.group(0)) for m in _OLD_PROTECTED.finditer(sample)], repr(sample)


def test_a_document_renders_the_same_after_its_outputs_are_dropped() -> None:
    embed = Embed(kind="youtube", url="https://www.youtube.com/watch?v=dQw4w9WgXcQ", id="dQw4w9WgXcQ")
    doc = Document(segments=["# Title\n\nSome *text* with `code`.\n\n", embed, "\n\nMore.\n"], dialect=DEFAULT)
    html, plain = doc.html(), doc.text()
    assert "<em>text</em>" in html and "youtube.com" in html and "text" in plain
    assert doc.html() is html  # kept while it is among the last few rendered
    others = [Document(segments=[f"Post {k}\n"]) for k in range(_TREES_KEPT + 1)]
    for other in others:
        assert other.html() == f"<p>Post {others.index(other)}</p>\n"
    again = doc.html()
    assert again == html and again is not html  # rendered again from a new parse, byte for byte
    assert doc.text() == plain


def test_x_v3_weights_are_twitter_texts_config() -> None:
    from twitter_text.config import config

    v3 = config["version3"]
    assert int(v3["default_weight"]) == 2 * int(v3["scale"])
    assert all(int(r["weight"]) == int(v3["scale"]) for r in v3["ranges"])
    assert xtext.X_V3_RANGES == tuple((int(r["start"]), int(r["end"])) for r in v3["ranges"])


def test_the_tlds_a_whole_url_may_end_in_are_twitter_texts() -> None:
    from twitter_text.regexp.valid_cctld import valid_cctld
    from twitter_text.regexp.valid_gtld import valid_gtld

    for tld in xtext._X_TLDS:
        assert valid_gtld.fullmatch(tld) or valid_cctld.fullmatch(tld), tld


WORD_PIECES = ["https://", "http://", "example", "blog", ".", "com", "org", "io", "co", "example.com", "/", "2024",
               "-", "_", "x", "A", "é", ")", "(", "?", "#", "t", "t.co", ":8080", "1", "..", ",", "'", "@", "xn--p1ai",
               "www", "日本", "a-b", "\u200b", "!"]


@pytest.mark.parametrize("lead", ["", " ", "\n", "\u3000"])
def test_x_urls_of_a_word_without_twitter_text_are_twitter_texts(lead: str) -> None:
    rng = random.Random(17)
    samples = ["https://example.com/2024/03/http-caching-rules/", "debugging.", "v1.2", "end.)", "http://1.2.3.4/x",
               "https://blog.example/posts/hello/", "https://a.b.co/x-", "https://a.b.co/x_", "e.g.", "https://t.co/abc"]
    samples += ["".join(rng.choice(WORD_PIECES) for _ in range(rng.randint(1, 9))) for _ in range(20000)]
    tlds = [*xtext._X_TLDS, "example", "c", "comm", "COM", "コム", "xn--p1ai"]
    path = ["/", "a", "Z", "-", "_", "2024", ".", ")", "(", "?", "!", ",", "é", "#", "'", "=", "~", ":", "%20"]
    samples += [rng.choice(["https://", "http://", "HTTPS://", "ftp://", ""]) + rng.choice(["", "www.", "a-b.", "x."])
                + rng.choice(["example", "blog", "a", "-a", "ü", "t"]) + "." + rng.choice(tlds)
                + "".join(rng.choice(path) for _ in range(rng.randint(0, 6))) for _ in range(20000)]
    for word in samples:
        if "." not in word or not word.strip():
            continue
        sample = lead + word
        xtext._word_urls.cache_clear()
        want = tuple(tuple(e["indices"]) for e in extract_urls_with_indices(sample))
        assert xtext._word_urls(sample) == want, repr(sample)
