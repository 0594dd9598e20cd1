"""The pipeline's fast paths (issue 17: the pipeline ratio) give exactly what the plain ways gave."""
from __future__ import annotations

import dataclasses
import html
import random
import sys
from urllib.parse import urljoin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import forem_liquid
from syndicate.content import templates, text
from syndicate.content.markdown import links, plain
from syndicate.content.markdown.context import Context
from syndicate.content.markdown.dialect import DEFAULT, GOLDMARK, KRAMDOWN, PULLDOWN, Dialect
from syndicate.content.markdown.document import Document
from syndicate.content.markdown.embed import Embed
from syndicate.contract import Draft, Limits, Part, TagRules, Template, TextLimit
from syndicate.engine import fitting
from syndicate.engine.fitting import fit_draft
from tests.paths import ROOT, SHARED
from tests.test_markdown import make

PATH_PIECES = ["a", "b.png", ".", "..", "/", "./", "../", "-", "_", "~", "%20", "?", "#", ";", ":", " ", "é", "A", "@",
               "&", "=", "+", "\\", "!", "'", "*", ",", "//"]
BASES = ["https://blog.example/posts/slug/", "https://b.example/", "http://x.org/a/b/", "https://x.org/base/p/s-1/",
         "HTTPS://X.org/a/", "https://x.org/a//b/", "https://x.org/a/?q=1/", "https://x.org/a;p/", "https://x.org/./a/",
         "https://x.org:8080/a/", "https://x.org/a/b.html", "https://x.org/a/#f/"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PATH_PIECES), min_size=1, max_size=8).map("".join), st.sampled_from(BASES))
def test_a_plain_relative_path_joins_as_urljoin_joins_it(url: str, base: str) -> None:
    res = links.Resolver(Context(make("", url=base)))
    assert res.join(url) == urljoin(res.base, url)


@pytest.mark.parametrize("url", ["img.png", "./pic-3.jpg", "a/b/c.png", "a/"])
def test_the_plain_paths_take_the_fast_way(url: str) -> None:
    assert links._PLAIN_PATH.fullmatch(url) is not None
    assert links.Resolver(Context(make(""))).join(url) == "https://example.com/posts/hello/" + url.removeprefix("./")


@pytest.mark.parametrize("url", ["./", ".", "..", "../a", "a/../b", "a/./b", "a//b", "a/.", "a?b", "a#b", "a;b", "a b"])
def test_anything_else_is_left_to_urljoin(url: str) -> None:
    assert links._PLAIN_PATH.fullmatch(url) is None


LINK_PIECES = ["[a](b.png)", "![i](./p.jpg)", "[r]: ./x.png", "\n", " ", "   [d]: /y/", "[d]", "![r]", "<img src=a.png>",
               "<https://x.org>", "]:", "[", "]", "(", ")", "\\", "text", "[^1]: note", "<a href=../b/>x</a>"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(LINK_PIECES), max_size=20).map("".join))
def test_links_are_found_as_when_every_line_start_was_a_candidate(text: str) -> None:
    fast = links.absolutise(text, Context(make(text)))
    saved = links._CANDIDATE_NO_DEF
    links._CANDIDATE_NO_DEF = links._CANDIDATE  # the one pattern for every text, as before
    try:
        plain = links.absolutise(text, Context(make(text)))
    finally:
        links._CANDIDATE_NO_DEF = saved
    assert fast == plain


# --- a document's code blocks, without the spans ----------------------------------------------

CORPUS = SHARED / "corpus"
DIALECTS = (DEFAULT, GOLDMARK, KRAMDOWN, PULLDOWN)
MD_PIECES = ["a", " ", "\n", "\n\n", "`", "``", "```", "~~~", "    ", "\t", "> ", "- ", "1. ", "* ", "#", "|", "---",
             "[", "]", "(", ")", "[^1]", "[^1]: ", "^[", ":", ": ", "[ ]", "[x]", "<div>", "</div>", "*", "_", "\\",
             "日本", "{{<", ">}}", "{%", "%}", "Term\n: def\n", "|a|b|\n|-|-|\n", "```py\nx\n```\n", "    code\n"]
LINE_STARTS = ["", "> ", "- ", "  ", "    ", "1. ", "> - ", ">     ", "- > ", "\t", "   "]
LINE_BODIES = ["~~~", "```", "code", "a `b` c", "", "# h", "| a | b |", "|---|---|", ": def", "term", "[^1]: n",
               "x[^1]", "<pre>", "</pre>", "---", "- [ ] t", "^[in `c`]", "{{< x >}}"]


