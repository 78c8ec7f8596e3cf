"""Turn what users actually have into the 28x28 image the model expects, the way MNIST was made.

The tutorial fed the model whatever the user gave it, so a digit that was not scaled and
centred like MNIST was misread. Every step below undoes one way a real image differs:

1. decode      any format Pillow reads; first frame of an animation; EXIF orientation
               applied; a declared size over MAX_PIXELS is refused before decoding
               (decompression bombs); large JPEGs decode at a reduced scale (fast), in
               YCbCr: its Y is the luminance, its colour there for `colour_axis`.
               numpy arrays: uint8 as is, other integers like a 16-bit file of the
               same values, floats in [0, 1] or [0, 255]; NaN or infinity is refused.
2. grayscale   any mode (RGB, RGBA, L, LA, P, I;16, CMYK, LAB, ...) to luminance in
               [0, 1]; 16-bit scaled, not clipped; transparency composited on white (on
               black when the opaque strokes are light, so light ink on a transparent
               canvas still shows). Hard-edged transparency over one key colour (a GIF or
               PNG-8 with a transparent index) is composited on that colour: it is the
               matte the anti-aliased fringe was blended against. Where ink and paper
               differ in hue only (red on green), luminance shows no ink: the number
               reader then looks along the colours' main axis of hue (`colour_axis`).
3. polarity    MNIST digits are white on black. The background is most of the image, so
               a median nearer the light end than the dark end means dark ink on paper
               (however dim the photo): invert. So does a page under a spot light whose
               fall-off darkens most of it, when block by block the paper is the light
               side of the strokes; a sheet on a darker desk that fills less than half
               the photo: a large light region with the darkest pixels, the ink, on it;
               a note or a card lying on a desk, whose shadow may be darker than the
               pen: the largest light part is a rectangle off the border that encloses a
               little dark (the writing), and the desk around it is painted over;
               and light paper around the image's border, which frames a fat marker's
               digit cropped tight (its ink is most of the image).
               A digit cropped to its ink's box may be mostly ink either way round: one
               part across the crop, cutting the paper into corners and loops, is ink;
               so is a ring round one round hole (a bold 0), though a coin or a badge
               is convex with what it encloses too.
4. background  uneven lighting and paper tint are estimated as a smooth surface (a grey
               opening at low resolution, wider than any stroke) and subtracted; what is
               left below an Otsu threshold is paper texture and set to black; strokes
               are stretched so the darkest ink becomes full white, like MNIST's. (The
               number reader also gets, apart, parts fainter than that threshold
               throughout, each cut and stretched at its own strength: a digit written
               lighter.) A second opening at full resolution, its window a few stroke
               widths, keeps the sharp edge of a shadow or of a sheet on a desk out of
               the ink.
               A marker's stroke wider than a window is background to it, its outline
               ink: what the outline encloses, as dark as the pen, is ink (and the
               coarse window is widened to the strokes). Where the ink fills the image,
               the background is the plane through the paper along its border (a
               digit cropped tight, dark or light). Ink along a side of the image from
               end to end, narrow and solid there (a whiteboard's frame, a scanner lid's
               shadow), is no writing: it leaves the ink, and when it was the strongest
               ink the grey image is painted over there and the step runs again.
5. find        the digits among the ink: connected components, with lines, frames,
               specks and the residue of desks, shadows and vignettes set aside, broken
               digits merged and touching ones cut (tegaki.runtime.segment; the
               number reader only: the one-digit reading takes all ink as one digit).
6. crop        each digit to its ink's bounding box (a sliver of stray specks at the edges
               trimmed); a hairline's strokes widened to MNIST's usual width.
7. scale       longest side to 20 px, aspect ratio kept, area-averaged (anti-aliased).
8. centre      pasted into 28x28 so the centre of mass sits at the centre.
9. scale       to float32 [0, 1] happens in tegaki.runtime.contract.to_model_input.

Steps 2 to 8 run on a working copy of at most WORK_SIDE² pixels (up to twice WORK_SIDE
across for a wide image: a number; the number reader looks again at twice WORK_SIDE when
the digits are only a few pixels tall there). An image with no ink (a blank page, a flat colour)
raises ImageError("no digit found"). Whatever goes wrong with one input, `preprocess` raises
ImageError (never another type), so a caller handling many images loses only the bad one.
"""

import contextlib
import io
import math
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from tegaki.runtime.connected import boxes, label
from tegaki.runtime.contract import IMAGE_SIZE
from tegaki.runtime.errors import ImageError, TegakiError, reason

ImageSource = str | Path | bytes | bytearray | memoryview | BinaryIO | Image.Image | np.ndarray

