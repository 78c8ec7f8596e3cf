"""Variants of the edge recipe, each trained from scratch on this machine: the evidence
behind the edge architecture's widths and augmentation (docs/model-search.md).

    TEGAKI_MNIST=../shared/data/mnist python benchmarks/model_search.py --epochs 10 --out runs/search

Prints one line per variant and writes benchmarks/model_search.json. MNIST test accuracy
is Keras float; the test set is only read at the end of each run, as train-cnn does.
"""

import argparse
import dataclasses
import json
import os
from functools import partial
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tegaki.train.architectures import ARCHITECTURES, build_edge  # noqa: E402
from tegaki.train.augment import build_augmenter  # noqa: E402
from tegaki.train.training import TrainConfig, train  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--out", type=Path, default=Path("runs/search"))
parser.add_argument("--only", type=int, nargs="*", help="indices of the variants to run [default: all]")
args = parser.parse_args()

edge = ARCHITECTURES["edge"]
VARIANTS = {
    "affine + elastic 1 px + stroke ±0.5": dataclasses.replace(edge, augment=partial(build_augmenter, elastic=1.0, stroke=0.5)),
    "affine + elastic 0.5 px + stroke ±0.25": dataclasses.replace(edge, augment=partial(build_augmenter, elastic=0.5, stroke=0.25)),
    "affine only": dataclasses.replace(edge, augment=partial(build_augmenter, elastic=0.0, stroke=0.0)),
    "no augmentation": dataclasses.replace(edge, augment=None),
    "widths 12-24-48, affine only": dataclasses.replace(edge, build=lambda: build_edge((12, 24, 48)),
                                                        augment=partial(build_augmenter, elastic=0.0, stroke=0.0)),
}
results = []
for index, (name, recipe) in enumerate(VARIANTS.items()):
    if args.only is not None and index not in args.only:
        continue
    key = f"search-{index}"
    ARCHITECTURES[key] = recipe  # register the variant for this process only
    result = train(TrainConfig(arch=key, out=args.out / key, epochs=args.epochs, verbose=2))
    metadata = result.metadata
    results.append({"variant": name, "parameters": metadata["parameters"], "macs": metadata["multiply_accumulates"],
                    "epochs": args.epochs, "validation_accuracy": metadata["validation"]["accuracy"], "test_accuracy": metadata["test"]["accuracy"],
                    "train_seconds": metadata["train_seconds"]})
    print(f"RESULT {name}: {metadata['parameters']:,} params, {metadata['multiply_accumulates'] / 1e6:.2f} M MACs, "
          f"{metadata['test']['accuracy']:.2%}, {metadata['train_seconds']:.0f} s", flush=True)
record = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
          "command": f"python benchmarks/model_search.py --epochs {args.epochs}", "results": results}
Path(__file__).with_name("model_search.json").write_text(json.dumps(record, indent=2) + "\n")
