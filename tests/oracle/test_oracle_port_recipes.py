"""Ports, proven: a layer's random weights, moved by shapecalc's recipe into another framework,
compute the same outputs and final states there, on the same random input.

Each seeded case draws a source layer (lstm, gru or rnn; bidirectional, stacked, with and
without bias, GRU ``reset_after`` / ``linear_before_reset`` both ways where they port, SimpleRNN
``relu``), fills the real source layer (Keras 3, PyTorch or onnxruntime) with random weights
under shapecalc's names, converts them twice, with :func:`shapecalc.port.apply_recipe` and with
the code ``--format python`` writes (exec'd here, in the test only), loads each result into
the real target and compares every step's output and every final state (float32, 1e-5).

Every refusal is a real difference: the nearest naive port (the weights moved as if the option
were its portable value) computes something else, shown by running both.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import pytest
from oracle_support import ORACLE_MARKS, require_frameworks

from shapecalc.api import build_config
from shapecalc.configs import LayerConfig, OnnxRecurrentConfig, RecurrentConfig, TorchRecurrentConfig
from shapecalc.port import apply_recipe, port_recipe
from shapecalc.port.recipe import Recipe
from shapecalc.port.targets import refusal
from shapecalc.record import replace
from shapecalc.render.port import render_port
from shapecalc.rules import derive

pytestmark = ORACLE_MARKS

CASES = 60
TOLERANCE = 1e-5
#: (layer, direction) -> the final states (h, and c for an LSTM), each (batch, hidden).
States = dict[tuple[int, int], list[Any]]
PAIRS = [("keras", "torch"), ("torch", "keras"), ("torch", "onnx"), ("onnx", "torch"), ("keras", "onnx"),
         ("onnx", "keras")]  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _frameworks() -> None:
    require_frameworks("torch", "keras", "onnxruntime", "onnx")


# --- the three frameworks, run with given weights -------------------------------------------


def _names(config: LayerConfig, prefix: str = "") -> list[str]:
    """The weights of ``config`` in the order the framework lists them, by shapecalc's names."""
    return [prefix + t.name for t in derive(config).tensors if t.role == "weight"]


def keras_run(
    layers: list[tuple[str, RecurrentConfig]], weights: Mapping[str, Any], x: Any
) -> tuple[Any, States]:
    """Keras layers (a stack when several) on ``x`` (batch, steps, features): every step's output."""
    import keras
    import numpy as np

    classes = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "rnn": keras.layers.SimpleRNN}
    states: States = {}
    sequence = x
    for level, (prefix, config) in enumerate(layers):
        options: dict[str, Any] = {"units": config.units, "use_bias": config.use_bias,
                                   "return_sequences": True, "return_state": True,
                                   "activation": config.activation}  # fmt: skip
        if config.cell != "rnn":
            options["recurrent_activation"] = config.recurrent_activation
        if config.cell == "gru":
            options["reset_after"] = config.reset_after
        layer = classes[config.cell](**options)
        if config.bidirectional:
            layer = keras.layers.Bidirectional(layer, merge_mode=config.merge_mode)
        layer.build((None, None, config.input_dim))
        layer.set_weights([np.asarray(weights[name]) for name in _names(config, prefix)])
        outputs = [keras.ops.convert_to_numpy(o) for o in layer(sequence)]
        sequence, finals = outputs[0], outputs[1:]
        count = 2 if config.cell == "lstm" else 1
        for d in range(2 if config.bidirectional else 1):
            states[level, d] = finals[d * count : (d + 1) * count]
    return sequence, states


def torch_run(config: TorchRecurrentConfig, weights: Mapping[str, Any], x: Any) -> tuple[Any, States]:
    """A PyTorch module on ``x`` (batch, steps, features), batch first (the weights do not care)."""
    import torch

    classes = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
    options: dict[str, Any] = {"input_size": config.input_size, "hidden_size": config.hidden_size,
                               "num_layers": config.num_layers, "bias": config.use_bias, "batch_first": True,
                               "bidirectional": config.bidirectional}  # fmt: skip
    if config.cell == "rnn":
        options["nonlinearity"] = config.nonlinearity
    if config.proj_size:
        options["proj_size"] = config.proj_size
    module = classes[config.cell](**options)
    module.load_state_dict({name: torch.from_numpy(weights[name]) for name in _names(config)}, strict=True)
    with torch.no_grad():
        output, final = module(torch.from_numpy(x))
    finals = list(final) if isinstance(final, tuple) else [final]
    directions = 2 if config.bidirectional else 1
    states = {
        (level, d): [f[level * directions + d].numpy() for f in finals]
        for level in range(config.num_layers)
        for d in range(directions)
    }
    return output.numpy(), states


