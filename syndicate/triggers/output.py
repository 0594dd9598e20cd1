"""What the CLI prints: result rows, the one-line summary, warnings, and the `--json` shape.

Every command that reports results (`push`, `retry`, `watch --once`,
`baseline`, `resolve`) hands a list of result dicts (`Outcome.as_dict()` and
the like: path, target, action, status, reason, remote_url, error, warnings)
to the functions here. A terminal gets a Rich table; piped output gets one
plain line per row, never folded, so a URL stays whole. Text from posts and
platforms is printed as plain `Text`, never as markup.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

Result = Mapping[str, Any]

STYLES = {"create": "green", "update": "yellow", "delete": "red", "repost": "yellow", "error": "red",
          "check": "magenta", "done": "green", "failed": "red", "deferred": "yellow", "waiting": "yellow", "held": "yellow",
          "published": "green", "creating": "yellow", "baseline": "cyan", "deleted": "dim", "queued": "cyan",
          "draft": "dim", "interrupted": "red", "left": "yellow", "deleting": "yellow"}
# the summary's words, in the order they are said
KINDS = ("created", "updated", "reposted", "deleted", "baselined", "resolved", "queued", "unchanged", "skipped",
         "deferred", "to check", "waiting", "failed", "interrupted", "not tried")
_DONE = {"create": "created", "update": "updated", "repost": "reposted", "delete": "deleted",
         "baseline": "baselined", "resolve": "resolved"}
_OTHER = {"deferred": "deferred", "failed": "failed", "waiting": "waiting", "check": "to check", "queued": "queued",
          "interrupted": "interrupted", "left": "not tried"}
WARNING_MAX = 400  # characters of one warning line; a longer one is cut and says by how much

_consoles: dict[bool, tuple[Any, Console]] = {}  # per stream kind: the stream it was made for, and it


def console(stderr: bool = False) -> Console:
    """The console for stdout (or stderr); a new stream (a test runner's) gets its own."""
    stream = sys.stderr if stderr else sys.stdout
    known = _consoles.get(stderr)
    if known is None or known[0] is not stream:  # the same stream object, not only the same id: a freed
        from rich.console import Console  # stream's id is reused by the next one (a test runner's)

        known = _consoles[stderr] = (stream, Console(stderr=stderr, soft_wrap=True, highlight=False))
    return known[1]


def say(*chunks: Any, stderr: bool = False) -> None:
    """Print `chunks` (plain strings, or (text, style) pairs) with no markup parsing at all."""
    from rich.text import Text

    line = Text()
    for chunk in chunks:
        if isinstance(chunk, tuple):
            line.append(str(chunk[0]), style=chunk[1])
        else:
            line.append(str(chunk))
    console(stderr).print(line)


# --- what a result means -----------------------------------------------------------------


def kind(result: Result) -> str:
    """The summary's word for one result: created, updated, unchanged, failed..."""
    status, action = str(result.get("status") or ""), str(result.get("action") or "")
    if status == "done":
        return _DONE.get(action, "skipped")
    if status == "skipped":
        return "unchanged" if result.get("reason") == "unchanged" else "skipped"
    return _OTHER.get(status, status or "skipped")


def summary(results: Iterable[Result]) -> str:
    """"12 created, 3 updated, 240 unchanged, 1 failed" (only the kinds that occur), or "nothing to do"."""
    return summary_of(Counter(kind(r) for r in results))


def summary_of(counts: Mapping[str, int]) -> str:
    """`summary` from counts already made (kind → how many): the progress bar's line says it the same way."""
    order = [k for k in KINDS if counts.get(k)] + sorted(k for k in counts if k not in KINDS and counts[k])
    return ", ".join(f"{counts[k]} {k}" for k in order) or "nothing to do"


def plan_summary(plans: Iterable[tuple[str, str]]) -> str:
    """A dry run's (action, reason) pairs said once: "3 to create, 1 to update, 240 unchanged"."""
    words = {"create": "to create", "update": "to update", "delete": "to delete", "repost": "to repost",
             "defer": "deferred", "check": "to check", "error": "failed"}
    counts = Counter("unchanged" if (a, r) == ("skip", "unchanged") else words.get(a, "skipped") for a, r in plans)
    order = ["to create", "to update", "to repost", "to delete", "unchanged", "skipped", "deferred", "to check",
             "failed"]
    return ", ".join(f"{counts[k]} {k}" for k in order if counts[k]) or "nothing to do"


def detail(result: Result) -> str:
    """What to say beside a result: the error, else the copy's URL, else the reason; never empty."""
    for key in ("error", "remote_url", "reason", "task"):
        if result.get(key):
            return str(result[key])
    return str(result.get("status") or "")


# --- printing ----------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[tuple[str, str]]]) -> None:
    """Rows of (text, style) cells: a Rich table on a terminal, else one unfolded line per row."""
    from rich.text import Text

    out = console()
    if out.is_terminal:
        from rich.table import Table

        grid = Table(*headers)
        for column in grid.columns:
            column.overflow = "fold"
        for row in rows:
            grid.add_row(*(Text(text, style=style) for text, style in row))
        out.print(grid)
        return
    widths = [max([len(h), *(len(r[i][0]) for r in rows)]) for i, h in enumerate(headers)]
    lines = [[(h, "bold") for h in headers], *rows]
    for row in lines:
        line = Text()
        for i, (text, style) in enumerate(row):
            last = i == len(row) - 1
            line.append(text if last else text.ljust(widths[i]), style=style)
            if not last:
                line.append("  ")
        out.print(line, soft_wrap=True, overflow="ignore", crop=False)


def results(items: Sequence[Result], *, show_all: bool = False) -> None:
    """The results (unchanged ones only with `show_all`), their warnings, then the summary line."""
    shown = _one_row_per_post_skipped_alike([r for r in items if show_all or kind(r) != "unchanged"])
    if shown:
        table(("post", "target", "action", "result", "detail"),
              [[(str(r.get("path") or r.get("post_id") or ""), ""), (str(r.get("target") or ""), ""),
                (str(r.get("action") or ""), ""), (str(r.get("status") or ""), STYLES.get(str(r.get("status")), "dim")),
                (detail(r), "")] for r in shown])
    warnings(items)
    say((summary(items), "bold"))


def _one_row_per_post_skipped_alike(items: list[Result]) -> list[Result]:
    """A post every target skipped for one reason (a draft, an expired post, opted out) is one row, with
    the targets counted, not one row per target at every run."""
    groups: dict[str, list[Result]] = {}
    for r in items:
        groups.setdefault(str(r.get("path") or r.get("post_id") or ""), []).append(r)
    out: list[Result] = []
    for rows in groups.values():
        same = {(r.get("status"), r.get("action"), r.get("reason"), r.get("error")) for r in rows}
        if len(rows) > 2 and len(same) == 1 and rows[0].get("status") == "skipped":
            out.append({**rows[0], "target": f"all {len(rows)}"})
        else:
            out.extend(rows)
    return out


def warnings(items: Iterable[Result]) -> None:
    """Each post's warnings once (not once per target), each line bounded."""
    shown: set[tuple[str, str]] = set()
    for r in items:
        path = str(r.get("path") or r.get("post_id") or "")
        for w in r.get("warnings") or []:
            if (path, w) not in shown:
                shown.add((path, w))
                say(("warning ", "yellow"), path, ": ", bounded(str(w)))


def errors(items: Sequence[tuple[Path, str]]) -> None:
    """Posts that could not be loaded, on stderr."""
    for _path, message in items:
        say(("skipped ", "red"), message, stderr=True)


def bounded(text: str, limit: int = WARNING_MAX) -> str:
    """`text`, or its first `limit` characters and how many more there were."""
    if len(text) <= limit:
        return text
    return f"{text[:limit].rstrip()}… (+{len(text) - limit:,} more characters)"


# --- --json --------------------------------------------------------------------------------------


def errors_json(items: Sequence[tuple[Path, str]]) -> list[dict[str, str]]:
    return [{"path": str(p), "error": e} for p, e in items]


def emit_json(payload: Any) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def emit_results(items: Sequence[Result], errs: Sequence[tuple[Path, str]], log: Sequence[str]) -> None:
    """The one `--json` shape of every command that reports: {"results", "errors", "log"}."""
    emit_json({"results": [dict(r) for r in items], "errors": errors_json(errs), "log": list(log)})