def _same_blocks(text: str, dialect: Dialect) -> None:
    """`code_blocks` (the cheap way) is `code_ranges` (every node walked) without the spans."""
    segments: list[str | Embed] = [text, Embed("youtube", "a", "https://y.example/a"), "\n\n" + text]
    cheap = Document(segments=list(segments), dialect=dialect)
    full = Document(segments=list(segments), dialect=dialect)
    for k in (0, 2):
        assert cheap.code_blocks(k) == [r for r in full.code_ranges(k) if r[2] == "block"], (dialect.name, text[:300])
        assert full.code_blocks(k) == [r for r in full.code_ranges(k) if r[2] == "block"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus absent")
def test_code_blocks_are_the_walks_on_the_corpus() -> None:
    bodies = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.rglob("*.md")) if p.parent != CORPUS]
    assert len(bodies) >= 50
    for body in bodies:
        for dialect in DIALECTS:
            _same_blocks(body, dialect)


def test_code_blocks_are_the_walks_on_the_generated_posts() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from bench_pipeline import make_post
    finally:
        sys.path.remove(str(ROOT / "bench"))
    rng = random.Random(17)
    for i in range(40):
        _same_blocks(make_post(rng, i), GOLDMARK)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(MD_PIECES), max_size=60).map("".join), st.sampled_from(DIALECTS))
def test_code_blocks_are_the_walks_on_any_text(text: str, dialect: Dialect) -> None:
    _same_blocks(text, dialect)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(LINE_STARTS), st.sampled_from(LINE_BODIES)), max_size=14),
       st.sampled_from(DIALECTS))
def test_code_blocks_are_the_walks_on_any_lines(lines: list[tuple[str, str]], dialect: Dialect) -> None:
    _same_blocks("\n".join(a + b for a, b in lines) + "\n", dialect)


@pytest.mark.parametrize("text", ["> ~~~\n> x\n> ~~~\n", ">     indented\n", "- a\n\n      indented\n",
                                  "Term\n: ~~~\n  x\n  ~~~\n", "[^1]\n\n[^1]:\n        indented\n", "- a\n- ```\n  b\n  ```\n"])
def test_code_blocks_in_containers_are_found(text: str) -> None:
    for dialect in DIALECTS:
        _same_blocks(text, dialect)
    assert Document(segments=[text], dialect=GOLDMARK).code_blocks(0)


# --- a template's frame: the value put in its slot, not filled and tidied for every cut ---------------

TEMPLATES = ["{title}\n\n{excerpt}\n\n{url}\n\n{hashtags}", "{excerpt} {url}", "  {excerpt}  \n\n\n{url}\t\n",
             "{title}: {excerpt}\r\n{url}", "{excerpt}{excerpt}\n{url}", "{excerpt!r} {url}", "{excerpt:>30} {url}",
             "{excerpt[0]} {url}", "\n\n{excerpt}\n \n{url}\n\n\n{hashtags}"]
TEXT = st.lists(st.sampled_from(["a", " ", "word", "日本", "\u3000", "\t", "\n", "\r", "…", "x.com", "https://e.x/a",
                                 "@me@m.social", "#tag", "\ue00f", "👍🏽", "-", ","]), max_size=40).map("".join)


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(TEMPLATES), TEXT, TEXT, st.sampled_from(["graphemes", "x-weighted", "utf8-bytes", "characters"]),
       st.integers(20, 120))
def test_fitting_through_the_frame_is_filling_each_time(template: str, excerpt: str, title: str, counting: str,
                                                        limit: int) -> None:
    fields = {"title": title, "excerpt": excerpt, "url": "https://blog.example/p/", "hashtags": "#a #b"}

    def fit() -> str:
        try:
            return templates.fit_template(template, fields, limit, counting, 23)
        except (ValueError, IndexError) as exc:
            return type(exc).__name__

    fast = fit()
    saved = templates._frame
    templates._frame = lambda *args: None  # type: ignore[assignment]  # filled and tidied for every cut, as before
    try:
        assert fast == fit()
    finally:
        templates._frame = saved


LONG = st.lists(st.sampled_from(["a", " ", "word ", "日本語", "\u3000", "\n", "…", "x.com", " https://e.x/a/b ",
                                 "@me@m.social", "#tag", "👍🏽", "-", ", ", "Ünï ", "e\u0301"]), min_size=10, max_size=120
                ).map("".join)


@settings(max_examples=800, deadline=None)
@given(st.sampled_from(TEMPLATES[:5]), LONG, TEXT,
       st.sampled_from(["graphemes", "x-weighted", "utf8-bytes", "characters", "utf16"]), st.integers(20, 400),
       st.sampled_from([None, 23]))
