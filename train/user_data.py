"""The user's own labelled images for `train-cnn --data`: a folder of class folders or a CSV.

Two layouts, as Keras's `image_dataset_from_directory` and most labelling tools write them:

    my-digits/0/*.png, my-digits/1/*.jpg, ..., my-digits/minus/*.png   (one folder per class)
    labels.csv: path,label rows (header optional; paths relative to the CSV's folder)

Every image goes through the runtime's own preprocessing (tegaki.runtime.preprocessing), so the
model trains on exactly the 28x28 frames it will see at inference. Files that cannot be read
(corrupt, not an image, no ink) are listed and skipped; anything that makes the data set
unusable (no classes, an empty or too small class, a CSV naming missing files or bad labels)
raises UserDataError with a one-line message before anything is written.
"""

import csv
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tegaki.runtime.contract import LABELS
from tegaki.runtime.errors import ImageError
from tegaki.runtime.preprocessing import preprocess
from tegaki.train.mnist import IDX_FILES

MIN_PER_CLASS = 10  # fewer cannot both train a class and hold one image of it out for validation
# MNIST training images replayed per user image when fine-tuning (why 3: tegaki.train.finetune);
# here rather than there so that `train-cnn --help` states it without loading TensorFlow
DEFAULT_MNIST_RATIO = 3.0
# a class name: a digit 0-9 or a word for another symbol (minus, x, blank...)
CLASS_NAME = re.compile(r"[0-9]|[A-Za-z_][A-Za-z0-9_+\-]{0,31}")


class UserDataError(Exception):
    """The user's data set cannot be used; the message says which file or class and why."""


@dataclass(frozen=True)
class UserData:
    images: np.ndarray  # uint8 (N, 28, 28): the runtime's preprocessing of each file
    labels: np.ndarray  # int64 (N,): index into `classes`
    classes: tuple[str, ...]  # sorted: the digits first, then other names
    files: tuple[str, ...]  # each image's path, as listed
    source: str
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    def sha256(self) -> str:
        """SHA-256 of the frames, labels and class names: what the model was trained on."""
        digest = hashlib.sha256(self.images.tobytes())
        digest.update(self.labels.astype(np.int64).tobytes())
        digest.update("\n".join(self.classes).encode())
        return digest.hexdigest()

    def counts(self) -> dict[str, int]:
        return {name: int(np.sum(self.labels == index)) for index, name in enumerate(self.classes)}


def is_mnist(path: Path) -> bool:
    """A .npz file, or a folder holding mnist.npz or any of the four IDX files (raw or .gz)."""
    path = Path(path)
    if path.is_dir():
        names = {p.name for p in path.iterdir()}
        return "mnist.npz" in names or any(stem in names or f"{stem}.gz" in names for stem in IDX_FILES.values())
    return path.suffix.lower() == ".npz"


def is_user_data(path: Path) -> bool:
    """What `--data` holds: a .csv or a folder that is not MNIST means the user's images."""
    path = Path(path)
    return path.suffix.lower() == ".csv" or (path.is_dir() and not is_mnist(path))


def class_sort_key(name: str) -> tuple[bool, str]:
    return name not in LABELS, name


def _check_class_name(name: str, where: str) -> None:
    if not CLASS_NAME.fullmatch(name):
        hint = (
            "numeric classes are the digits 0-9; give other symbols a name (minus, x, blank)"
            if re.fullmatch(r"[\d.+\-]+", name)
            else "a class name is a digit 0-9 or a word of letters, digits, _, + or - (up to 32)"
        )
        raise UserDataError(f"{where}: {name!r} is not a class name: {hint}")


def _visible_files(folder: Path) -> list[Path]:
    """Every file under `folder`, hidden ones (.DS_Store, editor backups) left out."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def list_folder(root: Path) -> list[tuple[Path, str]]:
    """(file, class) for every file in the class sub-folders of `root`."""
    if not root.is_dir():
        raise UserDataError(f"{root}: no such folder")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        loose = " (it holds files but no sub-folders)" if _visible_files(root) else ""
        raise UserDataError(
            f"{root}: no class sub-folders{loose}. --data takes a folder with one sub-folder of images per "
            f"class (0/ ... 9/, or names such as minus/), a CSV of path,label, or MNIST (the four IDX files "
            f"or mnist.npz)"
        )
    entries = []
    for folder in folders:
        _check_class_name(folder.name, str(folder))
        files = _visible_files(folder)
        if not files:
            raise UserDataError(f"{folder}: empty class folder (remove it, or add at least {MIN_PER_CLASS} images)")
        entries += [(file, folder.name) for file in files]
    return entries


def list_csv(path: Path) -> list[tuple[Path, str]]:
    """(file, class) for every row of a path,label CSV; paths are relative to its folder."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: spreadsheets write a byte-order mark
    except FileNotFoundError:
        raise UserDataError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserDataError(f"{path}: cannot read ({error})") from None
    entries, missing = [], []
    for line, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip():
            continue
        if line == 1 and [cell.strip().lower() for cell in row] == ["path", "label"]:
            continue
        if len(row) != 2:
            raise UserDataError(f"{path}, line {line}: {len(row)} fields, expected 2 (path,label)")
        name, label = row[0].strip(), row[1].strip()
        _check_class_name(label, f"{path}, line {line}")
        file = path.parent / name
        if not file.is_file():
            missing.append(f"{name} (line {line})")
        entries.append((file, label))
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise UserDataError(
            f"{path}: {len(missing)} listed files not found (paths are relative to {path.parent}): {shown}"
        )
    if not entries:
        raise UserDataError(f"{path}: no path,label rows")
    return entries


def load_user_data(path: Path, min_per_class: int = MIN_PER_CLASS, report=print) -> UserData:
    """Read and preprocess every listed image; `report` gets one line per skipped file."""
    path = Path(path)
    entries = list_csv(path) if path.suffix.lower() == ".csv" else list_folder(path)
    classes = tuple(sorted({label for _, label in entries}, key=class_sort_key))
    frames, labels, files, skipped = [], [], [], []
    for file, label in entries:
        try:
            frames.append(preprocess(file))
        except ImageError as error:
            reason = str(error).removeprefix(f"{file}: ")
            skipped.append((str(file), reason))
            report(f"skipped {file}: {reason}")
            continue
        labels.append(classes.index(label))
        files.append(str(file))
    counts = np.bincount(np.array(labels, dtype=np.int64), minlength=len(classes))
    small = [f"{name} ({count})" for name, count in zip(classes, counts) if count < min_per_class]
    if small:
        raise UserDataError(
            f"{path}: too few readable images in class {', '.join(small)}; each class needs at "
            f"least {min_per_class}" + (f" ({len(skipped)} files were skipped)" if skipped else "")
        )
    return UserData(
        images=np.stack(frames),
        labels=np.array(labels, dtype=np.int64),
        classes=classes,
        files=tuple(files),
        source=str(path),
        skipped=skipped,
    )


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, validation) indices holding out `fraction` of every class: at least one
    image of each, never all of one."""
    rng = np.random.default_rng(seed)
    train, validation = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_val = min(max(1, round(len(members) * fraction)), len(members) - 1)
        validation.append(members[:n_val])
        train.append(members[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(validation))
