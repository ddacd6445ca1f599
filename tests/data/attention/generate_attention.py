"""Build the small attention model the docs show, and save it beside this file.

* ``translator.json``: ``model.to_json()`` of a sequence-to-sequence model whose decoder
  attends to the encoder (``MultiHeadAttention`` with ``key=``, its scores returned), with
  masked embeddings (Keras saves ``NotEqual`` op nodes) and an op residual (``x + y``);
* ``translator.keras``: the same model saved as an archive (weights zeroed).

``tests/oracle/test_oracle_keras_attention.py`` runs the model live and compares every layer
with shapecalc's reading of both files. Run with Keras 3 installed:

    KERAS_BACKEND=torch python tests/data/attention/generate_attention.py
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

HERE = Path(__file__).resolve().parent


def translator() -> Any:
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    layers = keras.layers
    source = keras.Input((None,), dtype="int32", name="source")
    target = keras.Input((None,), dtype="int32", name="target")
    encoded = layers.Embedding(100, 16, mask_zero=True, name="source_embedding")(source)
    encoded, state_h, state_c = layers.LSTM(16, return_sequences=True, return_state=True, name="encoder")(
        encoded
    )
    decoded = layers.Embedding(120, 16, mask_zero=True, name="target_embedding")(target)
    decoded = layers.LSTM(16, return_sequences=True, name="decoder")(
        decoded, initial_state=[state_h, state_c]
    )
    keys = layers.Dense(8, name="keys")(encoded)
    context, scores = layers.MultiHeadAttention(2, 8, name="attention")(
        decoded, encoded, key=keys, return_attention_scores=True
    )
    mixed = layers.LayerNormalization(name="norm")(decoded + context)
    logits = layers.Dense(120, name="logits")(mixed)
    return keras.Model([source, target], [logits, scores], name="translator")


def write_all(folder: Path = HERE) -> None:
    import importlib.util
    import tempfile

    # The Keras test models' archive writer: zeroed weights, deflated, the same on every run.
    spec = importlib.util.spec_from_file_location("keras_models", HERE.parent / "keras" / "generate.py")
    assert spec and spec.loader
    keras_models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(keras_models)
    model = translator()
    (folder / "translator.json").write_text(model.to_json() + "\n")
    with tempfile.TemporaryDirectory() as scratch:
        (folder / "translator.keras").write_bytes(keras_models.keras_archive(model, Path(scratch)))


if __name__ == "__main__":
    write_all()
