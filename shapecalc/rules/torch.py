"""PyTorch rules: ``nn.LSTM``, ``nn.GRU`` and ``nn.RNN``.

Names follow ``named_parameters()``: ``weight_ih_l0``, ``weight_hh_l0``,
``bias_ih_l0``, ``bias_hh_l0``, ``weight_hr_l0``, with ``_reverse`` for the
backward direction. Gates are fused along the first axis.

>>> from shapecalc.configs import TorchRecurrentConfig
>>> result = torch_recurrent(TorchRecurrentConfig(cell="lstm", hidden_size=32, input_size=20))
>>> result.tensor("weight_ih_l0").shape, result.params
((128, 20), 6912)
"""

from __future__ import annotations

from shapecalc.cells import CELLS
from shapecalc.configs import TorchRecurrentConfig
from shapecalc.dims import Dim, product
from shapecalc.result import LayerResult, Tensor
from shapecalc.rules.common import Cell, fused_weight, gate_tensors, layer_result
from shapecalc.views import CellView


def torch_recurrent(config: TorchRecurrentConfig) -> LayerResult:
    """The parameters, activations and outputs of one PyTorch recurrent module."""
    spec = CELLS[config.cell]
    torch = spec.torch
    hidden = config.hidden_size
    projected = config.proj_size != 0
    out_size: Dim = config.proj_size if projected else hidden
    directions = 2 if config.bidirectional else 1
    batch, steps = config.batch, config.timesteps

    def sequence(features: Dim) -> tuple[Dim, ...]:
        return (batch, steps, features) if config.batch_first else (steps, batch, features)

    source = Tensor("input", "input", sequence(config.input_size), description="input sequence")
    tensors: list[Tensor] = [source]
    # Every layer and direction has its own weights; the activations and states of one
    # cell have the same shapes in all of them, so the table lists them once.
    gates = gate_tensors(torch, (batch, hidden))
    states = [
        Tensor("hidden_state", "state", (batch, out_size), description="h_t of one layer and direction")
    ]
    if config.cell == "lstm":
        states.append(
            Tensor("cell_state", "state", (batch, hidden), description="c_t of one layer and direction")
        )
    cells: list[tuple[int, str, Cell]] = []
    for layer in range(config.num_layers):
        layer_input: Dim = config.input_size if layer == 0 else directions * out_size
        for direction, suffix in (("forward", ""), ("reverse", "_reverse"))[:directions]:
            tag = f"l{layer}{suffix}"
            projection = None
            if projected:
                shape = (config.proj_size, hidden)
                projection = Tensor(
                    f"weight_hr_{tag}",
                    "weight",
                    shape,
                    params=product(shape),
                    description="projection weights",
                )
            cell = Cell(
                kernel=fused_weight(
                    f"weight_ih_{tag}", (layer_input,), torch, hidden, "input-hidden weights", "first"
                ),
                recurrent_kernel=fused_weight(
                    f"weight_hh_{tag}", (out_size,), torch, hidden, "hidden-hidden weights", "first"
                ),
                bias=_bias(config, f"bias_ih_{tag}", "input-hidden bias"),
                recurrent_bias=_bias(config, f"bias_hh_{tag}", "hidden-hidden bias"),
                projection=projection,
                gates=gates,
                states=tuple(states),
            )
            tensors += cell.weights
            cells.append((layer, direction, cell))
    tensors += [*gates, *states]
    stacked = directions * config.num_layers
    output = Tensor(
        "output", "output", sequence(directions * out_size), description="h_t of the last layer, every step"
    )
    final = [
        Tensor(
            "h_n", "output", (stacked, batch, out_size), description="final h of every layer and direction"
        )
    ]
    if config.cell == "lstm":
        final.append(
            Tensor(
                "c_n", "output", (stacked, batch, hidden), description="final c of every layer and direction"
            )
        )
    tensors += [output, *final]
    outputs = [output.name] + [t.name for t in final]

    def view(layer: int, direction: str, cell: Cell) -> CellView:
        # A stacked layer reads the sequence below it, shaped like the module's output.
        return cell.view(
            spec,
            torch,
            layer=layer,
            direction=direction,
            step_input=source if layer == 0 else output,
            time_axis=1 if config.batch_first else 0,
            output=output,
            final_states=tuple(final),
        )

    constraints: tuple[str, ...] = ()
    if projected and not (isinstance(hidden, int) and isinstance(config.proj_size, int)):
        # PyTorch refuses proj_size >= hidden_size; with a name in either, say when it holds.
        constraints = (f"{hidden} >= {config.proj_size + 1}",)
    notes = []
    if torch.gates:
        notes.append(
            f"PyTorch gate order: {', '.join(torch.order)}; weights are (out, in), gates stacked on axis 0."
        )
    if config.batch_first:
        notes.append(
            "batch_first changes input and output only: h_n and c_n stay (layers*directions, batch, size)."
        )
    views = [view(*one) for one in cells]
    return layer_result(torch.layer_class, config, tensors, outputs, views, constraints, tuple(notes))


def _bias(config: TorchRecurrentConfig, name: str, description: str) -> tuple[Tensor, ...]:
    if not config.use_bias:
        return ()
    return fused_weight(name, (), CELLS[config.cell].torch, config.hidden_size, description, "first")
