"""Fine-tuning on the user's own images: what `train-cnn --data my-digits/` changes in training.

- the start model (`--init`): the shipped edge model, a fresh one, or any .keras file; when
  the user's classes add to its labels, its last layer is replaced by a wider one that keeps
  the weights of the classes it already had;
- the data: the user's images, split per class into training and validation, with MNIST
  training images replayed alongside (`--mnist-ratio` of them per user image, a fresh
  sample every epoch) so the model does not forget MNIST's handwriting;
- the recipe: the architecture's augmentation and label smoothing, with a short, gentle
  schedule when starting from a trained model, whose batch-norm layers are frozen (they keep
  MNIST's statistics; the weights around them adapt).

The defaults, measured on 440 seven-segment images (330 held out), from a 98.6% edge
model: MNIST replay 1:1 for 20 epochs (peak rate 0.002) read the held-out displays at 100%
but cost 0.45 points of MNIST test accuracy, a peak of 0.001 0.50; replay 3:1 for 10 epochs
(the same steps) 0.34, and with batch norm frozen 0.03. From a weak start (a 95% model: the
tests' tiny one) that read 98.8% of the displays; a peak of 0.005 and 15 epochs read 100%
(MNIST 95.4 -> 97.7%), and from the 98.6% model kept MNIST at +0.08 points.
"""

import dataclasses
import json
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from tegaki.runtime.contract import LABELS, OUTPUT_NAME, to_model_input
from tegaki.runtime.errors import reason
from tegaki.train.architectures import ARCHITECTURES, Recipe, one_cycle_adamw
from tegaki.train.mnist import Mnist
from tegaki.train.user_data import UserData, class_sort_key, load_user_data, stratified_split

SHIPPED_KERAS = "edge.keras"  # in tegaki.assets: the Keras file of the shipped edge model
FINE_TUNE_EPOCHS = 15
FINE_TUNE_BATCH = 64  # a few hundred user images still make enough steps per epoch
FINE_TUNE_PEAK = 0.005  # half the edge recipe's: adapt, don't relearn


class FineTuneError(Exception):
    """The start model cannot be used; one-line message."""


def shipped_keras_path() -> Path:
    return Path(str(resources.files("tegaki.assets").joinpath(SHIPPED_KERAS)))


def load_start_model(init: str) -> tuple[keras.Model | None, tuple[str, ...]]:
    """The model `--init` names and its labels; (None, digits) for `scratch`."""
    if init == "scratch":
        return None, LABELS
    path = shipped_keras_path() if init == "shipped" else Path(init)
    if not path.is_file():
        raise FineTuneError(
            f"the shipped Keras model is not installed ({path}); pass --init PATH.keras or --init scratch"
            if init == "shipped"
            else f"--init {path}: no such file"
        )
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises ValueError, zipfile errors, OSError... for bad files
        raise FineTuneError(f"--init {path}: not a Keras model ({reason(error)})") from None
    outputs = model.outputs[0].shape[-1]
    sidecar = path.with_name("metadata.json")  # train-cnn writes the labels beside the model
    labels = tuple(json.loads(sidecar.read_text()).get("labels", LABELS)) if sidecar.is_file() else LABELS
    if len(labels) != outputs or labels[: len(LABELS)] != LABELS:
        raise FineTuneError(
            f"--init {path}: {outputs} outputs, labels {list(labels)}; a start model's labels "
            "must be the digits 0-9 and then any others"
        )
    return model, labels


def with_classes(model: keras.Model, old: tuple[str, ...], classes: tuple[str, ...]) -> keras.Model:
    """`model` with a softmax layer for `classes` (a superset of `old`) in place of its last
    one; each class it already had keeps its weights, new ones start from small random ones."""
    head = model.layers[-1]
    if not isinstance(head, layers.Dense):
        raise FineTuneError(f"cannot change the classes of {model.name}: its last layer is not Dense")
    wider = layers.Dense(len(classes), activation="softmax", name=OUTPUT_NAME)
    replaced = keras.Model(model.inputs, wider(head.input), name=model.name)
    kernel, bias = (np.array(w) for w in wider.get_weights())
    old_kernel, old_bias = head.get_weights()
    kernel *= 0.1  # new classes start unsure rather than stealing the old ones' answers
    bias[:] = float(np.mean(old_bias))
    for index, name in enumerate(classes):
        if name in old:
            kernel[:, index], bias[index] = old_kernel[:, old.index(name)], old_bias[old.index(name)]
    wider.set_weights([kernel, bias])
    return replaced


