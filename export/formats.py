"""The export formats and export defaults, each written once. No TensorFlow here, so
`export-cnn --help` stays fast.

A new format is one entry: the exporter converts by `tflite_kind` (TFLite) or to ONNX,
float or int8 by `quantized`, and judges parity by `quantized`.
"""

from dataclasses import dataclass

DEFAULT_OPSET = 17  # read by every onnxruntime the runtime accepts (>= 1.17)
PARITY_IMAGES = 10_000  # the whole MNIST test set


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str  # appended to the base name: edge.onnx, edge-int8.onnx, ...
    quantized: bool  # judged by top-1 agreement and accuracy rather than exact probabilities
    description: str
    tflite_kind: str | None = None  # float32, float16 or int8 for TFLite; None: ONNX


FORMATS = {
    f.name: f
    for f in [
        Format("onnx", ".onnx", False, "ONNX float32"),
        Format("onnx-int8", "-int8.onnx", True, "ONNX int8 (static QDQ, u8 activations and per-channel u8 weights)"),
        Format("tflite", ".tflite", False, "TFLite float32", tflite_kind="float32"),
        Format("tflite-fp16", "-fp16.tflite", True, "TFLite float16 weights, float32 maths", tflite_kind="float16"),
        Format(
            "tflite-int8", "-int8.tflite", True, "TFLite full-integer int8, int8 input and output", tflite_kind="int8"
        ),
    ]
}
