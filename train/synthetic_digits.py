"""Seven-segment display digits, drawn with Pillow: a style MNIST's writers never used.

The test and benchmark data set for fine-tuning (`train-cnn --data`): LCD and LED
displays photographed in several styles (segment thickness, gaps, slant, colours, unlit
"ghost" segments, blur, noise, PNG or JPEG), the digits 0-9 plus `minus` (the middle
segment alone), a class MNIST does not have. Made by code, so no other data set is needed,
and deterministic for a given seed.
"""

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# segments: a top, b top right, c bottom right, d bottom, e bottom left, f top left, g middle
SEGMENTS = {
    "0": "abcdef",
    "1": "bc",
    "2": "abged",
    "3": "abgcd",
    "4": "fgbc",
    "5": "afgcd",
    "6": "afgedc",
    "7": "abc",
    "8": "abcdefg",
    "9": "abcdfg",
    "minus": "g",
}
CLASSES = tuple(SEGMENTS)
# red, green, amber, ice blue: bright enough in luminance to read (a pure blue LED on black
# is too dim for any grey-level reader, the runtime included)
LED_COLOURS = np.array([[255, 60, 40], [90, 255, 90], [255, 180, 40], [150, 200, 255]])


@dataclass(frozen=True)
class SyntheticImage:
    name: str  # e.g. "lcd-0042.png"
    data: bytes  # the encoded file
    label: str


def _segment_polygons(width: float, height: float, thickness: float, gap: float) -> dict[str, list]:
    """Hexagonal segments of a display `width` x `height`, origin at its top left."""
    t, h = thickness, thickness / 2

    def horizontal(y):
        x0, x1 = t / 2 + gap, width - t / 2 - gap
        return [(x0, y), (x0 + h, y - h), (x1 - h, y - h), (x1, y), (x1 - h, y + h), (x0 + h, y + h)]

    def vertical(x, y0, y1):
        y0, y1 = y0 + gap, y1 - gap
        return [(x, y0), (x + h, y0 + h), (x + h, y1 - h), (x, y1), (x - h, y1 - h), (x - h, y0 + h)]

    top, middle, bottom = t / 2, height / 2, height - t / 2
    left, right = t / 2, width - t / 2
    return {
        "a": horizontal(top),
        "g": horizontal(middle),
        "d": horizontal(bottom),
        "f": vertical(left, top, middle),
        "b": vertical(right, top, middle),
        "e": vertical(left, middle, bottom),
        "c": vertical(right, middle, bottom),
    }


def render(label: str, rng: np.random.Generator) -> tuple[Image.Image, str]:
    """One display photo of `label` in a random style; returns the image and the style name."""
    style = str(rng.choice(["lcd", "led", "printed"]))
    width = rng.uniform(30, 60)
    height = width * rng.uniform(1.6, 2.1)
    thickness = width * rng.uniform(0.12, 0.24)
    gap = thickness * rng.uniform(0.0, 0.25)
    slant = rng.uniform(0.0, 0.2)  # italic displays lean right
    margin = int(width * rng.uniform(0.4, 1.0))
    side = (int(width + height * slant) + 2 * margin, int(height) + 2 * margin)
    if style == "lcd":  # dark segments on grey-green glass; unlit segments faintly visible
        paper, ink = rng.integers(150, 215, 3), rng.integers(10, 60, 3)
    elif style == "led":  # lit segments on a dark panel
        paper = rng.integers(0, 40, 3)
        ink = LED_COLOURS[rng.integers(len(LED_COLOURS))] * rng.uniform(0.8, 1.0)
    else:  # a stencil or label printer: black on white paper
        paper, ink = rng.integers(225, 256, 3), rng.integers(0, 40, 3)
    ghost = paper + (ink - paper) * rng.uniform(0.03, 0.08) if style == "lcd" else paper
    image = Image.new("RGB", side, tuple(int(v) for v in paper))
    draw = ImageDraw.Draw(image)
    for name, polygon in _segment_polygons(width, height, thickness, gap).items():
        colour = ink if name in SEGMENTS[label] else ghost
        points = [(margin + x + (height - y) * slant, margin + y) for x, y in polygon]
        draw.polygon(points, fill=tuple(int(v) for v in colour))
    image = image.rotate(
        rng.uniform(-4, 4), resample=Image.Resampling.BILINEAR, expand=True, fillcolor=tuple(int(v) for v in paper)
    )
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.2)))
    pixels = np.asarray(image, np.float32) + rng.normal(0, rng.uniform(0, 8), (image.height, image.width, 1))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), style


def synthetic_digits(per_class: int, seed: int = 0, classes: tuple[str, ...] = CLASSES) -> list[SyntheticImage]:
    """`per_class` encoded images of each class, PNG or JPEG, in random styles."""
    rng = np.random.default_rng(seed)
    images = []
    for label in classes:
        for index in range(per_class):
            image, style = render(label, rng)
            fmt = "JPEG" if rng.random() < 0.3 else "PNG"
            buffer = io.BytesIO()
            image.save(buffer, format=fmt, **({"quality": int(rng.integers(60, 95))} if fmt == "JPEG" else {}))
            suffix = ".jpg" if fmt == "JPEG" else ".png"
            images.append(SyntheticImage(f"{style}-{label}-{index:04d}{suffix}", buffer.getvalue(), label))
    return images


def write_folder(root: Path, images: list[SyntheticImage]) -> Path:
    """Lay `images` out as train-cnn --data expects: one sub-folder per class."""
    for item in images:
        folder = Path(root) / item.label
        folder.mkdir(parents=True, exist_ok=True)
        (folder / item.name).write_bytes(item.data)
    return Path(root)
