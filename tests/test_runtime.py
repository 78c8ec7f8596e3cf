"""The runtime library: real models, real MNIST digits, realistic and broken images."""

import io
import struct
import threading
import zlib
from collections import defaultdict

import numpy as np
import pytest
from PIL import Image

from tegaki.runtime import DigitReader, ImageError, ModelError, preprocess
from tegaki.runtime.contract import to_model_input
from tegaki.train.realistic import realistic_images


@pytest.fixture(scope="session")
def reader():
    return DigitReader()  # the model shipped inside the package


@pytest.fixture(scope="session")
def realistic(mnist):
    return realistic_images(mnist.x_test, mnist.y_test, count=1000)


def upscaled(digit: np.ndarray, factor: int = 6, dark_on_light: bool = True) -> np.ndarray:
    big = np.kron(digit, np.ones((factor, factor), np.uint8))
    return 255 - big if dark_on_light else big


def encoded(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_float_onnx_on_raw_tensors_equals_keras(tiny_run, tiny_export_file, mnist):
    import keras

    keras_probabilities = keras.models.load_model(tiny_run / "model.keras").predict(
        to_model_input(mnist.x_test), batch_size=1000, verbose=0
    )
    probabilities = DigitReader(tiny_export_file("onnx")).predict_frames(mnist.x_test)
    assert np.abs(probabilities - keras_probabilities).max() <= 1e-5
    np.testing.assert_array_equal(probabilities.argmax(1), keras_probabilities.argmax(1))


def test_shipped_model_scores_what_its_metadata_says(reader, mnist):
    accuracy = np.mean(reader.predict_frames(mnist.x_test).argmax(1) == mnist.y_test)
    # The shipped int8 model's integer maths is exact on every CPU (u8u8: no saturating
    # kernel anywhere, see export/converters.py), but the float steps around it (scales,
    # softmax) use each CPU's own vector code and may flip a near-tie: 5 images in 10,000
    # (0.05 points, issue 9's bar for "the same accuracy on every CPU family").
    assert accuracy == pytest.approx(reader.metadata["parity"]["accuracy"], abs=5e-4)
    assert accuracy >= 0.99


def test_realistic_images_read_nearly_as_well_as_mnist_tensors(reader, realistic, mnist):
    """1,000 photo-like files (8 kinds) made from the first 1,000 MNIST test digits."""
    per_kind = defaultdict(list)
    for item in realistic:
        per_kind[item.name.rsplit("-", 1)[0]].append(reader.read(item.data).digit == item.label)
    accuracy = np.mean([ok for oks in per_kind.values() for ok in oks])
    tensor_accuracy = np.mean(reader.predict_frames(mnist.x_test[:1000]).argmax(1) == mnist.y_test[:1000])
    assert accuracy >= 0.98, {kind: np.mean(oks) for kind, oks in per_kind.items()}
    assert accuracy >= tensor_accuracy - 0.01
    assert min(np.mean(oks) for oks in per_kind.values()) >= 0.95


def test_shipped_model_reads_marker_hairline_and_low_resolution_digits(reader, mnist):
    """Issue 11's kinds through the whole runtime, 200 each, from the first 600 MNIST test
    digits. Measured: 97.5% thick, 100% thin, 99.0% low-res (issue 5's model, before
    issue 11: 91.5%, 96.5%, 98.0%); the floors leave 2-3 points for retraining."""
    from tegaki.train.realistic import HAND_VARIANTS

    per_kind = defaultdict(list)
    for item in realistic_images(mnist.x_test, mnist.y_test, count=600, variants=HAND_VARIANTS):
        per_kind[item.name.rsplit("-", 1)[0]].append(reader.read(item.data).digit == item.label)
    accuracy = {kind: float(np.mean(oks)) for kind, oks in per_kind.items()}
    assert accuracy["thick"] >= 0.95 and accuracy["thin"] >= 0.965 and accuracy["low-res"] >= 0.97, accuracy


def test_preprocessing_frames_like_mnist(mnist):
    digit = mnist.x_test[0]
    canvas = np.full((300, 400), 230, np.uint8)  # light paper, digit far off-centre
    canvas[20 : 20 + 28 * 5, 250 : 250 + 28 * 5] = upscaled(digit, 5) * (200 / 255) + 30
    frame = preprocess(canvas)
    assert frame.shape == (28, 28) and frame.dtype == np.uint8
    rows, cols = np.nonzero(frame > 0)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 in (20, 21)  # longest side 20 px
    weights = frame.astype(float)
    centre = [(np.indices(frame.shape)[axis] * weights).sum() / weights.sum() for axis in (0, 1)]
    assert np.allclose(centre, 14, atol=1.0)
    assert frame.max() == 255 and frame[0].max() == 0  # full-white strokes on black


def test_polarity_does_not_matter(mnist):
    for digit in mnist.x_test[:20]:
        light_on_dark, dark_on_light = preprocess(upscaled(digit, 4, False)), preprocess(upscaled(digit, 4, True))
        assert np.abs(light_on_dark.astype(int) - dark_on_light.astype(int)).mean() < 2


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "I;16", "CMYK", "1"])
def test_every_image_mode_reads_the_same_digit(reader, mnist, mode):
    digit = upscaled(mnist.x_test[1], 6)  # a 2, dark on light
    image = Image.fromarray(digit)
    if mode == "I;16":
        image = Image.fromarray(digit.astype(np.uint16) * 257)  # 16-bit grey
        image = Image.open(io.BytesIO(encoded(image)))
        assert image.mode.startswith("I")
    else:
        image = image.convert(mode)
    assert reader.read(encoded(image, "TIFF" if mode == "CMYK" else "PNG")).digit == mnist.y_test[1]


