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
from PIL import Image

from tegaki.runtime.contract import to_model_input
from tegaki.runtime.errors import ImageError, ModelError
from tegaki.runtime.models import load_model
from tegaki.runtime.preprocessing import (
    DECODE_SCALE,
    WORK_SIDE,
    ImageSource,
    errors_of,
    frame_digit,
    ink_map,
    load_image,
    quantile,
    to_grayscale,
    working_image,
)
from tegaki.runtime.segment import GHOST, MIN_SIDE_SHARE, Component, find_components, split_wide

DEFAULT_MODEL = "edge-int8.onnx"  # in tegaki.assets; see assets/README.md for how it was made
SMALL_DIGIT = 12  # working-image pixels: digits this short are looked for again at twice the resolution
PAGE_SHARE = 0.8  # ... and so are groups this much of the image's width and height (the page taken for ink)
NOISE_MARGIN = 6  # ... where a digit's ink stands this many times the grain from the paper (noise: 3-5)
TEXTURE_MARGIN = 2  # ... and this many times what else darkens the paper around it (squared paper: 1)
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
            for frame, box, plausible, p in zip(item.frames, item.boxes, item.plausible, probabilities[start:]):
                readable = single or (plausible and float(p.max()) >= MIN_CONFIDENCE)
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
                    boxes, plausible = (
                        [(int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)],
                        [True],
                    )
                    frames = [frame_digit(ink)]
                else:
                    work, ink, groups, reference = _look_for_digits(image)
                    groups = [
                        piece
                        for group in groups
                        for piece in split_wide(ink, group, frame_digit, self._classify, reference)
                    ]
                    if not groups:
                        raise ImageError("no digit found")
                    if max_digits is not None and len(groups) > max_digits:
                        groups = sorted(sorted(groups, key=lambda g: -g.height)[:max_digits], key=lambda g: g.box[0])
                    boxes, plausible = [g.box for g in groups], [g.plausible() for g in groups]
                    frames = [frame_digit(group.ink(ink)) for group in groups]
        except ImageError as error:
            return error
        decoded = image.info.get(DECODE_SCALE, 1)
        scale = decoded * image.width / work.width, decoded * image.height / work.height
        boxes = [_scaled_box(box, scale) for box in boxes]
        return _Found(frames, boxes, plausible, (time.perf_counter() - started) * 1000)

    def _classify(self, frames: list[np.ndarray]) -> np.ndarray:
        return self.predict_frames(np.stack(frames))


Found = tuple[Image.Image, np.ndarray, list[Component], float]  # working image, ink map, groups, reference height


def _groups_in(work: Image.Image, closer: bool = False) -> Found:
    """The digit groups of a working image; `closer`: of the second look (below)."""
    gray = to_grayscale(work)
    ink = ink_map(gray, floor=GHOST if closer else 0.0)
    groups, reference = find_components(ink, gray, MIN_SIDE_SHARE / 2 if closer else MIN_SIDE_SHARE)
    return work, ink, _standing_out(gray, groups) if closer else groups, reference


def _look_for_digits(image: Image.Image) -> Found:
    """The digit groups of an image on its working copy. When the file has more pixels and no
    ink stood out there, or the digits found are only a few pixels tall, or a group spans most
    of the page, it may be a small digit in a big photo. It is looked for again at twice the
    resolution, where a part half as small (of the image's side) may be a digit, ink under a
    fifth of the strongest is paper (a vignette's shades: GHOST) and a group must stand out
    from the grain. What is found there replaces what was found first unless it spans most of
    the page again (a tight crop of one digit, or the page still taken for ink). Ink that
    stood out but held no digit (ruled or squared paper) is not looked at again: closer, its
    lines break into digit-sized pieces."""
    work = working_image(image)
    found, missing = None, None
    try:
        found = _groups_in(work)
    except ImageError as error:  # no ink stood out from the paper at this resolution
        missing = error
    if max(image.size) > max(work.size) and (
        found is None or 0 < found[3] < SMALL_DIGIT or any(_most_of(g.box, work.size) for g in found[2])
    ):
        try:
            closer = _groups_in(working_image(image, 2 * WORK_SIDE), closer=True)
            if closer[2] and not any(_most_of(g.box, closer[0].size) for g in closer[2]):
                found = closer
        except ImageError:
            pass
    if found is None:
        raise missing
    return found


def _standing_out(gray: np.ndarray, groups: list[Component]) -> list[Component]:
    """The groups whose ink differs from the paper around them by NOISE_MARGIN times the
    image's grain (a robust standard deviation of neighbouring pixels' differences) and by
    TEXTURE_MARGIN times the paper's own darker tenth there: looked at closer, a noisy
    photo's grain, a vignette's shades and the lines of squared paper break into digit-sized
    groups, which a digit's strokes stand out from."""
    grain = max(quantile(np.abs(np.diff(gray, axis=1)), 0.5) * 1.4826 / 2**0.5, 1 / 255)
    kept = []
    for group in groups:
        left, top, right, bottom = group.box
        reach = max(group.width, group.height) // 2
        y0, x0 = max(0, top - reach), max(0, left - reach)
        around = gray[y0 : bottom + reach, x0 : right + reach]
        is_paper = np.ones(around.shape, bool)
        is_paper[top - y0 : bottom - y0, left - x0 : right - x0] = ~group.mask
        strokes = gray[top:bottom, left:right][group.mask]
        paper = around[is_paper]
        if not paper.size:
            continue
        level = quantile(paper, 0.5)
        contrast = quantile(np.abs(strokes - level), 0.9)
        if contrast >= NOISE_MARGIN * grain and contrast >= TEXTURE_MARGIN * quantile(np.abs(paper - level), 0.9):
            kept.append(group)
    return kept


def _most_of(box: tuple[int, int, int, int], size: tuple[int, int]) -> bool:
    """Whether a group spans most of the image both ways: the whole page taken for ink (or
    a tight crop of one digit, which reads the same at either resolution)."""
    left, top, right, bottom = box
    return right - left >= PAGE_SHARE * size[0] and bottom - top >= PAGE_SHARE * size[1]


def _scaled_box(box: tuple[int, int, int, int], scale: tuple[float, float]) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    return (int(left * scale[0]), int(top * scale[1]), int(np.ceil(right * scale[0])), int(np.ceil(bottom * scale[1])))
