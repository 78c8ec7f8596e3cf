"""The console scripts' entry points. This package imports nothing heavy, so that Ctrl-C while
numpy, Pillow, onnxruntime, Typer or TensorFlow are still loading ends the command as Ctrl-C
at any later moment does: no traceback, exit status 130. (It is not part of tegaki.runtime,
whose __init__ loads numpy and Pillow.)"""

import importlib
import sys

EXIT_INTERRUPTED = 130  # as tegaki.runtime.console, which this must not import (it loads Typer)


def _launch(module: str) -> None:
    try:
        importlib.import_module(module).main()
    except KeyboardInterrupt:
        print(file=sys.stderr)  # end the line the terminal's ^C was echoed on
        raise SystemExit(EXIT_INTERRUPTED) from None


def edge_predict() -> None:
    _launch("tegaki.runtime.cli")


def train_cnn() -> None:
    _launch("tegaki.train.cli")


def export_cnn() -> None:
    _launch("tegaki.export.cli")


def edge_serve() -> None:
    _launch("tegaki.runtime.serve")
