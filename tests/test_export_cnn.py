import hashlib
import json

import numpy as np
import onnx
import pytest

from tegaki.export.exporting import QUANTIZED_MAX_ACCURACY_DROP, QUANTIZED_MIN_AGREEMENT, parity
from tegaki.export.formats import FORMATS, Format
from tegaki.runtime.contract import to_model_input
from tegaki.runtime.models import METADATA_KEY, load_model, sidecar_path

from commands import heavy_modules_after_import, run_command


@pytest.fixture(scope="module")
def keras_probabilities(tiny_run, mnist):
    import keras

    model = keras.models.load_model(tiny_run / "model.keras")
    return model.predict(to_model_input(mnist.x_test), batch_size=1000, verbose=0)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_meets_the_parity_rules_on_real_test_images(
    tiny_export, tiny_export_file, keras_probabilities, mnist, fmt
):
    runner = load_model(tiny_export_file(fmt))
    probabilities = runner.predict(to_model_input(mnist.x_test))
    top1, keras_top1 = probabilities.argmax(1), keras_probabilities.argmax(1)
    if FORMATS[fmt].quantized:
        assert np.mean(top1 == keras_top1) >= QUANTIZED_MIN_AGREEMENT
        # + 1e-9: the difference of two float fractions of 10,000 is not exact
        assert (
            abs(np.mean(top1 == mnist.y_test) - np.mean(keras_top1 == mnist.y_test))
            <= QUANTIZED_MAX_ACCURACY_DROP + 1e-9
        )
    else:
        assert np.abs(probabilities - keras_probabilities).max() <= 1e-5
        np.testing.assert_array_equal(top1, keras_top1)
    report = {r["format"]: r for r in json.loads((tiny_export / "parity.json").read_text())}[fmt]
    assert report["failed"] == [] and report["images"] == 10_000
    assert report["bytes"] == tiny_export_file(fmt).stat().st_size  # the file as written, metadata included
    assert report["accuracy"] == pytest.approx(np.mean(top1 == mnist.y_test), abs=2e-4)


def test_onnx_file_has_the_contracted_interface_and_metadata(tiny_export_file, tiny_run):
    model = onnx.load(tiny_export_file("onnx"))
    onnx.checker.check_model(model, full_check=True)
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    assert graph_input.name == "image" and graph_output.name == "probabilities"
    dims = graph_input.type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [28, 28, 1]  # dynamic batch
    assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    metadata = json.loads({p.key: p.value for p in model.metadata_props}[METADATA_KEY])
    assert metadata["labels"] == [str(d) for d in range(10)]
    assert metadata["input"]["polarity"] == "white digit on black background"
    assert metadata["source_model"]["sha256"] == hashlib.sha256((tiny_run / "model.keras").read_bytes()).hexdigest()
    assert metadata["training"]["architecture"] == "seed" and metadata["parity"]["top1_agreement"] == 1.0


def test_int8_files_are_really_integer(tiny_export_file):
    model = onnx.load(tiny_export_file("onnx-int8"))
    ops = {node.op_type for node in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    eight_bit = (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)  # u8u8 scheme: see export/converters.py
    int8_weights = [t for t in model.graph.initializer if t.data_type in eight_bit]
    assert sum(np.prod(t.dims) for t in int8_weights) > 1_000_000  # the weights, not just a few scales
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(tiny_export_file("tflite-int8")))
    assert interpreter.get_input_details()[0]["dtype"] == np.int8
    assert interpreter.get_output_details()[0]["dtype"] == np.int8
    assert json.loads(sidecar_path(tiny_export_file("tflite-int8")).read_text())["format"] == "tflite-int8"
    sizes = {fmt: tiny_export_file(fmt).stat().st_size for fmt in FORMATS}
    assert sizes["tflite-int8"] < sizes["tflite"] / 3.5 and sizes["onnx-int8"] < sizes["onnx"] / 3.5


