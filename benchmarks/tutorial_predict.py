"""The tutorial's way to classify one image, for comparison: TensorFlow + Keras load_model +
predict, with the tutorial's naive preprocessing (resize to 28x28, grey, /255).

    python benchmarks/tutorial_predict.py MODEL.keras IMAGE
"""

import sys

import keras
import numpy as np
from PIL import Image

model = keras.models.load_model(sys.argv[1])
image = Image.open(sys.argv[2]).convert("L").resize((28, 28))
x = (np.asarray(image, dtype=np.float32) / 255.0).reshape(1, 28, 28, 1)
print(int(model.predict(x, verbose=0).argmax()))
