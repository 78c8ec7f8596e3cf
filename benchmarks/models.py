"""Seed vs edge model, one run on one machine: size, cost, accuracy, speed (issue 5's table).

    TEGAKI_MNIST=../shared/data/mnist python benchmarks/models.py RUN_DIR [RUN_DIR ...]

Each RUN_DIR is what `train-cnn --out RUN_DIR` and `export-cnn RUN_DIR/model.keras` wrote.
Prints a Markdown table and writes benchmarks/models.json.
"""

import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np

from tegaki.runtime import DigitReader
from tegaki.train.architectures import multiply_accumulates
from tegaki.train.mnist import load_mnist
from tegaki.train.realistic import realistic_images

from timing import p50_p99, time_ms

FORMATS = ["onnx", "onnx-int8", "tflite", "tflite-fp16", "tflite-int8"]

mnist = load_mnist()
realistic = realistic_images(mnist.x_test, mnist.y_test, count=1000)
single = mnist.x_test[:1]
rows = []
for run in map(Path, sys.argv[1:]):
    training = json.loads((run / "metadata.json").read_text())
    parity = {r["format"]: r for r in json.loads((run / "parity.json").read_text())}
    name = training["architecture"]
    row = {
        "model": name,
        "parameters": training["parameters"],
        "macs": multiply_accumulates(keras.models.load_model(run / "model.keras", compile=False)),
        "train_seconds": training["train_seconds"],
        "epochs_run": training.get("epochs_run", training["epochs"]),
        "keras_accuracy": training["test"]["accuracy"],
        "formats": {},
    }
    for fmt in FORMATS:
        if fmt not in parity:
            continue
        path = Path(parity[fmt]["file"])
        path = run / path.name
        reader = DigitReader(path, threads=1)
        latency = p50_p99(time_ms(lambda: reader.predict_frames(single), repeats=300))
        realistic_accuracy = float(np.mean([reader.read(item.data).digit == item.label for item in realistic]))
        row["formats"][fmt] = {
            "bytes": path.stat().st_size,
            "accuracy": parity[fmt]["accuracy"],
            "top1_agreement": parity[fmt]["top1_agreement"],
            "inference_1_thread": latency,
            "realistic_accuracy": realistic_accuracy,
        }
        print(
            f"{name:6} {fmt:12} {path.stat().st_size:>10,} B  MNIST {parity[fmt]['accuracy']:.2%}  "
            f"realistic {realistic_accuracy:.1%}  inference p50 {latency['p50_ms']:.3f} ms",
            flush=True,
        )
    rows.append(row)

result = {
    "date": datetime.now(UTC).isoformat(timespec="seconds"),
    "machine": platform.processor() or platform.machine(),
    "command": "python benchmarks/models.py " + " ".join(sys.argv[1:]),
    "models": rows,
}
Path(__file__).with_name("models.json").write_text(json.dumps(result, indent=2) + "\n")

print(
    "\n| model | params | MACs/image | format | file | MNIST acc | agreement with Keras | realistic acc (1,000) | inference p50 (1 thread) |"
)
print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
for row in rows:
    for fmt, f in row["formats"].items():
        print(
            f"| {row['model']} | {row['parameters']:,} | {row['macs'] / 1e6:.2f} M | {fmt} | {f['bytes'] / 1024:,.1f} KB | "
            f"{f['accuracy']:.2%} | {f['top1_agreement']:.2%} | {f['realistic_accuracy']:.1%} | "
            f"{f['inference_1_thread']['p50_ms']:.3f} ms |"
        )
