"""Every layer class of a model that shapecalc has no rule for, found before anything runs.

A class is looked for wherever a layer can be: a layer of the model, the layer a wrapper holds,
a ``Bidirectional``'s backward layer, an ``RNN``'s cell and a stack's cells, and the layers of
a nested model (counted under the outer layer that holds it). The engine marks each such layer
unknown (``--skip-unknown``) or names them all in its error.

>>> from shapecalc.model.graph import Call, LayerNode, LayerSpec, ModelGraph, TensorRef
>>> graph = ModelGraph("m", "m.yaml", "shapecalc", (
...     LayerNode(1, "x", LayerSpec("InputLayer"), input_shape=(1, 4)),
...     LayerNode(2, "f", LayerSpec("Lambda"), (Call((TensorRef("x"),)),)),
...     LayerNode(3, "g", LayerSpec("TimeDistributed", {}, LayerSpec("Lambda")), (Call((TensorRef("f"),)),)),
... ), (TensorRef("x"),), (TensorRef("g"),))
>>> [(found.class_name, found.layers) for found in unknown_classes(graph)]
[('Lambda', ('f', 'g'))]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shapecalc.errors import shown
from shapecalc.model.graph import LayerSpec, ModelGraph
from shapecalc.model.layers.registry import MODEL_CLASSES, find_rule
from shapecalc.model.result import UnknownClass

#: Most classes, and layers of each class, an error names before it counts the rest.
NAMED_IN_ERRORS = 5


def unknown_classes(graph: ModelGraph) -> tuple[UnknownClass, ...]:
    """The classes without a rule, in the order they first appear, each with its layers' names."""
    layers: dict[str, dict[str, None]] = {}
    for node in graph.layers:
        if node.input_shape is not None:
            continue
        for class_name in classes_in(node.spec):
            layers.setdefault(class_name, {})[node.name] = None
    return tuple(UnknownClass(name, tuple(names)) for name, names in layers.items())


def classes_in(spec: LayerSpec) -> Iterator[str]:
    """The unknown classes of ``spec``: its own, and those of every layer it holds."""
    if spec.class_name not in MODEL_CLASSES and find_rule(spec.class_name) is None:
        yield spec.class_name
    if isinstance(spec.inner, LayerSpec):
        yield from classes_in(spec.inner)
    elif isinstance(spec.inner, ModelGraph):
        for found in unknown_classes(spec.inner):
            yield found.class_name
    for value in spec.options.values():
        for held in _held(value):
            yield from classes_in(held)


def _held(value: Any) -> Iterator[LayerSpec]:
    """The layers an option value holds (a backward layer, a stack's cells)."""
    if isinstance(value, LayerSpec):
        yield value
    elif isinstance(value, tuple):
        yield from (item for item in value if isinstance(item, LayerSpec))


def listing_text(found: tuple[UnknownClass, ...]) -> str:
    """All the unknown classes, for an error: how many in how many layers, then each with its
    layers (the first few named); ``''`` when one layer is the only one.

    >>> print(listing_text((UnknownClass("A", ("a",)), UnknownClass("B", ("b", "c")))))
    the model has 2 unknown classes in 3 layers: 'A' (layer 'a'), 'B' (layers 'b', 'c')
    """
    layers = len({name for entry in found for name in entry.layers})
    if layers <= 1:
        return ""
    parts = [f"{shown(entry.class_name)} ({_layers_text(entry.layers)})" for entry in found[:NAMED_IN_ERRORS]]
    if len(found) > NAMED_IN_ERRORS:
        parts.append(f"and {len(found) - NAMED_IN_ERRORS} more")
    classes = f"{len(found)} unknown class{'es' if len(found) != 1 else ''}"
    return f"the model has {classes} in {layers} layers: {', '.join(parts)}"


def _layers_text(layers: tuple[str, ...]) -> str:
    names = [shown(name) for name in layers[:NAMED_IN_ERRORS]]
    if len(layers) > NAMED_IN_ERRORS:
        names.append(f"{len(layers) - NAMED_IN_ERRORS} more")
    return f"layer{'s' if len(layers) > 1 else ''} {', '.join(names)}"
