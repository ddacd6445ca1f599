"""Transposed, depthwise and separable convolutions, adaptive pooling, the preprocessing layers
and the spectrograms, against what Keras 3 really returns.

Each family draws seeded random models (shapes, options, and configs Keras refuses); every
model is built in Keras, saved with ``to_json()`` (and a ``.keras`` archive for some), read by
shapecalc, and run layer by layer on random data: every layer's output shapes and its
parameters (all, and the non-trainable ones) must be what the run gave, or both must refuse.
The text layers need TensorFlow, which Keras uses for them even on the torch backend.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from keras_layer_runs import WORDS, Input, Net, Step, check_net
from oracle_support import ORACLE_MARKS, require_frameworks

from shapecalc.model.layers.preprocessing import AUGMENTATIONS

pytestmark = [*ORACLE_MARKS, pytest.mark.filterwarnings("ignore::UserWarning")]

#: Models drawn per family (the lookups spread over six classes).
CASES = {"lookups": 90, "image_preprocessing": 100}


@pytest.fixture(scope="module", autouse=True)
def _frameworks() -> None:
    require_frameworks("torch", "keras")


def _sizes(
    rng: random.Random, rank: int, low: int, high: int, unknown: float = 0.2
) -> tuple[int | None, ...]:
    return tuple(None if rng.random() < unknown else rng.randint(low, high) for _ in range(rank))


def _per_axis(rng: random.Random, rank: int, low: int, high: int) -> Any:
    if rng.random() < 0.4:
        return rng.randint(low, high)
    return [rng.randint(low, high) for _ in range(rank)]


def _image_input(
    rng: random.Random, rank: int, data_format: str, channels: int, unknown: float = 0.2
) -> Input:
    spatial = _sizes(rng, rank, 1, 7, unknown)
    shape = (*spatial, channels) if data_format == "channels_last" else (channels, *spatial)
    return Input("x", shape)


def conv_transpose_net(seed: int) -> Net:
    rng = random.Random(seed)
    rank = rng.choice([1, 2, 3])
    data_format = rng.choice(["channels_last", "channels_first"])
    strides = _per_axis(rng, rank, 1, 3)
    arguments: dict[str, Any] = {
        "filters": rng.randint(1, 4),
        "kernel_size": _per_axis(rng, rank, 1, 4),
        "strides": strides,
        "padding": rng.choice(["valid", "same"]),
        "data_format": data_format,
        "use_bias": rng.random() < 0.7,
    }
    if rng.random() < 0.3:
        arguments["dilation_rate"] = _per_axis(rng, rank, 1, 2)
    if rng.random() < 0.5:
        stride_list = strides if isinstance(strides, list) else [strides] * rank
        # Up to the stride itself: equal is refused.
        arguments["output_padding"] = [rng.randint(0, s - (rng.random() < 0.85)) for s in stride_list]
    net = Net([_image_input(rng, rank, data_format, rng.randint(1, 3))], [])
    net.steps.append(Step("up", f"Conv{rank}DTranspose", arguments, ("x",)))
    return net


def depthwise_net(seed: int) -> Net:
    rng = random.Random(seed)
    rank = rng.choice([1, 2])
    separable = rng.random() < 0.5
    data_format = rng.choice(["channels_last", "channels_first"])
    arguments: dict[str, Any] = {
        "kernel_size": _per_axis(rng, rank, 1, 4),
        "strides": _per_axis(rng, rank, 1, 2),
        "padding": rng.choice(["valid", "same"]),
        "depth_multiplier": rng.randint(1, 3),
        "data_format": data_format,
        "use_bias": rng.random() < 0.7,
    }
    if rng.random() < 0.3:
        arguments["dilation_rate"] = _per_axis(rng, rank, 1, 2)
    if separable:
        arguments["filters"] = rng.randint(1, 4)
    name = f"SeparableConv{rank}D" if separable else f"DepthwiseConv{rank}D"
    return Net(
        [_image_input(rng, rank, data_format, rng.randint(1, 3))], [Step("conv", name, arguments, ("x",))]
    )


def adaptive_net(seed: int) -> Net:
    rng = random.Random(seed)
    rank = rng.choice([1, 2, 3])
    data_format = rng.choice(["channels_last", "channels_first"])
    kind = rng.choice(["Average", "Max"])
    size = rng.randint(1, 4) if rng.random() < 0.5 else [rng.randint(1, 4) for _ in range(rank)]
    if rank == 1 and isinstance(size, list):
        size = size[0]
    if rng.random() < 0.1:
        size = [2] * (rank + 1)  # refused: one size per axis
    net = Net([_image_input(rng, rank, data_format, rng.randint(1, 3), unknown=0.0)], [])
    net.steps.append(
        Step(
            "pool", f"Adaptive{kind}Pooling{rank}D", {"output_size": size, "data_format": data_format}, ("x",)
        )
    )
    net.steps.append(Step("flat", "Flatten", {}, ("pool",)))
    net.steps.append(Step("out", "Dense", {"units": 2}, ("flat",)))
    return net


#: Arguments each augmentation needs (its factor), beyond the data format.
AUGMENT_ARGUMENTS: dict[str, dict[str, Any]] = {
    "RandomColorDegeneration": {"factor": 0.5},
    "RandomGrayscale": {"factor": 1.0},
    "RandomHue": {"factor": 0.3},
    "RandomPosterization": {"factor": (1, 4)},
    "RandomSaturation": {"factor": 0.5},
    "RandomSharpness": {"factor": 0.5},
    "RandomShear": {"x_factor": 0.3},
    "RandomRotation": {"factor": 0.2},
    "RandomZoom": {"height_factor": 0.2},
    "RandomTranslation": {"height_factor": 0.2, "width_factor": 0.2},
    "RandomContrast": {"factor": 0.5},
    "RandomBrightness": {"factor": 0.5},
    "MaxNumBoundingBoxes": {"max_number": 3},
}
#: Keras fails on other channel counts only in some of its random choices: not drawn.
RANDOM_FAILURES = {"AugMix"}
#: Layers whose symbolic output is their input tensor: first in a model, Keras leaves them out of
#: the graph; after another layer, Keras 3.15 cannot build the model ("part of a cycle").
PASS_THROUGH = {"Equalization"}


def image_net(seed: int) -> Net:
    """A preprocessing head: one to three image layers, sometimes a convolution and a classifier."""
    rng = random.Random(seed)
    data_format = rng.choice(["channels_last", "channels_last", "channels_first"])
    channels = rng.choice([1, 3, 3, 3, 2, 4])
    net = Net([_image_input(rng, 2, data_format, channels, unknown=0.0)], [])
    previous = "x"
    classes = [*AUGMENTATIONS, "RandomColorJitter", "Resizing", "CenterCrop", "RandomCrop", "Rescaling"]
    for number in range(rng.randint(1, 3)):
        # Every class comes first in turn; the others are drawn.
        name = classes[seed % len(classes)] if number == 0 else rng.choice(classes)
        if name in RANDOM_FAILURES and channels not in (1, 3):
            name = "RandomFlip"
        if name in PASS_THROUGH and number:
            name = "RandomFlip"
        arguments = dict(AUGMENT_ARGUMENTS.get(name, {}))
        if name in ("Resizing", "CenterCrop", "RandomCrop"):
            arguments.update(height=rng.randint(1, 9), width=rng.randint(1, 9))
        elif name == "Rescaling":
            arguments.update(scale=1 / 255, offset=rng.choice([0.0, -1.0]))
        elif name == "RandomColorJitter":
            arguments[
                rng.choice(["brightness_factor", "contrast_factor", "saturation_factor", "hue_factor"])
            ] = 0.2
        if name != "Rescaling":
            arguments["data_format"] = data_format
        step = f"pre{number}"
        net.steps.append(Step(step, name, arguments, (previous,)))
        previous = step
    if net.steps[-1].class_name in PASS_THROUGH:  # alone, it would be the model's input
        net.steps.append(Step("scale", "Rescaling", {"scale": 0.5}, (previous,)))
        previous = "scale"
    if rng.random() < 0.5:
        conv = {"filters": rng.randint(1, 3), "kernel_size": 1, "data_format": data_format}
        net.steps.append(Step("conv", "Conv2D", conv, (previous,)))
        net.steps.append(Step("pool", "GlobalAveragePooling2D", {"data_format": data_format}, ("conv",)))
        net.steps.append(Step("out", "Dense", {"units": 2}, ("pool",)))
    return net


def normalization_net(seed: int) -> Net:
    rng = random.Random(seed)
    rank = rng.randint(1, 3)
    shape = tuple(rng.randint(1, 4) for _ in range(rank))
    axes: list[int] = [a for a in range(1, rank + 1) if rng.random() < 0.5] or [rank]
    arguments: dict[str, Any] = {"axis": rng.choice([-1, None, axes, axes[0] - rank - 1])}
    if rng.random() < 0.3:
        arguments.update(mean=0.5, variance=2.0)
    elif rng.random() < 0.1:
        arguments.update(mean=0.5)  # refused: a mean without a variance
    if rng.random() < 0.2:
        arguments["invert"] = True
    net = Net([Input("x", shape)], [Step("norm", "Normalization", arguments, ("x",))])
    net.steps.append(Step("scale", "Rescaling", {"scale": 2.0, "offset": 1.0}, ("norm",)))
    return net


def _vocabulary(rng: random.Random) -> list[str]:
    return rng.sample(WORD_LIST, rng.randint(1, len(WORD_LIST)))


WORD_LIST = list(WORDS)


def text_net(seed: int) -> Net:
    """A text classifier: TextVectorization, then Embedding and an LSTM (ids) or a Dense (counts)."""
    rng = random.Random(seed)
    mode = rng.choice(["int", "int", "multi_hot", "count", "tf_idf"])
    vocabulary = _vocabulary(rng)
    arguments: dict[str, Any] = {"output_mode": mode, "vocabulary": vocabulary}
    if mode == "tf_idf":
        arguments["idf_weights"] = [1.0] * len(vocabulary)
    if rng.random() < 0.3:
        arguments.update(max_tokens=len(vocabulary) + rng.randint(2, 5), pad_to_max_tokens=True)
    if mode == "int" and rng.random() < 0.6:
        arguments["output_sequence_length"] = rng.randint(1, 6)
    if rng.random() < 0.15:
        arguments["split"] = None
    if rng.random() < 0.1 and mode != "int":
        arguments["output_sequence_length"] = 3  # refused: only for 'int'
    shape: tuple[int | None, ...] = rng.choice([(), (1,)])
    kind = "word" if arguments.get("split", "whitespace") is None else "text"
    net = Net([Input("text", shape, dtype="string", kind=kind, high=5)], [])
    net.steps.append(Step("vectorize", "TextVectorization", arguments, ("text",)))
    if mode == "int" and "split" not in arguments:
        embedding = {
            "input_dim": len(vocabulary) + 2,
            "output_dim": rng.randint(2, 5),
            "mask_zero": rng.random() < 0.5,
        }
        net.steps.append(Step("embed", "Embedding", embedding, ("vectorize",)))
        net.sequential = embedding["mask_zero"]
        net.steps.append(Step("read", "LSTM", {"units": rng.randint(1, 4)}, ("embed",)))
        net.steps.append(Step("out", "Dense", {"units": 1, "activation": "sigmoid"}, ("read",)))
    elif mode != "int":
        net.steps.append(Step("out", "Dense", {"units": 2}, ("vectorize",)))
    return net


def lookup_net(seed: int) -> Net:
    rng = random.Random(seed)
    family = rng.choice(
        ["StringLookup", "IntegerLookup", "CategoryEncoding", "Hashing", "Discretization", "HashedCrossing"]
    )
    mode = rng.choice(["int", "one_hot", "multi_hot", "count", "tf_idf"])
    shape: tuple[int | None, ...] = rng.choice([(), (1,), (3,), (2, 3)])
    arguments: dict[str, Any] = {"output_mode": mode}
    if family in ("StringLookup", "IntegerLookup"):
        words = _vocabulary(rng)
        vocabulary = words if family == "StringLookup" else [WORD_LIST.index(w) + 1 for w in words]
        arguments.update(vocabulary=vocabulary, num_oov_indices=rng.randint(1, 2))
        if mode == "tf_idf":
            arguments["idf_weights"] = [1.0] * len(vocabulary)
        if rng.random() < 0.3:
            arguments.update(max_tokens=len(vocabulary) + 4, pad_to_max_tokens=True)
        if rng.random() < 0.3:
            arguments["mask_token"] = "" if family == "StringLookup" else 0
        if family == "StringLookup":
            spec = Input("x", shape, dtype="string", kind="word", choices=tuple(WORD_LIST))
        else:
            spec = Input("x", shape, dtype="int64", kind="int", high=9)
    elif family == "CategoryEncoding":
        arguments["num_tokens"] = rng.randint(3, 9)
        spec = Input("x", shape, dtype="int32", kind="int", high=3)
    elif family == "Discretization":
        arguments["bin_boundaries"] = sorted(rng.sample([0.1, 0.3, 0.5, 0.7, 0.9], rng.randint(1, 4)))
        spec = Input("x", shape)
    else:
        arguments["num_bins"] = rng.randint(2, 6)
        spec = Input("x", shape, dtype="string", kind="word")
    if family == "HashedCrossing":
        arguments["output_mode"] = rng.choice(["int", "one_hot", "one_hot", "multi_hot"])
        shape = rng.choice([(), (1,), (1,), (2,)])
        first = Input("a", shape, dtype="string", kind="word")
        second = Input("b", shape, dtype="int64", kind="int", high=5)
        return Net([first, second], [Step("cross", family, arguments, ("a", "b"))])
    return Net([spec], [Step("encode", family, arguments, ("x",))])


def audio_net(seed: int) -> Net:
    rng = random.Random(seed)
    if rng.random() < 0.5:
        fft = rng.choice([16, 32, 64, 128])
        arguments: dict[str, Any] = {
            "fft_length": fft,
            "sequence_stride": rng.randint(1, fft),
            "num_mel_bins": rng.randint(2, 24),
            "sampling_rate": 8000,
        }
        if rng.random() < 0.3:
            arguments["sequence_length"] = rng.randint(1, fft)
        shape: tuple[int | None, ...] = (rng.randint(4, 300),)
        if rng.random() < 0.2:
            shape = (2, shape[0])
        return Net([Input("wave", shape)], [Step("mel", "MelSpectrogram", arguments, ("wave",))])
    frame = rng.randint(4, 64)
    data_format = rng.choice(["channels_last", "channels_first"])
    arguments = {
        "mode": rng.choice(["log", "magnitude", "psd", "real", "imag", "angle", "stft"]),
        "frame_length": frame,
        "padding": rng.choice(["valid", "same"]),
        "expand_dims": rng.random() < 0.4,
        "data_format": data_format,
    }
    if rng.random() < 0.6:
        arguments["frame_step"] = rng.randint(1, frame + (rng.random() < 0.1))
    if rng.random() < 0.4:
        arguments["fft_length"] = rng.choice([frame, 2 * frame, 128])
    channels = rng.randint(1, 2)
    samples = rng.randint(2, 200)
    shape = (samples, channels) if data_format == "channels_last" else (channels, samples)
    return Net([Input("wave", shape)], [Step("stft", "STFTSpectrogram", arguments, ("wave",))])


FAMILIES: dict[str, tuple[Callable[[int], Net], tuple[str, ...]]] = {
    "conv_transpose": (conv_transpose_net, ()),
    "depthwise_separable": (depthwise_net, ()),
    "adaptive_pooling": (adaptive_net, ()),
    "image_preprocessing": (image_net, ()),
    "normalization": (normalization_net, ()),
    "audio": (audio_net, ("scipy",)),
    "text": (text_net, ("tensorflow",)),
    "lookups": (lookup_net, ("tensorflow",)),
}


#: The classes each family must have built at least once.
DRAWN = {
    "conv_transpose": {f"Conv{rank}DTranspose" for rank in (1, 2, 3)},
    "depthwise_separable": {f"{kind}Conv{rank}D" for kind in ("Depthwise", "Separable") for rank in (1, 2)},
    "adaptive_pooling": {
        f"Adaptive{kind}Pooling{rank}D" for kind in ("Average", "Max") for rank in (1, 2, 3)
    },
    "image_preprocessing": {
        *AUGMENTATIONS,
        *("RandomColorJitter", "Resizing", "CenterCrop", "RandomCrop", "Rescaling"),
    },
    "normalization": {"Normalization", "Rescaling"},
    "audio": {"MelSpectrogram", "STFTSpectrogram"},
    "text": {"TextVectorization", "Embedding", "LSTM"},
    "lookups": {
        "StringLookup",
        "IntegerLookup",
        "CategoryEncoding",
        "Hashing",
        "Discretization",
        "HashedCrossing",
    },
}


@pytest.mark.parametrize("family", FAMILIES)
def test_seeded_models_match_what_keras_returns(family: str) -> None:
    draw, needs = FAMILIES[family]
    require_frameworks("torch", "keras", *needs)
    cases = CASES.get(family, 40)
    seen: Counter[str] = Counter()
    built: set[str] = set()
    for seed in range(cases):
        net = draw(seed)
        outcome = check_net(net, seed, archive=seed % 10 == 0)
        seen[outcome] += 1
        if outcome == "built":
            built.update(step.class_name for step in net.steps)
    assert seen["built"] >= cases // 3 and seen["refused"] >= 1 + cases // 40, seen
    assert DRAWN[family] <= built, f"never built: {sorted(DRAWN[family] - built)}"


#: The input each categorical class of the known-true table reads.
KNOWN_INPUTS = {
    "TextVectorization": {"dtype": "string", "kind": "text", "high": 4},
    "StringLookup": {"dtype": "string", "kind": "word", "choices": ("a", "b", "c", "z")},
    "IntegerLookup": {"dtype": "int64", "kind": "int", "high": 6},
    "CategoryEncoding": {"dtype": "int32", "kind": "int", "high": 5},
    "Hashing": {"dtype": "string", "kind": "word"},
    "HashedCrossing": {"dtype": "string", "kind": "word"},
}


def known_net(class_name: str, options: dict[str, Any], inputs: list[tuple[Any, ...]]) -> Net:
    if class_name == "TextVectorization" and options.get("split", "whitespace") is None:
        kind = {"dtype": "string", "kind": "word", "choices": ("a", "b")}
    else:
        kind = KNOWN_INPUTS.get(class_name, {})
    specs = [Input(f"x{number}", shape, **kind) for number, shape in enumerate(inputs)]
    return Net(specs, [Step("layer", class_name, options, tuple(spec.name for spec in specs))])


def test_the_known_table_is_what_keras_returns() -> None:
    """``tests/test_model_conv_preprocessing.py``'s table, rebuilt: shapecalc's reading of each
    row's config is what Keras returns for it (the plain test holds the table to the rules)."""
    import importlib.util

    from test_model_conv_preprocessing import KNOWN, REFUSED

    require_frameworks("torch", "keras", "scipy", "tensorflow")
    for number, (class_name, options, inputs, *_) in enumerate(KNOWN):
        if "vocabulary_size" in options:
            continue  # what adapt() leaves: test_an_adapted_vocabulary_is_read_from_its_size
        assert check_net(known_net(class_name, options, inputs), number) == "built", class_name
    for number, (class_name, options, inputs, _) in enumerate(REFUSED):
        if class_name.startswith("LocallyConnected"):
            assert importlib.util.find_spec("keras") and not hasattr(__import__("keras").layers, class_name)
            continue
        assert check_net(known_net(class_name, options, inputs), number) == "refused", class_name


