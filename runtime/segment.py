"""Find the digits in an ink map: connected components, not one bounding box.

One box around all ink fails as soon as the page holds anything else: the residue of a
vignette, a desk or a shadow along the borders, a ruled line, a speck. Here the ink is
split into 8-connected components and each is judged by its shape against the digits
beside it:

1. label       components of the ink (runs per row joined by union-find: numpy only);
               specks under 1 % of the largest area inside the image dropped at once;
               among many specks of one size (noise), only what stands out is kept:
               in area, or, among the letters of a page of print, in height.
               Ink all along the border around one convex shape that is not ink is the
               paper around an object filling the photo (a coin): no digit.
2. reference   the digit height: the heaviest component that does not touch the border,
               is digit-sized, not much wider than a pair of digits, does not enclose
               others (all of them when every component touches the border: a tight crop),
               is no blot (ink filling its box without a loop: spilled, not written; or
               a convex outline around letters side by side: a printed logo) and
               holds no five lines across the image (a dark-ruled page taken for ink).
3. lines       a component wider or taller than a digit, one enclosing others or a
               hollow box (a frame) loses its straight lines (runs longer than any digit
               stroke, rows or columns almost full of ink: underlines, ruled lines,
               frames) and is split up again; flat parts side by side that span more
               than a digit, or that are far fainter than the pen (a faint ruled line's
               stubs beside the digits it crosses), are a line too. Thin ink all around
               a digit, clear of it above and below, with no such line, not at the
               border, is a ring drawn round it, and goes. A narrow part taller
               than the reference digit but no taller than the tallest digit on its line
               allows is a tall 1's stem, not a ruled line.
4. reject      what touches the image border and is not digit-sized (the paper's edge on
               a desk, a shadow's edge, vignette corners); long thin lines left over.
5. merge       parts of one digit (a 5's cap, a 4 in two strokes, a faint joint): parts
               mostly above one another, two small strokes along one line whose ink
               nearly touches and that together are digit-tall (a slanted 1 broken corner
               to corner), and small parts close beside a digit; a small round dot is a
               speck, never a part.
6. specks      groups much smaller than the reference height dropped, and those off the
               reference digit's line: the line is followed from digit to digit (a number
               written uphill or along a curve), each sharing some rows with a neighbour
               about as tall, not at the border; ghosts (a fifth of
               the pen's strength: a vignette's residue) dropped anywhere, and at the
               border groups much fainter than the reference digit (a shadow's or a
               desk's residue: a pen's stroke is dark at its core).
6b. lighter    a digit written far lighter than the rest (a harder pencil, a pen running
               dry) is below the ink threshold of the whole image; the ink map gives such
               parts apart, each cut and stretched at its own strength (`ink_and_lighter`).
               One that is as tall as the reference digit, on its line, beside the digits
               found (not a faint piece of one, not around or inside something) and as
               sharp as the rest (not showing through the page) is a digit, if the reader
               reads it surely (not an erasure, a tick or a printed sign).
7. split       a group much wider than a digit is cut along the low points of its column
               profile; the option whose pieces the model more likely reads right is kept
               (see `split_wide`). A blot is never cut: its slices would read as 1s.
7b. join      neighbours whose ink nearly touches, one of them too short for a digit,
               are one digit (see `join_broken`) when the model reads them together as a
               digit neither reads alone, surer than of either (a 6's stem beside its loop:
               "1" and "0"), or they lie one above the other (a slanted 1 broken across).
               A short digit beside its neighbour (a small 1 by a 7), which joined reads
               as that neighbour, stays apart. Touching pieces are a cut's, already weighed.
8. plausible   a group with many loops (a scribble) or pinholes (noise), or one that fills
               its box without a loop (a blot) is marked implausible: the reader reports
               it as unreadable. Pinholes in a thick stroke are not loops, and the
               finest (grain's pricks in a bold stroke, a pixel or two) are not noise.
               So is a straight stroke lying flatter than any 1 leans (a dash of a
               dashed line, hatching), whatever the model reads (`lies_flat`).
9. edges       a group with paper of one level on one side and another (or a band of
               "ink": the desk) on the other is a piece of a sheet's or a shadow's edge,
               not a 1 (`on_an_edge`, on the grey image the ink came from), unless its
               strokes go beyond both levels: a pen's, on paper whose light changes across
               it (a tight crop of lit paper), where the edge's residue lies between them.
10. shading    a group that rises above the plane of the paper around it by less than six
               times the grain (its deviation from that plane, or between neighbouring
               pixels), or, lying along the border, by less than twice that plane's
               change across it, is clumped grain or residue of smooth light (a gradient
               the background step cut short at the border, a vignette's corner).

Everything works on the preprocessing's working image (a few hundred pixels across).
`find_digits` makes it from a decoded image and runs the steps; when the digits found there
are only a few pixels tall (a digit photographed from afar), or none stood out, it looks
again at twice the resolution, and when they are still tiny there, at four times. When no
ink stood out at all, it looks along the image's hue instead of its brightness.
"""

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
from PIL import Image

from tegaki.runtime.connected import boxes, label, runs
from tegaki.runtime.contract import IMAGE_SIZE
from tegaki.runtime.errors import ImageError
from tegaki.runtime.preprocessing import (
    CONVEX,
    WORK_SIDE,
    border_pixels,
    colour_axis,
    convex_share,
    enclosed,
    extreme_filter,
    ink_and_lighter,
    ink_map,
    quantile,
    share,
    to_grayscale,
    working_image,
)

