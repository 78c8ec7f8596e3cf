"""A one-digit image's latency against an earlier tegaki: the same PNGs and the same model
file, read by this checkout's runtime and by another checkout's, in turns.

    git worktree add /tmp/tegaki-before 5153190^     # the runtime before the number reader (issue 10)
    .venv/bin/python benchmarks/latency_against.py /tmp/tegaki-before [--rounds 200]

Each runtime lives in its own worker process (both are `tegaki`); the workers take turns,
100 calls per turn, so a busy or throttled machine slows them alike. Prints each way's
minimum and 20th percentile per call and its ratio to the earlier `read`: issue 10 asks
that a one-digit image get no more than 20 % slower than before the number reader.
Reads MNIST test digits from $TEGAKI_MNIST (as PNGs of 28x28, the smallest input).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CALLS = 100  # per turn: 20 rounds over 5 PNGs


def worker(way: str, model: str) -> None:
    """Answer each line on stdin with the milliseconds per call of CALLS calls of `way` on
    the PNGs in the current folder."""
    from tegaki.runtime import DigitReader

    pngs = [path.read_bytes() for path in sorted(Path.cwd().glob("*.png"))]
    call = getattr(DigitReader(model, threads=1), way)
    for png in pngs:
        call(png)
    print("ready", flush=True)
    for _ in sys.stdin:
        started = time.perf_counter()
        for _ in range(CALLS // len(pngs)):
            for png in pngs:
                call(png)
        print((time.perf_counter() - started) * 1000 / CALLS, flush=True)


def earlier_package(checkout: Path, into: Path) -> Path:
    """A folder whose `tegaki.runtime` is the earlier checkout's runtime/ (the repository
    layout maps runtime/ to tegaki.runtime, as pip's install does)."""
    package = into / "tegaki"
    package.mkdir()
    (package / "__init__.py").touch()
    (package / "runtime").symlink_to(checkout.resolve() / "runtime")
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("earlier", type=Path, help="a checkout of the earlier tegaki (git worktree add ...)")
    parser.add_argument("--rounds", type=int, default=200, help="turns per way (100 calls each)")
    parser.add_argument("--model", default=None, help="model file for both (default: this checkout's shipped one)")
    args = parser.parse_args()
    if not (args.earlier / "runtime" / "reader.py").is_file():
        sys.exit(f"error: {args.earlier} is not a tegaki checkout (no runtime/reader.py)")
    from PIL import Image

    from tegaki.runtime.reader import default_model_path
    from tegaki.train.mnist import load_mnist

    model = args.model or str(default_model_path())
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as images:
        for index, digit in enumerate(load_mnist().x_test[:5]):
            Image.fromarray(digit).save(Path(images) / f"{index}.png")
        earlier = {**os.environ, "PYTHONPATH": str(earlier_package(args.earlier, Path(folder)))}
        ways = {
            "before: read": (earlier, "read"),
            "now: read": (os.environ, "read"),
            "now: read_number": (os.environ, "read_number"),
        }
        workers = {
            name: subprocess.Popen(
                [sys.executable, __file__, "--worker", way, model],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
                cwd=images,  # not this checkout: its folders are not the installed package
            )
            for name, (env, way) in ways.items()
        }
        try:
            for worker_process in workers.values():
                if worker_process.stdout.readline().strip() != "ready":
                    sys.exit("error: a worker did not start")
            times = {name: [] for name in workers}
            for _ in range(args.rounds):
                for name, worker_process in workers.items():
                    worker_process.stdin.write("go\n")
                    worker_process.stdin.flush()
                    times[name].append(float(worker_process.stdout.readline()))
        finally:
            for worker_process in workers.values():
                worker_process.kill()
    base_min, base_p20 = min(times["before: read"]), np.percentile(times["before: read"], 20)
    print(f"{args.rounds} turns of {CALLS} calls, one thread, {Path(model).name}")
    for name, values in times.items():
        low, p20 = min(values), np.percentile(values, 20)
        print(f"{name:18} min {low:.3f} ms ({low / base_min:.2f}x)   p20 {p20:.3f} ms ({p20 / base_p20:.2f}x)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], sys.argv[3])
    else:
        main()
