"""The `syndicate` app: its options, the config and ledger it opens, how a command fails, and `main`."""
from __future__ import annotations

import logging
import sys
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Optional

import typer
from typer.core import TyperGroup

from syndicate import __version__
from syndicate.cli.coerce import lighten
from syndicate.errors import ConfigError, SyndicateError
from syndicate.triggers.output import console, say

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.engine.runner import Syndicator


class _Later(type):
    """A class of rich that typer's help module names but uses only in its markdown mode (`Markdown`) or for
    an uncaught exception's traceback (`Traceback`): its module is imported when the class is first used."""

    def _real(cls) -> Any:
        return getattr(import_module(cls.__module__), cls.__name__)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls._real(), name)


def _typer_rich_help() -> None:
    """Import typer's rich help without rich.markdown (markdown-it) and rich.traceback (rich.pretty, attrs):
    `--help` and a usage error print exactly as before, for a fraction of the start-up."""
    later = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}
    if "typer.rich_utils" in sys.modules or any(name in sys.modules for name in later):
        return
    stand_ins = {}
    for module, name in later.items():
        stand_in = ModuleType(module)
        setattr(stand_in, name, _Later(name, (), {"__module__": module}))
        stand_ins[module] = sys.modules[module] = stand_in
    try:
        import_module("typer.rich_utils")
    except ImportError:  # typer without rich: its plain help
        pass
    finally:
        for module, stand_in in stand_ins.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]


_typer_rich_help()


# `syndicate --help` lists the commands in this order (a command not named here comes last)
ORDER = ("init", "doctor", "preview", "plan", "push", "status", "retry", "resolve", "watch", "baseline", "serve",
         "worker", "beat", "health")


class _Group(TyperGroup):
    """The commands' `--help` lists flags bare: typer renders a `<bool>` type beside each one."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _bare_flags(command, ctx)
            lighten(command, ctx)  # pydantic only for a value that needs it
        return command

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        lighten(self, ctx)
        return super().parse_args(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _bare_flags(self, ctx)
        super().format_help(ctx, formatter)


# what a value is called in `--help` where the option does not say (typer would print `<str>`)
_METAVARS = {"since": "DATE", "concurrency": "N", "loglevel": "LEVEL"}


def _bare_flags(command: Any, ctx: Any) -> None:
    for param in command.get_params(ctx):  # --help included: it is made on the first call
        if param.metavar is not None:
            continue
        if getattr(param, "is_flag", False):
            param.metavar = ""
        elif getattr(param, "param_type_name", "") == "argument":
            param.display_type_rich = lambda ctx: None  # its name says it (`paths...`): no `<list[Path]>`
        else:
            longs = [o for o in getattr(param, "opts", []) if o.startswith("--")]
            name = longs[0][2:] if longs else (param.name or "value")
            param.metavar = _METAVARS.get(name, name.upper())


app = typer.Typer(cls=_Group, add_completion=False, no_args_is_help=True,
                  help="Cross-post your site's posts, exactly once.")


log = logging.getLogger("syndicate")


ConfigOpt = typer.Option(None, "--config", "-c", metavar="FILE", help="syndicate.toml (default: $SYNDICATE_CONFIG, then the nearest upward)")


JsonOpt = typer.Option(False, "--json", help="machine-readable output")


ToOpt = typer.Option(None, "--to", "-t", metavar="TARGET", help="only this target (repeatable)")


_console = console  # the names the commands use


AllOpt = typer.Option(False, "--all", help="list unchanged posts too (default: only what changed, and a summary)")
NoProgressOpt = typer.Option(False, "--no-progress",
                             help="no progress bar (it is drawn on stderr only when both outputs are terminals)")


def _fail(message: str, code: int = 2, label: str = "error") -> typer.Exit:
    say((f"{label}: ", "red"), message, stderr=True)
    return typer.Exit(code)


class _Collect(logging.Handler):
    """Warnings logged during a command, so that `--json` carries them too."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


_logged = _Collect()


_where = "the configured [state] url"  # the ledger, for the disk-full line (set once the config is read)


def _config(path: Optional[Path], *, strict: bool, near: Optional[list[Path]] = None,
            readonly: bool = False) -> Config:
    """The config by --config, $SYNDICATE_CONFIG, upward from here, else upward from the posts named.
    `readonly`: a command that writes nothing (not even the data folder)."""
    from syndicate.config import find_config
    from syndicate.content.permalinks import check_site
    from syndicate.registry import load_config

    global _where
    try:
        config = load_config(find_config(path, near=near or ()), strict=strict, readonly=readonly)
        check_site(config.site)  # the generator's own config: a URL pattern it cannot expand exits 2 here
    except ConfigError as exc:
        raise _fail(str(exc), label="config error") from None
    from syndicate.state.ledger.full import where

    _where = where(config.state_url)
    if strict:  # a sending run: the others still go out
        for name, reason in config.skipped.items():
            log.warning("targets.%s is skipped: %s", name, reason)
    return config


def _syndicator(config: Config, *, readonly: bool = False) -> Syndicator:
    from syndicate.engine.runner import Syndicator

    try:
        return Syndicator(config, readonly=readonly, ledger=None if readonly else _ledger(config))
    except ConfigError as exc:
        raise _fail(str(exc), label="config error") from None


def _ledger(config: Config) -> Any:
    """The site's ledger, opened before anything is done (another site's ledger is refused: exit 2)."""
    from syndicate.state.ledger import open_ledger

    try:
        return open_ledger(config)
    except ConfigError as exc:
        raise _fail(str(exc), label="config error") from None


