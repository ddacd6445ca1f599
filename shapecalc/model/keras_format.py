"""Keras model configs, read as plain data: what ``model.to_json()`` writes and what a
``.keras`` archive keeps in ``config.json`` (Keras 3, and the Keras 2 layout).

Sequential and Functional models load into a :class:`ModelGraph`; nested models
become layers holding a graph. A ``None`` size becomes a symbol: ``batch`` on
axis 0, ``timestep`` on a sequence's axis 1, ``d1``, ``d2``, ... otherwise; the inputs after the
first get a suffix (``timestep_2``); see :func:`unknown_size`. Nothing here imports Keras.

>>> doc = {"class_name": "Sequential", "config": {"name": "s", "layers": [
...     {"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [None, None, 8]}},
...     {"class_name": "LSTM", "config": {"name": "lstm", "units": 4, "activation": "tanh"}}]}}
>>> graph = load_keras(doc, "s.json")
>>> graph.layers[0].input_shape, dict(graph.layers[1].spec.options), graph.layers[1].spec.ignored
((Expr('batch'), Expr('timestep'), 8), {'units': 4}, ('activation',))
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from shapecalc.dims import MAX_INT, Dim
from shapecalc.errors import ShapecalcError, shown
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
from shapecalc.model.layers.base import Rule
from shapecalc.model.layers.ops import OPS_MODULES, constant_shape, op_class
from shapecalc.model.layers.registry import HELD_KEYS, MODEL_CLASSES, find_rule, layer_spec
from shapecalc.model.limits import checked_name, layer_place

#: Layers that hold a layer (``layer``; an RNN's ``cell``, see ``HELD_KEYS``).
WRAPPERS = ("Bidirectional", "TimeDistributed", "RNN", "SpectralNormalization")
#: Call arguments that carry no tensor shapecalc needs (masks change no shape).
IGNORED_CALL_ARGUMENTS = ("mask", "training", "query_mask", "value_mask", "key_mask", "attention_mask")


def is_keras_document(document: Any) -> bool:
    """Whether parsed JSON looks like a Keras model config (``class_name`` and ``config``)."""
    return isinstance(document, dict) and "class_name" in document and "config" in document


def load_keras(document: Mapping[str, Any], source: str) -> ModelGraph:
    """The model a Keras config describes; ``source`` prefixes every error."""
    class_name = document.get("class_name")
    if class_name == "Sequential":
        return _sequential(document, source)
    if class_name in ("Functional", "Model"):
        return _functional(document, source)
    if class_name == "Pipeline":
        return _pipeline(document, source)
    raise ShapecalcError(
        f"{source}: a Keras {shown(class_name)} is not a model; expected Sequential or Functional"
    )


def named_shape(raw: Any, number: int, consumers: set[str], where: str) -> Shape:
    """A Keras batch shape with ``None`` sizes turned into symbols (see :func:`unknown_size`)."""
    if not isinstance(raw, (list, tuple)) or not raw:
        raise ShapecalcError(f"{where}: the input shape must be a list of sizes, got {shown(raw)}")
    shape: list[Dim] = []
    for axis, size in enumerate(raw):
        if size is None:
            shape.append(unknown_size(axis, len(raw), number, consumers))
        elif isinstance(size, int) and not isinstance(size, bool) and 1 <= size <= MAX_INT:
            shape.append(size)
        else:
            raise ShapecalcError(
                f"{where}: input sizes must be null or integers from 1 to {MAX_INT} (int64), got {shown(raw)}"
            )
    return tuple(shape)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ShapecalcError(
            f"{where}: not a Keras model config (expected a mapping, got {type(value).__name__})"
        )
    return value


def _layers(config: Mapping[str, Any], where: str) -> list[Mapping[str, Any]]:
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise ShapecalcError(f"{where}: not a Keras model config (no 'layers' list)")
    if len(layers) > MAX_LAYERS:
        raise ShapecalcError(f"{where}: {len(layers):,} layers, more than a model may hold ({MAX_LAYERS:,})")
    return [_mapping(layer, where) for layer in layers]


def _class_name(layer: Mapping[str, Any], where: str) -> str:
    name = layer.get("class_name")
    if not isinstance(name, str):
        raise ShapecalcError(f"{where}: a layer's class_name must be text, got {shown(name)}")
    return name


def _name(layer: Mapping[str, Any], position: int, source: str) -> str:
    config = layer.get("config")
    name = layer.get("name") or (config.get("name") if isinstance(config, dict) else None)
    return checked_name(name, f"{source}: layer {position}") if name else f"layer_{position}"


def is_operation(layer: Mapping[str, Any]) -> bool:
    """Whether a Functional graph's entry is a Keras op (``x + y`` on Keras tensors), not a layer."""
    return str(layer.get("module") or "").startswith(OPS_MODULES)