def test_the_cut_is_found_from_the_counts_guess_as_by_halving(template: str, excerpt: str, title: str, counting: str,
                                                               limit: int, weight: int | None) -> None:
    """`shrink` starting from where the count says the cut is (`_bracket`) ends on the very cut the plain binary
    search over every cut finds, in a template and alone (`truncate`), wherever the count grows with the cut
    (both assume it does); where it does not, its cut fits all the same."""
    fields = {"title": title, "excerpt": excerpt, "url": "https://blog.example/p/", "hashtags": "#a #b"}

    def filled(cut: str) -> str:
        return templates._tidy(template.format_map(templates._Blank({**fields, "excerpt": cut})))

    def counted(out: str) -> int:
        return text.count(out, counting, weight)

    def both() -> tuple[str, str]:
        try:
            fitted = templates.fit_template(template, fields, limit, counting, weight)
        except ValueError as exc:
            fitted = type(exc).__name__
        return fitted, text.truncate(excerpt, limit // 2, counting, weight)

    fast = both()
    saved = text._bracket
    text._bracket = lambda n, measured, limit: (0, n - 1, -1)  # type: ignore[assignment]  # halving from the middle
    try:
        slow = both()
    finally:
        text._bracket = saved
    assert fast[0] == "ValueError" or counted(fast[0]) <= limit
    assert counted(fast[1]) <= limit // 2
    cuts = [head + text.ELLIPSIS for i in range(1, len(excerpt)) if (head := excerpt[:i].rstrip(text._TRAILING_JUNK))]
    for k, (got, was, measure) in enumerate(zip(fast, slow, (lambda c: counted(filled(c)), counted))):
        if got != was:
            counts = [measure(c) for c in cuts]
            assert any(x > y for x, y in zip(counts, counts[1:])), (k, got, was)  # only where the count is not monotone


# --- the engine's fitting ----------------------------------------------------------------------------------


def test_fit_draft_builds_drafts_and_parts_with_every_field() -> None:
    # fit_draft builds them directly (not dataclasses.replace): a new field must be added there too
    assert [f.name for f in dataclasses.fields(Draft)] == ["target_type", "fields", "parts", "media", "warnings"]
    assert [f.name for f in dataclasses.fields(Part)] == ["text", "template", "media", "fields"]
    draft = Draft("x", fields={"a": 1}, parts=[Part(template=Template("{title}", {"title": "T"}), fields={"b": 2})],
                  media=[], warnings=["w"])
    fitted = fit_draft(draft, Limits(text=TextLimit(max=10, counting="characters")))
    assert fitted == dataclasses.replace(draft, parts=[dataclasses.replace(draft.parts[0], text="T")])


NAMES = st.lists(st.sampled_from(["python", "Python", "C++", "Machine Learning", "静的サイト", "", " ", "#x", "a" * 40,
                                  "c#", "Café", "123", "_", "e\u0301"]), max_size=40)


@settings(max_examples=500, deadline=None)
@given(NAMES, st.sampled_from(["alnum", "hashtag", "name"]), st.sampled_from([None, 3, 30]),
       st.sampled_from([None, 10]))
def test_shaped_tags_are_the_same_from_the_cache(names: list[str], style: str, most: int | None,
                                                 length: int | None) -> None:
    rules = TagRules(max=most, style=style, max_length=length)  # type: ignore[arg-type]
    first = fitting.shape_tags(names, rules)
    assert fitting.shape_tags(iter(names), rules) == first  # from the cache, when it holds few names
    assert first == tuple(map(list, fitting._shaped(tuple(n for n in names if n.strip()), rules)))
    first[0].append("changed")
    assert fitting.shape_tags(names, rules) != first or not names  # the caller's lists are its own


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["{", "}", "%", "{%", "%}", "{{", "}}", "`", "\n", "a", "raw", "endraw"]),
                max_size=30).map("".join))
def test_forem_wraps_only_pieces_with_liquid_in_them(piece: str) -> None:
    assert forem_liquid._liquid_wrapped(piece) == forem_liquid._LIQUID.sub(forem_liquid._wrap, piece)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", " ", "\n", "&amp;", "&", "\t", "\u3000", "日本"]), max_size=30).map("".join),
       st.integers(1, 700))
def test_plain_fields_are_the_same_from_the_cache(value: str, times: int) -> None:
    long = value * times
    for field in (value, long):
        assert plain.plain_field(field) == plain.plain_field(field) == " ".join(
            (html.unescape(field) if "&" in field else field).split())


def _package_ascii_tlds() -> set[str]:
    from twitter_text.regexp.valid_cctld import valid_cctld
    from twitter_text.regexp.valid_gtld import valid_gtld

    end = ")(?=[^0-9a-zA-Z@+-]|$))"
    found: set[str] = set()
    for pattern in (valid_gtld.pattern, valid_cctld.pattern):
        assert pattern.startswith("(?:(?:") and pattern.endswith(end)
        found.update(t for t in pattern[len("(?:(?:"):-len(end)].split("|") if t.isascii())
    return found


