"""Runtime benchmarks, one script, one run, one machine: prints tables, writes
docs/benchmarks.json and docs/latency.png (docs/benchmarks.md discusses them).

    TEGAKI_MNIST=../shared/data/mnist .venv/bin/python benchmarks/runtime.py \\
        --run models/edge --run models/seed \\
        --runtime-venv .venv-runtime --full-venv .venv [--pi-root /tmp/pi-root]

RUN folders hold what train-cnn and export-cnn wrote (model.keras, <arch>.onnx, ...); the
first is the shipped model. --runtime-venv is a plain `pip install tegaki` (no extras),
--full-venv one with tegaki[train]. --pi-root is a pi-emulate root (see
../shared/tools/pi-emulate); without it the emulation section is skipped.
"""

import argparse
import io
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
from PIL import Image

from tegaki.runtime import DigitReader
from tegaki.runtime.preprocessing import digit_from_image, load_image
from tegaki.train.mnist import load_mnist
from tegaki.train.realistic import phone_jpeg

from timing import cpu_name, p50_p99, time_ms

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
FORMATS = {"onnx": "{}.onnx", "onnx-int8": "{}-int8.onnx", "tflite-int8": "{}-int8.tflite"}
TARGETS = {  # issue 6's targets on this machine
    "end-to-end p50, small PNG (ms)": 1.0,
    "inference p50, shipped model (ms)": 0.1,
    "edge-predict cold start, median wall (s)": 0.5,
    "edge-predict peak RSS, median (MiB)": 80.0,
}

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--run", type=Path, action="append", required=True)
parser.add_argument("--runtime-venv", type=Path, required=True)
parser.add_argument("--full-venv", type=Path, required=True)
parser.add_argument("--pi-root", type=Path)
parser.add_argument("--repeats", type=int, default=300)
args = parser.parse_args()

mnist = load_mnist()
digit, label = mnist.x_test[0], int(mnist.y_test[0])
small_png = io.BytesIO()
Image.fromarray(digit).save(small_png, format="PNG")
inputs = {"28x28 PNG": small_png.getvalue(), "1000x1000 JPEG": phone_jpeg(digit, np.random.default_rng(0))[1]}
workdir = Path(tempfile.mkdtemp(prefix="tegaki-bench-"))
(workdir / "one.png").write_bytes(inputs["28x28 PNG"])
(workdir / "photo.jpg").write_bytes(inputs["1000x1000 JPEG"])
results = {
    "date": datetime.now(UTC).isoformat(timespec="seconds"),
    "cpu": cpu_name(),
    "cores": os.cpu_count(),
    "python": platform.python_version(),
    "versions": {
        p: metadata.version(p) for p in ("onnxruntime", "ai-edge-litert", "numpy", "pillow", "tensorflow", "keras")
    },
    "command": " ".join(["python", "benchmarks/runtime.py", *sys.argv[1:]]),
}

# 1. in-process latency, one image at a time, split into decode / preprocess / inference
latency = {}
for run in args.run:
    arch = json.loads((run / "metadata.json").read_text())["architecture"]
    for fmt, pattern in FORMATS.items():
        reader = DigitReader(run / pattern.format(arch), threads=1)
        for input_name, data in inputs.items():
            decode = time_ms(lambda: load_image(data), args.repeats)
            image = load_image(data)
            prepare = time_ms(lambda: digit_from_image(image.copy()), args.repeats)
            frame = digit_from_image(image.copy())[None]
            infer = time_ms(lambda: reader.predict_frames(frame), args.repeats)
            total = time_ms(lambda: reader.read(data), args.repeats)
            latency[f"{arch} {fmt} | {input_name}"] = {
                "decode": p50_p99(decode),
                "preprocess": p50_p99(prepare),
                "inference": p50_p99(infer),
                "end_to_end": p50_p99(total),
                "digit_ok": reader.read(data).digit == label,
            }
            print(
                f"{arch:5} {fmt:12} {input_name:15} decode {np.median(decode):7.3f}  preprocess {np.median(prepare):7.3f}  "
                f"inference {np.median(infer):7.3f}  end-to-end {np.median(total):7.3f} ms",
                flush=True,
            )

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402  (only now: the runtime figures above are taken without TensorFlow loaded)

