"""The progress bar of a long run: `push` on a folder, a first `watch` (`--backfill`), `baseline`.

A `Tracker` is told how many (post, target) units to expect (`expect`) and
each unit's result as it is final (`done`, a result dict or an `Outcome`,
called by the engine's threads: no polling). It draws a Rich progress bar,
the counts per state in the summary's own words ("12 created, 1 failed") and
one line per target with its own counts, on stderr only, and only where a
person watches: stderr and stdout are terminals, no `--json`, no
`--no-progress`. The bar is transient: when the run ends it is erased, and the
command's own output (the table and the one-line summary) follows as before.
"""
from __future__ import annotations

import logging
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from syndicate.triggers import output

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.progress import Progress

# the kinds a target's line shows in red: they wait for a person or a later run
TROUBLE = {"failed", "waiting", "to check", "interrupted", "not tried"}
MIN_UNITS = 2  # fewer units than this draw no bar: a single post is done before a bar would help


def wanted(*, as_json: bool = False, enabled: bool = True) -> bool:
    """Whether a bar may be drawn: asked for, not `--json`, and both streams are terminals
    (a run piped into a file or a program gets its plain lines only)."""
    if as_json or not enabled:
        return False
    err = output.console(stderr=True)
    return err.is_terminal and not err.is_dumb_terminal and output.console().is_terminal


class Tracker:
    """Counts the results of one run; draws them on `console` when one is given (else counts only)."""

    def __init__(self, console: Console | None, label: str, *, auto_refresh: bool = True) -> None:
        self.console = console
        self.label = label
        self.auto_refresh = auto_refresh
        self.total = 0
        self.counts: Counter[str] = Counter()
        self.targets: dict[str, Counter[str]] = {}
        self.expected: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._bar: Progress | None = None
        self._task: Any = None
        self._streams: list[tuple[logging.StreamHandler[Any], Any]] = []

    # --- what the engine tells ------------------------------------------------------------

    def expect(self, targets: Sequence[str], posts: int = 1) -> None:
        """`posts` more posts will each give one result per target."""
        with self._lock:
            for target in targets:
                self.expected[target] += posts
                self.targets.setdefault(target, Counter())
            self.total += posts * len(targets)
        if self._bar is not None:
            self._bar.update(self._task, total=self.total)

    def done(self, result: Any) -> None:
        """One (post, target) is final: a result dict (`Outcome.as_dict()`'s shape) or an `Outcome`."""
        item: Mapping[str, Any] = result if isinstance(result, Mapping) else result.as_dict()
        word = output.kind(item)
        target = str(item.get("target") or "")
        with self._lock:
            self.counts[word] += 1
            self.targets.setdefault(target, Counter())[word] += 1
        if self._bar is not None:
            self._bar.advance(self._task)

    # --- drawing ----------------------------------------------------------------------------

    @property
    def drawing(self) -> bool:
        return self._bar is not None

    def start(self) -> Tracker:
        """Draw (when there is a console and enough units to be worth a bar)."""
        if self.console is None or self._bar is not None or self.total < MIN_UNITS:
            return self
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        tracker = self

        class _Bar(Progress):
            def get_renderables(self) -> Iterator[RenderableType]:
                yield self.make_tasks_table(self.tasks)
                yield from tracker.lines()

        self._bar = _Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                         console=self.console, transient=True, auto_refresh=self.auto_refresh)
        with self._lock:
            finished = sum(self.counts.values())
        self._task = self._bar.add_task(self.label, total=self.total, completed=finished)
        self._bar.start()
        self._follow_logs()
        return self

    def refresh(self) -> None:
        if self._bar is not None:
            self._bar.refresh()

    def stop(self) -> None:
        """Erase the bar (the command's output follows)."""
        if self._bar is None:
            return
        self._unfollow_logs()
        self._bar.stop()
        self._bar = None

    def __enter__(self) -> Tracker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def lines(self) -> list[RenderableType]:
        """Below the bar: the counts per state, then each target's done/expected and its counts."""
        from rich.text import Text

        with self._lock:
            counts = Counter(self.counts)
            per = {t: (Counter(c), self.expected[t]) for t, c in self.targets.items()}
        out: list[RenderableType] = [Text("  " + (output.summary_of(counts) if counts else "starting…"),
                                          style="bold")]
        width = max((len(t) for t in per), default=0)
        for target, (mine, expected) in per.items():
            line = Text(f"  {target.ljust(width)}  {sum(mine.values())}/{expected}")
            for word in _order(mine):
                line.append("  ")
                line.append(f"{mine[word]} {word}", style="red" if word in TROUBLE else "")
            out.append(line)
        return out

    # --- warnings logged while the bar is drawn go above it, not through it ---

    def _follow_logs(self) -> None:
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler and handler.stream is sys.__stderr__ \
                    and sys.stderr is not sys.__stderr__:
                self._streams.append((handler, handler.setStream(sys.stderr)))

    def _unfollow_logs(self) -> None:
        for handler, stream in self._streams:
            handler.setStream(stream)
        self._streams = []


def _order(counts: Counter[str]) -> list[str]:
    return [k for k in output.KINDS if counts[k]] + sorted(k for k in counts if k not in output.KINDS and counts[k])


def tracker(label: str, *, as_json: bool = False, enabled: bool = True) -> Tracker:
    """A tracker for a command: drawing on stderr when `wanted`, else counting only."""
    return Tracker(output.console(stderr=True) if wanted(as_json=as_json, enabled=enabled) else None, label)
