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
import tensorflow as tf
from keras import layers, ops


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
        rows, cols = ops.meshgrid(ops.arange(height, dtype="float32") - (height - 1) / 2,
                                  ops.arange(width, dtype="float32") - (width - 1) / 2, indexing="ij")
        # where each output pixel samples the input: rotate, shear, scale about the centre
        cos, sin = ops.cos(angle), ops.sin(angle)
        sheared_cols = cols[None] + shear * rows[None]
        source_rows = (cos * rows[None] - sin * sheared_cols) / scale_y + (height - 1) / 2 + shift_y
        source_cols = (sin * rows[None] + cos * sheared_cols) / scale_x + (width - 1) / 2 + shift_x
        coarse = keras.random.normal((batch, 4, 4, 2), stddev=self.elastic, seed=self.seed_generator)
        wobble = ops.image.resize(coarse, (height, width), interpolation="bicubic")
        index = ops.broadcast_to(ops.cast(ops.reshape(ops.arange(batch), (-1, 1, 1)), "float32"), ops.shape(source_rows))
        coordinates = ops.stack([index, source_rows + wobble[..., 0], source_cols + wobble[..., 1]])
        warped = ops.image.map_coordinates(images[..., 0], coordinates, order=self.order, fill_mode="constant")
        return warped[..., None]


class RandomStrokeWidth(layers.Layer):
    """Thicken or thin strokes by up to one pixel: a per-image blend with a 3x3 grey
    dilation (max) or erosion (min), as pens and scan resolutions differ."""

    def __init__(self, factor: float = 0.5, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return images
        dilated = ops.max_pool(images, pool_size=3, strides=1, padding="same")
        eroded = -ops.max_pool(-images, pool_size=3, strides=1, padding="same")
        amount = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), -self.factor, self.factor,
                                      seed=self.seed_generator)
        target = ops.where(amount > 0, dilated, eroded)
        return images + ops.abs(amount) * (target - images)


def build_augmenter(seed: int, elastic: float = 0.5, stroke: float = 0.25, order: int = 0) -> keras.Sequential:
    """The distortions for float (N, 28, 28, 1) batches in [0, 1]; `elastic` and `stroke`
    set the wobble (pixels) and stroke-width blend (0 turns either off); `order` the
    resampling (0 nearest, 1 bilinear). The defaults are the edge recipe's: in 8-epoch
    trials, twice this wobble and stroke change cost 0.15 points of validation accuracy,
    and nearest resampling kept strokes as sharp as test digits (docs/model-search.md)."""
    return keras.Sequential([RandomDistortion(elastic=elastic, order=order, seed=seed),
                             RandomStrokeWidth(stroke, seed=seed + 1)], name="augment")


def augmented_batches(images, labels, batch_size: int, augmenter: keras.Sequential, seed: int) -> tf.data.Dataset:
    """Shuffled training batches, distorted on the fly by `augmenter`."""
    return (tf.data.Dataset.from_tensor_slices((images, labels))
            .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size, drop_remainder=True)  # static shapes for the resampling
            .map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))
