"""Train one architecture on MNIST and write the model, its metadata, history and plot.

One linear job, like Keras's own examples: load data, hold out validation, build,
fit, evaluate on the test set once, write. The run is written into a work folder beside
`out` that becomes `out` only when everything succeeded (tegaki.train.rundir), so a crash
or Ctrl-C leaves no half-written file and OUT is always one whole run.

`resume` restores what Keras's BackupAndRestore saves after each finished epoch: the
weights, the optimizer's state (its step count, so the learning-rate schedule, and its
moments) and the epoch to continue from; history.csv and the training time carry on too.
It does not restore random state: the shuffled data order, dropout masks and augmentation
of the resumed epochs start again from the seed, so a resumed run is as good a run but not
bit-identical to an uninterrupted one; nor EarlyStopping's memory of the best epoch before
the interruption (the weights kept are the best of the resumed epochs).
"""

import csv
import dataclasses
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np

from tegaki.runtime.atomic import write_text_atomic
from tegaki.runtime.contract import INPUT_CONTRACT, LABELS, to_model_input
from tegaki.train import rundir
from tegaki.train.architectures import ARCHITECTURES, Recipe, multiply_accumulates
from tegaki.train.augment import augmented_batches
from tegaki.train.finetune import FineTuning
from tegaki.train.mnist import VAL_SPLIT, load_mnist, split_validation
from tegaki.train.plots import plot_history
from tegaki.train.rundir import HISTORY_FILE, LOGS_DIR, METADATA_FILE, MODEL_FILE, PLOT_FILE, library_versions
from tegaki.train.user_data import DEFAULT_MNIST_RATIO, UserData


