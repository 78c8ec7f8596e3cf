"""Messy pages and whole numbers made from real MNIST test digits: the number reader's check.

train/realistic.py renders one digit on clean-ish paper. What users also send, and what
this module makes (each a real PNG or JPEG file with its true reading):

- single digits on hard pages: a small digit on a big page with vignette and uneven light,
  a sheet lying on a darker desk, lined notebook paper, a hard shadow across a corner, a
  stray speck or pen mark beside the digit, a digit photographed from afar (a few percent
  of a big photo's side);
- numbers of 2 to 8 digits: MNIST test digits written in a row with a writer's spacing,
  baseline jitter, size variation and slant, some neighbours touching; some with an
  underline, a box around the field, ruled lines or a speck;
- numbers in a fat marker (a house number, a label, a box on a shelf): 2 to 5 digits whose
  strokes are two to three times MNIST's, half of them written close enough to touch, cropped
  with little paper around them.

The caller picks the digits: MNIST test digits for figures (nothing the model was trained
on), training digits for tuning the reader's thresholds (benchmarks/number_reader.py
--split train), so that figures are not tuned to. Deterministic for a given seed.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from tegaki.train.realistic import _encode, _scaled


@dataclass(frozen=True)
class RealisticNumber:
    name: str  # kind and index, e.g. "desk-0042.jpg" or "number-0007.png"
    data: bytes  # the encoded file
    label: str  # the digits as written, e.g. "40371"
    clutter: str = ""  # what else is on the page: "", "underline", "box", "ruled", "speck"


def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column coordinates in [-0.5, 0.5]."""
    return (
        np.arange(height, dtype=np.float32)[:, None] / height - 0.5,
        np.arange(width, dtype=np.float32)[None, :] / width - 0.5,
    )


def _paper(
    height: int,
    width: int,
    rng: np.random.Generator,
    level: float,
    lighting: float,
    vignette: float = 0.0,
    noise: float = 0.02,
) -> np.ndarray:
    """Paper brightness (H, W): a lighting gradient, a darker rim, grain."""
    rows, cols = _grid(height, width)
    angle = rng.uniform(0, 2 * np.pi)
    paper = level + (np.cos(angle) * cols + np.sin(angle) * rows) * lighting
    paper = paper - vignette * (rows**2 + cols**2) * 2  # 0 at the centre, -vignette at the corners
    return paper + rng.standard_normal((height, width), dtype=np.float32) * noise


def _place(strength: np.ndarray, ink: np.ndarray, y: int, x: int) -> None:
    """Add `ink` (stroke strength in [0, 1]) at (y, x), clipped to the canvas."""
    h, w = ink.shape
    region = strength[y : y + h, x : x + w]
    np.maximum(region, ink[: region.shape[0], : region.shape[1]], out=region)


def _render(paper: np.ndarray, strength: np.ndarray, ink_level: float) -> np.ndarray:
    return np.clip(paper * (1 - strength) + ink_level * strength, 0, 1)


def _file(pixels: np.ndarray, rng: np.random.Generator, tint=None) -> tuple[str, bytes]:
    """PNG or phone-style JPEG; `tint` is an RGB multiplier (warm light, a blue pen)."""
    rgb = pixels[..., None] * np.asarray(tint if tint is not None else (1.0, 1.0, 1.0), np.float32)
    image = Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8), "RGB")
    if rng.random() < 0.5:
        return "png", _encode(image, "PNG")
    return "jpg", _encode(image, "JPEG", quality=int(rng.integers(70, 92)))


def _digit_somewhere(
    digit: np.ndarray, side: int, canvas: tuple[int, int], rng: np.random.Generator, margin: float = 0.15
) -> tuple[np.ndarray, tuple[int, int]]:
    """Stroke strength of the digit at a random place away from the edges, and its top-left."""
    ink = _scaled(digit, side)
    height, width = canvas
    y = int(rng.integers(int(height * margin), int(height * (1 - margin)) - side + 1))
    x = int(rng.integers(int(width * margin), int(width * (1 - margin)) - side + 1))
    strength = np.zeros(canvas, np.float32)
    _place(strength, ink, y, x)
    return strength, (y, x)


def page(digit, rng):
    """A small digit on a big page photographed with a vignette and uneven light."""
    height, width = int(rng.integers(700, 1000)), int(rng.integers(900, 1300))
    strength, _ = _digit_somewhere(digit, int(rng.integers(110, 200)), (height, width), rng, margin=0.2)
    paper = _paper(height, width, rng, level=0.82, lighting=0.25, vignette=rng.uniform(0.25, 0.45))
    return "page", _file(_render(paper, strength, 0.12), rng, tint=(1.0, 0.97, 0.9))