@pytest.mark.parametrize(
    ("class_name", "options"),
    [
        ("TextVectorization", {"output_mode": "tf_idf"}),
        ("TextVectorization", {"output_mode": "multi_hot", "max_tokens": 5}),
        ("TextVectorization", {"output_sequence_length": 4}),
        ("StringLookup", {"output_mode": "count", "num_oov_indices": 2}),
        ("IntegerLookup", {"output_mode": "one_hot"}),
        ("Normalization", {"axis": [1, 2]}),
    ],
)
def test_an_adapted_vocabulary_is_read_from_its_size(class_name: str, options: dict[str, Any]) -> None:
    """After ``adapt()`` Keras saves no vocabulary but its size, and the mean and variance as weights."""
    import numpy as np

    require_frameworks("torch", "keras", "tensorflow")
    words = np.array([" ".join(WORD_LIST[: n + 1]) for n in range(6)])
    data = {
        "TextVectorization": (words, Input("x", (), dtype="string", kind="text", high=5)),
        "StringLookup": (np.array(WORD_LIST[:5]), Input("x", (2,), dtype="string", kind="word")),
        "IntegerLookup": (np.array([1, 2, 3, 7]), Input("x", (1,), dtype="int64", kind="int", high=9)),
        "Normalization": (np.random.default_rng(0).uniform(size=(5, 3, 2)), Input("x", (3, 2))),
    }
    sample, spec = data[class_name]
    net = Net([spec], [Step("layer", class_name, options, ("x",), adapt=sample)])
    assert check_net(net, 0, archive=True) == "built"


def test_the_example_models_are_what_keras_returns() -> None:
    """``tests/data/keras-layers``: the committed expectations are today's Keras."""
    import importlib.util
    import json
    from pathlib import Path

    require_frameworks("torch", "keras", "tensorflow")
    folder = Path(__file__).parent.parent / "data" / "keras-layers"
    spec = importlib.util.spec_from_file_location("keras_layer_models", folder / "generate_layer_models.py")
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    for name, build in generator.MODELS.items():
        model, batch = build()
        assert generator.expected(model, batch) == json.loads((folder / f"{name}.expected.json").read_text())
