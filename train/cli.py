"""`train-cnn`: a thin command line over tegaki.train.training.train."""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from tegaki.runtime.console import command_app, fail, require_modules
from tegaki.train import rundir

# Kept here, not imported from architectures, so `--help` answers without loading TensorFlow;
# tests check that it lists exactly the architectures that exist.
ARCH_CHOICES = {
    "seed": "the Keras MNIST tutorial's CNN (1.2 M parameters; Adadelta, 12 epochs)",
    "edge": "tegaki's small CNN for devices (33 k parameters, batch norm, augmentation; AdamW one-cycle, 30 epochs)",
}

app = command_app()


@app.command(help="Train a digit CNN on MNIST and write the Keras model, metadata.json, "
                  "history.csv, history.png and TensorBoard logs into OUT, all at once when training "
                  "has finished (until then into .OUT.partial beside it). A finished run in OUT is "
                  "only replaced with --force.")
def train_cnn(
    arch: Annotated[str, typer.Option(help="architecture: " + "; ".join(
        f"{name}: {text}" for name, text in ARCH_CHOICES.items()))] = "seed",
    out: Annotated[Path | None, typer.Option(help="output folder [default: models/ARCH]")] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="[default: the architecture's recipe]")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="[default: the architecture's recipe]")] = None,
    seed: Annotated[int, typer.Option(min=0, help="random seed: same seed, same data, same model")] = 0,
    limit: Annotated[int | None, typer.Option(min=2, help="train on the first N training images only (quick try)")] = None,
    val_split: Annotated[float, typer.Option(min=0.01, max=0.5, help="fraction of the training images held out for validation")] = 0.1,
    logdir: Annotated[Path | None, typer.Option(help="TensorBoard log folder [default: OUT/logs]")] = None,
    resume: Annotated[bool, typer.Option(help="continue an interrupted run for OUT from its last finished epoch: "
                                              "weights, optimizer state and history are restored, the random "
                                              "data order and augmentation are not (see README)")] = False,
    force: Annotated[bool, typer.Option(help="replace a finished run in OUT (its exports and logs with it)")] = False,
    data: Annotated[Path | None, typer.Option(help="MNIST folder (four IDX files, .gz or raw) or mnist.npz "
                                                    "[default: $TEGAKI_MNIST, then the Keras cache, then download]")] = None,
) -> None:
    if arch not in ARCH_CHOICES:
        raise typer.BadParameter(f"{arch!r} is not one of: {', '.join(ARCH_CHOICES)}", param_hint="--arch")
    out = out or Path("models") / arch
    # Arguments checked here fail in a moment; TensorFlow takes seconds to load.
    if data is not None and not data.exists():
        fail(f"{data} (from --data) does not exist")
    try:
        rundir.recover(out)
        rundir.check_out(out, force, resume)
    except rundir.RunFolderError as error:
        fail(str(error), code=2)
    except OSError as error:
        fail(f"cannot use --out {out}: {error.strerror or error}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter hides our output
    from tegaki.train.mnist import MnistError
    from tegaki.train.training import TrainConfig, train

    config = TrainConfig(arch=arch, out=out, epochs=epochs, batch_size=batch_size, seed=seed, limit=limit,
                         val_split=val_split, logdir=logdir, data=data, resume=resume, force=force,
                         verbose=1 if sys.stdout.isatty() else 2)
    try:
        result = train(config)
    except (MnistError, rundir.RunFolderError) as error:
        fail(str(error))
    except KeyboardInterrupt:
        fail("interrupted; no output files were written (rerun with --resume to continue from the "
             "last finished epoch)", code=130)
    except OSError as error:
        fail(f"cannot write {error.filename or config.out}: {error.strerror or error}")
    test = result.metadata["test"]
    print(f"test accuracy {test['accuracy']:.2%} (loss {test['loss']:.4f}) on {test['images']} images; "
          f"trained in {result.metadata['train_seconds']:.0f} s")
    for path in result.files:
        print(f"wrote {path}")


def main() -> None:
    require_modules(["tensorflow", "keras", "matplotlib"], "tegaki[train]")
    app()
