"""The recurrent family in a model: ``LSTM``, ``GRU``, ``SimpleRNN``, ``ConvLSTM1D/2D/3D`` and
``Bidirectional(...)``, derived by the single-layer engine (:func:`shapecalc.api.build_config`).

The layer's input supplies ``batch``, ``timesteps`` and ``input_dim`` (or the
ConvLSTM frame); the result's ``outputs`` are the layer's outputs, in Keras' order.

>>> from shapecalc.dims import sym
>>> call = LayerCall(((sym("batch"), 10, 20),))
>>> options = RULES[0].options.model_validate({"units": 32, "return_state": True})
>>> out = RULES[0].apply(options, call)
>>> out.shapes, out.params
(((Expr('batch'), 32), (Expr('batch'), 32), (Expr('batch'), 32)), 6784)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import AliasChoices, Field, PlainValidator, create_model

from shapecalc.api import build_config, layer_kind
from shapecalc.configs import SHAPELESS, LayerConfig
from shapecalc.convert import to_size
from shapecalc.dims import format_shape
from shapecalc.errors import ShapecalcError, shown
from shapecalc.model.graph import LayerSpec, ModelGraph, Shape
from shapecalc.model.layers.base import (
    LayerCall,
    LayerOutput,
    Rule,
    require_rank,
    same_size,
)
from shapecalc.model.layers.combined import combine
from shapecalc.model.options import Options, weight_settings
from shapecalc.options import layer_options
from shapecalc.result import LayerResult, Tensor
from shapecalc.rules import derive

#: Keras class -> the layer kind :func:`build_config` knows.
KINDS = {
    "LSTM": "lstm",
    "GRU": "gru",
    "SimpleRNN": "rnn",
    "ConvLSTM1D": "convlstm1d",
    "ConvLSTM2D": "convlstm2d",
    "ConvLSTM3D": "convlstm3d",
}


#: Option-table keys a layer in a model never takes: its input supplies the batch, the
#: sequence length and the frame; the answer's format belongs to the command.
_FROM_THE_INPUT = frozenset(
    {"batch", "timesteps", "input_shape", "framework", "dtype", "explain", "cell", "rank"}
)


def _frozen(value: Any) -> Any:
    """``value`` as given, with lists as tuples: layer options are hashed to memoise the rule."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return tuple((key, _frozen(item)) for key, item in value.items())
    return value


#: An option value as written; the option table's conversions check it.
AsGiven = Annotated[Any, PlainValidator(_frozen)]


def table_schema(kind: str, only: frozenset[str] | None = None, name: str = "") -> type[Options]:
    """The options of Keras class ``kind`` (``lstm``, ``convlstm2d``) in a model file, from the option
    table: every key and alias it has, as given; :func:`shapecalc.api.build_config` converts and
    checks them, so a mistake reads as it does on the command line and in batch mode. ``only``
    keeps those options alone (a cell's), and ``name`` names the schema.

    >>> sorted(table_schema("gru").model_fields)[:4]
    ['bidirectional', 'input_dim', 'merge_mode', 'no_bias']
    >>> sorted(table_schema("gru", only=frozenset({"units", "use_bias"})).model_fields)
    ['no_bias', 'units', 'use_bias']
    """
    layer = layer_kind(kind)
    fields: dict[str, Any] = {}
    for option in layer_options(layer):
        if option.key in _FROM_THE_INPUT or option.key in SHAPELESS or not option.applies_to(layer, "keras"):
            continue
        if only is not None and option.key not in only:
            continue
        fields[option.key] = (AsGiven, Field(None, validation_alias=AliasChoices(*option.keys)))
        if option.negation:
            fields[option.negation] = (AsGiven, None)
    return create_model(name or f"{layer.name.title()}Options", __base__=Options, **fields)


#: Each class's Keras arguments that cannot change a shape or a count (initial values, training
#: behaviour, execution), accepted and listed as ignored.
_RECURRENT_INERT = weight_settings("kernel", "recurrent", "bias") | {
    "activation",
    "dropout",
    "recurrent_dropout",
    "seed",
    "go_backwards",
    "stateful",
    "unroll",
    "zero_output_for_mask",
}
_GATED_INERT = _RECURRENT_INERT | {"recurrent_activation"}
INERT = {
    "SimpleRNN": _RECURRENT_INERT,
    "GRU": _GATED_INERT | {"use_cudnn", "implementation"},
    "LSTM": _GATED_INERT | {"unit_forget_bias", "use_cudnn", "implementation"},
    **{f"ConvLSTM{rank}D": _GATED_INERT | {"unit_forget_bias"} for rank in (1, 2, 3)},
    "Bidirectional": frozenset({"weights"}),
}


