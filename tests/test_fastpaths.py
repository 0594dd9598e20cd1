"""The pipeline's fast paths (issue 17: the pipeline ratio) give exactly what the plain ways gave."""
from __future__ import annotations

from urllib.parse import urljoin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.content.markdown import links
from syndicate.content.markdown.context import Context
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
