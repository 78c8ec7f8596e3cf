"""Export a trained Keras model to edge formats and prove each file equal to the Keras model.

For each format: convert, run the file through the runtime's own loader on MNIST test
images, compare with Keras on the same inputs, embed the metadata (with these parity
figures) and only then move the file into place. A file that fails parity is not written.
"""

import hashlib
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import onnx

from tegaki.export.converters import to_onnx, to_onnx_int8, to_tflite
from tegaki.export.formats import DEFAULT_OPSET, FORMATS, PARITY_IMAGES, Format
from tegaki.export.modelfile import ExportError, check_model_file
from tegaki.runtime.atomic import write_bytes_atomic, write_text_atomic
from tegaki.runtime.contract import INPUT_CONTRACT, LABELS, OUTPUT_NAME, to_model_input
from tegaki.runtime.errors import reason
from tegaki.runtime.models import METADATA_KEY, load_model, sidecar_path
from tegaki.train.mnist import Mnist, load_mnist
from tegaki.train.rundir import METADATA_FILE, PARITY_FILE, library_versions

FLOAT_MAX_ABS_DIFF = 1e-5
QUANTIZED_MIN_AGREEMENT = 0.995
QUANTIZED_MAX_ACCURACY_DROP = 0.002  # 0.2 percentage points
CALIBRATION_PER_CLASS = 100  # 1,000 representative images, every digit equally


def calibration_images(mnist: Mnist, per_class: int = CALIBRATION_PER_CLASS, seed: int = 0) -> np.ndarray:
    """A class-balanced, seeded sample of training images for quantization ranges."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(mnist.y_train == digit), per_class, replace=False) for digit in range(10)]
    return to_model_input(mnist.x_train[np.sort(np.concatenate(picks))])


def parity(fmt: Format, probabilities: np.ndarray, keras_probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """The file's figures against Keras on the same images, and which checks failed."""
    top1, keras_top1 = probabilities.argmax(axis=1), keras_probabilities.argmax(axis=1)
    figures = {
        "images": len(labels),
        "accuracy": float(np.mean(top1 == labels)),
        "keras_accuracy": float(np.mean(keras_top1 == labels)),
        "top1_agreement": float(np.mean(top1 == keras_top1)),
        "max_abs_diff": float(np.abs(probabilities - keras_probabilities).max()),
    }
    if fmt.quantized:
        checks = {
            f"top-1 agreement {figures['top1_agreement']:.2%} < {QUANTIZED_MIN_AGREEMENT:.1%}": figures[
                "top1_agreement"
            ]
            >= QUANTIZED_MIN_AGREEMENT,
            f"accuracy {figures['accuracy']:.2%} is more than 0.2 points from Keras's {figures['keras_accuracy']:.2%}": abs(
                figures["accuracy"] - figures["keras_accuracy"]
            )
            <= QUANTIZED_MAX_ACCURACY_DROP + 1e-9,
        }
    else:
        checks = {
            f"max abs diff {figures['max_abs_diff']:.2e} > {FLOAT_MAX_ABS_DIFF:.0e}": figures["max_abs_diff"]
            <= FLOAT_MAX_ABS_DIFF,
            f"top-1 differs from Keras on {int(np.sum(top1 != keras_top1))} images": figures["top1_agreement"] == 1.0,
        }
    figures["failed"] = [name for name, ok in checks.items() if not ok]
    return figures


def _training_metadata(model_path: Path) -> dict:
    path = model_path.with_name(METADATA_FILE)
    if not path.is_file():
        return {}
    try:
        training = json.loads(path.read_text())
    except (OSError, ValueError) as error:  # ValueError: JSONDecodeError, or bytes that are not UTF-8
        raise ExportError(f"{path}: cannot read the training metadata ({error})") from None
    if not isinstance(training, dict):
        raise ExportError(f"{path}: the training metadata is a JSON {type(training).__name__}, expected an object")
    return training


def _training_summary(training: dict) -> dict:
    keep = (
        "architecture",
        "parameters",
        "epochs",
        "seed",
        "test",
        "data",
        "fine_tuning",
        "command",
        "created",
        "versions",
    )
    return {key: training[key] for key in keep if key in training}


def model_labels(model: keras.Model, training: dict, model_path: Path) -> tuple[str, ...]:
    """The class names: train-cnn's metadata.json beside the model, else the ten digits. A
    fine-tuned model may add classes after the digits (tegaki.train.finetune), so MNIST's
    labels 0-9 stay its class indices and the MNIST parity checks hold for it unchanged."""
    labels = tuple(training.get("labels", LABELS))
    outputs = model.outputs[0].shape[-1]
    if len(labels) != outputs or labels[: len(LABELS)] != LABELS:
        raise ExportError(
            f"{model_path}: {outputs} outputs but labels {list(labels)} in {METADATA_FILE}; "
            "expected the digits 0-9 first, one label per output"
        )
    return labels


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_keras_model(path: Path) -> keras.Model:
    path = Path(path)
    check_model_file(path)
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises ValueError, zipfile errors, OSError... for bad files
        raise ExportError(f"{path}: not a Keras model ({reason(error)})") from None


