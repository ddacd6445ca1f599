"""Keras 3 rules: ``LSTM``, ``GRU``, ``SimpleRNN`` and ``ConvLSTM1D/2D/3D``,
optionally wrapped in ``Bidirectional``.

Each cell rule describes one direction; :func:`assemble` adds the input, the
sequence output, returned states and the bidirectional wrapper, as Keras does.

>>> from shapecalc.configs import RecurrentConfig
>>> result = keras_recurrent(RecurrentConfig(cell="lstm", units=32, input_dim=20))
>>> result.tensor("kernel").shape, result.params
((20, 128), 6784)
"""

from __future__ import annotations

from dataclasses import replace

from shapecalc.configs import ConvRecurrentConfig, RecurrentConfig, config_summary, config_to_json
from shapecalc.dims import Dim
from shapecalc.geometry import conv_output_length, valid_padding_constraint
from shapecalc.result import LayerResult, Tensor, total_params
from shapecalc.rules.common import KERAS_GATES, Cell, fused_weight, gate_tensors

LAYER_CLASSES = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}
STATE_NAMES = {"lstm": ("hidden_state", "cell_state"), "gru": ("hidden_state",), "rnn": ("hidden_state",)}
AXIS_NAMES = {1: ("steps",), 2: ("rows", "cols"), 3: ("depth", "rows", "cols")}


def keras_recurrent(config: RecurrentConfig) -> LayerResult:
    """``keras.layers.LSTM`` / ``GRU`` / ``SimpleRNN`` for one config."""
    gates = KERAS_GATES[config.cell]
    units = config.units
    weights = fused_weight("kernel", (config.input_dim,), gates, units, "input weights W")
    weights += fused_weight("recurrent_kernel", (units,), gates, units, "recurrent weights U")
    if config.use_bias:
        if config.cell == "gru" and config.reset_after:
            weights += fused_weight("bias", (2,), gates, units, "biases: row 0 input, row 1 recurrent")
        else:
            weights += fused_weight("bias", (), gates, units, "biases b")
    step = (config.batch, units)
    cell = Cell(
        weights=tuple(weights),
        gates=gate_tensors(gates, step),
        states=_states(config.cell, step),
        feature_shape=(units,),
    )
    input_shape = (config.batch, config.timesteps, config.input_dim)
    notes = []
    if gates:
        notes.append(
            "Keras stores kernels as (in, out) with the gates side by side on the last axis; "
            f"the per-gate W ({units}, {config.input_dim}) of the W·x convention is kernel_{gates[0]} transposed."
        )
    if config.cell == "gru":
        notes.append(
            "reset_after=True (Keras 3 default): separate input and recurrent biases."
            if config.reset_after
            else "reset_after=False: one bias, reset gate applied before the recurrent product."
        )
    return assemble(LAYER_CLASSES[config.cell], config, input_shape, cell, gates, (), tuple(notes))


def keras_conv_recurrent(config: ConvRecurrentConfig) -> LayerResult:
    """``keras.layers.ConvLSTM1D`` / ``2D`` / ``3D`` for one config."""
    gates = KERAS_GATES["lstm"]
    filters = config.filters
    constraints: list[str] = []
    out_spatial: list[Dim] = []
    for axis, (length, kernel, stride, dilation) in enumerate(
        zip(config.spatial_shape, config.kernel_size, config.strides, config.dilation_rate, strict=True)
    ):
        if config.padding == "valid":
            condition = valid_padding_constraint(length, kernel, dilation, AXIS_NAMES[config.rank][axis])
            if condition:
                constraints.append(condition)
        out_spatial.append(conv_output_length(length, kernel, stride, config.padding, dilation))
    if config.data_format == "channels_last":
        feature = (*out_spatial, filters)
    else:
        feature = (filters, *out_spatial)
    weights = fused_weight(
        "kernel", (*config.kernel_size, config.channels), gates, filters, "input convolution kernel W"
    )
    weights += fused_weight(
        "recurrent_kernel", (*config.kernel_size, filters), gates, filters, "recurrent convolution kernel U"
    )
    if config.use_bias:
        weights += fused_weight("bias", (), gates, filters, "biases b")
    step = (config.batch, *feature)
    cell = Cell(tuple(weights), gate_tensors(gates, step), _states("lstm", step), feature)
    input_shape = (config.batch, config.timesteps, *config.input_shape)
    notes = [
        "The recurrent convolution runs with stride 1 and 'same' padding on the output grid.",
    ]
    if config.bidirectional and config.data_format == "channels_first" and config.merge_mode == "concat":
        notes.append("Bidirectional concatenates on the last axis, even for channels_first.")
    return assemble(
        f"ConvLSTM{config.rank}D", config, input_shape, cell, gates, tuple(constraints), tuple(notes)
    )


