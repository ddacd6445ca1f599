"""The port engine without the frameworks: every target tensor is covered exactly once by its
parts, every part reads a real source slice of the right size, and refusals name their option.

The numbers (that a ported layer computes what the source computes) are proven against Keras,
PyTorch and onnxruntime in ``tests/oracle/test_oracle_port_recipes.py``.
"""

from __future__ import annotations

import random

import pytest

from shapecalc.api import build_config
from shapecalc.errors import ShapecalcError
from shapecalc.port import apply_recipe, port_recipe
from shapecalc.port.targets import refusal
from shapecalc.rules import derive

np = pytest.importorskip("numpy")

PAIRS = [("keras", "torch"), ("keras", "onnx"), ("torch", "keras"), ("torch", "onnx"), ("onnx", "keras"),
         ("onnx", "torch")]  # fmt: skip


def random_options(rng: random.Random, cell: str, source: str) -> dict[str, object]:
    """A legal source layer for a port (sizes small, every structural option drawn)."""
    hidden, size = rng.randint(1, 5), rng.randint(1, 4)
    use_bias = rng.random() < 0.8
    if source == "keras":
        options: dict[str, object] = {"units": hidden, "input_dim": size, "use_bias": use_bias,
                                      "bidirectional": rng.random() < 0.4}  # fmt: skip
        if cell == "gru":
            options["reset_after"] = rng.random() < 0.6
        return options
    options = {"hidden_size": hidden, "input_size": size, "use_bias": use_bias,
               "bidirectional": rng.random() < 0.4}  # fmt: skip
    if source == "torch":
        options["num_layers"] = rng.randint(1, 3)
    elif cell == "gru":
        options["linear_before_reset"] = rng.random() < 0.6
    return options


def cases(count: int) -> list[tuple[int, str, str, str, dict[str, object]]]:
    out = []
    for seed in range(count):
        rng = random.Random(seed)
        source, to = rng.choice(PAIRS)
        cell = rng.choice(["lstm", "gru", "rnn"])
        options = random_options(rng, cell, source)
        config = build_config(cell, {**options, "framework": source})
        if refusal(config, to) is None:
            out.append((seed, cell, source, to, options))
    return out


@pytest.mark.parametrize(("seed", "cell", "source", "to", "options"), cases(120))
def test_every_target_element_comes_from_one_source_element(seed, cell, source, to, options) -> None:
    config = build_config(cell, {**options, "framework": source})
    recipe = port_recipe(config, to)
    # The target's tensors are exactly the weights its layers build.
    expected = [(layer.prefix + t.name, t.shape) for layer in recipe.layers for t in
                derive(layer.config).tensors if t.role == "weight"]  # fmt: skip
    assert [(t.target, t.shape) for t in recipe.tensors] == expected
    # Number every source element 1, 2, 3 ...; then each target element is one of them or 0,
    # and every source element lands at most once per target tensor it feeds.
    weights, start = {}, 1
    for source_tensor in recipe.sources:
        size = int(np.prod(source_tensor.shape))
        numbered = np.arange(start, start + size, dtype=np.float64)
        weights[source_tensor.name] = numbered.reshape(source_tensor.shape)
        start += size
    built = apply_recipe(recipe, weights)
    covered = {t.target: np.zeros(t.shape, dtype=int) for t in recipe.tensors}
    for tensor in recipe.tensors:
        for part in tensor.parts:
            region = covered[tensor.target][tuple(
                slice(None) if a is None else a if isinstance(a, int) else slice(*a) for a in part.at
            )]  # fmt: skip
            region += 1
        assert (covered[tensor.target] == 1).all(), f"{tensor.target}: parts overlap or leave a gap"
        values = built[tensor.target]
        if not any(len(part.terms) > 1 for part in tensor.parts):
            nonzero = values[values != 0]
            assert len(set(nonzero.tolist())) == nonzero.size, f"{tensor.target} copies an element twice"


def test_a_missing_or_misshapen_source_is_one_line_naming_it() -> None:
    recipe = port_recipe(build_config("lstm", {"units": 2, "input_dim": 3}), "torch")
    weights = {s.name: np.zeros(s.shape) for s in recipe.sources}
    with pytest.raises(ShapecalcError, match="missing source tensor 'bias'"):
        apply_recipe(recipe, {k: v for k, v in weights.items() if k != "bias"})
    with pytest.raises(ShapecalcError, match=r"'kernel' has shape \(2, 3\), expected \(3, 8\)"):
        apply_recipe(recipe, {**weights, "kernel": np.zeros((2, 3))})


def test_a_symbolic_recipe_describes_but_does_not_convert() -> None:
    recipe = port_recipe(build_config("gru", {"units": "U", "input_dim": 3}), "onnx")
    assert [str(d) for d in recipe.tensor("W").shape] == ["1", "U*3", "3"]
    with pytest.raises(ShapecalcError, match="symbolic size"):
        apply_recipe(recipe, {})


@pytest.mark.parametrize(
    ("cell", "source", "options", "to", "option"),
    [
        ("gru", "keras", {"units": 2, "input_dim": 3, "reset_after": False}, "torch", "reset_after"),
        ("gru", "onnx", {"hidden_size": 2, "input_size": 3}, "torch", "linear_before_reset"),
        ("lstm", "onnx", {"hidden_size": 2, "input_size": 3, "peepholes": True}, "keras", "peepholes"),
        ("lstm", "onnx", {"hidden_size": 2, "input_size": 3, "direction": "reverse"}, "torch", "direction"),
        ("lstm", "torch", {"hidden_size": 3, "input_size": 3, "proj_size": 2}, "keras", "proj_size"),
        ("lstm", "torch", {"hidden_size": 3, "input_size": 3, "proj_size": 2}, "onnx", "proj_size"),
        ("lstm", "keras", {"units": 2, "input_dim": 3, "recurrent_activation": "hard_sigmoid"}, "torch",
         "recurrent_activation"),
        ("gru", "keras", {"units": 2, "input_dim": 3, "activation": "relu"}, "onnx", "activation"),
        ("rnn", "keras", {"units": 2, "input_dim": 3, "activation": "sigmoid"}, "torch", "activation"),
        ("rnn", "keras", {"units": 2, "input_dim": 3, "activation": "selu"}, "onnx", "activation"),
        ("lstm", "keras", {"units": 2, "input_dim": 3, "bidirectional": True, "merge_mode": "sum"}, "torch",
         "merge_mode"),
        ("lstm", "keras", {"units": 2, "input_dim": 3}, "keras", "to"),
    ],
)  # fmt: skip
def test_a_refusal_names_the_option_that_stops_it(cell, source, options, to, option) -> None:
    config = build_config(cell, {**options, "framework": source})
    with pytest.raises(ShapecalcError) as raised:
        port_recipe(config, to)
    assert raised.value.option == option
    assert raised.value.message.startswith(f"cannot port to {to}: ")
    assert "\n" not in str(raised.value)


def test_what_ports_exactly_elsewhere_says_where() -> None:
    keras = build_config("gru", {"units": 2, "input_dim": 3, "reset_after": False})
    assert "ONNX GRU with linear_before_reset=0" in refusal(keras, "torch").message
    assert port_recipe(keras, "onnx").target_config.linear_before_reset is False
    onnx = build_config("gru", {"framework": "onnx", "hidden_size": 2, "input_size": 3})
    assert "Keras GRU with reset_after=False" in refusal(onnx, "torch").message
    assert port_recipe(onnx, "keras").target_config.reset_after is False
    assert [r.to for r in port_recipe(keras, "onnx").refusals] == ["torch"]


@pytest.mark.parametrize(
    ("source", "options", "to", "key"),
    [
        ("torch", {"hidden_size": 2, "input_size": 3, "nonlinearity": "relu", "num_layers": 2}, "onnx",
         "nonlinearity"),
        ("keras", {"units": 2, "input_dim": 3, "activation": "relu", "bidirectional": True}, "onnx",
         "nonlinearity"),
        ("onnx", {"hidden_size": 2, "input_size": 3, "nonlinearity": "relu"}, "torch", "nonlinearity"),
        ("onnx", {"hidden_size": 2, "input_size": 3, "nonlinearity": "relu"}, "keras", "activation"),
    ],
)  # fmt: skip
def test_a_relu_rnn_ports_to_a_relu_rnn_everywhere(source, options, to, key) -> None:
    recipe = port_recipe(build_config("rnn", {**options, "framework": source}), to)
    assert all(getattr(layer.config, key) == "relu" for layer in recipe.layers)
    own = "activation" if source == "keras" else "nonlinearity"
    tanh = port_recipe(build_config("rnn", {**options, "framework": source, own: "tanh"}), to)
    assert recipe.tensors == tanh.tensors  # the activation changes no shape and no slice
    noted = [note for note in recipe.notes if "activations=" in note]
    directions = 2 if options.get("bidirectional") else 1
    assert noted == ([f"The RNN node's activations={['Relu'] * directions!r}, one per direction "
                      "(ONNX's default is Tanh)."] if to == "onnx" else [])  # fmt: skip


def test_onnx_lstm_and_gru_keep_their_default_activations() -> None:
    for cell in ("lstm", "gru"):
        with pytest.raises(ShapecalcError) as raised:
            build_config(cell, {"framework": "onnx", "hidden_size": 2, "input_size": 3,
                                "nonlinearity": "relu"})  # fmt: skip
        assert raised.value.option == "nonlinearity"
