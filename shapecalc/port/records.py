"""The records of a port: a :class:`Recipe` of :class:`TargetTensor` s, each filled by
:class:`Part` s that copy, add or zero slices (:class:`Term`) of the source's tensors.

>>> index_text((None, (0, 32))), index_text((1, (96, 128), None)), index_text((None,))
('[:, 0:32]', '[1, 96:128, :]', '[:]')
"""

from __future__ import annotations

from typing import Union

from shapecalc.configs import LayerConfig
from shapecalc.dims import Dim
from shapecalc.record import record

#: One axis of a slice: ``None`` the whole axis, an int one position (the axis goes), or
#: ``(start, stop)``.
Axis = Union[None, int, tuple[Dim, Dim]]  # noqa: UP007 (a runtime alias: Python 3.10 has no | for it)
Index = tuple[Axis, ...]

#: The frameworks' own names, as the table's title writes them.
FRAMEWORK_NAMES = {"keras": "Keras", "torch": "PyTorch", "onnx": "ONNX"}


@record
class Term:
    """A slice of one source tensor, transposed (a 2-D slice) when ``transpose`` is set.

    ``gate`` is the gate's letter in the source convention (``None`` for a gateless cell).
    """

    source: str
    index: Index
    transpose: bool = False
    gate: str | None = None


@record
class Part:
    """One region ``at`` of a target tensor and what fills it: the sum of ``terms`` (one term:
    a copy; none: zeros). ``gate`` is the target's gate letter, ``direction`` the direction's
    index in the source layer (0 forward, 1 backward or reverse)."""

    at: Index
    terms: tuple[Term, ...] = ()
    gate: str | None = None
    direction: int | None = None

    @property
    def zeros(self) -> bool:
        return not self.terms

    @property
    def source(self) -> str:
        """The source tensor this part copies ("" for zeros, the first term's for a sum)."""
        return self.terms[0].source if self.terms else ""


@record
class TargetTensor:
    """One tensor the target framework builds, its shape, and the parts that fill it.

    ``how`` says in a few words how it is made (``transposed, gates i, f, c, o -> i, f, g, o``).
    """

    target: str
    shape: tuple[Dim, ...]
    parts: tuple[Part, ...]
    how: str


@record
class SourceTensor:
    """A tensor the recipe reads, with the shape the source framework gives it."""

    name: str
    shape: tuple[Dim, ...]


@record
class TargetLayer:
    """One layer (or ONNX node) of the target: its class, config and the prefix of its tensor
    names (``""`` for one layer; ``layer0/``, ``layer1/`` ... for a stack)."""

    layer: str
    config: LayerConfig
    prefix: str = ""


@record
class Refusal:
    """Why a source cannot go to framework ``to``: the option that stops it, and the reason."""

    to: str
    option: str
    message: str


@record
class Recipe:
    """How to build every weight of ``target_framework`` from those of ``source_framework``.

    ``layers`` are the target's layers: one, except a stacked PyTorch module, which becomes one
    Keras layer or ONNX node per level. ``refusals`` say which other frameworks this source
    cannot go to, and why.
    """

    cell: str
    source_framework: str
    target_framework: str
    source_layer: str
    source_config: LayerConfig
    layers: tuple[TargetLayer, ...]
    sources: tuple[SourceTensor, ...]
    tensors: tuple[TargetTensor, ...]
    notes: tuple[str, ...] = ()
    refusals: tuple[Refusal, ...] = ()

    @property
    def target_config(self) -> LayerConfig:
        """The target layer's config (the first layer's, for a stack)."""
        return self.layers[0].config

    @property
    def target_configs(self) -> tuple[LayerConfig, ...]:
        return tuple(layer.config for layer in self.layers)

    def tensor(self, target: str) -> TargetTensor:
        """The target tensor named ``target``; ``KeyError`` if the target has none."""
        for tensor in self.tensors:
            if tensor.target == target:
                return tensor
        raise KeyError(target)

    def source_shape(self, name: str) -> tuple[Dim, ...]:
        for source in self.sources:
            if source.name == name:
                return source.shape
        raise KeyError(name)


def axis_text(axis: Axis) -> str:
    """``:``, ``1`` or ``0:32``."""
    if axis is None:
        return ":"
    if isinstance(axis, int):
        return str(axis)
    return f"{axis[0]}:{axis[1]}"


def index_text(index: Index) -> str:
    """A slice as NumPy writes it: ``[:, 0:32]``, ``[1, 96:128]``; ``[:]`` for the whole tensor."""
    return "[" + ", ".join(axis_text(axis) for axis in index) + "]"