def _states(cell: str, shape: tuple[Dim, ...]) -> tuple[Tensor, ...]:
    meanings = {"hidden_state": "h_t, the step's output", "cell_state": "c_t, the memory cell"}
    return tuple(Tensor(name, "state", shape, description=meanings[name]) for name in STATE_NAMES[cell])


def assemble(
    layer: str,
    config: RecurrentConfig | ConvRecurrentConfig,
    input_shape: tuple[Dim, ...],
    cell: Cell,
    gates: str,
    constraints: tuple[str, ...],
    notes: tuple[str, ...],
) -> LayerResult:
    """Add the input, output, returned states and a ``Bidirectional`` wrapper to a cell."""
    batch = config.batch
    sequence = (batch, config.timesteps) if config.return_sequences else (batch,)
    output_shape = (*sequence, *cell.feature_shape)
    tensors: list[Tensor] = [Tensor("input", "input", input_shape, description="x, the input sequence")]
    state_names = [t.name for t in cell.states]
    if not config.bidirectional:
        tensors += [*cell.weights, *cell.gates, *cell.states]
        tensors.append(Tensor("output", "output", output_shape, description=_output_text(config)))
        outputs = ["output"] + (state_names if config.return_state else [])
        return _result(layer, config, tensors, outputs, gates, constraints, notes)

    directions = ("forward", "backward")
    for direction in directions:
        tensors += [_prefixed(t, direction) for t in (*cell.weights, *cell.gates, *cell.states)]
    if config.merge_mode == "none":
        for direction in directions:
            tensors.append(
                Tensor(f"{direction}/output", "output", output_shape, description=f"{direction} output")
            )
        outputs = [f"{d}/output" for d in directions]
    else:
        merged = output_shape
        if config.merge_mode == "concat":
            merged = (*output_shape[:-1], output_shape[-1] * 2)
        description = f"forward and backward outputs merged by {config.merge_mode}"
        tensors.append(Tensor("output", "output", merged, description=description))
        outputs = ["output"]
    if config.return_state:
        outputs += [f"{d}/{name}" for d in directions for name in state_names]
    return _result(f"Bidirectional({layer})", config, tensors, outputs, gates, constraints, notes)


def _output_text(config: RecurrentConfig | ConvRecurrentConfig) -> str:
    return "h_t for every step" if config.return_sequences else "h_t of the last step"


def _prefixed(tensor: Tensor, direction: str) -> Tensor:
    slice_of = f"{direction}/{tensor.slice_of}" if tensor.slice_of else None
    return replace(tensor, name=f"{direction}/{tensor.name}", slice_of=slice_of)


def _result(
    layer: str,
    config: RecurrentConfig | ConvRecurrentConfig,
    tensors: list[Tensor],
    outputs: list[str],
    gates: str,
    constraints: tuple[str, ...],
    notes: tuple[str, ...],
) -> LayerResult:
    return LayerResult(
        layer=layer,
        framework="keras",
        config=config_to_json(config),
        summary=config_summary(config),
        tensors=tuple(tensors),
        outputs=tuple(outputs),
        params=total_params(tensors),
        gate_order=gates,
        constraints=constraints,
        notes=notes,
    )