SPECK_AREA = 0.01  # of the largest component's area: dropped before anything else
MANY_PARTS = 40  # more components than this is a noisy page: a number with its clutter has a few dozen ...
STANDS_OUT = 15  # ... where a digit's area is at least this many times the median component's ...
STANDS_TALL = 4  # ... or, among no more than PRINT_PARTS (a page of print), its height this many times ...
PRINT_HEIGHT, PRINT_PARTS = 4, 500  # ... the median's, taken as at least this many pixels (grain's: 1-2 px) ...
PEN_AREA = 3  # ... and its area this many times its height (grain's strands and a grid's pieces: 1-2) ...
PRINT_TALLEST = 0.25  # ... and no taller than this share of the image
MAX_PARTS = 150  # ... and only the largest are kept
SPECK_HEIGHT = 0.5  # of the reference height: a group less tall is a speck, a dash or a line's remnant
LINE_OVERLAP = 0.5  # of its height: a digit shares at least this many rows with the reference digit
LINE_GAP = 1.0  # reference heights: ... or a digit on its line this close beside it (a sloped line) ...
LINE_FOLLOW = 0.4  # ... shares this many of the shorter one's rows, and is at least ...
LINE_SIZE = 0.7  # ... this many times as tall as the other
MIN_SIDE, MIN_SIDE_SHARE = 6, 0.03  # pixels, share of the image's longest side: smaller is a speck
WIDE = 2.2  # a component wider than this many reference heights is more than a pair of digits
TALL = 1.5  # ... taller than this many is not a digit
STEM = 0.5  # of its height: a part no wider than this is a stem, not a box or a blob
LONG_RUN_H = 1.6  # a horizontal run longer than this many reference heights is a ruled line or frame
LONG_RUN_V = 1.3  # ... a vertical one
LINE_WIDE = 1.6  # reference heights: a component this wide may hold a line (an underline under two digits)
RING_SHARE = 0.25  # of its box: ink around a digit no fuller than this, no box, is a ring drawn round it ...
RING_ROOM = 0.1  # ... when it clears the digit by this much of its height above and below ...
RING_SIDES = 7  # ... and lies in this many of the eight directions from its centre, ...
RING_RUN = 2.0  # ... with no straight run longer than this many reference heights (a form's grid)
FRAME_FILL, FRAME_HOLLOW = 0.9, 0.5  # outermost rows and columns this full, the whole at most this: a frame ...
FRAME_SIDE = 0.8  # ... whose sides, runs this long for its width (height), are lines however short
LINE_FILL = 0.7  # a row (column) of such a component this full of ink is a line
RULED = 5  # lines across the image in one part: a ruled page, not a digit (the reference digit's choice)
FLAT = 0.15  # reference heights: a part no taller than this and wider than it is tall ...
FLAT_LINE = 1.0  # ... is a line (or a faint line's fragment) when such parts side by side span this many
FAINT_LINE = 0.6  # of the pen's and the nearest digit's strength: such parts side by side this faint are a line's
BORDER_SIZE = (0.6, 1.3)  # heights, in reference heights, of a digit that touches the border
MERGE_OVERLAP = 0.5  # of the narrower part's width: parts this much above one another are one digit
MERGE_GAP = 0.4  # reference heights: ... when no further apart vertically than this
ATTACH_GAP = 0.2  # reference heights: a part less tall than a digit this close to one belongs to it
DOT_ASPECT, DOT_FILL = 1.6, 0.6  # a small part no longer than this for its width and this full is a dot
SPLIT_ASPECT = 1.05  # width / height above which a group may be two touching digits
NARROW_ASPECT = 0.75  # ... or, down to this, a digit with a 1 glued to it ("71", "91")
NECK = 0.2  # of its height: such a group is cut only where a column holds less ink (a touch, not a stroke)
NARROW_SURE = 0.9  # and only when the model is this sure of both pieces together (product)
SPLIT_WHOLE = 1.6  # reference heights: a group wider than this is never one digit
JOIN_GAP = 0.1  # reference heights: parts whose ink comes this close may be one digit broken apart ...
JOIN_SHORT = 0.75  # ... when one is less tall than this many (a piece, not a digit) ...
JOIN_WIDTH = 1.5  # ... and together no wider than this many of their height (or the reference's)
JOIN_SURE = 0.8  # the model's least confidence in a digit joined from parts
JOIN_STACKED = 0.3  # of the shorter part's height: parts sharing fewer rows lie one above the other
IN_LINE = 15  # degrees: two small parts this close to the line between them are halves of a stroke ...
LINE_ELONGATED = 2.0  # ... when each is this many times longer than wide
SPLIT_HEIGHT = 0.7  # of the reference height: each piece of a cut must be this tall (not a tail)
MAX_HOLES = 3  # an 8 has two; scribbles have many
PINHOLES = 8  # more holes than this is noise ...
PINHOLE_AREA = 0.0005  # ... counting those of this share of the height squared (grain pricks a bold stroke finer)
LOOP_AREA = 0.005  # of the height squared: a smaller hole is a pinhole in a thick stroke, not a loop
ONE_LEAN = 55  # degrees from upright: MNIST's 1s lean up to 48 (99.9th percentile), a 1 on a sloped line 47 ...
STRAIGHT = 5.0  # ... and a stroke this many times longer than wide (its ink's second moments) is no digit
SOLID_BOX = 0.4  # of its box: ink filling less of it is strokes (most digits: 0.2-0.5) ...
SOLID_INK, SOLID_HULL = 0.85, 0.9  # ... ink filling this much of its outline, this convex, is an object ...
SIDE_BY_SIDE = 0.5  # ... when two of its holes share this much of the shorter's rows (letters, not loops)
MAX_FILL = 0.75  # fraction of its box a group may fill: more is a blot, not strokes (unless it has a loop: a thick 0)
FAINT = 0.7  # of the reference digit's stroke strength: fainter at the border is not the same pen's ink
LIGHT_HEIGHT = (0.6, 1.3)  # reference heights of a digit written lighter than the rest (a faint piece of one: less)
LIGHT_OVERLAP = 0.5  # of its width: a lighter part this much above or below a digit found belongs to it
LIGHT_SHARP = 0.75  # of the reference digit's edge sharpness: a blurred lighter part shows through the page
LIGHT_SURE = 0.8  # the model's least confidence in a lighter digit: less is a mark (a ghost, an erasure), no digit
GHOST = 0.2  # ... and fainter anywhere is a vignette's or a shadow's residue (0.1; a digit half as dark: 0.5)
SMALL_DIGIT = 12  # working-image pixels: digits this short are looked for again at twice the resolution ...
MAX_CLOSER, TINY_DIGIT = 4, 10  # ... and, still nothing or only this short there, at four times (1024² px at most)
PAGE_SHARE = 0.8  # ... and so are groups this much of the image's width and height (the page taken for ink)
TEXTURE_MARGIN = 2  # ... where a digit stands this many times what else darkens the paper around it (squares: 1)
EDGE_STEP = 0.15  # paper levels either side of a group that differ this much: the group is an edge
EDGE_INK = 0.9  # ... or one side this much "ink" (a desk, a shadow) and the other mostly paper
RELIEF = 2  # along the border, a group must rise above the paper's plane this many times its change ...
NOISE_MARGIN = 6  # ... and anywhere this many times the grain (noise clumps: 3-5)
CLUMPED = 3  # grain in clumps lies this many times its neighbours' difference off the plane (blur 1.2 px: 2.5)
ALONG_BORDER = 0.5  # a group lies along the border when this share of its box's side there is ink
PLANE_SAMPLES = 400  # paper pixels enough to fit that plane
OBJECT_BORDER = 0.6  # of the border's pixels: ink along this much of it (a coin's corners: 0.84-0.94) ...
OBJECT_CORNERS = 0.1  # ... and over this much of the image, around one convex part ...
OBJECT_SHARE = 0.95  # ... that holds this much of what is not ink, is the paper around an object


_MOMENTS = np.arange(IMAGE_SIZE, dtype=np.float32) ** np.arange(3, dtype=np.float32)[:, None]  # 1, row, row²


@dataclass(frozen=True)
class Component:
    """A group of ink pixels taken for one digit, in working-image pixels."""

    box: tuple[int, int, int, int]  # left, top, right, bottom (exclusive)
    mask: np.ndarray  # bool (bottom - top, right - left): which pixels in the box are its ink
    pieces: int | None = 1  # 8-connected components in the mask; None: counted when needed
    lighter: bool = False  # written far lighter than the rest (step 6b): a digit only if read surely

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    def ink(self, ink: np.ndarray) -> np.ndarray:
        """The ink map cut to the box, with other components' ink removed."""
        left, top, right, bottom = self.box
        return ink[top:bottom, left:right] * self.mask

    def plausible(self) -> bool:
        """Shape of a digit: few loops, strokes rather than a filled blot."""
        holes = _holes(self.mask, self.piece_count())
        full = self._full()
        if full or holes > MAX_HOLES:  # rare: only then are the holes measured
            areas = _hole_areas(self.mask)
            if np.count_nonzero(areas >= PINHOLE_AREA) > PINHOLES:
                return False
            holes = int(np.count_nonzero(areas >= LOOP_AREA))
        return not (full and holes == 0) and holes <= MAX_HOLES and not self._solid()

    def blot(self) -> bool:
        """Ink that fills its box without a loop (spilled), or a convex outline around letters
        side by side (a printed logo): not written."""
        return self._full() and not np.any(_hole_areas(self.mask) >= LOOP_AREA) or self._solid()

    def _solid(self) -> bool:
        """Whether the ink fills a convex outline but for holes side by side (a logo and its
        letters): strokes leave most of theirs empty, a bold digit's loops lie alone (0, 6,
        9) or one above the other (8), and a fat marker may fill them (a thick 1 is narrow)."""
        if share(self.mask) < SOLID_BOX or self.width <= 0.6 * self.height or _holes(self.mask, self.piece_count()) < 2:
            return False  # strokes, a thick 1, or fewer than two holes: most groups end here
        inside = enclosed(self.mask)
        outline = self.mask | inside
        if np.count_nonzero(self.mask) < SOLID_INK * np.count_nonzero(outline) or convex_share(outline) < SOLID_HULL:
            return False
        loops = [
            hole for hole in _components(*label(inside)) if np.count_nonzero(hole.mask) >= LOOP_AREA * self.height**2
        ]
        return any(
            _shared_rows(a, b) >= SIDE_BY_SIDE * min(a.height, b.height) and _shared_columns(a, b) <= 0
            for i, a in enumerate(loops)
            for b in loops[i + 1 :]
        )

    def _full(self) -> bool:
        return share(self.mask) > MAX_FILL and self.width > 0.6 * self.height  # a thick 1 fills its box

    def piece_count(self) -> int:
        return self.pieces if self.pieces is not None else label(self.mask)[1]


