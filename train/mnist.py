"""Load MNIST offline first, validating everything read.

Sources, first match wins:
1. an explicit path (`--data`): a folder with the four IDX files (`.gz` or raw), or a
   Keras-style `mnist.npz` (or a folder holding one);
2. the folder or file named by the environment variable TEGAKI_MNIST;
3. the Keras cache, `$KERAS_HOME/datasets/mnist.npz` (default `~/.keras/datasets`);
4. Keras's own download (needs internet), which fills that cache.
"""

import contextlib
import gzip
import hashlib
import os
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tegaki.runtime.errors import reason

ENV_VAR = "TEGAKI_MNIST"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
SIDE = 28
VAL_SPLIT = 0.1  # train-cnn's default share of the training images held out for validation


class MnistError(Exception):
    """MNIST could not be found or a file is not valid MNIST; the message says which and why."""


@dataclass(frozen=True)
class Mnist:
    x_train: np.ndarray  # uint8 (N, 28, 28), white digit on black
    y_train: np.ndarray  # uint8 (N,), 0-9
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # where it was read from, for logs and metadata

    def train_sha256(self) -> str:
        """SHA-256 of the training images then labels as raw uint8 bytes: the same
        whichever file format they came from."""
        digest = hashlib.sha256(self.x_train.tobytes())
        digest.update(self.y_train.tobytes())
        return digest.hexdigest()


def keras_cache_file() -> Path:
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return home / "datasets" / "mnist.npz"


def load_mnist(data: Path | str | None = None) -> Mnist:
    """Return MNIST from the first source that exists (see the module docstring)."""
    if data is not None:
        return _load_path(Path(data), "--data")
    if os.environ.get(ENV_VAR):
        return _load_path(Path(os.environ[ENV_VAR]), ENV_VAR)
    cache = keras_cache_file()
    if cache.is_file():
        return _load_npz(cache)
    return _download(cache)


def _load_path(path: Path, given_by: str) -> Mnist:
    if path.is_file():
        return _load_npz(path)
    if not path.is_dir():
        raise MnistError(f"{path} (from {given_by}) does not exist")
    if (path / "mnist.npz").is_file() and not _find_idx(path, IDX_FILES["x_train"]):
        return _load_npz(path / "mnist.npz")
    return _load_idx_folder(path)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _load_idx_folder(folder: Path) -> Mnist:
    arrays = {}
    for key, stem in IDX_FILES.items():
        file = _find_idx(folder, stem)
        if file is None:
            raise MnistError(
                f"{folder}: missing {stem} (or {stem}.gz); a MNIST folder holds " + ", ".join(IDX_FILES.values())
            )
        arrays[key] = _read_idx(file, images=key.startswith("x"))
    return _checked(arrays, str(folder))


def _read_idx(file: Path, images: bool) -> np.ndarray:
    try:
        raw = gzip.decompress(file.read_bytes()) if file.suffix == ".gz" else file.read_bytes()
    except (OSError, EOFError, zlib.error) as error:  # zlib.error: corrupt deflate data inside a valid header
        raise MnistError(f"{file}: cannot read ({error})") from None
    magic, header_dims = (IMAGES_MAGIC, 3) if images else (LABELS_MAGIC, 1)
    header_size = 4 + 4 * header_dims
    if len(raw) < header_size:
        raise MnistError(f"{file}: {len(raw)} bytes is too short for an IDX header")
    found_magic, *dims = struct.unpack(f">I{header_dims}I", raw[:header_size])
    if found_magic != magic:
        kind = "images" if images else "labels"
        raise MnistError(f"{file}: magic number {found_magic:#010x}, expected {magic:#010x} for IDX {kind}")
    if images and dims[1:] != [SIDE, SIDE]:
        raise MnistError(f"{file}: images are {dims[1]}x{dims[2]}, expected {SIDE}x{SIDE}")
    expected = header_size + int(np.prod(dims))
    if len(raw) != expected:
        raise MnistError(f"{file}: {len(raw)} bytes, expected {expected} for {dims[0]} items (truncated or padded)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(dims)


def _load_npz(file: Path) -> Mnist:
    try:
        with file.open("rb") as opened:
            is_zip = opened.read(4) == b"PK\x03\x04"  # an .npz is a zip of .npy files
    except OSError as error:
        raise MnistError(f"{file}: cannot read ({error.strerror or error})") from None
    if not is_zip:  # np.load would answer with advice about pickles
        raise MnistError(
            f"{file}: not MNIST (a mnist.npz, or a folder with the four IDX files) nor your images "
            "(a folder with one sub-folder per class, or a CSV of path,label)"
        )
    try:
        with np.load(file, allow_pickle=False) as npz:
            missing = [key for key in IDX_FILES if key not in npz.files]
            if missing:
                raise MnistError(f"{file}: missing arrays {', '.join(missing)}")
            arrays = {key: npz[key] for key in IDX_FILES}
    except MnistError:
        raise
    except Exception as error:  # np.load raises many types for a file that is not an npz
        raise MnistError(f"{file}: not a readable .npz file ({reason(error)})") from None
    for key, array in arrays.items():
        if array.dtype != np.uint8:
            raise MnistError(f"{file}: {key} has dtype {array.dtype}, expected uint8")
        expected = (SIDE, SIDE) if key.startswith("x") else ()
        if array.ndim != 1 + len(expected) or array.shape[1:] != expected:
            raise MnistError(f"{file}: {key} has shape {array.shape}, expected (N, {', '.join(map(str, expected))})")
    return _checked(arrays, str(file))


def _checked(arrays: dict[str, np.ndarray], source: str) -> Mnist:
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(images) != len(labels):
            raise MnistError(f"{source}: {len(images)} {split} images but {len(labels)} {split} labels")
        if len(images) == 0:
            raise MnistError(f"{source}: the {split} set is empty")
        if labels.max() > 9:
            raise MnistError(f"{source}: {split} labels contain {int(labels.max())}, expected 0-9")
    return Mnist(source=source, **arrays)


def _download(cache: Path) -> Mnist:
    tried = ["--data (not given)", f"${ENV_VAR} (not set)", f"Keras cache {cache} (absent)"]
    try:
        import keras

        with contextlib.redirect_stdout(sys.stderr):  # "Downloading data from ...": progress, not a result
            keras.datasets.mnist.load_data()
    except ImportError:
        tried.append("Keras download (keras is not installed)")
    except Exception as error:  # the download raises different types offline
        tried.append(f"Keras download ({type(error).__name__}: {reason(error, 120)})")
    if cache.is_file():
        return _load_npz(cache)
    raise MnistError(
        "MNIST not found. Tried: " + "; ".join(tried) + ". Pass --data PATH or set "
        f"{ENV_VAR} to a folder with the four IDX files (.gz or raw) or a mnist.npz."
    )


def split_validation(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded shuffle of range(n) into (train, validation) indices; at least one of each."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = min(max(1, round(n * fraction)), n - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])
