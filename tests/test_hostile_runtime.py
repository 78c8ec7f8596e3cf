"""Hostile and odd inputs to the runtime (issue 12): every bad input is one ImageError or
ModelError, never another exception; one bad image never costs the others their results;
no input or earlier file is ever overwritten. docs/hostile-inputs.md lists the cases."""

import io
import json
import os
import signal
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tegaki.runtime import DigitReader, ImageError, ModelError, preprocess

from commands import run_command


@pytest.fixture(scope="module")
def reader():
    return DigitReader()


def dark_on_light(digit: np.ndarray, factor: int = 4) -> np.ndarray:
    return 255 - np.kron(digit, np.ones((factor, factor), np.uint8))


def encoded(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


# --- the library: every bad input raises ImageError (items 3, 4, 10, 11) ---------------------


@pytest.mark.parametrize(
    "source, message",
    [
        (None, "cannot read a NoneType"),
        (3, "cannot read a int"),
        ([1, 2, 3], "cannot read a list"),
        (np.array([["a", "b"], ["c", "d"]]), "dtype <U1 is not an image"),
        (np.array([[object(), None]] * 4), "dtype object is not an image"),
        (np.full((40, 40), np.nan, np.float32), "NaN or infinite"),
    ],
)
def test_inputs_that_are_not_images_raise_image_error(reader, source, message):
    with pytest.raises(ImageError, match=message):
        reader.read(source)


def test_bytearray_and_memoryview_read_like_bytes(reader, mnist):
    data = encoded(Image.fromarray(dark_on_light(mnist.x_test[0])))
    expected = reader.read(data)
    for source in (bytearray(data), memoryview(data)):
        assert reader.read(source).image.tobytes() == expected.image.tobytes()


def test_lazily_opened_truncated_image_raises_image_error(reader, mnist, tmp_path):
    path = tmp_path / "cut.png"
    path.write_bytes(encoded(Image.fromarray(dark_on_light(mnist.x_test[0])))[:150])
    with Image.open(path) as lazy:  # the header is fine; decoding fails later
        with pytest.raises(ImageError, match="cannot decode"):
            reader.read(lazy)


def test_lab_and_premultiplied_la_images_read_like_the_rgb_one(reader, mnist):
    rgb = Image.fromarray(dark_on_light(mnist.x_test[0])).convert("RGB")
    expected = preprocess(rgb)
    lab, la = rgb.convert("LAB"), rgb.convert("LA").convert("La")
    assert (lab.mode, la.mode) == ("LAB", "La")
    for image in (lab, la):
        assert np.abs(preprocess(image).astype(int) - expected).mean() < 2
        assert reader.read(image).digit == mnist.y_test[0]


def test_uint16_array_reads_exactly_like_the_same_16_bit_png(reader, mnist, tmp_path):
    array = dark_on_light(mnist.x_test[0]).astype(np.uint16) * 257  # full 16-bit range
    path = tmp_path / "sixteen.png"
    Image.fromarray(array).save(path)
    with Image.open(path) as file_image:
        assert file_image.mode.startswith("I")  # really a 16-bit file
    from_file, from_array = reader.read(path), reader.read(array)
    assert from_file.digit == from_array.digit == mnist.y_test[0]
    assert from_file.image.tobytes() == from_array.image.tobytes()


def test_float_tiff_with_nan_pixels_raises_image_error(reader, mnist, tmp_path):
    values = dark_on_light(mnist.x_test[0]).astype(np.float32) / 255
    for name, nans in (("one-nan.tif", (slice(0, 1), slice(0, 1))), ("all-nan.tif", (slice(None), slice(None)))):
        image = values.copy()
        image[nans] = np.nan
        Image.fromarray(image, mode="F").save(tmp_path / name)
        with pytest.raises(ImageError, match="NaN or infinite"):
            reader.read(tmp_path / name)


@pytest.mark.parametrize("size", [(1, 1000), (1000, 1), (2, 5000), (5000, 2)])
def test_extreme_aspect_ratios_give_an_answer_or_image_error(reader, size):
    strip = np.full(size[::-1], 255, np.uint8)
    strip[tuple(slice(n // 3, 2 * n // 3) for n in strip.shape)] = 0  # a dark dash in the middle
    try:
        assert 0 <= reader.read(encoded(Image.fromarray(strip))).digit <= 9
    except ImageError:
        pass  # "no digit found" or "too small": a one-line answer either way


@pytest.mark.parametrize(
    "pixels",
    [
        [[0, 80, 80, 255], [80, 80, 80, 255]],
        [[0, 90, 90], [90, 90, 255], [90, 255, 255]],
        [[20, 100, 100, 250, 250]] * 3,
    ],
)
def test_an_image_of_a_few_pixels_mostly_dark_is_no_digit(reader, pixels):
    """Fewer pixels than the polarity step's darkest sixteen (looked for on a sheet on a desk):
    it was `cannot process (ValueError: kth(=16) out of bounds (8))`."""
    with pytest.raises(ImageError, match="no digit found"):
        reader.read_number(np.array(pixels, np.uint8))


def test_transparent_white_palette_images_read_exactly_like_opaque_ones(reader, mnist):
    """GIF / PNG-8 with a white matte whose white index is transparent: the light anti-aliased
    fringe is opaque and outnumbers the ink (issue 12, item 12)."""
    opaque_right = transparent_right = 0
    for digit, label in zip(mnist.x_test[:200], mnist.y_test[:200]):
        image = Image.fromarray(255 - digit).convert("P")
        palette = np.array(image.getpalette()).reshape(-1, 3)
        white = int(np.flatnonzero((palette == 255).all(axis=1))[0])
        opaque = reader.read(encoded(image))
        opaque_right += opaque.digit == label
        for fmt in ("GIF", "PNG"):
            transparent = reader.read(encoded(image, fmt, transparency=white))
            assert transparent.image.tobytes() == opaque.image.tobytes(), fmt
            transparent_right += transparent.digit == label
    assert opaque_right >= 190 and transparent_right == 2 * opaque_right


def test_concurrent_reads_leave_the_process_warning_filters_alone(reader, mnist):
    data = encoded(Image.fromarray(dark_on_light(mnist.x_test[0], 2)))
    before = list(warnings.filters)

    def work():
        for _ in range(150):
            reader.read(data)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert warnings.filters == before


# --- models: bad ones are ModelError at load time (item 5) -----------------------------------


def centroid_model(mnist, batch: int | str = "N", nan: bool = False, metadata: str | None = None):
    """A real if simple ONNX digit classifier: softmax of each class's mean-image correlation."""
    from onnx import TensorProto, helper, numpy_helper

    images = mnist.x_train[:5000].reshape(-1, 784).astype(np.float32) / 255
    means = np.stack([images[mnist.y_train[:5000] == d].mean(axis=0) for d in range(10)])
    weights = (means - means.mean(axis=0)).T * 20
    if nan:  # a broken model: NaN weights, so NaN probabilities
        weights[:] = np.nan
    nodes = [
        helper.make_node("Reshape", ["image", "flat_shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "weights"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"]),
    ]
    graph = helper.make_graph(
        nodes,
        "centroids",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, 28, 28, 1])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [batch, 10])],
        [
            numpy_helper.from_array(np.array([-1, 784], np.int64), "flat_shape"),
            numpy_helper.from_array(weights.astype(np.float32), "weights"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    if metadata is not None:
        helper.set_model_props(model, {"tegaki": metadata})
    return model.SerializeToString()


@pytest.mark.parametrize(
    "metadata, message",
    [
        ("{not json", "metadata is not valid JSON"),
        ("[1, 2, 3]", "metadata is a JSON list, expected an object"),
        ('{"input": {"preprocessing_version": "2"}}', "preprocessing_version '2' in its metadata is not an integer"),
        ('{"labels": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "a"]}', "not a list of distinct class names"),
        ('{"labels": [1, 2, null, 4, 5, 6, 7, 8, 9, 0]}', "not a list of distinct class names"),
        ('{"labels": ["0", "1"]}', "10 outputs but 2 labels"),
    ],
)
def test_bad_model_metadata_is_a_model_error_at_load_time(mnist, tmp_path, metadata, message):
    path = tmp_path / "model.onnx"
    path.write_bytes(centroid_model(mnist, metadata=metadata))
    with pytest.raises(ModelError, match=message):
        DigitReader(path)
    result = run_command("edge-predict", "--model", str(path), "x.png")
    assert result.returncode == 2 and result.stderr.decode().count("\n") == 1
    assert message.encode() in result.stderr


def test_fixed_batch_model_runs_any_number_of_images(mnist, tmp_path):
    (tmp_path / "any.onnx").write_bytes(centroid_model(mnist, batch="N"))
    (tmp_path / "one.onnx").write_bytes(centroid_model(mnist, batch=1))
    (tmp_path / "four.onnx").write_bytes(centroid_model(mnist, batch=4))
    images = [dark_on_light(digit) for digit in mnist.x_test[:7]]
    expected = np.stack([p.probabilities for p in DigitReader(tmp_path / "any.onnx").read_many(images)])
    for name in ("one.onnx", "four.onnx"):
        got = np.stack([p.probabilities for p in DigitReader(tmp_path / name).read_many(images)])
        np.testing.assert_allclose(got, expected, atol=1e-6)
    assert np.mean(expected.argmax(1) == mnist.y_test[:7]) >= 5 / 7  # a real classifier


def test_model_that_outputs_nan_is_a_model_error_not_nan_percent(mnist, tmp_path):
    path = tmp_path / "nan.onnx"
    path.write_bytes(centroid_model(mnist, nan=True))
    image = tmp_path / "digit.png"
    Image.fromarray(dark_on_light(mnist.x_test[0])).save(image)
    with pytest.raises(ModelError, match="output holds NaN"):
        DigitReader(path).read(image)
    result = run_command("edge-predict", "--model", str(path), str(image))
    assert result.returncode == 2 and b"output holds NaN" in result.stderr
    assert b"nan%" not in result.stdout and b"Traceback" not in result.stderr


# --- edge-predict ----------------------------------------------------------------------------


@pytest.fixture
def scans(tmp_path, mnist) -> Path:
    """A user's folder: two digits, one in a sub-folder, a 1x1000 strip, a 2x5000 strip."""
    folder = tmp_path / "scans"
    (folder / "2024").mkdir(parents=True)
    Image.fromarray(dark_on_light(mnist.x_test[0], 5)).save(folder / "photo.png")
    Image.fromarray(dark_on_light(mnist.x_test[1], 5)).save(folder / "2024" / "page.png")
    Image.new("L", (1, 1000), 255).save(folder / "strip.png")
    Image.new("L", (2, 5000), 0).save(folder / "bar.png")
    return folder


def rows(result) -> dict[str, list[str]]:
    return {line.split("\t")[0]: line.split("\t")[1:] for line in result.stdout.decode().splitlines()}


def test_extreme_images_cost_the_good_ones_nothing(scans, mnist):
    result = run_command("edge-predict", str(scans))
    assert b"Traceback" not in result.stderr
    read = rows(result)
    assert read[str(scans / "photo.png")][0] == str(mnist.y_test[0])
    assert read[str(scans / "2024" / "page.png")][0] == str(mnist.y_test[1])
    failed = [line.split(":")[0] for line in result.stderr.decode().splitlines()]
    assert len(read) + len(failed) == 4 and result.returncode == (1 if failed else 0)


def test_save_input_never_overwrites_inputs_or_earlier_files(scans, mnist):
    before = {p: p.read_bytes() for p in scans.rglob("*.png")}
    (scans / "page.png").mkdir()  # a folder where the crop of 2024/page.png would go
    for _ in range(2):
        result = run_command("edge-predict", str(scans / "photo.png"), str(scans / "2024"), "--save-input", str(scans))
        assert result.returncode == 0, result.stderr
    assert all(path.read_bytes() == data for path, data in before.items())
    assert (scans / "page.png").is_dir()
    crops = sorted(p.name for p in scans.glob("*-*.png"))  # each with its annotated picture
    assert crops == [
        "page-2-boxes.png",
        "page-2.png",
        "page-3-boxes.png",
        "page-3.png",
        "photo-2-boxes.png",
        "photo-2.png",
        "photo-3-boxes.png",
        "photo-3.png",
    ]
    with Image.open(scans / "photo-2.png") as crop:
        assert crop.size == (28, 28)
    # the current folder, given as ''
    result = subprocess.run(
        [str(Path(sys.executable).with_name("edge-predict")), "photo.png", "--save-input", ""],
        cwd=scans,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0 and (scans / "photo-4.png").is_file()
    assert (scans / "photo.png").read_bytes() == before[scans / "photo.png"]


def test_save_input_with_a_255_byte_input_name(tmp_path, mnist):
    name = "数" * 83 + ".png"  # 253 bytes in UTF-8: the longest most file systems allow
    Image.fromarray(dark_on_light(mnist.x_test[0])).save(tmp_path / name)
    for _ in range(2):
        result = run_command("edge-predict", str(tmp_path / name), "--save-input", str(tmp_path / "seen"))
        assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr.decode()
    saved = sorted((tmp_path / "seen").iterdir())
    assert len(saved) == 4 and all(len(os.fsencode(p.name)) <= 255 for p in saved)  # crop and boxes, twice


def test_folders_recurse_take_regular_files_only_and_say_when_empty(tmp_path, mnist):
    folder = tmp_path / "in"
    (folder / "x.png").mkdir(parents=True)  # a folder named like an image
    os.mkfifo(folder / "a.png")  # would block the run if opened
    (tmp_path / "empty").mkdir()
    (tmp_path / "no-images").mkdir()
    (tmp_path / "no-images" / "notes.txt").write_text("no image here")
    Image.fromarray(dark_on_light(mnist.x_test[2])).save(folder / "x.png" / "deep.png")
    result = run_command("edge-predict", str(folder), str(tmp_path / "empty"), str(tmp_path / "no-images"))
    read = rows(result)
    assert list(read) == [str(folder / "x.png" / "deep.png")] and read[str(folder / "x.png" / "deep.png")][0] == "1"
    assert result.stderr.decode().splitlines() == [
        f"{tmp_path / 'empty'}: no images found (in it or its sub-folders)",
        f"{tmp_path / 'no-images'}: no images found (in it or its sub-folders)",
    ]
    assert result.returncode == 1


def test_newline_in_a_file_name_stays_on_one_text_line(tmp_path, mnist):
    path = tmp_path / "two\nlines\t.png"
    Image.fromarray(dark_on_light(mnist.x_test[0])).save(path)
    (line,) = run_command("edge-predict", str(path)).stdout.decode().splitlines()
    assert line.split("\t")[:2] == [f"{tmp_path}/two\\nlines\\t.png", str(mnist.y_test[0])]
    assert json.loads(run_command("edge-predict", "--json", str(path)).stdout)["path"] == str(path)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--threshold", "nan"], b"nan is not a number from 0 to 1"),
        (["--threads", "1000"], b"1000 is not in the range 1<=x<=64"),
        (["--threads", "100000"], b"is not in the range 1<=x<=64"),
    ],
)
def test_nan_threshold_and_absurd_thread_counts_are_usage_errors(scans, args, message):
    result = run_command("edge-predict", *args, str(scans / "photo.png"))
    assert result.returncode == 2 and message in result.stderr


def test_a_full_disk_on_stdout_is_one_line_and_status_74(scans):
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [str(Path(sys.executable).with_name("edge-predict")), str(scans / "photo.png")],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    assert result.returncode == 74
    assert result.stderr.decode() == "edge-predict: error: cannot write the results: No space left on device\n"


def test_a_closed_pipe_ends_quietly_with_status_141(scans):
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("edge-predict")), str(scans / "photo.png")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # the reader is gone before the first line is written, as with `| head -0`
    assert process.wait(timeout=120) == 141
    assert process.stderr.read() == b""


def test_ctrl_c_while_modules_are_still_importing_exits_130_quietly(scans):
    """PYTHONPROFILEIMPORTTIME reports each import as it finishes: interrupt right after numpy's."""
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("edge-predict")), str(scans / "photo.png")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
    )
    for line in process.stderr:
        if line.split(b"|")[-1].strip() == b"numpy":
            break
    else:
        pytest.fail("numpy was never imported")
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=120)
    assert process.returncode == 130
    assert b"Traceback" not in rest and b"KeyboardInterrupt" not in rest


def test_a_long_cause_is_cut_at_a_word_not_mid_word():
    from tegaki.runtime.errors import reason

    cause = OSError("Temporary failure in name resolution " * 8 + "\nsecond line")
    text = reason(cause, limit=60)
    assert len(text) <= 60 and text.endswith(" …") and "\n" not in text
    assert text.removesuffix(" …").split()[-1] in cause.args[0].split()  # a whole word
    assert reason(cause, line=-1) == "second line" and reason(ValueError()) == "ValueError"