def test_transparent_canvas_with_light_or_dark_ink(reader, mnist):
    ink = np.kron(mnist.x_test[0], np.ones((8, 8), np.uint8))
    for colour in ((0, 0, 0), (255, 255, 255), (30, 90, 200)):
        rgba = np.zeros((*ink.shape, 4), np.uint8)
        rgba[..., :3], rgba[..., 3] = colour, ink
        assert reader.read(encoded(Image.fromarray(rgba, "RGBA"))).digit == 7, colour


def test_exif_orientation_is_applied(reader, mnist):
    upright = Image.fromarray(upscaled(mnist.x_test[0], 6)).convert("RGB")  # a 7
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # as a phone held sideways stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": undoes the stored rotation
    data = encoded(stored, "JPEG", exif=exif, quality=95)
    assert reader.read(data).digit == 7
    assert np.abs(preprocess(data).astype(int) - preprocess(upright).astype(int)).mean() < 3


def test_every_kind_of_source_gives_the_same_answer(reader, mnist, tmp_path):
    image = Image.fromarray(upscaled(mnist.x_test[2], 5))
    path = tmp_path / "digit.png"
    image.save(path)
    sources = [path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes()), image, np.asarray(image)]
    answers = [reader.read(source) for source in sources]
    assert {a.digit for a in answers} == {int(mnist.y_test[2])}
    assert len({a.image.tobytes() for a in answers}) == 1
    batch = reader.read_many([path, image, np.asarray(image)])
    assert [p.digit for p in batch] == [answers[0].digit] * 3
    assert batch[0].top(3)[0] == (answers[0].digit, pytest.approx(answers[0].confidence))


