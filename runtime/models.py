"""Model files the runtime runs: ONNX through onnxruntime, TFLite through ai-edge-litert.

Each loader reads the model's own metadata (embedded in ONNX, a `<file>.json` sidecar for
TFLite), checks that its input is the contract's (N, 28, 28, 1) float32 image, and offers
`predict(batch) -> probabilities`, numpy in and out, as onnxruntime's own API does.
"""

import json
import threading
from pathlib import Path

import numpy as np

from tegaki.runtime.contract import IMAGE_SIZE, LABELS, PREPROCESSING_VERSION
from tegaki.runtime.errors import ModelError, reason

METADATA_KEY = "tegaki"  # ONNX metadata_props key holding the JSON metadata
EXPECTED_INPUT = (IMAGE_SIZE, IMAGE_SIZE, 1)
# More threads than cores only add start-up time and memory (1,000 took 100 s for one image);
# 64 is more cores than any board this runs on has, and a 28x28 model gains nothing past a few.
MAX_THREADS = 64


def sidecar_path(model_path: Path) -> Path:
    """Where a TFLite file's metadata lives: `model.tflite` -> `model.tflite.json`."""
    return model_path.with_name(model_path.name + ".json")


def _parse_metadata(path: Path, text: str | bytes) -> dict:
    """A model's JSON metadata as a dict; anything else is a ModelError."""
    try:
        metadata = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError is a ValueError
        raise ModelError(f"{path}: its metadata is not valid JSON ({error})") from None
    if not isinstance(metadata, dict):
        raise ModelError(f"{path}: its metadata is a JSON {type(metadata).__name__}, expected an object")
    return metadata


def _check_metadata(path: Path, metadata: dict, classes: int) -> tuple[str, ...]:
    """Labels for the model's outputs; refuses a model that wants preprocessing we don't do
    and labels that are not a list of distinct class names (digits, or a fine-tuned model's extra
    classes such as "minus")."""
    contract = metadata.get("input", {})
    wanted = contract.get("preprocessing_version", PREPROCESSING_VERSION) if isinstance(contract, dict) else None
    if type(wanted) is not int:
        raise ModelError(f"{path}: preprocessing_version {wanted!r} in its metadata is not an integer")
    if wanted > PREPROCESSING_VERSION:
        raise ModelError(
            f"{path}: needs preprocessing version {wanted}; this runtime has {PREPROCESSING_VERSION} (upgrade tegaki)"
        )
    labels = metadata.get("labels", LABELS)
    if (
        not isinstance(labels, list | tuple)
        or len(set(map(str, labels))) != len(labels)
        or not all(isinstance(label, str) and label.strip() or type(label) is int for label in labels)
    ):
        raise ModelError(f"{path}: labels {str(labels)[:80]} in its metadata are not a list of distinct class names")
    if len(labels) != classes:
        raise ModelError(f"{path}: {classes} outputs but {len(labels)} labels in its metadata")
    return tuple(str(label) for label in labels)


def _check_input(path: Path, shape: list, classes_shape: list) -> int:
    """Number of classes; refuses inputs other than (batch, 28, 28, 1)."""
    if len(shape) != 4 or tuple(shape[1:]) != EXPECTED_INPUT:
        raise ModelError(f"{path}: input shape {shape}, expected [batch, {IMAGE_SIZE}, {IMAGE_SIZE}, 1]")
    if len(classes_shape) != 2 or not isinstance(classes_shape[1], int | np.integer):
        raise ModelError(f"{path}: output shape {classes_shape}, expected [batch, classes]")
    return int(classes_shape[1])


