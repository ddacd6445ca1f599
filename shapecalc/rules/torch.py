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

from shapecalc.configs import TorchRecurrentConfig, config_summary, config_to_json
from shapecalc.dims import Dim, product
from shapecalc.result import LayerResult, Tensor, total_params
from shapecalc.rules.common import TORCH_GATES, fused_weight, gate_tensors

MODULE_NAMES = {"lstm": "nn.LSTM", "gru": "nn.GRU", "rnn": "nn.RNN"}


def torch_recurrent(config: TorchRecurrentConfig) -> LayerResult:
    """The parameters, activations and outputs of one PyTorch recurrent module."""
    gates = TORCH_GATES[config.cell]
    hidden = config.hidden_size
    projected = config.proj_size != 0
    out_size: Dim = config.proj_size if projected else hidden
    directions = 2 if config.bidirectional else 1
    batch, steps = config.batch, config.timesteps

    def sequence(features: Dim) -> tuple[Dim, ...]:
        return (batch, steps, features) if config.batch_first else (steps, batch, features)

    tensors: list[Tensor] = [
        Tensor("input", "input", sequence(config.input_size), description="input sequence")
    ]
    for layer in range(config.num_layers):
        layer_input: Dim = config.input_size if layer == 0 else directions * out_size
        for suffix in ("", "_reverse")[:directions]:
            tag = f"l{layer}{suffix}"
            tensors += fused_weight(
                f"weight_ih_{tag}", (layer_input,), gates, hidden, "input-hidden weights", "first"
            )
            tensors += fused_weight(
                f"weight_hh_{tag}", (out_size,), gates, hidden, "hidden-hidden weights", "first"
            )
            if config.use_bias:
                tensors += fused_weight(f"bias_ih_{tag}", (), gates, hidden, "input-hidden bias", "first")
                tensors += fused_weight(f"bias_hh_{tag}", (), gates, hidden, "hidden-hidden bias", "first")
            if projected:
                shape = (config.proj_size, hidden)
                tensors.append(
                    Tensor(
                        f"weight_hr_{tag}",
                        "weight",
                        shape,
                        params=product(shape),
                        description="projection weights",
                    )
                )
    tensors += gate_tensors(gates, (batch, hidden))
    tensors.append(
        Tensor("hidden_state", "state", (batch, out_size), description="h_t of one layer and direction")
    )
    if config.cell == "lstm":
        tensors.append(
            Tensor("cell_state", "state", (batch, hidden), description="c_t of one layer and direction")
        )
    stacked = directions * config.num_layers
    tensors.append(
        Tensor(
            "output",
            "output",
            sequence(directions * out_size),
            description="h_t of the last layer, every step",
        )
    )
    tensors.append(
        Tensor(
            "h_n", "output", (stacked, batch, out_size), description="final h of every layer and direction"
        )
    )
    outputs = ["output", "h_n"]
    if config.cell == "lstm":
        tensors.append(
            Tensor(
                "c_n", "output", (stacked, batch, hidden), description="final c of every layer and direction"
            )
        )
        outputs.append("c_n")
    constraints: tuple[str, ...] = ()
    if projected and not (isinstance(hidden, int) and isinstance(config.proj_size, int)):
        # PyTorch refuses proj_size >= hidden_size; with a name in either, say when it holds.
        constraints = (f"{hidden} >= {config.proj_size + 1}",)
    notes = []
    if gates:
        notes.append(
            f"PyTorch gate order: {', '.join(gates)}; weights are (out, in), gates stacked on axis 0."
        )
    if config.batch_first:
        notes.append(
            "batch_first changes input and output only: h_n and c_n stay (layers*directions, batch, size)."
        )
    return LayerResult(
        layer=MODULE_NAMES[config.cell],
        framework="torch",
        config=config_to_json(config),
        summary=config_summary(config),
        tensors=tuple(tensors),
        outputs=tuple(outputs),
        params=total_params(tensors),
        gate_order=gates,
        constraints=constraints,
        notes=tuple(notes),
    )
