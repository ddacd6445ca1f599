"""The result of a whole model: one row per layer, then totals, and its JSON contract.

>>> from shapecalc.dims import sym
>>> row = LayerRow(1, "dense", "Dense", ((sym("batch"), 4),), params=36)
>>> row.to_json()["output_shape"]
['batch', 4]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapecalc.costs import itemsize
from shapecalc.dims import Dim, to_json
from shapecalc.model.graph import Shape, TensorRef
from shapecalc.model.layers.unknowable import reason
from shapecalc.result import SCHEMA_VERSION, LayerResult

OK, UNKNOWN_CLASS, UNKNOWN_INPUT = "ok", "unknown class", "unknown input"


@dataclass(frozen=True)
class UnknownClass:
    """A layer class of the model without a shape rule, the layers that are or hold one, and why.

    >>> UnknownClass("Lambda", ("lambda",)).to_json()["layers"]
    ['lambda']
    """

    class_name: str
    layers: tuple[str, ...]

    @property
    def reason(self) -> str:
        return reason(self.class_name)

    def to_json(self) -> dict[str, Any]:
        return {"class": self.class_name, "layers": list(self.layers), "reason": self.reason}


def shape_json(shapes: tuple[Shape, ...] | None) -> Any:
    """One shape as a list of dims; several as a list of shapes; unknown as ``None``."""
    if shapes is None:
        return None
    if len(shapes) == 1:
        return [to_json(d) for d in shapes[0]]
    return [[to_json(d) for d in shape] for shape in shapes]


def _count_json(value: Dim | None) -> int | str | None:
    return None if value is None else to_json(value)


@dataclass(frozen=True)
class LayerRow:
    """One layer of the model table. ``shapes`` and ``params`` are ``None`` when unknown;
    ``ignored_options`` names the options given that cannot change a shape (``layer.activation``
    for a wrapped layer's)."""

    position: int
    name: str
    class_name: str
    shapes: tuple[Shape, ...] | None
    params: Dim | None = 0
    non_trainable: Dim = 0
    macs: Dim | None = 0
    connected_to: tuple[TensorRef, ...] = ()
    detail: LayerResult | None = None
    status: str = OK
    constraints: tuple[str, ...] = ()
    ignored_options: tuple[str, ...] = ()
    #: FLOPs (``None``: not counted) and activation elements per step and per sequence.
    flops: Dim | None = 0
    activations: tuple[Dim, Dim] = (0, 0)

    def to_json(self, detail: bool = False) -> dict[str, Any]:
        """This row as JSON; ``detail`` adds a recurrent layer's single-layer result."""
        out: dict[str, Any] = {
            "index": self.position,
            "name": self.name,
            "class": self.class_name,
            "output_shape": shape_json(self.shapes),
            "params": _count_json(self.params),
            "non_trainable_params": to_json(self.non_trainable),
            "macs": _count_json(self.macs),
            "flops": _count_json(self.flops),
            "connected_to": [str(ref) for ref in self.connected_to],
        }
        if self.status != OK:
            out["status"] = self.status
        if self.constraints:
            out["constraints"] = list(self.constraints)
        if self.ignored_options:
            out["ignored_options"] = list(self.ignored_options)
        if detail and self.detail is not None:
            out["detail"] = self.detail.to_json()
        return out


@dataclass(frozen=True)
class ModelResult:
    """Every layer's output shapes and counts, and the model's totals.

    ``macs`` is ``None`` when some layer's MACs are not counted; ``params``
    leaves out rows whose shapes are unknown (``complete`` says whether any are).
    """

    name: str
    source: str
    format: str
    sequential: bool
    rows: tuple[LayerRow, ...]
    inputs: tuple[Shape, ...]
    outputs: tuple[Shape | None, ...]
    params: Dim
    non_trainable: Dim
    macs: Dim | None
    dtype: str = "float32"
    constraints: tuple[str, ...] = ()
    #: FLOPs (``None`` when some layer's are not counted), and the recurrent layers' activation
    #: elements of one time step and of the whole sequence (what training keeps).
    flops: Dim | None = None
    activations: tuple[Dim, Dim] = (0, 0)
    #: Every layer class without a shape rule, with the layers that are or hold one.
    unknown_classes: tuple[UnknownClass, ...] = ()

    @property
    def activation_bytes(self) -> tuple[Dim, Dim]:
        size = itemsize(self.dtype)
        return self.activations[0] * size, self.activations[1] * size

    @property
    def trainable(self) -> Dim:
        return self.params - self.non_trainable

    @property
    def weight_bytes(self) -> Dim:
        return self.params * itemsize(self.dtype)

    @property
    def unknown(self) -> tuple[LayerRow, ...]:
        return tuple(row for row in self.rows if row.status != OK)

    def to_json(self, detail: bool = False) -> dict[str, Any]:
        """The model JSON contract (schema_version 1); ``detail`` adds each recurrent layer's tensors,
        and ``unknown_classes`` is there when some class has no shape rule."""
        out = {
            "schema_version": SCHEMA_VERSION,
            "model": self.name,
            "source": self.source,
            "format": self.format,
            "inputs": [shape_json((shape,)) for shape in self.inputs],
            "outputs": [shape_json(None if shape is None else (shape,)) for shape in self.outputs],
            "layers": [row.to_json(detail) for row in self.rows],
            "params": to_json(self.params),
            "trainable_params": to_json(self.trainable),
            "non_trainable_params": to_json(self.non_trainable),
            "macs": _count_json(self.macs),
            "flops": _count_json(self.flops),
            "dtype": self.dtype,
            "weight_bytes": to_json(self.weight_bytes),
            "activation_bytes": {
                "step": to_json(self.activation_bytes[0]),
                "sequence": to_json(self.activation_bytes[1]),
            },
            "constraints": list(self.constraints),
            "complete": not self.unknown,
        }
        if self.unknown_classes:
            out["unknown_classes"] = [found.to_json() for found in self.unknown_classes]
        return out
