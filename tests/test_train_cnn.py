import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tegaki.runtime.contract import INPUT_CONTRACT, to_model_input
from tegaki.train.mnist import split_validation

from commands import RUN_FOLDER_FILES, TINY_TRAIN_ARGS, heavy_modules_after_import, run_command


def test_tiny_run_writes_every_output(tiny_run, mnist):
    metadata = json.loads((tiny_run / "metadata.json").read_text())
    assert metadata["architecture"] == "seed" and metadata["epochs"] == 1 and metadata["seed"] == 1
    assert metadata["parameters"] == 1_199_882  # the tutorial's model, layer for layer
    assert metadata["train_images"] + metadata["validation_images"] == 4000
    assert metadata["data"]["train_sha256"] == mnist.train_sha256()
    assert metadata["input"] == json.loads(json.dumps(INPUT_CONTRACT))
    assert {"tensorflow", "keras", "numpy", "python"} <= metadata["versions"].keys()
    assert metadata["train_seconds"] > 0

    rows = list(csv.DictReader((tiny_run / "history.csv").open()))
    assert len(rows) == 1 and {"loss", "accuracy", "val_loss", "val_accuracy"} <= rows[0].keys()
    with Image.open(tiny_run / "history.png") as plot:
        assert plot.format == "PNG" and plot.width > 300
    events = list((tiny_run / "logs").rglob("events.out.tfevents.*"))
    assert {p.parent.name for p in events} >= {"train", "validation"}
    assert not list(tiny_run.glob(".staging-*")), "staging folder left behind"


def test_tiny_model_scores_well_above_chance(tiny_run, mnist):
    import keras

    model = keras.models.load_model(tiny_run / "model.keras")
    probabilities = model.predict(to_model_input(mnist.x_test), batch_size=1000, verbose=0)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == mnist.y_test))
    assert accuracy > 0.85, accuracy  # chance is 0.1
    metadata = json.loads((tiny_run / "metadata.json").read_text())
    assert metadata["test"]["accuracy"] == pytest.approx(accuracy, abs=1e-4)


def test_validation_split_is_seeded_disjoint_and_complete():
    train, val = split_validation(1000, 0.1, seed=3)
    assert len(val) == 100 and len(train) == 900
    assert not set(train) & set(val) and set(train) | set(val) == set(range(1000))
    np.testing.assert_array_equal(val, split_validation(1000, 0.1, seed=3)[1])
    assert not np.array_equal(val, split_validation(1000, 0.1, seed=4)[1])


@pytest.mark.parametrize("command", ["train-cnn", "export-cnn"])
def test_help(command):
    result = run_command(command, "--help")
    assert result.returncode == 0 and b"Usage:" in result.stdout


def test_help_lists_every_architecture_without_loading_tensorflow():
    from tegaki.train.architectures import ARCHITECTURES

    result = run_command("train-cnn", "--help")
    unwrapped = "".join(result.stdout.decode().split())  # help text wraps lines
    for name, recipe in ARCHITECTURES.items():
        assert f"{name}:" in unwrapped and f"{recipe.epochs}epochs" in unwrapped
    assert heavy_modules_after_import("tegaki.train.cli") == []


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--epochs", "0"], 2, b"--epochs"),
        (["--arch", "resnet9000"], 2, b"'resnet9000' is not one of: seed, edge"),
        (["--val-split", "0.9"], 2, b"--val-split"),
        (["--no-such-option"], 2, b"No such option"),
        (["--data", "/nonexistent/mnist"], 1, b"train-cnn: error: /nonexistent/mnist (from --data) does not exist"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_clear_message(tmp_path, args, code, message):
    result = run_command("train-cnn", *args, "--out", str(tmp_path / "out"))
    assert result.returncode == code
    assert message in result.stderr and b"Traceback" not in result.stderr
    assert not (tmp_path / "out" / "model.keras").exists()


def test_unwritable_out_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder should go")
    result = run_command("train-cnn", *TINY_TRAIN_ARGS, "--limit", "50", "--out", str(blocker / "out"))
    assert result.returncode == 1 and b"train-cnn: error: cannot write" in result.stderr
    assert b"Traceback" not in result.stderr


def test_ctrl_c_writes_nothing_and_resume_finishes_the_run(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    earlier = {"model.keras": "an earlier run's model", "metadata.json": "{}", "seed.onnx": "its export"}
    for name, text in earlier.items():
        (out / name).write_text(text)
    args = ["--limit", "3000", "--epochs", "3", "--batch-size", "32", "--out", str(out), "--force"]
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("train-cnn")), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    for line in process.stdout:  # wait until the first epoch is over
        if line.startswith(b"Epoch 2/3"):
            break
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr.decode()[-1000:]
    assert b"stopping after this batch" in stderr  # between steps, not inside TensorFlow's
    assert b"interrupted; no output files were written (rerun with --resume" in stderr
    assert {p.name: p.read_text() for p in out.iterdir()} == earlier  # all of the earlier run, nothing else
    first_epoch = json.loads((tmp_path / ".out.partial" / "state" / "seconds.json").read_text())["0"]

    resumed = run_command("train-cnn", *args, "--resume")
    assert resumed.returncode == 0, resumed.stderr.decode()[-1500:]
    assert b"Epoch 1/3" not in resumed.stdout and b"Epoch 3/3" in resumed.stdout  # picked up after epoch 1
    rows = list(csv.DictReader((out / "history.csv").open()))
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]  # counted as the console counts them
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["epochs_run"] == 3 and metadata["test"]["accuracy"] > 0.85
    # the training time counts the epoch before the interruption too
    assert metadata["epoch_seconds"][0] == round(first_epoch, 1) and len(metadata["epoch_seconds"]) == 3
    assert metadata["train_seconds"] == pytest.approx(sum(metadata["epoch_seconds"]), abs=0.2)
    assert sorted(p.name for p in out.iterdir()) == RUN_FOLDER_FILES
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no work folder, no staging, no old run left


def test_edge_recipe_trains_with_augmentation_and_early_stopping_bookkeeping(tiny_edge_run):
    metadata = json.loads((tiny_edge_run / "metadata.json").read_text())
    assert metadata["architecture"] == "edge" and metadata["parameters"] == 33_626
    assert metadata["multiply_accumulates"] == 3_726_208
    assert metadata["optimizer"] == "AdamW" and metadata["epochs_run"] == 2
    assert 1 <= metadata["validation"]["best_epoch"] <= 2
    assert metadata["test"]["accuracy"] > 0.5  # 5x chance after 336 steps (runs vary by a few points)


def test_multiply_accumulates_of_the_tutorial_model():
    from tegaki.train.architectures import build_seed, multiply_accumulates

    # conv1 26*26*32*9 + conv2 24*24*64*9*32 + dense 9216*128 + 128*10
    assert multiply_accumulates(build_seed()) == 194_688 + 10_616_832 + 1_179_648 + 1_280
