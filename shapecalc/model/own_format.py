"""shapecalc's own model files (YAML, TOML or JSON): an input shape and a list of layers.

Layers take the options of the layer commands (``units``, ``filters``,
``kernel``, ``return_sequences``, ...) or, unchanged, the ``config`` of the layer
in a Keras file, plus ``type`` and an optional ``name``.
A stack passes each layer's output to the next; ``inputs`` and
``initial_state`` (``enc[1]``: output 1 of layer ``enc``) connect a graph.

>>> graph = load_own({"input": ["timestep", 20], "layers": [{"type": "lstm", "units": 32}]}, "m.yaml")
>>> [(node.name, node.spec.class_name) for node in graph.layers]
[('input', 'InputLayer'), ('lstm', 'LSTM')]
>>> graph.layers[0].input_shape
(Expr('batch'), Expr('timestep'), 20)
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, Strict, ValidationError

from shapecalc.api import to_dim
from shapecalc.dims import Dim, sym
from shapecalc.errors import ShapecalcError, shown
from shapecalc.geometry import check_positive
from shapecalc.model.graph import (
    MAX_LAYERS,
    Call,
    LayerNode,
    LayerSpec,
    ModelGraph,
    Shape,
    TensorRef,
    unknown_size,
)
from shapecalc.model.keras_format import backward_option, is_keras_document, keras_layer_spec, load_keras
from shapecalc.model.layers.base import LocatedError
from shapecalc.model.layers.registry import MODEL_CLASSES, find_rule, layer_spec
from shapecalc.model.limits import checked_name, layer_place
from shapecalc.model.options import field_path, options_error

#: Keys of a layer entry that are not layer options.
ENTRY_KEYS = ("type", "name", "inputs", "initial_state", "layer", "backward_layer", "cell")
_REF = re.compile(r"(?P<layer>[^\[\]]+)(?:\[(?P<a>\d+)\](?:\[(?P<b>\d+)\])?)?")


def _dim_or_none(value: Any) -> Dim | None:
    if value is None:
        return None
    return check_positive(to_dim(value, "size"), "size")


OptionalDim = Annotated[Any, PlainValidator(_dim_or_none)]
T = TypeVar("T")
#: A list, and only a list: a YAML ``!!set`` has no order, so as a shape its axes would be shuffled.
StrictList = Annotated[list[T], Strict()]


class LayerEntry(BaseModel):
    """One entry of ``layers``; every key besides these is an option of the layer."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    name: str | None = None
    inputs: StrictList[str] | None = None
    initial_state: StrictList[str] | None = None
    layer: dict[str, Any] | None = None
    backward_layer: dict[str, Any] | None = None
    cell: dict[str, Any] | None = None