def lies_flat(frame: np.ndarray) -> bool:
    """Whether a framed group (28x28) is a straight stroke, STRAIGHT times longer than wide,
    leaning more than ONE_LEAN from upright: the model may read a dash as a 1 or a 2, but no
    digit is one (none of MNIST's 60,000 training digits). Framing keeps the aspect ratio,
    so the angle holds."""
    if np.count_nonzero(frame.any(axis=0)) <= np.count_nonzero(frame.any(axis=1)):
        return False  # such a stroke is wider than tall: most digits end here
    moments = _MOMENTS @ frame.astype(np.float32) @ _MOMENTS.T  # [p, q]: the sum of row^p col^q ink
    total = float(moments[0, 0])
    (_, x, xx), (y, xy, _), (yy, _, _) = (moments / total).tolist()
    var_x, var_y, covariance = xx - x * x, yy - y * y, xy - x * y
    # the longer axis's angle from the horizontal; the two axes' squared lengths: half ± spread
    angle = 0.5 * math.degrees(math.atan2(2 * covariance, var_x - var_y))
    half, spread = (var_x + var_y) / 2, math.hypot((var_x - var_y) / 2, covariance)
    return 90 - abs(angle) > ONE_LEAN and half + spread >= STRAIGHT**2 * max(half - spread, 1e-9)


# Gray's bit quads: each 2x2 window's pattern (1 a + 2 b + 4 c + 8 d for a b / c d) weighed so that
# the sum over the image is 4 x the 8-connected Euler number: +1 one pixel, -1 three, -2 a diagonal pair
_QUAD_WEIGHTS = np.zeros(16, np.int64)
_QUAD_WEIGHTS[[1, 2, 4, 8]], _QUAD_WEIGHTS[[7, 11, 13, 14]], _QUAD_WEIGHTS[[6, 9]] = 1, -1, -2


def _holes(mask: np.ndarray, pieces: int) -> int:
    """Holes in a bool mask of `pieces` components: pieces minus its Euler number."""
    padded = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), np.uint8)
    padded[1:-1, 1:-1] = mask
    quads = padded[:-1, :-1] + 2 * padded[:-1, 1:] + 4 * padded[1:, :-1] + 8 * padded[1:, 1:]
    return pieces - int(np.bincount(quads.ravel(), minlength=16) @ _QUAD_WEIGHTS) // 4


def _hole_areas(mask: np.ndarray) -> np.ndarray:
    """The areas of a bool mask's holes, as shares of its height squared."""
    padded = np.ones((mask.shape[0] + 2, mask.shape[1] + 2), bool)
    padded[1:-1, 1:-1] = ~mask
    labels, _ = label(padded)  # 8-connected: diagonal pinholes merge, which only undercounts them
    return np.bincount(labels.ravel())[2:] / mask.shape[0] ** 2  # 0 is ink, 1 the outside (holds the first pixel)


def _without_lines(mask: np.ndarray, longest_h: float, longest_v: float) -> np.ndarray:
    """`mask` without its straight lines: runs longer than the limits, and rows (columns) whose
    ink spans most of the mask's width (height) even where a faint line broke into pieces."""
    kept = mask.copy()
    for view, longest in ((kept, longest_h), (kept.T, longest_v)):
        rows, starts, ends = runs(view)
        for row, start, end in zip(*(arr[ends - starts > longest] for arr in (rows, starts, ends))):
            view[row, start:end] = False
        if view.shape[1] > longest:
            fill = mask.T.sum(axis=1) if view is not kept else mask.sum(axis=1)
            line = fill >= LINE_FILL * view.shape[1]
            line[1:] |= line[:-1] & (fill[1:] >= LINE_FILL / 2 * view.shape[1])  # a line's soft edges
            line[:-1] |= line[1:] & (fill[:-1] >= LINE_FILL / 2 * view.shape[1])
            view[line] = False
    return kept


def _straight(mask: np.ndarray, longest_h: float, longest_v: float) -> bool:
    """Whether `mask` holds a run longer than the limits: a line (a form's grid, an underline)."""
    return any(
        len(starts) and int((ends - starts).max()) > longest
        for (_, starts, ends), longest in ((runs(mask), longest_h), (runs(mask.T), longest_v))
    )


def _framed(mask: np.ndarray) -> bool:
    """A rectangle's outline: ink along all four sides of the box, hollow (a digit's box touches
    its ink at a few points, a 0 rounds its corners, a thick 1 that fills its box is solid)."""
    rows, cols = mask.sum(axis=1) / mask.shape[1], mask.sum(axis=0) / mask.shape[0]
    k = max(1, min(mask.shape) // 8)
    sides = min(rows[:k].max(), rows[-k:].max(), cols[:k].max(), cols[-k:].max())
    return sides >= FRAME_FILL and share(mask) <= FRAME_HOLLOW


def _without_flat_lines(parts: list[Component], reference: float, ink: np.ndarray, pen: float) -> list[Component]:
    """`parts` without lines too short to strip as one component: an underline under two
    digits, a faint ruled line broken into dashes. Flat parts that share rows and together
    span more than a digit are a line; a 5's cap or a 7's bar alone is narrower. So are two or
    more side by side, far fainter than the pen and than the digit nearest each, one of them
    in a gap between digits, however short: what is left of a faint ruled line beside the
    digits it crosses, which would join them (its fragments are 0.4 of the pen, a digit's
    flat stroke 0.6 or more of its own, and above or below its body)."""
    is_flat = [p.height <= FLAT * reference and p.width >= 2 * p.height for p in parts]
    flat = [p for p, f in zip(parts, is_flat) if f]
    others = [p for p, f in zip(parts, is_flat) if not f]

    def faint_beside_its_digit(p: Component) -> bool:
        # against the nearest digit too: a light digit's own bar, broken by a pencil's skip,
        # is as strong as the rest of that digit
        strength = _strength(p, ink)
        if strength >= FAINT_LINE * pen:
            return False
        nearest = min(others, key=lambda q: _gap(p, q), default=None)
        return nearest is None or strength < FAINT_LINE * _strength(nearest, ink)

    faint = [p for p in flat if faint_beside_its_digit(p)]

    def in_a_gap(p: Component) -> bool:
        # mostly beside the digits, not above or below one: a stub, not a digit's own bar
        covered = max((_shared_columns(p, q) for q in others), default=0)
        return covered < p.width / 2

    def beside(p: Component, among: list[Component]) -> list[Component]:
        return [q for q in among if q.box[1] < p.box[3] and p.box[1] < q.box[3]]

    # a faint line's stubs: two or more side by side, one of them in a gap between digits
    stubs = {id(p) for p in faint if len(row := beside(p, faint)) >= 2 and any(in_a_gap(q) for q in row)}
    line = {id(p) for p in flat if sum(q.width for q in beside(p, flat)) >= FLAT_LINE * reference} | stubs
    return [p for p in parts if id(p) not in line]


def _components(labels: np.ndarray, count: int) -> list[Component]:
    """One Component per label, in label order."""
    if count == 1:  # one component (most one-digit images): its box is the ink's
        rows, cols = np.flatnonzero(labels.any(axis=1)), np.flatnonzero(labels.any(axis=0))
        box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
        return [Component(box, labels[box[1] : box[3], box[0] : box[2]] > 0)]
    found = []
    for n, (left, top, right, bottom) in enumerate(boxes(labels, count)[1:].tolist(), start=1):
        found.append(Component((left, top, right, bottom), labels[top:bottom, left:right] == n))
    return found


def _encloses(outer: Component, inner: Component) -> bool:
    (l1, t1, r1, b1), (l2, t2, r2, b2) = outer.box, inner.box
    return l1 < l2 and t1 < t2 and r2 < r1 and b2 < b1 and inner.height >= 0.3 * outer.height


def _ringed(outer: Component, inner: Component) -> bool:
    """`outer`, which encloses `inner`, lies all around it: with room above and below it (an
    underline that a digit touches reaches no higher than that digit's top), and its ink met
    in nearly every one of eight directions from `inner`'s centre (an open ring's gap is one;
    a 5's tail over a mark beside it is not around it)."""
    room = RING_ROOM * inner.height
    if outer.box[1] + room > inner.box[1] or inner.box[3] + room > outer.box[3]:
        return False
    y = (inner.box[1] + inner.box[3]) // 2 - outer.box[1]
    x = (inner.box[0] + inner.box[2]) // 2 - outer.box[0]
    steps, met = np.arange(1, max(outer.mask.shape)), 0
    for dy, dx in ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)):
        rows, cols = y + dy * steps, x + dx * steps
        within = (rows >= 0) & (rows < outer.height) & (cols >= 0) & (cols < outer.width)
        met += bool(outer.mask[rows[within], cols[within]].any())
    return met >= RING_SIDES


