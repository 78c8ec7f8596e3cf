"""Train one architecture on MNIST and write the model, its metadata, history and plot.

One linear job, like Keras's own examples: load data, hold out validation, build,
fit, evaluate on the test set once, write. Outputs are staged in a hidden folder inside
`out` and moved into place only when everything succeeded, so a crash or Ctrl-C leaves
no half-written file and never clobbers an earlier run's files.
"""

import json
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata as package_metadata
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tegaki.runtime.contract import INPUT_CONTRACT, LABELS, to_model_input
from tegaki.train.architectures import ARCHITECTURES
from tegaki.train.mnist import load_mnist
from tegaki.train.plots import plot_history

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
HISTORY_FILE = "history.csv"
PLOT_FILE = "history.png"


@dataclass
class TrainConfig:
    arch: str = "seed"
    out: Path = Path("models/seed")
    epochs: int | None = None  # None: the architecture's recipe
    batch_size: int | None = None
    seed: int = 0
    limit: int | None = None  # train on the first N training images only
    val_split: float = 0.1
    logdir: Path | None = None  # None: OUT/logs
    data: Path | None = None
    verbose: int | str = "auto"


@dataclass
class TrainResult:
    model_path: Path
    metadata: dict
    files: list[Path] = field(default_factory=list)


def split_validation(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded shuffle of range(n) into (train, validation) indices; at least one of each."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = min(max(1, round(n * fraction)), n - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "tensorflow": tf.__version__,
                "keras": keras.__version__, "numpy": np.__version__}
    try:
        versions["tegaki"] = package_metadata.version("tegaki")
    except package_metadata.PackageNotFoundError:
        versions["tegaki"] = "not installed"
    return versions


def train(config: TrainConfig) -> TrainResult:
    recipe = ARCHITECTURES[config.arch]
    epochs = config.epochs or recipe.epochs
    batch_size = config.batch_size or recipe.batch_size

    mnist = load_mnist(config.data)
    x_all, y_all = mnist.x_train[: config.limit], mnist.y_train[: config.limit]
    train_idx, val_idx = split_validation(len(x_all), config.val_split, config.seed)
    x_train, y_train = to_model_input(x_all[train_idx]), y_all[train_idx]
    x_val, y_val = to_model_input(x_all[val_idx]), y_all[val_idx]
    x_test, y_test = to_model_input(mnist.x_test), mnist.y_test
    print(f"data: {mnist.source}: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images")

    keras.utils.set_random_seed(config.seed)
    model = recipe.build()
    model.compile(optimizer=recipe.optimizer(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    print(f"model: {config.arch} ({recipe.description}), {model.count_params():,} parameters; "
          f"{epochs} epochs, batch {batch_size}")

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    logdir = Path(config.logdir) if config.logdir else out / "logs"
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        started = time.perf_counter()
        history = model.fit(
            x_train, y_train, batch_size=batch_size, epochs=epochs,
            validation_data=(x_val, y_val), verbose=config.verbose,
            callbacks=[keras.callbacks.TensorBoard(log_dir=str(logdir), write_graph=True),
                       keras.callbacks.CSVLogger(str(staging / HISTORY_FILE))],
        )
        train_seconds = time.perf_counter() - started
        test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)

        metadata = {
            "architecture": config.arch,
            "description": recipe.description,
            "parameters": model.count_params(),
            "epochs": epochs,
            "batch_size": batch_size,
            "optimizer": keras.optimizers.serialize(model.optimizer)["class_name"],
            "seed": config.seed,
            "train_images": len(x_train),
            "validation_images": len(x_val),
            "test": {"loss": float(test_loss), "accuracy": float(test_accuracy), "images": len(x_test)},
            "validation": {"loss": float(history.history["val_loss"][-1]),
                           "accuracy": float(history.history["val_accuracy"][-1])},
            "train_seconds": round(train_seconds, 1),
            "data": {"source": mnist.source, "train_sha256": mnist.train_sha256(),
                     "limit": config.limit, "val_split": config.val_split},
            "input": INPUT_CONTRACT,
            "labels": list(LABELS),
            "versions": library_versions(),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        model.save(staging / MODEL_FILE)
        (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
        plot_history(history.history, staging / PLOT_FILE, title=f"{config.arch} on MNIST")

        files = []
        for name in (MODEL_FILE, METADATA_FILE, HISTORY_FILE, PLOT_FILE):
            (staging / name).replace(out / name)
            files.append(out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return TrainResult(model_path=out / MODEL_FILE, metadata=metadata, files=[*files, logdir])
