"""`edge-predict`: a thin command line over tegaki.runtime.DigitReader."""

import glob
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from PIL import Image

from tegaki.runtime.atomic import atomic_path
from tegaki.runtime.console import command_app, fail
from tegaki.runtime.errors import TegakiError
from tegaki.runtime.reader import DigitReader, Prediction, digit_of

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


def save_input(folder: Path, path: str, frame, taken: set[str]) -> None:
    """Write the 28x28 image the model saw as `<name>.png`, numbered when names repeat."""
    stem = "stdin" if path == STDIN else Path(path).stem
    name, n = f"{stem}.png", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.png"
    taken.add(name)
    with atomic_path(folder / name) as tmp:
        Image.fromarray(frame).save(tmp, format="PNG")


def as_text(path: str, p: Prediction, top_k: int, unsure: bool, labels: tuple[str, ...]) -> str:
    line = f"{path}\t{p.label}\t{p.confidence:.1%}"
    if top_k > 1:
        line += "\t" + " ".join(f"{labels[i]}:{prob:.1%}" for i, prob in p.top(top_k)[1:])
    return line + ("\tunsure" if unsure else "")


def as_json(path: str, p: Prediction, top_k: int, unsure: bool, labels: tuple[str, ...]) -> str:
    # "digit" is null for a class that is not a digit; "label" names every class
    return json.dumps({
        "path": path, "digit": p.digit, "label": p.label, "confidence": round(p.confidence, 6), "unsure": unsure,
        "top_k": [{"digit": digit_of(labels[i]), "label": labels[i],
                   "probability": round(prob, 6)} for i, prob in p.top(top_k)],
        "timing_ms": {"preprocess": round(p.preprocess_ms, 3), "inference": round(p.inference_ms, 3)},
    }, ensure_ascii=False)


@app.command(help="Read the handwritten digit in each image: photos, scans, canvas PNGs or MNIST-style "
                  "crops. PATH may be files, folders, globs, or - for image bytes on stdin. Prints one "
                  "line per image: path, digit (or the model's class name), confidence. Exit 0: all read; 1: some inputs failed "
                  "(named on stderr); 2: usage error.")
def edge_predict(
    paths: Annotated[list[str], typer.Argument(metavar="PATH...", help="images, folders, globs or -")],
    model: Annotated[Path | None, typer.Option(help="an .onnx file (or .tflite with tegaki[tflite]) "
                                                    "[default: the model shipped with tegaki]")] = None,
    json_lines: Annotated[bool, typer.Option("--json", help="JSON Lines: path, digit, label, confidence, top_k, timing_ms")] = False,
    top_k: Annotated[int, typer.Option(min=1, max=10, help="also show the next most likely classes")] = 1,
    threshold: Annotated[float, typer.Option(min=0.0, max=1.0, help="mark answers below this confidence unsure")] = 0.0,
    save_input_dir: Annotated[Path | None, typer.Option("--save-input", help="write the 28x28 images the model saw here")] = None,
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
            batch_paths, frames, times = [], [], []
            for path in inputs[start:start + batch_size]:
                try:
                    frame, ms = reader.prepare(read_source(path))
                except TegakiError as error:
                    failures += 1
                    typer.echo(f"{path}: {str(error).removeprefix(path + ': ')}", err=True)
                    continue
                batch_paths.append(path)
                frames.append(frame)
                times.append(ms)
                if save_input_dir:
                    save_input(save_input_dir, path, frame, saved)
            for path, prediction in zip(batch_paths, reader.read_prepared(frames, times)):
                typer.echo(format_line(path, prediction, top_k, prediction.confidence < threshold, reader.labels))
            bar.update(len(inputs[start:start + batch_size]))
    if failures:
        raise typer.Exit(1)


def main() -> None:
    app()
