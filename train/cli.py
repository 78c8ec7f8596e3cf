"""`train-cnn`: a thin command line over tegaki.train.training.train."""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from tegaki.runtime.console import PlainUsage, command_app, fail, native_chatter_hidden, require_modules
from tegaki.train import rundir
from tegaki.train.architectures import ARCHITECTURES  # no TensorFlow until a model is built
from tegaki.train.mnist import VAL_SPLIT  # no TensorFlow
from tegaki.train.user_data import DEFAULT_MNIST_RATIO, UserDataError, is_user_data, load_user_data  # no TensorFlow

app = command_app()


@app.command(
    cls=PlainUsage,
    help="Train a digit CNN on MNIST, or fine-tune one on your own labelled images (--data FOLDER "
    "or CSV), and write the Keras model, metadata.json, history.csv, history.png and "
    "TensorBoard logs into OUT, all at once when training "
    "has finished (until then into .OUT.partial beside it). A finished run in OUT is "
    "only replaced with --force.",
)
def train_cnn(
    arch: Annotated[
        str | None,
        typer.Option(
            help="architecture [default: seed; with your images: the --init "
            "model's, edge for scratch]: "
            + "; ".join(f"{name}: {recipe.summary()}" for name, recipe in ARCHITECTURES.items())
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="output folder [default: models/ARCH; with your images: models/finetuned]")
    ] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="[default: the architecture's recipe]")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="[default: the architecture's recipe]")] = None,
    seed: Annotated[int, typer.Option(min=0, help="random seed: same seed, same data, same model")] = 0,
    limit: Annotated[
        int | None,
        typer.Option(
            min=2, help="train on (with your images: replay) the first N MNIST training images only (quick try)"
        ),
    ] = None,
    val_split: Annotated[
        float,
        typer.Option(
            min=0.01,
            max=0.5,
            help="fraction of the training images held out for validation (of your images: per class)",
        ),
    ] = VAL_SPLIT,
    logdir: Annotated[Path | None, typer.Option(help="TensorBoard log folder [default: OUT/logs]")] = None,
    resume: Annotated[
        bool,
        typer.Option(
            help="continue an interrupted run for OUT from its last finished epoch: "
            "weights, optimizer state and history are restored, the random "
            "data order and augmentation are not (see README)"
        ),
    ] = False,
    force: Annotated[bool, typer.Option(help="replace a finished run in OUT (its exports and logs with it)")] = False,
    data: Annotated[
        Path | None,
        typer.Option(
            help="your images: a folder with one sub-folder per class (0/ ... 9/, "
            "minus/...) or a CSV of path,label; fine-tunes --init on them "
            "with MNIST replayed from $TEGAKI_MNIST or the Keras cache. Or "
            "MNIST itself: a folder with the four IDX files (.gz or raw) or "
            "a mnist.npz [default: $TEGAKI_MNIST, then the Keras cache, "
            "then download]"
        ),
    ] = None,
    init: Annotated[
        str | None,
        typer.Option(
            help="with your images: the model to start from: shipped (tegaki's "
            "edge model), scratch, or a .keras file [default: shipped]"
        ),
    ] = None,
    mnist_ratio: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=20.0,
            help="with your images: MNIST images "
            "replayed per image of yours, so MNIST is not forgotten "
            f"[default: {DEFAULT_MNIST_RATIO:g}]",
        ),
    ] = None,
) -> None:
    if arch is not None and arch not in ARCHITECTURES:
        raise typer.BadParameter(f"{arch!r} is not one of: {', '.join(ARCHITECTURES)}", param_hint="--arch")
    # Arguments checked here fail in a moment; TensorFlow takes seconds to load.
    if data is not None and not data.exists():
        fail(f"{data} (from --data) does not exist")
    user_data = None
    if data is not None and is_user_data(data):
        try:
            user_data = load_user_data(data, report=lambda line: typer.echo(line, err=True))
        except UserDataError as error:
            fail(str(error))
    elif init is not None or mnist_ratio is not None:
        raise typer.BadParameter(
            "applies only to training on your own images (--data FOLDER or CSV)",
            param_hint="--init" if init is not None else "--mnist-ratio",
        )
    if user_data is None:
        arch = arch or "seed"
    out = out or rundir.default_out(arch)
    try:
        rundir.recover(out)
        rundir.check_out(out, force, resume)
    except rundir.RunFolderError as error:
        fail(str(error), code=2)
    except OSError as error:
        fail(f"cannot use --out {out}: {error.strerror or error}")
    # TensorFlow's chatter hides our output; its errors still reach us as exceptions
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with native_chatter_hidden():
        from tegaki.train.finetune import FineTuneError
        from tegaki.train.mnist import MnistError
        from tegaki.train.training import TrainConfig, train

    tuning = (
        {}
        if user_data is None
        else {
            "user_data": user_data,
            "init": init or "shipped",
            "mnist_ratio": DEFAULT_MNIST_RATIO if mnist_ratio is None else mnist_ratio,
        }
    )
    config = TrainConfig(
        arch=arch,
        out=out,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        limit=limit,
        val_split=val_split,
        logdir=logdir,
        data=None if user_data is not None else data,
        resume=resume,
        force=force,
        verbose=1 if sys.stdout.isatty() else 2,
        **tuning,
    )
    try:
        result = train(config)
    except (MnistError, FineTuneError, rundir.RunFolderError) as error:
        fail(str(error))
    except KeyboardInterrupt:
        fail(
            "interrupted; no output files were written (rerun with --resume to continue from the last finished epoch)",
            code=130,
        )
    except OSError as error:
        fail(f"cannot write {error.filename or config.out}: {error.strerror or error}")
    test = result.metadata["test"]
    if user_data is not None:
        before = result.metadata["fine_tuning"]["before"]
        validation = result.metadata["validation"]["accuracy"]
        print(
            f"your held-out images: {before['validation_accuracy']:.2%} -> {validation:.2%}; MNIST test: "
            f"{before['test_accuracy']:.2%} -> {test['accuracy']:.2%}"
            if before
            else f"accuracy on your held-out images {validation:.2%}"
        )
    print(
        f"test accuracy {test['accuracy']:.2%} (loss {test['loss']:.4f}) on {test['images']} images; "
        f"trained in {result.metadata['train_seconds']:.0f} s"
    )
    for path in result.files:
        print(f"wrote {path}")


def main() -> None:
    require_modules(["tensorflow", "keras", "matplotlib"], "tegaki[train]")
    app()
