"""Pieces every recurrent rule shares: fused weights with per-gate slices, and
the cell a rule hands to the sequence assembler, which makes its typed view.

>>> from shapecalc.cells import CELLS
>>> [t.name for t in fused_weight("bias", (), CELLS["lstm"].keras, 32, "weight")][:2]
['bias', 'bias_i']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shapecalc.cells import CellSpec, Convention
from shapecalc.configs import LayerConfig, config_summary, config_to_json
from shapecalc.dims import Dim, product
from shapecalc.record import record
from shapecalc.result import LayerResult, Tensor, total_params
from shapecalc.views import CellView, GateView


@record
class Cell:
    """What one direction of a recurrent layer holds, before sequence handling.

    Each weight is the fused tensor followed by its per-gate slices
    (:func:`fused_weight`); ``bias`` and ``recurrent_bias`` are empty without
    bias, and ``recurrent_bias`` is PyTorch's ``bias_hh``. ``feature_shape`` is
    one time step's output without the batch axis: ``(units,)`` or
    ``(rows, cols, filters)``.
    """

    kernel: tuple[Tensor, ...]
    recurrent_kernel: tuple[Tensor, ...]
    bias: tuple[Tensor, ...]
    gates: tuple[Tensor, ...]
    states: tuple[Tensor, ...]
    feature_shape: tuple[Dim, ...] = ()
    recurrent_bias: tuple[Tensor, ...] = ()
    projection: Tensor | None = None

    @property
    def weights(self) -> tuple[Tensor, ...]:
        """Every weight tensor and slice, in the order the framework lists them."""
        tail = (self.projection,) if self.projection is not None else ()
        return (*self.kernel, *self.recurrent_kernel, *self.bias, *self.recurrent_bias, *tail)

    def renamed(self, rename: Callable[[Tensor], Tensor]) -> Cell:
        """The same cell with ``rename`` applied to every tensor (Keras' ``forward/`` prefix)."""

        def each(tensors: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
            return tuple(rename(t) for t in tensors)

        projection = rename(self.projection) if self.projection is not None else None
        return Cell(
            each(self.kernel),
            each(self.recurrent_kernel),
            each(self.bias),
            each(self.gates),
            each(self.states),
            self.feature_shape,
            each(self.recurrent_bias),
            projection,
        )

    def view(self, spec: CellSpec, convention: Convention, **where: Any) -> CellView:
        """The typed view of this cell; ``where`` gives the fields the cell does not know
        (``layer``, ``direction``, ``step_input``, ``time_axis``, ``output``, ...)."""
        gates = tuple(
            GateView(
                gate,
                tensor,
                self.kernel[index + 1],
                self.recurrent_kernel[index + 1],
                self.bias[index + 1] if self.bias else None,
                self.recurrent_bias[index + 1] if self.recurrent_bias else None,
            )
            for index, (gate, tensor) in enumerate(zip(convention.gates, self.gates, strict=True))
        )
        return CellView(
            spec=spec,
            convention=convention,
            kernel=self.kernel[0],
            recurrent_kernel=self.recurrent_kernel[0],
            bias=self.bias[0] if self.bias else None,
            recurrent_bias=self.recurrent_bias[0] if self.recurrent_bias else None,
            projection=self.projection,
            gates=gates,
            states=self.states,
            **where,
        )


def _slice_text(start: Dim, stop: Dim, axis: int, rank: int) -> str:
    span = f"{start}:{stop}"
    if rank == 1:
        return f"[{span}]"
    if axis == 0:
        return f"[{span}]"
    if axis == rank - 1 and rank > 2:
        return f"[..., {span}]"
    return "[" + ", ".join([":"] * axis + [span]) + "]"


def fused_weight(
    name: str,
    fixed: tuple[Dim, ...],
    convention: Convention,
    units: Dim,
    description: str,
    fused_axis: str = "last",
) -> tuple[Tensor, ...]:
    """A weight holding ``len(gates)`` blocks of ``units`` along one axis, and its slices.

    Keras fuses gates along the last axis, PyTorch along the first. With no
    gates (SimpleRNN) the weight has no slices.
    """
    gates = convention.gates
    count = max(len(gates), 1)
    fused: Dim = count * units
    shape = (*fixed, fused) if fused_axis == "last" else (fused, *fixed)
    tensors = [Tensor(name, "weight", shape, params=product(shape), description=description)]
    axis = len(shape) - 1 if fused_axis == "last" else 0
    part = (*fixed, units) if fused_axis == "last" else (units, *fixed)
    for index, gate in enumerate(gates):
        letter = gate.letter
        tensors.append(
            Tensor(
                f"{name}_{letter}",
                "weight_slice",
                part,
                description=f"{gate.meaning} part of {name}",
                slice_of=name,
                gate=letter,
                index=_slice_text(index * units, (index + 1) * units, axis, len(shape)),
            )
        )
    return tuple(tensors)


def gate_tensors(convention: Convention, shape: tuple[Dim, ...]) -> tuple[Tensor, ...]:
    """One activation tensor per gate of ``convention``, all of ``shape``."""
    return tuple(
        Tensor(f"gate_{gate.letter}", "gate", shape, description=gate.meaning) for gate in convention.gates
    )


def layer_result(
    layer: str,
    config: LayerConfig,
    tensors: Sequence[Tensor],
    outputs: Sequence[str],
    cells: Sequence[CellView],
    constraints: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
) -> LayerResult:
    """The result every rule returns: its config echoed, its params added up, its convention's
    framework and gate order read off the cells."""
    convention = cells[0].convention
    return LayerResult(
        layer=layer,
        framework=convention.framework,
        config=config_to_json(config),
        summary=config_summary(config),
        tensors=tuple(tensors),
        outputs=tuple(outputs),
        params=total_params(tensors),
        gate_order=convention.order,
        constraints=constraints,
        notes=notes,
        cells=tuple(cells),
    )
