"""What the three commands share at the terminal: one-line errors and the extras check."""

import importlib.util
import sys
from pathlib import Path
from typing import NoReturn

import typer


def command_app() -> typer.Typer:
    """A Typer app as all three commands want it: plain click-style help and errors (one
    line, no boxes), plain tracebacks for real bugs, no shell-completion options."""
    return typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


def command_name() -> str:
    return Path(sys.argv[0]).name


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `<command>: error: message` on stderr and exit with `code`, no traceback."""
    typer.echo(f"{command_name()}: error: {message}", err=True)
    raise typer.Exit(code)


def require_modules(modules: list[str], install: str) -> None:
    """Exit with one line saying what to install when a module a command needs is missing."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        print(f"{command_name()}: error: needs {', '.join(missing)}; install it with: pip install '{install}'",
              file=sys.stderr)
        raise SystemExit(1)
