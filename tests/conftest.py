"""Shared fixtures: real MNIST through the product's own loader, and one tiny real model.

MNIST comes from wherever tegaki.train.mnist finds it: $TEGAKI_MNIST (this repo's CI points
it at ../shared/data/mnist), the Keras cache, or Keras's download on an online machine.
"""

import json
from pathlib import Path

import pytest

from tegaki.train.mnist import MnistError, load_mnist

from commands import TINY_TRAIN_ARGS, run_command


@pytest.fixture(scope="session")
def mnist():
    """MNIST, or one clear message that stops the run: nearly every test reads it, and 60
    errors repeating the same "not found" help nobody."""
    try:
        return load_mnist()
    except MnistError as error:
        pytest.exit(f"the tests need MNIST: {error}", returncode=1)


@pytest.fixture(scope="session")
def tiny_run(mnist, tmp_path_factory) -> Path:
    """Output folder of a real `train-cnn` run on a small subset."""
    out = tmp_path_factory.mktemp("tiny-run")
    result = run_command("train-cnn", *TINY_TRAIN_ARGS, "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return out


@pytest.fixture(scope="session")
def tiny_edge_run(mnist, tmp_path_factory) -> Path:
    """The edge architecture (augmentation, batch norm, one-cycle), two short epochs: enough
    steps (336) for batch norm's moving averages (momentum 0.99) to forget their start."""
    out = tmp_path_factory.mktemp("tiny-edge")
    result = run_command(
        "train-cnn", "--arch", "edge", "--limit", "6000", "--epochs", "2", "--batch-size", "32", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return out


@pytest.fixture(scope="session")
def tiny_export(tiny_run, tmp_path_factory) -> Path:
    """Every export format of the tiny model, made by one real `export-cnn` run. A format
    whose parity check fails is not written (export exits 1): only the tests that ask for
    that format fail, through `tiny_export_file`, not every test of every format."""
    out = tmp_path_factory.mktemp("tiny-export")
    result = run_command("export-cnn", str(tiny_run / "model.keras"), "--format", "all", "--out", str(out))
    assert (out / "parity.json").is_file(), result.stdout.decode()[-2000:] + result.stderr.decode()[-2000:]
    return out


@pytest.fixture(scope="session")
def tiny_export_file(tiny_export):
    """`tiny_export_file("onnx-int8")`: that format's file, or a failure naming the parity
    check that kept it from being written."""
    reports = {r["format"]: r for r in json.loads((tiny_export / "parity.json").read_text())}

    def path(fmt: str) -> Path:
        if reports[fmt]["failed"]:
            pytest.fail(f"export-cnn refused {fmt}: {'; '.join(reports[fmt]['failed'])}")
        return tiny_export / Path(reports[fmt]["file"]).name

    return path


TRAINED_FIXTURES = {"tiny_run", "tiny_edge_run", "tiny_export", "tiny_export_file"}
TENSORFLOW_MODULES = {"test_train_cnn", "test_export_cnn", "test_finetune", "test_hostile_training", "test_augment"}


def pytest_collection_modifyitems(items):
    """Mark what trains, exports or loads TensorFlow as slow: `pytest -m "not slow"` is the
    quick loop of a developer (about a minute), the full run is CI's."""
    for item in items:
        if TRAINED_FIXTURES & set(item.fixturenames) or item.module.__name__ in TENSORFLOW_MODULES:
            item.add_marker(pytest.mark.slow)
