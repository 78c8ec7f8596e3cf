"""Write assets/samples/: a few photo-like digit files for the README, CI and benchmarks.

    TEGAKI_MNIST=../shared/data/mnist python scripts/make_samples.py

Each file is named `<true digit>-<kind>.<ext>` and made by tegaki.train.realistic from an
MNIST test digit (the first eight test digits, one kind each).
"""

from pathlib import Path

from tegaki.train.mnist import load_mnist
from tegaki.train.realistic import realistic_images

SAMPLES = Path(__file__).resolve().parent.parent / "assets" / "samples"

mnist = load_mnist()
SAMPLES.mkdir(parents=True, exist_ok=True)
for item in realistic_images(mnist.x_test, mnist.y_test, count=8):
    kind, suffix = item.name.rsplit("-", 1)[0], item.name.rsplit(".", 1)[1]
    path = SAMPLES / f"{item.label}-{kind}.{suffix}"
    path.write_bytes(item.data)
    print(f"wrote {path} ({len(item.data):,} bytes)")