def _touches_border(part: Component, shape: tuple[int, int]) -> bool:
    left, top, right, bottom = part.box
    return left == 0 or top == 0 or right == shape[1] or bottom == shape[0]


def _ruled(part: Component, shape: tuple[int, int]) -> bool:
    """Whether the part holds RULED or more separate lines across the image (rows, or columns,
    LINE_FILL full of ink): a ruled or squared page taken for ink with its light's residue.
    A digit has at most three (a bold 3's bars, cropped tight)."""
    lines = 0
    for fill, across in ((part.mask.sum(axis=1), shape[1]), (part.mask.sum(axis=0), shape[0])):
        full = np.concatenate([[False], fill >= LINE_FILL * across])
        lines += np.count_nonzero(full[1:] & ~full[:-1])
    return lines >= RULED


def _around_an_object(ink: np.ndarray) -> bool:
    """Whether the ink is the paper around one convex shape that fills the image (a coin, a
    disc, a badge photographed close), taken for ink in a tight crop. A digit cropped tight
    cuts what is not ink into several parts (a 0 encloses its hole)."""
    inked = ink > 0
    if share(border_pixels(inked)) < OBJECT_BORDER or np.count_nonzero(inked) < OBJECT_CORNERS * ink.size:
        return False  # a digit touching the border of lit paper: paper along most of the border
    labels, count = label(~inked)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    if count == 0 or sizes.max() < OBJECT_SHARE * sizes.sum():
        return False
    return convex_share(labels == 1 + int(sizes.argmax())) >= CONVEX


def _union_box(a: Component, b: Component, margin: int = 0) -> tuple[int, int, int, int]:
    """The box around both parts' boxes, widened by `margin` on every side."""
    return (
        min(a.box[0], b.box[0]) - margin,
        min(a.box[1], b.box[1]) - margin,
        max(a.box[2], b.box[2]) + margin,
        max(a.box[3], b.box[3]) + margin,
    )


def _placed(part: Component, box: tuple[int, int, int, int]) -> np.ndarray:
    """The part's mask on a blank bool plane spanning `box` (which holds the part's box)."""
    left, top, right, bottom = box
    plane = np.zeros((bottom - top, right - left), bool)
    plane[part.box[1] - top : part.box[3] - top, part.box[0] - left : part.box[2] - left] = part.mask
    return plane


def _merged(a: Component, b: Component) -> Component:
    box = _union_box(a, b)
    return Component(box, _placed(a, box) | _placed(b, box), a.piece_count() + b.piece_count())


def _merged_parts(parts: list[Component], reference: float) -> list[Component]:
    """Left to right, each part merged into the first group it is one digit with (`_one_digit`)."""
    groups: list[Component] = []
    reaching: list[int] = []  # the groups reaching right of the part's left edge: no others can take it
    for part in sorted(parts, key=lambda p: p.box[0]):
        reaching = [i for i in reaching if groups[i].box[2] > part.box[0]]
        for i in reaching:
            if _one_digit(groups[i], part, reference):
                groups[i] = _merged(groups[i], part)
                break
        else:
            reaching.append(len(groups))
            groups.append(part)
    return groups


def _shared_rows(a: Component, b: Component) -> int:
    """Rows that both parts' boxes span (negative: the gap between them)."""
    return min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])


def _shared_columns(a: Component, b: Component) -> int:
    """Columns that both parts' boxes span (negative: the gap between them)."""
    return min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])


def _one_digit(a: Component, b: Component, reference: float) -> bool:
    """Parts mostly above one another and close: one digit that broke apart."""
    return (
        _shared_columns(a, b) >= MERGE_OVERLAP * min(a.width, b.width) and -_shared_rows(a, b) <= MERGE_GAP * reference
    )


def _strength(part: Component, ink: np.ndarray) -> float:
    """How dark the core of its strokes is: a pen's line is dark in the middle however it
    fades at its edges, the residue of a shadow or a desk is one middling level throughout."""
    return quantile(part.ink(ink)[part.mask], 0.9)


def _dot(part: Component, reference: float) -> bool:
    """A small round blot: a speck or a pen's dot. A piece of a digit (a 5's cap, a 4's
    stroke) is a line: longer than wide, or thin for its box."""
    return (
        part.height < SPECK_HEIGHT * reference
        and part.width <= DOT_ASPECT * part.height
        and part.height <= DOT_ASPECT * part.width
        and share(part.mask) >= DOT_FILL
    )


def _halves_joined(small: list[Component], reference: float) -> list[Component]:
    """Small parts two by two: two strokes along one line that nearly touch and together are
    as tall as a digit are one, broken across (a slanted 1 whose halves lie corner to corner;
    not a letter's or a tick's two strokes at an angle)."""
    parts, joined = sorted(small, key=lambda p: p.box[0]), []
    reach = _join_reach(reference)
    while parts:
        part = parts.pop(0)
        for other in parts:
            if other.box[0] - part.box[2] > reach:
                break  # it and all after it start too far right to nearly touch
            _, top, _, bottom = _union_box(part, other)
            if bottom - top >= JOIN_SHORT * reference and _nearly_one(part, other, reference) and _in_line(part, other):
                parts.remove(other)
                part = _merged(part, other)
                break
        joined.append(part)
    return joined


def _in_line(a: Component, b: Component) -> bool:
    """Whether two parts are strokes along one line: each elongated, pointing along the line
    between their centres (the halves of a broken 1, not two strokes of a letter or a tick)."""
    centres, axes = [], []
    for part in (a, b):
        rows, cols = np.nonzero(part.mask)
        if len(rows) < 3:
            return False  # a dot has no direction
        points = np.stack([rows + part.box[1], cols + part.box[0]], axis=1).astype(np.float64)
        centres.append(points.mean(axis=0))
        spread, directions = np.linalg.eigh(np.cov(points.T))  # ascending: the long axis last
        if spread[1] < LINE_ELONGATED**2 * max(spread[0], 1e-9):
            return False
        axes.append(directions[:, 1])
    between = centres[1] - centres[0]
    between /= max(float(np.hypot(*between)), 1e-9)
    return all(abs(float(axis @ between)) >= np.cos(np.radians(IN_LINE)) for axis in axes)


def _near(a: Component, b: Component, reach: int) -> bool:
    """Whether some ink of `a` lies within `reach` pixels (8-neighbourhood steps) of ink of `b`."""
    box = _union_box(a, b, reach)
    return bool(np.any(extreme_filter(_placed(a, box), 2 * reach + 1, np.maximum) & _placed(b, box)))


