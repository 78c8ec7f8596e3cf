"""Checks on the .keras file export-cnn is given that need no TensorFlow, so that they answer at once."""

import zipfile
from pathlib import Path


class ExportError(Exception):
    """The model could not be read or an export could not be made; one-line message."""


def check_model_file(path: Path) -> None:
    """What can be said of a .keras file without Keras (which says "File not found" for a
    file that is there but not a model): it exists and is a zip archive holding a config."""
    if not path.is_file():
        raise ExportError(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        raise ExportError(f"{path}: not a Keras model (a .keras file is a zip archive; this one is not)") from None
    if "config.json" not in names:
        raise ExportError(f"{path}: not a Keras model (a zip archive without the config.json a .keras file holds)")
