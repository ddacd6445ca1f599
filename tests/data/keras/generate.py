"""Build the Keras 3 test models and save what Keras reports about them.

For every model in :data:`MODELS` this writes, beside this file:

* ``NAME.json``: ``model.to_json()``;
* ``NAME.keras``: ``model.save()``'s archive, with the weights zeroed and the
  members re-zipped with deflate (Keras loads it back; weights play no part in shapes);
* ``NAME.expected.json``: each layer's output shape(s) and parameter count and
  the totals, as Keras computes them (``None`` sizes stay ``null``).

The committed files let the tests run without Keras; the oracle tests import
this module to rebuild the models live. Run it with Keras 3 installed:

    KERAS_BACKEND=torch python tests/data/keras/generate.py
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

HERE = Path(__file__).resolve().parent


def _keras() -> Any:
    import keras

    # Fresh layer names (lstm, lstm_1, ...) for every model, as in a new session.
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    return keras


def stacked_lstm() -> Any:
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((12, 6)),
            layers.LSTM(8, return_sequences=True),
            layers.LSTM(6, return_sequences=True),
            layers.LSTM(4),
            layers.Dense(3, activation="softmax"),
        ],
        name="stacked_lstm",
    )


def bidirectional_text() -> Any:
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            layers.Embedding(100, 8),
            layers.Bidirectional(layers.LSTM(6, return_sequences=True)),
            layers.Bidirectional(layers.GRU(4), merge_mode="sum"),
            layers.Dropout(0.3),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="bidirectional_text",
    )


def video_next_frame() -> Any:
    """The Keras example's next-frame predictor, smaller."""
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((None, 16, 16, 1)),
            layers.ConvLSTM2D(4, (5, 5), padding="same", return_sequences=True),
            layers.BatchNormalization(),
            layers.ConvLSTM2D(4, (3, 3), padding="same", return_sequences=True),
            layers.BatchNormalization(),
            layers.ConvLSTM2D(2, (1, 1), padding="same", return_sequences=True),
            layers.Conv3D(1, (3, 3, 3), padding="same", activation="sigmoid"),
        ],
        name="video_next_frame",
    )


def convlstm1d_sensor() -> Any:
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((10, 24, 3)),
            layers.ConvLSTM1D(4, 3, return_sequences=True),
            layers.ConvLSTM1D(2, 5, strides=2, use_bias=False),
            layers.Flatten(),
            layers.Dense(2),
        ],
        name="convlstm1d_sensor",
    )


def convlstm3d_volume() -> Any:
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((4, 6, 8, 8, 2)),
            layers.ConvLSTM3D(3, 3, padding="same", return_sequences=True),
            layers.ConvLSTM3D(2, (3, 3, 3), dilation_rate=(1, 2, 1)),
            layers.GlobalAveragePooling3D(),
            layers.Dense(2),
        ],
        name="convlstm3d_volume",
    )


def channels_first() -> Any:
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((5, 2, 12, 12)),
            layers.ConvLSTM2D(3, 3, data_format="channels_first", return_sequences=True),
            layers.TimeDistributed(layers.MaxPooling2D(2, data_format="channels_first")),
            layers.ConvLSTM2D(2, 3, padding="same", data_format="channels_first"),
            layers.Conv2D(4, 3, strides=2, data_format="channels_first"),
            layers.GlobalMaxPooling2D(data_format="channels_first", keepdims=True),
            layers.Flatten(),
            layers.Dense(2),
        ],
        name="channels_first",
    )


def td_cnn_lstm() -> Any:
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((6, 32, 32, 3)),
            layers.TimeDistributed(layers.Conv2D(4, 3, strides=2, activation="relu")),
            layers.TimeDistributed(layers.MaxPooling2D(2)),
            layers.TimeDistributed(layers.Conv2D(8, 3, padding="same")),
            layers.TimeDistributed(layers.GlobalAveragePooling2D()),
            layers.LSTM(8),
            layers.Dense(3, activation="softmax"),
        ],
        name="td_cnn_lstm",
    )


