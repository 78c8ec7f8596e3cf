"""Running tegaki's commands as a user would, for every test module (on pytest's
`pythonpath`, see pyproject.toml: imported by name, not from conftest)."""

import os
import subprocess
import sys
from pathlib import Path

# The tiny model every later test builds on: one epoch on 4,000 real training images
# (confident enough that int8 exports can meet the parity rules).
TINY_TRAIN_ARGS = ["--limit", "4000", "--epochs", "1", "--batch-size", "32", "--seed", "1"]


def run_command(*args: str, input: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run one of the installed console scripts as a user would."""
    script = Path(sys.executable).with_name(args[0])
    return subprocess.run(
        [str(script), *args[1:]],
        capture_output=True,
        input=input,
        timeout=600,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


def heavy_modules_after_import(module: str) -> list[str]:
    """The TensorFlow, Keras and matplotlib modules that importing `module` loads, in a fresh
    interpreter (a command's --help must answer without them)."""
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, {module}; "
            "print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'matplotlib'))))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return probe.stdout.split()


# What a finished train-cnn run folder holds, no more (its TensorBoard logs in logs/)
RUN_FOLDER_FILES = ["history.csv", "history.png", "logs", "metadata.json", "model.keras"]
