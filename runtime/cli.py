"""`edge-predict`: a thin command line over tegaki.runtime.DigitReader."""

import glob
import io
import itertools
import json
import math
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from PIL import Image

from tegaki.runtime.atomic import write_bytes_new
from tegaki.runtime.console import command_app, emit, fail
from tegaki.runtime.errors import TegakiError
from tegaki.runtime.models import MAX_THREADS
from tegaki.runtime.reader import DigitReader, Prediction
from tegaki.runtime.record import prediction_record

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
STDIN = "-"
PROGRESS_FROM = 20  # inputs; fewer finish before a bar would be worth drawing

app = command_app()


def expand(paths: list[str]) -> tuple[list[str], list[str]]:
    """The inputs to read, and the folders or globs given that hold no image.

    Files are taken as given (a named pipe too: the user named it). Folders give their image
    files, sub-folders included; unexpanded globs their matches. What is found this way is
    regular files only: a FIFO or device found in a folder could block the whole run."""
    inputs, empty = [], []
    for path in paths:
        if path == STDIN or Path(path).is_file():
            inputs.append(path)
            continue
        if Path(path).is_dir():
            found = folder_images(path)
        elif glob.has_magic(path) and (matches := glob.glob(path)):
            found = [f for match in sorted(matches) for f in (folder_images(match) if Path(match).is_dir()
                                                             else [match] if Path(match).is_file() else [])]
        else:
            inputs.append(path)  # reading it reports what is wrong
            continue
        inputs.extend(found)
        if not found:
            empty.append(path)
    return inputs, empty


def folder_images(folder: str) -> list[str]:
    """Image files (by suffix) in `folder` and its sub-folders, sorted; links to folders are not
    followed (no loops)."""
    found = []
    for root, folders, files in os.walk(folder):
        folders.sort()
        found += [path for name in sorted(files) if Path(name).suffix.lower() in IMAGE_SUFFIXES
                  and os.path.isfile(path := os.path.join(root, name))]
    return found


def read_source(path: str) -> bytes | str:
    return sys.stdin.buffer.read() if path == STDIN else path


def save_input(folder: Path, path: str, frame, taken: set[str]) -> None:
    """Write the 28x28 image the model saw as `<name>.png`. Never over an existing file or
    folder (an input, an earlier run's output) nor one written earlier in this run: a taken
    name gets -2, -3, ... The name is shortened to fit the 255 bytes file systems allow."""
    stem = "stdin" if path == STDIN else Path(path).stem
    while len(os.fsencode(stem)) > 240:  # room for "-NNNN.png"
        stem = stem[:-1]
    data = io.BytesIO()
    Image.fromarray(frame).save(data, format="PNG")
    for n in itertools.count(1):
        name = f"{stem}.png" if n == 1 else f"{stem}-{n}.png"
        if name in taken:
            continue
        try:
            write_bytes_new(folder / name, data.getvalue())
        except FileExistsError:
            continue
        taken.add(name)
        return


def printable(path: str) -> str:
    """`path` on one line of text output: control characters (a newline in a file name) as
    JSON escapes. --json gives names exactly."""
    return "".join(json.dumps(c)[1:-1] if c.isascii() and not c.isprintable() else c for c in path)


def unit_interval(value: float) -> float:
    if math.isnan(value):  # passes any range check: every comparison with nan is false
        raise typer.BadParameter("nan is not a number from 0 to 1")
    return value


def as_text(path: str, p: Prediction, top_k: int, unsure: bool) -> str:
    line = f"{printable(path)}\t{p.digit}\t{p.confidence:.1%}"
    if top_k > 1:
        line += "\t" + " ".join(f"{d}:{prob:.1%}" for d, prob in p.top(top_k)[1:])
    return line + ("\tunsure" if unsure else "")


def as_json(path: str, p: Prediction, top_k: int, unsure: bool) -> str:
    return json.dumps(prediction_record(path, p, top_k, unsure), ensure_ascii=False)


@app.command(help="Read the handwritten digit in each image: photos, scans, canvas PNGs or MNIST-style "
                  "crops. PATH may be files, folders (their image files, sub-folders included), globs, "
                  "or - for image bytes on stdin. Prints one line per image: path, digit, confidence "
                  "(control characters in a path escaped as \\n, \\t, ...; --json has it exact). "
                  "Exit status 0: all read; 1: some inputs failed or a folder held no image (named "
                  "on stderr); 2: usage error or bad model; 74: the results could not be written; "
                  "130: interrupted; 141: the output pipe was closed (`| head`).")
def edge_predict(
    paths: Annotated[list[str], typer.Argument(metavar="PATH...", help="images, folders, globs or -")],
    model: Annotated[Path | None, typer.Option(help="an .onnx file (or .tflite with tegaki[tflite]) "
                                                    "[default: the model shipped with tegaki]")] = None,
    json_lines: Annotated[bool, typer.Option("--json", help="JSON Lines: path, digit, confidence, top_k, timing_ms")] = False,
    top_k: Annotated[int, typer.Option(min=1, max=10, help="also show the next most likely digits")] = 1,
    threshold: Annotated[float, typer.Option(min=0.0, max=1.0, callback=unit_interval,
                                             help="mark answers below this confidence unsure")] = 0.0,
    save_input_dir: Annotated[Path | None, typer.Option("--save-input", help="write the 28x28 images the model "
                                                        "saw here as NAME.png; existing files are never replaced "
                                                        "(a taken name gets -2, -3, ...)")] = None,
    threads: Annotated[int | None, typer.Option(min=1, max=MAX_THREADS, help="onnxruntime threads [default: all cores]")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="images per inference call")] = 64,
) -> None:
    # This process is the command's own: a bomb's size warning becomes its one-line error.
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        reader = DigitReader(model, threads=threads)
    except TegakiError as error:
        fail(str(error), code=2)
    if save_input_dir:
        try:
            save_input_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            fail(f"--save-input {save_input_dir}: {error.strerror}", code=2)
    inputs, empty = expand(paths)
    for path in empty:
        typer.echo(f"{printable(path)}: no images found (in it or its sub-folders)", err=True)
    show_progress = not json_lines and len(inputs) >= PROGRESS_FROM and sys.stdout.isatty() and sys.stderr.isatty()
    format_line = as_json if json_lines else as_text
    failures, saved = len(empty), set()
    with typer.progressbar(length=len(inputs), label="reading", file=sys.stderr, hidden=not show_progress) as bar:
        for start in range(0, len(inputs), batch_size):
            batch_paths, frames, times = [], [], []
            for path in inputs[start:start + batch_size]:
                try:
                    frame, ms = reader.prepare(read_source(path))
                except TegakiError as error:
                    failures += 1
                    typer.echo(f"{printable(path)}: {str(error).removeprefix(path + ': ')}", err=True)
                    continue
                batch_paths.append(path)
                frames.append(frame)
                times.append(ms)
                if save_input_dir:
                    try:
                        save_input(save_input_dir, path, frame, saved)
                    except OSError as error:
                        failures += 1
                        typer.echo(f"{printable(path)}: cannot save its input in {save_input_dir}: "
                                   f"{error.strerror or error}", err=True)
            try:
                predictions = reader.read_prepared(frames, times)
            except TegakiError as error:  # the model's fault, not the images'
                fail(str(error), code=2)
            for path, prediction in zip(batch_paths, predictions):
                emit(format_line(path, prediction, top_k, prediction.confidence < threshold))
            bar.update(len(inputs[start:start + batch_size]))
    if failures:
        raise typer.Exit(1)


def main() -> None:
    app()
