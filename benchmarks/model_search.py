"""Variants of the edge recipe's augmentation, each trained from scratch on this machine:
the evidence behind the edge recipe's augmentation settings (docs/model-search.md).

    TEGAKI_MNIST=../shared/data/mnist python benchmarks/model_search.py --epochs 8 --out runs/search

Prints one line per variant and merges its figures into benchmarks/model_search.json.
Variants are chosen on validation accuracy; MNIST test accuracy (Keras float) is read once
at the end of each run, as train-cnn does, and reported, not selected on.
"""

import argparse
import dataclasses
import json
import os
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from tegaki.runtime.contract import to_model_input  # noqa: E402
from tegaki.train.architectures import ARCHITECTURES  # noqa: E402
from tegaki.train.augment import build_augmenter  # noqa: E402
from tegaki.train.training import TrainConfig, train  # noqa: E402

from kinds import by_kind, held_out_digits  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--out", type=Path, default=Path("runs/search"))
parser.add_argument("--only", type=int, nargs="*", help="indices of the variants to run [default: all]")
parser.add_argument("--kinds", type=int, default=600, help="realistic images per set made from validation digits")
args = parser.parse_args()
validation_images, validation_labels = held_out_digits("validation")

edge = ARCHITECTURES["edge"]
VARIANTS = {  # the edge recipe with other augmentation settings (widths: see docs/model-search.md)
    "bilinear; affine + elastic 1 px + stroke ±0.5": dataclasses.replace(
        edge, augment=partial(build_augmenter, elastic=1.0, stroke=0.5, order=1)
    ),
    "bilinear; affine + elastic 0.5 px + stroke ±0.25": dataclasses.replace(
        edge, augment=partial(build_augmenter, elastic=0.5, stroke=0.25, order=1)
    ),
    "nearest; affine + elastic 0.5 px + stroke ±0.25 (issue 5)": dataclasses.replace(
        edge, augment=partial(build_augmenter, elastic=0.5, stroke=0.25, order=0)
    ),
    "issue 5 + pens (thin 0.75, thick 1.5) + low resolution 25% + pressure gamma 2": dataclasses.replace(
        edge, augment=partial(build_augmenter, thin=0.75, thick=1.5, low_resolution=0.25, gamma=2.0)
    ),
    "issue 5 + pens (thin 0.75, thick 1.5)": dataclasses.replace(
        edge, augment=partial(build_augmenter, thin=0.75, thick=1.5)
    ),
    "issue 5 + pens (thin 0.75, thick 1.5) + low resolution 25%": dataclasses.replace(
        edge, augment=partial(build_augmenter, thin=0.75, thick=1.5, low_resolution=0.25)
    ),
}
results = []
for index, (name, recipe) in enumerate(VARIANTS.items()):
    if args.only is not None and index not in args.only:
        continue
    result = train(TrainConfig(arch="edge", out=args.out / f"search-{index}", epochs=args.epochs, verbose=2), recipe)
    metadata = result.metadata
    model = keras.models.load_model(result.model_path)
    kinds = by_kind(
        lambda frames: model.predict(to_model_input(frames), batch_size=1000, verbose=0),
        validation_images,
        validation_labels,
        args.kinds,
    )
    results.append(
        {
            "variant": name,
            "parameters": metadata["parameters"],
            "macs": metadata["multiply_accumulates"],
            "epochs": args.epochs,
            "validation_accuracy": metadata["validation"]["accuracy"],
            "validation_kinds": {kind: r["accuracy"] for kind, r in kinds.items()},
            "test_accuracy": metadata["test"]["accuracy"],
            "train_seconds": metadata["train_seconds"],
        }
    )
    print(f"KINDS {name}: " + ", ".join(f"{kind} {r['accuracy']:.1%}" for kind, r in kinds.items()), flush=True)
    print(
        f"RESULT {name}: {metadata['parameters']:,} params, {metadata['multiply_accumulates'] / 1e6:.2f} M MACs, "
        f"{metadata['test']['accuracy']:.2%}, {metadata['train_seconds']:.0f} s",
        flush=True,
    )
# merge with earlier runs of other variants (each line records its own date and command)
record_file = Path(__file__).with_name("model_search.json")
earlier = json.loads(record_file.read_text())["results"] if record_file.exists() else []
stamp = {
    "date": datetime.now(UTC).isoformat(timespec="seconds"),
    "command": "python benchmarks/model_search.py " + " ".join(sys.argv[1:]),
}
merged = {(r["variant"], r["epochs"]): r for r in earlier}
merged.update({(r["variant"], r["epochs"]): {**r, **stamp} for r in results})
record_file.write_text(json.dumps({"results": list(merged.values())}, indent=2) + "\n")
