"""Pieces every recurrent rule shares: fused weights with per-gate slices, and
the cell summary a rule hands to the sequence assembler.

>>> [t.name for t in fused_weight("bias", (), "ifco", 32, "weight")][:2]
['bias', 'bias_i']
"""

from __future__ import annotations

from dataclasses import dataclass

from shapecalc.dims import Dim, product
from shapecalc.result import Tensor

#: Gate letters per cell, in the order the frameworks fuse them (data, not code).
KERAS_GATES = {"lstm": "ifco", "gru": "zrh", "rnn": ""}
TORCH_GATES = {"lstm": "ifgo", "gru": "rzn", "rnn": ""}

GATE_MEANINGS = {
    "i": "input gate",
    "f": "forget gate",
    "c": "candidate cell",
    "g": "candidate cell",
    "o": "output gate",
    "z": "update gate",
    "r": "reset gate",
    "h": "candidate hidden state",
    "n": "new gate (candidate)",
}


@dataclass(frozen=True)
class Cell:
    """What one direction of a recurrent layer holds, before sequence handling.

    ``feature_shape`` is one time step's output without the batch axis:
    ``(units,)`` or ``(rows, cols, filters)``.
    """

    weights: tuple[Tensor, ...]
    gates: tuple[Tensor, ...]
    states: tuple[Tensor, ...]
    feature_shape: tuple[Dim, ...]


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
    gates: str,
    units: Dim,
    description: str,
    fused_axis: str = "last",
) -> list[Tensor]:
    """A weight holding ``len(gates)`` blocks of ``units`` along one axis, and its slices.

    Keras fuses gates along the last axis, PyTorch along the first. With no
    gates (SimpleRNN) the weight has no slices.
    """
    count = max(len(gates), 1)
    fused: Dim = count * units
    shape = (*fixed, fused) if fused_axis == "last" else (fused, *fixed)
    tensors = [Tensor(name, "weight", shape, params=product(shape), description=description)]
    axis = len(shape) - 1 if fused_axis == "last" else 0
    for index, gate in enumerate(gates):
        part = (*fixed, units) if fused_axis == "last" else (units, *fixed)
        tensors.append(
            Tensor(
                f"{name}_{gate}",
                "weight_slice",
                part,
                description=f"{GATE_MEANINGS[gate]} part of {name}",
                slice_of=name,
                gate=gate,
                index=_slice_text(index * units, (index + 1) * units, axis, len(shape)),
            )
        )
    return tensors


def gate_tensors(gates: str, shape: tuple[Dim, ...]) -> tuple[Tensor, ...]:
    """One activation tensor per gate, all of ``shape``."""
    return tuple(Tensor(f"gate_{g}", "gate", shape, description=GATE_MEANINGS[g]) for g in gates)