class OnnxModel:
    """An ONNX file in an onnxruntime session; `predict` is safe from several threads."""

    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime

        self.path = Path(path)
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own untyped errors for bad files
            raise ModelError(f"{self.path}: not a loadable ONNX model ({reason(error, 200, line=-1)})") from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelError(f"{self.path}: has {len(inputs)} inputs and {len(outputs)} outputs, expected 1 and 1")
        if inputs[0].type != "tensor(float)":
            raise ModelError(f"{self.path}: input type {inputs[0].type}, expected tensor(float)")
        classes = _check_input(self.path, inputs[0].shape, outputs[0].shape)
        self.input_name = inputs[0].name
        raw = self.session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        self.metadata = _parse_metadata(self.path, raw) if raw else {}
        self.labels = _check_metadata(self.path, self.metadata, classes)
        # A model exported with a fixed batch size (an int, not a name) is run that many images at a time.
        batch = inputs[0].shape[0]
        self.fixed_batch = batch if isinstance(batch, int) and batch > 0 else None

    def predict(self, batch: np.ndarray) -> np.ndarray:
        if self.fixed_batch is None:
            return self._run(batch)
        size = self.fixed_batch
        chunks = []
        for start in range(0, len(batch), size):
            chunk = batch[start : start + size]
            padding = np.zeros((size - len(chunk), *chunk.shape[1:]), chunk.dtype)  # the last chunk, filled up
            chunks.append(self._run(np.concatenate([chunk, padding]))[: len(chunk)])
        return np.concatenate(chunks) if chunks else self._run(batch)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        try:
            return self.session.run(None, {self.input_name: batch})[0]
        except Exception as error:  # onnxruntime's own untyped errors: the model cannot run
            raise ModelError(f"{self.path}: inference failed ({reason(error, 200, line=-1)})") from None


class TfliteModel:
    """A TFLite file (float or full-integer) in an ai-edge-litert interpreter.

    The interpreter holds its tensors in place, so calls are serialised with a lock.
    """

    def __init__(self, path: Path, threads: int | None = None):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise ModelError(
                f"{path}: running .tflite files needs ai-edge-litert; install tegaki with that extra: pip install 'tegaki[tflite]' (in a clone of tegaki: pip install '.[tflite]')"
            ) from None
        self.path = Path(path)
        try:
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
            self.interpreter.allocate_tensors()
        except Exception as error:  # the interpreter raises ValueError/RuntimeError for bad files
            raise ModelError(f"{self.path}: not a loadable TFLite model ({reason(error, 200)})") from None
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        classes = _check_input(self.path, list(self._input["shape_signature"]), list(self._output["shape"]))
        sidecar = sidecar_path(self.path)
        try:
            self.metadata = _parse_metadata(self.path, sidecar.read_bytes()) if sidecar.is_file() else {}
        except OSError as error:
            raise ModelError(f"{sidecar}: cannot read ({error.strerror or error})") from None
        self.labels = _check_metadata(self.path, self.metadata, classes)
        self._batch = int(self._input["shape"][0])
        self._lock = threading.Lock()

    def predict(self, batch: np.ndarray) -> np.ndarray:
        input_scale, input_zero = self._input["quantization"]
        if self._input["dtype"] != np.float32:  # full-integer model: quantize the [0, 1] input
            info = np.iinfo(self._input["dtype"])
            batch = np.clip(np.round(batch / input_scale + input_zero), info.min, info.max)
        batch = batch.astype(self._input["dtype"])
        with self._lock:
            if len(batch) != self._batch:
                self.interpreter.resize_tensor_input(self._input["index"], [len(batch), *EXPECTED_INPUT])
                self.interpreter.allocate_tensors()
                self._batch = len(batch)
            self.interpreter.set_tensor(self._input["index"], batch)
            self.interpreter.invoke()
            result = self.interpreter.get_tensor(self._output["index"])
        output_scale, output_zero = self._output["quantization"]
        if self._output["dtype"] != np.float32:
            result = (result.astype(np.float32) - output_zero) * output_scale
        return result.astype(np.float32, copy=False)


def load_model(path: Path, threads: int | None = None) -> OnnxModel | TfliteModel:
    """Open an .onnx or .tflite file, chosen by its suffix."""
    path = Path(path)
    if threads is not None and not (type(threads) is int and 1 <= threads <= MAX_THREADS):
        raise ValueError(f"threads must be an int from 1 to {MAX_THREADS}, got {threads!r}")
    loader = {".onnx": OnnxModel, ".tflite": TfliteModel}.get(path.suffix)
    if loader is None:
        raise ModelError(f"{path}: unknown model type; expected a .onnx or .tflite file")
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    return loader(path, threads)
