"""`edge-predict`: a thin command line over tegaki.runtime.DigitReader and its records."""

import glob
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
import numpy as np
from PIL import Image

from tegaki.runtime.atomic import atomic_path
from tegaki.runtime.console import command_app, fail
from tegaki.runtime.errors import TegakiError
from tegaki.runtime.preprocess import load_image
from tegaki.runtime.reader import DigitReader, Reading
from tegaki.runtime.records import annotated, reading_record

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
STDIN = "-"
PROGRESS_FROM = 20  # inputs; fewer finish before a bar would be worth drawing

app = command_app()


def expand(paths: list[str]) -> Iterator[str]:
    """Files as given, folders as their image files (sorted), unexpanded globs expanded."""
    for path in paths:
        if path == STDIN or Path(path).is_file():
            yield path
        elif Path(path).is_dir():
            yield from sorted(str(p) for p in Path(path).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif glob.has_magic(path) and (matches := glob.glob(path)):
            yield from sorted(matches)
        else:
            yield path  # reading it reports what is wrong


def read_source(path: str) -> bytes | str:
    return sys.stdin.buffer.read() if path == STDIN else path


def save_input(folder: Path, path: str, source, reading: Reading, threshold: float, taken: set[str]) -> None:
    """Write the 28x28 images the model saw, side by side, as `<name>.png` and the image with
    each digit's box and reading as `<name>-boxes.png`; numbered when names repeat."""
    stem = "stdin" if path == STDIN else Path(path).stem
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}"
    taken.add(name)
    with atomic_path(folder / f"{name}.png") as tmp:
        Image.fromarray(np.hstack([d.image for d in reading.digits])).save(tmp, format="PNG")
    with atomic_path(folder / f"{name}-boxes.png") as tmp:
        annotated(load_image(source), reading, threshold).save(tmp, format="PNG")


def as_text(path: str, reading: Reading, top_k: int, threshold: float) -> str:
    line = f"{path}\t{reading.number}\t{reading.confidence:.1%}"
    if top_k > 1 and len(reading.digits) == 1:
        line += "\t" + " ".join(f"{d}:{prob:.1%}" for d, prob in reading.digits[0].top(top_k)[1:])
    return line + ("\tunsure" if reading.unsure(threshold) else "")


def as_json(path: str, reading: Reading, top_k: int, threshold: float) -> str:
    return json.dumps(reading_record(reading, top_k, threshold, path=path), ensure_ascii=False)


@app.command(help="Read the handwritten number in each image: photos, scans, canvas PNGs or MNIST-style "
                  "crops. PATH may be files, folders, globs, or - for image bytes on stdin. Prints one "
                  "line per image: path, number (? for an unreadable digit), confidence of its least sure "
                  "digit. Exit 0: all read; 1: some inputs failed (named on stderr); 2: usage error.")
def edge_predict(
    paths: Annotated[list[str], typer.Argument(metavar="PATH...", help="images, folders, globs or -")],
    model: Annotated[Path | None, typer.Option(help="an .onnx file (or .tflite with tegaki[tflite]) "
                                                    "[default: the model shipped with tegaki]")] = None,
    json_lines: Annotated[bool, typer.Option("--json", help="JSON Lines: path, number, confidence, unsure, "
                                                            "digits (digit, confidence, top_k, box), timing_ms; "
                                                            "digit and top_k for a one-digit image")] = False,
    top_k: Annotated[int, typer.Option(min=1, max=10, help="also show the next most likely digits")] = 1,
    threshold: Annotated[float, typer.Option(min=0.0, max=1.0, help="mark a number unsure when a digit's "
                                                                    "confidence is below this")] = 0.0,
    single: Annotated[bool, typer.Option("--single", help="read all ink in each image as one digit "
                                                          "(an MNIST-style crop)")] = False,
    max_digits: Annotated[int | None, typer.Option(min=1, help="keep at most this many digits (the tallest)")] = None,
    save_input_dir: Annotated[Path | None, typer.Option("--save-input", help="write the 28x28 images the model saw "
                                                                           "and the image with boxes and readings here")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="onnxruntime threads [default: all cores]")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="images per inference call")] = 64,
) -> None:
    try:
        reader = DigitReader(model, threads=threads)
    except TegakiError as error:
        fail(str(error), code=2)
    if save_input_dir:
        try:
            save_input_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            fail(f"--save-input {save_input_dir}: {error.strerror}", code=2)
    inputs = list(expand(paths))
    show_progress = not json_lines and len(inputs) >= PROGRESS_FROM and sys.stdout.isatty() and sys.stderr.isatty()
    format_line = as_json if json_lines else as_text
    failures, saved = 0, set()
    with typer.progressbar(length=len(inputs), label="reading", file=sys.stderr, hidden=not show_progress) as bar:
        for start in range(0, len(inputs), batch_size):
            batch = inputs[start:start + batch_size]
            sources = [read_source(path) for path in batch]
            for path, source, result in zip(batch, sources, reader.read_all(sources, single, max_digits)):
                if isinstance(result, TegakiError):
                    failures += 1
                    typer.echo(f"{path}: {str(result).removeprefix(path + ': ')}", err=True)
                    continue
                if save_input_dir:
                    save_input(save_input_dir, path, source, result, threshold, saved)
                typer.echo(format_line(path, result, top_k, threshold))
            bar.update(len(batch))
    if failures:
        raise typer.Exit(1)


def main() -> None:
    app()