seed_run = next(run for run in args.run if json.loads((run / "metadata.json").read_text())["architecture"] == "seed")
keras_model = keras.models.load_model(seed_run / "model.keras")


def tutorial_way(data: bytes) -> int:
    image = Image.open(io.BytesIO(data)).convert("L").resize((28, 28))
    return int(keras_model.predict((np.asarray(image, np.float32) / 255).reshape(1, 28, 28, 1), verbose=0).argmax())


for input_name, data in inputs.items():
    total = time_ms(lambda: tutorial_way(data), repeats=50)
    latency[f"tutorial keras-predict | {input_name}"] = {
        "end_to_end": p50_p99(total),
        "digit_ok": tutorial_way(data) == label,
    }
    print(
        f"tutorial: Keras predict {input_name:15} end-to-end {np.median(total):7.3f} ms (answer {tutorial_way(data)}, true {label})"
    )
tensor = (digit.astype(np.float32) / 255).reshape(1, 28, 28, 1)
keras_infer = time_ms(lambda: keras_model.predict(tensor, verbose=0), repeats=50)
latency["tutorial keras-predict | inference only"] = {"inference": p50_p99(keras_infer)}
print(f"tutorial: Keras predict on a ready 28x28 tensor: {np.median(keras_infer):7.3f} ms")
results["latency"] = latency