def _join_reach(reference: float) -> int:
    """Pixels of paper between the inks of two parts of one digit that broke apart, at most."""
    return max(1, round(JOIN_GAP * reference))


def _nearly_one(a: Component, b: Component, reference: float) -> bool:
    """Whether two parts may be one digit that broke apart: their ink nearly touches and
    together they are no wider than a digit."""
    left, top, right, bottom = _union_box(a, b)
    reach = _join_reach(reference)
    return (
        _gap(a, b) <= reach  # boxes farther apart hold no ink within reach (the cheap test first)
        and right - left <= JOIN_WIDTH * max(bottom - top, reference)
        and _near(a, b, reach)
    )


def _gap(a: Component, b: Component) -> int:
    """Pixels between two boxes (0 when they overlap)."""
    return max(a.box[0] - b.box[2], b.box[0] - a.box[2], a.box[1] - b.box[3], b.box[1] - a.box[3], 0)


def _shifted(part: Component, dx: int, dy: int) -> Component:
    left, top, right, bottom = part.box
    return Component((left + dx, top + dy, right + dx, bottom + dy), part.mask, part.pieces)


def find_components(
    ink: np.ndarray, gray: np.ndarray, smallest_share: float = MIN_SIDE_SHARE, lighter: np.ndarray | None = None
) -> tuple[list[Component], float]:
    """Steps 1 to 6, 9 and 10 of the module docs: the digit-like groups of the ink map, left to
    right, and the reference height (what a digit measures here). `gray` is the image the ink
    came from (step 9 looks at the paper beside each group); a part whose box is smaller than
    `smallest_share` of the image's longest side is no digit. `lighter`: the ink of parts
    written lighter than the rest, apart (step 6b)."""
    labels, count = label(ink > 0)
    parts = _components(labels, count)
    if not parts:
        return [], 0.0
    # specks are small next to the largest ink inside the image: a desk's or a shadow's residue
    # along the border may be far larger than the digit
    areas = np.array([int(p.mask.sum()) for p in parts])
    largest = max([area for p, area in zip(parts, areas) if not _touches_border(p, ink.shape)] or areas)
    kept = np.flatnonzero(areas >= SPECK_AREA * largest)
    if len(kept) > MANY_PARTS:
        # many specks of one size (noise, grain, a dot screen): only what stands out from them
        # may be a digit, and the steps below, which compare pairs, see only the largest
        kept = kept[np.argsort(-areas[kept], kind="stable")]
        standing = areas[kept] >= STANDS_OUT * np.median(areas[kept])
        if len(kept) <= PRINT_PARTS:
            # a page of small print, not grain: a digit written among its letters is thin, and
            # stands out in height, not in area (what touches the border: a texture's stripes)
            heights = np.array([parts[i].height for i in kept])
            off_border = np.array([not _touches_border(parts[i], ink.shape) for i in kept])
            tall = (heights >= STANDS_TALL * max(float(np.median(heights)), PRINT_HEIGHT)) & (
                heights <= PRINT_TALLEST * ink.shape[0]  # not a blot of shading
            )
            standing |= off_border & tall & (areas[kept] >= PEN_AREA * heights)  # a pen's strokes, not strands
        kept = kept[standing][:MAX_PARTS]
        if len(kept) == 0:
            return [], 0.0
    parts = [parts[i] for i in kept]
    if all(_touches_border(p, ink.shape) for p in parts) and _around_an_object(ink):
        return [], 0.0
    smallest = max(MIN_SIDE, smallest_share * max(ink.shape))
    if (
        len(parts) == 1
        and parts[0].width <= LINE_WIDE * parts[0].height
        and parts[0].height >= smallest
        and not _framed(parts[0].mask)
    ):
        # one clean digit: what the steps below would keep (light's residue lies along the border)
        part = parts[0]
        if on_an_edge(gray, ink, part) or _touches_border(part, ink.shape) and shading(gray, ink, part):
            return [], float(part.height)  # light's residue along the border
        return _with_lighter_digits([part], lighter, part, gray, ink), float(part.height)
    # step 2: the reference digit is the heaviest ink of those that could be digits (a pair of
    # touching digits will do: it is as tall as one)
    inner = [
        p
        for p in parts
        if not _touches_border(p, ink.shape) and p.width <= WIDE * p.height and max(p.width, p.height) >= smallest
    ]
    candidates = [p for p in inner or parts if not any(_encloses(p, q) for q in parts)] or parts
    candidates = [p for p in candidates if not _ruled(p, ink.shape)] or candidates
    # heaviest first; a blot is heavier than any digit beside it, and off the digits' line
    candidates.sort(key=lambda p: float(p.ink(ink).sum()), reverse=True)
    anchor = next((p for p in candidates if not p.blot()), candidates[0])
    reference = anchor.height
    pen = _strength(anchor, ink)
    # step 3: strip straight lines from what is too big for a digit, and look again at what remains.
    # The digits of one number differ in size, and the reference (the heaviest) may be a short
    # bold one: a narrow part taller than TALL of it is still a digit, not a ruled line (a tall
    # 1's stem), when no taller than TALL times the tallest digit-sized part on its line
    tallest = _tallest_on_line(parts, anchor, reference)
    kept = []
    for part in parts:
        framed = _framed(part.mask)
        inside = [q for q in parts if _encloses(part, q)]
        if (
            inside
            and not framed
            and not _touches_border(part, ink.shape)
            and share(part.mask) <= RING_SHARE
            and any(_ringed(part, q) for q in inside)
            and not _straight(part.mask, RING_RUN * reference, RING_RUN * reference)
        ):
            continue  # thin ink around a digit, no box, no line across the page: a ring drawn round it
        if (
            framed
            or part.width > LINE_WIDE * reference
            or part.height > TALL * reference
            and not (part.width <= STEM * part.height and _digit_tall(part, reference, tallest, ink.shape))
            or inside
        ):
            longest_h, longest_v = LONG_RUN_H * reference, LONG_RUN_V * reference
            if framed:  # an empty box, or one drawn no larger than what it holds: its sides go
                longest_h, longest_v = min(longest_h, FRAME_SIDE * part.width), min(longest_v, FRAME_SIDE * part.height)
            stripped = _without_lines(part.mask, longest_h, longest_v)
            sub_labels, sub_count = label(stripped)
            kept += [
                _shifted(p, part.box[0], part.box[1])
                for p in _components(sub_labels, sub_count)
                if p.mask.sum() >= SPECK_AREA * largest
            ]
        else:
            kept.append(part)
    parts = _without_flat_lines(kept, reference, ink, pen)
    tallest = _tallest_on_line(parts, anchor, reference)  # a line stripped off a digit made it shorter
    parts = [p for p in parts if p.width <= WIDE * reference and _digit_tall(p, reference, tallest, ink.shape)]
    # step 4: merge the parts of one digit, left to right; a dot is a speck, not a part of one
    groups = _merged_parts([p for p in parts if not _dot(p, reference)], reference)
    # two small halves of one stroke are one part; a small part beside a digit is a piece of
    # it (a 5's cap that leans away from its body)
    small = _halves_joined([g for g in groups if g.height < SPECK_HEIGHT * reference], reference)
    groups = [g for g in groups if g.height >= SPECK_HEIGHT * reference] + [
        g for g in small if g.height >= SPECK_HEIGHT * reference
    ]
    for part in (g for g in small if g.height < SPECK_HEIGHT * reference):
        gaps = [_gap(part, g) for g in groups]
        if gaps and min(gaps) <= ATTACH_GAP * reference:
            nearest = int(np.argmin(gaps))
            groups[nearest] = _merged(groups[nearest], part)
    # steps 5 and 6: what is too small, border residue, or off the anchor's line
    tight_crop = not inner

    def digit_like(group: Component) -> bool:
        if group.height < SPECK_HEIGHT * reference or max(group.height, group.width) < smallest:
            return False
        # at the border, only a digit-sized group in the reference digit's ink is a digit: a
        # shadow's or desk's residue there has nothing beyond it for on_an_edge to compare
        strength = _strength(group, ink)
        return strength >= GHOST * pen and (
            tight_crop
            or not _touches_border(group, ink.shape)
            or BORDER_SIZE[0] * reference <= group.height <= BORDER_SIZE[1] * reference
            and strength >= FAINT * pen
        )

    kept = [g for g in groups if digit_like(g) and not on_an_edge(gray, ink, g) and not shading(gray, ink, g)]
    kept = _on_the_line(kept, anchor, tallest, reference, ink.shape)
    return _with_lighter_digits(kept, lighter, anchor, gray, ink), float(reference)