def keras_layer_spec(layer: Mapping[str, Any], where: str) -> LayerSpec:
    """A Keras layer entry as a spec: its class, its config (inert arguments set aside), and
    the layer or model it wraps. A Keras op's class is ``ops.NAME`` (``ops.Add`` is not the
    ``Add`` layer: it broadcasts as NumPy does)."""
    class_name = _class_name(layer, where)
    if is_operation(layer):
        class_name = op_class(class_name)
    config = layer.get("config")
    config = dict(config) if isinstance(config, dict) else {}
    config.pop("name", None)  # the layer's name, as in a shapecalc file: not an option
    if class_name in MODEL_CLASSES:
        return LayerSpec(class_name, {}, load_keras(layer, where))
    inner = None
    if class_name in WRAPPERS:
        wrapped = config.pop(HELD_KEYS.get(class_name, "layer"), None)
        backward = config.pop("backward_layer", None)
        inner = keras_layer_spec(wrapped, where) if isinstance(wrapped, dict) else None
        if inner is not None and isinstance(backward, dict):
            config.update(backward_option(inner, keras_layer_spec(backward, where)))
    cells = config.get("cells")
    if class_name == "StackedRNNCells" and isinstance(cells, list):
        config["cells"] = tuple(keras_layer_spec(_mapping(cell, where), where) for cell in cells)
    return layer_spec(class_name, config, inner)


def backward_option(forward: LayerSpec, backward: LayerSpec) -> dict[str, LayerSpec]:
    """A ``Bidirectional``'s ``backward_layer`` option: none when it is the forward layer run
    backwards (Keras writes one either way; its name and ``go_backwards`` are set aside as inert),
    else the backward layer, which then runs apart."""
    return {} if backward == forward else {"backward_layer": backward}


def _sequential(document: Mapping[str, Any], source: str) -> ModelGraph:
    config = document.get("config")
    # Keras 2.2 wrote a Sequential's config as the bare list of layers.
    config = {"layers": config} if isinstance(config, list) else _mapping(config, source)
    name = checked_name(config.get("name") or "sequential", source)
    nodes: list[LayerNode] = []
    previous: str | None = None
    layers = _layers(config, source)
    classes = [_class_name(layer, source) for layer in layers]
    first = {next((name for name in classes if name != "InputLayer"), "")}
    for position, layer in enumerate(layers, 1):
        layer_name = _name(layer, position, source)
        where = layer_place(source, position, layer_name)
        if layer.get("class_name") == "InputLayer":
            shape = named_shape(_batch_shape(layer, where), 1, first, where)
            nodes.append(LayerNode(position, layer_name, LayerSpec("InputLayer"), input_shape=shape))
            previous = layer_name
            continue
        if previous is None:
            previous = f"{layer_name}_input"
            shape = named_shape(_declared_input(layer, where), 1, first, where)
            nodes.append(LayerNode(0, previous, LayerSpec("InputLayer"), input_shape=shape))
        spec = keras_layer_spec(layer, where)
        nodes.append(LayerNode(position, layer_name, spec, (Call((TensorRef(previous),)),)))
        previous = layer_name
    if previous is None or len(nodes) < 2:
        raise ShapecalcError(f"{source}: the Sequential model has no layers")
    inputs = (TensorRef(nodes[0].name),)
    return ModelGraph(name, source, "keras", tuple(nodes), inputs, (TensorRef(previous),))


