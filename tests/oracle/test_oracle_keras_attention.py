"""Attention, EinsumDense, Dot, LoRA, SpectralNormalization, ReversibleEmbedding and Keras ops
in Functional models, against what Keras 3 returns when the model runs.

Each seeded case builds a small real model, saves it with ``to_json()`` (and, for the named
models, as a ``.keras`` archive), reads it with shapecalc and compares every layer's (and op's)
output shapes on two runs of random inputs, its parameters (all and non-trainable) and the
totals (:mod:`keras_models_oracle`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from keras_models_oracle import InputSpec, keras_inputs, mismatches
from oracle_support import ORACLE_MARKS, require_frameworks
from test_model_attention import KNOWN, Known

from shapecalc.model.layers.ops import BINARY, UNARY
from shapecalc.model.layers.registry import find_rule

pytestmark = ORACLE_MARKS

Built = tuple[Any, list[InputSpec]]
#: Seeded cases per family.
CASES = 12


@pytest.fixture(scope="module", autouse=True)
def _frameworks() -> None:
    require_frameworks("torch", "keras")


def _keras() -> Any:
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    return keras


def _steps(rng: random.Random, name: str) -> int | str:
    return rng.choice([name, rng.randint(1, 6)])


def attention_case(rng: random.Random) -> Built:
    keras = _keras()
    kind = rng.choice(["Attention", "AdditiveAttention"])
    dim, with_key = rng.randint(1, 5), rng.random() < 0.5
    value_dim = rng.randint(1, 5) if with_key else dim
    tq, tv = _steps(rng, "Tq"), _steps(rng, "Tv")
    specs: list[InputSpec] = [((tq, dim), "float32"), ((tv, value_dim), "float32")]
    if with_key:
        specs.append(((tv, dim), "float32"))
    options: dict[str, Any] = {"use_scale": rng.random() < 0.5}
    if kind == "Attention":
        options["score_mode"] = rng.choice(["dot", "concat"])
    inputs = keras_inputs(specs)
    scores = rng.random() < 0.5
    layer = getattr(keras.layers, kind)(**options)
    if rng.random() < 0.3:  # by keyword: Keras saves it as the call's kwargs
        outputs = layer(inputs=inputs, return_attention_scores=scores)
    else:
        outputs = layer(inputs, return_attention_scores=scores)
    return keras.Model(inputs, list(outputs) if scores else outputs), specs


def mha_case(rng: random.Random) -> Built:
    keras = _keras()
    rank = rng.choice([3, 3, 4])
    options: dict[str, Any] = {"num_heads": rng.randint(1, 3), "key_dim": rng.randint(1, 4)}
    if rng.random() < 0.5:
        options["value_dim"] = rng.randint(1, 4)
    options["use_bias"] = rng.random() < 0.7
    options["use_gate"] = rng.random() < 0.3
    options["output_shape"] = rng.choice([None, rng.randint(1, 4), (2, 3)])
    features = [rng.randint(1, 5) for _ in range(3)]
    if rank == 3:
        query_steps, key_steps = (_steps(rng, "Tq"),), (_steps(rng, "Tk"),)
    else:
        axes = rng.choice([None, (1,), (2,), (1, 2), (-2,)])
        options["attention_axes"] = axes
        attended = {1, 2} if axes is None else {a if a >= 0 else 4 + a for a in axes}
        query_steps = (rng.randint(1, 4), rng.randint(1, 4))
        key_steps = tuple(rng.randint(1, 4) if axis in attended else query_steps[axis - 1] for axis in (1, 2))
    with_key = rng.random() < 0.5
    specs: list[InputSpec] = [
        ((*query_steps, features[0]), "float32"),
        ((*key_steps, features[1]), "float32"),
    ]
    if with_key:
        specs.append(((*key_steps, features[2]), "float32"))
    inputs = keras_inputs(specs)
    layer = keras.layers.MultiHeadAttention(**options)
    scores = rng.random() < 0.5
    if with_key and rng.random() < 0.5:
        outputs = layer(query=inputs[0], value=inputs[1], key=inputs[2], return_attention_scores=scores)
    elif with_key:
        outputs = layer(inputs[0], inputs[1], key=inputs[2], return_attention_scores=scores)
    else:
        outputs = layer(inputs[0], inputs[1], return_attention_scores=scores)
    return keras.Model(inputs, list(outputs) if scores else outputs), specs


def gqa_case(rng: random.Random) -> Built:
    keras = _keras()
    shared = rng.randint(1, 3)
    options = {
        "head_dim": rng.randint(1, 4),
        "num_query_heads": shared * rng.randint(1, 3),
        "num_key_value_heads": shared,
        "use_bias": rng.random() < 0.7,
        "use_gate": rng.random() < 0.3,
    }
    features = rng.randint(1, 5)
    with_key = rng.random() < 0.5
    tk = _steps(rng, "Tk")
    specs: list[InputSpec] = [((_steps(rng, "Tq"), features), "float32"), ((tk, features), "float32")]
    if with_key:
        specs.append(((tk, rng.randint(1, 5)), "float32"))
    inputs = keras_inputs(specs)
    scores = rng.random() < 0.5
    key = {"key": inputs[2]} if with_key else {}
    outputs = keras.layers.GroupQueryAttention(**options)(
        inputs[0], inputs[1], return_attention_scores=scores, **key
    )
    return keras.Model(inputs, list(outputs) if scores else outputs), specs


#: ``(equation, input sizes after the batch, output_shape, bias_axes choices)``.
EQUATIONS: list[tuple[str, tuple[int | str, ...], tuple[int | None, ...], list[str | None]]] = [
    ("ab,bc->ac", (5,), (4,), [None, "c"]),
    ("abc,cd->abd", ("T", 5), (None, 4), [None, "d"]),
    ("abc,cd->abd", (3, 5), (3, 4), ["d"]),
    ("abc,cde->abde", ("T", 6), (None, 2, 3), [None, "de", "e", "d"]),
    ("abc,bcd->ad", (3, 4), (5,), [None, "d"]),
    ("abcd,cde->abe", ("T", 3, 4), (None, 2), [None, "e"]),
    ("...b,bc->...c", (5,), (3,), [None, "c"]),
    ("...b,bc->...c", (2, 5), (3,), [None, "c"]),
    ("...b,bc->...c", (2, 3, 5), (3,), ["c"]),
    ("...ab,bc->...ac", (4, 3, 5), (3, 2), [None, "c", "ac"]),
    ("...ab,bc->...ac", ("T", 3, 5), (3, 2), [None, "c"]),
    ("ab...,bc->ac...", (5, 3, 2), (4,), [None, "c"]),
    ("ab...,bc->ac...", (5, "T"), (4,), [None, "c"]),
]


def einsum_model(
    equation: str, sizes: tuple[int | str, ...], output_shape: Any, bias_axes: str | None, lora: int | None
) -> Built:
    keras = _keras()
    options: dict[str, Any] = {"equation": equation, "output_shape": output_shape, "bias_axes": bias_axes}
    if lora:
        options["lora_rank"] = lora
    specs: list[InputSpec] = [(sizes, "float32")]
    inputs = keras_inputs(specs)
    return keras.Model(inputs, keras.layers.EinsumDense(**options)(inputs[0])), specs


def einsum_case(rng: random.Random) -> Built:
    equation, sizes, output_shape, biases = rng.choice(EQUATIONS)
    return einsum_model(equation, sizes, output_shape, rng.choice(biases), rng.choice([None, None, 1, 3]))


def lora_case(rng: random.Random) -> Built:
    """Dense and Embedding with ``lora_rank`` (and without), one after the other."""
    keras = _keras()
    layers = keras.layers
    rank = rng.choice([None, 1, 2, 4])
    specs: list[InputSpec] = [((_steps(rng, "T"),), "int32")]
    inputs = keras_inputs(specs)
    x = layers.Embedding(rng.randint(3, 9), rng.randint(1, 6), lora_rank=rng.choice([None, rank]))(inputs[0])
    x = layers.Dense(rng.randint(1, 6), lora_rank=rank, use_bias=rng.random() < 0.5)(x)
    return keras.Model(inputs, x), specs


def dot_case(rng: random.Random) -> Built:
    keras = _keras()
    shared = rng.randint(1, 5)
    first = [rng.randint(1, 4) for _ in range(rng.randint(1, 2))]
    second = [rng.randint(1, 4) for _ in range(rng.randint(1, 2))]
    a, b = rng.randrange(len(first) + 1), rng.randrange(len(second) + 1)
    first.insert(a, shared)
    second.insert(b, shared)
    axes: Any = (a + 1, b + 1)
    if rng.random() < 0.3:
        axes = (a + 1 - len(first) - 1, b + 1 - len(second) - 1)  # negative
    elif a == b and len(first) == len(second) and rng.random() < 0.5:
        axes = a + 1
    specs: list[InputSpec] = [(tuple(first), "float32"), (tuple(second), "float32")]
    inputs = keras_inputs(specs)
    out = keras.layers.Dot(axes=axes, normalize=rng.random() < 0.5)(inputs)
    return keras.Model(inputs, out), specs


def spectral_case(rng: random.Random) -> Built:
    keras = _keras()
    layers = keras.layers
    kinds = ["Dense", "Conv2D", "Embedding", "EinsumDense", "Conv1D"]
    # Kernels laid out (..., filters, in) and (..., in, multiplier), once their classes have rules.
    kinds += [kind for kind in ("Conv1DTranspose", "DepthwiseConv1D") if find_rule(kind) is not None]
    kind = rng.choice(kinds)
    if kind == "Dense":
        specs: list[InputSpec] = [((_steps(rng, "T"), rng.randint(1, 5)), "float32")]
        inner = layers.Dense(rng.randint(1, 5))
    elif kind == "Conv2D":
        specs = [((6, 5, rng.randint(1, 3)), "float32")]
        inner = layers.Conv2D(rng.randint(1, 4), rng.randint(1, 3))
    elif kind == "Conv1D":
        specs = [((7, rng.randint(1, 3)), "float32")]
        inner = layers.Conv1D(rng.randint(1, 4), rng.randint(1, 3), padding=rng.choice(["valid", "same"]))
    elif kind == "Conv1DTranspose":
        specs = [((7, rng.randint(1, 3)), "float32")]
        inner = layers.Conv1DTranspose(rng.randint(1, 4), rng.randint(1, 3))
    elif kind == "DepthwiseConv1D":
        specs = [((7, rng.randint(1, 3)), "float32")]
        inner = layers.DepthwiseConv1D(rng.randint(1, 3), depth_multiplier=rng.randint(1, 3))
    elif kind == "Embedding":
        specs = [((_steps(rng, "T"),), "int32")]
        inner = layers.Embedding(rng.randint(3, 8), rng.randint(1, 5))
    else:
        specs = [((3, 4), "float32")]
        inner = layers.EinsumDense("abc,cd->abd", output_shape=(3, rng.randint(1, 5)), bias_axes="d")
    inputs = keras_inputs(specs)
    out = layers.SpectralNormalization(inner, power_iterations=rng.randint(1, 3))(inputs[0])
    return keras.Model(inputs, out), specs


def reversible_case(rng: random.Random) -> Built:
    """A tied (or untied) ReversibleEmbedding: tokens in, logits out of its reverse call."""
    keras = _keras()
    layers = keras.layers
    vocab, width = rng.randint(3, 9), rng.randint(1, 6)
    options: dict[str, Any] = {"tie_weights": rng.random() < 0.5}
    if options["tie_weights"] and rng.random() < 0.4:  # untied, Keras cannot build LoRA
        options["lora_rank"] = rng.randint(1, 2)
    specs: list[InputSpec] = [((_steps(rng, "T"),), "int32")]
    inputs = keras_inputs(specs)
    embedding = layers.ReversibleEmbedding(vocab, width, **options)
    hidden = layers.Dense(width)(embedding(inputs[0]))
    return keras.Model(inputs, embedding(hidden, reverse=True)), specs


def ops_case(rng: random.Random) -> Built:
    """A chain of element-wise and comparison ops on broadcasting tensors and numbers."""
    keras = _keras()
    from keras.src.ops import numpy as numpy_ops

    steps, features = _steps(rng, "T"), rng.randint(2, 4)
    specs: list[InputSpec] = [((steps, 1), "float32"), ((1, features), "float32")]
    specs.append(((steps, features), "float32"))
    inputs = keras_inputs(specs)
    tensors = list(inputs)
    for _ in range(rng.randint(2, 5)):
        if rng.random() < 0.7:
            name = rng.choice(BINARY)
            left = rng.choice(tensors)
            right = rng.choice([*tensors, 2.0, 1])
            if name.startswith("Logical"):
                left, right = keras.ops.greater(left, 0.0), keras.ops.less(rng.choice(tensors), 0.5)
            tensors.append(getattr(numpy_ops, name)()(left, right))
        else:
            name = rng.choice(UNARY)
            source = rng.choice(tensors)
            if name == "LogicalNot":
                source = keras.ops.not_equal(source, 0.0)
            tensors.append(getattr(numpy_ops, name)()(source))
    return keras.Model(inputs, tensors[3:]), specs


FAMILIES: dict[str, Callable[[random.Random], Built]] = {
    "attention": attention_case,
    "multi_head_attention": mha_case,
    "group_query_attention": gqa_case,
    "einsum_dense": einsum_case,
    "lora": lora_case,
    "dot": dot_case,
    "spectral_normalization": spectral_case,
    "reversible_embedding": reversible_case,
    "ops": ops_case,
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("seed", range(CASES))
@pytest.mark.parametrize("family", FAMILIES)
def test_seeded_model_matches_what_keras_returns(family: str, seed: int) -> None:
    model, specs = FAMILIES[family](random.Random(f"{family}-{seed}"))
    assert mismatches(model, specs, seed=seed) == []


def seq2seq_attention() -> Built:
    """An LSTM encoder-decoder with Luong attention over the encoder's states."""
    keras = _keras()
    layers = keras.layers
    specs: list[InputSpec] = [(("Tin", 6), "float32"), (("Tout", 5), "float32")]
    source, target = keras_inputs(specs)
    encoded, state_h, state_c = layers.LSTM(8, return_sequences=True, return_state=True)(source)
    decoded = layers.LSTM(8, return_sequences=True)(target, initial_state=[state_h, state_c])
    context, weights = layers.Attention(use_scale=True)([decoded, encoded], return_attention_scores=True)
    joined = layers.Concatenate()([decoded, context])
    logits = layers.Dense(5, activation="softmax")(joined)
    return keras.Model([source, target], [logits, weights]), specs