def test_parity_rules_catch_disagreement():
    rng = np.random.default_rng(0)
    keras_probabilities = rng.dirichlet(np.ones(10), size=1000).astype(np.float32)
    labels = keras_probabilities.argmax(1)
    nudged = keras_probabilities + 2e-5
    flipped = keras_probabilities.copy()
    flipped[:10] = np.roll(flipped[:10], 1, axis=1)  # 1% of answers change
    exact, quantized = Format("f", ".x", False, ""), Format("q", ".x", True, "")
    assert parity(exact, keras_probabilities, keras_probabilities, labels)["failed"] == []
    assert any("max abs diff" in f for f in parity(exact, nudged, keras_probabilities, labels)["failed"])
    failed = parity(quantized, flipped, keras_probabilities, labels)["failed"]
    assert any("top-1 agreement 99.00%" in f for f in failed) and any("0.2 points" in f for f in failed)


def test_a_format_that_fails_parity_is_not_written(tiny_run, tmp_path, monkeypatch):
    from tegaki.export import exporting

    monkeypatch.setattr(exporting, "QUANTIZED_MIN_AGREEMENT", 1.0)  # int8 never agrees on every image
    reports = exporting.export_model(tiny_run / "model.keras", ["onnx", "onnx-int8"], tmp_path)
    assert [bool(r["failed"]) for r in reports] == [False, True]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parity.json", "seed.onnx"]


def test_second_export_replaces_files_atomically(tiny_run, tmp_path):
    for _ in range(2):
        result = run_command(
            "export-cnn",
            str(tiny_run / "model.keras"),
            "-f",
            "onnx",
            "-f",
            "tflite",
            "--parity-images",
            "500",
            "--out",
            str(tmp_path),
            "--name",
            "again",
        )
        assert result.returncode == 0, result.stderr.decode()[-1500:]
        # stderr is for what went wrong: no TensorFlow, converter or LiteRT (parity run) chatter
        assert result.stderr == b"", result.stderr.decode()[-1500:]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "again.onnx",
        "again.tflite",
        "again.tflite.json",
        "parity.json",
    ]
    assert json.loads((tmp_path / "parity.json").read_text())[0]["images"] == 500


@pytest.mark.parametrize(
    "setup, args, message",
    [
        (lambda d: (d / "model.keras").write_bytes(b"PK\x03\x04 not really a zip"), [], b"not a Keras model"),
        (lambda d: (d / "model.keras").write_text("hello"), [], b"not a Keras model"),
        (lambda d: None, [], b"no such file"),
        (lambda d: (d / "model.keras").write_text("x"), ["--format", "coreml"], b"coreml"),
    ],
)
def test_bad_model_files_and_arguments(tmp_path, setup, args, message):
    setup(tmp_path)
    result = run_command("export-cnn", str(tmp_path / "model.keras"), *args, "--out", str(tmp_path / "out"))
    assert result.returncode in (1, 2) and message in result.stderr
    assert b"Traceback" not in result.stderr


def test_unwritable_out_is_a_clear_error(tiny_run, tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    result = run_command("export-cnn", str(tiny_run / "model.keras"), "-f", "onnx", "--out", str(tmp_path / "taken"))
    assert result.returncode == 1 and b"export-cnn: error: cannot write" in result.stderr
    assert b"Traceback" not in result.stderr


def test_help_lists_every_format_without_loading_tensorflow():
    result = run_command("export-cnn", "--help")
    assert result.returncode == 0 and b"--parity-images" in result.stdout
    unwrapped = "".join(result.stdout.decode().split())  # help text wraps lines at hyphens
    assert all(name in unwrapped for name in FORMATS)
    assert heavy_modules_after_import("tegaki.export.cli") == []


def test_batch_norm_is_folded_into_the_convolutions(tiny_edge_run, tmp_path):
    from collections import Counter

    from ai_edge_litert.interpreter import Interpreter

    result = run_command(
        "export-cnn",
        str(tiny_edge_run / "model.keras"),
        "-f",
        "onnx",
        "-f",
        "tflite",
        "--parity-images",
        "1000",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr.decode()[-1500:]
    ops = Counter(node.op_type for node in onnx.load(tmp_path / "edge.onnx").graph.node)
    assert ops["Conv"] == 4 and not {"BatchNormalization", "Mul", "Sub"} & ops.keys(), ops
    interpreter = Interpreter(model_path=str(tmp_path / "edge.tflite"))
    tflite_ops = Counter(op["op_name"] for op in interpreter._get_ops_details())
    assert tflite_ops["CONV_2D"] == 4 and "MUL" not in tflite_ops, tflite_ops