def _pipeline(document: Mapping[str, Any], source: str) -> ModelGraph:
    """A ``Pipeline`` (preprocessing layers applied in turn) as the Sequential model it runs as;
    its input is the call's, so the recorded build shape only fixes the rank."""
    config = _mapping(document.get("config"), source)
    layers = _layers(config, source)
    build = document.get("build_config")
    shape = build.get("input_shape") if isinstance(build, dict) else None
    if not isinstance(shape, list) and layers:
        shape = _declared_input(layers[0], source)
    entry = {"class_name": "InputLayer", "config": {"name": "pipeline_input", "batch_shape": shape}}
    sequential = {"name": config.get("name") or "pipeline", "layers": [entry, *layers]}
    graph = _sequential({"class_name": "Sequential", "config": sequential}, source)
    return replace(graph, class_name="Pipeline")


def _batch_shape(layer: Mapping[str, Any], where: str) -> Any:
    config = _mapping(layer.get("config"), where)
    if "batch_shape" in config:
        return config["batch_shape"]
    if "batch_input_shape" in config:
        return config["batch_input_shape"]
    shape = config.get("shape")
    return [None, *shape] if isinstance(shape, list) else None


def _declared_input(layer: Mapping[str, Any], where: str) -> Any:
    """The input shape a Sequential model without an InputLayer recorded on its first layer."""
    config = layer.get("config")
    if isinstance(config, dict) and config.get("batch_input_shape"):
        return config["batch_input_shape"]
    build = layer.get("build_config")
    if isinstance(build, dict) and build.get("input_shape"):
        return build["input_shape"]
    raise ShapecalcError(
        f"{where}: the model records no input shape (it was never built); "
        "give it an Input layer or build it before saving"
    )


def _functional(document: Mapping[str, Any], source: str) -> ModelGraph:
    config = _mapping(document.get("config"), source)
    input_refs = _refs(config.get("input_layers"), source)
    outputs = _refs(config.get("output_layers"), source)
    numbers = {ref.layer: number for number, ref in enumerate(input_refs, 1)}
    layers = _layers(config, source)
    calls: dict[str, tuple[Call, ...]] = {}
    consumers: dict[str, set[str]] = {}
    for position, layer in enumerate(layers, 1):
        layer_name = _name(layer, position, source)
        where = layer_place(source, position, layer_name)
        inbound = layer.get("inbound_nodes") or []
        if not isinstance(inbound, list):
            raise ShapecalcError(f"{where}: inbound_nodes must be a list of calls, got {shown(inbound)}")
        class_name = _class_name(layer, where)
        operation = is_operation(layer)
        rule = find_rule(op_class(class_name) if operation else class_name)
        calls[layer_name] = tuple(_call(node, where, rule, operation) for node in inbound)
        for call in calls[layer_name]:
            for ref in call.inputs:
                consumers.setdefault(ref.layer, set()).add(_class_name(layer, where))
    nodes: list[LayerNode] = []
    for position, layer in enumerate(layers, 1):
        layer_name = _name(layer, position, source)
        where = layer_place(source, position, layer_name)
        if layer.get("class_name") == "InputLayer":
            number = numbers.get(layer_name, 1)
            shape = named_shape(_batch_shape(layer, where), number, consumers.get(layer_name, set()), where)
            nodes.append(LayerNode(position, layer_name, LayerSpec("InputLayer"), input_shape=shape))
            continue
        nodes.append(LayerNode(position, layer_name, keras_layer_spec(layer, where), calls[layer_name]))
    name = checked_name(config.get("name") or "functional", source)
    return ModelGraph(
        name, source, "keras", tuple(nodes), input_refs, outputs, sequential=False, class_name="Functional"
    )


def _refs(value: Any, where: str) -> tuple[TensorRef, ...]:
    """``input_layers`` / ``output_layers``: one ``[name, node, index]`` or a list (or dict) of them."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list) and value and isinstance(value[0], str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ShapecalcError(f"{where}: not a Keras model config (no input or output layers)")
    return tuple(_ref(item, where) for item in _flat_refs(value))


def _flat_refs(value: list[Any]) -> Iterator[Any]:
    """The references in a nested list, in order: Keras nests an output that is a list of tensors
    (an ``RNN`` over ``StackedRNNCells`` returns each cell's states as one item)."""
    for item in value:
        if isinstance(item, list) and item and isinstance(item[0], list):
            yield from _flat_refs(item)
        else:
            yield item


def _ref(item: Any, where: str) -> TensorRef:
    if (
        isinstance(item, list)
        and len(item) >= 3
        and isinstance(item[0], str)
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in item[1:3])
    ):
        return TensorRef(item[0], item[1], item[2])
    raise ShapecalcError(f"{where}: expected a tensor reference [layer, node, index], got {shown(item)}")