def transformer_block() -> Built:
    """Token and position embeddings, causal self-attention, LayerNorm and a Dense residual."""
    keras = _keras()
    layers = keras.layers
    specs: list[InputSpec] = [((10,), "int32")]
    (tokens,) = keras_inputs(specs)
    x = layers.Embedding(20, 16)(tokens)
    positions = layers.Embedding(10, 16)(keras.ops.arange(10))
    x = x + positions
    attended = layers.MultiHeadAttention(num_heads=4, key_dim=4, dropout=0.1)(x, x, use_causal_mask=True)
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, attended]))
    hidden = layers.Dense(32, activation="gelu")(x)
    x = layers.LayerNormalization()(x + layers.Dense(16)(hidden))
    return keras.Model(tokens, layers.Dense(20)(layers.GlobalAveragePooling1D()(x))), specs


def masked_lstm() -> Built:
    """``Embedding(mask_zero=True)`` feeding an LSTM: the mask is a ``NotEqual`` op node."""
    keras = _keras()
    layers = keras.layers
    specs: list[InputSpec] = [(("T",), "int32")]
    (tokens,) = keras_inputs(specs)
    x = layers.Embedding(30, 8, mask_zero=True)(tokens)
    x = layers.LSTM(6, return_sequences=True)(x)
    x = layers.GRU(4)(x)
    return keras.Model(tokens, layers.Dense(2)(x)), specs