class ModelFile(BaseModel):
    """The whole file: ``input`` (one frame, without batch) or named ``inputs``, and ``layers``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "model"
    batch: OptionalDim = None
    input: StrictList[OptionalDim] | None = None
    inputs: dict[str, StrictList[OptionalDim]] | None = None
    layers: StrictList[LayerEntry] = Field(min_length=1, max_length=MAX_LAYERS)
    outputs: StrictList[str] | None = None


def load_own(document: Any, source: str) -> ModelGraph:
    """The model a parsed shapecalc model file describes."""
    if not isinstance(document, dict):
        raise ShapecalcError(f"{source}: a model file holds a mapping with 'input' and 'layers'")
    layers = document.get("layers")
    if isinstance(layers, list) and len(layers) > MAX_LAYERS:  # before validating each of them
        raise ShapecalcError(f"{source}: {len(layers):,} layers, more than a model may hold ({MAX_LAYERS:,})")
    try:
        model = ModelFile.model_validate(document)
    except ValidationError as error:
        raise _file_error(error, source) from None
    checked_name(model.name, source)
    batch = model.batch if model.batch is not None else sym("batch")
    nodes = _input_nodes(model, batch, source)
    sequential = len(nodes) == 1
    previous = nodes[0].name
    names = _layer_names(model.layers, {node.name for node in nodes}, source)
    for position, (entry, name) in enumerate(zip(model.layers, names, strict=True), 1):
        where = layer_place(source, position, name)
        spec = _spec(entry, where)
        try:
            inputs = tuple(_ref(text) for text in entry.inputs) if entry.inputs else (TensorRef(previous),)
            states = tuple(_ref(text) for text in entry.initial_state or ())
        except ShapecalcError as error:
            raise LocatedError(error.message, error.option, code=error.code, where=where) from None
        sequential = sequential and not entry.inputs and not entry.initial_state
        nodes.append(LayerNode(position, name, spec, (Call(inputs, states),)))
        previous = name
    try:
        outputs = tuple(_ref(text) for text in model.outputs) if model.outputs else (TensorRef(previous),)
    except ShapecalcError as error:
        raise ShapecalcError(error.message, option=f"{source}: outputs") from None
    inputs = tuple(TensorRef(node.name) for node in nodes if node.input_shape is not None)
    return ModelGraph(model.name, source, "shapecalc", tuple(nodes), inputs, outputs, sequential)


def _input_nodes(model: ModelFile, batch: Dim, source: str) -> list[LayerNode]:
    first = model.layers[0].type
    rule = find_rule(first, own_format=True)
    consumers = {rule.class_name if rule else first}
    if (model.input is None) == (model.inputs is None):
        raise ShapecalcError(
            f"{source}: give 'input' (one shape) or 'inputs' (named shapes), not both or neither"
        )
    named = model.inputs if model.inputs is not None else {"input": model.input or []}
    nodes = []
    for number, (name, dims) in enumerate(named.items(), 1):
        if not dims:
            raise ShapecalcError(f"{source}: input {shown(name)} needs at least one size besides the batch")
        shape = _shape(batch, dims, number, consumers)
        nodes.append(LayerNode(0, name, LayerSpec("InputLayer"), input_shape=shape))
    return nodes


def _shape(batch: Dim, dims: list[Dim | None], number: int, consumers: set[str]) -> Shape:
    """``null`` sizes are named as in Keras files (:func:`unknown_size`)."""
    rank = len(dims) + 1
    return (
        batch,
        *(
            unknown_size(axis, rank, number, consumers) if size is None else size
            for axis, size in enumerate(dims, 1)
        ),
    )


def _spec(entry: LayerEntry, where: str) -> LayerSpec:
    options = dict(entry.model_extra or {})
    if entry.type in MODEL_CLASSES:
        # A Keras model's config pasted as a layer's options: read as in a Keras file.
        return LayerSpec(entry.type, {}, load_keras({"class_name": entry.type, "config": options}, where))
    held = entry.layer if entry.cell is None else entry.cell
    inner = None if held is None else _wrapped(held, where)
    if inner is not None and entry.backward_layer is not None:
        options.update(backward_option(inner, _wrapped(entry.backward_layer, where)))
    cells = options.get("cells")
    if isinstance(cells, list):  # a StackedRNNCells' cells, each an entry or a Keras layer
        options["cells"] = tuple(_wrapped(cell, where) if isinstance(cell, dict) else cell for cell in cells)
    # With a cell, 'rnn' is Keras' RNN(cell=...), not the layer commands' SimpleRNN.
    return layer_spec(entry.type, options, inner, own_format=entry.cell is None)


def _wrapped(document: dict[str, Any], where: str) -> LayerSpec:
    """The layer a wrapper holds: an entry like the others, or a Keras layer (as in a Keras config)."""
    if is_keras_document(document):
        return keras_layer_spec(document, where)
    try:
        return _spec(LayerEntry.model_validate(document), where)
    except ValidationError as error:
        problem = options_error(error, "a wrapped layer")
        key = f"layer.{problem.option}"
        raise LocatedError(problem.message, key, code=problem.code, where=where) from None


def _layer_names(entries: list[LayerEntry], taken: set[str], source: str) -> list[str]:
    """Given names, or Keras-style ones (``lstm``, ``lstm_1``, ...) for layers without."""
    used = set(taken)
    for position, entry in enumerate(entries, 1):
        if entry.name:
            checked_name(entry.name, f"{source}: layer {position}")
        if entry.name and entry.name in used:
            raise ShapecalcError(
                f"the name {shown(entry.name)} is taken", option=f"{source}: layer {position}"
            )
        if entry.name:
            used.add(entry.name)
    counters: dict[str, int] = {}
    names = []
    for entry in entries:
        if entry.name:
            names.append(entry.name)
            continue
        rule = find_rule(entry.type, own_format=entry.cell is None)
        base = snake_case(rule.class_name if rule else entry.type)
        name = base
        while name in used:
            counters[base] = counters.get(base, 0) + 1
            name = f"{base}_{counters[base]}"
        used.add(name)
        names.append(name)
    return names


@cache
def snake_case(class_name: str) -> str:
    """Keras' default layer name for a class: ``MaxPooling2D`` -> ``max_pooling2d``.

    >>> snake_case("ConvLSTM2D"), snake_case("LSTM")
    ('conv_lstm2d', 'lstm')
    """
    name = re.sub(r"\W+", "", class_name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _ref(text: str) -> TensorRef:
    """``enc`` (output 0), ``enc[1]`` (output 1) or ``enc[0][1]`` (call 0, output 1)."""
    match = _REF.fullmatch(text.strip())
    if not match:
        raise ShapecalcError(f"{shown(text)} is not a tensor reference (use name, name[1] or name[0][1])")
    first, second = match.group("a"), match.group("b")
    if second is not None:
        return TensorRef(match.group("layer"), int(first), int(second))
    return TensorRef(match.group("layer"), 0, int(first or 0))


def _file_error(error: ValidationError, source: str) -> ShapecalcError:
    """A structural problem of the file: ``m.yaml: layer 3: type is required``."""
    first = error.errors(include_url=False)[0]
    location = list(first["loc"])
    where = source
    if len(location) >= 2 and location[0] == "layers" and isinstance(location[1], int):
        where = f"{source}: layer {location[1] + 1}"
        location = location[2:]
    problem = options_error(error, "a model file", sorted(ModelFile.model_fields))
    field = field_path(location)
    message = f"{field} {problem.message}" if field else problem.message
    return ShapecalcError(message, option=where)
