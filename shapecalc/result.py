"""The result model every rule returns and every renderer reads.

>>> t = Tensor("bias", "weight", (128,), params=128)
>>> t.to_json()["shape"]
[128]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from shapecalc.dims import Dim, to_json
from shapecalc.record import field, record

if TYPE_CHECKING:
    from shapecalc.costs import Costs
    from shapecalc.explain import Explanation
    from shapecalc.views import CellView

SCHEMA_VERSION = 1

#: What each tensor is, in the order the table groups them.
ROLES = ("input", "weight", "weight_slice", "gate", "state", "output")


@record
class Tensor:
    """One tensor inside a layer.

    ``params`` is the element count for trainable weights and 0 for everything
    else, so the tensors' params add up to the layer's. A ``weight_slice`` is one
    gate's part of a fused weight: ``slice_of`` names the weight and ``index``
    the slice (``[:, 0:32]``).
    """

    name: str
    role: str
    shape: tuple[Dim, ...]
    params: Dim = 0
    description: str = ""
    slice_of: str | None = None
    gate: str | None = None
    index: str | None = None

    def __init__(
        self,
        name: str,
        role: str,
        shape: tuple[Dim, ...],
        params: Dim = 0,
        description: str = "",
        slice_of: str | None = None,
        gate: str | None = None,
        index: str | None = None,
    ) -> None:
        # Written out rather than generated: batch mode builds a few hundred thousand tensors.
        self.__dict__.update(
            name=name,
            role=role,
            shape=shape,
            params=params,
            description=description,
            slice_of=slice_of,
            gate=gate,
            index=index,
        )

    def to_json(self) -> dict[str, Any]:
        params = self.params
        out: dict[str, Any] = {
            "name": self.name,
            "role": self.role,
            # to_json inlined: batch mode writes a few hundred thousand of these
            "shape": [d if isinstance(d, int) else str(d) for d in self.shape],
            "params": params if isinstance(params, int) else str(params),
        }
        if self.description:
            out["description"] = self.description
        if self.slice_of is not None:
            out["slice_of"] = self.slice_of
            out["gate"] = self.gate
            out["index"] = self.index
        return out


@record
class PackedShapes:
    """The tensors of one ``PackedSequence``: ``sorted_indices`` and ``unsorted_indices`` are
    ``None`` when ``pack_padded_sequence`` ran with ``enforce_sorted=True``."""

    data: tuple[Dim, ...]
    batch_sizes: tuple[Dim, ...]
    sorted_indices: tuple[Dim, ...] | None = None
    unsorted_indices: tuple[Dim, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        def shape(value: tuple[Dim, ...] | None) -> list[Any] | None:
            return None if value is None else [to_json(d) for d in value]

        return {
            "data": shape(self.data),
            "batch_sizes": shape(self.batch_sizes),
            "sorted_indices": shape(self.sorted_indices),
            "unsorted_indices": shape(self.unsorted_indices),
        }


@record
class Packing:
    """What ``pack_padded_sequence(input, lengths, ...)`` makes and the module returns.

    ``lengths`` is the canonical text (``7,3,1``, ``100x16``); ``batch_sizes`` is run-length
    encoded as ``(size, steps)`` pairs, so it stays as short as the lengths however long they
    are. ``padded_input`` is the rectangle packed, ``padded_output`` what
    ``pad_packed_sequence(output)`` gives back.

    >>> Packing("3,1", 2, 4, 3, True, ((2, 1), (1, 2)), (3, 2, 5), PackedShapes((4, 5), (3,)),
    ...         PackedShapes((4, 8), (3,)), (3, 2, 8)).to_json()["batch_sizes"]
    [[2, 1], [1, 2]]
    """

    lengths: str
    sequences: int
    total: int
    steps: int
    enforce_sorted: bool
    batch_sizes: tuple[tuple[int, int], ...]
    padded_input: tuple[Dim, ...]
    input: PackedShapes
    output: PackedShapes
    padded_output: tuple[Dim, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "lengths": self.lengths,
            "sequences": self.sequences,
            "total": self.total,
            "steps": self.steps,
            "enforce_sorted": self.enforce_sorted,
            "batch_sizes": [[size, steps] for size, steps in self.batch_sizes],
            "padded_input": [to_json(d) for d in self.padded_input],
            "input": self.input.to_json(),
            "output": self.output.to_json(),
            "padded_output": [to_json(d) for d in self.padded_output],
        }


@record
class LayerResult:
    """Everything shapecalc derived for one layer."""

    layer: str
    framework: str
    config: dict[str, Any]
    summary: str
    tensors: tuple[Tensor, ...]
    outputs: tuple[str, ...]
    params: Dim
    gate_order: str = ""
    constraints: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: One typed view per layer and direction (``shapecalc.views``); not part of the JSON.
    cells: tuple[CellView, ...] = field(default=(), repr=False)
    #: MACs, FLOPs and bytes (``shapecalc.costs``), set by ``derive``.
    costs: Costs | None = None
    #: The per-timestep equations (``shapecalc.explain``), set by ``derive(..., explain=True)``.
    explanation: Explanation | None = None
    #: The initial states a PyTorch module takes (``h_0``, ``c_0``), given when the call is
    #: unbatched or packed (their rank or batch differ from the plain batch's).
    initial_states: tuple[Tensor, ...] = ()
    #: The ``PackedSequence`` in and out of a PyTorch module called with packed lengths.
    packing: Packing | None = None

    def tensor(self, name: str) -> Tensor:
        """The tensor called ``name``; ``KeyError`` if there is none."""
        for tensor in self.tensors:
            if tensor.name == name:
                return tensor
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """The JSON contract (schema_version 1), as documented in docs/json.md."""
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "layer": self.layer,
            "framework": self.framework,
            "config": self.config,
            "gate_order": list(self.gate_order),
            "tensors": [t.to_json() for t in self.tensors],
            "outputs": list(self.outputs),
            "params": to_json(self.params),
            "constraints": list(self.constraints),
            "notes": list(self.notes),
        }
        if self.initial_states:
            out["initial_states"] = [t.to_json() for t in self.initial_states]
        if self.packing is not None:
            out["packed"] = self.packing.to_json()
        if self.costs is not None:
            out.update(self.costs.to_json())
        if self.explanation is not None:
            out.update(self.explanation.to_json())
        return out


def total_params(tensors: Iterable[Tensor]) -> Dim:
    """The layer's parameter count: its tensors' params (0 for everything but weights) added up.

    >>> total_params([Tensor("kernel", "weight", (4, 8), params=32), Tensor("h", "state", (1, 8))])
    32
    """
    total: Dim = 0
    for tensor in tensors:
        total = total + tensor.params
    return total
