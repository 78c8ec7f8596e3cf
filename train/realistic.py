"""Photo-like digits made from real MNIST test digits: the runtime's accuracy check.

Users do not send MNIST tensors; they send phone photos, scans and canvas drawings. Each
MNIST digit here is re-rendered as one of those, encoded as a real PNG or JPEG file, so
the whole path (decode, preprocessing, model) is measured against the true label.
Deterministic for a given seed.

Two sets of kinds: VARIANTS (how the picture was taken: paper, light, canvas, JPEG) and
HAND_VARIANTS (how the digit was written or scanned: a felt-tip marker, a hairline pen, a
digit scanned at 8-12 px and upsampled), which are harder for the model than for the
preprocessing. Both can also be made from training digits held out for validation, to
choose a recipe without looking at the test set.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from tegaki.train.strokes import skeleton


@dataclass(frozen=True)
class RealisticImage:
    name: str  # variant and MNIST test index, e.g. "noisy-paper-0042.jpg"
    data: bytes  # the encoded file
    label: int


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _scaled(digit: np.ndarray, side: int) -> np.ndarray:
    """The 28x28 digit resized to side x side, as ink strength in [0, 1]."""
    return (
        np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC), np.float32).clip(0, 255) / 255
    )


def _on_paper(
    ink: np.ndarray,
    canvas: tuple[int, int],
    rng: np.random.Generator,
    paper: float = 0.9,
    lighting: float = 0.0,
    noise: float = 0.0,
    ink_level: float = 0.1,
) -> np.ndarray:
    """Dark ink at a random place on light paper with optional lighting gradient and grain."""
    height, width = canvas
    y = rng.integers(0, height - ink.shape[0] + 1)
    x = rng.integers(0, width - ink.shape[1] + 1)
    strength = np.zeros(canvas, np.float32)
    strength[y : y + ink.shape[0], x : x + ink.shape[1]] = ink
    rows = np.arange(height, dtype=np.float32)[:, None]
    cols = np.arange(width, dtype=np.float32)[None, :]
    angle = rng.uniform(0, 2 * np.pi)
    # light falls off across the page by up to `lighting`, centred on the paper's level
    gradient = (np.cos(angle) * (cols / width - 0.5) + np.sin(angle) * (rows / height - 0.5)) * lighting
    background = paper + gradient
    if noise:
        background = background + rng.standard_normal(canvas, dtype=np.float32) * noise
    return np.clip(background * (1 - strength) + ink_level * strength, 0, 1)


def _gray(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(np.round(pixels * 255).astype(np.uint8))


def inverted(digit, rng):
    return "inverted.png", _encode(Image.fromarray(255 - digit), "PNG")


def small(digit, rng):
    side = int(rng.integers(14, 22))
    return "small.png", _encode(_gray(_on_paper(_scaled(digit, side), (side + 4, side + 4), rng)), "PNG")


def off_centre(digit, rng):
    return "off-centre.png", _encode(_gray(_on_paper(_scaled(digit, 40), (120, 160), rng)), "PNG")


def large_canvas(digit, rng):
    side = int(rng.integers(150, 400))
    return "large-canvas.png", _encode(_gray(_on_paper(_scaled(digit, side), (800, 600), rng)), "PNG")


def noisy_paper(digit, rng):
    pixels = _on_paper(_scaled(digit, 120), (300, 300), rng, paper=0.8, lighting=0.35, noise=0.04, ink_level=0.15)
    return "noisy-paper.png", _encode(_gray(pixels), "PNG")


def phone_jpeg(digit, rng):
    ink = _scaled(digit, int(rng.integers(200, 500)))
    pixels = _on_paper(ink, (1000, 1000), rng, paper=0.85, lighting=0.25, noise=0.03)
    tint = np.array([1.0, 0.97, 0.9], np.float32)  # warm indoor light
    rgb = Image.fromarray(np.round(pixels[..., None] * tint * 255).astype(np.uint8), "RGB")
    return "phone.jpg", _encode(rgb, "JPEG", quality=int(rng.integers(50, 90)))


def transparent_canvas(digit, rng):
    ink = _scaled(digit, 200)
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., :3] = (20, 20, 60)  # dark blue pen; colour is invisible where alpha is 0
    canvas[40:240, 40:240, 3] = np.round(ink * 255).astype(np.uint8)
    return "canvas.png", _encode(Image.fromarray(canvas, "RGBA"), "PNG")


def blue_pen_yellow_paper(digit, rng):
    strength = _on_paper(_scaled(digit, 100), (160, 200), rng, paper=1.0, ink_level=0.0)
    strength = 1 - strength  # ink strength where the pen wrote
    paper, pen = np.array([250, 240, 180], np.float32), np.array([30, 50, 160], np.float32)
    rgb = paper * (1 - strength[..., None]) + pen * strength[..., None]
    return "blue-pen.jpg", _encode(Image.fromarray(np.round(rgb).astype(np.uint8), "RGB"), "JPEG", quality=85)


PEN_SCALE = 4  # pen strokes are drawn on the digit upsampled to 112x112


def pen_stroke(digit: np.ndarray, width: float) -> np.ndarray:
    """The digit redrawn along its centre line with a round pen `width` pixels wide (in
    28x28 pixels: MNIST's own strokes are about 2-3), as ink strength in [0, 1] at 112x112."""
    big = np.asarray(Image.fromarray(digit).resize((28 * PEN_SCALE,) * 2, Image.Resampling.BICUBIC), np.float32)
    centre = Image.fromarray((skeleton(big > 127) * 255).astype(np.uint8))
    radius = width * PEN_SCALE / 2
    # dilate the centre line with a round pen: a blurred line cut at the level a disc reaches
    blurred = np.asarray(centre.filter(ImageFilter.GaussianBlur(radius / 2)), np.float32)
    level = blurred.max() * np.exp(-2.0)  # a Gaussian of sigma r/2 falls to e^-2 of its peak at r
    ink = np.clip((blurred - level) / max(level, 1e-6) * 4, 0, 1)
    return ink


def _pen_on_paper(digit, rng, width):
    side = int(rng.integers(80, 200))
    ink = (
        np.asarray(
            Image.fromarray(np.round(pen_stroke(digit, width) * 255).astype(np.uint8)).resize(
                (side, side), Image.Resampling.BOX
            ),
            np.float32,
        )
        / 255
    )
    return _encode(_gray(_on_paper(ink, (side + 60, side + 60), rng, paper=0.92, ink_level=0.08)), "PNG")


def thick_marker(digit, rng):
    """A felt-tip marker: strokes 4-6 px wide in MNIST's frame, so loops nearly close."""
    return "thick.png", _pen_on_paper(digit, rng, float(rng.choice([4.0, 5.0, 6.0])))


def thin_pen(digit, rng):
    """A hairline pen: strokes 0.5-1 px wide in MNIST's frame."""
    return "thin.png", _pen_on_paper(digit, rng, float(rng.choice([0.5, 0.75, 1.0])))


def low_resolution(digit, rng):
    """A digit scanned at 8, 10 or 12 px height, in 17 grey levels, then upsampled 5-8x by
    bicubic or bilinear interpolation: blurred and blocky."""
    ys, xs = np.nonzero(digit)
    crop = Image.fromarray(digit[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
    height = int(rng.choice([8, 10, 12]))
    width = max(2, round(crop.width * height / crop.height))
    coarse = np.pad(np.asarray(crop.resize((width, height), Image.Resampling.BOX), np.float32), 1)
    coarse = np.round(coarse / 255 * 16) / 16  # 4-bit scanner
    factor = int(rng.integers(5, 9))
    method = Image.Resampling.BICUBIC if rng.random() < 0.5 else Image.Resampling.BILINEAR
    big = np.asarray(Image.fromarray(coarse).resize(((width + 2) * factor, (height + 2) * factor), method), np.float32)
    return "low-res.png", _encode(_gray(1 - np.clip(big, 0, 1) * 0.9), "PNG")


VARIANTS: list[Callable] = [
    inverted,
    small,
    off_centre,
    large_canvas,
    noisy_paper,
    phone_jpeg,
    transparent_canvas,
    blue_pen_yellow_paper,
]
HAND_VARIANTS: list[Callable] = [thick_marker, thin_pen, low_resolution]


def realistic_images(
    images: np.ndarray, labels: np.ndarray, count: int = 1000, seed: int = 0, variants: list[Callable] = VARIANTS
) -> list[RealisticImage]:
    """`count` files, cycling through `variants` over the first `count` digits."""
    rng = np.random.default_rng(seed)
    made = []
    for index in range(count):
        name, data = variants[index % len(variants)](images[index], rng)
        stem, suffix = name.rsplit(".", 1)
        made.append(RealisticImage(f"{stem}-{index:04d}.{suffix}", data, int(labels[index])))
    return made
