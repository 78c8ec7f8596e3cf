"""Fine-tuning on the user's images (issue 15): time, and accuracy before and after.

    TEGAKI_MNIST=../shared/data/mnist python benchmarks/finetune.py [--images 1000] [--init shipped|PATH.keras]

Makes IMAGES seven-segment display images (tegaki.train.synthetic_digits: 0-9 and `minus`,
evenly) as class folders, runs `train-cnn --data` on them as a user would (wall time of the
whole command: start-up, preprocessing, training, MNIST test, writing), exports the result
with `export-cnn -f onnx -f onnx-int8`, then reads held-out images of the same style (another
seed, never trained on) end to end with the runtime. Prints the figures and writes
benchmarks/finetune.json.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tegaki.runtime import DigitReader, preprocess
from tegaki.runtime.contract import to_model_input
from tegaki.train.finetune import load_start_model
from tegaki.train.mnist import load_mnist
from tegaki.train.synthetic_digits import CLASSES, synthetic_digits, write_folder

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--images", type=int, default=1000, help="user images to fine-tune on")
parser.add_argument("--held-out", type=int, default=50, help="held-out images per class")
parser.add_argument("--init", default="shipped", help="shipped, or a .keras file")
args = parser.parse_args()

bin_dir = Path(sys.executable).parent
mnist = load_mnist()
held_out = synthetic_digits(args.held_out, seed=1001)
start, start_labels = load_start_model(args.init)


def keras_accuracy(model, labels: tuple[str, ...]) -> dict:
    """On held-out display images (preprocessed by the runtime) and on MNIST test; a class the
    model lacks (`minus` for the start model) counts as wrong."""
    reader_frames = np.stack([preprocess(item.data) for item in held_out])
    truth = [item.label for item in held_out]
    guesses = model.predict(to_model_input(reader_frames), batch_size=1024, verbose=0).argmax(1)
    mnist_guesses = model.predict(to_model_input(mnist.x_test), batch_size=1024, verbose=0).argmax(1)
    return {
        "held_out": float(np.mean([labels[g] == t for g, t in zip(guesses, truth)])),
        "held_out_digits_only": float(np.mean([labels[g] == t for g, t in zip(guesses, truth) if t != "minus"])),
        "mnist_test": float(np.mean(mnist_guesses == mnist.y_test)),
    }


def runtime_accuracy(path: Path) -> float:
    reader = DigitReader(path)
    return float(
        np.mean([p.label == item.label for p, item in zip(reader.read_many([i.data for i in held_out]), held_out)])
    )


with tempfile.TemporaryDirectory(prefix="tegaki-finetune-") as tmp:
    data = write_folder(Path(tmp, "my-digits"), synthetic_digits(-(-args.images // len(CLASSES)), seed=1))
    out = Path(tmp, "run")
    command = [str(bin_dir / "train-cnn"), "--data", str(data), "--out", str(out), "--init", args.init]
    started = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    subprocess.run(
        [str(bin_dir / "export-cnn"), str(out / "model.keras"), "-f", "onnx", "-f", "onnx-int8"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    import keras

    metadata = json.loads((out / "metadata.json").read_text())
    before = keras_accuracy(start, start_labels)
    after = keras_accuracy(keras.models.load_model(out / "model.keras", compile=False), tuple(metadata["labels"]))
    name = metadata["architecture"]
    exported = {
        fmt: runtime_accuracy(out / f"{name}{suffix}")
        for fmt, suffix in (("onnx", ".onnx"), ("onnx-int8", "-int8.onnx"))
    }
    parity = {r["format"]: r for r in json.loads((out / "parity.json").read_text())}

result = {
    "date": datetime.now(UTC).isoformat(timespec="seconds"),
    "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    "command": "python benchmarks/finetune.py " + " ".join(sys.argv[1:]),
    "user_images": sum(metadata["data"]["images"].values()),
    "classes": metadata["labels"],
    "train_images": metadata["train_images"],
    "validation_images": metadata["validation_images"],
    "held_out_images": len(held_out),
    "init": args.init,
    "wall_seconds": round(wall, 1),
    "train_seconds": metadata["train_seconds"],
    "epochs": metadata["epochs"],
    "mnist_ratio": metadata["data"]["mnist"]["ratio"],
    "before": before,
    "after": after,
    "runtime_held_out": exported,
    "export_mnist_parity": {
        fmt: {k: parity[fmt][k] for k in ("accuracy", "top1_agreement", "failed")} for fmt in parity
    },
}
Path(__file__).with_name("finetune.json").write_text(json.dumps(result, indent=2) + "\n")
print(json.dumps(result, indent=2))
print(
    f"\n{result['user_images']} user images, {args.init} start: train-cnn took {wall:.0f} s "
    f"(training {metadata['train_seconds']:.0f} s)"
)
print(
    f"held-out display images ({len(held_out)}): {before['held_out']:.1%} -> {after['held_out']:.1%} "
    f"(digits only {before['held_out_digits_only']:.1%} -> {after['held_out_digits_only']:.1%}); "
    f"int8 ONNX through the runtime {exported['onnx-int8']:.1%}"
)
print(f"MNIST test: {before['mnist_test']:.2%} -> {after['mnist_test']:.2%}")
