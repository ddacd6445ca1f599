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

from collections.abc import Callable
from typing import Any

from shapecalc.cells import CELLS, CellSpec
from shapecalc.configs import ConvRecurrentConfig, RecurrentConfig
from shapecalc.dims import Dim
from shapecalc.geometry import conv_output_length, valid_padding_constraint
from shapecalc.record import replace
from shapecalc.result import LayerResult, Tensor
from shapecalc.rules.common import Cell, fused_weight, gate_tensors, layer_result
from shapecalc.views import CellView, Convolution

AXIS_NAMES = {1: ("steps",), 2: ("rows", "cols"), 3: ("depth", "rows", "cols")}


def keras_recurrent(config: RecurrentConfig) -> LayerResult:
    """``keras.layers.LSTM`` / ``GRU`` / ``SimpleRNN`` for one config."""
    spec = CELLS[config.cell]
    keras = spec.keras
    units = config.units
    reset_after = config.cell == "gru" and config.reset_after
    bias: tuple[Tensor, ...] = ()
    if config.use_bias and reset_after:
        bias = fused_weight("bias", (2,), keras, units, "biases: row 0 input, row 1 recurrent")
    elif config.use_bias:
        bias = fused_weight("bias", (), keras, units, "biases b")
    step = (config.batch, units)
    cell = Cell(
        kernel=fused_weight("kernel", (config.input_dim,), keras, units, "input weights W"),
        recurrent_kernel=fused_weight("recurrent_kernel", (units,), keras, units, "recurrent weights U"),
        bias=bias,
        gates=gate_tensors(keras, step),
        states=_states(spec, step),
        feature_shape=(units,),
    )
    input_shape = (config.batch, config.timesteps, config.input_dim)
    notes = []
    if keras.gates:
        notes.append(
            "Keras stores kernels as (in, out) with the gates side by side on the last axis; "
            f"the per-gate W ({units}, {config.input_dim}) of the W·x convention is "
            f"kernel_{keras.order[0]} transposed."
        )
    if config.cell == "gru":
        notes.append(
            "reset_after=True (Keras 3 default): separate input and recurrent biases."
            if config.reset_after
            else "reset_after=False: one bias, reset gate applied before the recurrent product."
        )
    where = {"reset_after": reset_after, "split_bias": bool(bias) and reset_after}
    return assemble(keras.layer_class, config, input_shape, cell, spec, (), tuple(notes), where)


def keras_conv_recurrent(config: ConvRecurrentConfig) -> LayerResult:
    """``keras.layers.ConvLSTM1D`` / ``2D`` / ``3D`` for one config."""
    spec = CELLS["lstm"]
    keras = spec.keras
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
    step = (config.batch, *feature)
    sizes = config.kernel_size
    cell = Cell(
        kernel=fused_weight(
            "kernel", (*sizes, config.channels), keras, filters, "input convolution kernel W"
        ),
        recurrent_kernel=fused_weight(
            "recurrent_kernel", (*sizes, filters), keras, filters, "recurrent convolution kernel U"
        ),
        bias=fused_weight("bias", (), keras, filters, "biases b") if config.use_bias else (),
        gates=gate_tensors(keras, step),
        states=_states(spec, step),
        feature_shape=feature,
    )
    input_shape = (config.batch, config.timesteps, *config.input_shape)
    notes = [
        "The recurrent convolution runs with stride 1 and 'same' padding on the output grid.",
    ]
    if config.bidirectional and config.data_format == "channels_first" and config.merge_mode == "concat":
        notes.append("Bidirectional concatenates on the last axis, even for channels_first.")
    convolution = Convolution(
        tuple(out_spatial), config.strides, config.dilation_rate, config.padding, config.data_format
    )
    layer = keras.conv_classes[config.rank - 1]
    where = {"convolution": convolution}
    return assemble(layer, config, input_shape, cell, spec, tuple(constraints), tuple(notes), where)


def _states(spec: CellSpec, shape: tuple[Dim, ...]) -> tuple[Tensor, ...]:
    meanings = {"hidden_state": "h_t, the step's output", "cell_state": "c_t, the memory cell"}
    return tuple(Tensor(name, "state", shape, description=meanings[name]) for name in spec.states)


def assemble(
    layer: str,
    config: RecurrentConfig | ConvRecurrentConfig,
    input_shape: tuple[Dim, ...],
    cell: Cell,
    spec: CellSpec,
    constraints: tuple[str, ...],
    notes: tuple[str, ...],
    where: dict[str, Any],
) -> LayerResult:
    """Add the input, output, returned states and a ``Bidirectional`` wrapper to a cell.

    ``where`` holds the view fields only the rule knows (``reset_after``, ``convolution``).
    """
    batch = config.batch
    sequence = (batch, config.timesteps) if config.return_sequences else (batch,)
    output_shape = (*sequence, *cell.feature_shape)
    source = Tensor("input", "input", input_shape, description="x, the input sequence")
    tensors: list[Tensor] = [source]
    state_names = [t.name for t in cell.states]

    def view(one: Cell, direction: str, output: Tensor) -> CellView:
        fields = {"layer": 0, "direction": direction, "step_input": source, "time_axis": 1, "output": output}
        return one.view(spec, spec.keras, **fields, **where)

    if not config.bidirectional:
        output = Tensor("output", "output", output_shape, description=_output_text(config))
        tensors += [*cell.weights, *cell.gates, *cell.states, output]
        outputs = ["output"] + (state_names if config.return_state else [])
        views: tuple[CellView, ...] = (view(cell, "forward", output),)
        return layer_result(layer, config, tensors, outputs, views, constraints, notes)

    directions = ("forward", "backward")
    cells = [cell.renamed(_prefix(direction)) for direction in directions]
    for one in cells:
        tensors += [*one.weights, *one.gates, *one.states]
    if config.merge_mode == "none":
        own = [
            Tensor(f"{direction}/output", "output", output_shape, description=f"{direction} output")
            for direction in directions
        ]
        tensors += own
        outputs = [t.name for t in own]
    else:
        merged = output_shape
        if config.merge_mode == "concat":
            merged = (*output_shape[:-1], output_shape[-1] * 2)
        description = f"forward and backward outputs merged by {config.merge_mode}"
        own = [Tensor("output", "output", merged, description=description)] * 2
        tensors.append(own[0])
        outputs = ["output"]
    if config.return_state:
        outputs += [f"{d}/{name}" for d in directions for name in state_names]
    views = tuple(view(one, d, out) for one, d, out in zip(cells, directions, own, strict=True))
    return layer_result(f"Bidirectional({layer})", config, tensors, outputs, views, constraints, notes)


def _output_text(config: RecurrentConfig | ConvRecurrentConfig) -> str:
    return "h_t for every step" if config.return_sequences else "h_t of the last step"


def _prefix(direction: str) -> Callable[[Tensor], Tensor]:
    """Renames a tensor into ``direction``'s namespace, as ``Bidirectional`` does."""

    def prefixed(tensor: Tensor) -> Tensor:
        slice_of = f"{direction}/{tensor.slice_of}" if tensor.slice_of else None
        return replace(tensor, name=f"{direction}/{tensor.name}", slice_of=slice_of)

    return prefixed