def export_model(
    model_path: Path,
    formats: list[str],
    out: Path,
    data: Path | None = None,
    parity_images: int = PARITY_IMAGES,
    opset: int = DEFAULT_OPSET,
    name: str | None = None,
) -> list[dict]:
    """Export `formats`; return one report per format (written files and parity figures)."""
    model_path = Path(model_path)
    model = load_keras_model(model_path)
    training_metadata = _training_metadata(model_path)
    classes = model_labels(model, training_metadata, model_path)
    training = _training_summary(training_metadata)
    name = name or training.get("architecture") or model_path.stem
    out = Path(out)
    made = [folder for folder in (out, *out.parents) if not folder.exists()]  # deepest first
    out.mkdir(parents=True, exist_ok=True)
    try:
        return _export_into(model, model_path, training, classes, name, formats, out, data, parity_images, opset)
    finally:
        for folder in made:  # a failure before anything was written leaves no empty folder behind
            try:
                folder.rmdir()
            except OSError:  # not empty: files were written
                break


def _export_into(
    model,
    model_path: Path,
    training: dict,
    classes: tuple[str, ...],
    name: str,
    formats: list[str],
    out: Path,
    data: Path | None,
    parity_images: int,
    opset: int,
) -> list[dict]:
    mnist = load_mnist(data)
    images, labels = to_model_input(mnist.x_test[:parity_images]), mnist.y_test[:parity_images]
    keras_probabilities = model.predict(images, batch_size=1000, verbose=0)
    calibration = calibration_images(mnist)
    print(
        f"parity set: {len(labels)} MNIST test images from {mnist.source}; "
        f"Keras accuracy {np.mean(keras_probabilities.argmax(1) == labels):.2%}"
        + (
            f" (all {len(classes)} classes compete: {', '.join(classes[len(LABELS) :])} too)"
            if len(classes) > len(LABELS)
            else ""
        )
    )

    common = {
        "labels": list(classes),
        "input": INPUT_CONTRACT,
        "output": {
            "name": OUTPUT_NAME,
            "shape": [None, len(classes)],
            "dtype": "float32",
            "meaning": "softmax probabilities",
        },
        "source_model": {"file": model_path.name, "sha256": _file_sha256(model_path)},
        "training": training,
        "export_versions": library_versions(),
    }
    float_onnx = None
    reports = []
    for fmt in (FORMATS[f] for f in formats):
        started = time.perf_counter()
        if fmt.tflite_kind:
            content = to_tflite(model, fmt.tflite_kind, calibration)
        else:
            float_onnx = float_onnx or to_onnx(model, opset)  # int8 is quantized from the float graph
            content = to_onnx_int8(float_onnx, calibration) if fmt.quantized else float_onnx
        seconds = time.perf_counter() - started
        target = out / f"{name}{fmt.suffix}"
        report = {
            "format": fmt.name,
            "description": fmt.description,
            "file": str(target),
            "export_seconds": round(seconds, 2),
        }
        report.update(_check(fmt, content, target, images, labels, keras_probabilities, classes))
        if not report["failed"]:
            metadata = {
                "format": fmt.name,
                "description": fmt.description,
                **common,
                # not "bytes": a file cannot hold its own size (parity.json has it)
                "parity": {k: v for k, v in report.items() if k not in ("file", "failed", "description", "bytes")},
                "exported": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            _write(content, target, metadata)
            report["bytes"] = target.stat().st_size
        reports.append(report)
    write_text_atomic(out / PARITY_FILE, json.dumps(reports, indent=2) + "\n")
    return reports


def _check(fmt: Format, content, target: Path, images, labels, keras_probabilities, classes) -> dict:
    """Run the exported bytes through the runtime's loader, exactly as a device would."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".parity-") as tmp:
        path = Path(tmp, target.name)
        # with its labels, which the runtime checks against the outputs (11 for a model with `minus`)
        _write(content, path, {"description": fmt.description, "labels": list(classes)})
        runner = load_model(path)
        probabilities = np.concatenate([runner.predict(images[i : i + 1000]) for i in range(0, len(images), 1000)])
        size = path.stat().st_size
    return {"bytes": size, **parity(fmt, probabilities, keras_probabilities, labels)}


def _write(content, target: Path, metadata: dict) -> None:
    text = json.dumps(metadata, indent=2) + "\n"
    if isinstance(content, onnx.ModelProto):
        proto = onnx.ModelProto()
        proto.CopyFrom(content)  # the float graph is reused for int8: leave it untouched
        onnx.helper.set_model_props(proto, {METADATA_KEY: text})
        proto.doc_string = f"tegaki digit classifier ({metadata['description']}); metadata in '{METADATA_KEY}'"
        write_bytes_atomic(target, proto.SerializeToString())
    else:
        # the sidecar first: a model file never appears without its metadata
        write_text_atomic(sidecar_path(target), text)
        write_bytes_atomic(target, content)
