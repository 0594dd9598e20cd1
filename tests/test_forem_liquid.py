"""connectors.forem_liquid: Liquid escaping for Forem on the shared code scan (dev.to's Liquid tests, moved here)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.forem_liquid import escape_text, forem_markdown, liquid_embed, liquid_safe
from syndicate.content.markdown import Document, Embed
from tests.fakes.devto import liquid_error
from tests.test_markdown import doc


@pytest.mark.parametrize(
    "body",
    [
        "Hello {{ name }} and {% include foo.html %}.\n",
        "An unterminated {% tag and a lone {{ brace\n",
        "Inline `{{ code }}` stays, {{ text }} is wrapped.\n",
        "```liquid\n{% if x %}{{ y }}{% endif %}\n```\n\nAfter {{ fence }}.\n",
        "~~~\n{{ tilde }}\n~~~\n\n{{ after }}\n",
        "Para\n\n    {{ indented code }}\n\nafter {% x %}\n",
        "- item {{ a }}\n\n    continuation {{ b }}\n",
        "Already {% raw %}{{ safe }}{% endraw %} and {{ not }}.\n",
        "A literal {% endraw %} in text.\n",
        "{{ multi\nline }} and {%\nmulti %}\n",
        "`` a ` {{ b }} `` then {{ c }}\n",
        "## Usage\n    {{ indented under a heading }}\n\nand {{ text }}\n",
    ],
)
def test_liquid_escaped_body_passes_forem(body: str) -> None:
    assert liquid_error(body) is not None  # the fake refuses the raw body...
    assert liquid_error(liquid_safe(body)) is None  # ...and accepts the escaped one
    assert liquid_error(forem_markdown(doc(body))) is None  # so does a prepared post


def test_liquid_inside_code_is_untouched() -> None:
    body = (
        "```\n{{ x }}\n```\n\nInline `{% y %}`.\n\n    {{ indented }}\n\n~~~~\n{% t %}\n~~~\n~~~~\n\n"
        "- item\n\n    ```\n    {{ in a list }}\n    ```\n"
    )
    assert liquid_safe(body) == body
    assert liquid_error(body) is None  # the fake's own (markdown-it) view agrees


def test_indented_code_under_a_heading_is_code() -> None:
    body = "# Install\n    {{ not a variable }}\n"
    assert liquid_safe(body) == body
    assert forem_markdown(doc(body)).strip() == body.strip()


def test_no_liquid_fast_path() -> None:
    body = "Just { braces } and % signs.\n"
    assert liquid_safe(body) is body
    assert escape_text(body) is body


def test_embeds_become_forem_tags_and_are_not_escaped() -> None:
    segments: list[str | Embed] = [
        "Intro {{ x }}\n\n",
        Embed("youtube", "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"), "\n\n",
        Embed("vimeo", "76979871", "https://vimeo.com/76979871"), "\n\n",
        Embed("gist", "user/abc123", "https://gist.github.com/user/abc123"), "\n\n",
        Embed("x", "20", "https://x.com/jack/status/20"), "\n\n",
        Embed("youtube", "bad id %}", "https://youtube.com/watch?v=bad"), "\n",
    ]
    body = forem_markdown(Document(segments=segments))
    assert "{% youtube dQw4w9WgXcQ %}" in body
    assert "{% vimeo 76979871 %}" in body
    assert "{% gist https://gist.github.com/user/abc123 %}" in body
    assert "{% embed https://x.com/jack/status/20 %}" in body
    assert "{% raw %}{{ x }}{% endraw %}" in body
    assert "bad id" not in body and "https://youtube.com/watch?v=bad" in body  # unsafe id: plain URL
    assert liquid_error(body) is None
    assert liquid_embed(Embed("codepen", "x", "https://codepen.io/a/pen/x")) == "{% codepen https://codepen.io/a/pen/x %}"


def test_prepared_document_uses_the_code_found_by_prepare() -> None:
    d = doc("Text and `{{ span }}`.\n\n```\n{% t %}\n```\n\n- [a](/x) {{ b }}\n")
    assert d.code == [[(9, 21, "span"), (24, 39, "block")]]  # nothing moved outside code: prepare's scan holds
    body = forem_markdown(d)
    assert "`{{ span }}`" in body and "```\n{% t %}\n```" in body and "{% raw %}{{ b }}{% endraw %}" in body
    assert liquid_error(body) is None


def test_expanded_document_is_scanned_once_when_first_needed() -> None:
    # removing {% t %} turns its line into an HTML block that swallows the fence: the code moved
    d = doc("{% t %}<div>\n```\n{{ v }}\n```\n\n{{< youtube dQw4w9WgXcQ >}}\n")
    assert d.code is None
    body = forem_markdown(d)
    # no code block any more (Forem's own span rule still keeps ```{{ v }}```); the blocks are looked for once,
    # the spans (Forem's own) never
    assert d._cache["blocks"] == [[], [], []] and d.code is None
    assert "{% youtube dQw4w9WgXcQ %}" in body
    assert liquid_error(body) is None


def test_raw_block_content_is_text_again_after_prepare() -> None:
    # Jekyll's {% raw %} is consumed by prepare: its content is text, so dev.to needs it escaped again
    body = forem_markdown(doc("Show {% raw %}{{ page.title }}{% endraw %} literally.\n"))
    assert "{% raw %}{{ page.title }}{% endraw %}" in body
    assert liquid_error(body) is None


def test_leading_rule_is_not_read_as_front_matter() -> None:
    assert forem_markdown(Document(segments=["---\n\nText\n"])).startswith("***")


MD_PIECES = st.sampled_from(
    ["{{ v }}", "{% t %}", "{%", "{{", "}}", "%}", "{% raw %}", "{% endraw %}", "`", "``", "```", "~~~", "\n",
     "\n\n", "    ", "\t", "- ", "1. ", "> ", "word ", "<pre>", "</pre>", "\\", "*", "#"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(MD_PIECES, max_size=40).map("".join))
def test_liquid_safe_always_passes_the_fake(markdown: str) -> None:
    assert liquid_error(liquid_safe(markdown)) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(MD_PIECES, max_size=40).map("".join))
def test_prepared_body_always_passes_the_fake(markdown: str) -> None:
    assert liquid_error(forem_markdown(doc(markdown))) is None
