"""Quantize one float ONNX model with each int8 scheme of tegaki.export.converters and
measure every file on this CPU: MNIST accuracy, top-1 agreement and largest probability
difference against the float model, file size and per-image latency. Writes the files to
--out so that the same files can be measured under emulation (.ci/int8_agreement.py).

    TEGAKI_MNIST=../shared/data/mnist python benchmarks/int8_schemes.py assets/edge.onnx --out runs/int8
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np
import onnx

from tegaki.export.converters import INT8_SCHEMES, to_onnx_int8
from tegaki.export.exporting import calibration_images
from tegaki.runtime import DigitReader
from tegaki.train.mnist import load_mnist

from timing import machine_line, time_ms

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("float_model", type=Path)
parser.add_argument("--out", type=Path, default=Path("runs/int8"))
args = parser.parse_args()
args.out.mkdir(parents=True, exist_ok=True)

mnist = load_mnist()
float_reader = DigitReader(args.float_model, threads=1)
reference = float_reader.predict_frames(mnist.x_test)
frame = mnist.x_test[:1]
rows = [
    {
        "scheme": "float32",
        "bytes": args.float_model.stat().st_size,
        "accuracy": float(np.mean(reference.argmax(1) == mnist.y_test)),
        "agreement": 1.0,
        "max_diff": 0.0,
        "latency_ms": float(np.median(time_ms(lambda: float_reader.predict_frames(frame), 2000))),
    }
]
calibration = calibration_images(mnist)
for scheme in INT8_SCHEMES:
    path = args.out / f"{scheme}.onnx"
    onnx.save(to_onnx_int8(onnx.load(args.float_model), calibration, scheme), path)
    reader = DigitReader(path, threads=1)
    probabilities = reader.predict_frames(mnist.x_test)
    rows.append(
        {
            "scheme": scheme,
            "bytes": path.stat().st_size,
            "accuracy": float(np.mean(probabilities.argmax(1) == mnist.y_test)),
            "agreement": float(np.mean(probabilities.argmax(1) == reference.argmax(1))),
            "max_diff": float(np.abs(probabilities - reference).max()),
            "latency_ms": float(np.median(time_ms(lambda: reader.predict_frames(frame), 2000))),
        }
    )
print(machine_line(os.getloadavg()[0]))
print(f"{'scheme':<20} {'bytes':>8} {'accuracy':>9} {'agreement':>10} {'max diff':>9} {'latency':>9}")
for r in rows:
    print(
        f"{r['scheme']:<20} {r['bytes']:>8,} {r['accuracy']:>9.2%} {r['agreement']:>10.2%} {r['max_diff']:>9.3f} "
        f"{r['latency_ms']:>7.3f}ms"
    )
(args.out / "schemes.json").write_text(json.dumps(rows, indent=2) + "\n")
