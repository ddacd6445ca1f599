"""What a recurrent layer costs to run: MACs, FLOPs and bytes, from the engine's tensors.

Counting rules (the README's "Explain and costs" section gives the derivation):

* ``macs``: multiply-accumulates of the weight products only. Every element of
  a kernel (input, recurrent or projection weight) is used once per output
  position, per time step and per batch element, so
  ``macs = batch * timesteps * positions * (sum of kernel elements)``, where
  ``positions`` is 1 for dense cells and the output grid size for ConvLSTM.
* ``flops``: ``2 * macs`` (a multiply and an add each) plus one add per bias
  element used, plus the element-wise cell operations of
  :data:`ELEMENTWISE_OPS` for every unit, position, step, batch element, layer
  and direction.
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

from dataclasses import dataclass
from typing import Any

from shapecalc.configs import ConvRecurrentConfig, LayerConfig, TorchRecurrentConfig
from shapecalc.dims import Dim, product, to_json
from shapecalc.errors import ShapecalcError
from shapecalc.result import LayerResult, Tensor

#: Bytes per element of each supported dtype.
ITEMSIZES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
DTYPES = tuple(ITEMSIZES)

#: Element-wise operations per unit of one cell and step; each activation, ⊙, + and
#: ``1 - z`` counts one. The add joining a gate's input and recurrent products is
#: part of the 2 FLOPs per MAC; bias adds are counted separately.
ELEMENTWISE_OPS = {
    # 3 σ + 1 tanh (gates); c_t = f ⊙ c + i ⊙ c̃: 3; h_t = o ⊙ tanh(c_t): 2
    "lstm": 9,
    # 2 σ + 1 tanh (gates); r ⊙ (...): 1; h_t = z ⊙ h + (1 - z) ⊙ h̃: 4
    "gru": 8,
    # h_t = tanh(...): 1
    "rnn": 1,
}


@dataclass(frozen=True)
class Costs:
    """The cost figures of one layer; sizes stay symbolic where the config is."""

    dtype: str
    macs: Dim
    flops: Dim
    weight_bytes: Dim
    step_bytes: Dim
    sequence_bytes: Dim

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


def layer_costs(result: LayerResult, config: LayerConfig, dtype: str = "float32") -> Costs:
    """MACs, FLOPs and bytes of the layer ``result`` was derived from ``config``."""
    size = itemsize(dtype)
    steps = config.timesteps
    uses = config.batch * steps * _positions(result, config)
    kernel_elements: Dim = 0
    bias_elements: Dim = 0
    for tensor in result.tensors:
        if tensor.role != "weight":
            continue
        if _is_bias(tensor):
            bias_elements = bias_elements + tensor.params
        else:
            kernel_elements = kernel_elements + tensor.params
    cells = _cells(config)
    one_cell = _one_cell(result)
    units = product(_unit_tensor(one_cell).shape)
    macs = kernel_elements * uses
    flops = 2 * macs + bias_elements * uses + ELEMENTWISE_OPS[config.cell] * units * steps * cells
    step_elements: Dim = 0
    for tensor in one_cell:
        step_elements = step_elements + product(tensor.shape)
    step_bytes = step_elements * cells * size
    return Costs(
        dtype=dtype,
        macs=macs,
        flops=flops,
        weight_bytes=result.params * size,
        step_bytes=step_bytes,
        sequence_bytes=step_bytes * steps,
    )


def _is_bias(tensor: Tensor) -> bool:
    return tensor.name.rsplit("/", 1)[-1].startswith("bias")


def _cells(config: LayerConfig) -> int:
    """How many cells run over the sequence: one per layer and direction."""
    directions = 2 if config.bidirectional else 1
    layers = config.num_layers if isinstance(config, TorchRecurrentConfig) else 1
    return directions * layers


def _one_cell(result: LayerResult) -> list[Tensor]:
    """The gates and states of one cell (the first direction's, when there are two)."""
    seen: set[str] = set()
    tensors = []
    for tensor in result.tensors:
        base = tensor.name.rsplit("/", 1)[-1]
        if tensor.role in ("gate", "state") and base not in seen:
            seen.add(base)
            tensors.append(tensor)
    return tensors


def _unit_tensor(one_cell: list[Tensor]) -> Tensor:
    """A tensor with one element per unit and position: a gate, or the state of a gateless cell."""
    gates = [t for t in one_cell if t.role == "gate"]
    return gates[0] if gates else one_cell[0]


def _positions(result: LayerResult, config: LayerConfig) -> Dim:
    """Where each kernel element is applied per step: 1, or the ConvLSTM output grid."""
    if not isinstance(config, ConvRecurrentConfig):
        return 1
    state = _unit_tensor(_one_cell(result)).shape
    grid = state[1:-1] if config.data_format == "channels_last" else state[2:]
    return product(grid)
