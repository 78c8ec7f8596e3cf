"""Training-time augmentation: what the runtime's preprocessing cannot undo.

The runtime crops, scales and centres every digit like MNIST, but real handwriting still
differs in slant, aspect, size, position, wobble and stroke width. The layers here vary
exactly that, per image, inside the tf.data pipeline: they never enter the model, so
exports and the runtime never see them.

Why not Keras's RandomRotation/RandomZoom/RandomShear/RandomTranslation chain: each layer
resamples the image bilinearly, and five resamplings leave strokes with a quarter of their
edge contrast (mean squared gradient of 64 MNIST digits: 0.072 as they are, 0.017 after the
chain, 0.050 after one bilinear resampling), a blur test digits don't have. Keras's
RandomElasticTransform also mixes images across the batch inside tf.data (Keras 3.15: some
outputs are copies of the first image). So one layer composes the whole random geometry
and resamples once, by nearest pixel (as torchvision's RandomAffine does by default).
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from tegaki.train.strokes import centre_line_distance


class RandomDistortion(layers.Layer):
    """Per image: rotation (±`rotation` degrees), scale per axis (±`scale`), shear
    (±`shear`), shift (±`shift` of the side) and a smooth elastic wobble (a 4x4 grid of
    normal offsets of `elastic` pixels, upsampled), all in one bilinear resampling."""

    def __init__(self, rotation=12.0, scale=0.12, shear=0.15, shift=0.1, elastic=0.5, order=0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rotation, self.scale, self.shear, self.shift, self.elastic = rotation, scale, shear, shift, elastic
        self.order = order  # 0: nearest pixel, 1: bilinear (see build_augmenter)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _uniform(self, batch, limit):
        return keras.random.uniform((batch, 1, 1), -limit, limit, seed=self.seed_generator)

    def call(self, images, training=True):
        if not training:
            return images
        batch, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
        angle = self._uniform(batch, math.radians(self.rotation))
        scale_y, scale_x = 1 + self._uniform(batch, self.scale), 1 + self._uniform(batch, self.scale)
        shear = self._uniform(batch, self.shear)
        shift_y, shift_x = self._uniform(batch, self.shift * height), self._uniform(batch, self.shift * width)
        rows, cols = ops.meshgrid(
            ops.arange(height, dtype="float32") - (height - 1) / 2,
            ops.arange(width, dtype="float32") - (width - 1) / 2,
            indexing="ij",
        )
        # where each output pixel samples the input: rotate, shear, scale about the centre
        cos, sin = ops.cos(angle), ops.sin(angle)
        sheared_cols = cols[None] + shear * rows[None]
        source_rows = (cos * rows[None] - sin * sheared_cols) / scale_y + (height - 1) / 2 + shift_y
        source_cols = (sin * rows[None] + cos * sheared_cols) / scale_x + (width - 1) / 2 + shift_x
        coarse = keras.random.normal((batch, 4, 4, 2), stddev=self.elastic, seed=self.seed_generator)
        wobble = ops.image.resize(coarse, (height, width), interpolation="bicubic")
        index = ops.broadcast_to(
            ops.cast(ops.reshape(ops.arange(batch), (-1, 1, 1)), "float32"), ops.shape(source_rows)
        )
        coordinates = ops.stack([index, source_rows + wobble[..., 0], source_cols + wobble[..., 1]])
        warped = ops.image.map_coordinates(images[..., 0], coordinates, order=self.order, fill_mode="constant")
        return warped[..., None]


class RandomPen(layers.Layer):
    """Redraw the digit along its centre line with a round pen: with probability `rate`, an
    even stroke `width` pixels wide (uniform in the range: a hairline to a felt-tip marker),
    where MNIST's pens vary in pressure. Takes (N, H, W, 2): the digit and its centre-line
    distance (tegaki.train.strokes; augmented_batches adds it); returns the (N, H, W, 1)
    digit. A batch without the distance channel (a user's images) passes through."""

    def __init__(self, rate: float = 0.0, width: tuple[float, float] = (0.5, 6.5), seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.width = rate, width
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if images.shape[-1] == 1:
            return images
        digits, distance = images[..., :1], images[..., 1:]
        if not training or not self.rate:
            return digits
        batch = ops.shape(images)[0]
        width = keras.random.uniform((batch, 1, 1, 1), *self.width, seed=self.seed_generator)
        pen = ops.clip(width / 2 + 0.5 - distance, 0.0, 1.0)
        chosen = keras.random.uniform((batch, 1, 1, 1), seed=self.seed_generator) < self.rate
        return ops.where(chosen & (ops.max(pen, axis=(1, 2, 3), keepdims=True) > 0), pen, digits)


class RandomStrokeWidth(layers.Layer):
    """Thicken or thin strokes, from a hairline pen to a felt-tip marker: per image, a width
    change of `amount` steps of a 3x3 grey dilation (max, about +2 px of stroke width per
    step) or erosion (min, about -2 px), blended linearly between whole steps. Half of the
    images draw from `(-factor, factor)` (pens like MNIST's), half from `(-thin, thick)`."""

    def __init__(self, factor: float = 0.25, thin: float = 0.0, thick: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.factor, self.thin, self.thick = factor, thin, thick
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return images
        batch = ops.shape(images)[0]
        near = keras.random.uniform((batch, 1, 1, 1), -self.factor, self.factor, seed=self.seed_generator)
        wide = keras.random.uniform((batch, 1, 1, 1), -self.thin, self.thick, seed=self.seed_generator)
        pick_wide = keras.random.uniform((batch, 1, 1, 1), seed=self.seed_generator) < 0.5
        amount = ops.where(pick_wide, wide, near) if (self.thin or self.thick) else near
        # levels: one erosion, the image as it is, then one dilation after another
        levels = [-ops.max_pool(-images, pool_size=3, strides=1, padding="same"), images]
        for _ in range(math.ceil(max(self.thick, self.factor))):
            levels.append(ops.max_pool(levels[-1], pool_size=3, strides=1, padding="same"))
        position = ops.clip(amount + 1.0, 0.0, len(levels) - 1.0)
        result = ops.zeros_like(images)
        for k, level in enumerate(levels):  # linear interpolation between neighbouring levels
            result = result + ops.maximum(0.0, 1.0 - ops.abs(position - k)) * level
        return result


class RandomLowResolution(layers.Layer):
    """A digit scanned at low resolution: with probability `rate`, the 28x28 frame is
    area-reduced to `side` pixels (one random side per batch, so the 20 px digit becomes
    7-14 px tall), then enlarged back bilinearly or bicubically: blurred and blocky."""

    def __init__(self, rate: float = 0.25, side: tuple[int, int] = (10, 20), seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.side = rate, side
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training or not self.rate:
            return images
        size = images.shape[1:3]
        draw = keras.random.uniform((2,), seed=self.seed_generator)
        side = ops.cast(self.side[0] + draw[0] * (self.side[1] + 1 - self.side[0]), "int32")
        small = tf.image.resize(images, ops.stack([side, side]), method="area")
        blocky = tf.cond(
            draw[1] < 0.5,
            lambda: tf.image.resize(small, size, method="bilinear"),
            lambda: tf.image.resize(small, size, method="bicubic"),
        )
        chosen = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.seed_generator) < self.rate
        return ops.where(chosen, ops.clip(blocky, 0.0, 1.0), images)


class RandomInkPressure(layers.Layer):
    """Pen pressure and scan contrast: with probability 1/2, ink strength is raised to a
    power in (1/`gamma`, `gamma`) (flat dark strokes or faint soft ones). Then every image is
    stretched so its strongest ink is 1, as the runtime's preprocessing stretches real ones."""

    def __init__(self, gamma: float = 1.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.gamma = gamma
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return images
        batch = ops.shape(images)[0]
        if self.gamma > 1:
            log_gamma = keras.random.uniform(
                (batch, 1, 1, 1), -math.log(self.gamma), math.log(self.gamma), seed=self.seed_generator
            )
            pressed = keras.random.uniform((batch, 1, 1, 1), seed=self.seed_generator) < 0.5
            images = ops.where(pressed, ops.power(ops.maximum(images, 0.0), ops.exp(log_gamma)), images)
        peak = ops.max(images, axis=(1, 2, 3), keepdims=True)
        return ops.where(peak > 0, images / ops.maximum(peak, 1e-6), images)


def build_augmenter(
    seed: int,
    elastic: float = 0.5,
    stroke: float = 0.25,
    order: int = 0,
    thin: float = 0.0,
    thick: float = 0.0,
    low_resolution: float = 0.0,
    gamma: float = 1.0,
    pen: float = 0.0,
) -> keras.Sequential:
    """The distortions for float (N, 28, 28, 1) batches in [0, 1]; `elastic` and `stroke`
    set the wobble (pixels) and the everyday stroke-width change (0 turns either off);
    `order` the resampling (0 nearest, 1 bilinear); `thin`, `thick`, `low_resolution` and
    `gamma` the pens, scanners and pressures beyond MNIST's (0, 0, 0, 1: none); `pen` the
    share of digits redrawn with an even round pen (RandomPen; 0: none). The edge
    recipe's choice and the trials behind it: docs/model-search.md."""
    return keras.Sequential(
        [
            RandomPen(pen, seed=seed + 4),
            RandomDistortion(elastic=elastic, order=order, seed=seed),
            RandomStrokeWidth(stroke, thin=thin, thick=thick, seed=seed + 1),
            RandomLowResolution(low_resolution, seed=seed + 2),
            RandomInkPressure(gamma, seed=seed + 3),
        ],
        name="augment",
    )


def augmented_batches(images, labels, batch_size: int, augmenter: keras.Sequential, seed: int) -> tf.data.Dataset:
    """Shuffled training batches, distorted on the fly by `augmenter`. When it redraws digits
    with a pen, each digit's centre-line distance travels with it as a second channel."""
    if any(isinstance(layer, RandomPen) and layer.rate for layer in augmenter.layers):
        images = np.concatenate([images, centre_line_distance(images[..., 0])[..., None]], axis=-1)
    return (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size, drop_remainder=True)  # static shapes for the resampling
        .map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
