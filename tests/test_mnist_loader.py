import gzip
import struct

import numpy as np
import pytest

from tegaki.train.mnist import IDX_FILES, MnistError, load_mnist

# From the MNIST README in the data folder: images per digit 0-9.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def write_idx_folder(folder, arrays, gz=True, magic_override=None):
    """Write arrays as the four canonical IDX files, as MNIST's own tools do."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in IDX_FILES.items():
        magic = 0x803 if key.startswith("x") else 0x801
        data = idx_bytes(arrays[key], (magic_override or {}).get(key, magic))
        path = folder / (stem + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(data) if gz else data)
    return folder


@pytest.fixture
def small(mnist):
    return {
        "x_train": mnist.x_train[:300],
        "y_train": mnist.y_train[:300],
        "x_test": mnist.x_test[:100],
        "y_test": mnist.y_test[:100],
    }


def test_real_mnist_shapes_counts_and_labels(mnist):
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert mnist.x_test.shape == (10000, 28, 28)
    assert np.bincount(mnist.y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist.y_test, minlength=10).tolist() == TEST_COUNTS
    # white digit on black: corners are background
    assert mnist.x_train[:, 0, 0].max() == 0 and mnist.x_train.max() == 255


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder_round_trip(tmp_path, small, gz):
    loaded = load_mnist(write_idx_folder(tmp_path / "idx", small, gz=gz))
    for key, array in small.items():
        np.testing.assert_array_equal(getattr(loaded, key), array)


def test_npz_file_and_folder(tmp_path, small):
    np.savez(tmp_path / "mnist.npz", **small)
    for source in (tmp_path / "mnist.npz", tmp_path):
        np.testing.assert_array_equal(load_mnist(source).x_train, small["x_train"])


def test_train_hash_is_the_same_for_every_format(tmp_path, small):
    np.savez(tmp_path / "mnist.npz", **small)
    idx = load_mnist(write_idx_folder(tmp_path / "idx", small))
    assert idx.train_sha256() == load_mnist(tmp_path / "mnist.npz").train_sha256()
    changed = dict(small, y_train=(small["y_train"] + 1) % 10)
    assert load_mnist(write_idx_folder(tmp_path / "other", changed)).train_sha256() != idx.train_sha256()


def test_environment_variable_and_keras_cache(tmp_path, small, monkeypatch):
    np.savez(tmp_path / "mnist.npz", **small)
    monkeypatch.setenv("TEGAKI_MNIST", str(tmp_path / "mnist.npz"))
    assert len(load_mnist().x_train) == 300
    monkeypatch.delenv("TEGAKI_MNIST")
    (tmp_path / "keras" / "datasets").mkdir(parents=True)
    (tmp_path / "mnist.npz").rename(tmp_path / "keras" / "datasets" / "mnist.npz")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert load_mnist().source == str(tmp_path / "keras" / "datasets" / "mnist.npz")


def test_no_source_lists_what_was_tried(tmp_path, monkeypatch):
    import keras

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.delenv("TEGAKI_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(MnistError) as error:
        load_mnist()
    message = str(error.value)
    assert "TEGAKI_MNIST" in message and "Keras cache" in message and "network unreachable" in message


def corrupt(folder, name, transform):
    path = folder / (name + ".gz")
    path.write_bytes(gzip.compress(transform(gzip.decompress(path.read_bytes()))))


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda f: corrupt(f, "train-images-idx3-ubyte", lambda b: b[:-100]), "truncated"),
        (lambda f: corrupt(f, "t10k-labels-idx1-ubyte", lambda b: b[:5]), "too short"),
        (lambda f: corrupt(f, "train-labels-idx1-ubyte", lambda b: b[:-1] + b"\x0c"), "labels contain 12"),
        (lambda f: (f / "t10k-images-idx3-ubyte.gz").unlink(), "missing t10k-images-idx3-ubyte"),
        (lambda f: (f / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all"), "cannot read"),
        (
            lambda f: (f / "train-images-idx3-ubyte.gz").write_bytes(
                (f / "train-images-idx3-ubyte.gz").read_bytes()[:200]
            ),
            "cannot read",
        ),
    ],
)
def test_damaged_idx_files_name_file_and_problem(tmp_path, small, damage, expected):
    folder = write_idx_folder(tmp_path / "idx", small)
    damage(folder)
    with pytest.raises(MnistError, match=expected):
        load_mnist(folder)


def test_wrong_magic_and_mismatched_counts(tmp_path, small):
    swapped = write_idx_folder(tmp_path / "magic", small, magic_override={"x_test": 0x801})
    with pytest.raises(MnistError, match=r"t10k-images.*magic number 0x00000801"):
        load_mnist(swapped)
    mismatched = write_idx_folder(tmp_path / "count", dict(small, y_train=small["y_train"][:299]))
    with pytest.raises(MnistError, match="300 train images but 299 train labels"):
        load_mnist(mismatched)
    wrong_size = write_idx_folder(tmp_path / "size", dict(small, x_test=np.zeros((100, 32, 32), np.uint8)))
    with pytest.raises(MnistError, match="32x32, expected 28x28"):
        load_mnist(wrong_size)


def test_bad_npz_files(tmp_path, small):
    np.savez(tmp_path / "missing.npz", x_train=small["x_train"])
    with pytest.raises(MnistError, match="missing arrays y_train, x_test, y_test"):
        load_mnist(tmp_path / "missing.npz")
    np.savez(tmp_path / "float.npz", **dict(small, x_train=small["x_train"].astype(np.float32)))
    with pytest.raises(MnistError, match="x_train has dtype float32"):
        load_mnist(tmp_path / "float.npz")
    (tmp_path / "garbage.npz").write_bytes(b"PK\x03\x04 garbage")
    with pytest.raises(MnistError, match="not a readable .npz"):
        load_mnist(tmp_path / "garbage.npz")
    with pytest.raises(MnistError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def test_a_file_that_is_neither_mnist_nor_images_says_so(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# a project's readme, passed as --data by mistake\n")
    with pytest.raises(MnistError) as error:
        load_mnist(readme)
    message = str(error.value)
    assert "not MNIST" in message and "pickle" not in message