@lru_cache(maxsize=4096)
def _derive(config: LayerConfig) -> LayerResult:
    # Deep stacks repeat the same layer on the same input: derive each config once.
    return derive(config)


def run_recurrent(kind: str, options: Options, call: LayerCall, **extra: Any) -> LayerOutput:
    """Derive one recurrent layer on its input and check the initial states it is given."""
    sequence, states = sequence_and_states(call)
    rank = layer_kind(kind).rank
    if not rank:
        require_rank(sequence, 3, "(batch, timesteps, features)")
    else:
        require_rank(sequence, rank + 3, "(batch, timesteps, *frame)")
    given = {name: getattr(options, name) for name in options.model_fields_set - {"input_dim"}}
    given.update(extra, batch=sequence[0], timesteps=sequence[1])
    if not rank:
        given["input_dim"] = _input_dim(options, sequence)
    else:
        given["input_shape"] = sequence[2:]
    result = _derive(build_config(kind, given))
    shapes = tuple(result.tensor(name).shape for name in result.outputs)
    constraints = list(result.constraints) + _check_states(result, states)
    # MACs come from shapecalc.costs, which derive() attaches to the result.
    costs = getattr(result, "costs", None)
    return LayerOutput(
        shapes,
        result.params,
        macs=None if costs is None else costs.macs,
        flops=None if costs is None else costs.flops,
        activations=(0, 0) if costs is None else (costs.step_elements, costs.sequence_elements),
        detail=result,
        constraints=tuple(constraints),
        class_name=result.layer,
    )


def sequence_and_states(call: LayerCall) -> tuple[Shape, tuple[Shape, ...]]:
    """The input sequence, and initial states given as ``initial_state`` or as extra inputs."""
    if not call.inputs:
        raise ShapecalcError("takes one input sequence, got none")
    states = call.initial_state or call.inputs[1:]
    if call.initial_state and len(call.inputs) > 1:
        raise ShapecalcError(f"takes one input sequence, got {len(call.inputs)}")
    return call.inputs[0], states


def _input_dim(options: Options, sequence: Shape) -> Any:
    features = sequence[2]
    stated = getattr(options, "input_dim", None)
    if stated is not None:
        stated = to_size(stated, "input_dim")
        same_size(stated, features, f"input_dim is {stated} but the input is {format_shape(sequence)}")
    return features


def _check_states(result: LayerResult, states: tuple[Shape, ...]) -> list[str]:
    if not states:
        return []
    expected = [t.shape for t in result.tensors if t.role == "state"]
    if len(states) != len(expected):
        raise ShapecalcError(
            f"takes {len(expected)} initial states {', '.join(format_shape(s) for s in expected)}, "
            f"got {len(states)}",
            option="initial_state",
        )
    conditions = []
    for number, (got, want) in enumerate(zip(states, expected, strict=True), 1):
        problem = ShapecalcError(
            f"{number} must be {format_shape(want)}, got {format_shape(got)}", option="initial_state"
        )
        if len(got) != len(want):
            raise problem
        for have, need in zip(got, want, strict=True):
            try:
                _, condition = same_size(have, need, "")
            except ShapecalcError:
                raise problem from None
            if condition:
                conditions.append(condition)
    return conditions


def recurrent_rule(class_name: str) -> Rule:
    kind = KINDS[class_name]

    def apply(options: Options, call: LayerCall) -> LayerOutput:
        return run_recurrent(kind, options, call)

    return Rule(class_name, apply, table_schema(kind), inert=INERT[class_name])


#: Classes a ``Bidirectional`` may hold besides :data:`KINDS`: ``RNN(cell)`` runs through its own rule.
RECURRENT_WRAPPABLE = ("RNN",)
MERGE_MODES = ("concat", "sum", "mul", "ave")


class BidirectionalOptions(Options):
    merge_mode: str | None = "concat"
    #: The backward layer when it differs from the forward one (the file readers drop it when
    #: it is the forward layer run backwards, as Keras writes it by default).
    backward_layer: Any = None


