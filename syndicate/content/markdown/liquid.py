"""Jekyll's Liquid in post bodies: tags (`{% x %}`, paired `{% x %}…{% endx %}`) and `{{ site.* }}` / `{{ page.* }}`.

Jekyll tags: https://jekyllrb.com/docs/liquid/tags/ ; `post_url` and `link` give the
linked post's URL as the loader computes it (`syndicate.content.xref`), absolute.
"""
from __future__ import annotations

import re

from syndicate.content.markdown import builtins
from syndicate.content.markdown.attrs import closing_gaps
from syndicate.content.markdown.context import Context
from syndicate.content.markdown.tags import Tag, expand, inline_at, parse_params

_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.S)
_HIGHLIGHT = re.compile(r"\{%-?\s*highlight(?:\s+([\w+#.-]+))?[^%]*?-?%\}(.*?)\{%-?\s*endhighlight\s*-?%\}", re.S)
# as Liquid's own tokenizer reads a tag: up to the first `%}`, quotes or not (a tag with broken
# quoting, `{% figure caption:"…" class:"third' %}`, is still one tag)
_TAG = re.compile(r"""(?<!\{)\{%-?\s*(?P<name>[A-Za-z_]\w*)(?P<args>(?:[^%{}]|%(?!\})|\{(?!%))*?)\s*-?%\}(?!\})""")
_COLON_PARAM = re.compile(r"""(\w+):\s*("[^"]*"|'[^']*')""")
_PREFIX = re.compile(r"\{\{-?\s*site\.(?:url|baseurl)\s*-?\}\}(?:\{\{-?\s*site\.baseurl\s*-?\}\})?(?=\{%-?\s*(?:post_url|link)\b)")
_OUTPUT = re.compile(r"\{\{-?\s*(?P<expr>(?:site|page|post|include)\.[\w.-]+|\"[^\"]*\"\s*\|\s*\w+|'[^']*'\s*\|\s*\w+)\s*-?\}\}(?=(?P<next>\{\{-?\s*site\.baseurl)?)")
_INCLUDES = frozenset({"include", "include_cached", "include_relative"})
_SILENT = frozenset({"assign", "capture", "endcapture", "comment", "increment", "decrement", "cycle", "else", "elsif", "when", "break", "continue", "seo", "feed_meta", "toc"})
# blocks whose output depends on template data we do not have: a loop's items, a condition's value
_UNEXPANDABLE = {"for": "loop", "tablerow": "loop", "if": "condition", "unless": "condition", "case": "condition",
                 "macro": "macro", "set": "assignment", "block": "template block", "call": "macro call"}
_LIQUID_MEANING = {"post_url": "post_url", "link": "link", "tweet": "x", "twitter": "x", "asset_img": "image", "img": "image"}


def protect_raw(text: str, ctx: Context) -> str:
    """`{% raw %}…{% endraw %}` → its content, and `{% highlight %}` → fenced code, both kept literally."""
    if "raw" in text:
        text = _RAW.sub(lambda m: ctx.protect(m.group(1)), text)
    if "highlight" in text:
        text = _HIGHLIGHT.sub(lambda m: ctx.protect(ctx.fenced(ctx.restore(m.group(2)), m.group(1) or ""), code="block"), text)
    return text


def expand_liquid(text: str, ctx: Context) -> str:
    """Expand Liquid tags, then `{{ site.* }}` / `{{ page.* }}` outputs."""
    if "{%" in text:
        text = _PREFIX.sub("", text)
        tags: list[Tag] = []
        for m in _TAG.finditer(text):
            name, args = m.group("name"), m.group("args")
            closing = name.startswith("end") and len(name) > 3
            tag = Tag(m.start(), m.end(), name[3:] if closing else name, closing=closing, raw=args.strip(), style="liquid",
                      inline=inline_at(text, m.start(), m.end()))
            if not closing:
                parse_params(_COLON_PARAM.sub(r"\1=\2", args), tag)
            tags.append(tag)

        def render(tag: Tag, inner: str | None, raw_inner: str | None) -> str:
            return _render(tag, inner, raw_inner, ctx)

        def stray(tag: Tag) -> str:
            if tag.name not in ("if", "unless", "for", "case", "capture", "comment"):
                ctx.warn(f"Liquid tag 'end{tag.name}' without an opening tag removed")
            return ""

        text = expand(text, tags, render, stray=stray)
    if "{{" in text:
        text = closing_gaps(_OUTPUT, lambda m: _output(m, ctx), text)
    return text


def _render(tag: Tag, inner: str | None, raw_inner: str | None, ctx: Context) -> str:
    what = f"Liquid tag {tag.name!r}"
    name = tag.name
    if name in _INCLUDES:
        ctx.warn(f"Liquid {name} {tag.raw.split()[0] if tag.raw else ''!r} dropped")
        return ""
    if name in ("comment", "capture"):  # never printed where they stand
        return ""
    if name in _UNEXPANDABLE and not ctx.post.site.shortcodes.get(name) and (inner is not None or name != "set"):
        ctx.warn(f"Liquid {_UNEXPANDABLE[name]} '{{% {name} {' '.join(tag.raw.split())[:40]} %}}' cannot be expanded "
                 "here: removed")
        return ""
    if name in _SILENT:
        return inner or ""
    mapped = ctx.post.site.shortcodes.get(name)
    meaning = mapped or _LIQUID_MEANING.get(name, name)
    if meaning in ("post_url", "link"):
        target = tag.raw.strip().strip("\"'")
        return builtins.post_link(ctx, meaning, target, f"{{% {name} {target} %}}")
    if meaning in ("figure", "image", "img") and inner is not None:
        caption = tag.get("caption", "title")
        return "\n\n" + inner.strip("\n") + (f"\n*{' '.join(caption.split())}*" if caption else "") + "\n\n"
    if meaning in ("gist",) and tag.positional:
        user, _, gid = tag.positional[0].rpartition("/")
        tag.positional[:1] = [user or "", gid] if user else [gid]
    out = builtins.render(meaning, tag, inner, raw_inner, ctx, what)
    if out is not None:
        return out
    return builtins.unknown(tag, inner, ctx, what)


def _output(m: re.Match[str], ctx: Context) -> str:
    expr = m.group("expr")
    follows_base = m.group("next") or ""
    if expr == "site.url":
        return ctx.origin if follows_base else ctx.site_url
    if expr == "site.baseurl":
        return ctx.base_path
    if "|" in expr:
        literal, _, flt = expr.partition("|")
        value, flt = literal.strip()[1:-1], flt.strip()
        if flt == "relative_url":
            return ctx.base_path + "/" + value.lstrip("/")
        if flt == "absolute_url":
            return ctx.site_url + "/" + value.lstrip("/")
        return m.group(0)
    scope, _, key = expr.partition(".")
    if scope in ("page", "post"):
        value = ctx.param(key)
        if value is None:
            value = {"title": ctx.post.title, "url": ctx.post.url, "slug": ctx.post.slug}.get(key)
        if value is not None:
            return str(value)
    ctx.warn(f"Liquid output '{{{{ {expr} }}}}' has no value: removed")
    return ""