def _tallest_on_line(parts: list[Component], anchor: Component, reference: float) -> float:
    """The height of the tallest digit-sized part on the reference digit's line."""
    return max(
        [
            p.height
            for p in parts
            if p.height <= TALL * reference and _shared_rows(p, anchor) >= LINE_OVERLAP * p.height
        ],
        default=reference,
    )


def _on_line(group: Component, anchor: Component, tallest: float) -> bool:
    """On the reference digit's line: sharing most of its rows with it, or, a digit taller
    than the reference (no taller than TALL times the tallest digit on the line), most of
    the reference's."""
    shared = _shared_rows(group, anchor)
    return shared >= LINE_OVERLAP * group.height or (
        shared >= LINE_OVERLAP * anchor.height and group.height <= TALL * tallest
    )


def _on_the_line(
    groups: list[Component], anchor: Component, tallest: float, reference: float, shape: tuple[int, int]
) -> list[Component]:
    """The groups on the reference digit's line, followed from digit to digit: a number
    written uphill or along a curve leaves the anchor's rows after a digit or two, but each
    digit shares many of its rows with the one beside it. Not to the border: what lies there
    beside a digit, off its line, is a piece of a ring or a rim around it."""
    on = [_on_line(g, anchor, tallest) for g in groups]
    grown = True
    while grown:
        grown = False
        for i, group in enumerate(groups):
            if (
                not on[i]
                and group.height <= TALL * tallest
                and not _touches_border(group, shape)
                and any(on[j] and _beside(group, other, reference) for j, other in enumerate(groups))
            ):
                on[i] = grown = True
    return [g for g, o in zip(groups, on) if o]


def _beside(a: Component, b: Component, reference: float) -> bool:
    """Neighbours on one line: close side by side, about as tall (not a tick or a cell's wall
    beside a digit), sharing many of the shorter one's rows."""
    shorter, taller = sorted((a.height, b.height))
    return (
        shorter >= LINE_SIZE * taller
        and _shared_rows(a, b) >= LINE_FOLLOW * shorter
        and _gap(a, b) <= LINE_GAP * reference
    )


def _digit_tall(part: Component, reference: float, tallest: float, shape: tuple[int, int]) -> bool:
    """No taller than a digit: TALL of the reference, or of the tallest digit on its line
    when it is not at the border."""
    return part.height <= TALL * reference or part.height <= TALL * tallest and not _touches_border(part, shape)


def _with_lighter_digits(
    digits: list[Component], lighter: np.ndarray | None, anchor: Component, gray: np.ndarray, ink: np.ndarray
) -> list[Component]:
    """Step 6b: the digits found and the parts written lighter than the rest (a harder
    pencil, a pen running dry) that are a digit of their own, left to right: as tall as the
    reference digit and on its line, beside the digits found (not a faint piece of one, not
    a printed cell's outline around one, not a coin's relief), strokes rather than shading,
    and as sharp as the reference digit (what shows through from the back of the page is
    blurred). Pieces of one such digit (a 5's cap) are merged as step 5 merges a pen's; a
    group too short for a digit found inside one is its darkest stroke (where the pen
    rested). The reader keeps a lighter digit only when it reads it surely (LIGHT_SURE): an
    erased digit, a tick or a printed sign are as light and as tall."""
    lighter_digits = _lighter_digits(lighter, digits, anchor, gray, ink) if lighter is not None else []
    digits = [d for d in digits if not any(_centred_in(d, g) for g in lighter_digits)] + lighter_digits
    return sorted(digits, key=lambda g: g.box[0])


def _centred_in(inner: Component, outer: Component) -> bool:
    """Whether the centre of `inner`'s box lies in `outer`'s box."""
    left, top, right, bottom = outer.box
    return left <= (inner.box[0] + inner.box[2]) / 2 < right and top <= (inner.box[1] + inner.box[3]) / 2 < bottom


def _lighter_digits(
    lighter: np.ndarray, digits: list[Component], anchor: Component, gray: np.ndarray, ink: np.ndarray
) -> list[Component]:
    """The lighter parts of `_with_lighter_digits` that are digits of their own."""
    reference = anchor.height
    groups = _merged_parts(_components(*label(lighter > 0)), reference)
    both = np.maximum(ink, lighter)
    sharp = LIGHT_SHARP * _sharpness(gray, anchor)

    def beside(group: Component) -> bool:
        """Not over a digit found, nor around one (a printed cell's outline)."""
        return all(
            _shared_columns(group, d) < LIGHT_OVERLAP * group.width
            and not (_centred_in(d, group) and d.height >= LIGHT_HEIGHT[0] * reference)
            for d in digits
        )

    return [
        replace(g, lighter=True)
        for g in groups
        if LIGHT_HEIGHT[0] * reference <= g.height <= LIGHT_HEIGHT[1] * reference
        and g.width <= WIDE * reference
        and _shared_rows(g, anchor) >= LINE_OVERLAP * g.height
        and beside(g)
        and not on_an_edge(gray, both, g)
        and not shading(gray, both, g)
        and _sharpness(gray, g) >= sharp
    ]


def _sharpness(gray: np.ndarray, group: Component) -> float:
    """How steep the edges of a group's strokes are for their contrast: the 90th percentile of
    the grey level's gradient on and around its strokes over the difference between its
    strokes and the paper in its box. A digit on the back of the page that shows through,
    or the smear of an erased one, is blurred; what was written on the page is as sharp as
    the rest of the writing."""
    left, top, right, bottom = group.box
    y0, x0 = max(0, top - 1), max(0, left - 1)
    region = gray[y0 : bottom + 1, x0 : right + 1]
    strokes = np.zeros(region.shape, bool)
    strokes[top - y0 : bottom - y0, left - x0 : right - x0] = group.mask
    if strokes.all():
        return 0.0
    contrast = abs(quantile(region[~strokes], 0.5) - quantile(region[strokes], 0.5))
    rows, cols = np.gradient(region)
    edges = np.hypot(rows, cols)[extreme_filter(strokes, 3, np.maximum)]
    return quantile(edges, 0.9) / max(contrast, 1 / 255)


Classify = Callable[[list[np.ndarray]], np.ndarray]  # frames (28, 28) -> probabilities (N, 10)