def shared_layers() -> Built:
    """One Dense and one MultiHeadAttention, each called on two inputs (with a key)."""
    keras = _keras()
    layers = keras.layers
    specs: list[InputSpec] = [(("Ta", 6), "float32"), (("Tb", 6), "float32"), (("Tb", 3), "float32")]
    left, right, key = keras_inputs(specs)
    dense = layers.Dense(6)
    attention = layers.MultiHeadAttention(2, 3)
    a, scores = attention(dense(left), dense(right), key=key, return_attention_scores=True)
    b = attention(dense(right), dense(left), key=layers.Dense(3)(left))
    return keras.Model([left, right, key], [a, b, scores]), specs


def tied_embedding() -> Built:
    """A language-model head tied to its input embedding (one layer, two calls)."""
    keras = _keras()
    layers = keras.layers
    specs: list[InputSpec] = [(("T",), "int32")]
    (tokens,) = keras_inputs(specs)
    embedding = layers.ReversibleEmbedding(40, 8)
    x = embedding(tokens)
    x = layers.MultiHeadAttention(2, 4)(x, x)
    x = layers.EinsumDense("...d,de->...e", output_shape=8, bias_axes="e")(x)
    return keras.Model(tokens, embedding(x, reverse=True)), specs


NAMED = {
    build.__name__: build
    for build in (seq2seq_attention, transformer_block, masked_lstm, shared_layers, tied_embedding)
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", NAMED)
def test_named_model_matches_what_keras_returns(name: str, tmp_path: Any) -> None:
    model, specs = NAMED[name]()
    assert mismatches(model, specs, tmp_path) == []


@pytest.mark.parametrize("name", [*BINARY, *UNARY])
def test_every_op_is_a_keras_op_without_arguments(name: str) -> None:
    """shapecalc's ops are classes of ``keras.src.ops.numpy`` that take nothing but a name."""
    import inspect

    from keras.src.ops import numpy as numpy_ops

    parameters = set(inspect.signature(getattr(numpy_ops, name).__init__).parameters) - {"self"}
    assert parameters <= {"name"}


@pytest.mark.parametrize(
    ("equation", "sizes", "output_shape", "bias_axes"),
    [(e, sizes, shape, bias) for e, sizes, shape, biases in EQUATIONS for bias in biases],
)
def test_every_equation_and_bias_matches_what_keras_returns(equation, sizes, output_shape, bias_axes) -> None:
    """Each equation form (an ellipsis on the left over one, two or three axes, on the right,
    none) with each bias; Keras' compute_output_shape reverses two elided axes, the layer not."""
    model, specs = einsum_model(equation, sizes, output_shape, bias_axes, 2)
    assert mismatches(model, specs) == []


@pytest.mark.parametrize("axes", [None, (1,), (2,), (1, 2), (-2,), (-3,), (0,), (3,), (-1,), (0, 2), (2, 1)])
def test_multi_head_attention_scores_end_with_the_key_axes(axes) -> None:
    """A key longer than the query, on every choice of ``attention_axes`` of a 4-D query (Keras
    takes the batch and the heads axes too): the real scores are ``(batch, other axes, heads,
    query axes, key axes)``."""
    keras = _keras()
    attended = {1, 2} if axes is None else {a if a >= 0 else 4 + a for a in axes}
    query = (2, 3)
    key = tuple(size + 2 if axis in attended else size for axis, size in zip((1, 2), query, strict=True))
    specs: list[InputSpec] = [((*query, 5), "float32"), ((*key, 4), "float32"), ((*key, 3), "float32")]
    inputs = keras_inputs(specs)
    layer = keras.layers.MultiHeadAttention(2, 3, attention_axes=axes, output_shape=(2, 2))
    outputs = layer(inputs[0], inputs[1], key=inputs[2], return_attention_scores=True)
    assert mismatches(keras.Model(inputs, list(outputs)), specs) == []


#: Call arguments among a known entry's options.
CALL_OPTIONS = {"return_attention_scores", "reverse"}


def _known_build(known: Known) -> tuple[list[tuple[int, ...]], int, int]:
    """The entry's layer (or op) in Keras on random inputs: output shapes, all and non-trainable
    params."""
    import math

    import numpy as np
    from keras.src.ops import numpy as numpy_ops

    keras = _keras()
    rng = np.random.default_rng(0)
    options = {k: v for k, v in known.options.items() if k not in CALL_OPTIONS}
    call = {k: v for k, v in known.options.items() if k in CALL_OPTIONS}
    tokens = known.class_name == "Embedding" or (
        known.class_name == "ReversibleEmbedding" and not call.get("reverse")
    )
    tokens = tokens or (known.inner is not None and known.inner[0] == "Embedding")
    arrays = [
        rng.integers(0, 3, shape).astype("int32") if tokens else rng.standard_normal(shape).astype("float32")
        for shape in known.inputs
    ]
    layer = None
    if known.class_name.startswith("ops."):
        out = getattr(numpy_ops, known.class_name.removeprefix("ops."))()(*arrays)
    else:
        if known.inner:
            options["layer"] = getattr(keras.layers, known.inner[0])(**known.inner[1])
        layer = getattr(keras.layers, known.class_name)(**options)
        if known.class_name in ("Attention", "AdditiveAttention", "Dot"):
            out = layer(arrays, **call)
        elif known.class_name in ("MultiHeadAttention", "GroupQueryAttention"):
            key = {"key": arrays[2]} if len(arrays) > 2 else {}
            out = layer(arrays[0], arrays[1], **key, **call)
        else:
            out = layer(arrays[0], **call)
    outputs = list(out) if isinstance(out, (list, tuple)) else [out]

    def count(weights: Any) -> int:
        return sum(math.prod(int(s) for s in w.shape) for w in weights)

    shapes = [tuple(int(size) for size in output.shape) for output in outputs]
    if layer is None:
        return shapes, 0, 0
    return shapes, count(layer.weights), count(layer.non_trainable_weights)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("known", KNOWN, ids=[f"{k.class_name}-{i}" for i, k in enumerate(KNOWN)])
def test_known_attention_layer_is_what_keras_returns(known: Known) -> None:
    assert _known_build(known) == (known.outputs, known.params, known.non_trainable)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_the_example_attention_model_is_what_keras_returns(tmp_path: Any) -> None:
    """The model ``tests/data/attention`` holds, built live: its files read as it runs."""
    import importlib.util
    from pathlib import Path

    folder = Path(__file__).parents[1] / "data" / "attention"
    spec = importlib.util.spec_from_file_location("attention_models", folder / "generate_attention.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.translator()
    specs: list[InputSpec] = [(("S",), "int32"), (("T",), "int32")]
    assert mismatches(model, specs, tmp_path) == []
    assert (folder / "translator.json").read_text() == model.to_json() + "\n"


#: Configs shapecalc refuses, on concrete inputs: ``(class, options, inputs)``; Keras refuses
#: each too (when it builds or when it runs).
SCORES = {"return_attention_scores": True}
REFUSED: list[tuple[str, dict[str, Any], list[tuple[int, ...]]]] = [
    (
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 2, "attention_axes": [3], **SCORES},
        [(2, 3, 4), (2, 5, 6)],
    ),
    (
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 2, "attention_axes": [2], **SCORES},
        [(2, 3, 4), (2, 5, 6)],
    ),
    (
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 2, "attention_axes": [4], "dropout": 0.5},
        [(2, 3, 4)] * 2,
    ),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 2, "attention_axes": [5]}, [(2, 3, 4)] * 2),
    (
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 2, "flash_attention": True, **SCORES},
        [(2, 3, 4)] * 2,
    ),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 2, "attention_axes": [1, 1]}, [(2, 3, 4, 5)] * 2),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 2, "attention_axes": [-5]}, [(2, 3, 4, 5)] * 2),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 2}, [(2, 3, 4), (2, 3, 4, 5)]),
    ("Attention", {}, [(2, 3, 4), (2, 5, 6)]),
    ("AdditiveAttention", {}, [(2, 3, 4), (2, 5, 6), (2, 4, 4)]),
    ("Dot", {"axes": [0, 1]}, [(2, 3, 4), (2, 5, 6)]),
    ("Dot", {"axes": [1, 1]}, [(2, 3, 4), (2, 5, 6)]),
    ("EinsumDense", {"equation": "abc,cd->abd", "output_shape": [7, 2]}, [(2, 3, 4)]),
    ("EinsumDense", {"equation": "abc,cd->abd", "output_shape": [2]}, [(2, 3, 4)]),
    ("EinsumDense", {"equation": "ab,bc->ac", "output_shape": [2]}, [(2, 3, 4)]),
    ("EinsumDense", {"equation": "abb,bd->abd", "output_shape": [None, 2]}, [(2, 3, 3)]),
    ("EinsumDense", {"equation": "abc,cd->abd", "output_shape": [None, None]}, [(2, 3, 4)]),
    ("ReversibleEmbedding", {"input_dim": 9, "output_dim": 5, "reverse": True}, [(2, 3, 4)]),
    (
        "ReversibleEmbedding",
        {"input_dim": 9, "output_dim": 5, "tie_weights": False, "lora_rank": 2},
        [(2, 3)],
    ),
    ("Dense", {"units": 3, "lora_rank": -1}, [(2, 4)]),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("class_name", "options", "inputs"), REFUSED)
