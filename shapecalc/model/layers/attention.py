"""Attention layers: ``Attention``, ``AdditiveAttention``, ``MultiHeadAttention`` and
``GroupQueryAttention``, with their scores when called with ``return_attention_scores``.

Shapes are what the layers return. ``MultiHeadAttention``'s ``compute_output_shape`` gives its
scores as ``(batch, heads, Tq, Tq)``; the real scores end with the key's attention axes
(``Tk`` when the key is longer than the query) and keep the other axes before the heads.

>>> from shapecalc.dims import sym
>>> b = sym("batch")
>>> call = LayerCall(((b, 5, 16), (b, 9, 16)))
>>> out = multi_head_attention(MultiHeadAttentionOptions(num_heads=2, key_dim=4,
...     return_attention_scores=True), call)
>>> out.shapes, out.params
(((Expr('batch'), 5, 16), (Expr('batch'), 2, 5, 9)), 552)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import PlainValidator

from shapecalc.dims import Dim, format_shape
from shapecalc.errors import ShapecalcError, shown
from shapecalc.model.graph import Shape
from shapecalc.model.layers.base import LayerCall, LayerOutput, Rule, flat_size, require_rank, same_size
from shapecalc.model.options import Axes, Flag, Options, Size, as_size, weight_settings


def _agree(pairs: list[tuple[Dim, Dim, str]]) -> tuple[str, ...]:
    """Check sizes that must be equal; the symbolic ones become conditions."""
    conditions = []
    for left, right, what in pairs:
        _, condition = same_size(left, right, what)
        if condition:
            conditions.append(condition)
    return tuple(conditions)


def _query_value_key(call: LayerCall) -> tuple[Shape, Shape, Shape]:
    if not 2 <= len(call.inputs) <= 3:
        raise ShapecalcError(f"takes [query, value] or [query, value, key], got {len(call.inputs)} input(s)")
    query, value = call.inputs[0], call.inputs[1]
    return query, value, call.inputs[2] if len(call.inputs) == 3 else value


class AttentionOptions(Options):
    use_scale: Flag = False
    score_mode: Literal["dot", "concat"] = "dot"
    return_attention_scores: Flag = False


ATTENTION_INERT = frozenset({"dropout", "seed"})
ATTENTION_CALL = frozenset({"return_attention_scores"})


def _dot_attention(call: LayerCall, scores: bool) -> tuple[tuple[Shape, ...], Dim, tuple[str, ...]]:
    """``softmax(score(query, key)) @ value``: ``(*query[:-1], value[-1])``, and the scores
    ``(*query[:-1], Tv)``; the MACs of the two products."""
    query, value, key = _query_value_key(call)
    rank = len(query)
    layout = "(batch, ..., steps, features)"
    if rank < 2:
        require_rank(query, 2, layout)
    for shape in (value, key):
        require_rank(shape, rank, layout)
    shown_all = f"query {format_shape(query)}, value {format_shape(value)}, key {format_shape(key)}"
    pairs = [(query[-1], key[-1], f"query and key differ in features: {shown_all}")]
    pairs.append((value[-2], key[-2], f"value and key differ in steps: {shown_all}"))
    for axis in range(rank - 2):
        pairs.append((query[axis], value[axis], f"inputs differ on axis {axis}: {shown_all}"))
        pairs.append((query[axis], key[axis], f"inputs differ on axis {axis}: {shown_all}"))
    conditions = _agree(pairs)
    output = (*query[:-1], value[-1])
    weights = (*query[:-1], key[-2])
    macs = flat_size(weights) * (query[-1] + value[-1])
    return ((output, weights) if scores else (output,)), macs, conditions


def attention(options: AttentionOptions, call: LayerCall) -> LayerOutput:
    """Luong-style attention; a learned scalar ``scale`` and, with ``concat``, another."""
    shapes, macs, conditions = _dot_attention(call, options.return_attention_scores)
    params = int(options.use_scale) + int(options.score_mode == "concat")
    return LayerOutput(shapes, params, macs=macs, constraints=conditions)


class AdditiveAttentionOptions(Options):
    use_scale: Flag = True
    return_attention_scores: Flag = False


def additive_attention(options: AdditiveAttentionOptions, call: LayerCall) -> LayerOutput:
    """Bahdanau-style attention; ``scale`` has one weight per query feature."""
    shapes, macs, conditions = _dot_attention(call, options.return_attention_scores)
    params = call.inputs[0][-1] if options.use_scale else 0
    return LayerOutput(shapes, params, macs=macs, constraints=conditions)


def _heads_shape(value: Any) -> tuple[Dim, ...]:
    items = value if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise ShapecalcError(f"must be a size or a list of sizes, got {shown(value)}")
    return tuple(as_size(item) for item in items)


def _rate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ShapecalcError(f"must be a number from 0 to 1, got {shown(value)}")
    return float(value)


class MultiHeadAttentionOptions(Options):
    num_heads: Size
    key_dim: Size
    value_dim: Size | None = None
    use_bias: Flag = True
    output_shape: Annotated[tuple[Any, ...], PlainValidator(_heads_shape)] | None = None
    attention_axes: Axes | None = None
    use_gate: Flag = False
    dropout: Annotated[float, PlainValidator(_rate)] = 0.0
    flash_attention: Flag | None = None
    return_attention_scores: Flag = False


MHA_INERT = weight_settings("kernel", "bias") | {"seed", "sliding_window"}
GQA_INERT = MHA_INERT | {"dropout", "flash_attention"}
#: The call's tensors, in the order of its inputs.
MHA_TENSORS = ("query", "value", "key")


def _attention_axes(options: MultiHeadAttentionOptions, rank: int, fast: bool) -> tuple[int, ...]:
    """The axes attention runs over, counted on the projected query ``(*query[:-1], heads,
    key_dim)`` as Keras counts them (a negative axis from its last but one); default: every axis
    between the batch and the heads. Keras takes any axis but the last (the batch and the heads
    too). On its ``fast`` path (a 3-D query, no scores, no dropout) it runs
    ``dot_product_attention`` over the steps whatever the axes, once they pass its build."""
    if options.attention_axes is None:
        return tuple(range(1, rank - 1))
    axes = tuple(axis if axis >= 0 else rank + axis for axis in options.attention_axes)
    last = rank if fast else rank - 1
    if (not fast and len(set(axes)) != len(axes)) or not all(0 <= axis <= last for axis in axes):
        raise ShapecalcError(
            f"must name distinct axes of the projected query, 0 to {rank - 1} (or -{rank} to -1) for a "
            f"{rank}-D query, got {list(options.attention_axes)}",
            option="attention_axes",
        )
    return (1,) if fast else axes


def multi_head_attention(options: MultiHeadAttentionOptions, call: LayerCall) -> LayerOutput:
    """Query, key and value projected to ``num_heads`` heads (EinsumDense each), attention over
    ``attention_axes``, and the heads projected back to ``output_shape`` (default: the query's
    features)."""
    query, value, key = _query_value_key(call)
    rank = len(query)
    if rank < 3:
        require_rank(query, 3, "(batch, ..., features)")
    require_rank(value, rank, f"like the query {format_shape(query)}")
    require_rank(key, rank, f"like the query {format_shape(query)}")
    if options.flash_attention and options.return_attention_scores:
        raise ShapecalcError(
            "cannot return the attention scores with flash_attention (Keras refuses)",
            option="return_attention_scores",
        )
    fast = rank == 3 and not options.return_attention_scores and options.dropout == 0
    axes = _attention_axes(options, rank, fast)
    # The einsum's batch axes: every axis of the projected query but the attended ones and the
    # last (the heads are one unless attended).
    others = [axis for axis in range(rank) if axis not in axes]
    shown_all = f"query {format_shape(query)}, value {format_shape(value)}, key {format_shape(key)}"
    pairs = [(value[i], key[i], f"value and key differ on axis {i}: {shown_all}") for i in range(rank - 1)]
    pairs += [
        (query[i], key[i], f"query and key differ on axis {i}: {shown_all}") for i in others if i < rank - 1
    ]
    conditions = _agree(pairs)
    heads, key_dim = options.num_heads, options.key_dim
    value_dim = options.value_dim if options.value_dim is not None else key_dim
    outputs = options.output_shape or (query[-1],)
    bias = int(options.use_bias)
    projections = [
        (query[-1], heads * key_dim),
        (key[-1], heads * key_dim),
        (value[-1], heads * value_dim),
        *([(query[-1], heads * value_dim)] if options.use_gate else []),
        (heads * value_dim, flat_size(outputs)),
    ]
    params = sum((inputs * units + bias * units for inputs, units in projections), start=0)
    output = (*query[:-1], *outputs)
    shapes: tuple[Shape, ...] = (output,)
    query_steps, key_steps = flat_size(query[:-1]), flat_size(key[:-1])
    projected_query, projected_key = (*query[:-1], heads), (*key[:-1], heads)
    scores = (
        *(projected_query[axis] for axis in others),
        *(projected_query[axis] for axis in axes),
        *(projected_key[axis] for axis in axes),
    )
    macs = (
        query_steps * query[-1] * heads * key_dim
        + key_steps * (key[-1] * heads * key_dim + value[-1] * heads * value_dim)
        + (query_steps * query[-1] * heads * value_dim if options.use_gate else 0)
        + flat_size(scores) * (key_dim + value_dim)
        + query_steps * heads * value_dim * flat_size(outputs)
    )
    if options.return_attention_scores:
        shapes = (output, scores)
    return LayerOutput(shapes, params, macs=macs, constraints=conditions)


class GroupQueryAttentionOptions(Options):
    head_dim: Size
    num_query_heads: Size
    num_key_value_heads: Size
    use_bias: Flag = True
    use_gate: Flag = False
    return_attention_scores: Flag = False


def group_query_attention(options: GroupQueryAttentionOptions, call: LayerCall) -> LayerOutput:
    """``num_query_heads`` query heads share ``num_key_value_heads`` key and value heads; the
    output has the query's shape, the scores ``(batch, num_query_heads, Tq, Tk)``."""
    query, value, key = _query_value_key(call)
    layout = "(batch, steps, features)"
    for shape in (query, value, key):
        require_rank(shape, 3, layout)
    queries, shared, size = options.num_query_heads, options.num_key_value_heads, options.head_dim
    if isinstance(queries, int) and isinstance(shared, int) and queries % shared:
        raise ShapecalcError(
            f"must divide num_query_heads={queries}, got {shared}", option="num_key_value_heads"
        )
    shown_all = f"query {format_shape(query)}, value {format_shape(value)}, key {format_shape(key)}"
    conditions = _agree(
        [
            (query[-1], value[-1], f"query and value differ in features: {shown_all}"),
            (value[1], key[1], f"value and key differ in steps: {shown_all}"),
            (query[0], key[0], f"query and key differ in batch: {shown_all}"),
        ]
    )
    bias = int(options.use_bias)
    features = query[-1]
    projections = [
        (features, queries * size),
        (key[-1], shared * size),
        (value[-1], shared * size),
        *([(features, queries * size)] if options.use_gate else []),
        (queries * size, features),
    ]
    params = sum((inputs * units + bias * units for inputs, units in projections), start=0)
    query_steps, key_steps = query[0] * query[1], key[0] * key[1]
    macs = (
        query_steps * features * queries * size * (2 if options.use_gate else 1)
        + key_steps * (key[-1] + value[-1]) * shared * size
        + query_steps * key[1] * queries * size * 2
        + query_steps * queries * size * features
    )
    shapes: tuple[Shape, ...] = (query,)
    if options.return_attention_scores:
        shapes = (query, (query[0], queries, query[1], key[1]))
    return LayerOutput(shapes, params, macs=macs, constraints=conditions)


RULES = (
    Rule("Attention", attention, AttentionOptions, inert=ATTENTION_INERT, call_options=ATTENTION_CALL),
    Rule(
        "AdditiveAttention",
        additive_attention,
        AdditiveAttentionOptions,
        inert=ATTENTION_INERT,
        call_options=ATTENTION_CALL,
    ),
    Rule(
        "MultiHeadAttention",
        multi_head_attention,
        MultiHeadAttentionOptions,
        inert=MHA_INERT,
        call_tensors=MHA_TENSORS,
        call_options=ATTENTION_CALL,
    ),
    Rule(
        "GroupQueryAttention",
        group_query_attention,
        GroupQueryAttentionOptions,
        inert=GQA_INERT,
        call_tensors=MHA_TENSORS,
        call_options=ATTENTION_CALL,
    ),
)