MAX_PIXELS = 50_000_000  # about 8,000 x 6,000: larger than any phone photo
WORK_SIDE = 256  # images are reduced to this longest side before the per-pixel steps
DIGIT_SIDE = 20  # MNIST: the digit's longest side inside the 28x28 frame
MIN_CONTRAST = 0.15  # ink must differ from the paper by this much of full scale ...
DIM_CONTRAST = 0.18  # ... or, when less, this much of the image's lightest level (a dim photo) ...
MIN_INK = 0.07  # ... but never less than this (a black frame's noise, a dim JPEG's blocks)
PEAK_PIXELS = 16  # the strongest ink is at least half of the 16th strongest pixel's (not a hot pixel's)
LIGHT = 0.35  # of the ink threshold: a part rising this high but mostly under it may be a lighter digit ...
LIGHT_AREA = 0.1  # ... when it is at least this share of the largest part's area (grain's clumps are specks)
LIGHT_PIXELS = 20  # ... and at least this many of its pixels lie beyond a pixel of stronger ink
LIGHT_PEAK = 0.2  # ... and its strength this much of the strongest ink's (fainter is a vignette's residue) ...
LIGHT_ABOVE = 0.3  # ... and less than this share of it is above the threshold (a pen's digit: over 0.6)
SHEET_LEVEL, SHEET_SHARE = 0.25, 0.25  # grid cells this near the lightest, this many: a sheet of paper ...
DESK_INK = 0.1  # ... when ink this much darker than the median (the desk) lies on it
NOTE_SHARE = 0.05  # a light rectangle off the border this much of the image (a note on a desk) ...
NOTE_WRITING = (0.005, 0.3)  # ... enclosing this share of itself (writing) ...
STRIP = 0.1  # of the image across: ink along a side from end to end no wider than this ...
STRIP_FULL = 0.9  # ... and along this share of the border is a frame's strip, painted over ...
STRIP_MARGIN = 5  # ... this many pixels across its blurred edge
RECTANGULAR = 0.85  # ... and filling this much of the smallest rectangle around it is paper
NOTE_EDGE = 5  # pixels: a window wider than the blur of its edge
FRAMED = 0.75  # share of the border's pixels on the light side: paper around dark ink that fills the image ...
RECTANGLE_SIDE = 0.9  # ... unless three sides of the dark are this full a tenth inside its box (a board, a screen) ...
CONVEX = 0.95  # ... or it fills this much of its convex hull (a thumb, a coin: 0.98; a marker's digit: 0.9) ...
FRAMED_HOLES = 0.06  # ... or light it encloses covers this much of its box (a light digit on a badge: 0.07-0.2)
TIGHT_SHARE = 0.8  # up to this share of the image, bold strokes cropped tight may be what the median is ...
TIGHT_MARGIN = 0.08  # ... when they reach this near two opposite sides (a crop at their faintest edge) ...
TIGHT_PIECE = 0.01  # ... in one part of this share of the image or more, and cut the paper into several ...
TIGHT_CONTRAST = 0.3  # ... each side mostly this far from the middle level, of half the range (not a light's gradient)
TIGHT_SHAPE_SIDE = 0.7  # ... and not three lines of the image, a margin inside its sides, this full (a bubble) ...
HOLE_ASPECT, HOLE_CONVEX = 2.5, 0.75  # ... nor convex with what it encloses, but for one round hole (a bold 0) ...
HOLE_SIDE = 0.2  # ... and this much of the ring across, both ways (a coin's centre hole, a badge's dot: less)
UNEVEN_BALANCE = 1.6  # a median not this much nearer the light end than the dark: a spot light's fall-off? ...
UNEVEN_BLOCKS = 4  # ... judged on this many blocks a side ...
UNEVEN_CONTRAST = 0.3  # ... of those spanning this share of the image's range (strokes in them) ...
UNEVEN_LIGHT = 1.0  # ... whose votes for light ink (in ranges) stay under this and half those for dark
BACKGROUND_GRID = 32  # the background is estimated on an image this many pixels across
BACKGROUND_WINDOW = 11  # opening window on that grid: wider than strokes, narrower than light changes
FINE_WINDOW = 0.125  # of the image's longest side: the least window of the full-resolution opening ...
STROKE_WINDOW = 3.0  # ... and this many stroke widths, so that no stroke fits inside (a marker's either)
WIDE_STROKE_LEVEL = 0.1  # a region is as strong as the pen when as light as the strongest ink's 10th percentile ...
WIDE_STROKE_RIM = 0.5  # ... and this share of the pixels around it is ink (a stroke's outline) ...
WIDE_STROKE_AREA = 0.004  # ... and it covers this share of the longest side squared (grain's specks: under 0.001) ...
SOLID = 0.75  # ... unless, filled in, its part would fill this much of its box, or be convex (a dark object)
TRIM = 0.002  # fraction of ink mass ignored at each edge of the bounding box
THIN_STROKE = 1.2  # frame pixels: strokes thinner than this (MNIST's thinnest 1%) are widened ...
MIN_STROKE = 2.2  # ... to about this (near MNIST's median)
COLOUR_SAMPLES = 20_000  # pixels enough to find an image's main axis of hue
DECODE_SCALE = "tegaki_decode_scale"  # info key: the file is this many times larger than the decoded image


def load_image(source: ImageSource) -> Image.Image:
    """Decode `source` (path, bytes, binary file, PIL image or numpy array) into a PIL image."""
    if isinstance(source, np.ndarray):
        return _from_array(source)
    prefix = f"{source}: " if isinstance(source, str | Path) else ""  # errors name paths
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(source)
    elif not isinstance(source, str | Path | Image.Image) and not hasattr(source, "read"):
        raise ImageError(
            f"cannot read a {type(source).__name__}: expected a path, bytes, a binary file, "
            "a PIL image or a numpy array"
        )
    try:
        # Pillow's own bomb check warns, then raises (DecompressionBombError) from twice its limit.
        # The warning is left to the host's filters: changing them here would not be thread-safe.
        image = source if isinstance(source, Image.Image) else Image.open(source)
        if image.width * image.height > MAX_PIXELS:
            raise ImageError(
                f"{prefix}{image.width}x{image.height} pixels is over the {MAX_PIXELS // 1_000_000} MP limit"
            )
        if image.format == "JPEG" and image is not source:  # decode at 1/2, 1/4 or 1/8 scale when that is plenty
            # YCbCr: its luminance as an "L" draft gives it, and the colour for `colour_axis`
            image.draft("YCbCr" if image.mode == "RGB" else image.mode, (2 * WORK_SIDE, 2 * WORK_SIDE))
            image.info[DECODE_SCALE] = image.decoderconfig[0] if image.decoderconfig else 1
        image.load()  # also a caller's lazily opened image: its decoding errors are ours to report
        return ImageOps.exif_transpose(image)
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"{prefix}no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{prefix}is a folder, not an image") from None
    except PermissionError:
        raise ImageError(f"{prefix}permission denied") from None
    except UnidentifiedImageError:
        raise ImageError(f"{prefix}not an image Pillow can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # the warning if the host made it an error
        raise ImageError(f"{prefix}declared size is over the decompression-bomb limit") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:  # truncated or corrupt data
        raise ImageError(f"{prefix}cannot decode ({str(error).strip() or type(error).__name__})") from None


def _from_array(array: np.ndarray) -> Image.Image:
    if array.dtype.kind not in "buif":
        raise ImageError(f"array of dtype {array.dtype} is not an image: expected numbers")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)) or min(array.shape[:2]) < 1:
        raise ImageError(f"array of shape {array.shape} is not an image (H, W), (H, W, 3) or (H, W, 4)")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ImageError("array holds NaN or infinite values")
    if array.ndim == 2 and array.dtype.kind in "iu" and array.dtype != np.uint8:
        # a 16- or 32-bit grey image, scaled by to_grayscale exactly as the same file would be
        return Image.fromarray(np.clip(array, 0, 65535).astype(np.uint16))
    if array.dtype != np.uint8:  # colour, floats or booleans: the value ranges to_grayscale knows
        values = np.asarray(array, dtype=np.float32)
        top = values.max(initial=0)
        scale = 255.0 if top <= 1.0 else 1.0 if top <= 255 else 255.0 / 65535
        array = np.clip(np.round(values * scale), 0, 255).astype(np.uint8)
    return Image.fromarray(array)