def _call(node: Any, where: str, rule: Rule | None = None, operation: bool = False) -> Call:
    """One inbound node: Keras 3's ``{"args", "kwargs"}`` or Keras 2's list of references.

    Tensors the rule takes by name (``key=``) join its inputs in the rule's order; its call
    options (``return_attention_scores``) become the call's options; an op takes only tensors
    and numbers (numbers broadcast like a size-less tensor).
    """
    operation = operation and rule is not None  # an op without a rule is an unknown class
    if isinstance(node, dict):
        args = node.get("args", [])
        inputs = list(_tensors(args, where))
        constants = _constant_shapes(args, where) if operation else ()
        kwargs = node.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            raise ShapecalcError(f"{where}: the call's kwargs must be a mapping, got {shown(kwargs)}")
        states = tuple(_tensors(kwargs.get("initial_state", []), where))
        named = rule.call_tensors if rule else ()
        call_options = rule.call_options if rule else frozenset()
        options: list[tuple[str, Any]] = [("constant_shapes", constants)] if constants else []
        if not inputs and "inputs" not in named:  # ``layer(inputs=x)``: Layer.call's first argument
            inputs = list(_tensors(kwargs.get("inputs"), where))
        for key, value in kwargs.items():
            if key in ("initial_state", *IGNORED_CALL_ARGUMENTS, *named) or (key == "inputs" and inputs):
                continue
            if any(True for _ in _tensors(value, where)):
                raise ShapecalcError(
                    f"{where}: the call argument {shown(key)} takes a tensor, which shapecalc cannot follow"
                )
            if key in call_options:
                options.append((key, value))
            elif operation:
                raise ShapecalcError(f"{where}: the operation's call argument {shown(key)} is not supported")
        for position, key in enumerate(named):
            given = list(_tensors(kwargs.get(key), where))
            if not given:
                continue
            if position != len(inputs) or len(given) != 1:
                raise ShapecalcError(
                    f"{where}: the call passes {shown(key)} after {len(inputs)} tensor(s); "
                    f"the layer takes one tensor each for {', '.join(named)}, in that order"
                )
            inputs.extend(given)
        return Call(tuple(inputs), states, tuple(options))
    if isinstance(node, list):
        return Call(tuple(_ref(item, where) for item in node))
    raise ShapecalcError(f"{where}: unreadable inbound node {shown(node)}")


def _constant_shapes(args: Any, where: str) -> tuple[tuple[int, ...], ...]:
    """The shapes of the constants among an op's arguments (numbers are size-less; a tensor
    comes through its reference); anything else is refused."""
    shapes = []
    for arg in args if isinstance(args, list) else [args]:
        if arg is None or isinstance(arg, (int, float)):
            continue
        kind = arg.get("class_name") if isinstance(arg, dict) else None
        if kind == "__keras_tensor__":
            continue
        config = arg.get("config") if isinstance(arg, dict) else None
        if kind in ("__tensor__", "__numpy__") and isinstance(config, dict):
            try:
                shapes.append(constant_shape(config.get("value")))
            except ShapecalcError as error:
                raise ShapecalcError(f"{where}: {error.message}") from None
            continue
        raise ShapecalcError(f"{where}: the operation's argument {shown(arg)} is not a tensor or a number")
    return tuple(shapes)


def _tensors(value: Any, where: str) -> Iterator[TensorRef]:
    """Every Keras tensor in a call argument, in order."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            history = _mapping(value.get("config"), where).get("keras_history")
            yield _ref(history, where)
            return
        for item in value.values():
            yield from _tensors(item, where)
    elif isinstance(value, list):
        for item in value:
            yield from _tensors(item, where)