def desk(digit, rng):
    """A sheet of paper lying on a darker desk, tilted, with one or two of its edges in view."""
    height, width = 600, 800
    strength, (y, x) = _digit_somewhere(digit, int(rng.integers(90, 160)), (height, width), rng, margin=0.3)
    sheet = Image.new("L", (width, height), 0)
    angle = rng.uniform(-0.25, 0.25)
    cx, cy = x + rng.uniform(-60, 200), y + rng.uniform(-60, 200)
    half_w, half_h = rng.uniform(280, 420), rng.uniform(250, 380)
    corners = [(-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h)]
    ImageDraw.Draw(sheet).polygon(
        [(cx + u * np.cos(angle) - v * np.sin(angle), cy + u * np.sin(angle) + v * np.cos(angle)) for u, v in corners],
        fill=255,
    )
    on_sheet = np.asarray(sheet, np.float32) / 255
    on_sheet = np.maximum(on_sheet, strength > 0)  # the digit is written on the sheet
    paper = _paper(height, width, rng, level=0.85, lighting=0.15)
    desk_level = rng.uniform(0.2, 0.45)
    background = paper * on_sheet + (desk_level + _paper(height, width, rng, 0, 0.1)) * (1 - on_sheet)
    return "desk", _file(_render(background, strength, 0.1), rng, tint=(1.0, 0.92, 0.8))


def _ruled(height: int, width: int, rng: np.random.Generator, spacing: float, first: float) -> np.ndarray:
    """Strength of light ruled lines every `spacing` pixels from `first`."""
    lines = np.zeros((height, width), np.float32)
    thickness = int(rng.integers(1, 3))
    for row in np.arange(first % spacing, height, spacing).astype(int):
        lines[row : row + thickness] = 1.0
    return lines


def lined(digit, rng):
    """A digit written on lined notebook paper: the lines cross it and sit under it."""
    height, width = int(rng.integers(300, 500)), int(rng.integers(300, 500))
    side = int(rng.integers(80, 140))
    spacing = side * rng.uniform(0.45, 0.7)
    strength, (y, x) = _digit_somewhere(digit, side, (height, width), rng)
    baseline = y + side * 0.86  # MNIST's digit ends about 4 px above the bottom of its 28
    lines = _ruled(height, width, rng, spacing, baseline)
    paper = _paper(height, width, rng, level=0.9, lighting=0.15)
    pixels = _render(paper, lines * rng.uniform(0.2, 0.35), 0.0)  # light blue-grey lines
    return "lined", _file(_render(pixels, strength, 0.1), rng)


def shadow(digit, rng):
    """A hard shadow (a hand, a phone) across one corner of the page."""
    height, width = int(rng.integers(400, 650)), int(rng.integers(400, 650))
    strength, _ = _digit_somewhere(digit, int(rng.integers(90, 160)), (height, width), rng, margin=0.25)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    corner_y, corner_x = rng.choice([0, height]), rng.choice([0, width])
    reach = rng.uniform(0.35, 0.55) * (height + width) / 2  # the shadow's edge crosses the corner's diagonal here
    dark = (np.abs(rows - corner_y) + np.abs(cols - corner_x)) < reach
    paper = _paper(height, width, rng, level=0.85, lighting=0.1) * np.where(dark, rng.uniform(0.45, 0.65), 1.0)
    return "shadow", _file(_render(paper, strength, 0.08), rng)


def _speck(strength: np.ndarray, rng: np.random.Generator, size: float, keep_out: tuple[int, int, int, int]) -> None:
    """A dot or a short pen mark of about `size` pixels somewhere outside `keep_out` (y0, x0, y1, x1)."""
    height, width = strength.shape
    mark = Image.new("L", (int(size * 2) + 4, int(size * 2) + 4), 0)
    draw = ImageDraw.Draw(mark)
    if rng.random() < 0.5:
        r = max(1.0, size / 3)
        draw.ellipse((size + 2 - r, size + 2 - r, size + 2 + r, size + 2 + r), fill=255)
    else:
        angle = rng.uniform(0, np.pi)
        dx, dy = np.cos(angle) * size / 2, np.sin(angle) * size / 2
        draw.line((size + 2 - dx, size + 2 - dy, size + 2 + dx, size + 2 + dy), fill=255, width=max(1, int(size / 6)))
    ink = np.asarray(mark, np.float32) / 255
    for _ in range(50):
        y, x = int(rng.integers(0, height - ink.shape[0])), int(rng.integers(0, width - ink.shape[1]))
        y0, x0, y1, x1 = keep_out
        if y + ink.shape[0] < y0 or y > y1 or x + ink.shape[1] < x0 or x > x1:
            _place(strength, ink, y, x)
            return


