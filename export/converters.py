"""Keras model -> ONNX / TFLite bytes, one function per target format.

Each function returns the serialized file; writing, metadata and parity checks are the
caller's (tegaki.export.exporting).
"""

import contextlib
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import onnx
import tensorflow as tf
import tf2onnx
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from tegaki.export.formats import DEFAULT_OPSET
from tegaki.runtime.contract import IMAGE_SIZE, INPUT_NAME, OUTPUT_NAME

INPUT_SPEC = [tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 1], tf.float32, name=INPUT_NAME)]


def to_onnx(model: keras.Model, opset: int = DEFAULT_OPSET) -> onnx.ModelProto:
    """Float32 ONNX with a dynamic batch. tf2onnx's from_keras fails on Keras 3 models, so
    convert a tf.function with an explicit signature; tf2onnx's optimizers fold constants
    and fuse transposes on the way."""
    serve = tf.function(lambda image: {OUTPUT_NAME: model(image, training=False)}, input_signature=INPUT_SPEC)
    proto, _ = tf2onnx.convert.from_function(serve, input_signature=INPUT_SPEC, opset=opset)
    onnx.checker.check_model(proto, full_check=True)
    return proto


class _Calibration(CalibrationDataReader):
    def __init__(self, images: np.ndarray, batch: int = 100):
        self._batches = iter([{INPUT_NAME: images[i : i + batch]} for i in range(0, len(images), batch)])

    def get_next(self):
        return next(self._batches, None)


@dataclass(frozen=True)
class Int8Scheme:
    """How onnxruntime's static quantizer stores activations and weights."""

    activations: QuantType
    weights: QuantType
    reduce_range: bool = False  # 7-bit weights


INT8_SCHEMES = {
    "s8s8": Int8Scheme(QuantType.QInt8, QuantType.QInt8),
    "s8s8-reduce-range": Int8Scheme(QuantType.QInt8, QuantType.QInt8, reduce_range=True),
    "u8s8": Int8Scheme(QuantType.QUInt8, QuantType.QInt8),
    "u8u8": Int8Scheme(QuantType.QUInt8, QuantType.QUInt8),
}
# u8u8: x86 CPUs without VNNI (AVX2; AVX-512 without VNNI) multiply u8 x s8 pairs with
# VPMADDUBSW, whose 16-bit sums saturate, so an s8-weight model answers differently there
# than on VNNI or ARM (measured: max probability difference 0.58, 99.84% top-1 agreement).
# onnxruntime's u8 x u8 kernels widen to 16 bits before multiplying and never saturate, so
# every CPU computes the same integers; measured in docs/int8-across-cpus.md.
DEFAULT_INT8_SCHEME = "u8u8"


def to_onnx_int8(
    float_model: onnx.ModelProto, calibration: np.ndarray, scheme: str = DEFAULT_INT8_SCHEME
) -> onnx.ModelProto:
    """Static QDQ quantization: 8-bit weights (per channel) and activations, calibrated on
    `calibration` images. QDQ keeps the graph standard ONNX that any runtime can read."""
    chosen = INT8_SCHEMES[scheme]
    with tempfile.TemporaryDirectory() as tmp:
        float_path, prepared, quantized = Path(tmp, "float.onnx"), Path(tmp, "prep.onnx"), Path(tmp, "int8.onnx")
        onnx.save(float_model, float_path)
        quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(quantized),
            _Calibration(calibration),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            reduce_range=chosen.reduce_range,
            activation_type=chosen.activations,
            weight_type=chosen.weights,
        )
        proto = onnx.load(quantized)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def to_tflite(model: keras.Model, kind: str, representative: np.ndarray | None = None) -> bytes:
    """`kind` is float32, float16 (half-size weights, float maths) or int8 (full-integer:
    int8 weights, activations, input and output)."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if kind == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif kind == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([representative[i : i + 1]] for i in range(len(representative)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        # int8 I/O: the input scale 1/255 with zero point -128 holds every uint8 pixel exactly,
        # and integer-only targets (microcontrollers, NPUs) need no float at the edges.
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    elif kind != "float32":
        raise ValueError(f"unknown TFLite kind {kind!r}")
    with contextlib.redirect_stdout(io.StringIO()):  # Keras prints the temporary SavedModel's signature
        return converter.convert()
