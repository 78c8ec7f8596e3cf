"""Connected components of a bool mask, in numpy only: runs of True per row joined by
union-find (scipy.ndimage.label's answer, without scipy on a Raspberry Pi)."""

import numpy as np


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of True: row, first column, column after the last; in row-major order."""
    stride = mask.shape[1] + 2
    padded = np.zeros((mask.shape[0], stride), np.int8)
    padded[:, 1:-1] = mask
    # every row starts and ends with a 0, so along the whole image starts and ends alternate
    steps = np.flatnonzero(np.diff(padded.ravel())) + 1
    rows, starts = np.divmod(steps[0::2], stride)
    return rows, starts - 1, steps[1::2] - rows * stride - 1


PYTHON_UNIONS = 64  # touching pairs of runs: up to this many (a small digit's few tens) plain Python is faster


def label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected components of a bool mask: int32 labels (0 = background, 1..n) and n."""
    height, width = mask.shape
    rows, starts, ends = runs(mask)
    count = len(rows)
    if count == 0:
        return np.zeros(mask.shape, np.int32), 0
    # Runs in consecutive rows touch (8-connectivity) when their column spans overlap or meet
    # diagonally; rows are laid end to end on one axis so one searchsorted finds them all.
    stride = width + 2
    first = np.searchsorted(rows * stride + ends, (rows + 1) * stride + starts, side="left")
    last = np.searchsorted(rows * stride + starts, (rows + 1) * stride + ends, side="right")
    counts = np.maximum(last - first, 0)
    a = np.repeat(np.arange(count), counts)
    b = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(first, counts)
    parent = _roots(count, a, b) if len(a) > PYTHON_UNIONS else _roots_in_python(count, a, b)
    roots = parent == np.arange(count)
    components = int(roots.sum())
    if components == 1:  # most one-digit images: no runs to paint
        return mask.astype(np.int32), 1
    run_labels = np.cumsum(roots)[parent]  # 1..n, numbered in order of each component's first run
    # paint the runs: +label at each start, -label after each end (runs never share either), summed along the row
    paint = np.zeros((height, width + 1), np.int32)
    paint[rows, starts] = run_labels
    paint[rows, ends] = -run_labels
    return np.cumsum(paint, axis=1)[:, :width], components


def boxes(labels: np.ndarray, count: int) -> np.ndarray:
    """Each label's bounding box as rows of (left, top, right, bottom), right and bottom
    exclusive; row n is label n (row 0, the background, is meaningless)."""
    rows, cols = np.nonzero(labels)
    ids = labels[rows, cols]
    found = np.zeros((count + 1, 4), np.intp)
    found[:, :2] = labels.shape[1], labels.shape[0]
    np.minimum.at(found[:, 0], ids, cols)
    np.minimum.at(found[:, 1], ids, rows)
    np.maximum.at(found[:, 2], ids, cols + 1)
    np.maximum.at(found[:, 3], ids, rows + 1)
    return found


def _roots_in_python(count: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each run's component, by union-find over the touching pairs (a[k], b[k]): the
    component's first run."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(a.tolist(), b.tolist()):
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return np.array([root(i) for i in range(count)])


def _roots(count: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`_roots_in_python`'s answer in a few numpy passes, for the thousands of runs of grain on
    a big page: every pair hooks the larger of its roots to the smaller at once, then roots
    are followed to their own roots (pointer jumping), until every pair shares one."""
    parent = np.arange(count)
    while True:
        ra, rb = parent[a], parent[b]
        apart = ra != rb
        if not apart.any():
            return parent
        ra, rb = ra[apart], rb[apart]
        np.minimum.at(parent, np.maximum(ra, rb), np.minimum(ra, rb))
        while not np.array_equal(jumped := parent[parent], parent):
            parent = jumped
