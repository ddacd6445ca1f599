"""Build the preprocessing example models and save them, with what Keras returned for each layer.

For every model in :data:`MODELS` this writes, beside this file, ``NAME.json``
(``model.to_json()``), ``NAME.keras`` (``model.save()``, re-zipped steadily by
``tests/data/keras/generate.py``) and ``NAME.expected.json``: every layer's output shape when
the model runs layer by layer on a real batch of ``BATCH`` (``training=True``: the
augmentations act), and its parameter counts. Run it with Keras 3 (and TensorFlow, which the
text layers need):

    KERAS_BACKEND=torch python tests/data/keras-layers/generate_layer_models.py
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

HERE = Path(__file__).resolve().parent
BATCH = 2


def _keras() -> Any:
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    return keras


def augmented_classifier() -> tuple[Any, Any]:
    """An image classifier with a preprocessing head: resize, augment, rescale."""
    import numpy as np

    keras = _keras()
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((None, None, 3)),
            layers.Resizing(72, 72),
            layers.RandomCrop(64, 64),
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(0.1),
            layers.RandomContrast(0.2),
            layers.Rescaling(1 / 255),
            layers.Conv2D(16, 3, strides=2, padding="same", activation="relu"),
            layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
            layers.SeparableConv2D(32, 3, strides=2),
            layers.AdaptiveAveragePooling2D(4),
            layers.Conv2DTranspose(8, 3, strides=2, output_padding=1),
            layers.GlobalMaxPooling2D(),
            layers.Dense(10, activation="softmax"),
        ],
        name="augmented_classifier",
    )
    return model, np.random.default_rng(0).uniform(0, 255, (BATCH, 100, 80, 3)).astype("float32")


def text_classifier() -> tuple[Any, Any]:
    """Raw strings in: TextVectorization, Embedding, LSTM."""
    import numpy as np

    keras = _keras()
    layers = keras.layers
    words = ["the", "cat", "sat", "on", "mat", "dog", "ran", "far"]
    model = keras.Sequential(
        [
            keras.Input((), dtype="string"),
            layers.TextVectorization(max_tokens=20, output_sequence_length=12, vocabulary=words),
            layers.Embedding(20, 8, mask_zero=True),
            layers.LSTM(16),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="text_classifier",
    )
    return model, np.array(["the cat sat on the mat", "the dog ran far"])


MODELS: dict[str, Callable[[], tuple[Any, Any]]] = {
    build.__name__: build for build in (augmented_classifier, text_classifier)
}


def _steady_archive(model: Any, folder: Path) -> bytes:
    spec = importlib.util.spec_from_file_location("keras_models", HERE.parent / "keras" / "generate.py")
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    return bytes(generator.keras_archive(model, folder))


def expected(model: Any, batch: Any) -> dict[str, Any]:
    """Each layer's output shape on ``batch`` (run layer by layer) and its parameter counts."""
    import numpy as np

    rows, value = [], batch
    for layer in model.layers:
        value = layer(value, training=True)
        frozen = sum(int(np.prod(w.shape)) for w in layer.non_trainable_weights)
        rows.append(
            {
                "name": layer.name,
                "class": type(layer).__name__,
                "output_shape": [int(size) for size in value.shape],
                "params": int(layer.count_params()),
                "non_trainable_params": frozen,
            }
        )
    return {
        "model": model.name,
        "batch": int(batch.shape[0]),
        "input_shape": list(batch.shape),
        "layers": rows,
    }


def write_all(folder: Path = HERE) -> None:
    for name, build in MODELS.items():
        model, batch = build()
        (folder / f"{name}.json").write_text(model.to_json() + "\n")
        (folder / f"{name}.expected.json").write_text(json.dumps(expected(model, batch), indent=1) + "\n")
        with tempfile.TemporaryDirectory() as scratch:
            (folder / f"{name}.keras").write_bytes(_steady_archive(model, Path(scratch)))
        print(f"{name}: {len(model.layers)} layers, {model.count_params()} params", file=sys.stderr)


if __name__ == "__main__":
    write_all()
