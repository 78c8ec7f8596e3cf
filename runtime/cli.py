"""`edge-predict`: a thin command line over tegaki.runtime.DigitReader and its records."""

import glob
import io
import itertools
import json
import math
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from PIL import Image

from tegaki.runtime.atomic import write_bytes_new
from tegaki.runtime.console import PlainUsage, command_app, emit, fail, native_chatter_hidden
from tegaki.runtime.errors import TegakiError
from tegaki.runtime.models import MAX_THREADS
from tegaki.runtime.preprocessing import load_image
from tegaki.runtime.reader import DigitReader, Reading
from tegaki.runtime.records import annotated, reading_record

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
            found = [
                f
                for match in sorted(matches)
                for f in (folder_images(match) if Path(match).is_dir() else [match] if Path(match).is_file() else [])
            ]
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
        found += [
            path
            for name in sorted(files)
            if Path(name).suffix.lower() in IMAGE_SUFFIXES and os.path.isfile(path := os.path.join(root, name))
        ]
    return found


def read_source(path: str) -> bytes | str:
    return sys.stdin.buffer.read() if path == STDIN else path


def png(image: Image.Image) -> bytes:
    data = io.BytesIO()
    image.save(data, format="PNG")
    return data.getvalue()


def save_input(folder: Path, path: str, source, reading: Reading, threshold: float, taken: set[str]) -> None:
    """Write the 28x28 images the model saw, side by side, as `<name>.png` and the image with
    each digit's box and reading as `<name>-boxes.png`. Never over an existing file or folder
    (an input, an earlier run's output) nor one written earlier in this run: a taken name gets
    -2, -3, ... The name is shortened to fit the 255 bytes file systems allow."""
    stem = "stdin" if path == STDIN else Path(path).stem
    while len(os.fsencode(stem)) > 230:  # room for "-NNNN-boxes.png"
        stem = stem[:-1]
    files = {
        ".png": png(Image.fromarray(np.hstack([d.image for d in reading.digits]))),
        "-boxes.png": png(annotated(load_image(source), reading, threshold)),
    }
    for n in itertools.count(1):
        name = stem if n == 1 else f"{stem}-{n}"
        if name in taken:
            continue
        written = []
        try:
            for suffix, data in files.items():
                write_bytes_new(folder / f"{name}{suffix}", data)
                written.append(folder / f"{name}{suffix}")
        except FileExistsError:  # a pair is written whole or not at all
            for done in written:
                done.unlink()
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


def as_text(path: str, reading: Reading, top_k: int, threshold: float, labels: tuple[str, ...]) -> str:
    line = f"{printable(path)}\t{reading.number}\t{reading.confidence:.1%}"
    if top_k > 1 and len(reading.digits) == 1:
        line += "\t" + " ".join(f"{labels[i]}:{prob:.1%}" for i, prob in reading.digits[0].top(top_k)[1:])
    return line + ("\tunsure" if reading.unsure(threshold) else "")


def as_json(path: str, reading: Reading, top_k: int, threshold: float, labels: tuple[str, ...]) -> str:
    return json.dumps(reading_record(reading, top_k, threshold, labels, path=path), ensure_ascii=False)


@app.command(
    cls=PlainUsage,
    help="Read the handwritten number in each image: photos, scans, canvas PNGs or MNIST-style "
    "crops. PATH may be files, folders (their image files, sub-folders included), globs, "
    "or - for image bytes on stdin. Prints one line per image: path, number (? for an "
    "unreadable digit), confidence of its least sure digit (control characters in a path "
    "escaped as \\n, \\t, ...; --json has it exact). Exit status 0: all read; 1: some "
    "inputs failed or a folder held no image (named on stderr); 2: usage error or bad "
    "model; 74: the results could not be written; 130: interrupted; 141: the output "
    "pipe was closed (`| head`).",
)
def edge_predict(
    paths: Annotated[list[str], typer.Argument(metavar="PATH...", help="images, folders, globs or -")],
    model: Annotated[
        Path | None,
        typer.Option(help="an .onnx file (or .tflite with the tflite extra) [default: the model shipped with tegaki]"),
    ] = None,
    json_lines: Annotated[
        bool,
        typer.Option(
            "--json",
            help="JSON Lines: path, number, confidence, unsure, "
            "digits (digit, label, confidence, top_k, box), "
            "timing_ms; digit, label and top_k for a one-digit image",
        ),
    ] = False,
    top_k: Annotated[
        int,
        typer.Option(
            min=1,
            max=10,
            help="also show the next most likely digits (text: for a one-digit image; --json: for every digit)",
        ),
    ] = 1,
    threshold: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            callback=unit_interval,
            help="mark a number unsure when a digit's confidence is below this",
        ),
    ] = 0.0,
    single: Annotated[
        bool, typer.Option("--single", help="read all ink in each image as one digit (an MNIST-style crop)")
    ] = False,
    max_digits: Annotated[int | None, typer.Option(min=1, help="keep at most this many digits (the tallest)")] = None,
    save_input_dir: Annotated[
        Path | None,
        typer.Option(
            "--save-input",
            help="write the 28x28 images the model saw "
            "(NAME.png) and the image with boxes and readings "
            "(NAME-boxes.png) here; existing files are never "
            "replaced (a taken name gets -2, -3, ...)",
        ),
    ] = None,
    threads: Annotated[
        int | None, typer.Option(min=1, max=MAX_THREADS, help="onnxruntime threads [default: all cores]")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="images per inference call")] = 64,
) -> None:
    # This process is the command's own: a bomb's size warning becomes its one-line error.
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        with native_chatter_hidden():
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
            batch = inputs[start : start + batch_size]
            sources = [read_source(path) for path in batch]
            try:
                results = reader.read_all(sources, single, max_digits)
            except TegakiError as error:  # read_all returns the images' errors: this one is the model's
                fail(str(error), code=2)
            for path, source, result in zip(batch, sources, results):
                if isinstance(result, TegakiError):
                    failures += 1
                    typer.echo(f"{printable(path)}: {str(result).removeprefix(path + ': ')}", err=True)
                    continue
                if save_input_dir:
                    try:
                        save_input(save_input_dir, path, source, result, threshold, saved)
                    except OSError as error:
                        failures += 1
                        typer.echo(
                            f"{printable(path)}: cannot save its input in {save_input_dir}: {error.strerror or error}",
                            err=True,
                        )
                emit(format_line(path, result, top_k, threshold, reader.labels))
            bar.update(len(batch))
    if failures:
        raise typer.Exit(1)


def main() -> None:
    app()