def _collect(paths: list[Path], config: Config) -> list[Path]:
    """Files named, and the content files inside folders named."""
    from syndicate.content.loader import discover

    files: list[Path] = []
    content = None
    for raw in paths:
        path = raw.resolve()
        if path.is_dir():
            if content is None:
                content = [p.resolve() for p in discover(config)]
            inside = [p for p in content if p.is_relative_to(path)]
            if not inside:
                inside = sorted(p for ext in ("*.md", "*.mdx", "*.markdown") for p in path.rglob(ext))
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        else:
            raise _fail(f"{raw}: no such file or folder")
    seen: set[Path] = set()
    return [p for p in files if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def _load(files: list[Path], config: Config) -> tuple[list[Any], list[tuple[Path, str]]]:
    from syndicate.content.loader import in_content, load_post, unique

    posts, errors = [], []
    for path in files:
        if path.resolve().is_relative_to(config.site.root) and not in_content(path, config):
            globs = ", ".join(config.site.content)
            errors.append((path, f"{path}: not a post of this site: it matches none of [site] content ({globs}); "
                                 "list pages, a Hugo leaf bundle's other files and hidden or build folders never "
                                 "count; refused"))
            continue
        try:
            posts.append(load_post(path, config.site))
        except SyndicateError as exc:
            errors.append((path, str(exc)))
        except OSError as exc:
            errors.append((path, f"{path}: cannot read: {exc.strerror}"))
    posts, clashes = unique(posts, config.site)  # two posts with one URL: neither is sent
    return posts, errors + [(path, str(exc)) for path, exc in clashes]


def _exit(posts: list[Any], errors: list[tuple[Path, str]], failed: bool) -> typer.Exit:
    """1 when something failed or was refused, 2 when nothing named could be used at all."""
    return typer.Exit(2 if errors and not posts else 1 if errors or failed else 0)


def _known_targets(config: Config, names: Optional[list[str]], *, sending: bool = True) -> None:
    """Exit 2 naming each target that is not configured, with the near miss; `sending`: a target
    skipped for want of credentials is an error too (a preview shows it, saying it would be skipped)."""
    from syndicate.config.describe import nearest

    skipped = [f"{n} is skipped: {config.skipped[n]}" for n in names or [] if n in config.skipped]
    if skipped and sending:  # named on purpose: an error, not a warning
        raise _fail("target " + "; ".join(skipped))
    unknown = [n for n in names or [] if n not in config.targets]
    if not unknown:
        return
    said = []
    for name in unknown:
        near = nearest(name, [*config.targets, *config.skipped])  # a skipped target is still a near miss
        said.append(f"{name} (did you mean {near}?)" if near else name)
    skips = f"; skipped: {', '.join(config.skipped)}" if config.skipped else ""
    raise _fail(f"unknown target(s): {', '.join(said)}; configured: {', '.join(config.targets) or 'none'}{skips}")


def _targets(syn: Syndicator, to: Optional[list[str]], *, sending: bool = True) -> list[str]:
    _known_targets(syn.config, to, sending=sending)
    try:
        return syn.targets_for(to)
    except KeyError as exc:
        raise _fail(str(exc.args[0])) from None


def _version(value: bool) -> None:
    if value:
        print(f"syndicate {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="print the version and exit")) -> None:
    """Cross-post your site's posts, exactly once."""


def _since(value: Optional[str]) -> Any:
    if value is None:
        return None
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"--since {value!r}: not a date (YYYY-MM-DD)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _watcher(config_path: Optional[Path], *, stderr: bool = False, near: Optional[list[Path]] = None,
             **kwargs: Any) -> Any:
    """The site's watcher (`tracker`: the first scan's progress bar)."""
    from syndicate.triggers.watch import Watcher

    config = _config(config_path, strict=True, near=near)
    if config.broker:
        from syndicate.engine.tasks import check_broker, configure

        configure(config)
        problem = check_broker()
        if problem:
            raise _fail(f"the broker {_safe_url(config.broker)} does not answer ({problem}); "
                        "start it, or remove [queue] broker to run in-process")
    return Watcher(config, syn=_syndicator(config), echo=lambda line: say(line, stderr=stderr), **kwargs)


def _safe_url(url: str) -> str:
    """A URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username}:****@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _invoked(argv: list[str]) -> list[Any]:
    """The registered command named first on the command line, alone (typer builds every registered command's
    parameters on each run, about 2% of a one-post preview); all of them when none is named (`--help`)."""
    name = argv[1] if len(argv) > 1 else ""
    found = [c for c in app.registered_commands
             if (c.name or (c.callback.__name__.lower().replace("_", "-") if c.callback else None)) == name]
    return found if len(found) == 1 else app.registered_commands


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addHandler(_logged)
    registered = app.registered_commands
    try:
        app.registered_commands = _invoked(sys.argv)
        app()
    except SyndicateError as exc:  # anything that escaped a command is still a clear message, not a traceback
        say(("error: ", "red"), str(exc), stderr=True)
        sys.exit(2 if isinstance(exc, ConfigError) else 1)
    except Exception as exc:
        from syndicate.state.ledger.full import ledger_full

        full = ledger_full(exc, _where)  # a disk already full under the ledger: one line, no traceback
        if full is None:
            raise
        say(("error: ", "red"), full, stderr=True)
        sys.exit(1)
    finally:
        app.registered_commands = registered