# 2. throughput, inference only, on real MNIST test digits
throughput = {}
shipped = args.run[0]
shipped_arch = json.loads((shipped / "metadata.json").read_text())["architecture"]
for fmt, pattern in FORMATS.items():
    for threads in (1, 2):
        reader = DigitReader(shipped / pattern.format(shipped_arch), threads=threads)
        for batch in (1, 32, 256):
            frames = mnist.x_test[:batch]
            times = time_ms(lambda: reader.predict_frames(frames), repeats=max(20, 3000 // batch))
            throughput[f"{fmt} threads={threads} batch={batch}"] = round(batch / (np.median(times) / 1000))
            print(
                f"throughput {shipped_arch} {fmt:12} threads {threads} batch {batch:3}: "
                f"{throughput[f'{fmt} threads={threads} batch={batch}']:>8,} images/s",
                flush=True,
            )
results["throughput_images_per_s"] = throughput


# 3. processes: cold start and peak RSS, medians of several runs
def timed_process(command: list[str]) -> tuple[float, float]:
    run = subprocess.run(["/usr/bin/time", "-f", "%e %M", *command], capture_output=True, text=True, check=True)
    wall, kilobytes = run.stderr.strip().splitlines()[-1].split()
    return float(wall), int(kilobytes) / 1024


processes = {}
for name, command, runs in [
    ("edge-predict one.png", [str(args.runtime_venv / "bin" / "edge-predict"), str(workdir / "one.png")], 9),
    (
        "tutorial script (TensorFlow)",
        [
            str(args.full_venv / "bin" / "python"),
            str(REPO / "benchmarks" / "tutorial_predict.py"),
            str(seed_run / "model.keras"),
            str(workdir / "one.png"),
        ],
        5,
    ),
]:
    samples = [timed_process(command) for _ in range(runs)]
    processes[name] = {
        "runs": runs,
        "median_wall_s": float(np.median([s[0] for s in samples])),
        "median_peak_rss_mib": round(float(np.median([s[1] for s in samples])), 1),
    }
    print(
        f"{name}: median wall {processes[name]['median_wall_s']:.2f} s, peak RSS {processes[name]['median_peak_rss_mib']:.1f} MiB"
    )
imports = subprocess.run(
    [str(args.runtime_venv / "bin" / "python"), "-X", "importtime", "-m", "tegaki.runtime", str(workdir / "one.png")],
    capture_output=True,
    text=True,
).stderr
cumulative = {m[2]: int(m[1]) for m in re.finditer(r"import time:\s+\d+ \|\s+(\d+) \| +(\S+)", imports)}
processes["edge-predict import times (cumulative ms)"] = {
    name: round(cumulative[name] / 1000, 1)
    for name in ("numpy", "PIL.Image", "typer", "onnxruntime", "tegaki.runtime.cli")
    if name in cumulative
}
results["processes"] = processes

# 4. install footprint
footprint = {
    name: int(subprocess.run(["du", "-sm", str(venv)], capture_output=True, text=True).stdout.split()[0])
    for name, venv in (
        ("runtime only (pip install tegaki)", args.runtime_venv),
        ("with TensorFlow (pip install tegaki[train])", args.full_venv),
    )
}
results["footprint_mib"] = footprint
print("footprint:", footprint)

# 5. under aarch64 emulation: only ratios between formats mean anything
if args.pi_root:
    files = [
        str(run / pattern.format(json.loads((run / "metadata.json").read_text())["architecture"]))
        for run in args.run
        for pattern in FORMATS.values()
    ]
    site = tempfile.mkdtemp(prefix="tegaki-pi-site-")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", site, str(REPO)], check=True
    )
    emulated = subprocess.run(
        [
            str(REPO.parent / "shared/tools/pi-emulate/run.sh"),
            str(args.pi_root),
            "--",
            str(REPO / "benchmarks" / "emulated_inference.py"),
            *files,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PI_EXTRA_PYTHONPATH": site},
        check=True,
    )
    times = json.loads(emulated.stdout.strip().splitlines()[-1])
    reference = times[Path(files[0]).name]
    results["emulated_aarch64"] = {
        name: {"median_ms": round(ms, 2), "relative_to_first": round(ms / reference, 2)} for name, ms in times.items()
    }
    print("emulated aarch64:", results["emulated_aarch64"])

# targets
shipped_small = latency[f"{shipped_arch} onnx-int8 | 28x28 PNG"]
measured = {
    "end-to-end p50, small PNG (ms)": shipped_small["end_to_end"]["p50_ms"],
    "inference p50, shipped model (ms)": shipped_small["inference"]["p50_ms"],
    "edge-predict cold start, median wall (s)": processes["edge-predict one.png"]["median_wall_s"],
    "edge-predict peak RSS, median (MiB)": processes["edge-predict one.png"]["median_peak_rss_mib"],
}
keras_small = latency["tutorial keras-predict | 28x28 PNG"]["end_to_end"]["p50_ms"]
results["targets"] = {
    name: {"target": TARGETS[name], "measured": value, "met": bool(value <= TARGETS[name])}
    for name, value in measured.items()
}
results["targets"]["speed-up vs Keras predict, inference only (x)"] = {
    "target": 100,
    "measured": round(float(np.median(keras_infer)) / shipped_small["inference"]["p50_ms"], 1),
    "met": bool(np.median(keras_infer) / shipped_small["inference"]["p50_ms"] >= 100),
}
results["targets"]["speed-up vs Keras predict, small PNG (x)"] = {
    "target": 100,
    "measured": round(keras_small / shipped_small["end_to_end"]["p50_ms"], 1),
    "met": bool(keras_small / shipped_small["end_to_end"]["p50_ms"] >= 100),
}
DOCS.mkdir(exist_ok=True)
(DOCS / "benchmarks.json").write_text(json.dumps(results, indent=2) + "\n")

# plot: end-to-end and inference latency per model and format, small PNG
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

names = [k for k in latency if k.endswith("28x28 PNG")]  # end to end and inference, one image
figure, axes = plt.subplots(figsize=(9, 4.5))
positions = np.arange(len(names))
axes.barh(positions, [latency[n]["end_to_end"]["p50_ms"] for n in names], label="end to end")
axes.barh(positions, [latency[n].get("inference", {}).get("p50_ms", 0) for n in names], label="inference only")
axes.set_yticks(positions, [n.split(" |")[0] for n in names])
axes.set_xscale("log")
axes.set_xlabel("p50 latency per 28x28 PNG, ms (log scale)")
axes.set_title(f"tegaki runtime vs the tutorial's Keras predict ({results['cpu']}, 1 thread)", fontsize=9)
axes.legend()
figure.tight_layout()
figure.savefig(DOCS / "latency.png", dpi=100)
print(json.dumps(results["targets"], indent=2))