@dataclass
class FineTuning:
    """Everything train() needs for a run on the user's images."""

    user: UserData
    classes: tuple[str, ...]
    start: keras.Model | None
    start_labels: tuple[str, ...]
    init: str
    mnist_ratio: float
    replay: tuple[np.ndarray, np.ndarray]  # the MNIST pool: uint8 images, labels
    train_idx: np.ndarray
    val_idx: np.ndarray
    before: dict = dataclasses.field(default_factory=dict)

    @property
    def architecture(self) -> str:
        """The start model's architecture, whose recipe (augmentation, smoothing) it keeps."""
        return self.start.name if self.start is not None and self.start.name in ARCHITECTURES else "edge"

    @classmethod
    def prepare(
        cls,
        user_data: Path | UserData,
        init: str,
        mnist_ratio: float,
        mnist: Mnist,
        val_split: float,
        seed: int,
        limit: int | None = None,
    ) -> "FineTuning":
        user = user_data if isinstance(user_data, UserData) else load_user_data(user_data)
        start, start_labels = load_start_model(init)
        extra = sorted(set(user.classes) - set(start_labels), key=class_sort_key)
        classes = (*start_labels, *extra)
        # the user's labels as indices into the model's classes
        user = dataclasses.replace(
            user, labels=np.array([classes.index(user.classes[i]) for i in user.labels]), classes=classes
        )
        train_idx, val_idx = stratified_split(user.labels, val_split, seed)
        return cls(
            user=user,
            classes=classes,
            start=start,
            start_labels=start_labels,
            init=init,
            mnist_ratio=mnist_ratio,
            replay=(mnist.x_train[:limit], mnist.y_train[:limit]),
            train_idx=train_idx,
            val_idx=val_idx,
        )

    def recipe(self, recipe: Recipe) -> Recipe:
        """From a trained model: short and gentle; from scratch: the architecture's own."""
        if self.start is None:
            return recipe
        return dataclasses.replace(
            recipe,
            optimizer=partial(one_cycle_adamw, peak=FINE_TUNE_PEAK),
            epochs=FINE_TUNE_EPOCHS,
            batch_size=FINE_TUNE_BATCH,
            patience=None,
        )

    def split(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The user's training and validation images (model input) and labels."""
        x, y = self.user.images, self.user.labels
        return (to_model_input(x[self.train_idx]), y[self.train_idx], to_model_input(x[self.val_idx]), y[self.val_idx])

    def build_model(self, recipe: Recipe, x_val: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> keras.Model:
        """The start model, scored as it is on the held-out images, then widened to the classes
        if needed. `y_test`: MNIST's digit labels, which are also class indices (digits come first)."""
        model = self.start if self.start is not None else recipe.build()
        if self.start is not None:
            y_val = self.user.labels[self.val_idx]
            self.before = {
                name: float(np.mean(model.predict(x, batch_size=1024, verbose=0).argmax(1) == y))
                for name, x, y in (("validation_accuracy", x_val, y_val), ("test_accuracy", x_test, y_test))
            }
            print(
                f"start: {self.init} model reads {self.before['validation_accuracy']:.2%} of your held-out images, "
                f"{self.before['test_accuracy']:.2%} of MNIST test"
            )
        if self.start is not None:
            for layer in model.layers:  # keep MNIST's normalisation statistics (see the module docs)
                if isinstance(layer, layers.BatchNormalization):
                    layer.trainable = False
        if len(self.classes) != model.outputs[0].shape[-1]:
            print(
                f"model: {model.outputs[0].shape[-1]} -> {len(self.classes)} classes "
                f"(adds {', '.join(self.classes[len(self.start_labels) :])}): the last layer is replaced"
            )
            model = with_classes(model, self.start_labels, self.classes)
        return model

    def batches(
        self, x_train: np.ndarray, batch_size: int, augmenter, seed: int, one_hot: bool
    ) -> tuple[tf.data.Dataset, int]:
        """Endless shuffled batches mixing the user's images with replayed MNIST ones (a fresh
        draw every epoch), augmented like MNIST training; and the steps in one epoch."""

        def stream(x, y, offset):
            return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed + offset).repeat()

        mnist_x, mnist_y = self.replay
        sources = [stream(x_train, self.user.labels[self.train_idx], 0)]
        if self.mnist_ratio > 0:
            sources.append(stream(to_model_input(mnist_x), mnist_y.astype(np.int64), 1))
        weights = [1.0, self.mnist_ratio][: len(sources)]
        mixed = (
            tf.data.Dataset.sample_from_datasets(sources, weights=weights, seed=seed)
            if len(sources) > 1
            else sources[0]
        )
        depth = len(self.classes)
        batches = (
            mixed.batch(batch_size, drop_remainder=True)
            .map(
                lambda x, y: (augmenter(x, training=True) if augmenter else x, tf.one_hot(y, depth) if one_hot else y),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
            .prefetch(tf.data.AUTOTUNE)
        )
        steps = max(1, round(len(x_train) * (1 + self.mnist_ratio) / batch_size))
        return batches, steps

    def metadata(self, mnist: Mnist, val_split: float) -> dict:
        """What metadata.json says about the data, classes and start of a fine-tuning run."""
        return {
            "labels": list(self.classes),
            "data": {
                "source": self.user.source,
                "sha256": self.user.sha256(),
                "images": self.user.counts(),
                "skipped": len(self.user.skipped),
                "val_split": val_split,
                "split": "stratified per class",
                "mnist": {
                    "source": mnist.source,
                    "train_sha256": mnist.train_sha256(),
                    "ratio": self.mnist_ratio,
                    "replay_pool": len(self.replay[0]),
                },
            },
            "fine_tuning": {
                "init": self.init,
                "start_labels": list(self.start_labels),
                "replaced_last_layer": self.start is not None and len(self.classes) != len(self.start_labels),
                "before": self.before,
            },
        }
