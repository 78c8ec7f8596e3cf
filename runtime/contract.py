"""What every tegaki model takes and returns: the one definition of the input contract.

Training, export and the runtime all import it from here, so a model and the code that
feeds it cannot drift apart. Exported files carry it in their metadata.
"""

import numpy as np

IMAGE_SIZE = 28
LABELS = tuple(str(digit) for digit in range(10))
INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
# Bumped whenever the runtime's preprocessing changes what a model sees.
PREPROCESSING_VERSION = 1

INPUT_CONTRACT = {
    "name": INPUT_NAME,
    "shape": [None, IMAGE_SIZE, IMAGE_SIZE, 1],
    "layout": "NHWC",
    "dtype": "float32",
    "range": [0.0, 1.0],
    "scaling": "uint8 pixel / 255",
    "polarity": "white digit on black background",
    "framing": "MNIST: digit's longest side 20 px, centred by centre of mass in 28x28",
    "preprocessing_version": PREPROCESSING_VERSION,
}


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28), white on black, to the model's float32 (N, 28, 28, 1) in [0, 1]."""
    images = np.asarray(images)
    if images.shape[-2:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected images of {IMAGE_SIZE}x{IMAGE_SIZE}, got shape {images.shape}")
    return (images.astype(np.float32) / 255.0).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)
