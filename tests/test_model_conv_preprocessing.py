"""Known-true shapes and counts of the transposed, depthwise and separable convolutions, adaptive
pooling, the preprocessing layers and the spectrograms, and their one-line refusals.

Every row below is what Keras 3.15 returned when the layer was called on an input of that
shape (``training=True`` for the augmentations); ``tests/oracle/test_oracle_keras_conv_preprocessing.py``
checks the rules against Keras itself on seeded random models. Some rows are where Keras'
own ``compute_output_shape`` says otherwise (marked).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shapecalc import evaluate
from shapecalc.dims import Dim, sym
from shapecalc.errors import ShapecalcError
from shapecalc.model import analyze
from shapecalc.model.engine import propagate
from shapecalc.model.layers.registry import find_rule
from shapecalc.model.reader import parse_model
from shapecalc.model.result import ModelResult

B = sym("batch")


def _model(class_name: str, options: dict[str, Any], *inputs: tuple[Any, ...]) -> dict[str, Any]:
    """A Keras Functional config: ``inputs`` (without the batch axis; a name for an unknown
    size) feeding one layer. (shapecalc's own files need a size besides the batch; Keras' do not.)"""
    names = [f"x{number}" for number in range(len(inputs))]
    layers: list[dict[str, Any]] = [
        {"class_name": "InputLayer", "config": {"name": name, "batch_shape": [None, *shape]}}
        for name, shape in zip(names, inputs, strict=True)
    ]
    tensors = [{"class_name": "__keras_tensor__", "config": {"keras_history": [n, 0, 0]}} for n in names]
    call = {"args": [tensors] if len(tensors) > 1 else tensors, "kwargs": {}}
    layers.append({"class_name": class_name, "config": {"name": "layer", **options}, "inbound_nodes": [call]})
    inputs_refs = [[name, 0, 0] for name in names]
    config = {"name": "m", "layers": layers, "input_layers": inputs_refs, "output_layers": [["layer", 0, 0]]}
    return {"class_name": "Functional", "config": config}


def _run(class_name: str, options: dict[str, Any], *inputs: tuple[Any, ...]) -> ModelResult:
    document = _model(class_name, options, *inputs)
    return propagate(parse_model(json.dumps(document).encode(), "m.json"))


#: (class, options, input shapes without the batch axis, output shape, params, non-trainable).
KNOWN: list[tuple[str, dict[str, Any], list[tuple[Any, ...]], tuple[Dim, ...], int, int]] = [
    ("Conv2DTranspose", {"filters": 4, "kernel_size": 3, "strides": 2}, [(5, 5, 3)], (B, 11, 11, 4), 112, 0),
    (
        "Conv2DTranspose",
        {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
        [(5, 5, 3)],
        (B, 10, 10, 4),
        112,
        0,
    ),
    (
        "Conv1DTranspose",
        {"filters": 2, "kernel_size": 4, "strides": 3, "output_padding": 1},
        [(5, 3)],
        (B, 17, 2),
        26,
        0,
    ),
    (
        "Convolution3DTranspose",
        {
            "filters": 1,
            "kernel_size": 2,
            "strides": 2,
            "padding": "same",
            "output_padding": 1,
            "data_format": "channels_first",
        },
        [(2, 3, 3, 3)],
        (B, 1, 5, 5, 5),
        17,
        0,
    ),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2}, [(8, 8, 3)], (B, 6, 6, 6), 60, 0),
    (
        "DepthwiseConv1D",
        {"kernel_size": 3, "strides": 2, "dilation_rate": 2, "padding": "same"},
        [(9, 2)],
        (B, 5, 2),
        8,
        0,
    ),
    ("SeparableConv1D", {"filters": 4, "kernel_size": 3, "depth_multiplier": 2}, [(10, 3)], (B, 8, 4), 46, 0),
    (
        "SeparableConvolution2D",
        {"filters": 5, "kernel_size": 3, "padding": "same", "use_bias": False},
        [(6, 6, 2)],
        (B, 6, 6, 5),
        28,
        0,
    ),
    ("AdaptiveAveragePooling2D", {"output_size": [2, 3]}, [(7, 9, 4)], (B, 2, 3, 4), 0, 0),
    ("AdaptiveMaxPooling1D", {"output_size": 5}, [(3, 2)], (B, 5, 2), 0, 0),
    (
        "AdaptiveMaxPooling3D",
        {"output_size": 2, "data_format": "channels_first"},
        [(1, 4, 4, 4)],
        (B, 1, 2, 2, 2),
        0,
        0,
    ),
    ("GlobalAvgPool2D", {}, [(4, 4, 3)], (B, 3), 0, 0),
    ("MaxPool1D", {}, [(8, 3)], (B, 4, 3), 0, 0),
    ("Resizing", {"height": 5, "width": 7}, [(12, 10, 3)], (B, 5, 7, 3), 0, 0),
    (
        "CenterCrop",
        {"height": 5, "width": 7, "data_format": "channels_first"},
        [(3, 12, 10)],
        (B, 3, 5, 7),
        0,
        0,
    ),
    # Keras 3.15 returns its input unchanged when not training; the model is built for the crop.
    ("RandomCrop", {"height": 5, "width": 7}, [(12, 10, 3)], (B, 5, 7, 3), 0, 0),
    ("RandomGrayscale", {"factor": 1.0}, [(12, 10, 3)], (B, 12, 10, 3), 0, 0),
    ("RandomRotation", {"factor": 0.2, "fill_mode": "nearest"}, [(12, 10, 4)], (B, 12, 10, 4), 0, 0),
    ("Rescaling", {"scale": 0.5, "offset": 1.0}, [(4, 12, 10, 3)], (B, 4, 12, 10, 3), 0, 0),
    ("Normalization", {}, [(4, 3)], (B, 4, 3), 7, 7),
    ("Normalization", {"axis": [1, 2]}, [(4, 3)], (B, 4, 3), 25, 25),
    ("Normalization", {"axis": None}, [(4, 3)], (B, 4, 3), 3, 3),
    ("Normalization", {"mean": 0.5, "variance": 2.0}, [(4, 3)], (B, 4, 3), 0, 0),
    ("TextVectorization", {"output_sequence_length": 5, "vocabulary": ["a", "b"]}, [()], (B, 5), 0, 0),
    ("TextVectorization", {"vocabulary": ["a", "b"]}, [(1,)], (B, sym("tokens")), 0, 0),
    ("TextVectorization", {"output_mode": "multi_hot", "vocabulary": ["a", "b", "c"]}, [()], (B, 4), 0, 0),
    (
        "TextVectorization",
        {"output_mode": "count", "max_tokens": 10, "pad_to_max_tokens": True, "vocabulary": ["a"]},
        [(1,)],
        (B, 10),
        0,
        0,
    ),
    # After adapt(), Keras writes no vocabulary, but its size.
    ("TextVectorization", {"output_mode": "tf_idf", "vocabulary_size": 9}, [()], (B, 9), 0, 0),
    # Unsplit, output_sequence_length pads the last axis: here the batch axis
    # (compute_output_shape says (None, 6)).
    (
        "TextVectorization",
        {"split": None, "output_sequence_length": 6, "vocabulary": ["a"]},
        [()],
        (6,),
        0,
        0,
    ),
    ("StringLookup", {"vocabulary": ["a", "b", "c"]}, [(2,)], (B, 2), 0, 0),
    (
        "StringLookup",
        {"vocabulary": ["a", "b", "c"], "output_mode": "one_hot", "num_oov_indices": 2},
        [(2,)],
        (B, 2, 5),
        0,
        0,
    ),
    ("StringLookup", {"vocabulary": ["a", "b", "c"], "output_mode": "multi_hot"}, [(3, 2)], (B, 2, 4), 0, 0),
    (
        "IntegerLookup",
        {"vocabulary": [3, 4], "output_mode": "one_hot", "mask_token": 0},
        [(2,)],
        (B, 2, 3),
        0,
        0,
    ),
    ("CategoryEncoding", {"num_tokens": 5, "output_mode": "one_hot"}, [(1,)], (B, 5), 0, 0),
    ("CategoryEncoding", {"num_tokens": 5, "output_mode": "multi_hot"}, [(3, 4)], (B, 4, 5), 0, 0),
    # A rank-1 input loses its batch axis: Keras returns (num_tokens,).
    ("CategoryEncoding", {"num_tokens": 5, "output_mode": "count"}, [()], (5,), 0, 0),
    ("Hashing", {"num_bins": 4, "output_mode": "one_hot"}, [(2,)], (B, 2, 4), 0, 0),
    (
        "Discretization",
        {"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": "one_hot"},
        [(3, 4)],
        (B, 3, 4, 4),
        0,
        0,
    ),
    ("HashedCrossing", {"num_bins": 4, "output_mode": "one_hot"}, [(), ()], (B, 4), 0, 0),
    # compute_output_shape says 11 frames: (999 + 100 + 1) // 100.
    (
        "MelSpectrogram",
        {"fft_length": 256, "sequence_stride": 100, "num_mel_bins": 20},
        [(999,)],
        (B, 20, 10),
        0,
        0,
    ),
    (
        "MelSpectrogram",
        {"fft_length": 256, "sequence_stride": 100, "sequence_length": 200},
        [(3, 500)],
        (B, 3, 128, 6),
        0,
        0,
    ),
    ("STFTSpectrogram", {}, [(1000, 1)], (B, 6, 129), 66048, 0),
    (
        "STFTSpectrogram",
        {"mode": "real", "frame_length": 60, "frame_step": 7, "fft_length": 64, "expand_dims": True},
        [(1000, 2)],
        (B, 135, 33, 2),
        1980,
        0,
    ),
    (
        "STFTSpectrogram",
        {"mode": "stft", "frame_length": 64, "data_format": "channels_first"},
        [(2, 301)],
        (B, 132, 8),
        4224,
        0,
    ),
    (
        "STFTSpectrogram",
        {"mode": "imag", "frame_length": 64, "frame_step": 10, "padding": "same"},
        [(1000, 2)],
        (B, 100, 66),
        2112,
        0,
    ),
]


@pytest.mark.parametrize(
    ("class_name", "options", "inputs", "output", "params", "frozen"),
    KNOWN,
    ids=[f"{row[0]}-{number}" for number, row in enumerate(KNOWN)],
)
def test_known_layer_shapes(
    class_name: str,
    options: dict[str, Any],
    inputs: list[tuple[Any, ...]],
    output: tuple[Dim, ...],
    params: int,
    frozen: int,
) -> None:
    row = _run(class_name, options, *inputs).rows[-1]
    assert row.shapes == (output,)
    assert (row.params, row.non_trainable) == (params, frozen)


#: (class, options, input shapes, the one line shapecalc says).
REFUSED: list[tuple[str, dict[str, Any], list[tuple[Any, ...]], str]] = [
    (
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 2},
        [(5, 5, 1)],
        "output_padding must be smaller than strides on every axis (Keras refuses it), got 2 >= 2 on axis 0",
    ),
    (
        "Conv1DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2},
        [(5, 1)],
        "strides > 1 are not compatible with dilation > 1 (Keras refuses it), "
        "got strides=[2] and dilation=[2]",
    ),
    (
        "DepthwiseConv1D",
        {"kernel_size": 3, "padding": "causal"},
        [(5, 1)],
        "padding must be 'valid' or 'same', got 'causal'",
    ),
    (
        "RandomHue",
        {"factor": 0.2},
        [(8, 8, 1)],
        "needs images with 3 channels (it works on RGB), got (batch, 8, 8, 1)",
    ),
    (
        "RandomColorJitter",
        {"hue_factor": 0.2, "data_format": "channels_first"},
        [(3, 8, 8)],
        "data_format with saturation_factor or hue_factor, Keras 3 fails on channels_first images",
    ),
    (
        "Resizing",
        {"height": 2, "width": 2},
        [(8, 8, 8, 3)],
        "expects a 4-D input (batch, rows, cols, channels), got (batch, 8, 8, 8, 3)",
    ),
    (
        "StringLookup",
        {"output_mode": "multi_hot"},
        [(2,)],
        "vocabulary is not in the config (set it, or save the layer after adapt()): its size is the output's",
    ),
    (
        "StringLookup",
        {"output_mode": "count", "vocabulary": "words.txt"},
        [(2,)],
        "vocabulary is the file 'words.txt', which shapecalc does not read: its size is the output's",
    ),
    (
        "Discretization",
        {"num_bins": 4},
        [(2,)],
        "bin_boundaries is not in the config: the buckets come from adapt(), "
        "which a saved config does not keep",
    ),
    (
        "TextVectorization",
        {"vocabulary": ["a"]},
        [(2,)],
        "splits strings of shape (batch,) or (batch, 1), got (batch, 2)",
    ),
    (
        "TextVectorization",
        {"output_mode": "multi_hot", "output_sequence_length": 3, "vocabulary": ["a"]},
        [()],
        "output_sequence_length works only with output_mode 'int', not 'multi_hot'",
    ),
    (
        "HashedCrossing",
        {"num_bins": 4},
        [(2,), (2,)],
        "takes inputs of shape (batch,) or (batch, 1), got (batch, 2)",
    ),
    (
        "MelSpectrogram",
        {"fft_length": 256},
        [(100,)],
        "fft_length pads 128 samples on each side by reflection, which needs more than 128 samples, "
        "got (batch, 100)",
    ),
    (
        "STFTSpectrogram",
        {"frame_length": 64, "frame_step": 65},
        [(100, 1)],
        "frame_step must be at most frame_length (64), got 65",
    ),
    (
        "LocallyConnected2D",
        {"filters": 2, "kernel_size": 3},
        [(8, 8, 1)],
        "was removed in Keras 3 (a Keras 2 class): load the model in Keras 2 to see its shapes",
    ),
]


@pytest.mark.parametrize(
    ("class_name", "options", "inputs", "message"),
    REFUSED,
    ids=[f"{row[0]}-{n}" for n, row in enumerate(REFUSED)],
)
def test_refusals_are_one_line(
    class_name: str, options: dict[str, Any], inputs: list[tuple[Any, ...]], message: str
) -> None:
    with pytest.raises(ShapecalcError) as raised:
        _run(class_name, options, *inputs)
    text = str(raised.value)
    assert "\n" not in text
    assert text.endswith(message) or f"{message} (use --skip-unknown" in text, text


def test_a_removed_class_is_listed_with_skip_unknown() -> None:
    document = _model("LocallyConnected1D", {"filters": 2, "kernel_size": 3}, (8, 1))
    result = propagate(parse_model(json.dumps(document).encode(), "m.json"), skip_unknown=True)
    assert result.rows[-1].shapes is None


def test_the_aliases_find_their_class() -> None:
    pairs = {
        "Convolution2DTranspose": "Conv2DTranspose",
        "SeparableConvolution1D": "SeparableConv1D",
        "MaxPool3D": "MaxPooling3D",
        "AvgPool1D": "AveragePooling1D",
        "GlobalMaxPool1D": "GlobalMaxPooling1D",
        "adaptive_max_pooling2d": "AdaptiveMaxPooling2D",
    }
    for alias, class_name in pairs.items():
        rule = find_rule(alias)
        assert rule is not None and rule.class_name == class_name


def test_unknown_text_lengths_stay_symbolic() -> None:
    """Without output_sequence_length the length is the longest text's: a name, never a guess."""
    row = _run("TextVectorization", {"vocabulary": ["a"]}, ()).rows[-1]
    assert row.shapes == ((B, sym("tokens")),)


