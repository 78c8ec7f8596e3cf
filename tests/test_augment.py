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


def test_centre_line_is_one_pixel_wide_and_keeps_each_digit_whole(mnist):
    from tegaki.runtime.connected import label
    from tegaki.train.strokes import skeleton

    masks = mnist.x_train[:64] > 127
    lines = skeleton(masks)
    assert lines.shape == masks.shape and not (lines & ~masks).any()  # inside the strokes
    for mask, line in zip(masks, lines):
        assert label(line)[1] == label(mask)[1]  # thinning never breaks a stroke
        # one pixel wide: Zhang-Suen leaves at most a stray 2x2 block or two
        assert (line[:-1, :-1] & line[1:, :-1] & line[:-1, 1:] & line[1:, 1:]).sum() <= 2
    assert lines.sum() < 0.6 * masks.sum()


def test_pen_redraws_real_digits_at_the_width_asked(digits):
    """An even round pen, from hairline to marker, along each digit's own centre line."""
    from tegaki.train.augment import RandomPen
    from tegaki.train.strokes import centre_line_distance

    with_distance = np.concatenate([digits, centre_line_distance(digits[..., 0])[..., None]], axis=-1)

    def width(images):  # mean stroke width: twice the area over the perimeter
        mask = images[..., 0] > 0.5
        perimeter = (mask[:, 1:] != mask[:, :-1]).sum((1, 2)) + (mask[:, :, 1:] != mask[:, :, :-1]).sum((1, 2))
        return 2 * mask.sum((1, 2)) / perimeter

    hairline = np.asarray(RandomPen(rate=1.0, width=(1.0, 1.0), seed=0)(with_distance, training=True))
    marker = np.asarray(RandomPen(rate=1.0, width=(5.0, 5.0), seed=0)(with_distance, training=True))
    assert hairline.shape == digits.shape and np.median(width(hairline)) < 1.5
    assert 3.5 < np.median(width(marker)) < 6.0
    assert np.median(width(digits)) < np.median(width(marker))
    # the same digits: the marker's ink covers the original strokes' centre
    assert ((marker[..., 0] > 0.5) | ~(digits[..., 0] > 0.9)).mean() > 0.95
    np.testing.assert_array_equal(RandomPen(rate=1.0)(with_distance, training=False), digits)
    np.testing.assert_array_equal(RandomPen(rate=1.0)(digits, training=True), digits)  # a user's images


def test_the_edge_recipe_redraws_some_digits_with_a_pen(mnist):
    from tegaki.train.architectures import ARCHITECTURES
    from tegaki.train.augment import augmented_batches

    images, labels = to_model_input(mnist.x_train[:512]), mnist.y_train[:512]
    batch = next(iter(augmented_batches(images, labels, 256, ARCHITECTURES["edge"].augment(3), seed=0)))[0]
    assert batch.shape == (256, 28, 28, 1)  # the distance channel is used up by the pen
