"""What the three commands share at the terminal: one-line errors and the extras check."""

import contextlib
import errno
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import typer
from typer.core import TyperCommand


class PlainUsage(TyperCommand):
    """A usage line as Unix tools write it, `edge-predict [OPTIONS] PATH...`: Typer 0.28 wraps a
    required argument in braces (`{PATH...}`), which reads like a literal to type."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece for piece in pieces]


def command_app() -> typer.Typer:
    """A Typer app as all three commands want it: plain click-style help and errors (one
    line, no boxes), plain tracebacks for real bugs, no shell-completion options."""
    return typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


def command_name() -> str:
    return Path(sys.argv[0]).name


# Exit statuses beyond 0/1/2, each with its usual Unix meaning.
EXIT_OUTPUT_ERROR = 74  # EX_IOERR (sysexits.h): the results could not be written (a full disk, /dev/full)
EXIT_INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C, as a shell reports it
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: whoever read the output stopped (`| head`), as a shell reports it


def emit(line: str) -> None:
    """Print one line of results on stdout. A closed pipe ends the command quietly with
    EXIT_BROKEN_PIPE; any other failed write with a one-line error and EXIT_OUTPUT_ERROR."""
    try:
        typer.echo(line)
    except OSError as error:
        # Nothing more can reach stdout; pointing it at /dev/null stops Python's own flush at
        # exit from failing again with a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if error.errno == errno.EPIPE:
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        fail(f"cannot write the results: {error.strerror or error}", code=EXIT_OUTPUT_ERROR)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `<command>: error: message` on stderr and exit with `code`, no traceback."""
    typer.echo(f"{command_name()}: error: {message}", err=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def native_chatter_hidden() -> Iterator[None]:
    """Inside the block, what C++ libraries write straight to file descriptor 2 goes nowhere:
    TensorFlow logs its CUDA probe ("Could not find cuda drivers") before any setting of
    Python's applies, and LiteRT says "Created TensorFlow Lite XNNPACK delegate". The commands'
    stderr is for what went wrong. A Python exception leaves the block and is reported as usual."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def require_modules(modules: list[str], install: str) -> None:
    """Exit with one line saying what to install when a module a command needs is missing.
    `--help` needs none of them, so it is answered either way."""
    if "--help" in sys.argv[1:]:
        return
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        extra = install.removeprefix("tegaki")
        print(
            f"{command_name()}: error: needs {', '.join(missing)}; install tegaki with that extra: "
            f"pip install '{install}' (in a clone of tegaki: pip install '.{extra}')",
            file=sys.stderr,
        )
        raise SystemExit(1)
