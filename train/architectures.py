"""The model definitions, one function each, and the training recipe that goes with each.

`train-cnn --arch NAME` picks one. Every model takes the input contract's float32
(N, 28, 28, 1) in [0, 1] and returns softmax probabilities (N, 10).
"""

from collections.abc import Callable
from dataclasses import dataclass

import keras
from keras import layers

from tegaki.runtime.contract import IMAGE_SIZE, INPUT_NAME, LABELS, OUTPUT_NAME


@dataclass(frozen=True)
class Recipe:
    build: Callable[[], keras.Model]
    optimizer: Callable[[], keras.optimizers.Optimizer]
    epochs: int
    batch_size: int
    description: str


def build_seed() -> keras.Model:
    """The classic Keras MNIST tutorial's CNN, layer for layer (1.2 M parameters)."""
    inputs = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1), name=INPUT_NAME)
    x = layers.Conv2D(32, kernel_size=(3, 3), activation="relu")(inputs)  # 26x26x32
    x = layers.Conv2D(64, kernel_size=(3, 3), activation="relu")(x)  # 24x24x64
    x = layers.MaxPooling2D(pool_size=(2, 2))(x)  # 12x12x64
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)  # 9216
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(len(LABELS), activation="softmax", name=OUTPUT_NAME)(x)
    return keras.Model(inputs, outputs, name="seed")


ARCHITECTURES: dict[str, Recipe] = {
    "seed": Recipe(
        build=build_seed,
        # Keras 2's Adadelta defaulted to learning_rate=1.0, which the tutorial relied on;
        # Keras 3's default (0.001) barely trains this model.
        optimizer=lambda: keras.optimizers.Adadelta(learning_rate=1.0, rho=0.95, epsilon=1e-7),
        epochs=12,
        batch_size=128,
        description="the Keras MNIST tutorial's CNN: Adadelta(1.0), batch 128, 12 epochs",
    ),
}