def split_wide(
    ink: np.ndarray, group: Component, frame: Callable[[np.ndarray], np.ndarray], classify: Classify, reference: float
) -> list[Component]:
    """Step 7: `group` as one digit or cut in two (recursively), whichever the model is likelier
    to read right.

    Cuts are tried at the lowest points of the column profile in the middle of the group;
    each option scores the product of its pieces' winning probabilities. A group wider
    than two digits is never kept whole."""
    if group.width <= NARROW_ASPECT * group.height or group.blot():
        return [group]  # narrow: one digit; a blot: no pair of digits (its slices would read as 1s)
    narrow = group.width <= SPLIT_ASPECT * group.height
    profile = group.mask.sum(axis=0)
    reach = 0.4 if narrow else 0.25  # a 1 glued to a digit is a thin slice at one side
    low, high = int(group.width * (0.5 - reach)), int(group.width * (0.5 + reach))
    if narrow and profile[low:high].min(initial=group.height) >= NECK * group.height:
        return [group]  # no neck to cut: one digit (most single digits end here)
    order = low + np.argsort(profile[low:high], kind="stable")
    if narrow:
        order = order[profile[order] < NECK * group.height]
    cuts: list[int] = []
    for column in order:
        if all(abs(column - c) > 2 for c in cuts):
            cuts.append(int(column))
        if len(cuts) == 3:
            break
    options = [[group]] if group.width <= SPLIT_WHOLE * max(reference, group.height) else []
    # how tall the ink is left of each column and from it on: a cut through a 7's stem or a
    # 4's tail leaves a piece too short for a digit, known before the pieces are built
    inked = profile > 0
    tops = np.where(inked, group.mask.argmax(axis=0), group.height)
    bottoms = np.where(inked, group.height - group.mask[::-1].argmax(axis=0), 0)
    left_height = np.maximum.accumulate(bottoms) - np.minimum.accumulate(tops)
    right_height = (np.maximum.accumulate(bottoms[::-1]) - np.minimum.accumulate(tops[::-1]))[::-1]
    tall = SPLIT_HEIGHT * reference
    for cut in cuts:
        if cut == 0 or left_height[cut - 1] < tall or right_height[cut] < tall:
            continue
        pieces = [_cropped(group, 0, cut), _cropped(group, cut, group.width)]
        if all(p is not None for p in pieces):
            options.append(pieces)
    if len(options) < 2 and (not options or len(options[0]) == 1):
        return [group]
    frames = [frame(part.ink(ink)) for option in options for part in option]
    confidence = classify(frames).max(axis=1)
    # each option scores the chance that all its pieces are read right; a narrow group is one
    # digit unless the model is sure of both pieces (however sure it is of the whole: "71" reads "7")
    scores, start = [], 0
    for option in options:
        scores.append(confidence[start : start + len(option)].prod())
        start += len(option)
    if narrow and len(options[0]) == 1:
        scores[0] = NARROW_SURE
    best = options[int(np.argmax(scores))]
    if len(best) == 1:
        return best
    return [piece for part in best for piece in split_wide(ink, part, frame, classify, reference)]


def join_broken(
    ink: np.ndarray,
    groups: list[Component],
    frame: Callable[[np.ndarray], np.ndarray],
    classify: Classify,
    reference: float,
) -> list[Component]:
    """Step 7b: neighbours whose ink nearly touches, one too short for a digit, are one digit
    when together they have a digit's shape and the model reads them, surely, either as a
    digit neither piece reads and surer than of either piece (a 6's stem and loop), or, one
    above the other, surer than of both apart (a slanted 1 broken across)."""
    pairs, stacked = [], []
    for i in range(len(groups) - 1):
        a, b = groups[i], groups[i + 1]
        _, top, _, bottom = _union_box(a, b)
        if (
            min(a.height, b.height) < JOIN_SHORT * reference
            and bottom - top <= TALL * reference
            and not _near(a, b, 1)  # touching: the pieces of a cut, which split_wide already weighed
            and _nearly_one(a, b, reference)
        ):
            pairs.append((i, _merged(a, b)))
            stacked.append(_shared_rows(a, b) < JOIN_STACKED * min(a.height, b.height))
    if not pairs:
        return groups
    frames = [frame(g.ink(ink)) for i, together in pairs for g in (groups[i], groups[i + 1], together)]
    probabilities = classify(frames).reshape(len(pairs), 3, -1)
    confidence, read = probabilities.max(axis=2), probabilities.argmax(axis=2)
    # side by side, only a digit neither part reads ("1" and "0" make a 6) and surer than either:
    # a short digit beside another (a small 1 by a 7) reads, joined, as that neighbour
    new_digit = (read[:, 2] != read[:, 0]) & (read[:, 2] != read[:, 1])
    gains = np.where(
        stacked,
        confidence[:, 2] - confidence[:, 0] * confidence[:, 1],
        np.where(new_digit, confidence[:, 2] - confidence[:, :2].max(axis=1), -1.0),
    )
    joined: list[Component | None] = list(groups)
    for k in np.argsort(-gains, kind="stable"):  # the surest join first: a part joins one neighbour
        i, together = pairs[k]
        free = joined[i] is groups[i] and joined[i + 1] is groups[i + 1]
        if gains[k] > 0 and confidence[k, 2] >= JOIN_SURE and free:
            joined[i], joined[i + 1] = together, None
    return [g for g in joined if g is not None]


def _cropped(group: Component, start: int, end: int) -> Component | None:
    """The columns start..end of a group, trimmed to their ink; None when too little is left."""
    mask = group.mask[:, start:end]
    rows, cols = np.nonzero(mask)
    if len(rows) == 0 or end - start < 0.1 * group.height:
        return None
    mask = mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    left, top = group.box[0] + start + cols.min(), group.box[1] + rows.min()
    # pieces counted only if this cut is kept: most cuts tried are not
    return Component((int(left), int(top), int(left + mask.shape[1]), int(top + mask.shape[0])), mask, None)