def onnx_run(
    layers: list[tuple[str, OnnxRecurrentConfig]], weights: Mapping[str, Any], x: Any
) -> tuple[Any, States]:
    """ONNX nodes (one per level of a stack) in onnxruntime, layout 0, on ``x`` (batch, steps, features)."""
    import numpy as np
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    states: States = {}
    sequence = np.ascontiguousarray(x.transpose(1, 0, 2))  # (steps, batch, features)
    for level, (prefix, config) in enumerate(layers):
        given = [name for name in ("W", "R", "B", "P") if prefix + name in weights]
        inputs = ["X", "W", "R", "B" if "B" in given else ""]
        if "P" in given:
            inputs += ["", "", "", "P"]
        outputs = ["Y", "Y_h"] + (["Y_c"] if config.cell == "lstm" else [])
        attributes: dict[str, Any] = {
            "hidden_size": config.hidden_size,
            "direction": config.direction,
            "layout": 0,
        }
        if config.cell == "gru":
            attributes["linear_before_reset"] = int(config.linear_before_reset)
        if config.cell == "rnn" and config.nonlinearity != "tanh":  # ONNX's default is Tanh
            attributes["activations"] = [config.nonlinearity.capitalize()] * config.directions
        node = helper.make_node(config.cell.upper(), inputs, outputs, **attributes)
        graph = helper.make_graph(
            [node],
            "port",
            [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(sequence.shape))],
            [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs],
            [numpy_helper.from_array(np.asarray(weights[prefix + name]), name) for name in given],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
        model.ir_version = 10
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                               providers=["CPUExecutionProvider"])  # fmt: skip
        y, *finals = session.run(None, {"X": sequence})
        steps, directions, batch, hidden = y.shape
        sequence = np.ascontiguousarray(y.transpose(0, 2, 1, 3).reshape(steps, batch, directions * hidden))
        for d in range(directions):
            states[level, d] = [final[d] for final in finals]
    return sequence.transpose(1, 0, 2), states


def run(config: LayerConfig | Recipe, weights: Mapping[str, Any], x: Any) -> tuple[Any, States]:
    """The source layer ``config`` describes, or a recipe's target layers, run on ``x``."""
    layers = (
        [(layer.prefix, layer.config) for layer in config.layers]
        if isinstance(config, Recipe)
        else [("", config)]
    )
    first = layers[0][1]
    if isinstance(first, RecurrentConfig):
        return keras_run(layers, weights, x)  # type: ignore[arg-type]
    if isinstance(first, TorchRecurrentConfig):
        assert len(layers) == 1
        return torch_run(first, weights, x)
    return onnx_run(layers, weights, x)  # type: ignore[arg-type]


# --- the cases ---------------------------------------------------------------------------------


def random_weights(recipe: Recipe, seed: int) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return {s.name: rng.uniform(-0.8, 0.8, size=s.shape).astype(np.float32) for s in recipe.sources}


def random_input(config: LayerConfig, seed: int, batch: int = 3, steps: int = 5) -> Any:
    import numpy as np

    size = config.input_dim if isinstance(config, RecurrentConfig) else config.input_size  # type: ignore[union-attr]
    return np.random.default_rng(seed + 7).uniform(-1, 1, size=(batch, steps, size)).astype(np.float32)


def port_case(seed: int) -> tuple[str, str, str, dict[str, Any]]:
    """(cell, from, to, options): a legal port drawn from ``seed``; every pair and option is drawn."""
    rng = random.Random(seed)
    source, to = PAIRS[seed % len(PAIRS)]
    while True:
        cell = rng.choice(["lstm", "gru", "rnn"])
        hidden, size = rng.randint(1, 6), rng.randint(1, 5)
        options: dict[str, Any] = {"use_bias": rng.random() < 0.75, "bidirectional": rng.random() < 0.4}
        if source == "keras":
            options.update(units=hidden, input_dim=size)
            if cell == "gru":
                options["reset_after"] = rng.random() < 0.5
            if cell == "rnn" and rng.random() < 0.4:
                options["activation"] = "relu"
        else:
            options.update(hidden_size=hidden, input_size=size)
        if source == "torch":
            options["num_layers"] = rng.choice([1, 1, 2, 3])
            options["batch_first"] = rng.random() < 0.5
            if cell == "rnn" and rng.random() < 0.4:
                options["nonlinearity"] = "relu"
        if source == "onnx":
            if cell == "gru":
                options["linear_before_reset"] = rng.random() < 0.5
            options["layout"] = rng.choice([0, 1])
            if cell == "rnn" and rng.random() < 0.4:
                options["nonlinearity"] = "relu"
        config = build_config(cell, {**options, "framework": source})
        if refusal(config, to) is None:
            return cell, source, to, options