def speck(digit, rng):
    """A digit with a stray speck of dirt or a short pen mark beside it."""
    height, width = int(rng.integers(200, 400)), int(rng.integers(200, 400))
    side = int(rng.integers(80, 140))
    strength, (y, x) = _digit_somewhere(digit, side, (height, width), rng)
    _speck(strength, rng, side * rng.uniform(0.1, 0.25), (y, x, y + side, x + side))
    paper = _paper(height, width, rng, level=0.88, lighting=0.2)
    return "speck", _file(_render(paper, strength, 0.1), rng)


PAGE_KINDS: list[Callable] = [page, desk, lined, shadow, speck]


def photo(digit: np.ndarray | None, rng: np.random.Generator, share: float = 0.025, grain: float = 0.02) -> bytes:
    """A 2000x1500 phone-style JPEG of paper in uneven light with a vignette and `grain`, and
    on it a digit whose ink is `share` of the long side, as when a photo is taken from afar
    (None: a blank page)."""
    height, width = 1500, 2000
    strength = np.zeros((height, width), np.float32)
    if digit is not None:
        strength, _ = _digit_somewhere(digit, round(share * width * 28 / 20), (height, width), rng, margin=0.2)
    paper = _paper(height, width, rng, level=0.82, lighting=0.2, vignette=rng.uniform(0.1, 0.3), noise=grain)
    pixels = np.round(_render(paper, strength, 0.12) * 255).astype(np.uint8)
    return _encode(Image.fromarray(pixels), "JPEG", quality=int(rng.integers(80, 92)))


def hard_pages(images: np.ndarray, labels: np.ndarray, count: int = 500, seed: int = 0) -> list[RealisticNumber]:
    """`count` single-digit files, cycling through PAGE_KINDS over the first `count` test digits."""
    rng = np.random.default_rng(seed)
    made = []
    for index in range(count):
        kind, (suffix, data) = PAGE_KINDS[index % len(PAGE_KINDS)](images[index], rng)
        made.append(RealisticNumber(f"{kind}-{index:04d}.{suffix}", data, str(int(labels[index]))))
    return made


