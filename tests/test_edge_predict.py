"""`edge-predict` as a user runs it, and proof that the runtime needs no TensorFlow."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from commands import run_command


@pytest.fixture(scope="module")
def images(tmp_path_factory, mnist):
    """Real MNIST test digits as files, names with spaces and non-ASCII, plus a broken file."""
    folder = tmp_path_factory.mktemp("images")
    for index in range(6):
        big = 255 - np.kron(mnist.x_test[index], np.ones((5, 5), np.uint8))  # dark on light
        Image.fromarray(big).save(folder / f"digit {index} 数字.png")
    Image.fromarray(255 - mnist.x_test[6]).convert("RGB").save(folder / "photo.jpg", quality=90)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (folder / "notes.txt").write_text("not an image, and not picked up from a folder")
    return folder


def lines(result) -> list[str]:
    return result.stdout.decode().splitlines()


def test_reads_files_and_prints_path_digit_confidence(images, mnist):
    result = run_command("edge-predict", str(images / "digit 0 数字.png"), str(images / "photo.jpg"))
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in lines(result)]
    assert [row[0] for row in rows] == [str(images / "digit 0 数字.png"), str(images / "photo.jpg")]
    assert [int(row[1]) for row in rows] == [mnist.y_test[0], mnist.y_test[6]]
    assert all(row[2].endswith("%") and float(row[2][:-1]) > 50 for row in rows)


def test_folder_with_a_bad_file_reads_the_rest_and_exits_1(images, mnist):
    result = run_command("edge-predict", str(images))
    assert result.returncode == 1
    (error,) = result.stderr.decode().splitlines()
    assert error.startswith(f"{images / 'broken.png'}: cannot decode")
    read = {line.split("\t")[0]: int(line.split("\t")[1]) for line in lines(result)}
    assert len(read) == 7 and read[str(images / "photo.jpg")] == mnist.y_test[6]


def test_json_lines_with_top_k_and_timing(images):
    result = run_command("edge-predict", "--json", "--top-k", "3", str(images / "digit*.png"))  # glob unexpanded
    assert result.returncode == 0
    records = [json.loads(line) for line in lines(result)]
    assert len(records) == 6
    for record in records:
        assert record["digit"] == record["top_k"][0]["digit"] and len(record["top_k"]) == 3
        assert record["confidence"] == record["top_k"][0]["probability"] >= record["top_k"][1]["probability"]
        assert record["unsure"] is False and record["timing_ms"]["inference"] > 0
    assert "数字" in records[0]["path"]


def test_threshold_marks_unsure_answers(images):
    result = run_command("edge-predict", "--threshold", "1.0", "--json", str(images / "photo.jpg"))
    assert json.loads(result.stdout)["unsure"] is True
    text = run_command("edge-predict", "--threshold", "1.0", str(images / "photo.jpg"))
    assert lines(text)[0].endswith("\tunsure")


def test_stdin_and_save_input(images, tmp_path, mnist):
    data = (images / "digit 1 数字.png").read_bytes()
    result = run_command("edge-predict", "-", "--save-input", str(tmp_path / "seen"), input=data)
    assert result.returncode == 0 and lines(result)[0].split("\t")[:2] == ["-", str(mnist.y_test[1])]
    with Image.open(tmp_path / "seen" / "stdin.png") as seen:
        assert seen.size == (28, 28) and seen.mode == "L"


def test_many_images_piped_get_no_progress_bar(images):
    result = run_command("edge-predict", *[str(images / "photo.jpg")] * 30, "--batch-size", "8")
    assert result.returncode == 0 and len(lines(result)) == 30 and result.stderr == b""


@pytest.mark.parametrize(
    "args, code, message",
    [
        ([], 2, b"Missing argument"),
        (["--top-k", "0", "x.png"], 2, b"--top-k"),
        (
            ["--model", "/nonexistent/model.onnx", "x.png"],
            2,
            b"edge-predict: error: /nonexistent/model.onnx: no such model file",
        ),
        (["/nonexistent/image.png"], 1, b"/nonexistent/image.png: no such file"),
    ],
)
def test_usage_errors_and_missing_inputs(args, code, message):
    result = run_command("edge-predict", *args)
    assert result.returncode == code and message in result.stderr and b"Traceback" not in result.stderr


def test_help():
    result = run_command("edge-predict", "--help")
    assert result.returncode == 0 and b"--save-input" in result.stdout
    assert result.stdout.startswith(b"Usage: edge-predict [OPTIONS] PATH...\n")  # no braces around PATH


def test_a_tflite_model_reads_without_chatter_on_stderr(tmp_path):
    """stderr names failed inputs, nothing else: LiteRT's "Created TensorFlow Lite XNNPACK
    delegate" stays out of it."""
    assets = Path(__file__).parent.parent / "assets"
    sample = sorted((assets / "samples").glob("*.png"))[0]
    result = run_command("edge-predict", "--model", str(assets / "edge-int8.tflite"), str(sample))
    assert result.returncode == 0 and result.stderr == b"" and result.stdout.startswith(str(sample).encode())


BLOCK_TRAINING_STACK = """
import importlib.abc, sys
BLOCKED = ("tensorflow", "keras", "tf2onnx", "onnx", "tegaki.train", "tegaki.export")
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in BLOCKED or name.startswith(tuple(b + "." for b in BLOCKED)):
            raise ImportError(f"blocked for this test: {name}")
sys.meta_path.insert(0, Block())
from tegaki.runtime import DigitReader
print(DigitReader().read(sys.argv[1]).digit)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf2onnx", "onnx")))
"""


def test_runtime_works_with_the_training_stack_unimportable(images, mnist):
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_TRAINING_STACK, str(images / "photo.jpg")], capture_output=True, timeout=120
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().splitlines() == [str(mnist.y_test[6]), "[]"]