def exec_python(recipe: Recipe, weights: Mapping[str, Any]) -> dict[str, Any]:
    """The converted weights, by the code ``--format python`` writes (run here, in the test only)."""
    namespace: dict[str, Any] = {}
    exec(compile(render_port(recipe, "python"), "<shapecalc port --format python>", "exec"), namespace)
    converted: dict[str, Any] = namespace["convert"](dict(weights))
    return converted


def assert_same(expected: tuple[Any, States], got: tuple[Any, States], what: str) -> None:
    import numpy as np

    np.testing.assert_allclose(got[0], expected[0], atol=TOLERANCE, rtol=0, err_msg=f"{what}: output")
    assert got[1].keys() == expected[1].keys(), what
    for key, states in expected[1].items():
        assert len(states) == len(got[1][key]), f"{what}: states of {key}"
        for name, want, have in zip(("h", "c"), states, got[1][key], strict=False):
            np.testing.assert_allclose(have, want, atol=TOLERANCE, rtol=0, err_msg=f"{what}: {name} of {key}")


def _pair_seeds() -> list[int]:
    return list(range(CASES))


@pytest.mark.parametrize("seed", _pair_seeds())
def test_a_ported_layer_computes_what_the_source_computes(seed: int) -> None:
    cell, source, to, options = port_case(seed)
    config = build_config(cell, {**options, "framework": source})
    recipe = port_recipe(config, to)
    weights = random_weights(recipe, seed)
    x = random_input(config, seed)
    expected = run(config, weights, x)
    what = f"seed {seed}: {cell} {source} -> {to} {options}"
    assert_same(expected, run(recipe, apply_recipe(recipe, weights), x), what + " (apply_recipe)")
    assert_same(expected, run(recipe, exec_python(recipe, weights), x), what + " (--format python)")


@pytest.mark.parametrize(
    ("cell", "source", "to", "options"),
    [
        ("gru", "keras", "onnx", {"units": 4, "input_dim": 3, "reset_after": False}),
        ("gru", "keras", "onnx", {"units": 4, "input_dim": 3, "reset_after": False, "bidirectional": True}),
        ("gru", "onnx", "keras", {"hidden_size": 4, "input_size": 3}),
        ("gru", "onnx", "keras", {"hidden_size": 4, "input_size": 3, "direction": "bidirectional"}),
        ("rnn", "keras", "torch", {"units": 4, "input_dim": 3, "activation": "relu", "bidirectional": True}),
        ("rnn", "torch", "keras", {"hidden_size": 4, "input_size": 3, "nonlinearity": "relu",
                                   "num_layers": 2}),
        ("rnn", "torch", "onnx", {"hidden_size": 4, "input_size": 3, "nonlinearity": "relu",
                                  "num_layers": 3, "bidirectional": True}),
        ("rnn", "onnx", "torch", {"hidden_size": 4, "input_size": 3, "nonlinearity": "relu",
                                  "direction": "bidirectional"}),
        ("rnn", "keras", "onnx", {"units": 4, "input_dim": 3, "activation": "relu", "bidirectional": True}),
        ("rnn", "onnx", "keras", {"hidden_size": 4, "input_size": 3, "nonlinearity": "relu",
                                  "direction": "bidirectional", "layout": 1}),
        ("lstm", "torch", "onnx", {"hidden_size": 4, "input_size": 3, "num_layers": 3,
                                   "bidirectional": True}),
        ("lstm", "keras", "torch", {"units": 4, "input_dim": 3, "use_bias": False, "bidirectional": True}),
        ("lstm", "keras", "onnx", {"units": 4, "input_dim": 3, "bidirectional": True, "merge_mode": "sum"}),
    ],
)  # fmt: skip
def test_the_named_ports_compute_what_the_source_computes(cell, source, to, options) -> None:
    """The ports the seeded cases may miss, each once: GRU's reset placement into ONNX and back,
    SimpleRNN, nn.RNN and ONNX RNN relu both ways, deep bidirectional stacks, no bias."""
    config = build_config(cell, {**options, "framework": source})
    recipe = port_recipe(config, to)
    weights = random_weights(recipe, 1)
    x = random_input(config, 1)
    expected = run(config, weights, x)
    if isinstance(config, RecurrentConfig) and config.merge_mode == "sum":  # ONNX keeps them apart
        got = run(recipe, apply_recipe(recipe, weights), x)
        half = got[0].shape[-1] // 2
        assert_same(expected, (got[0][..., :half] + got[0][..., half:], got[1]), "merged by sum")
        return
    assert_same(expected, run(recipe, apply_recipe(recipe, weights), x), f"{cell} {source} -> {to}")
    assert_same(expected, run(recipe, exec_python(recipe, weights), x), f"{cell} {source} -> {to} (python)")


