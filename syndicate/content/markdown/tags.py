"""Generic open/close tag pairing and expansion, shared by shortcodes, Liquid and JSX."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

_PARAM = re.compile(
    r"""([A-Za-z_][\w.-]*)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|\{(?:[^{}]|\{[^{}]*\})*\}|[^\s"'`]+)"""
    r"""|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|[^\s"'`=]+)""",
    re.S,
)
_ESCAPE = re.compile(r"\\(.)", re.S)


@dataclass
class Tag:
    """One shortcode / Liquid tag / JSX element as written."""

    start: int
    end: int
    name: str
    closing: bool = False
    self_closing: bool = False
    named: dict[str, str] = field(default_factory=dict)
    positional: list[str] = field(default_factory=list)
    raw: str = ""  # the parameter text as written
    style: str = ""  # "<" | "%" for Hugo, "zola", "liquid", "jsx"
    inline: bool = False  # written inside a line of text (a sentence), not on a line of its own

    def get(self, *names: str, pos: int | None = None) -> str:
        """The first named parameter present, else the positional one at `pos`."""
        for name in names:
            if name in self.named:
                return self.named[name]
        if pos is not None and pos < len(self.positional):
            return self.positional[pos]
        return ""


def inline_at(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]` shares its line with other text."""
    before = text.rfind("\n", 0, start) + 1
    after = text.find("\n", end)
    return bool(text[before:start].strip() or text[end:after if after >= 0 else len(text)].strip())


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return _ESCAPE.sub(r"\1", value[1:-1])
    if len(value) >= 2 and value[0] == value[-1] == "`":
        return value[1:-1]
    if len(value) >= 2 and value[0] == "{" and value[-1] == "}":
        inner = value[1:-1].strip()
        if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "\"'`":
            return unquote(inner)
        return value
    return value


def parse_params(raw: str, tag: Tag) -> None:
    """Fill `tag.named` and `tag.positional` from `key=value` and bare values."""
    for m in _PARAM.finditer(raw):
        if m.group(1):
            tag.named[m.group(1)] = unquote(m.group(2))
        else:
            tag.positional.append(unquote(m.group(3)))


def pair(tags: list[Tag], any_closer: bool = False) -> dict[int, int]:
    """Opener index → closer index; a closer matches the nearest open tag of its name."""
    stack: list[int] = []
    partner: dict[int, int] = {}
    for i, tag in enumerate(tags):
        if tag.closing:
            for k in range(len(stack) - 1, -1, -1):
                if any_closer or tags[stack[k]].name == tag.name:
                    partner[stack[k]] = i
                    del stack[k:]
                    break
        elif not tag.self_closing:
            stack.append(i)
    return partner


Render = Callable[[Tag, "str | None", "str | None"], str]


def expand(text: str, tags: list[Tag], render: Render, any_closer: bool = False,
           stray: Callable[[Tag], str] | None = None) -> str:
    """Replace every tag by `render(tag, inner, raw_inner)`; inner is None for a lone tag."""
    if not tags:
        return text
    partner = pair(tags, any_closer)

    def walk(i: int, stop: int, pos: int, end: int) -> str:
        out: list[str] = []
        while i < stop:
            tag = tags[i]
            out.append(text[pos:tag.start])
            if tag.closing:
                out.append(stray(tag) if stray else "")
                pos, i = tag.end, i + 1
                continue
            j = partner.get(i)
            if j is None:
                out.append(render(tag, None, None))
                pos, i = tag.end, i + 1
            else:
                inner = walk(i + 1, j, tag.end, tags[j].start)
                out.append(render(tag, inner, text[tag.end:tags[j].start]))
                pos, i = tags[j].end, j + 1
        out.append(text[pos:end])
        return "".join(out)

    return walk(0, len(tags), 0, len(text))
