"""A model as the engine sees it: layers, the calls that connect them, inputs and outputs.

Both file formats (shapecalc's own and Keras') load into a :class:`ModelGraph`;
the engine walks it. Options are kept as given, in shapecalc's spelling; each
layer's rule validates them.

>>> ref = TensorRef("encoder", 0, 1)
>>> str(ref)
'encoder[0][1]'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shapecalc.dims import Dim

Shape = tuple[Dim, ...]


@dataclass(frozen=True)
class TensorRef:
    """Output ``index`` of call ``node`` of layer ``layer`` (Keras' ``keras_history``)."""

    layer: str
    node: int = 0
    index: int = 0

    def __str__(self) -> str:
        return f"{self.layer}[{self.node}][{self.index}]"


@dataclass(frozen=True)
class LayerSpec:
    """What a layer is: its class as the file names it, its options, and a wrapped layer or model."""

    class_name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    inner: LayerSpec | ModelGraph | None = None


@dataclass(frozen=True)
class Call:
    """One call of a layer: the tensors it takes, and the initial states of a recurrent layer."""

    inputs: tuple[TensorRef, ...]
    initial_state: tuple[TensorRef, ...] = ()


@dataclass(frozen=True)
class LayerNode:
    """A layer in a model: ``position`` counts from 1 in file order (0 inside a wrapper)."""

    position: int
    name: str
    spec: LayerSpec
    calls: tuple[Call, ...] = ()
    input_shape: Shape | None = None


@dataclass(frozen=True)
class ModelGraph:
    """A whole model. ``source`` (the file name) prefixes every error message;
    ``format`` is ``keras`` or ``shapecalc``; ``class_name`` is Keras' (``Sequential``, ``Functional``)."""

    name: str
    source: str
    format: str
    layers: tuple[LayerNode, ...]
    inputs: tuple[TensorRef, ...]
    outputs: tuple[TensorRef, ...]
    sequential: bool = True
    class_name: str = "Sequential"
