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

from shapecalc.dims import Dim, Expr, sym

Shape = tuple[Dim, ...]

#: Most layers a model file may hold, in either format (a guard against runaway files).
MAX_LAYERS = 100_000
#: Layer classes whose input's axis 1 is time: an unknown size there is ``timestep``.
TIME_CONSUMERS = frozenset(
    ("LSTM", "GRU", "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "Bidirectional", "TimeDistributed")
)


def unknown_size(axis: int, rank: int, number: int, consumers: set[str]) -> Expr:
    """The symbol for an unknown size (Keras' ``None``) on ``axis`` of input ``number`` (from 1).

    Axis 0 is ``batch``. Axis 1 is ``timestep`` for inputs of rank 2 or 3
    (token ids, feature sequences) and for inputs a recurrent or
    ``TimeDistributed`` layer reads (videos); otherwise it is ``d1`` like every
    other axis (``d2``, ...). Inputs after the first get a suffix: ``timestep_2``.

    >>> unknown_size(1, 5, 1, {"ConvLSTM2D"}), unknown_size(1, 4, 2, {"Conv2D"})
    (Expr('timestep'), Expr('d1_2'))
    """
    if axis == 0:
        return sym("batch")
    timed = axis == 1 and (rank <= 3 or bool(consumers & TIME_CONSUMERS))
    name = "timestep" if timed else f"d{axis}"
    return sym(name if number == 1 else f"{name}_{number}")


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
    """What a layer is: its class, its options, a wrapped layer or model, and the names of the
    options it was given that cannot change a shape (set aside: they never reach its rule)."""

    class_name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    inner: LayerSpec | ModelGraph | None = None
    ignored: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Call:
    """One call of a layer: the tensors it takes, the initial states of a recurrent layer, and
    the call's own options (``reverse``, ``return_attention_scores``), as ``(key, value)`` pairs."""

    inputs: tuple[TensorRef, ...]
    initial_state: tuple[TensorRef, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()


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
