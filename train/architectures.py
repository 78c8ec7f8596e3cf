"""The model definitions, one function each, and the training recipe that goes with each.

`train-cnn --arch NAME` picks one. Every model takes the input contract's float32
(N, 28, 28, 1) in [0, 1] and returns softmax probabilities (N, 10).

Keras is imported inside the functions, not here: `train-cnn --help` lists ARCHITECTURES
without loading TensorFlow (seconds).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tegaki.runtime.contract import IMAGE_SIZE, INPUT_NAME, LABELS, OUTPUT_NAME

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class Recipe:
    build: Callable[[], "keras.Model"]
    optimizer: Callable[[int], "keras.optimizers.Optimizer"]  # given the total number of steps
    epochs: int
    batch_size: int
    description: str
    augment: Callable[[int], "keras.Sequential"] | None = None  # seed -> augmenter (tegaki.train.augment)
    label_smoothing: float = 0.0
    patience: int | None = None  # early stop after this many epochs without a lower validation loss

    def summary(self) -> str:
        """One line for --help."""
        return f"{self.description}; {self.epochs} epochs"


def build_seed() -> "keras.Model":
    """The classic Keras MNIST tutorial's CNN, layer for layer (1.2 M parameters)."""
    import keras
    from keras import layers

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


def conv_block(x, filters: int):
    """3x3 same-padding conv, batch norm, ReLU; no conv bias (batch norm has one), and the
    norm folds into the conv at export."""
    from keras import layers

    x = layers.Conv2D(filters, kernel_size=(3, 3), padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def build_edge(widths: tuple[int, int, int] = (16, 32, 64)) -> "keras.Model":
    """A small all-convolutional net for the edge: 33 k parameters, 3.7 M MACs per image.
    Widths 16 -> 32, 32 -> 64 with two max-pools and global average pooling instead of
    the tutorial's 1.2 M-parameter dense layer (the widths: see docs/model-search.md)."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1), name=INPUT_NAME)
    x = conv_block(inputs, widths[0])  # 28x28x16
    x = layers.MaxPooling2D(pool_size=(2, 2))(x)  # 14x14x16
    x = conv_block(x, widths[1])
    x = conv_block(x, widths[1])  # 14x14x32
    x = layers.MaxPooling2D(pool_size=(2, 2))(x)  # 7x7x32
    x = conv_block(x, widths[2])  # 7x7x64
    x = layers.GlobalAveragePooling2D()(x)  # 64
    outputs = layers.Dense(len(LABELS), activation="softmax", name=OUTPUT_NAME)(x)
    return keras.Model(inputs, outputs, name="edge")


def adadelta_tutorial(total_steps: int) -> "keras.optimizers.Optimizer":
    """The tutorial's Adadelta. Keras 2's defaulted to learning_rate=1.0, which the tutorial
    relied on; Keras 3's default (0.001) barely trains this model."""
    import keras

    return keras.optimizers.Adadelta(learning_rate=1.0, rho=0.95, epsilon=1e-7)


def one_cycle_adamw(total_steps: int, peak: float = 0.01) -> "keras.optimizers.Optimizer":
    """AdamW with a one-cycle-like schedule: linear warm-up over the first 20% of steps to
    `peak`, then cosine decay to zero."""
    import keras

    warmup = total_steps // 5
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak / 25,
        decay_steps=total_steps - warmup,
        alpha=0.0,
        warmup_target=peak,
        warmup_steps=warmup,
    )
    return keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4)


def edge_augmenter(seed: int) -> "keras.Sequential":
    """The edge recipe's augmentation. Beyond MNIST's pens: hairline to marker strokes, a
    quarter of the digits redrawn with an even round pen, 7-14 px scans, pen pressure
    (issue 11; the trials and the kinds they fix: docs/model-search.md)."""
    from tegaki.train.augment import build_augmenter

    return build_augmenter(seed, thin=0.75, thick=1.5, low_resolution=0.25, gamma=2.0, pen=0.25)


def multiply_accumulates(model: "keras.Model") -> int:
    """Multiply-accumulates for one image through the conv and dense layers (what dominates
    the cost; pooling, batch norm and activations are left out, as is usual)."""
    from keras import layers

    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kernel_height, kernel_width = layer.kernel_size
            total += height * width * filters * kernel_height * kernel_width * layer.input.shape[-1]
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return total


ARCHITECTURES: dict[str, Recipe] = {
    "seed": Recipe(
        build=build_seed,
        optimizer=adadelta_tutorial,
        epochs=12,
        batch_size=128,
        description="the Keras MNIST tutorial's CNN (1.2 M parameters), Adadelta(1.0)",
    ),
    "edge": Recipe(
        build=build_edge,
        optimizer=one_cycle_adamw,
        epochs=24,  # 30 took 25 min on 2 cores (issue 11: <= 20); that run had its final validation accuracy by epoch 24
        batch_size=128,
        description="tegaki's small CNN for devices (33 k parameters, batch norm), AdamW one-cycle, augmentation",
        augment=edge_augmenter,
        label_smoothing=0.05,
        patience=10,
    ),
}
