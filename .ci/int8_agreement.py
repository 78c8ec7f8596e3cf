"""Does an int8 model give its float twin's answers on this CPU? Run natively, under
../shared/tools/x86-emulate (AVX2, no VNNI) and under ../shared/tools/pi-emulate (aarch64).

    python .ci/int8_agreement.py INT8.onnx FLOAT.onnx [--images 1000] [--save P.npy] [--reference P.npy]

Reads the first N MNIST test images through tegaki's loader ($TEGAKI_MNIST) and fails
(exit 1) when top-1 agreement is under 99.9% or a probability differs by more than 0.1
(issue 9's bar). --save writes the int8 probabilities; --reference compares them with a file
saved on another CPU and prints the largest difference (quantized kernels that never
saturate compute the same integers everywhere, so it should be about float rounding).
"""

import argparse
import platform
import sys

import numpy as np

from tegaki.runtime import DigitReader
from tegaki.train.mnist import load_mnist

MIN_AGREEMENT = 0.999
MAX_DIFF = 0.1

parser = argparse.ArgumentParser()
parser.add_argument("int8_model")
parser.add_argument("float_model")
parser.add_argument("--images", type=int, default=1000)
parser.add_argument("--save")
parser.add_argument("--reference")
args = parser.parse_args()

mnist = load_mnist()
images, labels = mnist.x_test[: args.images], mnist.y_test[: args.images]
quantized = DigitReader(args.int8_model).predict_frames(images)
reference = DigitReader(args.float_model).predict_frames(images)
agreement = float(np.mean(quantized.argmax(1) == reference.argmax(1)))
max_diff = float(np.abs(quantized - reference).max())
accuracy = float(np.mean(quantized.argmax(1) == labels))
print(
    f"{platform.machine()}: {len(images)} images, int8 accuracy {accuracy:.2%}, top-1 agreement with float "
    f"{agreement:.2%}, max probability difference {max_diff:.4f}"
)
if args.save:
    np.save(args.save, quantized)
failed = agreement < MIN_AGREEMENT or max_diff > MAX_DIFF
if args.reference:
    other = np.abs(quantized - np.load(args.reference)).max()
    print(f"largest difference from {args.reference}: {other:.2e}")
if failed:
    sys.exit(
        f"int8 model disagrees with its float twin: agreement {agreement:.2%} (needs {MIN_AGREEMENT:.1%}), "
        f"max difference {max_diff:.4f} (allowed {MAX_DIFF})"
    )