def on_an_edge(gray: np.ndarray, ink: np.ndarray, group: Component) -> bool:
    """A piece of the edge of a sheet on a desk or of a shadow, kept because it is as tall as a
    digit: beside it is one level on one side and another on the other (or a wide band of
    "ink" on one side: the desk), where a stroke has the same paper on both sides. The edge's
    residue lies between the two levels; strokes beyond both by EDGE_STEP are a pen's, on
    paper whose light changes across them (a tight crop of lit paper)."""
    left, top, right, bottom = group.box
    if left == 0 or right == ink.shape[1]:
        return False  # at the image's border: nothing to compare
    reach = max(2, group.height // 3)
    columns = slice(max(0, left - reach), left), slice(right, right + reach)
    inked = [ink[top:bottom, c] > 0 for c in columns]
    shares = sorted(np.count_nonzero(side) / side.size for side in inked)
    if shares[1] > EDGE_INK and shares[0] < 0.5:
        return True
    papers = [gray[top:bottom, c][~side] for c, side in zip(columns, inked)]  # paper only: not a neighbour's ink
    if min(papers[0].size, papers[1].size) < reach:
        return False
    low, high = sorted(quantile(paper, 0.5) for paper in papers)
    if high - low <= EDGE_STEP:
        return False  # the same paper on both sides (the usual case: the strokes need no look)
    strokes = gray[top:bottom, left:right][group.mask]
    return max(low - quantile(strokes, 0.1), quantile(strokes, 0.9) - high) < EDGE_STEP  # dark ink, or light


def _surroundings(group: Component) -> tuple[slice, slice]:
    """Rows and columns of the group's box and a margin of half its size: where the paper
    around it is looked at (slices end past the image's edge harmlessly)."""
    left, top, right, bottom = group.box
    reach = max(2, max(group.width, group.height) // 2)
    return slice(max(0, top - reach), bottom + reach), slice(max(0, left - reach), right + reach)


def _along_border(group: Component, shape: tuple[int, int]) -> bool:
    """Whether the group lies along the image's border, as the light's residue there does: at
    least ALONG_BORDER of its box's side on the border is ink (a digit that touches the border
    meets it with a stroke or two)."""
    left, top, right, bottom = group.box
    sides = group.mask[0], group.mask[-1], group.mask[:, 0], group.mask[:, -1]
    on_border = top == 0, bottom == shape[0], left == 0, right == shape[1]
    return any(touches and share(side) >= ALONG_BORDER for side, touches in zip(sides, on_border))


def shading(gray: np.ndarray, ink: np.ndarray, group: Component) -> bool:
    """Residue of smooth light or of grain, not strokes. A plane is fitted to the paper around
    the group; the group rises above it by less than NOISE_MARGIN times the paper's grain,
    or, when it lies along the image's border, by less than RELIEF times the plane's own
    change across that window. The background step leaves such residue along the border
    where the light keeps rising up to it (a gradient, a vignette's corner), and grain clumps
    on it; a pen's stroke is a step above paper that changes little around it. (A digit on
    steeply lit paper, inside the image or touching its border with a stroke, rises no more
    than that paper changes: the plane is not asked there.)"""
    left, top, right, bottom = group.box
    rows, cols = _surroundings(group)
    y0, x0 = rows.start, cols.start
    around = gray[rows, cols]
    # paper: no ink within a pixel (a stroke's soft fringe below the ink threshold is not paper);
    # where ink leaves too little of it (a tight crop, a grainy band), all but the group itself
    inked = ink[rows, cols] > 0
    paper = ~extreme_filter(inked, 3, np.maximum)
    if np.count_nonzero(paper) < PLANE_SAMPLES // 10:
        inked[:] = False
        inked[top - y0 : bottom - y0, left - x0 : right - x0] = group.mask
        paper = ~extreme_filter(inked, 3, np.maximum)
    ys, xs = np.nonzero(paper)
    beside = paper[:, 1:] & paper[:, :-1]  # neighbouring pixels both on paper: their difference is grain
    if len(ys) < 3 or not beside.any():
        return False  # nothing to compare with: strokes by default
    step = max(1, len(ys) // PLANE_SAMPLES)
    ys, xs = ys[::step], xs[::step]
    terms = np.stack([np.ones(len(ys)), xs, ys])
    try:  # least squares by its normal equations: a tenth of np.linalg.lstsq's cost on this size
        plane = np.linalg.solve(terms @ terms.T, terms @ around[ys, xs])
    except np.linalg.LinAlgError:  # the paper on one row or column: no plane
        return False

    def off_plane(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        return np.abs(around[y, x] - plane[0] - plane[1] * x - plane[2] * y)

    strokes_y, strokes_x = np.nonzero(group.mask)
    rise = quantile(off_plane(strokes_y + top - y0, strokes_x + left - x0), 0.9)
    # robust deviations: of neighbours' differences, and from the plane, as grain in clumps (a
    # blurred sensor's, a rough paper's) differs little between neighbours. The second is
    # capped at CLUMPED times the first: a soft stroke's wide fringe (a blurred or upscaled
    # digit's) passes for paper and lies far from the plane.
    grain = quantile(np.abs(np.diff(around, axis=1))[beside], 0.5) * 1.4826 / 2**0.5
    grain = max(grain, min(quantile(off_plane(ys, xs), 0.5) * 1.4826, CLUMPED * grain))
    least = max(NOISE_MARGIN * grain, 1 / 255)
    if _along_border(group, ink.shape):  # where the background step leaves the light's residue
        least = max(least, RELIEF * (abs(plane[1]) * around.shape[1] + abs(plane[2]) * around.shape[0]))
    return rise < least


class Found(NamedTuple):
    """What `find_digits` found, on the working image it looked at."""

    work: Image.Image  # the working image (its size maps boxes back to the file's pixels)
    ink: np.ndarray  # its ink map
    groups: list[Component]  # the digit-like groups, left to right, before splitting
    reference: float  # the reference digit's height in working pixels (0: no group)


def _groups_in(work: Image.Image, closer: int = 1, gray: np.ndarray | None = None) -> Found:
    """The digit groups of a working image; `closer`: how many times the first look's
    resolution `work` has (find_digits' closer looks); `gray`: its grey image, when not its
    luminance."""
    gray = to_grayscale(work) if gray is None else gray
    if closer > 1:
        ink = ink_map(gray, floor=GHOST)
        groups, reference = find_components(ink, gray, MIN_SIDE_SHARE / closer)
        return Found(work, ink, _standing_out(gray, groups), reference)
    ink, lighter = ink_and_lighter(gray)
    groups, reference = find_components(ink, gray, MIN_SIDE_SHARE, lighter)
    if any(g.lighter for g in groups):  # each lighter digit's own ink, cut and stretched alone
        ink = ink.copy()
        for group in (g for g in groups if g.lighter):
            left, top, right, bottom = group.box
            ink[top:bottom, left:right][group.mask] = lighter[top:bottom, left:right][group.mask]
    return Found(work, ink, groups, reference)


def find_digits(image: Image.Image) -> Found:
    """Steps 1 to 6, 9 and 10 (`find_components`) on an image's working copy. When the file
    has more pixels and no digit stood out there (no ink, or only a vignette's shading), or
    the digits found are only a few pixels tall, or a group spans most of the page, it may
    be a small digit in a big photo. It is looked for again at twice the resolution, where a
    part half as small (of the image's side) may be a digit, ink under a fifth of the
    strongest is paper (a vignette's shades: GHOST) and a group must stand out from the
    paper's texture around it (squared paper's lines break into digit-sized pieces there).
    What is found there replaces what was found first unless it spans most of the page
    again (a tight crop of one digit, or the page still taken for ink). When no ink stood
    out there either, or what it saw is still under TINY_DIGIT (a number a hundredth of a
    photo tall), it looks once more at four times the first resolution, where a part a
    quarter as small may be a digit. Digit-sized groups that a look dropped (grain, a grid,
    a clip) send it no closer: looked at closer, they would be judged by looser rules.
    When no ink stood out in any look, the first is made again along the image's main axis
    of hue (`colour_axis`): red ink on green paper may be as bright as the paper."""
    first = work = working_image(image)
    found, missing = None, None
    try:
        found = _groups_in(work)
    except ImageError as error:  # no ink stood out from the paper at this resolution
        missing = error
    closer, seen = 2, found  # seen: what the latest look found (None: no ink stood out there)
    while closer <= MAX_CLOSER and max(image.size) > max(work.size) and _look_closer(seen, closer):
        work = working_image(image, closer * WORK_SIDE)
        try:
            seen = _groups_in(work, closer)
        except ImageError:  # nothing stood out at this resolution either
            seen = None
        if seen is not None and seen.groups:
            if any(_most_of(g.box, work.size) for g in seen.groups):
                break  # a tight crop of one digit, or the page still taken for ink
            found = seen
        closer *= 2
    if found is None:
        hue = colour_axis(first)
        with contextlib.suppress(ImageError):
            if hue is not None and (seen := _groups_in(first, gray=hue)).groups:
                return seen
        raise missing
    return found


def _look_closer(seen: Found | None, closer: int) -> bool:
    """Whether find_digits looks again at `closer` times the first resolution, after `seen`."""
    if seen is None or 0 < seen.reference < (SMALL_DIGIT if closer == 2 else TINY_DIGIT):
        return True  # no ink stood out, or what did is only a few pixels tall
    # after the first look only: nothing digit-like, or the page taken for ink
    return closer == 2 and (not seen.groups or any(_most_of(g.box, seen.work.size) for g in seen.groups))


def _standing_out(gray: np.ndarray, groups: list[Component]) -> list[Component]:
    """The groups whose ink differs from the paper around them by TEXTURE_MARGIN times the
    paper's own darker tenth there: looked at closer, the lines of squared paper break into
    digit-sized groups, which a digit's strokes stand out from. (Grain and a vignette's
    shades are `shading`, in both looks.)"""
    kept = []
    for group in groups:
        left, top, right, bottom = group.box
        rows, cols = _surroundings(group)
        y0, x0 = rows.start, cols.start
        around = gray[rows, cols]
        is_paper = np.ones(around.shape, bool)
        is_paper[top - y0 : bottom - y0, left - x0 : right - x0] = ~group.mask
        strokes = gray[top:bottom, left:right][group.mask]
        paper = around[is_paper]
        if not paper.size:
            continue
        level = quantile(paper, 0.5)
        if quantile(np.abs(strokes - level), 0.9) >= TEXTURE_MARGIN * quantile(np.abs(paper - level), 0.9):
            kept.append(group)
    return kept


def _most_of(box: tuple[int, int, int, int], size: tuple[int, int]) -> bool:
    """Whether a group spans most of the image both ways: the whole page taken for ink (or
    a tight crop of one digit, which reads the same at either resolution)."""
    left, top, right, bottom = box
    return right - left >= PAGE_SHARE * size[0] and bottom - top >= PAGE_SHARE * size[1]