def test_the_seeded_cases_draw_every_pair_and_option() -> None:
    drawn = [port_case(seed) for seed in _pair_seeds()]
    assert {(source, to) for _, source, to, _ in drawn} == set(PAIRS)
    features = {
        (cell, source, key, str(value))
        for cell, source, _, options in drawn
        for key, value in options.items()
    }
    for needed in [("gru", "keras", "reset_after", "False"), ("gru", "keras", "reset_after", "True"),
                   ("gru", "onnx", "linear_before_reset", "False"),
                   ("gru", "onnx", "linear_before_reset", "True"),
                   ("rnn", "keras", "activation", "relu"), ("rnn", "torch", "nonlinearity", "relu"),
                   ("rnn", "onnx", "nonlinearity", "relu"),
                   ("lstm", "torch", "num_layers", "2"), ("lstm", "keras", "bidirectional", "True"),
                   ("gru", "torch", "use_bias", "False")]:  # fmt: skip
        assert needed in features, needed


# --- refusals: each one a real difference ------------------------------------------------------


def _differs(expected: tuple[Any, States], got: tuple[Any, States]) -> bool:
    import numpy as np

    if expected[0].shape != got[0].shape:
        return True
    return not np.allclose(expected[0], got[0], atol=1e-3)


def _naive(config: LayerConfig, to: str, seed: int, **portable: Any) -> bool:
    """Whether ``config``'s layer computes something else than its nearest naive port: the same
    weights moved by the recipe of ``config`` with ``portable`` options (the refused one set to a
    value that ports), the weights the naive config lacks dropped, the sizes it needs padded
    with zeros."""
    import numpy as np

    naive_config = replace(config, **portable)
    recipe = port_recipe(naive_config, to)
    source_names = _names(config)
    rng = np.random.default_rng(seed)
    shapes = {t.name: t.shape for t in derive(config).tensors if t.role == "weight"}
    weights = {name: rng.uniform(-0.8, 0.8, size=shapes[name]).astype(np.float32) for name in source_names}
    naive_weights = {}
    for source in recipe.sources:
        have = weights.get(source.name)
        if have is not None and have.shape == source.shape:
            naive_weights[source.name] = have
        elif have is not None and source.shape == (2, *have.shape):  # Keras GRU's one bias as row 0
            naive_weights[source.name] = np.stack([have, np.zeros_like(have)])
        else:  # the real weight in a corner of zeros (PyTorch's weight_hh without the projection)
            naive_weights[source.name] = padded = np.zeros(source.shape, np.float32)
            if have is not None and have.ndim == padded.ndim:
                corner = tuple(slice(0, min(a, b)) for a, b in zip(have.shape, padded.shape, strict=True))
                padded[corner] = have[corner]
    x = random_input(config, seed)
    return _differs(run(config, weights, x), run(recipe, apply_recipe(recipe, naive_weights), x))