def test_several_threads_get_the_same_answers(reader, realistic):
    items = realistic[:64]
    expected = [reader.read(item.data).digit for item in items]
    results: dict[int, list[int]] = {}

    def work(worker):
        results[worker] = [reader.read(item.data).digit for item in items]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answers == expected for answers in results.values())


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares a huge size (a decompression bomb's first bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: b"this is not an image", "not an image Pillow can read"),
        (lambda d: b"", "not an image Pillow can read"),
        (lambda d: encoded(Image.fromarray(d))[:120], "cannot decode"),
        (lambda d: encoded(Image.fromarray(d).convert("RGB"), "JPEG")[:300], "cannot decode"),
        (lambda d: png_declaring(100_000, 100_000), "limit"),
        (lambda d: encoded(Image.new("L", (1, 1), 0)), "too small"),
        (lambda d: encoded(Image.new("L", (640, 480), 235)), "no digit found"),
        (
            lambda d: encoded(
                Image.fromarray(np.random.default_rng(0).normal(200, 3, (300, 300)).clip(0, 255).astype(np.uint8))
            ),
            "no digit found",
        ),
    ],
)
def test_bad_images_raise_one_clear_error(reader, mnist, make, message):
    with pytest.raises(ImageError, match=message):
        reader.read(make(upscaled(mnist.x_test[0], 4)))


def test_animated_gif_reads_its_first_frame(reader, mnist):
    frames = [Image.fromarray(upscaled(mnist.x_test[i], 4)) for i in (0, 1, 2)]  # 7, 2, 1
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    assert reader.read(data).digit == 7


def test_missing_corrupt_and_misshapen_models(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    with pytest.raises(ModelError, match="no such model file"):
        DigitReader(tmp_path / "absent.onnx")
    (tmp_path / "corrupt.onnx").write_bytes(b"\x08\x07garbage")
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        DigitReader(tmp_path / "corrupt.onnx")
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["image"], ["flat"]), helper.make_node("Softmax", ["flat"], ["probabilities"])],
        "wrong",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 32, 32, 1])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 1024])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "wrong.onnx")
    with pytest.raises(ModelError, match=r"input shape \['N', 32, 32, 1\], expected \[batch, 28, 28, 1\]"):
        DigitReader(tmp_path / "wrong.onnx")
    with pytest.raises(ModelError, match="unknown model type"):
        DigitReader(tmp_path / "model.h5")


def test_tflite_models_run_through_the_same_reader(tiny_export_file, mnist):
    onnx_reader = DigitReader(tiny_export_file("onnx-int8"))
    tflite_reader = DigitReader(tiny_export_file("tflite-int8"))
    assert tflite_reader.metadata["format"] == "tflite-int8"
    agreement = np.mean(
        onnx_reader.predict_frames(mnist.x_test[:2000]).argmax(1)
        == tflite_reader.predict_frames(mnist.x_test[:2000]).argmax(1)
    )
    assert agreement >= 0.99


def flood_filled(mask: np.ndarray) -> list[frozenset]:
    """The 8-connected components of a bool mask as sets of pixels, by plain flood fill."""
    seen, parts = np.zeros(mask.shape, bool), []
    for start in zip(*np.nonzero(mask)):
        if seen[start]:
            continue
        seen[start], stack, part = True, [start], []
        while stack:
            y, x = stack.pop()
            part.append((y, x))
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
        parts.append(frozenset(part))
    return parts


@pytest.mark.parametrize("side", [7, 30, 90])
def test_connected_components_match_a_flood_fill(side, mnist):
    """`label` joins runs in plain Python for a few tens of them and in numpy passes for
    the thousands of grain on a big page: both give each component of a flood fill, numbered
    in order of its first pixel in row-major order."""
    from tegaki.runtime.connected import label

    rng = np.random.default_rng(side)
    masks = [rng.random((side, side + 3)) < density for density in (0.2, 0.45, 0.6)]
    masks += [np.kron(mnist.x_test[side] > 100, np.ones((side // 7, side // 7), bool))]  # one digit, few runs
    for mask in masks:
        labels, count = label(mask)
        parts = flood_filled(mask)
        assert count == len(parts)
        firsts = sorted(parts, key=min)
        assert [frozenset(zip(*np.nonzero(labels == k + 1))) for k in range(count)] == firsts