def publish_history(source: Path, target: Path) -> None:
    """Copy Keras's CSVLogger file, epochs counted from 1 as the console, plot and metadata
    count them (Keras's file counts from 0)."""
    with source.open(newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        row["epoch"] = str(int(row["epoch"]) + 1)
    with target.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def read_history(path: Path) -> dict[str, list[float]]:
    """history.csv as columns: the whole run's, including epochs before a resume."""
    with path.open() as file:
        rows = list(csv.DictReader(file))
    return {key: [float(row[key]) for row in rows] for key in rows[0] if key != "epoch"}


@dataclass
class TrainConfig:
    arch: str | None = "seed"  # None with user_data: the start model's
    out: Path | None = None  # None: rundir.default_out(arch)
    epochs: int | None = None  # None: the architecture's recipe
    batch_size: int | None = None
    seed: int = 0
    limit: int | None = None  # train on the first N training images only
    val_split: float = VAL_SPLIT
    logdir: Path | None = None  # None: OUT/logs
    data: Path | None = None
    resume: bool = False  # continue an interrupted run in the same `out` from its last epoch
    force: bool = False  # replace a finished run in `out`
    verbose: int | str = "auto"
    user_data: Path | UserData | None = None  # the user's images (tegaki.train.user_data); `data` is then MNIST's only
    init: str = "shipped"  # with user_data: shipped, scratch or a .keras path (tegaki.train.finetune)
    mnist_ratio: float = DEFAULT_MNIST_RATIO  # with user_data: MNIST images replayed per user image


@dataclass
class TrainResult:
    model_path: Path
    metadata: dict
    files: list[Path] = field(default_factory=list)


class EpochClock(keras.callbacks.Callback):
    """Seconds of each finished epoch, kept with the resumable state so that train_seconds
    counts every epoch of a resumed run, not only the resumed ones."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.seconds = json.loads(path.read_text()) if path.is_file() else {}

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds[str(epoch)] = time.perf_counter() - self.started
        write_text_atomic(self.path, json.dumps(self.seconds))

    def per_epoch(self, epochs_run: int) -> list[float]:
        return [round(self.seconds.get(str(epoch), 0.0), 1) for epoch in range(epochs_run)]


class StopAtInterrupt(keras.callbacks.Callback):
    """Ctrl-C during fit stops training after the current batch, by raising KeyboardInterrupt
    from Python between steps. Raised where SIGINT lands, it could hit TensorFlow's C++ code
    in the middle of a step, which once aborted the process ("free(): invalid next size").
    A second Ctrl-C interrupts at once."""

    def on_train_begin(self, logs=None):
        self.interrupted, self.previous = False, None
        if threading.current_thread() is threading.main_thread():  # only there can Python handle signals
            self.previous = signal.signal(signal.SIGINT, self._interrupt)

    def _interrupt(self, signum, frame):
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        print("\nstopping after this batch (Ctrl-C again to stop at once)", file=sys.stderr, flush=True)

    def _check(self, batch=None, logs=None):
        if self.interrupted:
            self.restore()
            raise KeyboardInterrupt

    on_train_batch_end = on_test_batch_end = on_epoch_end = _check

    def restore(self, logs=None):
        """Ctrl-C as it was before training (also when fit raised: train() calls it)."""
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None

    on_train_end = restore


def train(config: TrainConfig, recipe: Recipe | None = None) -> TrainResult:
    """Train `config.arch` with its recipe, or with `recipe` (a variant, for experiments);
    with `config.user_data`, fine-tune on the user's images (tegaki.train.finetune)."""
    out = Path(config.out or rundir.default_out(config.arch))
    rundir.recover(out)
    rundir.check_out(out, config.force, config.resume)
    mnist = load_mnist(config.data)
    tuning = None
    if config.user_data is not None:
        tuning = FineTuning.prepare(
            config.user_data, config.init, config.mnist_ratio, mnist, config.val_split, config.seed, config.limit
        )
        config = dataclasses.replace(config, arch=config.arch or tuning.architecture)
    recipe = recipe or ARCHITECTURES[config.arch]
    recipe = tuning.recipe(recipe) if tuning else recipe
    epochs = config.epochs or recipe.epochs
    batch_size = config.batch_size or recipe.batch_size
    labels = tuning.classes if tuning else LABELS

    x_test, y_test = to_model_input(mnist.x_test), mnist.y_test
    if tuning:
        x_train, y_train, x_val, y_val = tuning.split()
        print(
            f"data: {tuning.user.source}: {len(labels)} classes ({', '.join(labels)}), {len(x_train)} train and "
            f"{len(x_val)} validation images; {config.mnist_ratio:g} MNIST images replayed per image from "
            f"{mnist.source}; test: {len(x_test)} MNIST images"
        )
    else:
        x_all, y_all = mnist.x_train[: config.limit], mnist.y_train[: config.limit]
        train_idx, val_idx = split_validation(len(x_all), config.val_split, config.seed)
        x_train, y_train = to_model_input(x_all[train_idx]), y_all[train_idx]
        x_val, y_val = to_model_input(x_all[val_idx]), y_all[val_idx]
        print(f"data: {mnist.source}: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images")

    if recipe.label_smoothing:  # Keras smooths only one-hot targets
        y_train, y_val, y_test = (keras.utils.to_categorical(y, len(labels)) for y in (y_train, y_val, y_test))
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy()

    keras.utils.set_random_seed(config.seed)
    model = tuning.build_model(recipe, x_val, x_test, mnist.y_test) if tuning else recipe.build()
    if tuning:
        augmenter = recipe.augment(config.seed) if recipe.augment else None
        fit_data, steps_per_epoch = tuning.batches(
            x_train, batch_size, augmenter, config.seed, one_hot=bool(recipe.label_smoothing)
        )
        fit_data = {"x": fit_data, "steps_per_epoch": steps_per_epoch, "shuffle": False}
    elif recipe.augment:
        augmenter = recipe.augment(config.seed)
        fit_data = {"x": augmented_batches(x_train, y_train, batch_size, augmenter, config.seed), "shuffle": False}
        steps_per_epoch = len(x_train) // batch_size
    else:
        fit_data = {"x": x_train, "y": y_train, "batch_size": batch_size}
        steps_per_epoch = -(-len(x_train) // batch_size)
    model.compile(optimizer=recipe.optimizer(steps_per_epoch * epochs), loss=loss, metrics=["accuracy"])
    print(
        f"model: {config.arch} ({recipe.description}), {model.count_params():,} parameters; "
        f"{epochs} epoch{'' if epochs == 1 else 's'} (the recipe: {recipe.epochs}), batch {batch_size}"
    )

    work = rundir.start(out, config.resume)
    logdir = rundir.inside_work(Path(config.logdir) if config.logdir else out / LOGS_DIR, out)
    state = work / rundir.STATE_DIR
    state.mkdir(exist_ok=True)
    print(f"output: {out} (written when training has finished; until then in {work})")
    clock = EpochClock(state / "seconds.json")
    interrupt = StopAtInterrupt()
    callbacks = [
        keras.callbacks.TensorBoard(log_dir=str(logdir), write_graph=True),
        # the per-epoch history goes with the resumable state, so a resumed run keeps it whole
        keras.callbacks.CSVLogger(str(state / HISTORY_FILE), append=config.resume),
        keras.callbacks.BackupAndRestore(str(state / "backup")),
        clock,
        interrupt,
    ]
    if recipe.patience:
        # validation loss, not accuracy: on 6,000 images accuracy moves in steps of 0.017% and
        # ties early, so the "best" epoch would be a noisy pick; the loss keeps improving smoothly
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=recipe.patience, restore_best_weights=True, verbose=1
            )
        )
    try:
        model.fit(
            **fit_data, epochs=epochs, validation_data=(x_val, y_val), verbose=config.verbose, callbacks=callbacks
        )
    finally:
        interrupt.restore()
    publish_history(state / HISTORY_FILE, work / HISTORY_FILE)
    history_rows = read_history(work / HISTORY_FILE)
    epoch_seconds = clock.per_epoch(len(history_rows["loss"]))
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
    # the weights kept: the best validation epoch with early stopping, else the last
    best = int(np.argmin(history_rows["val_loss"])) if recipe.patience else len(history_rows["loss"]) - 1

    metadata = {
        "architecture": config.arch,
        "description": recipe.description,
        "parameters": model.count_params(),
        "multiply_accumulates": multiply_accumulates(model),
        "epochs": epochs,
        "batch_size": batch_size,
        "optimizer": keras.optimizers.serialize(model.optimizer)["class_name"],
        "seed": config.seed,
        "train_images": len(x_train),
        "validation_images": len(x_val),
        "test": {"loss": float(test_loss), "accuracy": float(test_accuracy), "images": len(x_test)},
        "validation": {
            "loss": float(history_rows["val_loss"][best]),
            "accuracy": float(history_rows["val_accuracy"][best]),
            "best_epoch": best + 1,
        },
        "epochs_run": len(history_rows["loss"]),
        "train_seconds": round(sum(epoch_seconds), 1),  # every epoch's, across a resume
        "epoch_seconds": epoch_seconds,
        "data": {
            "source": mnist.source,
            "train_sha256": mnist.train_sha256(),
            "limit": config.limit,
            "val_split": config.val_split,
        },
        "input": INPUT_CONTRACT,
        "labels": list(labels),
        "versions": library_versions(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if tuning:
        metadata.update(tuning.metadata(mnist, config.val_split))
    model.save(work / MODEL_FILE)
    plot_history(history_rows, work / PLOT_FILE, title=f"{config.arch} on {'your images' if tuning else 'MNIST'}")
    write_text_atomic(work / METADATA_FILE, json.dumps(metadata, indent=2) + "\n")  # last: marks it finished
    rundir.publish(work, out)
    files = [out / name for name in (MODEL_FILE, METADATA_FILE, HISTORY_FILE, PLOT_FILE)]
    logdir = Path(config.logdir) if config.logdir else out / LOGS_DIR
    return TrainResult(model_path=out / MODEL_FILE, metadata=metadata, files=[*files, logdir])