def to_grayscale(image: Image.Image) -> np.ndarray:
    """Luminance in [0, 1] as float32 (H, W), transparency composited (see module docs)."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float32)
        if not np.isfinite(values).all():
            raise ImageError("image holds NaN or infinite pixel values")
        top = 1.0 if values.max(initial=0) <= 1.0 else 255.0 if values.max() <= 255 else 65535.0
        return np.clip(values / top, 0.0, 1.0)
    if image.mode == "LAB":  # Pillow converts LAB to nothing else; its L is the lightness
        image = image.getchannel("L")
    elif image.mode == "La":  # premultiplied alpha: Pillow converts it only to LA
        image = image.convert("LA")
    has_alpha = image.mode in ("RGBA", "RGBa", "LA", "PA") or "transparency" in image.info
    if not has_alpha:
        return np.asarray(image if image.mode == "L" else image.convert("L"), dtype=np.float32) / 255.0
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    luminance = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    alpha = rgba[..., 3]
    opaque = alpha > 0.5
    if not opaque.any() or opaque.all():
        return luminance * alpha + (1.0 - alpha)
    key = _key_colour(luminance, alpha)
    if key is not None and np.abs(luminance[opaque] - key).max() > 0.5:
        backdrop = key  # the matte the strokes' fringe was blended against
    else:
        backdrop = 0.0 if np.median(luminance[opaque]) > 0.5 else 1.0
    return luminance * alpha + backdrop * (1.0 - alpha)


def colour_axis(image: Image.Image) -> np.ndarray | None:
    """The image's colours along their main axis of hue (across the grey axis: not brightness),
    on the same scale as luminance and never stretched: where ink and paper differ in hue but
    hardly in brightness (red on green), luminance shows no ink, and this does. None without
    colour (a grey mode, or transparency, which `to_grayscale` composites)."""
    if image.mode not in ("RGB", "P", "CMYK", "YCbCr") or "transparency" in image.info:
        return None
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32).reshape(-1, 3) / 255.0
    centred = rgb - rgb.mean(axis=0)
    grey = np.full(3, 3**-0.5, np.float32)
    hues = centred - np.outer(centred @ grey, grey)
    axis = np.linalg.svd(hues[:: max(1, len(hues) // COLOUR_SAMPLES)], full_matrices=False)[2][0]
    values = hues @ axis  # a unit axis: distances between colours kept
    return ((values - values.min()) / max(float(np.ptp(values)), 1.0)).reshape(image.height, image.width)


def _key_colour(luminance: np.ndarray, alpha: np.ndarray) -> float | None:
    """The luminance under every transparent pixel when transparency is hard-edged (alpha 0 or
    1 only) and all of it has one colour, as a palette's transparent index gives; else None."""
    if np.any((alpha > 0) & (alpha < 1)):
        return None
    hidden = luminance[alpha == 0]
    return float(hidden[0]) if np.ptp(hidden) == 0 else None


OTSU_BINS = 64
_OTSU_EDGES = np.linspace(0.0, 1.0, OTSU_BINS + 1)
_OTSU_CENTRES = (_OTSU_EDGES[:-1] + _OTSU_EDGES[1:]) / 2


def _otsu(values: np.ndarray) -> float:
    """The threshold that best splits `values` (in [0, 1]) into two classes."""
    histogram = np.bincount(
        np.minimum((values.ravel() * OTSU_BINS).astype(np.intp), OTSU_BINS - 1), minlength=OTSU_BINS
    )
    weights = histogram / values.size
    below = np.cumsum(weights)
    mass = np.cumsum(weights * _OTSU_CENTRES)
    spread = below * (1.0 - below)  # 0 where one class is empty: no split there
    between = np.full(OTSU_BINS, -1.0)
    np.divide((mass[-1] * below - mass) ** 2, spread, out=between, where=spread > 0)
    return float(_OTSU_EDGES[np.argmax(between[:-1]) + 1])


def quantile(values: np.ndarray, share: float) -> float:
    """The value `share` of the way up a non-empty array, without interpolation: a tenth of
    np.median's or np.percentile's cost on small arrays (this runs on every image)."""
    values = values.ravel()
    index = min(int(share * len(values)), len(values) - 1)
    return float(np.partition(values, index)[index])


def share(mask: np.ndarray) -> float:
    """The share of a bool array that is True: ndarray.mean's value at a tenth of its cost
    on the small masks asked of every image."""
    return np.count_nonzero(mask) / mask.size


def extreme_filter(values: np.ndarray, window: int, reduce: np.ufunc) -> np.ndarray:
    """Min or max (`reduce` is np.minimum or np.maximum) over a `window` square around each
    pixel: per axis, reductions over doubling spans (log2(window) slices, not `window`).
    Edges are replicated, so that a lighting gradient survives the opening right up to the
    border (Pillow's Min/MaxFilter would cut it short there)."""
    before, after = window // 2, (window - 1) // 2
    rows, cols = (np.minimum(np.maximum(np.arange(-before, n + after), 0), n - 1) for n in values.shape)
    padded = values[rows][:, cols]  # edge padding by indexing: np.pad costs more than the filter
    for size in values.shape:  # rows, then columns (transposed)
        span = 1
        while 2 * span <= window:  # padded[i] now reduces `span` pixels from i
            padded = reduce(padded[:-span], padded[span:])
            span *= 2
        padded = reduce(padded[:size], padded[window - span : window - span + size]).T
    return padded