def test_what_shapecalc_refuses_keras_refuses(class_name: str, options: dict[str, Any], inputs: Any) -> None:
    from shapecalc.errors import ShapecalcError
    from shapecalc.model.engine import run_spec
    from shapecalc.model.layers.base import LayerCall
    from shapecalc.model.layers.registry import layer_spec

    with pytest.raises(ShapecalcError):
        run_spec(layer_spec(class_name, options), LayerCall(tuple(inputs)))
    with pytest.raises(Exception):  # noqa: B017 - Keras refuses with ValueError, RuntimeError, ...
        _known_build(Known(class_name, options, inputs, [], 0, 0))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("axes", [[1], [2], [3], [-1], [1, 1]])
@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_a_3d_query_without_scores_ignores_attention_axes(axes: list[int], dropout: float) -> None:
    """Keras' fast path (a 3-D query, no scores, no dropout) attends over the steps whatever
    ``attention_axes`` says; with dropout the axes count, and a query longer than the key is
    refused on an axis that is not attended."""
    from shapecalc.errors import ShapecalcError
    from shapecalc.model.engine import run_spec
    from shapecalc.model.layers.base import LayerCall
    from shapecalc.model.layers.registry import layer_spec

    options = {"num_heads": 2, "key_dim": 2, "attention_axes": axes, "dropout": dropout}
    known = Known("MultiHeadAttention", options, [(2, 3, 4), (2, 5, 6)], [], 0, 0)
    try:
        ours: Any = run_spec(layer_spec(known.class_name, known.options), LayerCall(tuple(known.inputs)))
        ours = ([tuple(shape) for shape in ours.shapes], ours.params, ours.non_trainable)
    except ShapecalcError:
        ours = "refused"
    try:
        theirs: Any = _known_build(known)
    except Exception:  # Keras refuses with RuntimeError (einsum) or ValueError
        theirs = "refused"
    assert ours == theirs
