"""Per-image inference time of each model file, run inside the aarch64 emulator (numpy,
onnxruntime and ai-edge-litert only). Prints one JSON object.

    ../shared/tools/pi-emulate/run.sh ROOT -- benchmarks/emulated_inference.py MODEL...
"""

import json
import sys
import time

import numpy as np

from tegaki.runtime import DigitReader

frame = np.zeros((1, 28, 28), np.uint8)
frame[0, 6:22, 12:16] = 255  # a "1"
results = {}
for path in sys.argv[1:]:
    reader = DigitReader(path, threads=1)
    for _ in range(3):
        reader.predict_frames(frame)
    times = []
    for _ in range(20):
        started = time.perf_counter()
        reader.predict_frames(frame)
        times.append((time.perf_counter() - started) * 1000)
    results[path.rsplit("/", 1)[-1]] = float(np.median(times))
print(json.dumps(results))
