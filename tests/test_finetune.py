"""train-cnn --data on the user's own images: loading, bad input, and a real fine-tuning run
on seven-segment digits (tegaki.train.synthetic_digits), exported and read by the runtime."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from tegaki.runtime.preprocessing import preprocess
from tegaki.train.synthetic_digits import CLASSES, synthetic_digits, write_folder
from tegaki.train.user_data import MIN_PER_CLASS, UserDataError, is_user_data, load_user_data, stratified_split

from commands import RUN_FOLDER_FILES, run_command

FINE_TUNE_PER_CLASS = 40  # "a few dozen images per class"
HELD_OUT_PER_CLASS = 30  # a different seed: images the model never trained on


def png(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    """Three classes of MIN_PER_CLASS + 2 seven-segment images, laid out as class folders."""
    root = tmp_path_factory.mktemp("small") / "digits"
    return write_folder(root, synthetic_digits(MIN_PER_CLASS + 2, seed=5, classes=("1", "7", "minus")))


def copy_set(small_set, tmp_path):
    target = tmp_path / "digits"
    for file in small_set.rglob("*.*"):
        (target / file.parent.name).mkdir(parents=True, exist_ok=True)
        (target / file.parent.name / file.name).write_bytes(file.read_bytes())
    return target


def test_folder_frames_are_the_runtimes_preprocessing_and_classes_put_digits_first(small_set):
    data = load_user_data(small_set)
    assert data.classes == ("1", "7", "minus")
    assert data.counts() == {"1": MIN_PER_CLASS + 2, "7": MIN_PER_CLASS + 2, "minus": MIN_PER_CLASS + 2}
    for index in (0, len(data.files) - 1):
        np.testing.assert_array_equal(data.images[index], preprocess(data.files[index]))
    assert data.skipped == [] and len(data.sha256()) == 64


def test_csv_gives_the_same_data_as_the_folder(small_set, tmp_path):
    rows = ["path,label"] + [
        f"{file.relative_to(small_set)},{file.parent.name}" for file in sorted(small_set.rglob("*.*"))
    ]
    csv_file = small_set / "labels.csv"  # beside the class folders: paths are relative to it
    csv_file.write_text("\n".join(rows) + "\n")
    try:
        from_csv, from_folder = load_user_data(csv_file), load_user_data(small_set)
    finally:
        csv_file.unlink()
    assert from_csv.classes == from_folder.classes and from_csv.sha256() == from_folder.sha256()


def test_mixed_image_formats_all_load(small_set, tmp_path):
    root = tmp_path / "mixed"
    (root / "7").mkdir(parents=True)
    source = Image.open(next((small_set / "7").glob("*.png"))).convert("RGB")
    variants = {
        "a.png": png(source),
        "b.jpg": png(source, "JPEG"),
        "c.bmp": png(source, "BMP"),
        "d.gif": png(source.convert("P"), "GIF"),
        "e.tiff": png(source, "TIFF"),
        "f.webp": png(source, "WEBP"),
        "g.png": png(source.convert("RGBA")),
        "h.png": png(source.convert("L")),
        "i.png": png(source.convert("1")),
        "j.png": png(Image.fromarray(np.asarray(source.convert("L"), np.uint16) * 257)),
    }
    for name, data in variants.items():
        (root / "7" / name).write_bytes(data)
    data = load_user_data(root, min_per_class=len(variants))
    assert data.counts() == {"7": len(variants)} and data.skipped == []


def test_unreadable_files_are_listed_one_line_each_and_skipped(small_set, tmp_path):
    root = copy_set(small_set, tmp_path)
    good = next((root / "1").glob("*.png")).read_bytes()
    (root / "1" / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "1" / "notes.txt").write_text("not an image")
    (root / "7" / "blank.png").write_bytes(png(Image.new("L", (40, 60), 255)))
    (root / "7" / ".DS_Store").write_bytes(b"\0\1")  # hidden files are not data
    lines = []
    data = load_user_data(root, report=lines.append)
    assert sorted(lines) == sorted(
        [
            f"skipped {root / '1' / 'truncated.png'}: cannot decode (image file is truncated)",
            f"skipped {root / '1' / 'notes.txt'}: not an image Pillow can read",
            f"skipped {root / '7' / 'blank.png'}: no digit found",
        ]
    ), lines
    assert len(data.skipped) == 3 and data.counts()["1"] == MIN_PER_CLASS + 2


def bad_sets(root, small_set):
    """name -> (path to give --data, the message expected)"""
    cases = {}
    empty = root / "empty"
    empty.mkdir()
    cases["no sub-folders"] = (empty, f"{empty}: no class sub-folders. --data takes a folder")
    loose = root / "loose"
    loose.mkdir()
    (loose / "a.png").write_bytes(next((small_set / "1").glob("*.png")).read_bytes())
    cases["images but no class folders"] = (loose, f"{loose}: no class sub-folders (it holds files but no sub-folders)")
    empty_class = copy_set(small_set, root / "empty-class")
    (empty_class / "x").mkdir()
    cases["empty class folder"] = (empty_class, f"{empty_class / 'x'}: empty class folder")
    few = copy_set(small_set, root / "few")
    for file in sorted((few / "minus").iterdir())[3:]:
        file.unlink()
    cases["class below the minimum"] = (
        few,
        f"{few}: too few readable images in class minus (3); each class needs at least {MIN_PER_CLASS}",
    )
    corrupt = copy_set(small_set, root / "corrupt")
    for file in (corrupt / "7").iterdir():
        file.write_bytes(file.read_bytes()[:100])
    cases["a class of corrupt files"] = (
        corrupt,
        f"too few readable images in class 7 (0); each class needs at least {MIN_PER_CLASS} "
        f"({MIN_PER_CLASS + 2} files were skipped)",
    )
    bad_name = copy_set(small_set, root / "bad-name")
    (bad_name / "minus").rename(bad_name / "10")
    cases["numeric class beyond 9"] = (bad_name, "'10' is not a class name: numeric classes are the digits 0-9")
    files = sorted(small_set.rglob("*.png"))
    unknown_path = root / "unknown-path.csv"
    unknown_path.write_text(f"{files[0]},1\nnowhere/missing.png,1\n")
    cases["CSV naming a missing file"] = (
        unknown_path,
        f"{unknown_path}: 1 listed files not found (paths are relative to {root}): nowhere/missing.png (line 2)",
    )
    bad_label = root / "bad-label.csv"
    bad_label.write_text(f"path,label\n{files[0]},1\n{files[1]},1.0\n")
    cases["CSV with an unknown label"] = (bad_label, f"{bad_label}, line 3: '1.0' is not a class name")
    empty_label = root / "empty-label.csv"
    empty_label.write_text(f"{files[0]},\n")
    cases["CSV with an empty label"] = (empty_label, f"{empty_label}, line 1: '' is not a class name")
    fields = root / "fields.csv"
    fields.write_text(f"{files[0]},1,extra\n")
    cases["CSV with three fields"] = (fields, f"{fields}, line 1: 3 fields, expected 2 (path,label)")
    return cases


def test_each_bad_data_set_is_one_clear_error(small_set, tmp_path):
    for name, (path, message) in bad_sets(tmp_path, small_set).items():
        assert is_user_data(path), name
        with pytest.raises(UserDataError) as error:
            load_user_data(path, report=lambda line: None)
        assert message in str(error.value), (name, str(error.value))
        assert "\n" not in str(error.value), name


def test_bad_data_through_the_command_writes_nothing(small_set, tmp_path):
    few = copy_set(small_set, tmp_path / "few")
    for file in sorted((few / "7").iterdir())[2:]:
        file.unlink()
    out = tmp_path / "out"
    result = run_command("train-cnn", "--data", str(few), "--out", str(out))
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert result.stderr.decode().strip().splitlines() == [
        f"train-cnn: error: {few}: too few readable images in class 7 (2); each class needs at least {MIN_PER_CLASS}"
    ]
    assert not out.exists()


def test_fine_tuning_options_need_your_images(tmp_path):
    result = run_command("train-cnn", "--init", "scratch", "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and b"applies only to training on your own images" in result.stderr


def test_mnist_and_user_data_are_told_apart(mnist, small_set, tmp_path):
    import os

    from tegaki.train.mnist import ENV_VAR

    assert not is_user_data(os.environ.get(ENV_VAR, mnist.source))
    assert is_user_data(small_set) and is_user_data(tmp_path / "labels.csv")
    assert not is_user_data(tmp_path / "mnist.npz")


def test_stratified_split_holds_out_every_class():
    labels = np.repeat([0, 1, 2], [10, 20, 40])
    train, validation = stratified_split(labels, 0.1, seed=0)
    assert np.bincount(labels[validation]).tolist() == [1, 2, 4]
    assert sorted([*train, *validation]) == list(range(70))
    np.testing.assert_array_equal(validation, stratified_split(labels, 0.1, seed=0)[1])


@pytest.fixture(scope="module")
def start_init(request) -> str:
    """`--init` for the fine-tuning test: the shipped model when its .keras file is installed
    (the default), else the tiny edge model the other tests train."""
    from tegaki.train.finetune import shipped_keras_path

    if shipped_keras_path().is_file():
        return "shipped"
    return str(request.getfixturevalue("tiny_edge_run") / "model.keras")


def held_out_accuracy(reader, images) -> float:
    return float(
        np.mean([p.label == item.label for p, item in zip(reader.read_many([i.data for i in images]), images)])
    )


def test_fine_tuning_learns_a_new_style_and_class_and_keeps_mnist(start_init, mnist, tmp_path):

    from tegaki.runtime import DigitReader
    from tegaki.runtime.contract import to_model_input
    from tegaki.train.finetune import load_start_model

    data = write_folder(tmp_path / "my-digits", synthetic_digits(FINE_TUNE_PER_CLASS, seed=1))
    held_out = synthetic_digits(HELD_OUT_PER_CLASS, seed=1001)
    out = tmp_path / "run"
    result = run_command(
        "train-cnn",
        "--data",
        str(data),
        "--out",
        str(out),
        *([] if start_init == "shipped" else ["--init", start_init]),
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert b"model: 10 -> 11 classes (adds minus): the last layer is replaced" in result.stdout

    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["labels"] == [str(d) for d in range(10)] + ["minus"]
    assert metadata["data"]["images"] == {name: FINE_TUNE_PER_CLASS for name in CLASSES}
    assert metadata["fine_tuning"]["init"] == start_init and metadata["fine_tuning"]["replaced_last_layer"]
    assert sorted(p.name for p in out.iterdir()) == RUN_FOLDER_FILES

    export = run_command("export-cnn", str(out / "model.keras"), "-f", "onnx", "-f", "onnx-int8")
    assert export.returncode == 0, export.stdout.decode()[-1500:] + export.stderr.decode()[-1500:]

    # before: the start model through the same preprocessing; it has no `minus`, so those count as wrong
    start, labels = load_start_model(start_init)
    frames = to_model_input(np.stack([preprocess(item.data) for item in held_out]))
    guesses = start.predict(frames, verbose=0).argmax(1)
    before = np.mean([labels[g] == item.label for g, item in zip(guesses, held_out)])
    start_mnist = np.mean(
        start.predict(to_model_input(mnist.x_test), batch_size=1000, verbose=0).argmax(1) == mnist.y_test
    )
    # after: the exported files, read end to end by the runtime
    after = {
        fmt: held_out_accuracy(DigitReader(out / f"edge{suffix}"), held_out)
        for fmt, suffix in (("onnx", ".onnx"), ("onnx-int8", "-int8.onnx"))
    }
    print(
        f"held-out display images: {before:.1%} -> {after}; MNIST {start_mnist:.2%} -> {metadata['test']['accuracy']:.2%}"
    )
    assert before < 0.9 and after["onnx"] >= 0.99 and after["onnx-int8"] >= 0.99
    assert metadata["test"]["accuracy"] >= start_mnist - 0.003  # MNIST not forgotten

    minus = tmp_path / "minus.png"
    minus.write_bytes(next(item.data for item in held_out if item.label == "minus"))
    # --single: the number reader drops a lone flat bar as a ruled line (docs/finetune.md)
    predicted = run_command("edge-predict", str(minus), "--single", "--model", str(out / "edge-int8.onnx"), "--json")
    assert predicted.returncode == 0, predicted.stderr.decode()
    line = json.loads(predicted.stdout)
    assert predicted.returncode == 0 and line["label"] == "minus" and line["digit"] is None
