"""A digit's strokes as a pen drew them: the centre line, and each pixel's distance from it.

With both, a digit can be redrawn with a round pen of any width, from a hairline to a
felt-tip marker. Dilating MNIST's strokes (train/augment.py's RandomStrokeWidth) thickens
them square and keeps each writer's pressure; a real marker or fine-liner draws one even,
round-ended width. tegaki.train.realistic draws its thick and thin kinds this way (from
test digits), and the edge recipe's RandomPen draws training digits this way.
"""

import numpy as np

PEN_REACH = 4.0  # distances are exact up to here (pixels): a pen of up to 2 * (PEN_REACH - 0.5) wide


def _removable(step: int) -> np.ndarray:
    """Zhang-Suen's rule as a table: for each of the 256 neighbourhoods (bit i set when
    neighbour P(i+2) is ink, clockwise from north), whether sub-step `step` removes the pixel."""
    n = (np.arange(256)[:, None] >> np.arange(8)) & 1
    count = n.sum(axis=1)
    transitions = ((n == 0) & (np.roll(n, -1, axis=1) == 1)).sum(axis=1)
    if step == 0:
        side = (n[:, 0] * n[:, 2] * n[:, 4] == 0) & (n[:, 2] * n[:, 4] * n[:, 6] == 0)
    else:
        side = (n[:, 0] * n[:, 2] * n[:, 6] == 0) & (n[:, 0] * n[:, 4] * n[:, 6] == 0)
    return (count >= 2) & (count <= 6) & (transitions == 1) & side


REMOVABLE = (_removable(0), _removable(1))


def skeleton(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: the one-pixel-wide centre line of boolean stroke masks (..., H, W);
    a batch is thinned at once, each mask until it stops changing."""
    shape = mask.shape
    thinned = np.pad(mask.reshape(-1, *shape[-2:]), [(0, 0), (1, 1), (1, 1)]).astype(np.uint8)
    active = np.arange(len(thinned))
    while len(active):
        changed = np.zeros(len(active), bool)
        for step in (0, 1):
            p = thinned[active]
            # the 8 neighbours P2..P9, clockwise from north, as the bits of one code
            neighbours = [p[:, :-2, 1:-1], p[:, :-2, 2:], p[:, 1:-1, 2:], p[:, 2:, 2:]]
            neighbours += [p[:, 2:, 1:-1], p[:, 2:, :-2], p[:, 1:-1, :-2], p[:, :-2, :-2]]
            code = np.zeros(p[:, 1:-1, 1:-1].shape, np.uint8)
            for bit, neighbour in enumerate(neighbours):
                code |= neighbour << bit
            remove = REMOVABLE[step][code] & (p[:, 1:-1, 1:-1] == 1)
            p[:, 1:-1, 1:-1][remove] = 0
            thinned[active] = p
            changed |= remove.any(axis=(1, 2))
        active = active[changed]
    return thinned[:, 1:-1, 1:-1].astype(bool).reshape(shape)


def centre_line_distance(digits: np.ndarray) -> np.ndarray:
    """Per pixel, the distance (pixels, float32, at most PEN_REACH) to the digit's centre line,
    for ink strengths (..., H, W) in [0, 1]. A round pen of width w draws
    clip(w / 2 + 0.5 - distance, 0, 1): anti-aliased over one pixel."""
    line = skeleton(digits > 0.5)
    reach = int(np.ceil(PEN_REACH))
    height, width = line.shape[-2:]
    padded = np.pad(line, [(0, 0)] * (line.ndim - 2) + [(reach, reach), (reach, reach)])
    distance = np.full(line.shape, PEN_REACH, np.float32)
    unreached = np.ones(line.shape, bool)
    offsets = sorted(
        (float(np.hypot(dy, dx)), dy, dx) for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1)
    )
    for length, dy, dx in offsets:  # nearest first: a pixel's first hit is its distance
        if length >= PEN_REACH:
            break
        hit = padded[..., reach + dy : reach + dy + height, reach + dx : reach + dx + width] & unreached
        distance[hit] = length
        unreached &= ~hit
    return distance
