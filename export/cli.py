"""`export-cnn`: a thin command line over tegaki.export.exporting.export_model."""

import os
from pathlib import Path
from typing import Annotated

import typer

from tegaki.export.formats import DEFAULT_OPSET, FORMATS, PARITY_IMAGES
from tegaki.export.modelfile import ExportError, check_model_file
from tegaki.runtime.console import PlainUsage, command_app, fail, native_chatter_hidden, require_modules
from tegaki.train.rundir import PARITY_FILE  # standard library only

app = command_app()


def print_table(reports: list[dict]) -> None:
    print(f"{'format':<12} {'size':>10} {'accuracy':>9} {'agreement':>10} {'max diff':>9} {'secs':>6}  result")
    for r in reports:
        result = "ok" if not r["failed"] else "FAILED: " + "; ".join(r["failed"])
        print(
            f"{r['format']:<12} {r['bytes']:>10,} {r['accuracy']:>9.2%} {r['top1_agreement']:>10.2%} "
            f"{r['max_abs_diff']:>9.1e} {r['export_seconds']:>6.1f}  {result}"
        )


@app.command(
    cls=PlainUsage,
    help="Convert a trained .keras model to ONNX / TFLite files, check each against the "
    "Keras model on MNIST test images, and write the files that pass, their "
    f"metadata and {PARITY_FILE}.",
)
def export_cnn(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="the .keras file train-cnn wrote")],
    format: Annotated[
        list[str], typer.Option("--format", "-f", help="one of: all, " + ", ".join(FORMATS) + " (repeat for several)")
    ] = ["all"],  # noqa: B006 (Typer reads the default, never mutates it)
    out: Annotated[Path | None, typer.Option(help="output folder [default: the model's folder]")] = None,
    name: Annotated[str | None, typer.Option(help="base file name [default: the architecture]")] = None,
    opset: Annotated[int, typer.Option(min=13, max=21, help="ONNX opset")] = DEFAULT_OPSET,
    parity_images: Annotated[
        int, typer.Option(min=100, max=PARITY_IMAGES, help="MNIST test images for the parity checks")
    ] = PARITY_IMAGES,
    data: Annotated[
        Path | None, typer.Option(help="MNIST folder or mnist.npz [default: $TEGAKI_MNIST, the Keras cache, download]")
    ] = None,
) -> None:
    unknown = [f for f in format if f != "all" and f not in FORMATS]
    if unknown:
        raise typer.BadParameter(f"{', '.join(unknown)} (choose from all, {', '.join(FORMATS)})", param_hint="--format")
    formats = list(FORMATS) if "all" in format else list(dict.fromkeys(format))
    try:  # in a moment, before TensorFlow takes seconds to load
        check_model_file(model)
    except ExportError as error:
        fail(str(error))
    if data is not None and not data.exists():
        fail(f"{data} (from --data) does not exist")
    # TensorFlow's chatter hides our output; its errors still reach us as exceptions
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with native_chatter_hidden():
        from tegaki.export.exporting import export_model
        from tegaki.train.mnist import MnistError

    out = out or model.parent
    try:
        with native_chatter_hidden():  # the TFLite converter's and interpreter's lines
            reports = export_model(model, formats, out, data=data, parity_images=parity_images, opset=opset, name=name)
    except (ExportError, MnistError) as error:
        fail(str(error))
    except KeyboardInterrupt:
        fail("interrupted; files already checked are in place, no partial file was written", code=130)
    except OSError as error:
        fail(f"cannot write {error.filename or out}: {error.strerror or error}")
    print_table(reports)
    print(f"wrote {out / PARITY_FILE}")
    failed = [r["format"] for r in reports if r["failed"]]
    if failed:
        fail(f"parity failed for {', '.join(failed)}; those files were not written")


def main() -> None:
    require_modules(["tensorflow", "tf2onnx", "onnx"], "tegaki[train]")
    app()
