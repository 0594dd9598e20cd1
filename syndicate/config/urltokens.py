"""The permalink tokens each pattern language knows, so that an unknown one is refused by name.

`[site] permalink` takes syndicate's own set (the union below); a Hugo
`[permalinks]` entry takes Hugo's (https://gohugo.io/configuration/permalinks/:
named attributes, `:sections[1:]` slices and Go date layouts such as
`:2006-01`); a Jekyll `permalink:` takes Jekyll's placeholders
(https://jekyllrb.com/docs/permalinks/#placeholders). A leaf module: the config
schema and the loader both read it.
"""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

HUGO = frozenset({
    "year", "month", "monthname", "day", "weekday", "weekdayname", "yearday", "section", "sectionslug",
    "sections", "sectionslugs", "title", "slug", "slugorfilename", "filename", "contentbasename",
    "slugorcontentbasename",
})
JEKYLL = frozenset({
    "year", "short_year", "month", "i_month", "short_month", "long_month", "day", "i_day", "y_day", "w_year",
    "week", "w_day", "short_day", "long_day", "hour", "minute", "second", "title", "slug", "categories",
    "slugified_categories", "output_ext", "name", "path", "basename", "collection",
})
OURS = HUGO | JEKYLL
FLAVOURS = {"hugo": HUGO, "jekyll": JEKYLL, "site": OURS}
# Hugo reads `:\w+(\[.+?\])?` (resources/page/permalinks.go, attributeRegexp); Jekyll `:[a-z_]+`.
HUGO_TOKEN = re.compile(r"(?<!\\):(\w+)(\[[^\]]+\])?")
TOKEN = re.compile(r":([a-z_]+)")
# A Go time layout is any attribute that formatting a date would change: one of its elements
# (https://pkg.go.dev/time#pkg-constants) appears in it.
_GO_LAYOUT = re.compile(r"January|Jan|Monday|Mon|MST|PM|pm|0[1-6]|_2|[1-5]")


def is_go_layout(attr: str) -> bool:
    """Whether Hugo reads `attr` as a Go date layout (`:2006`, `:01`, `:Jan`)."""
    return _GO_LAYOUT.search(attr) is not None


def unknown(pattern: str, flavour: str) -> list[str]:
    """The tokens of `pattern` that `flavour` ("site", "hugo", "jekyll") does not know, as written."""
    known = FLAVOURS[flavour]
    out: list[str] = []
    if flavour == "hugo":
        for m in HUGO_TOKEN.finditer(pattern):
            name, cut = m.group(1), m.group(2)
            if cut is not None and name in ("sections", "sectionslugs"):
                continue
            if name in known or (cut is None and is_go_layout(name)):
                continue
            out.append(m.group(0))
    else:
        out = [m.group(0) for m in TOKEN.finditer(pattern) if m.group(1) not in known]
    return list(dict.fromkeys(out))


def allowed(flavour: str) -> str:
    """The tokens `flavour` allows, for a message."""
    extra = ", :sections[a:b] and Go date layouts such as :2006" if flavour == "hugo" else ""
    return " ".join(":" + t for t in sorted(FLAVOURS[flavour])) + extra


# Go's layout elements (https://pkg.go.dev/time#pkg-constants), longest first where one begins another.
_GO_CHUNK = re.compile(r"January|Jan|Monday|Mon|MST|2006|002|__2|_2|01|02|03|04|05|06|15|PM|pm|1|2|3|4|5")


def go_format(layout: str, d: datetime) -> str:
    """`d` formatted by a Go time layout, as Hugo formats a `:2006-01-02` permalink attribute."""
    hour12 = d.hour % 12 or 12

    def one(m: re.Match[str]) -> str:
        chunk = m.group(0)
        return {
            "January": d.strftime("%B"), "Jan": d.strftime("%b"), "Monday": d.strftime("%A"),
            "Mon": d.strftime("%a"), "MST": d.strftime("%Z") or "UTC", "2006": f"{d.year:04d}",
            "002": f"{d.timetuple().tm_yday:03d}", "__2": f"{d.timetuple().tm_yday:>3d}", "_2": f"{d.day:>2d}",
            "01": f"{d.month:02d}", "02": f"{d.day:02d}", "03": f"{hour12:02d}", "04": f"{d.minute:02d}",
            "05": f"{d.second:02d}", "06": f"{d.year % 100:02d}", "15": f"{d.hour:02d}",
            "PM": "PM" if d.hour >= 12 else "AM", "pm": "pm" if d.hour >= 12 else "am", "1": str(d.month),
            "2": str(d.day), "3": str(hour12), "4": str(d.minute), "5": str(d.second),
        }[chunk]

    return _GO_CHUNK.sub(one, layout)


def _slice(cut: str, items: list[str]) -> list[str]:
    """Hugo's `[a:b]`, `[n]`, `[last]` over the section path, as lenient out of range as Hugo's toSliceFunc."""
    inner = cut.strip().lower()[1:-1]

    def bound(text: str, low: bool) -> int:
        if not text:
            return 0 if low else len(items)
        n = len(items) - 1 if text == "last" else max(int(text) if text.lstrip("-").isdigit() else 0, 0)
        return (-1 if low else len(items)) if n >= len(items) else n

    if not items:
        return []
    if ":" not in inner:
        n = bound(inner, True)
        return [items[n]] if n >= 0 and items[n] else []
    a, _, b = inner.partition(":")
    lo, hi = bound(a, True), bound(b, False)
    return items[lo:hi] if lo >= 0 and hi >= 0 else []


def expand(pattern: str, values: dict[str, str], flavour: str = "site", *, date: datetime | None = None,
           sections: list[str] | tuple[str, ...] = ()) -> str:
    """`/:year/:slug/` with `values` → a URL path. Tokens `flavour` does not know stay as written
    (config patterns are checked at load; see `unknown`)."""
    def quoted(text: str) -> str:
        return quote(text, safe="/~._-")

    if flavour == "hugo":
        def hugo(m: re.Match[str]) -> str:
            name, cut = m.group(1), m.group(2)
            if cut is not None and name in ("sections", "sectionslugs"):
                return quoted("/".join(_slice(cut, list(sections))))
            if name in values:
                return quoted(values[name]) + (cut or "")
            if cut is None and date is not None and is_go_layout(name):
                return quoted(go_format(name, date).lower())
            return m.group(0)

        out = HUGO_TOKEN.sub(hugo, pattern).replace("\\:", ":")
    else:
        out = TOKEN.sub(lambda m: quoted(values[m[1]]) if m[1] in values else m[0], pattern)
    return re.sub(r"/{2,}", "/", "/" + out.lstrip("/"))