def seq2seq_states() -> Any:
    """Encoder ``return_state`` outputs feed the decoder's ``initial_state``."""
    keras = _keras()
    layers = keras.layers
    encoder_in = keras.Input((None, 5), name="encoder_in")
    decoder_in = keras.Input((None, 6), name="decoder_in")
    _, state_h, state_c = layers.LSTM(8, return_state=True, name="encoder")(encoder_in)
    decoded = layers.LSTM(8, return_sequences=True, name="decoder")(
        decoder_in, initial_state=[state_h, state_c]
    )
    out = layers.TimeDistributed(layers.Dense(6, activation="softmax"), name="next_token")(decoded)
    return keras.Model([encoder_in, decoder_in], out, name="seq2seq_states")


def gru_bidirectional_seq2seq() -> Any:
    keras = _keras()
    layers = keras.layers
    source = keras.Input((7, 4), name="source")
    target = keras.Input((9, 3), name="target")
    encoded, forward_h, backward_h = layers.Bidirectional(layers.GRU(4, return_state=True), name="encoder")(
        source
    )
    state = layers.Concatenate(name="state")([forward_h, backward_h])
    decoded = layers.GRU(8, return_sequences=True, reset_after=False, name="decoder")(
        target, initial_state=state
    )
    summary = layers.Dense(8, name="summary")(encoded)
    repeated = layers.RepeatVector(9, name="repeat")(summary)
    joined = layers.Concatenate(name="join")([decoded, repeated])
    out = layers.Dense(3, name="out")(joined)
    return keras.Model([source, target], out, name="gru_bidirectional_seq2seq")


def multi_input_merge() -> Any:
    keras = _keras()
    layers = keras.layers
    text = keras.Input((None,), dtype="int32", name="text")
    numbers = keras.Input((7,), name="numbers")
    words = layers.Embedding(50, 6, name="embed")(text)
    read = layers.LSTM(8, name="reader")(words)
    dense_a = layers.Dense(8, name="dense_a")(numbers)
    dense_b = layers.Dense(8, name="dense_b")(numbers)
    added = layers.Add(name="add")([read, dense_a])
    multiplied = layers.Multiply(name="multiply")([added, dense_b])
    subtracted = layers.Subtract(name="subtract")([multiplied, dense_a])
    averaged = layers.Average(name="average")([subtracted, read, dense_b])
    maximum = layers.Maximum(name="maximum")([averaged, added])
    minimum = layers.Minimum(name="minimum")([maximum, dense_b])
    joined = layers.Concatenate(name="join")([minimum, dense_a, read])
    normed = layers.LayerNormalization(name="norm")(joined)
    out = layers.Dense(1, name="out")(normed)
    return keras.Model([text, numbers], out, name="multi_input_merge")


def conv1d_text() -> Any:
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((64,), dtype="int32"),
            layers.Embedding(50, 8),
            layers.Conv1D(8, 5, padding="causal", dilation_rate=2),
            layers.MaxPooling1D(2),
            layers.Conv1D(6, 3, strides=2),
            layers.AveragePooling1D(2, padding="same"),
            layers.SpatialDropout1D(0.2),
            layers.Conv1D(4, 3, padding="same", groups=2),
            layers.UpSampling1D(3),
            layers.ZeroPadding1D((1, 2)),
            layers.Cropping1D(2),
            layers.GlobalMaxPooling1D(),
            layers.Dense(2),
        ],
        name="conv1d_text",
    )


def lstm_autoencoder() -> Any:
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((10, 3)),
            layers.LSTM(6),
            layers.RepeatVector(10),
            layers.LSTM(6, return_sequences=True),
            layers.TimeDistributed(layers.Dense(3)),
            layers.Reshape((30,)),
            layers.Reshape((-1, 5)),
            layers.Permute((2, 1)),
            layers.Flatten(),
        ],
        name="lstm_autoencoder",
    )


def conv_image() -> Any:
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((20, 20, 4)),
            layers.Conv2D(8, 3, groups=2),
            layers.ZeroPadding2D(((1, 2), (0, 1))),
            layers.AveragePooling2D(3, strides=2, padding="same"),
            layers.UpSampling2D(2),
            layers.Cropping2D(1),
            layers.Conv2D(6, (3, 1), dilation_rate=(2, 1), use_bias=False),
            layers.BatchNormalization(center=False),
            layers.PReLU(shared_axes=[1, 2]),
            layers.GroupNormalization(groups=3),
            layers.MaxPooling2D((2, 3), strides=(1, 2)),
            layers.Reshape((-1, 6)),
            layers.Softmax(),
            layers.GlobalAveragePooling1D(keepdims=True),
            layers.Flatten(),
            layers.Dense(2),
        ],
        name="conv_image",
    )


