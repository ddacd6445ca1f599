"""What ``shapecalc weights FILE`` found: every tensor, the recurrent layers rebuilt from
them, and the problems (tensors that contradict their own config).

``WeightsResult.to_json()`` is the weights JSON contract (schema version 1, see docs/weights.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shapecalc.result import LayerResult
from shapecalc.weights.tensors import StoredTensor, TensorSummary

if TYPE_CHECKING:
    from shapecalc.configs import LayerConfig

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class GateSlice:
    """One gate's part of a fused weight, in the file's own layout: ``i`` at ``[0:8, :]``."""

    gate: str
    index: str

    def to_json(self) -> dict[str, str]:
        return {"gate": self.gate, "index": self.index}


@dataclass(frozen=True)
class TensorRow:
    """A tensor as listed: the stored tensor, its layer group and its gate slices."""

    tensor: StoredTensor
    group: str
    gates: tuple[GateSlice, ...] = ()

    def to_json(self) -> dict[str, Any]:
        t = self.tensor
        out: dict[str, Any] = {"name": t.name, "shape": list(t.shape), "dtype": t.dtype, "bytes": t.bytes}
        if self.gates:
            out["gates"] = [gate.to_json() for gate in self.gates]
        return out


@dataclass(frozen=True)
class RebuiltLayer:
    """A recurrent layer the tensors determine, derived by the single-layer engine."""

    name: str
    framework: str
    #: What the file cannot carry and so takes the framework's default (``batch_first=False``).
    assumed: tuple[str, ...]
    tensors: tuple[str, ...]
    command: str
    result: LayerResult
    notes: tuple[str, ...] = ()
    #: The config the engine derived it from, and the engine's weight names -> the file's
    #: (what ``shapecalc port FILE`` converts; not part of the JSON).
    config: LayerConfig | None = field(default=None, repr=False, compare=False)
    names: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "framework": self.framework,
            "layer": self.result.layer,
            "assumed": list(self.assumed),
            "config": self.result.config,
            "tensors": list(self.tensors),
            "command": self.command,
            "result": self.result.to_json(),
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass(frozen=True)
class WeightsResult:
    """Everything found in one weights file."""

    file: str
    format: str
    tensors: tuple[TensorRow, ...]
    params: int
    layers: tuple[RebuiltLayer, ...]
    problems: tuple[str, ...] = ()
    others: tuple[TensorSummary, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return sum(row.tensor.bytes for row in self.tensors)

    def to_json(self) -> dict[str, Any]:
        """The weights JSON contract (schema version 1)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "file": self.file,
            "format": self.format,
            "metadata": self.metadata,
            "tensors": [row.to_json() for row in self.tensors],
            "params": self.params,
            "bytes": self.bytes,
            "other_tensors": [summary.to_json() for summary in self.others],
            "layers": [layer.to_json() for layer in self.layers],
            "problems": list(self.problems),
        }