def test_the_ascii_tlds_are_twitter_texts() -> None:
    from syndicate.content.xtlds import ASCII_TLDS

    assert ASCII_TLDS == _package_ascii_tlds()


TLD_WORDS = st.lists(st.sampled_from(["https://", "http://", "HTTP://", "www", ".", "..", "example", "blog", "com", "COM",
                                      "Org", "io", "ai", "rs", "co", "py", "md", "js", "xn--p1ai", "XN--a", "t.co", "/",
                                      "-", "@", "+", "_", "1", ":", ":8080", "?q=1", "#f", "(", ")", "e.g", "a", "Z",
                                      "crates", "\n", " ", "\u2026", ",", "'", '"', "!", "[", "]", "*", ";", "$", "%",
                                      "|", "&", "~", "=", "\u00e9", "\u2013", "\u0436", "\u30b3\u30e0", "\u212a"]),
                     min_size=1, max_size=12).map("".join)


@settings(max_examples=5000, deadline=None)
@given(TLD_WORDS, st.sampled_from(["", " ", "\n"]))
def test_a_word_is_taken_for_a_url_as_twitter_text_takes_it(word: str, lead: str) -> None:
    from twitter_text import extract_urls_with_indices

    from syndicate.content import xtext

    word = lead + word.lstrip(" \n") if lead else word
    want = tuple(tuple(e["indices"]) for e in extract_urls_with_indices(word))
    if not xtext._tld_after_a_dot(word):
        assert want == ()
    simple = xtext._simple_url(word, len(lead))
    if simple is not None and "t.co" not in word:
        assert simple == want, (word, simple, want)
    if "." in word:
        xtext._word_urls.cache_clear()
        assert xtext._word_urls(word) == want


@pytest.mark.parametrize("word", [" 2025.\u2026", "\nhttps://medium.com/@a.b/c-96795803abeb", "\nhttps://www.causely.ai/blog/x",
                                  "crates.io:", " (crates.io", " https://crates.io/api/v1/crates/x/1.0.189/download,",
                                  " https://crates.io/a/download\u2026", " crates.io.", " docs.rs", "x.com/a.", "(x.com)",
                                  "\nhttps://blog.example/posts/p-1/"])
def test_the_corpus_words_need_no_twitter_text(word: str) -> None:
    from twitter_text import extract_urls_with_indices

    from syndicate.content import xtext

    want = tuple(tuple(e["indices"]) for e in extract_urls_with_indices(word))
    lead = 1 if word[0] in " \n" else 0
    assert not xtext._tld_after_a_dot(word) or xtext._simple_url(word, lead) == want


FOREM_PIECES = ["`", "``", "```", "{%", "%}", "{{", "}}", "{% raw %}", "{% endraw %}", "{%- raw -%}", "{%raw%}", "\n",
                "\n\n", " \n", "a", " ", "\\", "{", "%", "raw", "endraw"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(FOREM_PIECES), max_size=40).map("".join))
def test_forem_finds_its_protected_stretches_as_finditer_does(text: str) -> None:
    want = [m.span() for m in forem_liquid._PROTECTED.finditer(text)]
    assert [m.span() for m in forem_liquid._protected(text)] == want


WP_PIECES = ["<p>", "</p>", "\n", " ", "\t", "[", "]", "a", ">", "<", "<!-- x\n[ -->", "<pre>", "</pre>", '<a href="[x]\n">',
             "b c", "<!--", "-->", "\n\n", " \n ", " \t\n\t "]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(WP_PIECES), max_size=30).map("".join))
def test_wordpress_text_and_pre_are_made_safe_as_the_patterns_make_them(text: str) -> None:
    from connectors import wordpress_html as wp

    assert wp._text_safe(text) == wp._TEXT.sub(wp._in_text, text)
    assert wp._pre_safe(text) == wp._SAFE.sub(wp._in_pre, text)


@settings(max_examples=5000, deadline=None)
@given(st.lists(st.sampled_from([plain._SOFT, "a", " ", "\n", "日", "本", "\u3000", "。", "é", "x"]), max_size=24).map("".join))
def test_soft_breaks_are_joined_as_the_pattern_joins_them(text: str) -> None:
    assert plain._soften(text) == plain._SOFT_AT.sub(plain._soft, text)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(LINK_PIECES + ["]:", "\n[", "\n   [", "\n    [", "\n[^", "[^", " ", "\n\n"]), max_size=24)
       .map("".join))
def test_link_candidates_are_where_the_one_pattern_finds_them(text: str) -> None:
    pattern = links._CANDIDATE if "]:" in text else links._CANDIDATE_NO_DEF
    candidates = links._candidates(text)
    for at in range(len(text) + 1):  # as absolutise asks: `at` only grows
        found = pattern.search(text, at)
        assert candidates(at) == (-1 if found is None else found.start()), (text, at)