def conv_volume() -> Any:
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((8, 16, 16, 1)),
            layers.Conv3D(2, 3, strides=2),
            layers.MaxPooling3D(2, padding="same"),
            layers.UpSampling3D((1, 2, 2)),
            layers.ZeroPadding3D(1),
            layers.Cropping3D(((0, 1), (1, 1), (2, 0))),
            layers.AveragePooling3D((1, 2, 2)),
            layers.GlobalMaxPooling3D(),
            layers.UnitNormalization(),
            layers.Dense(2),
        ],
        name="conv_volume",
    )


def simple_rnn_merge_none() -> Any:
    keras = _keras()
    layers = keras.layers
    sequence = keras.Input((8, 5), name="sequence")
    forward, backward = layers.Bidirectional(
        layers.SimpleRNN(4, return_sequences=True), merge_mode=None, name="both_ways"
    )(sequence)
    joined = layers.Concatenate(name="join")([forward, backward])
    recurrent = layers.GRU(3, reset_after=False, name="gru")(joined)
    normal = layers.RMSNormalization(name="rms")(recurrent)
    out = layers.Dense(2, activation="softmax", name="out")(normal)
    return keras.Model(sequence, out, name="simple_rnn_merge_none")


def symbolic_conv() -> Any:
    """Images of any size: Keras reports ``None``, shapecalc an expression in d1 and d2."""
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((None, None, 3)),
            layers.Conv2D(4, 3, strides=2),
            layers.Conv2D(4, 3, strides=2, padding="same"),
            layers.MaxPooling2D(),
            layers.LeakyReLU(),
            layers.GlobalAveragePooling2D(),
            layers.Dense(2),
        ],
        name="symbolic_conv",
    )


def nested_cnn_lstm() -> Any:
    """A Sequential CNN inside TimeDistributed, inside a Functional model."""
    keras = _keras()
    layers = keras.layers
    cnn = keras.Sequential(
        [keras.Input((16, 16, 1)), layers.Conv2D(2, 3), layers.MaxPooling2D(), layers.Flatten()],
        name="frame_cnn",
    )
    frames = keras.Input((4, 16, 16, 1), name="frames")
    features = layers.TimeDistributed(cnn, name="per_frame")(frames)
    read = layers.LSTM(3, name="reader")(features)
    out = layers.Dense(2, name="out")(read)
    return keras.Model(frames, out, name="nested_cnn_lstm")


def shared_siamese() -> Any:
    """One Dense layer called on two inputs: its weights count once, its MACs twice."""
    keras = _keras()
    layers = keras.layers
    left = keras.Input((5,), name="left")
    right = keras.Input((5,), name="right")
    shared = layers.Dense(3, name="shared")
    joined = layers.Subtract(name="difference")([shared(left), shared(right)])
    out = layers.Dense(1, name="out")(joined)
    return keras.Model([left, right], out, name="shared_siamese")


def stateful_fixed_batch() -> Any:
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((7, 3), batch_size=4),
            layers.LSTM(5, stateful=True, return_sequences=True),
            layers.ELU(),
            layers.SimpleRNN(2, go_backwards=True),
            layers.Activation("tanh"),
            layers.Dense(1),
        ],
        name="stateful_fixed_batch",
    )


def rnn_cells() -> Any:
    """RNN(cell) layers: stacked cells whose states are model outputs (Keras nests them), a cell
    in a Bidirectional, and a GRU cell whose state starts an LSTM cell's RNN."""
    keras = _keras()
    layers = keras.layers
    words = keras.Input((None, 4), name="words")
    stack = layers.StackedRNNCells([layers.LSTMCell(5), layers.GRUCell(3, reset_after=False)])
    sequence, lstm_states, gru_state = layers.RNN(
        stack, return_sequences=True, return_state=True, name="stacked"
    )(words)
    both = layers.Bidirectional(layers.RNN(layers.SimpleRNNCell(4), return_sequences=True), name="both_ways")(
        sequence
    )
    _, state = layers.RNN(layers.GRUCell(6), return_state=True, go_backwards=True, name="gru_cell_rnn")(both)
    read = layers.RNN(layers.GRUCell(6, use_bias=False), name="reader")(both, initial_state=[state])
    out = layers.Dense(2, name="out")(read)
    return keras.Model(words, [out, lstm_states, gru_state], name="rnn_cells")


