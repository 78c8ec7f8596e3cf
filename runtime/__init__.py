"""tegaki's runtime: read handwritten digits with numpy, Pillow and onnxruntime only.

Nothing here imports TensorFlow, Keras, tf2onnx or onnx, nor tegaki.train or tegaki.export.
"""

from tegaki.runtime.errors import ImageError, ModelError, TegakiError
from tegaki.runtime.preprocessing import preprocess
from tegaki.runtime.reader import DigitReader, Prediction, Reading
from tegaki.runtime.records import reading_record

__all__ = [
    "DigitReader",
    "Prediction",
    "Reading",
    "reading_record",
    "preprocess",
    "TegakiError",
    "ImageError",
    "ModelError",
]
