"""The runtime's library API: load a model once, read digits from many images.

    from tegaki.runtime import DigitReader
    reader = DigitReader()                      # the model shipped in the package
    print(reader.read("photo.jpg").digit)       # path, bytes, file, PIL image or numpy array
    results = reader.read_many(["a.png", "b.png"])

Bad input raises ImageError (a TegakiError); a bad model file raises ModelError.
`read` and `read_many` are safe to call from several threads at once.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from tegaki.runtime.contract import to_model_input
from tegaki.runtime.models import load_model
from tegaki.runtime.preprocess import ImageSource, preprocess

DEFAULT_MODEL = "edge-int8.onnx"  # in tegaki.assets; see assets/README.md for how it was made


def default_model_path() -> Path:
    return Path(str(resources.files("tegaki.assets").joinpath(DEFAULT_MODEL)))


def digit_of(label: str) -> int | None:
    """A class name as a digit: "7" -> 7; None for other classes ("minus")."""
    return int(label) if label.isdigit() else None


@dataclass(frozen=True)
class Prediction:
    digit: int | None  # None when the winning class is not a digit (a fine-tuned model's "minus"...)
    confidence: float  # the winning class's probability
    probabilities: np.ndarray = field(repr=False)  # (classes,) float32, index = class; digits first
    image: np.ndarray = field(repr=False)  # the uint8 (28, 28) the model saw
    preprocess_ms: float = 0.0  # decode and preprocessing of this image
    inference_ms: float = 0.0  # this image's share of its batch's inference
    label: str = ""  # the winning class's name from the model's labels: "7", or "minus"...

    def top(self, k: int) -> list[tuple[int, float]]:
        """The k most likely class indices (the digit, for digits) with their probabilities,
        most likely first."""
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(int(i), float(self.probabilities[i])) for i in order]


class DigitReader:
    def __init__(self, model: str | Path | None = None, threads: int | None = None):
        self.model_path = Path(model) if model is not None else default_model_path()
        self._model = load_model(self.model_path, threads)
        self.labels = self._model.labels
        self.metadata = self._model.metadata

    def predict_tensors(self, images: np.ndarray) -> np.ndarray:
        """Probabilities (N, classes) for images already in MNIST form: uint8 (N, 28, 28), white on black."""
        return self._model.predict(to_model_input(images))

    def read(self, image: ImageSource) -> Prediction:
        """Read one digit from any image; raises ImageError for bad input or no digit."""
        return self.read_many([image])[0]

    def read_many(self, images: Sequence[ImageSource]) -> list[Prediction]:
        """Read several images in one batch; raises ImageError on the first bad one
        (use `prepare` and `read_prepared` to handle failures one by one)."""
        prepared = [self.prepare(image) for image in images]
        return self.read_prepared([p[0] for p in prepared], [p[1] for p in prepared])

    @staticmethod
    def prepare(image: ImageSource) -> tuple[np.ndarray, float]:
        """Preprocess one image: its uint8 (28, 28) model input and the milliseconds it took."""
        started = time.perf_counter()
        frame = preprocess(image)
        return frame, (time.perf_counter() - started) * 1000

    def read_prepared(self, frames: list[np.ndarray], preprocess_ms: list[float] | None = None) -> list[Prediction]:
        if not frames:
            return []
        started = time.perf_counter()
        probabilities = self.predict_tensors(np.stack(frames))
        inference_ms = (time.perf_counter() - started) * 1000 / len(frames)
        preprocess_ms = preprocess_ms or [0.0] * len(frames)
        labels = [self.labels[int(p.argmax())] for p in probabilities]
        return [
            Prediction(digit=digit_of(label), confidence=float(p.max()), probabilities=p,
                       image=frame, preprocess_ms=ms, inference_ms=inference_ms, label=label)
            for p, frame, ms, label in zip(probabilities, frames, preprocess_ms, labels)
        ]