KERAS = {"units": 4, "input_dim": 3}
MODULE = {"hidden_size": 4, "input_size": 3}
#: Each refusal: the source, the target, and the refused option set to a value that ports.
REFUSALS = [
    ("gru", "keras", {**KERAS, "reset_after": False}, "torch", {"reset_after": True}),
    ("gru", "onnx", MODULE, "torch", {"linear_before_reset": True}),
    ("lstm", "onnx", {**MODULE, "peepholes": True}, "torch", {"peepholes": False}),
    ("lstm", "onnx", {**MODULE, "peepholes": True}, "keras", {"peepholes": False}),
    ("gru", "onnx", {**MODULE, "direction": "reverse", "linear_before_reset": True}, "torch",
     {"direction": "forward"}),
    ("lstm", "onnx", {**MODULE, "direction": "reverse"}, "keras", {"direction": "forward"}),
    ("lstm", "keras", {**KERAS, "recurrent_activation": "hard_sigmoid"}, "torch",
     {"recurrent_activation": "sigmoid"}),
    ("gru", "keras", {**KERAS, "recurrent_activation": "hard_sigmoid"}, "onnx",
     {"recurrent_activation": "sigmoid"}),
    ("lstm", "keras", {**KERAS, "activation": "relu"}, "torch", {"activation": "tanh"}),
    ("gru", "keras", {**KERAS, "activation": "softsign"}, "onnx", {"activation": "tanh"}),
    ("rnn", "keras", {**KERAS, "activation": "sigmoid"}, "torch", {"activation": "tanh"}),
    ("rnn", "keras", {**KERAS, "activation": "sigmoid"}, "onnx", {"activation": "tanh"}),
    ("lstm", "torch", {**MODULE, "proj_size": 2}, "keras", {"proj_size": 0}),
    ("lstm", "torch", {**MODULE, "proj_size": 2}, "onnx", {"proj_size": 0}),
    ("lstm", "keras", {**KERAS, "bidirectional": True, "merge_mode": "sum"}, "torch",
     {"merge_mode": "concat"}),
]  # fmt: skip


@pytest.mark.parametrize(("cell", "source", "options", "to", "portable"), REFUSALS)
def test_every_refusal_is_a_real_difference(cell, source, options, to, portable) -> None:
    config = build_config(cell, {**options, "framework": source})
    found = refusal(config, to)
    assert found is not None and found.option in portable
    assert _naive(config, to, seed=3, **portable)


@pytest.mark.parametrize(("cell", "source", "to"), [("gru", "keras", "torch"), ("lstm", "torch", "onnx")])
def test_the_oracle_notices_two_gates_swapped(cell, source, to) -> None:
    """A recipe with two gates' input weights swapped computes something else: the comparison
    can fail, so the gate orders it passes are the frameworks' own."""
    sizes = {"units": 4, "input_dim": 3} if source == "keras" else {"hidden_size": 4, "input_size": 3}
    config = build_config(cell, {**sizes, "framework": source})
    recipe = port_recipe(config, to)
    kernel = recipe.tensors[0]
    parts = list(kernel.parts)
    if len(parts) == 1:  # one part for every gate: split it by gate first
        pytest.fail("the recipe copies every gate at once; pick a pair whose gate orders differ")
    first, second = parts[0], parts[1]
    parts[0], parts[1] = replace(first, terms=second.terms), replace(second, terms=first.terms)
    broken = replace(recipe, tensors=(replace(kernel, parts=tuple(parts)), *recipe.tensors[1:]))
    weights = random_weights(recipe, 5)
    x = random_input(config, 5)
    assert _differs(run(config, weights, x), run(broken, apply_recipe(broken, weights), x))


def test_every_kind_of_refusal_is_proven_above() -> None:
    """Every (from, option, to) a refusal can name over a grid of layers is in ``REFUSALS``."""
    proven = {(source, option, to) for _, source, _, to, portable in REFUSALS for option in portable}
    grid = {
        "keras": [{"reset_after": False}, {"recurrent_activation": "hard_sigmoid"}, {"activation": "relu"},
                  {"activation": "gelu"}, {"bidirectional": True, "merge_mode": "ave"}],
        "torch": [{"proj_size": 2}, {"nonlinearity": "relu"}, {"num_layers": 2, "bidirectional": True}],
        "onnx": [{"peepholes": True}, {"direction": "reverse"}, {"linear_before_reset": False},
                 {"nonlinearity": "relu"}],
    }  # fmt: skip
    found = set()
    for source, variants in grid.items():
        for cell in ("lstm", "gru", "rnn"):
            for variant in variants:
                options = {**(KERAS if source == "keras" else MODULE), **variant}
                try:
                    config = build_config(cell, {**options, "framework": source})
                except ValueError:  # an option this cell lacks
                    continue
                for to in ("keras", "torch", "onnx"):
                    reason = refusal(config, to)
                    if reason is not None and to != source:
                        found.add((source, reason.option, to))
    assert found <= proven, found - proven


def test_the_activation_choices_are_keras_own() -> None:
    """``--activation`` and ``--recurrent-activation`` take exactly the names Keras 3 resolves."""
    import keras

    from shapecalc.options import KERAS_ACTIVATIONS

    names = {n for n in dir(keras.activations) if not n.startswith("_")} - {"get", "serialize", "deserialize"}
    assert set(KERAS_ACTIVATIONS) == names
    assert all(callable(keras.activations.get(name)) for name in KERAS_ACTIVATIONS)
