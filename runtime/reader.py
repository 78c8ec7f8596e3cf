"""The runtime's library API: load a model once, read digits and numbers from many images.

    from tegaki.runtime import DigitReader
    reader = DigitReader()                      # the model shipped in the package
    print(reader.read("photo.jpg").digit)       # one digit: all ink in the image is that digit
    reading = reader.read_number("meter.jpg")   # every digit found, left to right
    print(reading.number, [d.box for d in reading.digits])   # "40371", boxes in image pixels
    for result in reader.read_all(["a.png", "b.png"]):       # a Reading or an ImageError each
        ...

`read` keeps the one-digit reading (MNIST crops, `edge-predict --single`); `read_number`
finds the digits (tegaki.runtime.segment) and returns a `Reading`. Bad input raises
ImageError (a TegakiError); a bad model file raises ModelError, when it is loaded or, for a
model whose output holds NaN or infinity, when it is run. Every method is safe to call from
several threads at once.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np

from tegaki.runtime.contract import to_model_input
from tegaki.runtime.errors import ImageError, ModelError
from tegaki.runtime.models import load_model
from tegaki.runtime.preprocessing import (
    DECODE_SCALE,
    ImageSource,
    errors_of,
    frame_digit,
    ink_map,
    load_image,
    to_grayscale,
    working_image,
)
from tegaki.runtime.segment import LIGHT_SURE, find_digits, join_broken, lies_flat, split_wide

DEFAULT_MODEL = "edge-int8.onnx"  # in tegaki.assets; see assets/README.md for how it was made
MIN_CONFIDENCE = 0.5  # a digit the model is less sure of is reported unreadable ("?"), not guessed


def default_model_path() -> Path:
    return Path(str(resources.files("tegaki.assets").joinpath(DEFAULT_MODEL)))


def digit_of(label: str) -> int | None:
    """A class name as a digit: "7" -> 7; None for other classes ("minus")."""
    return int(label) if label.isdigit() else None


@dataclass(frozen=True)
class Prediction:
    """One digit (or a fine-tuned model's other class): what the model read, how sure it is,
    and where it is."""

    digit: int | None  # the model's answer; None when the winning class is not a digit ("minus"...)
    confidence: float  # the winning class's probability
    probabilities: np.ndarray = field(repr=False)  # (classes,) float32, index = class; digits first
    image: np.ndarray = field(repr=False)  # the uint8 (28, 28) the model saw
    preprocess_ms: float = 0.0  # from `read`: decode and preprocessing of this image (in a Reading: 0)
    inference_ms: float = 0.0  # from `read`: this image's share of its batch's inference (in a Reading: 0)
    box: tuple[int, int, int, int] | None = None  # left, top, right, bottom in the image file's pixels
    readable: bool = True  # False: a shape no digit has, or below MIN_CONFIDENCE
    label: str = ""  # the winning class's name from the model's labels: "7", or "minus"...

    @property
    def text(self) -> str:
        """The class name ("7", "minus"), or "?" when it is unreadable."""
        return self.label if self.readable else "?"

    def top(self, k: int) -> list[tuple[int, float]]:
        """The k most likely class indices (the digit, for digits) with their probabilities,
        most likely first."""
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(int(i), float(self.probabilities[i])) for i in order]


@dataclass(frozen=True)
class Reading:
    """The digits found in one image, left to right: a number such as "40371" or "4?371"."""

    digits: tuple[Prediction, ...]
    preprocess_ms: float = 0.0  # decode, preprocessing and finding the digits
    inference_ms: float = 0.0  # this image's share of its batch's inference

    @property
    def number(self) -> str:
        return "".join(d.text for d in self.digits)

    @property
    def confidence(self) -> float:
        """The least sure digit's confidence: a number is only as sure as its weakest digit."""
        return min(d.confidence for d in self.digits)

    def unsure(self, threshold: float = 0.0) -> bool:
        """True when a digit is unreadable or read with a confidence below `threshold`."""
        return any(not d.readable or d.confidence < threshold for d in self.digits)


@dataclass(frozen=True)
class _Found:
    """An image's digits before inference: frames for the model, boxes, shape verdicts."""

    frames: list[np.ndarray]
    boxes: list[tuple[int, int, int, int]]
    plausible: list[bool]
    lighter: list[bool]  # written far lighter than the rest: kept only if read surely
    preprocess_ms: float


class DigitReader:
    def __init__(self, model: str | Path | None = None, threads: int | None = None):
        self.model_path = Path(model) if model is not None else default_model_path()
        self._model = load_model(self.model_path, threads)
        self.labels = self._model.labels
        self.metadata = self._model.metadata

    def predict_frames(self, images: np.ndarray) -> np.ndarray:
        """Probabilities (N, classes) for frames already in MNIST form (what `preprocess` returns):
        uint8 (N, 28, 28), white digit on black."""
        probabilities = self._model.predict(to_model_input(images))
        if not np.isfinite(probabilities).all():  # a broken model, not a bad image: no answer is better than nan%
            raise ModelError(f"{self.model_path}: the model's output holds NaN or infinity")
        return probabilities

    def read(self, image: ImageSource) -> Prediction:
        """Read one digit from any image: all its ink is taken as one digit (an MNIST-style crop).
        Raises ImageError for bad input or no digit."""
        return self.read_many([image])[0]

    def read_many(self, images: Sequence[ImageSource]) -> list[Prediction]:
        """`read` for several images in one batch; raises ImageError on the first bad one
        (`read_all` reports failures one by one)."""
        predictions = []
        for result in self.read_all(images, single=True):
            if isinstance(result, ImageError):
                raise result
            predictions.append(
                replace(result.digits[0], preprocess_ms=result.preprocess_ms, inference_ms=result.inference_ms)
            )
        return predictions

    def read_number(self, image: ImageSource, max_digits: int | None = None) -> Reading:
        """Find and read every digit in an image, left to right; raises ImageError for bad
        input or when no digit is found. `max_digits` keeps only the tallest ones."""
        result = self.read_all([image], max_digits=max_digits)[0]
        if isinstance(result, ImageError):
            raise result
        return result

    def read_all(
        self, images: Sequence[ImageSource], single: bool = False, max_digits: int | None = None
    ) -> list[Reading | ImageError]:
        """Read several images with one inference call: a Reading or the ImageError that
        input raised, one per input and in order. `single` reads each image as one digit
        (as `read` does)."""
        found = [self._find(image, single, max_digits) for image in images]
        frames = [frame for item in found if isinstance(item, _Found) for frame in item.frames]
        if not frames:
            return found
        started = time.perf_counter()
        probabilities = self.predict_frames(np.stack(frames))
        per_frame_ms = (time.perf_counter() - started) * 1000 / len(frames)
        results, start = [], 0
        for item in found:
            if isinstance(item, ImageError):
                results.append(item)
                continue
            digits = []
            for frame, box, plausible, lighter, p in zip(
                item.frames, item.boxes, item.plausible, item.lighter, probabilities[start:]
            ):
                readable = single or (plausible and float(p.max()) >= MIN_CONFIDENCE and not lies_flat(frame))
                if lighter and not (readable and float(p.max()) >= LIGHT_SURE):
                    continue  # a faint mark, not a digit written lighter
                label = self.labels[int(p.argmax())]
                digits.append(
                    Prediction(
                        digit=digit_of(label),
                        confidence=float(p.max()),
                        probabilities=p,
                        image=frame,
                        box=box,
                        readable=readable,
                        label=label,
                    )
                )
            start += len(item.frames)
            if not digits:  # only faint marks where a darker digit's piece was
                results.append(ImageError("no digit found"))
                continue
            results.append(Reading(tuple(digits), item.preprocess_ms, per_frame_ms * len(item.frames)))
        return results

    def _find(self, source: ImageSource, single: bool, max_digits: int | None) -> _Found | ImageError:
        """Decode, preprocess and find the digits of one image (tegaki.runtime.segment)."""
        started = time.perf_counter()
        try:
            with errors_of(source):
                image = load_image(source)
                if single:
                    work = working_image(image)
                    ink = ink_map(to_grayscale(work))
                    rows, cols = np.nonzero(ink)
                    boxes, plausible, lighter = (
                        [(int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)],
                        [True],
                        [False],
                    )
                    frames = [frame_digit(ink)]
                else:
                    work, ink, groups, reference = find_digits(image)
                    groups = [
                        piece
                        for group in groups
                        for piece in split_wide(ink, group, frame_digit, self._classify, reference)
                    ]
                    groups = join_broken(ink, groups, frame_digit, self._classify, reference)
                    if not groups:
                        raise ImageError("no digit found")
                    if max_digits is not None and len(groups) > max_digits:
                        groups = sorted(sorted(groups, key=lambda g: -g.height)[:max_digits], key=lambda g: g.box[0])
                    boxes, plausible = [g.box for g in groups], [g.plausible() for g in groups]
                    lighter = [g.lighter for g in groups]
                    frames = [frame_digit(group.ink(ink)) for group in groups]
        except ImageError as error:
            return error
        decoded = image.info.get(DECODE_SCALE, 1)
        scale = decoded * image.width / work.width, decoded * image.height / work.height
        boxes = [_scaled_box(box, scale) for box in boxes]
        return _Found(frames, boxes, plausible, lighter, (time.perf_counter() - started) * 1000)

    def _classify(self, frames: list[np.ndarray]) -> np.ndarray:
        return self.predict_frames(np.stack(frames))


def _scaled_box(box: tuple[int, int, int, int], scale: tuple[float, float]) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    return (int(left * scale[0]), int(top * scale[1]), int(np.ceil(right * scale[0])), int(np.ceil(bottom * scale[1])))