def bidirectional(options: BidirectionalOptions, call: LayerCall) -> LayerOutput:
    """``Bidirectional(layer)``: the wrapped recurrent layer with ``bidirectional`` set; with a
    ``backward_layer`` unlike it (or an ``RNN(cell)``), the two layers run apart and merge."""
    inner = call.inner
    _require_recurrent(inner, "layer")
    backward = options.backward_layer
    if backward is None and isinstance(inner, LayerSpec) and inner.class_name in KINDS:
        merge_mode = options.merge_mode or "none"
        return call.run_inner(call.inputs, call.initial_state, bidirectional=True, merge_mode=merge_mode)
    if options.merge_mode is not None and options.merge_mode not in MERGE_MODES:
        raise ShapecalcError(
            f"must be one of {', '.join(MERGE_MODES)} or null, got {shown(options.merge_mode)}",
            option="merge_mode",
        )
    if backward is not None:
        _require_recurrent(backward, "backward_layer")
    return _two_ways(options.merge_mode, call, backward)


def _require_recurrent(spec: Any, key: str) -> None:
    if isinstance(spec, ModelGraph):
        raise ShapecalcError(f"wraps a recurrent layer, got a {spec.class_name} model", option=key)
    if isinstance(spec, LayerSpec) and spec.class_name not in (*KINDS, *RECURRENT_WRAPPABLE):
        raise ShapecalcError(f"wraps a recurrent layer, got {spec.class_name}", option=key)
    if spec is not None and not isinstance(spec, LayerSpec):
        raise ShapecalcError(f"must be a layer, got {shown(spec)}", option=key)


def _two_ways(merge_mode: str | None, call: LayerCall, backward: LayerSpec | None) -> LayerOutput:
    """The forward and the backward layer on the same input, merged as Keras' ``call`` does:
    the outputs by ``merge_mode``, then the forward states, then the backward ones."""
    sequence, states = sequence_and_states(call)
    half = len(states) // 2  # Keras gives the first half of the initial states to the forward layer
    forward = call.run_inner((sequence,), states[:half])
    if backward is None:
        backward_output = call.run_inner((sequence,), states[half:])
    else:
        backward_output = _run_backward(call, backward, (sequence,), states[half:])
    front, back = forward.shapes[0], backward_output.shapes[0]
    for attribute, same in (
        ("return_state", (len(forward.shapes) > 1) == (len(backward_output.shapes) > 1)),
        ("return_sequences", len(front) == len(back)),
    ):
        if not same:
            raise ShapecalcError(
                f"must have the forward layer's {attribute}, as Keras requires", option="backward_layer"
            )
    merged, conditions = _merged(merge_mode, front, back)
    if merge_mode is None:
        outputs = [
            Tensor("forward/output", "output", front, description="forward output"),
            Tensor("backward/output", "output", back, description="backward output"),
        ]
    else:
        merged_text = f"forward and backward outputs merged by {merge_mode}"
        outputs = [Tensor("output", "output", merged[0], description=merged_text)]
    parts = [("forward/", forward), ("backward/", backward_output)]
    # Each part returns its output, then its states: the whole returns all the states after its outputs.
    states_names = [
        f"{prefix}{name}" for prefix, part in parts if part.detail for name in part.detail.outputs[1:]
    ]
    names = (forward.class_name, backward_output.class_name)
    inside = names[0] if names[0] == names[1] else ", ".join(str(name) for name in names)
    return combine(
        f"Bidirectional({inside})",
        parts,
        (*merged, *forward.shapes[1:], *backward_output.shapes[1:]),
        outputs,
        returns=[t.name for t in outputs] + states_names,
        constraints=conditions,
    )


def _run_backward(
    call: LayerCall, backward: LayerSpec, inputs: tuple[Shape, ...], states: tuple[Shape, ...]
) -> LayerOutput:
    """The backward layer on ``inputs``; its errors name the ``backward_layer`` option."""
    return call.run_held(backward, inputs, states, "backward_layer")


def _merged(mode: str | None, front: Shape, back: Shape) -> tuple[tuple[Shape, ...], list[str]]:
    """The merged output(s) and the conditions under which the two outputs merge."""
    if mode is None:
        return (front, back), []
    kept = front[:-1] if mode == "concat" else front
    conditions = []
    for ours, theirs in zip(kept, back, strict=False):
        try:
            _, condition = same_size(ours, theirs, "")
        except ShapecalcError:
            raise ShapecalcError(
                f"{mode!r} merges outputs of one shape, but the forward layer returns "
                f"{format_shape(front)} and the backward layer {format_shape(back)}",
                option="merge_mode",
            ) from None
        if condition:
            conditions.append(condition)
    if mode == "concat":
        return ((*front[:-1], front[-1] + back[-1]),), conditions
    return (front,), conditions


RULES = (
    *(recurrent_rule(class_name) for class_name in KINDS),
    Rule("Bidirectional", bidirectional, BidirectionalOptions, inert=INERT["Bidirectional"]),
)
