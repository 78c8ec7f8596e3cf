"""The run folder: its layout (one name for each file, here only), and all of one run or all of
another, never a mix, never replaced unasked.

A run is written into a hidden work folder beside OUT (`.NAME.partial`, which also holds the
state `--resume` continues from) and becomes OUT by renaming the whole folder when it has
finished. Replacing an earlier finished run needs `force`; the earlier folder is renamed
aside (`.NAME.old-*`) and deleted after the switch. A kill between those two renames leaves
no OUT but a finished work folder: the next train-cnn for that OUT completes the switch.

Standard library only: train-cnn checks OUT before it loads TensorFlow.
"""

import os
import platform
import secrets
import shutil
from importlib import metadata as package_metadata
from pathlib import Path

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"  # written last: a folder holding it is a finished run
HISTORY_FILE = "history.csv"
PLOT_FILE = "history.png"
LOGS_DIR = "logs"  # TensorBoard's, unless --logdir puts them elsewhere
PARITY_FILE = "parity.json"  # export-cnn's checks of each export against the Keras model
RUN_FILES = (MODEL_FILE, METADATA_FILE)
STATE_DIR = "state"  # in the work folder: what --resume continues from


class RunFolderError(Exception):
    """OUT cannot take this run; the message says why and what to do."""


def default_out(arch: str | None) -> Path:
    """Where a run goes without --out: models/ARCH, or models/finetuned for the user's images
    (`arch` None)."""
    return Path("models") / (arch or "finetuned")


def work_folder(out: Path) -> Path:
    return out.parent / f".{out.name}.partial"


def is_run(folder: Path) -> bool:
    return any((folder / name).exists() for name in RUN_FILES)


def recover(out: Path) -> None:
    """Finish a switch a kill interrupted, and delete earlier runs left aside."""
    work = work_folder(out)
    if not out.exists() and (work / METADATA_FILE).is_file():
        publish(work, out)
    for old in out.parent.glob(f".{out.name}.old-*"):
        shutil.rmtree(old, ignore_errors=True)


def check_out(out: Path, force: bool, resume: bool) -> None:
    """Refuse to start a run whose result could not be put at OUT as asked."""
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not is_run(out):
            raise RunFolderError(f"--out {out} holds other files and no tegaki run; choose a new or empty folder")
        if not force:
            raise RunFolderError(
                f"--out {out} holds a finished run; pass --force to replace it (its exports and "
                "logs with it) or choose another --out"
            )
    if resume and not (work_folder(out) / STATE_DIR).is_dir():
        raise RunFolderError(f"nothing to resume: no interrupted run for {out} (looked in {work_folder(out)})")


def start(out: Path, resume: bool) -> Path:
    """The work folder for this run: kept when resuming, else made afresh."""
    work = work_folder(out)
    if work.exists() and not resume:
        shutil.rmtree(work)  # an interrupted earlier run: start afresh unless resuming
    work.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".staging-*") if out.is_dir() else []:  # left by a kill in earlier versions
        shutil.rmtree(stale, ignore_errors=True)
    return work


def inside_work(path: Path, out: Path) -> Path:
    """Where to write `path` during the run: inside the work folder if it is inside OUT (the
    TensorBoard logs, by default), so that it arrives with the run; elsewhere, as given."""
    try:
        return work_folder(out) / path.resolve().relative_to(out.resolve())
    except ValueError:
        return path


def publish(work: Path, out: Path) -> None:
    """Make the finished work folder OUT, in one rename when OUT is new."""
    shutil.rmtree(work / STATE_DIR, ignore_errors=True)  # finished: nothing left to resume
    if out.exists():
        old = out.parent / f".{out.name}.old-{secrets.token_hex(4)}"
        os.rename(out, old)
        os.rename(work, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(work, out)


def library_versions() -> dict[str, str]:
    """The versions a run's metadata records, read from the installed packages' metadata
    (nothing is imported)."""
    versions = {"python": platform.python_version()}
    for package in ("tensorflow", "keras", "numpy", "tegaki"):
        try:
            versions[package] = package_metadata.version(package)
        except package_metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions
