"""Attention, EinsumDense, Dot, LoRA, SpectralNormalization, ReversibleEmbedding and Keras ops
in model files: a known-true table (what Keras 3.15 builds and returns; the oracle test
``tests/oracle/test_oracle_keras_attention.py`` rebuilds every entry), the example attention model
file, and the refusals of bad configs (one line naming the key and echoing the value).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shapecalc.dims import to_json
from shapecalc.errors import ShapecalcError
from shapecalc.model import analyze
from shapecalc.model.engine import propagate, run_spec
from shapecalc.model.layers.base import LayerCall
from shapecalc.model.layers.registry import layer_spec
from shapecalc.model.reader import parse_model

ATTENTION = Path(__file__).parent / "data" / "attention"


def _shapes(shapes: Any) -> list[list[Any]]:
    return [[to_json(size) for size in shape] for shape in shapes or ()]


@dataclass(frozen=True)
class Known:
    """A layer (Keras spelling; call arguments among the options) on concrete inputs, and what
    Keras returns: the outputs' shapes, all params and the non-trainable ones."""

    class_name: str
    options: dict[str, Any]
    inputs: list[tuple[int, ...]]
    outputs: list[tuple[int, ...]]
    params: int
    non_trainable: int
    #: The wrapped layer of a wrapper: ``(class, options)``.
    inner: tuple[str, dict[str, Any]] | None = field(default=None)


KNOWN = [
    # Keras takes 2-D inputs too: the batch is the steps.
    Known("Attention", {}, [(2, 4), (2, 4)], [(2, 4)], 0, 0),
    # Attention over the batch axis: Keras' einsum takes it.
    Known(
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 2, "attention_axes": [0], "return_attention_scores": True},
        [(2, 3, 4, 5), (2, 3, 4, 5)],
        [(2, 3, 4, 5), (3, 4, 2, 2, 2)],
        97,
        0,
    ),
    # Sizes past the output's letters are never read.
    Known(
        "EinsumDense",
        {"equation": "abc,cd->abd", "output_shape": [None, 2, 5]},
        [(2, 3, 4)],
        [(2, 3, 2)],
        8,
        0,
    ),
    Known("Attention", {}, [(2, 3, 4), (2, 5, 4)], [(2, 3, 4)], 0, 0),
    Known(
        "Attention",
        {"use_scale": True, "score_mode": "concat", "return_attention_scores": True},
        [(2, 3, 4), (2, 5, 6), (2, 5, 4)],
        [(2, 3, 6), (2, 3, 5)],
        2,
        0,
    ),
    Known(
        "AdditiveAttention",
        {"return_attention_scores": True},
        [(2, 3, 4), (2, 5, 4)],
        [(2, 3, 4), (2, 3, 5)],
        4,
        0,
    ),
    Known("AdditiveAttention", {"use_scale": False}, [(2, 3, 4), (2, 5, 2), (2, 5, 4)], [(2, 3, 2)], 0, 0),
    Known(
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 4, "return_attention_scores": True},
        [(2, 5, 16), (2, 9, 16)],
        [(2, 5, 16), (2, 2, 5, 9)],
        552,
        0,
    ),
    Known(
        "MultiHeadAttention",
        {
            "num_heads": 2,
            "key_dim": 3,
            "value_dim": 5,
            "output_shape": [2, 3],
            "attention_axes": [2],
            "use_bias": False,
            "return_attention_scores": True,
        },
        [(2, 3, 4, 6), (2, 3, 7, 5), (2, 3, 7, 4)],
        [(2, 3, 4, 2, 3), (2, 3, 2, 4, 7)],
        170,
        0,
    ),
    Known(
        "MultiHeadAttention",
        {"num_heads": 3, "key_dim": 2, "use_gate": True},
        [(2, 4, 6), (2, 4, 6)],
        [(2, 4, 6)],
        210,
        0,
    ),
    Known(
        "GroupQueryAttention",
        {"head_dim": 4, "num_query_heads": 4, "num_key_value_heads": 2, "return_attention_scores": True},
        [(2, 5, 8), (2, 7, 8)],
        [(2, 5, 8), (2, 4, 5, 7)],
        424,
        0,
    ),
    Known(
        "GroupQueryAttention",
        {"head_dim": 2, "num_query_heads": 3, "num_key_value_heads": 1, "use_bias": False},
        [(2, 5, 8), (2, 7, 8), (2, 7, 3)],
        [(2, 5, 8)],
        118,
        0,
    ),
    Known(
        "EinsumDense",
        {"equation": "...b,bc->...c", "output_shape": 3, "bias_axes": "c"},
        [(2, 4, 6, 5)],
        [(2, 4, 6, 3)],
        18,
        0,
    ),
    Known(
        "EinsumDense",
        {"equation": "abc,cde->abde", "output_shape": [None, 2, 3], "bias_axes": "de", "lora_rank": 2},
        [(2, 7, 5)],
        [(2, 7, 2, 3)],
        62,
        30,
    ),
    Known(
        "EinsumDense",
        {"equation": "ab...,bc->ac...", "output_shape": [4], "bias_axes": "c"},
        [(2, 5, 3, 2)],
        [(2, 4, 3, 2)],
        24,
        0,
    ),
    Known("Dense", {"units": 3, "lora_rank": 2}, [(2, 5)], [(2, 3)], 34, 15),
    Known("Embedding", {"input_dim": 10, "output_dim": 4, "lora_rank": 3}, [(2, 6)], [(2, 6, 4)], 82, 40),
    Known("Dot", {"axes": [1, 2]}, [(2, 5, 3), (2, 4, 5)], [(2, 3, 4)], 0, 0),
    Known("Dot", {"axes": 1, "normalize": True}, [(2, 5), (2, 5)], [(2, 1)], 0, 0),
    Known("Dot", {"axes": -1}, [(2, 3, 5), (2, 5)], [(2, 3)], 0, 0),
    Known(
        "ReversibleEmbedding",
        {"input_dim": 30, "output_dim": 8, "tie_weights": False, "reverse": True},
        [(2, 7, 8)],
        [(2, 7, 30)],
        480,
        0,
    ),
    Known("ReversibleEmbedding", {"input_dim": 30, "output_dim": 8}, [(2, 7)], [(2, 7, 8)], 240, 0),
    Known("ops.Add", {}, [(2, 3, 1), (4,)], [(2, 3, 4)], 0, 0),
    Known("ops.NotEqual", {}, [(2, 3, 4), (2, 1, 4)], [(2, 3, 4)], 0, 0),
    Known(
        "SpectralNormalization",
        {"power_iterations": 2},
        [(2, 3)],
        [(2, 4)],
        20,
        4,
        inner=("Dense", {"units": 4}),
    ),
    Known(
        "SpectralNormalization",
        {"power_iterations": 2},
        [(2, 5, 5, 2)],
        [(2, 4, 4, 3)],
        30,
        3,
        inner=("Conv2D", {"filters": 3, "kernel_size": 2}),
    ),
    Known(
        "SpectralNormalization",
        {"power_iterations": 2},
        [(2, 4)],
        [(2, 4, 5)],
        35,
        5,
        inner=("Embedding", {"input_dim": 6, "output_dim": 5}),
    ),
]


@pytest.mark.parametrize("known", KNOWN, ids=[f"{k.class_name}-{i}" for i, k in enumerate(KNOWN)])
def test_known_layer(known: Known) -> None:
    inner = layer_spec(*known.inner) if known.inner else None
    spec = layer_spec(known.class_name, known.options, inner)
    output = run_spec(spec, LayerCall(tuple(known.inputs)))
    assert [tuple(shape) for shape in output.shapes] == known.outputs
    assert (output.params, output.non_trainable) == (known.params, known.non_trainable)


def _refusal(inputs: dict[str, list[Any]], layers: list[dict[str, Any]]) -> str:
    document = {"inputs": inputs, "layers": layers}
    with pytest.raises(ShapecalcError) as raised:
        propagate(parse_model(json.dumps(document).encode(), "m.json"))
    return str(raised.value)


ONE = {"x": [3, 4]}
TWO = {"q": [3, 4], "v": [5, 6]}
QV = ["q", "v"]
#: A 3-D query's attention_axes count only with the scores (or dropout): Keras' fast path ignores them.
SCORES = {"return_attention_scores": True, "inputs": QV}
REFUSALS = [
    (
        ONE,
        [{"type": "EinsumDense", "equation": "ab->c", "output_shape": [3]}],
        "m.json: layer 1 'einsum_dense': equation must be like 'ab,bc->ac', '...b,bc->...c' or "
        "'ab...,bc->ac...', got 'ab->c'",
    ),
    (
        ONE,
        [{"type": "EinsumDense", "equation": "abc,cd->abd", "output_shape": [3]}],
        "output_shape must give 2 size(s) for 'abc,cd->abd', got [3]",
    ),
    (
        ONE,
        [{"type": "EinsumDense", "equation": "abc,cd->abd", "output_shape": [None, 2], "bias_axes": "x"}],
        "bias_axes 'x' is not a letter of the output 'abd', got 'x'",
    ),
    (
        ONE,
        [{"type": "EinsumDense", "equation": "abc,cd->abd", "output_shape": [None, None]}],
        "output_shape must give the size of the kernel's 'd' in 'abc,cd->abd', got [None, None]",
    ),
    (
        ONE,
        [{"type": "EinsumDense", "equation": "abc,ce->abd", "output_shape": [None, 2]}],
        "equation the output's 'd' is in neither the input nor the kernel, got 'abc,ce->abd'",
    ),
    (
        ONE,
        [{"type": "EinsumDense", "equation": "abc,cd->abd", "output_shape": [7, 2]}],
        "output_shape gives 'b' 7, the input 3: 3 != 7",
    ),
    (
        TWO,
        [{"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 2, "attention_axes": [3], **SCORES}],
        "attention_axes must name distinct axes of the projected query, 0 to 2 (or -3 to -1) for a "
        "3-D query, got [3]",
    ),
    (
        TWO,
        [{"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 2, "attention_axes": [2], **SCORES}],
        "query and key differ on axis 1: query (batch, 3, 4), value (batch, 5, 6), key (batch, 5, 6): 3 != 5",
    ),
    (
        {"q": [3, 4], "v": [5, 4]},
        [
            {
                "type": "GroupQueryAttention",
                "head_dim": 2,
                "num_query_heads": 3,
                "num_key_value_heads": 2,
                "inputs": QV,
            }
        ],
        "num_key_value_heads must divide num_query_heads=3, got 2",
    ),
    (TWO, [{"type": "Dot", "axes": [0, 1], "inputs": QV}], "axes must name non-batch axes"),
    (
        TWO,
        [{"type": "Dot", "axes": [1, 2, 3], "inputs": QV}],
        "axes must be an axis or a pair of axes, got [1, 2, 3]",
    ),
    (
        TWO,
        [{"type": "Attention", "score_mode": "general", "inputs": QV}],
        "score_mode must be 'dot' or 'concat', got 'general'",
    ),
    (
        TWO,
        [{"type": "Attention", "inputs": ["q"]}],
        "takes [query, value] or [query, value, key], got 1 input(s)",
    ),
    (TWO, [{"type": "Attention", "inputs": QV}], "query and key differ in features"),
    (
        {"x": [3]},
        [
            {
                "type": "ReversibleEmbedding",
                "input_dim": 9,
                "output_dim": 4,
                "tie_weights": False,
                "lora_rank": 2,
            }
        ],
        "lora_rank with tie_weights false Keras cannot build the layer, got 2",
    ),
    (ONE, [{"type": "Dense", "units": 3, "lora_rank": -1}], "lora_rank must be a positive integer, got -1"),
    (
        ONE,
        [{"type": "SpectralNormalization", "layer": {"type": "LSTM", "units": 3}}],
        "layer SpectralNormalization of 'LSTM' is not supported",
    ),
    (
        ONE,
        [{"type": "ReversibleEmbedding", "input_dim": 9, "output_dim": 5, "reverse": True}],
        "reverse takes (..., output_dim=5), got (batch, 3, 4)",
    ),
]


@pytest.mark.parametrize(("inputs", "layers", "message"), REFUSALS)
def test_a_bad_config_is_one_line_naming_the_key_and_value(inputs, layers, message) -> None:
    error = _refusal(inputs, layers)
    assert "\n" not in error
    assert message in error, error


#: The example model's rows (``tests/data/attention``): what the live model returns, checked by
#: the oracle test; here read without Keras from both files.
TRANSLATOR = [
    ("source", "InputLayer", [["batch", "timestep"]], 0),
    ("target", "InputLayer", [["batch", "timestep_2"]], 0),
    ("source_embedding", "Embedding", [["batch", "timestep", 16]], 1600),
    ("not_equal", "ops.NotEqual", [["batch", "timestep"]], 0),
    ("target_embedding", "Embedding", [["batch", "timestep_2", 16]], 1920),
    ("encoder", "LSTM", [["batch", "timestep", 16], ["batch", 16], ["batch", 16]], 2112),
    ("decoder", "LSTM", [["batch", "timestep_2", 16]], 2112),
    ("keys", "Dense", [["batch", "timestep", 8]], 136),
    (
        "attention",
        "MultiHeadAttention",
        [["batch", "timestep_2", 16], ["batch", 2, "timestep_2", "timestep"]],
        960,
    ),
    ("add", "ops.Add", [["batch", "timestep_2", 16]], 0),
    ("norm", "LayerNormalization", [["batch", "timestep_2", 16]], 32),
    ("logits", "Dense", [["batch", "timestep_2", 120]], 2040),
]


@pytest.mark.parametrize("suffix", [".json", ".keras"])
def test_the_example_attention_model(suffix: str) -> None:
    result = analyze(ATTENTION / f"translator{suffix}")
    rows = [(row.name, row.class_name, _shapes(row.shapes), row.params) for row in result.rows]
    assert rows == [(name, kind, shapes, params) for name, kind, shapes, params in TRANSLATOR]
    assert result.params == 10912 and result.non_trainable == 0


def _tied(reverse_input: str) -> dict[str, Any]:
    """A Keras Functional document: tokens -> ReversibleEmbedding -> Dense -> the same
    embedding in reverse (its second call reads the Dense that reads its first)."""

    def tensor(layer: str, node: int = 0) -> dict[str, Any]:
        return {"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node, 0]}}

    return {
        "class_name": "Functional",
        "config": {
            "name": "tied",
            "input_layers": [["tokens", 0, 0]],
            "output_layers": [["embedding", 1, 0]],
            "layers": [
                {"class_name": "InputLayer", "name": "tokens", "config": {"batch_shape": [None, 7]}},
                {
                    "class_name": "ReversibleEmbedding",
                    "name": "embedding",
                    "config": {"input_dim": 30, "output_dim": 8},
                    "inbound_nodes": [
                        {"args": [tensor("tokens")], "kwargs": {}},
                        {"args": [tensor(reverse_input)], "kwargs": {"reverse": True}},
                    ],
                },
                {
                    "class_name": "Dense",
                    "name": "hidden",
                    "config": {"units": 8},
                    "inbound_nodes": [{"args": [tensor("embedding")], "kwargs": {}}],
                },
            ],
        },
    }


def test_a_layer_called_twice_is_sharing_not_a_cycle() -> None:
    result = propagate(parse_model(json.dumps(_tied("hidden")).encode(), "tied.json"))
    rows = {row.name: row for row in result.rows}
    assert _shapes(rows["embedding"].shapes) == [["batch", 7, 8]]
    assert rows["embedding"].params == 240 and result.params == 240 + 72
    assert _shapes(result.outputs) == [["batch", 7, 30]]
    assert [row.name for row in result.rows] == ["tokens", "embedding", "hidden"]


def test_a_call_that_reads_its_own_output_is_a_cycle() -> None:
    document = _tied("embedding")
    document["config"]["layers"][1]["inbound_nodes"][1]["args"] = [
        {"class_name": "__keras_tensor__", "config": {"keras_history": ["embedding", 1, 0]}}
    ]
    with pytest.raises(ShapecalcError) as raised:
        propagate(parse_model(json.dumps(document).encode(), "tied.json"))
    assert str(raised.value) == "tied.json: layer 2 'embedding': is part of a cycle"


def _with_op(*args: Any, **kwargs: Any) -> dict[str, Any]:
    x = {"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}
    return {
        "class_name": "Functional",
        "config": {
            "name": "ops",
            "input_layers": [["x", 0, 0]],
            "output_layers": [["sum", 0, 0]],
            "layers": [
                {"class_name": "InputLayer", "name": "x", "config": {"batch_shape": [None, 3, 4]}},
                {
                    "module": "keras.src.ops.numpy",
                    "class_name": "Add",
                    "name": "sum",
                    "config": {"name": "sum"},
                    "inbound_nodes": [{"args": [x, *args], "kwargs": kwargs}],
                },
            ],
        },
    }


@pytest.mark.parametrize(
    ("argument", "shape"),
    [
        (2.0, ["batch", 3, 4]),
        (
            {"class_name": "__numpy__", "config": {"value": [[1.0], [2.0], [3.0]], "dtype": "float32"}},
            ["batch", 3, 4],
        ),
        (
            {"class_name": "__tensor__", "config": {"value": [[[1.0] * 4] * 3] * 2, "dtype": "float32"}},
            [2, 3, 4],
        ),
    ],
)
def test_an_op_broadcasts_numbers_and_constants(argument: Any, shape: list[Any]) -> None:
    result = propagate(parse_model(json.dumps(_with_op(argument)).encode(), "ops.json"))
    assert _shapes(result.outputs) == [shape]
    assert result.rows[-1].class_name == "ops.Add"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (
            ["text"],
            {},
            "ops.json: layer 2 'sum': the operation's argument 'text' is not a tensor or a number",
        ),
        (
            [{"class_name": "__numpy__", "config": {"value": [[1.0], [2.0, 3.0]]}}],
            {},
            "ops.json: layer 2 'sum': a constant's nested lists are not all of one length",
        ),
        (
            [{"class_name": "__numpy__", "config": {"value": [1.0, 2.0, 3.0]}}],
            {},
            "ops.json: layer 2 'sum': shapes (batch, 3, 4) and (3,) do not broadcast: 4 != 3",
        ),
        (
            [1.0],
            {"where": True},
            "ops.json: layer 2 'sum': the operation's call argument 'where' is not supported",
        ),
    ],
)
def test_an_op_with_what_shapecalc_cannot_follow_is_refused(
    args: list[Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ShapecalcError) as raised:
        propagate(parse_model(json.dumps(_with_op(*args, **kwargs)).encode(), "ops.json"))
    assert str(raised.value) == message


def test_tensors_passed_by_keyword_are_inputs() -> None:
    """``layer(inputs=x)`` and ``mha(query=q, value=v, key=k)``: Keras saves them as kwargs."""

    def tensor(layer: str) -> dict[str, Any]:
        return {"class_name": "__keras_tensor__", "config": {"keras_history": [layer, 0, 0]}}

    document = {
        "class_name": "Functional",
        "config": {
            "name": "keywords",
            "input_layers": [["q", 0, 0], ["v", 0, 0], ["k", 0, 0]],
            "output_layers": [["attention", 0, 1]],
            "layers": [
                {"class_name": "InputLayer", "name": "q", "config": {"batch_shape": [None, 3, 8]}},
                {"class_name": "InputLayer", "name": "v", "config": {"batch_shape": [None, 5, 8]}},
                {"class_name": "InputLayer", "name": "k", "config": {"batch_shape": [None, 5, 2]}},
                {
                    "class_name": "Dense",
                    "name": "project",
                    "config": {"units": 4},
                    "inbound_nodes": [{"args": [], "kwargs": {"inputs": tensor("q")}}],
                },
                {
                    "class_name": "MultiHeadAttention",
                    "name": "attention",
                    "config": {"num_heads": 2, "key_dim": 3},
                    "inbound_nodes": [
                        {
                            "args": [],
                            "kwargs": {
                                "key": tensor("k"),
                                "value": tensor("v"),
                                "query": tensor("project"),
                                "return_attention_scores": True,
                                "attention_mask": tensor("q"),
                            },
                        }
                    ],
                },
            ],
        },
    }
    result = propagate(parse_model(json.dumps(document).encode(), "keywords.json"))
    rows = {row.name: row for row in result.rows}
    assert _shapes(rows["attention"].shapes) == [["batch", 3, 4], ["batch", 2, 3, 5]]
    assert rows["attention"].params == (4 * 6 + 6) + (2 * 6 + 6) + (8 * 6 + 6) + (6 * 4 + 4)
    assert _shapes(result.outputs) == [["batch", 2, 3, 5]]


def test_an_op_without_a_rule_is_an_unknown_class() -> None:
    """``keras.ops.concatenate([a, b], axis=1)``: its list argument and ``axis`` need a rule
    shapecalc lacks, so it is an unknown class that ``--skip-unknown`` lists."""
    document = _with_op()
    op = document["config"]["layers"][1]
    op["class_name"] = "Concatenate"
    x = op["inbound_nodes"][0]["args"][0]
    op["inbound_nodes"][0] = {"args": [[x, x]], "kwargs": {"axis": 1}}
    graph = parse_model(json.dumps(document).encode(), "ops.json")
    with pytest.raises(ShapecalcError) as raised:
        propagate(graph)
    assert "unknown layer class 'ops.Concatenate'" in str(raised.value)
    assert propagate(graph, skip_unknown=True).rows[-1].status == "unknown class"
