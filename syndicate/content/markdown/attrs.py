"""Attribute lists and template leftovers: syntax the generator consumes, never text a reader sees.

- kramdown's inline attribute lists and extensions (https://kramdown.gettalong.org/syntax.html#inline-attribute-lists):
  `{: .notice}` on its own line, `[link](url){:target="_blank"}` after a span, `{:ref: .x}`
  definitions, `{::comment}…{:/comment}` (dropped), `{::nomarkdown}…{:/}` (kept), `{::options /}`;
- goldmark's attributes (`## Title {#id .class}`, `{.class}` on its own line after a block);
- template syntax a generator would expand and we cannot (a `{{ var }}` left after Liquid or
  Nunjucks ran): removed with a warning, and an HTML tag holding one goes whole (`<img src="">`).
"""
from __future__ import annotations

import re

from syndicate.content.markdown.context import Context

_HEADING = r"^( {0,3}#{1,6}[ \t].*?)[ \t]*\{[#.:][^{}\n]*\}[ \t]*$"
_OWN_LINE = r"^[ \t]*\{(?::[^{}\n]*|[.#][\w-][^{}\n]*)\}[ \t]*(?:\n|$)"
_SPAN = r"\{:(?!:)[^{}\n]*\}"
_ATTRS = re.compile(f"{_HEADING}|{_OWN_LINE}|{_SPAN}", re.M)
_COMMENT = re.compile(r"\{::comment\}.*?\{:/(?:comment)?\}", re.S)
_NOMARKDOWN = re.compile(r"\{::nomarkdown\}(.*?)\{:/(?:nomarkdown)?\}", re.S)
_OPTIONS = re.compile(r"\{::options\b[^{}]*/\}")
_VARIABLE = re.compile(r"\{\{-?\s*([^{}\n]{0,200}?)\s*-?\}\}")
_TAG_WITH_VARIABLE = re.compile(r"<[A-Za-z][\w-]*\b[^<>]*\{\{[^<>]*>")
_NUNJUCKS_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_STRAY_TAG = re.compile(r"\{%-?\s*([A-Za-z_]\w*)[^%\n]{0,200}?-?%\}")


def strip_attributes(text: str) -> str:
    """`text` without kramdown's and goldmark's attribute lists (a heading keeps its text)."""
    if "{::" in text:
        text = _OPTIONS.sub("", _NOMARKDOWN.sub(r"\1", _COMMENT.sub("", text)))
    return _ATTRS.sub(lambda m: m.group(1) or "", text)


def has_attributes(text: str) -> bool:
    return "{#" in text or "{:" in text or "{." in text


def strip_leftovers(text: str, ctx: Context) -> str:
    """Template syntax no pass could expand, removed with a warning: nothing half-expanded reaches a copy."""
    if "{#" in text:
        text = _NUNJUCKS_COMMENT.sub("", text)
    if "{{" in text:
        def tag(m: re.Match[str]) -> str:
            ctx.warn(f"HTML tag with a template variable removed: {_short(m.group(0))}")
            return ""

        def variable(m: re.Match[str]) -> str:
            ctx.warn(f"template variable '{{{{ {m.group(1)} }}}}' has no value: removed")
            return ""

        text = _VARIABLE.sub(variable, _TAG_WITH_VARIABLE.sub(tag, text))
    if "{%" in text:
        def stray(m: re.Match[str]) -> str:
            ctx.warn(f"template tag '{{% {m.group(1)} %}}' could not be expanded: removed")
            return ""

        text = _STRAY_TAG.sub(stray, text)
    return text


def _short(tag: str) -> str:
    return tag if len(tag) <= 60 else tag[:57] + "..."
