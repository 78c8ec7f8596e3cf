"""The number reader's figures, one run, one machine: prints tables and writes docs/numbers.json
(docs/numbers.md discusses them).

    TEGAKI_MNIST=../shared/data/mnist .venv/bin/python benchmarks/number_reader.py [--count 1000]

1. composed numbers (train/realistic_numbers.py, 2-8 MNIST test digits, half with an
   underline, a box, ruled lines or a speck): whole-number exact match, by length and by
   clutter; per-digit accuracy (1 - edit distance / length).
1b. numbers in a fat marker (train/realistic_numbers.py, 2-5 digits, every other one
   touching): exact match, apart and touching, and per digit.
2. hard single-digit pages (small digit on a vignetted page, sheet on a desk, lined paper,
   hard shadow, speck) and train/realistic.py's kinds (with its pens: thick marker, hairline,
   an 8-12 px scan upsampled): the number reader, the one-digit
   reading (`--single`) and the model on the same digits as MNIST tensors; a digit
   photographed from afar (1-4 % of a 2000x1500 photo's long side).
3. latency, one thread: a 28x28 PNG the one-digit way (today's reading) and the number way;
   clean numbers of 1 to 8 digits (the extra cost of each digit).
"""

import argparse
import dataclasses
import io
import json
import os
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from tegaki.runtime import DigitReader, Reading, preprocess
from tegaki.train.mnist import load_mnist
from tegaki.train.realistic import HAND_VARIANTS, VARIANTS, realistic_images
from tegaki.train.realistic_numbers import PAGE_KINDS, hard_pages, marker_numbers, numbers, photo

from timing import cpu_name, p50_p99, time_ms

DOCS = Path(__file__).resolve().parent.parent / "docs"

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--count", type=int, default=1000, help="composed numbers, and single-digit images per set")
parser.add_argument("--repeats", type=int, default=300)
parser.add_argument("--latency-only", action="store_true", help="print section 3 only; write nothing")
parser.add_argument(
    "--split",
    choices=("test", "train"),
    default="test",
    help="MNIST digits the images are made of: tune on train, report on test (writes nothing)",
)
args = parser.parse_args()

mnist = load_mnist()
if args.split == "train":  # for tuning thresholds without looking at the digits reported on
    mnist = dataclasses.replace(mnist, x_test=mnist.x_train, y_test=mnist.y_train)
reader = DigitReader(threads=1)
results = {
    "date": datetime.now(UTC).isoformat(timespec="seconds"),
    "cpu": cpu_name(),
    "cores": os.cpu_count(),
    "model": reader.model_path.name,
    "command": " ".join(["python", "benchmarks/number_reader.py", *sys.argv[1:]]),
}


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def share(values) -> float:
    return round(float(np.mean(values)), 4) if len(values) else float("nan")


