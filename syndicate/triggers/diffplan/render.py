"""A plan as text, as Markdown for a pull-request comment, or as JSON."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from syndicate.triggers.diffplan.model import ACTIONS, MARKER, NO_LEDGER, Entry, Report

if TYPE_CHECKING:
    pass



# --- output -----------------------------------------------------------------------------------


_ICON = {"publishes_draft": "📝", "mass_deletion": "🗑️", "over_limit": "✂️", "refused": "⛔", "unreadable": "⛔", "shared_url": "⛔"}


ALERTS_SHOWN = 10  # of one kind, at the top of text and markdown (JSON has them all)


def _top(report: Report) -> list[str]:
    """The alerts to print: at most `ALERTS_SHOWN` of a kind, then how many more."""
    out: list[str] = []
    kinds = list(dict.fromkeys(a.kind for a in report.alerts))
    for kind in kinds:
        same = [a for a in report.alerts if a.kind == kind]
        out += [a.message for a in same[:ALERTS_SHOWN]]
        if len(same) > ALERTS_SHOWN:
            out.append(f"… and {len(same) - ALERTS_SHOWN} more of these ({kind.replace('_', ' ')}: see below)")
    return out


def _short(commit: str) -> str:
    return commit[:12]


def _entries_sorted(report: Report) -> list[Entry]:
    order = {a: i for i, a in enumerate(ACTIONS)}
    return sorted(report.entries, key=lambda e: (order.get(e.action, 9), e.path, e.target))


def _summary_line(report: Report) -> str:
    s = report.summary()
    line = ", ".join(f"{s[a]} {a}" for a in ACTIONS)
    if s["cost_usd"]:
        line += f"; cost ${s['cost_usd']:.4f}"
        costs = []
        for target, c in s["cost_by_target"].items():
            budget = c["monthly_budget_usd"]
            costs.append(f"{target} ${c['cost_usd']:.4f}" + (f" of a ${budget:g} monthly budget" if budget else ""))
        line += f" ({', '.join(costs)})"
    return line


def _once(entries: list[Entry]) -> list[tuple[Entry, str]]:
    """Each warning once per post: a post's own (an image without alt text) is not repeated for each target."""
    seen: set[tuple[str, str]] = set()
    out = []
    for e in entries:
        for w in e.warnings:
            if (e.path, w) not in seen:
                seen.add((e.path, w))
                out.append((e, w))
    return out


def as_text(report: Report) -> str:
    base = _short(report.base) if report.base == report.base_commit else report.base
    head = _short(report.head) if report.head == report.head_commit else report.head
    shown = f"{base}..{head}"
    commits = f"{_short(report.base_commit)}..{_short(report.head_commit)}"
    out = [f"plan for {shown}" + (f" ({commits})" if shown != commits else "")]
    out.append(f"ledger: {report.ledger}" if report.ledger else (report.note or NO_LEDGER))
    for message in _top(report):
        out.append(f"!! {message}")
    if not report.entries:
        out.append("no post changes in this range: nothing would be sent")
    said: set[tuple[str, str]] = set()
    for e in _entries_sorted(report):
        head = f"{e.action:<7} {e.path} → {e.target}: {e.reason}"
        if e.old_path:
            head += f" (was {e.old_path})"
        if e.cost_usd:
            head += f" [${e.cost_usd:.4f}]"
        out.append(head)
        if e.text is not None and e.action in ("create", "update"):
            for i, part in enumerate(e.parts):
                label = f"  part {i + 1}/{len(e.parts)}: " if len(e.parts) > 1 else "  text: "
                out.append(label + "\n".join(("        " + line).rstrip() if i else line
                                              for i, line in enumerate(part.split("\n"))))
        for w in e.warnings:
            if (e.path, w) not in said:
                said.add((e.path, w))
                out.append(f"  warning: {w}")
    out.append(_summary_line(report))
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _fence(text: str) -> str:
    longest = max((len(run) for run in text.split("\n") for run in _runs(run)), default=0)
    return "`" * max(3, longest + 1)


def _runs(line: str) -> list[str]:
    runs, cur = [], ""
    for ch in line:
        if ch == "`":
            cur += ch
        elif cur:
            runs.append(cur)
            cur = ""
    return [*runs, cur] if cur else runs


COMMENT_MAX = 60_000  # GitHub takes a comment of at most 65,536 characters


def as_markdown(report: Report, *, texts: bool = True) -> str:
    """The plan as a pull-request comment; past `COMMENT_MAX` the fitted texts are left out (the table stays)."""
    shown = _markdown(report, texts=texts)
    if texts and len(shown) > COMMENT_MAX:
        shown = _markdown(report, texts=False)
    return shown


def _markdown(report: Report, *, texts: bool) -> str:
    out = [MARKER, f"### syndicate plan: `{_short(report.base_commit)}..{_short(report.head_commit)}`", ""]
    icons = {a.message: _ICON.get(a.kind, "⚠️") for a in report.alerts}
    for message in _top(report):
        out.append(f"> {icons.get(message, '⚠️')} **{_cell(message)}**")
        out.append(">")
    if report.alerts:
        out.pop()
        out.append("")
    out.append(f"Ledger: `{report.ledger}`" if report.ledger else f"_{_cell(report.note or NO_LEDGER)}_")
    out.append("")
    entries = _entries_sorted(report)
    if not entries:
        out.append("No post changes in this range: nothing would be sent.")
    else:
        out += ["| post | target | action | reason | cost |", "|---|---|---|---|---|"]
        for e in entries:
            post = f"`{_cell(e.path)}`" + (f" (was `{_cell(e.old_path)}`)" if e.old_path else "")
            cost = f"${e.cost_usd:.4f}" if e.cost_usd else ""
            out.append(f"| {post} | {_cell(e.target)} | **{e.action}** | {_cell(e.reason)} | {cost} |")
        out.append("")
        social = [e for e in entries if e.text is not None and e.action in ("create", "update")]
        if social and not texts:
            out += ["_The fitted texts are left out: the plan is too long for one comment "
                    "(`syndicate plan --format text` shows them)._", ""]
        for e in social if texts else []:
            fence = _fence(e.text or "")
            out += [f"<details><summary>{_cell(e.target)}: {_cell(e.title)} ({e.action})</summary>", "",
                    f"{fence}text", e.text or "", fence, "", "</details>", ""]
        warned = _once(entries)
        if warned:
            out += ["<details><summary>warnings</summary>", ""]
            out += [f"- `{_cell(e.path)}` → {_cell(e.target)}: {_cell(w)}" for e, w in warned]
            out += ["", "</details>", ""]
    for path, why in report.errors:
        out.append(f"- ⛔ `{_cell(path)}`: {_cell(why)}")
    out.append(f"**{_summary_line(report)}** · sent nothing: this is a plan")
    return "\n".join(out) + "\n"


def as_json(report: Report) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def render(report: Report, fmt: str) -> str:
    if fmt == "markdown":
        return as_markdown(report)
    if fmt == "json":
        return as_json(report)
    return as_text(report)