def _opening(values: np.ndarray, window: int) -> np.ndarray:
    """Grey opening (min then max filter): what is narrower than `window` is removed."""
    return extreme_filter(extreme_filter(values, window, np.minimum), window, np.maximum)


def _stroke_width(mask: np.ndarray) -> float:
    """Mean width of the strokes in a bool mask: twice the area over the perimeter."""
    perimeter = np.count_nonzero(mask[1:] != mask[:-1]) + np.count_nonzero(mask[:, 1:] != mask[:, :-1])
    return 2.0 * np.count_nonzero(mask) / max(perimeter, 1)


def _ink_above(
    gray: np.ndarray, background: np.ndarray, lightest: float, floor: float = 0.0, light: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """What rises above the background, stretched so the strongest ink is 1, paper texture
    (below an Otsu threshold, and below `floor`) set to 0. `lightest`: the image's lightest
    level (a dim photo's paper is grey, and its ink as much darker in proportion). With
    `light`, also the ink of parts written lighter than the rest, apart (`_light_parts`)."""
    ink = np.maximum(gray - background, 0.0)  # at most 1: both lie in [0, 1]
    peak = quantile(ink, 0.999) if ink.size >= 1000 else float(ink.max())
    # a digit under 0.1 % of a big page (a phone photo's) leaves the quantile on paper: its
    # own few strongest pixels are the peak then
    strongest = min(PEAK_PIXELS, ink.size)
    peak = max(peak, 0.5 * float(np.partition(ink.ravel(), -strongest)[-strongest]))
    if peak < max(min(MIN_CONTRAST, DIM_CONTRAST * lightest), MIN_INK):
        raise ImageError("no digit found")
    ink = np.minimum(ink / peak, 1.0)
    threshold = max(_otsu(ink), floor)
    strong = ink >= threshold
    lighter = _light_parts(ink, strong, threshold) if light else None
    ink[~strong] = 0.0
    return ink, lighter


def _light_parts(ink: np.ndarray, strong: np.ndarray, threshold: float) -> np.ndarray | None:
    """The ink of parts fainter than the threshold, as it would be if each were the darkest
    ink of its image: cut at the threshold scaled to the part's own strength (its ink's 90th
    percentile) and stretched so that its strength is 1. A digit written lighter than its
    neighbours (a harder pencil, a pen running dry), which one threshold for the whole image
    takes for paper, is such a part: it rises to LIGHT of the threshold with little of it
    above (LIGHT_ABOVE), its strength is at least LIGHT_PEAK of the strongest ink (fainter
    is a vignette's residue), it is sizeable and away from the border."""
    weak = ink >= LIGHT * threshold
    # most images have none: only a stroke's soft edge lies between the two cuts, next to it
    if np.count_nonzero(weak) - np.count_nonzero(strong) < LIGHT_PIXELS:
        return None
    near = strong.copy()  # within a pixel of the stronger ink (shifts: half extreme_filter's cost)
    near[1:] |= strong[:-1]
    near[:-1] |= strong[1:]
    near[:, 1:] |= near[:, :-1]  # numpy buffers overlapping operands: the result is the 3x3 dilation
    near[:, :-1] |= near[:, 1:]
    if np.count_nonzero(weak & ~near) < LIGHT_PIXELS:
        return None
    labels, count = label(weak)
    if count < 2:
        return None
    # each part's strength: its ink's 90th percentile (a blot where the pen rested is not it)
    parts, values = labels[weak], ink[weak]
    order = np.lexsort((values, parts))
    starts = np.searchsorted(parts[order], np.arange(count + 2))
    areas = np.diff(starts)
    strengths = values[order][starts[:-1] + (0.9 * np.maximum(areas - 1, 0)).astype(np.intp)]
    above = np.bincount(labels[strong], minlength=count + 1)
    own = (areas >= LIGHT_AREA * areas.max()) & (above < LIGHT_ABOVE * areas) & (strengths >= LIGHT_PEAK)
    own[border_pixels(labels)] = False  # where the light's residue lies, in grain
    own[0] = False
    if not own.any():
        return None
    strength = strengths[labels]
    kept = own[labels] & (ink >= threshold * strength)
    return np.minimum(np.divide(ink, strength, out=np.zeros_like(ink), where=kept), 1.0)


def border_pixels(image: np.ndarray) -> np.ndarray:
    """The pixels along the four sides of an image, one flat array."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def _full_sides(mask: np.ndarray, inset_y: int, inset_x: int, least: float) -> int:
    """How many of the four lines `inset_y` rows and `inset_x` columns inside a bool mask's
    sides are at least `least` True: a shape's sides (a board, a bubble), not strokes."""
    lines = (mask[inset_y], mask[-1 - inset_y], mask[:, inset_x], mask[:, -1 - inset_x])
    return sum(share(line) >= least for line in lines)


def _paper_frames_ink(gray: np.ndarray, middle: float) -> bool:
    """Whether dark ink that fills most of the image (the median is dark) is framed by light
    paper: a bold marker's digit cropped tight (a light digit's strokes meet the border at a
    few points at most). A dark rectangle in a light frame is a board, a screen or a padded
    image: light ink. (`middle`: halfway between the darkest and the lightest level.)"""
    border = border_pixels(gray)
    if np.count_nonzero(border > middle) < FRAMED * border.size:
        return False  # a light digit on dark paper: the border is dark (count_nonzero: cheaper than mean)
    if np.count_nonzero(gray > middle) < SHEET_SHARE * gray.size:
        return False
    rows, cols = np.nonzero(gray <= middle)
    if rows.min() == 0 and rows.max() == gray.shape[0] - 1 or cols.min() == 0 and cols.max() == gray.shape[1] - 1:
        return False  # from border to border: a shadow, a desk, a band of light
    dark = gray[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1] <= middle
    if _full_sides(dark, max(1, dark.shape[0] // 10), max(1, dark.shape[1] // 10), RECTANGLE_SIDE) >= 3:
        return False
    # a solid shape (a thumb, a coin, a badge with its light digit) is convex, a marker's digit
    # is not; light inside the dark beyond a fat digit's loops is a light digit on a dark sign
    inside = enclosed(dark)
    return np.count_nonzero(inside) < FRAMED_HOLES * dark.size and convex_share(dark | inside) < CONVEX


def _cropped_tight(gray: np.ndarray, ink: np.ndarray, middle: float, spread: float) -> bool:
    """Whether `ink`, the side of the middle level that the median lies on (most of the image,
    so taken for paper), is bold strokes in a crop tight around them: one piece reaching
    across the image, on less of its border than the paper, which they cut into corners,
    sides and loops. Not a coin or a badge (convex with what it encloses), a speech bubble
    or a tag (full along three sides), a frame or a vignette (around the paper), nor light
    falling unevenly on paper (`middle` splits it: most of either side lies near `middle`;
    `spread`: lightest minus darkest)."""
    if min(ink.shape) < 3 or np.count_nonzero(ink) > TIGHT_SHARE * ink.size:
        return False  # (a line of pixels has no inside)
    border = border_pixels(ink)
    if np.count_nonzero(border) >= border.size / 2:
        return False  # the paper covers the border
    rows, cols = max(1, round(TIGHT_MARGIN * ink.shape[0])), max(1, round(TIGHT_MARGIN * ink.shape[1]))
    if not (ink[:rows].any() and ink[-rows:].any() or ink[:, :cols].any() and ink[:, -cols:].any()):
        return False  # a crop tight around the ink reaches across it one way at least (a 1: top to bottom)
    if _full_sides(ink, rows, cols, TIGHT_SHAPE_SIDE) >= 3:
        return False  # a speech bubble, a tag with its light digit
    for side in (gray[ink], gray[~ink]):
        if abs(quantile(side, 0.5) - middle) < TIGHT_CONTRAST * spread / 2:
            return False
    # inside the margin: where the ink stops short of the border, the paper joins around it
    paper, pieces = _large_parts(~ink[rows:-rows, cols:-cols])
    if len(_large_parts(ink)[1]) != 1 or len(pieces) < 2:
        return False
    sides = [np.isin(pieces, side) for side in (paper[0], paper[-1], paper[:, 0], paper[:, -1])]
    if np.logical_and.reduce(sides).any():
        return False  # a frame all around: the ink does not cut it
    if np.count_nonzero(np.logical_or.reduce(sides)) < 2:
        return False  # strokes across the image part the paper outside them; a sign holds its light digits
    corners = {paper[0, 0], paper[0, -1], paper[-1, 0], paper[-1, -1]}
    if len(corners) == 4 and corners <= set(pieces.tolist()):
        return False  # a corner of paper at every corner, apart: a vignette round a light middle
    inside = enclosed(ink)
    if convex_share(ink | inside) < CONVEX:
        return True
    # convex with what it encloses: a coin, a badge with its digit; or a bold 0, whose hole
    # is one round piece (a badge's light digit has strokes, a 1's bar is long) and not a pinhole
    holes, large = _large_parts(inside)
    if len(large) != 1:
        return False
    hole = holes == large[0]
    height, width = _cropped(hole).shape
    outer_height, outer_width = _cropped(ink).shape
    return (
        max(height, width) <= HOLE_ASPECT * min(height, width)
        and min(height / outer_height, width / outer_width) >= HOLE_SIDE
        and convex_share(hole) >= HOLE_CONVEX
    )


def _cropped(mask: np.ndarray) -> np.ndarray:
    """A bool mask cut to the box of its True pixels (it has some)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _large_parts(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels of a bool mask's connected parts, and those of the parts that cover TIGHT_PIECE
    of the image or more."""
    labels, count = label(mask)
    large = np.bincount(labels.ravel(), minlength=count + 1) >= TIGHT_PIECE * mask.size
    large[0] = False
    return labels, np.flatnonzero(large)


def enclosed(mask: np.ndarray) -> np.ndarray:
    """What a bool mask encloses: the parts of its complement that do not reach the border."""
    outside, _ = label(np.pad(~mask, 1, constant_values=True))
    return outside[1:-1, 1:-1] > 1  # label 1 is what reaches the border


def _hull(mask: np.ndarray) -> np.ndarray:
    """The corners of a bool mask's convex hull (x, y), counter-clockwise: the hull of its
    rows' ends, by Andrew's monotone chain."""
    rows = np.flatnonzero(mask.any(axis=1))
    left = mask[rows].argmax(axis=1)
    right = mask.shape[1] - mask[rows, ::-1].argmax(axis=1)
    corners = sorted({(int(x), int(y + dy)) for x, y in zip(np.r_[left, right], np.r_[rows, rows]) for dy in (0, 1)})

    def half(points: list[tuple[int, int]]) -> list[tuple[int, int]]:
        chain: list[tuple[int, int]] = []
        for x, y in points:
            while (
                len(chain) >= 2
                and (chain[-1][0] - chain[-2][0]) * (y - chain[-2][1])
                - (chain[-1][1] - chain[-2][1]) * (x - chain[-2][0])
                <= 0
            ):
                chain.pop()
            chain.append((x, y))
        return chain[:-1]

    return np.array(half(corners) + half(corners[::-1]), float)


def convex_share(mask: np.ndarray) -> float:
    """The share of its convex hull that a bool mask fills (the hull's area by the shoelace
    formula)."""
    hull = _hull(mask)
    area = 0.5 * abs(hull[:, 0] @ np.roll(hull[:, 1], 1) - hull[:, 1] @ np.roll(hull[:, 0], 1))
    return float(np.count_nonzero(mask)) / max(area, 1.0)


def rectangle_share(mask: np.ndarray) -> float:
    """The share of the smallest rectangle around it, at any angle, that a bool mask fills: one
    side of that rectangle lies along an edge of the convex hull."""
    hull = _hull(mask)
    edges = np.roll(hull, -1, axis=0) - hull
    angles = np.arctan2(edges[:, 1], edges[:, 0])
    cos, sin = np.cos(angles)[:, None], np.sin(angles)[:, None]
    along, across = cos * hull[:, 0] + sin * hull[:, 1], cos * hull[:, 1] - sin * hull[:, 0]
    areas = np.ptp(along, axis=1) * np.ptp(across, axis=1)
    return float(np.count_nonzero(mask)) / max(float(areas.min()), 1.0)


def _border_plane(gray: np.ndarray) -> np.ndarray:
    """The plane through the paper along the image's border (`gray` with light ink): where the
    ink fills most of the image, the light on the paper seen around it."""
    rows, cols = np.indices(gray.shape)
    values, y, x = border_pixels(gray), border_pixels(rows), border_pixels(cols)
    paper = values < (gray.min() + gray.max()) / 2
    design = np.column_stack([np.ones(np.count_nonzero(paper)), y[paper], x[paper]])
    a, b, c = np.linalg.lstsq(design, values[paper], rcond=None)[0]
    return (a + b * rows + c * cols).astype(np.float32)


def _darker_locally(gray: np.ndarray, spread: float) -> bool:
    """Whether, block by block, the ink lies below the paper: in each block with strokes in
    it, the median (the paper there) is nearer the block's light end. Under a spot light
    the page darkens towards its edges and the image's median says nothing. A light digit
    cropped tight has blocks inside its bold strokes that vote the other way, and its dark
    ground's blocks vote strongly for light ink."""
    dark = light = 0.0
    tops, lefts = (np.linspace(0, side, UNEVEN_BLOCKS + 1).astype(int) for side in gray.shape)
    for top, bottom in zip(tops[:-1], tops[1:]):
        for left, right in zip(lefts[:-1], lefts[1:]):
            block = gray[top:bottom, left:right]
            if not block.size:
                continue
            low, middle, high = quantile(block, 0.02), quantile(block, 0.5), quantile(block, 0.98)
            if high - low >= UNEVEN_CONTRAST * spread:
                vote = ((middle - low) - (high - middle)) / spread
                dark, light = dark + max(vote, 0.0), light + max(-vote, 0.0)
    return dark > 2 * light and light < UNEVEN_LIGHT


def _polarity(gray: np.ndarray, small: np.ndarray) -> tuple[str, np.ndarray | None]:
    """Step 3: "dark" ink on lighter paper, "dark framed" (dark ink filling most of the image, paper
    along its border), "light framed" (the same with light ink: a light digit cropped tight),
    "note" (dark ink on a light note lying on a darker desk) or "light" ink (`small`: `gray`
    on the coarse grid); and for a note, the mask of it."""
    # extremes, not percentiles: a thin digit on a big page can be under 1% of the pixels
    darkest, background, lightest = gray.min(), quantile(gray, 0.5), gray.max()
    middle, spread = (lightest + darkest) / 2, lightest - darkest
    if lightest - background < background - darkest:  # the paper is nearer the light end: dark ink
        return ("light framed" if _cropped_tight(gray, gray > middle, middle, spread) else "dark"), None
    if _paper_frames_ink(gray, middle) or _cropped_tight(gray, gray <= middle, middle, spread):
        return "dark framed", None
    if (
        lightest - background < UNEVEN_BALANCE * (background - darkest)
        and _darker_locally(gray, spread)
        and not _cropped_tight(gray, gray > middle, middle, spread)
    ):
        return "dark", None  # (a light digit cropped tight is light ink: its bold strokes vote dark)
    note = _note_on_desk(gray) if darkest < background else None  # (a flat dark ground holds no note)
    if note is not None:
        return "note", note
    # The median is the dark side. On a photo of a sheet of paper on a darker desk that is the
    # desk: then a large part of the grid is light (a light digit's strokes are thin, the grid
    # lies mostly between them), and the darkest pixels, the ink, are darker than the desk and
    # lie on or beside that light part (a light digit's darkest pixels are its dark background).
    if background - darkest < DESK_INK:
        return "light", None
    light = small > lightest - SHEET_LEVEL * (lightest - darkest)
    if np.count_nonzero(light) < SHEET_SHARE * small.size:
        return "light", None
    near_light = extreme_filter(light, 3, np.maximum)  # a stroke may fill its own cell: the sheet is beside it
    # the pixels as dark as the 16th darkest, all of them: which of equals np.argpartition
    # picks differs between CPUs (its x86 SIMD sort), and saturated ink is many equals
    darkest_pixels = min(PEAK_PIXELS, gray.size)
    level = np.partition(gray.ravel(), darkest_pixels - 1)[darkest_pixels - 1]
    rows, cols = np.nonzero(gray <= level)
    on_sheet = near_light[rows * small.shape[0] // gray.shape[0], cols * small.shape[1] // gray.shape[1]]
    return ("dark" if np.count_nonzero(on_sheet) > on_sheet.size / 2 else "light"), None


def _note_on_desk(gray: np.ndarray) -> np.ndarray | None:
    """A note, a card or a receipt lying inside the photo on a darker desk (a bool mask of it),
    or None: the largest light part is a rectangle (at any angle) off the border, and what
    it encloses, the writing, is a small share of it. The desk or the note's shadow may be
    darker than the pen, so the darkest pixels tell nothing; a light digit, however bold, is
    no rectangle with holes (a 0, a coin or a button is round; a bar is solid)."""
    # the note against the desk, whatever the light across it; opened, so that no thin light
    # thing on the desk (a key's letter, a cable) joins it
    light = extreme_filter(extreme_filter(gray > _otsu(gray), NOTE_EDGE, np.minimum), NOTE_EDGE, np.maximum)
    labels, count = label(light)
    if count == 0:
        return None
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    note = labels == sizes.argmax()
    if border_pixels(note).any():
        return None
    filled = note | enclosed(note)
    area = np.count_nonzero(filled)
    writing = (area - sizes.max()) / area
    if area < NOTE_SHARE * gray.size or not NOTE_WRITING[0] <= writing <= NOTE_WRITING[1]:
        return None
    if rectangle_share(filled) < RECTANGULAR:
        return None
    # the note is its hull: a digit written to its edge joins the desk's dark, but is on it
    hull = Image.new("1", (gray.shape[1], gray.shape[0]))
    ImageDraw.Draw(hull).polygon([tuple(corner) for corner in _hull(filled)], fill=1)
    return ~extreme_filter(~np.asarray(hull), NOTE_EDGE, np.maximum)  # less its blurred edge


def ink_map(gray: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """White-on-black ink strength in [0, 1] (H, W): steps 3 and 4 of the module docs; ink
    weaker than `floor` (of the strongest) is paper."""
    return _ink_maps(gray, floor, light=False)[0]


def ink_and_lighter(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """`ink_map`, and apart from it the ink of parts written lighter than the rest, which it
    takes for paper (zero elsewhere; None when there are none): the number reader's, which
    asks whether each is a digit (the one-digit reading takes all ink as one)."""
    return _ink_maps(gray, 0.0, light=True)


def _ink_maps(gray: np.ndarray, floor: float, light: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """`ink_map`'s steps; with `light`, also the lighter parts of its final cut. A strip of
    ink along a side from end to end (a whiteboard's frame, a scanner's lid) is no writing:
    it leaves the ink. When it is stronger than the writing, it also left the writing under
    the threshold: the grey image is painted over there with the paper's level and the
    steps run again."""
    ink, lighter = _ink_steps(gray, floor, light)
    strips = _side_strips(ink)
    if strips is None:
        return ink, lighter
    writing = ink[~strips & (ink > 0)]
    if writing.size and quantile(ink[strips], 0.5) <= quantile(writing, 0.99):
        # the writing is as strong as the strip: only the strip goes
        ink[strips] = 0.0
        if lighter is not None:
            lighter[strips] = 0.0
        return ink, lighter
    painted = np.where(extreme_filter(strips, STRIP_MARGIN, np.maximum), quantile(gray, 0.5), gray)
    return _ink_steps(painted.astype(np.float32), floor, light)


def _side_strips(ink: np.ndarray) -> np.ndarray | None:
    """The parts of the ink that run along a side of the image from end to end, no wider
    than STRIP of it across and solid along the border (STRIP_FULL); None when there are
    none. A digit cropped that tight fills the image across, and a 7's bar at the top of
    its crop is one part with its stem."""
    height, width = ink.shape
    if max(np.count_nonzero(line) / line.size for line in (ink[:, 0], ink[:, -1], ink[0], ink[-1])) < STRIP_FULL:
        return None  # the usual case, at the cost of four lines
    labels, count = label(ink > 0)
    left, top, right, bottom = boxes(labels, count).T
    upright = (top == 0) & (bottom == height) & (right - left <= STRIP * width)
    lying = (left == 0) & (right == width) & (bottom - top <= STRIP * height)
    strips = np.zeros(count + 1, bool)
    for line, across in ((labels[:, 0], upright), (labels[:, -1], upright), (labels[0], lying), (labels[-1], lying)):
        strips |= across & (np.bincount(line, minlength=count + 1) >= STRIP_FULL * line.size)
    strips[0] = False
    return strips[labels] if strips.any() else None


def _ink_steps(gray: np.ndarray, floor: float, light: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Steps 3 and 4 on a grey image (`_ink_maps`)."""
    height, width = gray.shape
    # Background, first pass: a grey opening on a coarse grid, wider than any stroke. It follows
    # smooth light, but blurs a sharp edge (a shadow's, a sheet's on a desk) into a band of "ink".
    scale = BACKGROUND_GRID / max(height, width)
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(gray).resize(small_size, Image.Resampling.BOX), dtype=np.float32)
    lightest = float(small.max())  # averaged over a cell: a glint or a hot pixel is not the paper
    polarity, note = _polarity(gray, small)
    if note is not None:
        # the desk around a note is no part of the page: it takes the note's paper level
        gray = np.where(note, gray, quantile(gray[note], 0.5)).astype(np.float32)
        small = np.asarray(Image.fromarray(gray).resize(small_size, Image.Resampling.BOX), dtype=np.float32)
        lightest, polarity = float(small.max()), "dark"
    if polarity in ("dark", "dark framed"):
        gray, small = 1.0 - gray, 1.0 - small

    def coarse_background(window: int) -> np.ndarray:
        opened = Image.fromarray(_opening(small, window))
        return np.asarray(opened.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)

    coarse = coarse_background(BACKGROUND_WINDOW)
    if polarity in ("dark framed", "light framed"):
        # no window fits between strokes that fill the image (a light one's too, or its "background"
        # rises into them and leaves scraps): the paper around them shows the light
        background = np.minimum(coarse, _border_plane(gray))
        ink, lighter = _ink_above(gray, background, lightest, floor, light)
        _fill_wide_strokes(gray, ink, background)
        return ink, lighter
    ink, lighter = _ink_above(gray, coarse, lightest, floor, light and scale >= 1)
    if _fill_wide_strokes(gray, ink, coarse):
        # a bold marker's strokes, wider than the coarse window: it lifted the background into
        # them and left their outline; widen it to a few stroke widths (the grey patches go too)
        cells = math.ceil((STROKE_WINDOW * _stroke_width(ink > 0) + 2) * min(scale, 1.0))
        if cells > BACKGROUND_WINDOW:
            coarse = coarse_background(min(cells, max(small.shape)))
            ink, lighter = _ink_above(gray, coarse, lightest, floor, light and scale >= 1)
            _fill_wide_strokes(gray, ink, coarse)
    if scale >= 1:  # the coarse grid was full resolution already: nothing was blurred
        return ink, lighter
    # Second pass, at full resolution: an opening that keeps such edges sharp. Its window must be
    # wider than the strokes, or it takes a marker's strokes for background: a few times the
    # strokes' width measured on the first pass, and never under FINE_WINDOW of the image.
    window = round(max(FINE_WINDOW * max(height, width), STROKE_WINDOW * _stroke_width(ink > 0) + 2))
    background = np.maximum(coarse, _opening(gray, window))
    ink, lighter = _ink_above(gray, background, lightest, floor, light)
    _fill_wide_strokes(gray, ink, background)
    return ink, lighter


def _fill_wide_strokes(gray: np.ndarray, ink: np.ndarray, background: np.ndarray) -> bool:
    """Set to full strength, in place, the inside of strokes wider than the background's window:
    a marker's stroke, or a loop it filled in, is taken for background there and only its
    outline is left. What is as strong as the pen's ink in `gray` (ink light) and enclosed by
    that outline (no path to the image's border, mostly ink around it, not a speck) is ink; a
    darker patch of paper is lighter than the pen or reaches the border (a vignette's corner,
    a desk), and grain's dark specks are small.
    Whether anything was filled. (`background`: what `ink` is above; flat, it rose nowhere.)"""
    sample = background[::4, ::4]  # a stroke's inside is larger than 4 px; a sixteenth of the cost
    if float(sample.max()) - float(sample.min()) < MIN_INK:
        return False
    strong = ink >= 0.5
    if not strong.any():
        return False
    candidates = ~strong & (gray >= quantile(gray[strong], WIDE_STROKE_LEVEL))
    smallest = WIDE_STROKE_AREA * max(ink.shape) ** 2
    if np.count_nonzero(candidates) < smallest:
        return False  # not even all of them together would be a stroke's inside
    labels, count = label(candidates)
    # the pixels around each candidate region: not candidates, next to one (its label)
    beside = np.where(candidates, 0, extreme_filter(labels, 3, np.maximum))
    around = np.bincount(beside.ravel(), minlength=count + 1)
    inked = np.bincount(beside.ravel(), weights=(ink > 0).ravel(), minlength=count + 1)
    # grain leaves dark specks between its clumps, a few pixels each; a stroke's inside is large
    large = np.bincount(labels.ravel(), minlength=count + 1) >= smallest
    surrounded = large & (inked >= WIDE_STROKE_RIM * np.maximum(around, 1))
    surrounded[border_pixels(labels)] = False
    surrounded[0] = False
    filled = surrounded[labels]
    if not filled.any():
        return False
    # filled in, a dark object (a thumb, a phone, a coin, a blot) is one solid or convex shape:
    # background, as the opening had it; a marker's digit keeps its strokes' shape
    parts, _ = label(filled | (ink > 0))
    for part in np.unique(parts[filled]):
        box = _cropped(parts == part)
        if share(box) > SOLID or convex_share(box) >= CONVEX:
            filled[parts == part] = False
    ink[filled] = 1.0
    return bool(filled.any())


def _bounds(profile: np.ndarray, total: float) -> tuple[int, int]:
    """First and last index of a projection, ignoring TRIM of its mass (`total`) at each end."""
    cumulative = np.cumsum(profile) / total
    return int(np.searchsorted(cumulative, TRIM, side="right")), int(np.searchsorted(cumulative, 1 - TRIM)) + 1


def _ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """Top, bottom, left, right of the ink (see _bounds); ImageError when there is none."""
    rows, cols = ink.sum(axis=1), ink.sum(axis=0)
    total = float(rows.sum())
    if total <= 0:
        raise ImageError("no digit found")
    return *_bounds(rows, total), *_bounds(cols, total)


def frame_digit(ink: np.ndarray) -> np.ndarray:
    """Crop, scale and centre the ink into MNIST's 28x28 uint8 frame: steps 6 to 8."""
    top, bottom, left, right = _ink_box(ink)
    factor = DIGIT_SIDE / max(bottom - top, right - left)
    # A hairline pen's strokes would end up under a pixel wide and faint in the frame; MNIST's
    # are 1-3.4 px (1st to 99th percentile). Widen them to about MIN_STROKE first.
    strokes = np.zeros((bottom - top + 2, right - left + 2), bool)  # a blank rim: edges count as perimeter
    strokes[1:-1, 1:-1] = ink[top:bottom, left:right] > 0.5
    width = _stroke_width(strokes) * factor
    window = round((MIN_STROKE - width) / factor) + 1
    if width < THIN_STROKE and window >= 2:
        ink = extreme_filter(np.pad(ink, window), window, np.maximum)
        top, bottom, left, right = _ink_box(ink)
        # the widened ink's box may take in a faint part the first one trimmed: still fit the frame
        factor = min(factor, IMAGE_SIZE / max(bottom - top, right - left))
    crop = Image.fromarray(np.round(ink[top:bottom, left:right] * 255).astype(np.uint8))
    size = (max(1, round(crop.width * factor)), max(1, round(crop.height * factor)))
    resample = Image.Resampling.BOX if factor < 1 else Image.Resampling.BILINEAR
    digit = np.asarray(crop.resize(size, resample))
    rows, cols = digit.sum(axis=1, dtype=np.int64), digit.sum(axis=0, dtype=np.int64)
    mass = int(rows.sum())
    if mass <= 0:
        raise ImageError("no digit found")
    centre = IMAGE_SIZE / 2
    # MNIST put the centre of mass on pixel (14, 14): matching its convention is worth 0.5 points
    y = min(max(round(centre - rows @ np.arange(len(rows)) / mass), 0), IMAGE_SIZE - digit.shape[0])
    x = min(max(round(centre - cols @ np.arange(len(cols)) / mass), 0), IMAGE_SIZE - digit.shape[1])
    frame = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    frame[y : y + digit.shape[0], x : x + digit.shape[1]] = digit
    return frame


@contextlib.contextmanager
def errors_of(source: ImageSource) -> Iterator[None]:
    """Whatever goes wrong inside the block is `source`'s ImageError, never another type: a
    case the steps do not foresee still costs only this input."""
    try:
        yield
    except TegakiError:  # ImageError, or a ModelError from a model consulted on the way
        raise
    except Exception as error:
        prefix = f"{source}: " if isinstance(source, str | Path) else ""
        raise ImageError(f"{prefix}cannot process ({type(error).__name__}: {reason(error)})") from error


def preprocess(source: ImageSource) -> np.ndarray:
    """Any image to MNIST's uint8 (28, 28), white digit on black; raises ImageError."""
    with errors_of(source):
        return digit_from_image(load_image(source))


def digit_from_image(image: Image.Image) -> np.ndarray:
    """Steps 2 to 8 on a decoded image, all ink taken as one digit."""
    return frame_digit(ink_map(to_grayscale(working_image(image))))


def working_image(image: Image.Image, side: int = WORK_SIDE) -> Image.Image:
    """The image reduced to at most `side`² pixels (a wide one, a number, keeps up to twice
    `side` across); a new image: the caller's is left as it was."""
    if image.width * image.height < 4:
        raise ImageError(f"a {image.width}x{image.height} image is too small to hold a digit")
    scale = min(side / (image.width * image.height) ** 0.5, 2 * side / max(image.size))
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BOX)
    return image
