"""What a recurrent layer costs to run: MACs, FLOPs and bytes, from the engine's tensors.

Counting rules (docs/costs.md gives the derivation):

* ``macs``: multiply-accumulates of the weight products only. Every element of
  a kernel (input, recurrent or projection weight) is used once per output
  position, per time step and per batch element, so
  ``macs = batch * timesteps * positions * (sum of kernel elements)``, where
  ``positions`` is 1 for dense cells and the output grid size for ConvLSTM.
* ``flops``: ``2 * macs`` (a multiply and an add each) plus one add per bias
  element used, plus the cell table's element-wise operations
  (:attr:`shapecalc.cells.CellSpec.elementwise_ops`) for every unit, position, step, batch element, layer
  and direction; an ONNX peephole adds a product and a sum to its gate.
* ``weight_bytes``: parameters x the dtype's item size.
* ``activation_bytes``: the gate activations and states of one time step (every
  layer and direction), and of the whole sequence, which is what training keeps
  for backpropagation through time.

>>> from shapecalc.api import shapes
>>> costs = shapes("lstm", units=32, input_dim=20).costs
>>> costs.macs, costs.flops
(Expr('batch*timestep*6656'), Expr('batch*timestep*13728'))
>>> costs.weight_bytes
27136
"""

from __future__ import annotations

from typing import Any

from shapecalc.configs import LayerConfig
from shapecalc.dims import Dim, product, to_json
from shapecalc.errors import ShapecalcError
from shapecalc.record import record
from shapecalc.result import LayerResult, Tensor

#: Bytes per element of each supported dtype.
ITEMSIZES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
DTYPES = tuple(ITEMSIZES)


@record
class Costs:
    """The cost figures of one layer; sizes stay symbolic where the config is."""

    dtype: str
    macs: Dim
    flops: Dim
    weight_bytes: Dim
    step_bytes: Dim
    sequence_bytes: Dim
    #: The same activations as element counts (every layer and direction), for totals in any dtype.
    step_elements: Dim = 0
    sequence_elements: Dim = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype,
            "macs": to_json(self.macs),
            "flops": to_json(self.flops),
            "weight_bytes": to_json(self.weight_bytes),
            "activation_bytes": {"step": to_json(self.step_bytes), "sequence": to_json(self.sequence_bytes)},
        }


def itemsize(dtype: str) -> int:
    """Bytes per element of ``dtype``; a :class:`ShapecalcError` names the option otherwise.

    >>> itemsize("bfloat16")
    2
    """
    if dtype not in ITEMSIZES:
        raise ShapecalcError(f"must be one of {', '.join(DTYPES)}, got {dtype!r}", option="dtype")
    return ITEMSIZES[dtype]


def _stored_elements(result: LayerResult, tensors: list[Tensor]) -> Dim:
    """The elements of the stored weights ``tensors`` are or are slices of, each weight once.

    ONNX keeps both directions in one tensor, which the two cells share.
    """
    names = dict.fromkeys(tensor.slice_of or tensor.name for tensor in tensors)
    total: Dim = 0
    for tensor in result.tensors:
        if tensor.name in names:
            total = total + tensor.params
    return total


def layer_costs(result: LayerResult, config: LayerConfig, dtype: str = "float32") -> Costs:
    """MACs, FLOPs and bytes of the layer ``result`` was derived from ``config``.

    A packed input runs each sequence for its own length only: the cells are evaluated
    ``sum(lengths)`` times per layer and direction, not over the padded rectangle.
    """
    size = itemsize(dtype)
    steps = config.timesteps
    first = result.cells[0]
    grid = first.convolution.grid if first.convolution is not None else ()
    kernel_elements = _stored_elements(result, [t for cell in result.cells for t in cell.kernels])
    bias_elements = _stored_elements(result, [t for cell in result.cells for t in cell.biases])
    cells = len(result.cells)
    step_tensors = (*(gate.tensor for gate in first.gates), *first.states)
    step_elements: Dim = 0
    if result.packing is None:
        uses = config.batch * steps * product(grid)
        unit_steps = product(first.unit_tensor.shape) * steps
        for tensor in step_tensors:
            step_elements = step_elements + product(tensor.shape)
        sequence_elements = step_elements * steps
    else:
        # Per sequence step: the step tensors without their batch axis (batch_sizes[0] rows).
        evaluations = result.packing.total
        uses = evaluations
        unit_steps = product(first.unit_tensor.shape[1:]) * evaluations
        row_elements: Dim = 0
        for tensor in step_tensors:
            step_elements = step_elements + product(tensor.shape)
            row_elements = row_elements + product(tensor.shape[1:])
        sequence_elements = row_elements * evaluations
    macs = kernel_elements * uses
    elementwise = first.spec.elementwise_ops + 2 * sum(gate.peephole is not None for gate in first.gates)
    flops = 2 * macs + bias_elements * uses + elementwise * unit_steps * cells
    return Costs(
        step_elements=step_elements * cells,
        sequence_elements=sequence_elements * cells,
        dtype=dtype,
        macs=macs,
        flops=flops,
        weight_bytes=result.params * size,
        step_bytes=step_elements * cells * size,
        sequence_bytes=sequence_elements * cells * size,
    )