def measure_latency() -> dict:
    """Section 3. Today's reading, `read` and `read_number` are called in turn on the same PNG,
    so that a busy machine slows all three alike; the minimum is the least disturbed figure."""
    buffer = io.BytesIO()
    Image.fromarray(mnist.x_test[0]).save(buffer, format="PNG")
    small = buffer.getvalue()
    ways = {
        "28x28 PNG, today (preprocess + predict_frames)": lambda: reader.predict_frames(preprocess(small)[None]),
        "28x28 PNG, one digit (read)": lambda: reader.read(small),
        "28x28 PNG, number (read_number)": lambda: reader.read_number(small),
    }
    times = {name: [] for name in ways}
    for _ in range(args.repeats * 5):
        for name, way in ways.items():
            times[name].append(time_ms(way, 1, warmup=0)[0])
    latency = {name: p50_p99(np.array(t)) | {"min_ms": round(min(t), 4)} for name, t in times.items()}
    clean = {
        n: numbers(mnist.x_test, mnist.y_test, count=20, seed=n, lengths=(n, n), clutter_share=0.0)
        for n in (1, 2, 4, 8)
    }
    for n, items in clean.items():
        t = np.concatenate(
            [time_ms(lambda: reader.read_number(item.data), max(3, args.repeats // 50), warmup=1) for item in items]
        )
        latency[f"clean number, {n} digits (read_number)"] = p50_p99(t)
    slope = np.polyfit(
        [1, 2, 4, 8], [latency[f"clean number, {n} digits (read_number)"]["p50_ms"] for n in (1, 2, 4, 8)], 1
    )[0]
    latency["extra per digit (slope, ms)"] = round(float(slope), 3)
    for key, value in latency.items():
        print(
            f"{key:50} "
            + (
                f"{value:8.3f} ms"
                if isinstance(value, float)
                else f"p50 {value['p50_ms']:8.3f} ms" + (f"  min {value['min_ms']:.3f} ms" if "min_ms" in value else "")
            )
        )
    return latency


if args.latency_only:
    measure_latency()
    sys.exit(0)


# 1. composed numbers
composed = numbers(mnist.x_test, mnist.y_test, count=args.count, seed=0)
read = [r.number if isinstance(r, Reading) else "" for r in reader.read_all([item.data for item in composed])]
exact = [got == item.label for got, item in zip(read, composed)]
by_length, by_clutter = defaultdict(list), defaultdict(list)
for ok, item in zip(exact, composed):
    by_length[len(item.label)].append(ok)
    by_clutter[item.clutter or "none"].append(ok)
digit_errors = sum(edit_distance(got, item.label) for got, item in zip(read, composed))
digits_total = sum(len(item.label) for item in composed)
results["numbers"] = {
    "count": len(composed),
    "exact": share(exact),
    "exact_with_clutter": share([ok for ok, item in zip(exact, composed) if item.clutter]),
    "per_digit": round(1 - digit_errors / digits_total, 4),
    "unreadable_digits": round(sum(got.count("?") for got in read) / digits_total, 4),
    "right_length": share([len(got) == len(item.label) for got, item in zip(read, composed)]),
    "by_length": {n: {"count": len(v), "exact": share(v)} for n, v in sorted(by_length.items())},
    "by_clutter": {k: {"count": len(v), "exact": share(v)} for k, v in sorted(by_clutter.items())},
}
print(
    f"composed numbers: {results['numbers']['exact']:.1%} exact, {results['numbers']['exact_with_clutter']:.1%} "
    f"with clutter, {results['numbers']['per_digit']:.2%} per digit, "
    f"{results['numbers']['unreadable_digits']:.2%} digits '?'",
    flush=True,
)
for n, v in results["numbers"]["by_length"].items():
    print(f"  {n} digits: {v['exact']:.1%} of {v['count']}")
for k, v in results["numbers"]["by_clutter"].items():
    print(f"  {k:10}: {v['exact']:.1%} of {v['count']}")

# 1b. numbers in a fat marker
marker = marker_numbers(mnist.x_test, mnist.y_test, count=max(100, args.count * 3 // 10), seed=0)
read = [r.number if isinstance(r, Reading) else "" for r in reader.read_all([item.data for item in marker])]
by_kind = defaultdict(list)
for got, item in zip(read, marker):
    by_kind[item.name.rsplit("-", 1)[0]].append(got == item.label)
results["marker_numbers"] = {
    "count": len(marker),
    "exact": share([got == item.label for got, item in zip(read, marker)]),
    "per_digit": round(
        1 - sum(edit_distance(got, item.label) for got, item in zip(read, marker)) / sum(len(i.label) for i in marker),
        4,
    ),
    "unreadable_digits": round(sum(got.count("?") for got in read) / sum(len(i.label) for i in marker), 4),
    "by_kind": {kind: {"count": len(v), "exact": share(v)} for kind, v in sorted(by_kind.items())},
}
print(
    f"marker numbers: {results['marker_numbers']['exact']:.1%} exact, {results['marker_numbers']['per_digit']:.2%} "
    f"per digit, {results['marker_numbers']['unreadable_digits']:.2%} digits '?'",
    flush=True,
)
for kind, v in results["marker_numbers"]["by_kind"].items():
    print(f"  {kind:16}: {v['exact']:.1%} of {v['count']}")

# 2. single digits, hard and ordinary kinds, against the model on the same tensors
tensor_ok = reader.predict_frames(mnist.x_test[: args.count]).argmax(1) == mnist.y_test[: args.count]
singles = {}
for name, made, _kinds in (
    ("hard pages", hard_pages(mnist.x_test, mnist.y_test, count=args.count), len(PAGE_KINDS)),
    ("realistic.py", realistic_images(mnist.x_test, mnist.y_test, count=args.count), len(VARIANTS)),
    (
        "pens",
        realistic_images(mnist.x_test, mnist.y_test, count=args.count * 3 // 8, variants=HAND_VARIANTS),
        len(HAND_VARIANTS),
    ),
):
    as_number = reader.read_all([item.data for item in made])
    as_single = reader.read_all([item.data for item in made], single=True)
    per_kind = defaultdict(lambda: defaultdict(list))
    for index, (item, number, single) in enumerate(zip(made, as_number, as_single)):
        kind = per_kind[item.name.rsplit("-", 1)[0]]
        label = str(item.label)
        kind["number"].append(isinstance(number, Reading) and number.number == label)
        kind["single"].append(isinstance(single, Reading) and single.number == label)
        kind["tensor"].append(bool(tensor_ok[index]))
    singles[name] = {
        kind: {way: share(oks) for way, oks in ways.items()} | {"count": len(ways["number"])}
        for kind, ways in per_kind.items()
    }
    for kind, row in singles[name].items():
        print(
            f"{name:12} {kind:14} number reader {row['number']:6.1%}  one-digit {row['single']:6.1%}  "
            f"tensors {row['tensor']:6.1%}  ({row['count']})",
            flush=True,
        )
results["single_digits"] = singles

# 2b. a digit photographed from afar: a few percent of a 2000x1500 photo's long side
rng = np.random.default_rng(0)
afar = {}
for share_of_side in (0.01, 0.0125, 0.015, 0.02, 0.025, 0.03, 0.04):
    count = max(20, args.count // 10)
    made = [photo(image, rng, share=share_of_side) for image in mnist.x_test[:count]]
    afar[str(share_of_side)] = {
        "number": share(
            [isinstance(r, Reading) and r.number == str(label) for r, label in zip(reader.read_all(made), mnist.y_test)]
        ),
        "count": count,
    }
    print(
        f"photo, digit {share_of_side:.2%} of the long side: number reader {afar[str(share_of_side)]['number']:6.1%}  ({count})",
        flush=True,
    )
results["digit_from_afar"] = afar

if args.split == "train":
    sys.exit(0)
results["latency"] = measure_latency()
(DOCS / "numbers.json").write_text(json.dumps(results, indent=2) + "\n")
print(f"wrote {DOCS / 'numbers.json'}")