def _tight(digit: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(digit > 30)
    return digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _written(digit: np.ndarray, height: int, slant: float) -> np.ndarray:
    """A tight MNIST digit scaled to `height` px and slanted (positive leans right), strength [0, 1]."""
    tight = _tight(digit)
    width = max(1, round(tight.shape[1] * height / tight.shape[0]))
    image = Image.fromarray(tight).resize((width, height), Image.Resampling.BICUBIC)
    extra = int(abs(slant) * height)
    # affine maps output to input: x_in = x_out + slant * (y_out - height), leaning the top to the right
    sheared = image.transform(
        (width + extra, height),
        Image.Transform.AFFINE,
        (1, slant, -slant * height if slant > 0 else 0, 0, 1, 0),
        Image.Resampling.BILINEAR,
    )
    return np.asarray(sheared, np.float32).clip(0, 255) / 255


CLUTTER = ("underline", "box", "ruled", "speck")


def number(digits: list[np.ndarray], rng: np.random.Generator, clutter: str = "") -> tuple[str, bytes]:
    """Digits written in a row on paper as one person writes a number, with optional clutter."""
    height = int(rng.integers(30, 70))
    slant = rng.uniform(-0.15, 0.2)  # on top of the writer's own slant in MNIST
    written, gaps = [], []
    for _ in digits:
        gap = -rng.uniform(0.02, 0.1) if rng.random() < 0.08 else rng.uniform(0.12, 0.45)  # some touch
        gaps.append(int(round(gap * height)))
    for digit in digits:
        written.append(_written(digit, int(round(height * rng.uniform(0.88, 1.12))), slant + rng.uniform(-0.05, 0.05)))
    margin = int(height * rng.uniform(0.5, 1.0))
    width = 2 * margin + sum(w.shape[1] for w in written) + sum(gaps[1:])
    canvas_height = 2 * margin + int(height * 1.3)
    strength = np.zeros((canvas_height, width), np.float32)
    x, baseline = margin, margin + int(height * 1.15)
    for ink, gap in zip(written, [0] + gaps[1:]):
        x += gap
        y = baseline - ink.shape[0] + int(round(rng.uniform(-0.07, 0.07) * height))
        _place(strength, ink, max(0, y), max(0, x))
        x += ink.shape[1]
    left, right = margin, x
    top, bottom = baseline - int(height * 1.12), baseline
    thickness = max(1, int(height * rng.uniform(0.04, 0.08)))
    paper = _paper(canvas_height, width, rng, level=rng.uniform(0.8, 0.92), lighting=rng.uniform(0.0, 0.25))
    lines = np.zeros_like(strength)
    if clutter == "underline":
        row = bottom + int(height * rng.uniform(0.08, 0.25))
        lines[
            row : row + thickness,
            max(0, left - int(height * rng.uniform(0, 0.4))) : right + int(height * rng.uniform(0, 0.4)),
        ] = 1
    elif clutter == "box":
        pad = int(height * rng.uniform(0.25, 0.45))
        y0, y1, x0, x1 = (
            max(0, top - pad),
            min(canvas_height - thickness, bottom + pad),
            max(0, left - pad),
            min(width - thickness, right + pad),
        )
        lines[y0 : y0 + thickness, x0 : x1 + thickness] = lines[y1 : y1 + thickness, x0 : x1 + thickness] = 1
        lines[y0:y1, x0 : x0 + thickness] = lines[y0:y1, x1 : x1 + thickness] = 1
    elif clutter == "ruled":
        lines = _ruled(
            canvas_height, width, rng, height * rng.uniform(1.3, 1.7), bottom + int(height * 0.05)
        ) * rng.uniform(0.2, 0.35)
    elif clutter == "speck":
        _speck(strength, rng, height * rng.uniform(0.1, 0.25), (top, left, bottom, right))
    if clutter in ("underline", "box"):  # drawn with the same pen
        strength = np.maximum(strength, lines)
    else:
        paper = _render(paper, lines, 0.0)
    return _file(
        _render(paper, strength, rng.uniform(0.05, 0.2)), rng, tint=(0.6, 0.7, 1.0) if rng.random() < 0.3 else None
    )


def numbers(
    images: np.ndarray,
    labels: np.ndarray,
    count: int = 1000,
    seed: int = 0,
    lengths: tuple[int, int] = (2, 8),
    clutter_share: float = 0.5,
) -> list[RealisticNumber]:
    """`count` numbers of lengths in `lengths` (inclusive), digits drawn from the whole MNIST test set."""
    rng = np.random.default_rng(seed)
    made = []
    for index in range(count):
        length = int(rng.integers(lengths[0], lengths[1] + 1))
        chosen = rng.choice(len(images), size=length, replace=False)
        clutter = str(rng.choice(CLUTTER)) if rng.random() < clutter_share else ""
        suffix, data = number([images[i] for i in chosen], rng, clutter)
        label = "".join(str(int(labels[i])) for i in chosen)
        made.append(RealisticNumber(f"number-{index:04d}.{suffix}", data, label, clutter))
    return made


def marker_digit(digit: np.ndarray, height: int, pen: int) -> np.ndarray:
    """A digit in a fat marker: MNIST's strokes widened by a `pen`-pixel square (its 2-3 px
    become 4-7), cropped to the ink and scaled to `height` px; ink strength in [0, 1]."""
    wide = np.asarray(Image.fromarray(digit).filter(ImageFilter.MaxFilter(pen)))
    tight = Image.fromarray(_tight(wide))
    width = max(2, round(tight.width * height / tight.height))
    return np.asarray(tight.resize((width, height), Image.Resampling.BICUBIC), np.float32).clip(0, 255) / 255


def marker_row(digits: list[np.ndarray], height: int, pen: int, gap: int, margin: int) -> Image.Image:
    """Marker digits written in a row on light paper, `gap` px apart (negative: they touch),
    `margin` px of paper around them."""
    strokes = [marker_digit(digit, height, pen) for digit in digits]
    sheet = np.full((height + 2 * margin, sum(s.shape[1] + gap for s in strokes) - gap + 2 * margin), 235.0)
    x = margin
    for ink in strokes:
        area = sheet[margin : margin + height, x : x + ink.shape[1]]
        area[:] = area * (1 - ink) + 25 * ink
        x += ink.shape[1] + gap
    return Image.fromarray(sheet.astype(np.uint8))


def marker_numbers(images: np.ndarray, labels: np.ndarray, count: int = 300, seed: int = 0) -> list[RealisticNumber]:
    """`count` numbers of 2-5 digits in a fat marker (pen 3 or 5), every other one touching."""
    rng = np.random.default_rng(seed)
    made = []
    for index in range(count):
        chosen = rng.choice(len(images), size=int(rng.integers(2, 6)), replace=False)
        touching = index % 2 == 1
        image = marker_row(
            [images[i] for i in chosen],
            int(rng.integers(30, 100)),
            int(rng.choice([3, 5])),
            -int(rng.integers(1, 4)) if touching else int(rng.integers(4, 12)),
            int(rng.integers(3, 40)),
        )
        label = "".join(str(int(labels[i])) for i in chosen)
        kind = "marker-touching" if touching else "marker-apart"
        made.append(RealisticNumber(f"{kind}-{index:04d}.png", _encode(image, "PNG"), label))
    return made