MODELS: dict[str, Callable[[], Any]] = {
    build.__name__: build
    for build in (
        stacked_lstm,
        bidirectional_text,
        video_next_frame,
        convlstm1d_sensor,
        convlstm3d_volume,
        channels_first,
        td_cnn_lstm,
        seq2seq_states,
        gru_bidirectional_seq2seq,
        multi_input_merge,
        conv1d_text,
        lstm_autoencoder,
        conv_image,
        conv_volume,
        simple_rnn_merge_none,
        symbolic_conv,
        nested_cnn_lstm,
        shared_siamese,
        stateful_fixed_batch,
        rnn_cells,
    )
}


def _shape(value: Any) -> Any:
    if isinstance(value, (list, tuple)) and value and not isinstance(value[0], (int, type(None))):
        return [_shape(item) for item in value]
    shape = value.shape if hasattr(value, "shape") else value
    return [None if size is None else int(size) for size in shape]


def _count(weights: Any) -> int:
    return sum(math.prod(weight.shape) for weight in weights)


def expected(model: Any) -> dict[str, Any]:
    """What Keras says: every layer's output shape(s) and parameters, and the totals."""
    layers = []
    for layer in model.layers:
        output = layer.output
        shape = [_shape(t) for t in output] if isinstance(output, (list, tuple)) else _shape(output)
        layers.append(
            {
                "name": layer.name,
                "class": type(layer).__name__,
                "output_shape": shape,
                "params": int(layer.count_params()),
            }
        )
    return {
        "model": model.name,
        "class": type(model).__name__,
        "layers": layers,
        "params": int(model.count_params()),
        "trainable_params": _count(model.trainable_weights),
        "non_trainable_params": _count(model.non_trainable_weights),
    }


def keras_archive(model: Any, folder: Path) -> bytes:
    """``model.save()``'s archive with zeroed weights and its members re-compressed.

    Weights play no part in shapes; zeros keep the archive small and the same on every run.
    """
    import numpy as np

    model.set_weights([np.zeros_like(weight) for weight in model.get_weights()])
    path = folder / f"{model.name}.keras"
    model.save(path)
    packed = io.BytesIO()
    with (
        zipfile.ZipFile(path) as original,
        zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out,
    ):
        for info in original.infolist():
            # Fixed timestamps and object ids keep regenerated archives byte-identical.
            member = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            out.writestr(member, _steady(info.filename, original.read(info.filename)), zipfile.ZIP_DEFLATED)
    return packed.getvalue()


def _steady(name: str, data: bytes) -> bytes:
    """``data`` without what changes from run to run: the save date, Python object ids."""
    import re

    if name == "metadata.json":
        return re.sub(rb'"date_saved": "[^"]*"', b'"date_saved": "2024-01-01@00:00:00"', data)
    if name == "config.json":
        ids: dict[bytes, bytes] = {}

        def number(match: re.Match[bytes]) -> bytes:
            return b'"shared_object_id": ' + ids.setdefault(match.group(1), str(len(ids) + 1).encode())

        return re.sub(rb'"shared_object_id": (\d+)', number, data)
    return data


def write_all(folder: Path = HERE) -> None:
    import tempfile

    import keras

    for name, build in MODELS.items():
        model = build()
        (folder / f"{name}.json").write_text(model.to_json() + "\n")
        (folder / f"{name}.expected.json").write_text(json.dumps(expected(model), indent=1) + "\n")
        with tempfile.TemporaryDirectory() as scratch:
            archive = keras_archive(model, Path(scratch))
        (folder / f"{name}.keras").write_bytes(archive)
        reloaded = keras.saving.load_model(folder / f"{name}.keras")
        assert reloaded.count_params() == model.count_params(), name
        print(f"{name}: {len(model.layers)} layers, {model.count_params()} params", file=sys.stderr)


if __name__ == "__main__":
    write_all()