def test_symbolic_sizes_flow_through_the_transposed_convolution() -> None:
    row = _run("Conv1DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2}, (None, 1)).rows[-1]
    assert [str(size) for size in (row.shapes or ((),))[0]] == ["batch", "timestep*2 + 1", "2"]


LAYER_MODELS = Path(__file__).parent / "data" / "keras-layers"


@pytest.mark.parametrize("suffix", [".json", ".keras"])
@pytest.mark.parametrize("name", ["augmented_classifier", "text_classifier"])
def test_example_models_match_what_keras_returned(name: str, suffix: str) -> None:
    """The example models (``tests/data/keras-layers/generate_layer_models.py``): every layer's shape at the
    batch Keras ran, and its counts."""
    expected = json.loads((LAYER_MODELS / f"{name}.expected.json").read_text())
    result = analyze(LAYER_MODELS / f"{name}{suffix}")
    given = expected["input_shape"]
    env = {"batch": given[0], **{f"d{axis}": size for axis, size in enumerate(given) if axis}}
    rows = {row.name: row for row in result.rows}
    for layer in expected["layers"]:
        row = rows[layer["name"]]
        assert row.shapes is not None and len(row.shapes) == 1, layer
        assert [evaluate(size, env) for size in row.shapes[0]] == layer["output_shape"], layer
        assert (row.params, row.non_trainable) == (layer["params"], layer["non_trainable_params"]), layer
