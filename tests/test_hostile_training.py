"""Hostile and odd inputs to train-cnn and export-cnn (issue 12): a finished run is never
replaced unasked, the run folder is always one whole run, and bad files get one line."""

import json
import zipfile

import pytest
from test_mnist_loader import small, write_idx_folder  # noqa: F401 (small is a fixture)

from tegaki.train.mnist import MnistError, load_mnist

from commands import run_command


def corrupt_deflate(path):
    """Keep the gzip header, garble the compressed data after it."""
    data = bytearray(path.read_bytes())
    data[20:40] = b"\xff" * 20
    path.write_bytes(bytes(data))


def test_corrupt_gzip_data_is_one_mnist_error(tmp_path, small):
    folder = write_idx_folder(tmp_path / "mnist", small)
    corrupt_deflate(folder / "train-images-idx3-ubyte.gz")
    with pytest.raises(MnistError, match=r"train-images-idx3-ubyte.gz: cannot read \(.*"):
        load_mnist(folder)
    result = run_command("train-cnn", "--data", str(folder), "--out", str(tmp_path / "out"), "--epochs", "1")
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    last = result.stderr.decode().splitlines()[-1]  # after TensorFlow's own start-up lines
    assert last.startswith(f"train-cnn: error: {folder / 'train-images-idx3-ubyte.gz'}: cannot read (")


def test_a_finished_run_is_not_replaced_without_force(tmp_path):
    out = tmp_path / "seed"
    out.mkdir()
    (out / "model.keras").write_text("a finished 12-epoch model")
    (out / "metadata.json").write_text("{}")
    result = run_command("train-cnn", "--limit", "2000", "--epochs", "1", "--out", str(out))
    assert result.returncode == 2
    assert f"--out {out} holds a finished run; pass --force".encode() in result.stderr
    assert (out / "model.keras").read_text() == "a finished 12-epoch model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed"]


def test_out_with_other_files_is_refused_even_with_force(tmp_path):
    (tmp_path / "notes.txt").write_text("the user's own file")
    result = run_command("train-cnn", "--epochs", "1", "--out", str(tmp_path), "--force")
    assert result.returncode == 2 and b"holds other files and no tegaki run" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "the user's own file"


def test_force_replaces_the_whole_run_folder(tmp_path):
    out = tmp_path / "seed"
    (out / "logs" / "train").mkdir(parents=True)
    (out / "logs" / "train" / "events.out.tfevents.old").write_text("the earlier run's log")
    (out / ".staging-abc123").mkdir()  # left by a kill in an earlier version
    for name in ("model.keras", "metadata.json", "seed.onnx", "parity.json"):
        (out / name).write_text("earlier run")
    result = run_command(
        "train-cnn",
        "--limit",
        "500",
        "--epochs",
        "1",
        "--batch-size",
        "50",
        "--out",
        str(out),
        "--logdir",
        str(out / "tb"),
        "--force",
    )
    assert result.returncode == 0, result.stderr.decode()[-1500:]
    assert f"output: {out}".encode() in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["history.csv", "history.png", "metadata.json", "model.keras", "tb"]
    assert list((out / "tb").rglob("events.out.tfevents.*"))  # a --logdir inside OUT arrives with the run
    assert json.loads((out / "metadata.json").read_text())["train_images"] == 450
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed"]


def test_a_switch_cut_short_by_a_kill_is_completed_not_mixed(tmp_path):
    """What a kill between the two renames of a --force run leaves: no OUT, the earlier run
    set aside, the new one finished in the work folder. The next call completes the switch."""
    (tmp_path / ".seed.old-1234abcd").mkdir()
    (tmp_path / ".seed.old-1234abcd" / "model.keras").write_text("earlier run")
    work = tmp_path / ".seed.partial"
    (work / "state").mkdir(parents=True)
    for name in ("model.keras", "history.csv", "history.png", "metadata.json"):
        (work / name).write_text("new run")
    result = run_command("train-cnn", "--epochs", "1", "--out", str(tmp_path / "seed"))
    assert result.returncode == 2 and b"holds a finished run" in result.stderr  # the new one, now in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed"]
    assert {p.name: p.read_text() for p in (tmp_path / "seed").iterdir()} == {
        name: "new run" for name in ("model.keras", "history.csv", "history.png", "metadata.json")
    }


def test_resume_with_nothing_to_resume_says_so(tmp_path):
    result = run_command("train-cnn", "--epochs", "1", "--out", str(tmp_path / "new"), "--resume")
    assert result.returncode == 2 and b"nothing to resume: no interrupted run for" in result.stderr


def test_export_of_a_model_with_truncated_metadata_is_one_line(tiny_run, tmp_path):
    (tmp_path / "model.keras").write_bytes((tiny_run / "model.keras").read_bytes())
    (tmp_path / "metadata.json").write_text((tiny_run / "metadata.json").read_text()[:100])
    result = run_command("export-cnn", str(tmp_path / "model.keras"), "-f", "onnx", "--out", str(tmp_path / "dist"))
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    line = result.stderr.decode().splitlines()[-1]  # after TensorFlow's own start-up lines
    assert line.startswith(f"export-cnn: error: {tmp_path / 'metadata.json'}: cannot read the training metadata")
    assert not (tmp_path / "dist").exists()


def test_failed_export_leaves_no_empty_out_folder(tiny_run, tmp_path, small):
    broken = write_idx_folder(tmp_path / "mnist", small)
    corrupt_deflate(broken / "t10k-images-idx3-ubyte.gz")
    result = run_command(
        "export-cnn",
        str(tiny_run / "model.keras"),
        "-f",
        "onnx",
        "--data",
        str(broken),
        "--out",
        str(tmp_path / "dist" / "onnx"),
    )
    assert result.returncode == 1 and b"cannot read" in result.stderr and b"Traceback" not in result.stderr
    assert not (tmp_path / "dist" / "onnx").exists()


def test_a_zip_that_is_not_a_keras_model_says_so(tmp_path):
    with zipfile.ZipFile(tmp_path / "model.keras", "w") as archive:
        archive.writestr("notes.txt", "a zip, but no model")
    result = run_command("export-cnn", str(tmp_path / "model.keras"), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"export-cnn: error: {tmp_path / 'model.keras'}: not a Keras model "
        "(a zip archive without the config.json a .keras file holds)\n"
    )
    assert not (tmp_path / "out").exists()
