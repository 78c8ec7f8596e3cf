import numpy as np
import pytest

from tegaki.runtime.contract import to_model_input


@pytest.fixture(scope="module")
def digits(mnist):
    return to_model_input(mnist.x_train[:64])


def sharpness(images):
    return float((np.diff(images, axis=1) ** 2).mean() + (np.diff(images, axis=2) ** 2).mean())


def test_distortion_is_per_image_and_keeps_the_digit(digits):
    from tegaki.train.augment import RandomDistortion

    same = np.repeat(digits[:1], 16, axis=0)
    out = np.asarray(RandomDistortion(seed=1)(same, training=True))
    assert out.shape == same.shape and len({o.tobytes() for o in out}) == 16
    ink = out.sum(axis=(1, 2, 3)) / same[0].sum()
    assert ink.min() > 0.6 and ink.max() < 1.6  # scaled by at most ±12% per axis, not lost
    np.testing.assert_array_equal(RandomDistortion(seed=1)(digits, training=False), digits)


def test_one_resampling_stays_sharper_than_the_keras_layer_chain(digits):
    import keras

    from tegaki.train.augment import RandomDistortion

    fill = {"fill_mode": "constant", "fill_value": 0.0}
    chain = keras.Sequential([keras.layers.RandomRotation(12 / 360, seed=1, **fill),
                              keras.layers.RandomZoom(0.12, 0.12, seed=2, **fill),
                              keras.layers.RandomShear(0.15, 0.15, seed=3, **fill),
                              keras.layers.RandomTranslation(0.1, 0.1, seed=4, **fill)])
    ours = sharpness(np.asarray(RandomDistortion(seed=1)(digits, training=True)))
    assert ours > 1.5 * sharpness(np.asarray(chain(digits, training=True)))


def test_stroke_width_thickens_and_thins(digits):
    from tegaki.train.augment import RandomStrokeWidth

    out = np.asarray(RandomStrokeWidth(0.5, seed=3)(digits, training=True))
    change = out.sum(axis=(1, 2, 3)) - digits.sum(axis=(1, 2, 3))
    assert (change > 0).any() and (change < 0).any()


def test_augmented_batches_are_shuffled_distorted_and_labelled(mnist):
    from tegaki.train.augment import augmented_batches, build_augmenter

    images, labels = to_model_input(mnist.x_train[:256]), mnist.y_train[:256]
    batches = list(augmented_batches(images, labels, batch_size=100, augmenter=build_augmenter(0), seed=0))
    assert [len(b[0]) for b in batches] == [100, 100]  # the remainder is dropped: static shapes
    x, y = (np.asarray(t) for t in batches[0])
    assert x.shape == (100, 28, 28, 1) and 0 <= x.min() and x.max() <= 1.0 + 1e-6
    assert not np.array_equal(y, labels[:100])  # shuffled
