"""Photo-like digits made from real MNIST test digits: the runtime's accuracy check.

Users do not send MNIST tensors; they send phone photos, scans and canvas drawings. Each
MNIST digit here is re-rendered as one of those, encoded as a real PNG or JPEG file, so
the whole path (decode, preprocessing, model) is measured against the true label.
Deterministic for a given seed.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image


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
    return np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC), np.float32).clip(0, 255) / 255


def _on_paper(ink: np.ndarray, canvas: tuple[int, int], rng: np.random.Generator, paper: float = 0.9,
              lighting: float = 0.0, noise: float = 0.0, ink_level: float = 0.1) -> np.ndarray:
    """Dark ink at a random place on light paper with optional lighting gradient and grain."""
    height, width = canvas
    y = rng.integers(0, height - ink.shape[0] + 1)
    x = rng.integers(0, width - ink.shape[1] + 1)
    strength = np.zeros(canvas, np.float32)
    strength[y:y + ink.shape[0], x:x + ink.shape[1]] = ink
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


VARIANTS: list[Callable] = [inverted, small, off_centre, large_canvas, noisy_paper, phone_jpeg,
                            transparent_canvas, blue_pen_yellow_paper]


def realistic_images(images: np.ndarray, labels: np.ndarray, count: int = 1000, seed: int = 0) -> list[RealisticImage]:
    """`count` photo-like files, cycling through VARIANTS over the first `count` digits."""
    rng = np.random.default_rng(seed)
    made = []
    for index in range(count):
        name, data = VARIANTS[index % len(VARIANTS)](images[index], rng)
        stem, suffix = name.rsplit(".", 1)
        made.append(RealisticImage(f"{stem}-{index:04d}.{suffix}", data, int(labels[index])))
    return made
