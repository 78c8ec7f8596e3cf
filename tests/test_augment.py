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
    chain = keras.Sequential(
        [
            keras.layers.RandomRotation(12 / 360, seed=1, **fill),
            keras.layers.RandomZoom(0.12, 0.12, seed=2, **fill),
            keras.layers.RandomShear(0.15, 0.15, seed=3, **fill),
            keras.layers.RandomTranslation(0.1, 0.1, seed=4, **fill),
        ]
    )
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


def stroke_mass(images):
    return images.sum(axis=(1, 2, 3))


def test_the_edge_recipe_makes_marker_hairline_and_low_resolution_digits(digits):
    """Issue 11's kinds, from the recipe itself: 256 draws of one real digit include strokes
    much thicker and much thinner than MNIST's, and blurred low-resolution scans."""
    from tegaki.train.architectures import ARCHITECTURES

    same = np.repeat(digits[:1], 256, axis=0)
    out = np.asarray(ARCHITECTURES["edge"].augment(7)(same, training=True))
    assert out.shape == same.shape and out.min() >= 0 and np.allclose(out.max(axis=(1, 2, 3)), 1.0, atol=1e-5)
    # mass against a plain geometric distortion, so rotation and scale do not count
    mass = stroke_mass(out) / stroke_mass(same)
    assert (mass > 1.8).sum() >= 20, "marker-thick strokes"
    assert (mass < 0.7).sum() >= 20, "hairline strokes"
    per_image_sharpness = (np.diff(out, axis=1) ** 2).mean(axis=(1, 2, 3))
    assert (per_image_sharpness < 0.5 * sharpness(same)).sum() >= 20, "blurred low-resolution scans"


def test_low_resolution_blurs_but_keeps_the_digit(digits):
    from tegaki.train.augment import RandomLowResolution

    out = np.asarray(RandomLowResolution(rate=1.0, side=(10, 12), seed=0)(digits, training=True))
    assert out.shape == digits.shape and sharpness(out) < 0.6 * sharpness(digits)
    correlation = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(out, digits)]
    assert min(correlation) > 0.6 and np.median(correlation) > 0.8
    np.testing.assert_array_equal(RandomLowResolution(rate=1.0)(digits, training=False), digits)


def test_ink_pressure_varies_contrast_and_stretches_the_strongest_ink_to_one(digits):
    from tegaki.train.augment import RandomInkPressure

    faint = digits * 0.4
    out = np.asarray(RandomInkPressure(gamma=2.0, seed=0)(faint, training=True))
    np.testing.assert_allclose(out.max(axis=(1, 2, 3)), 1.0, atol=1e-5)
    ratio = stroke_mass(out) / stroke_mass(digits)
    assert ratio.min() < 0.85 and ratio.max() > 1.15  # lighter and heavier pressure both drawn
