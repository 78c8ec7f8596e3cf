"""Accuracy by kind of realistic image, through the whole runtime, for one or more models:
the before/after table of docs/models.md and the confusion pairs left in each kind.

    TEGAKI_MNIST=../shared/data/mnist python benchmarks/kinds.py assets/edge-int8.onnx runs/edge/edge-int8.onnx \\
        [--count 600] [--split test|validation] [--json FILE]

Images are made by tegaki.train.realistic from MNIST test digits (--split test, the
report) or from the training digits train-cnn holds out for validation (--split
validation, for choosing a recipe without the test set; benchmarks/model_search.py uses
it). "tensor" is the same model on the same digits as raw MNIST tensors, so preprocessing
loss and model error are told apart.
"""

import argparse
import json
from collections import Counter, defaultdict
from collections.abc import Callable

import numpy as np

from tegaki.runtime import preprocess
from tegaki.train.mnist import VAL_SPLIT, load_mnist, split_validation
from tegaki.train.realistic import HAND_VARIANTS, VARIANTS, realistic_images

VALIDATION_SEED = 0  # train-cnn's default seed: the same held-out digits


def held_out_digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    mnist = load_mnist()
    if split == "test":
        return mnist.x_test, mnist.y_test
    _, picks = split_validation(len(mnist.x_train), VAL_SPLIT, VALIDATION_SEED)
    return mnist.x_train[picks], mnist.y_train[picks]


def by_kind(
    probabilities: Callable[[np.ndarray], np.ndarray], images: np.ndarray, labels: np.ndarray, count: int
) -> dict:
    """Accuracy, tensor accuracy and top confusions per kind; `probabilities` maps uint8
    (N, 28, 28) frames to (N, 10), so a Keras model and a runtime model are measured alike."""
    tensor_right = probabilities(images[:count]).argmax(1) == labels[:count]
    report = {}
    for variants in (VARIANTS, HAND_VARIANTS):
        items = realistic_images(images, labels, count, variants=variants)
        digits = probabilities(np.stack([preprocess(item.data) for item in items])).argmax(1)
        per_kind, confusions, tensor = defaultdict(list), defaultdict(Counter), defaultdict(list)
        for index, (item, digit) in enumerate(zip(items, digits)):
            kind = item.name.rsplit("-", 1)[0]
            per_kind[kind].append(digit == item.label)
            tensor[kind].append(tensor_right[index])
            if digit != item.label:
                confusions[kind][f"{item.label}->{digit}"] += 1
        for kind, oks in per_kind.items():
            report[kind] = {
                "images": len(oks),
                "accuracy": float(np.mean(oks)),
                "tensor_accuracy": float(np.mean(tensor[kind])),
                "confusions": dict(confusions[kind].most_common(5)),
            }
    return report


if __name__ == "__main__":
    from tegaki.runtime import DigitReader

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--count", type=int, default=600, help="images per set (cycling through its kinds)")
    parser.add_argument("--split", choices=["test", "validation"], default="test")
    parser.add_argument("--json")
    args = parser.parse_args()

    images, labels = held_out_digits(args.split)
    results = {model: by_kind(DigitReader(model).predict_frames, images, labels, args.count) for model in args.models}
    kinds = list(next(iter(results.values())))
    print(
        f"{args.split} digits, {args.count} images per set; accuracy through the runtime (tensor accuracy of the same digits)"
    )
    print(f"{'kind':<14}" + "".join(f"{model[-34:]:>36}" for model in args.models))
    for kind in kinds:
        print(
            f"{kind:<14}"
            + "".join(
                f"{results[m][kind]['accuracy']:>27.1%} ({results[m][kind]['tensor_accuracy']:.1%})"
                for m in args.models
            )
        )
    for model in args.models:
        print(model, {kind: r["confusions"] for kind, r in results[model].items() if r["confusions"]})
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"split": args.split, "count": args.count, "results": results}, file, indent=2)
