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

from collections.abc import Callable

from shapecalc.cells import CELLS
from shapecalc.configs import TorchRecurrentConfig
from shapecalc.dims import Dim, product
from shapecalc.record import replace
from shapecalc.result import LayerResult, PackedShapes, Packing, Tensor
from shapecalc.rules.common import Cell, fused_weight, gate_tensors, layer_result
from shapecalc.views import CellView


def torch_recurrent(config: TorchRecurrentConfig) -> LayerResult:
    """The parameters, activations and outputs of one PyTorch recurrent module.

    With ``unbatched`` the input is one sequence ``(L, H_in)`` and no tensor has a batch
    axis; with ``lengths`` the input is packed (:func:`_packing`) and the module returns
    ``PackedSequence`` data, its per-step tensors shown at their largest, ``batch_sizes[0]`` rows.
    """
    spec = CELLS[config.cell]
    torch = spec.torch
    hidden = config.hidden_size
    projected = config.proj_size != 0
    out_size: Dim = config.proj_size if projected else hidden
    directions = 2 if config.bidirectional else 1
    batch, steps = config.batch, config.timesteps
    lengths = config.lengths
    # Unbatched input is (L, H_in) whatever batch_first says: PyTorch ignores it there.
    batch_first = config.batch_first and not config.unbatched

    def sequence(features: Dim, length: Dim = steps) -> tuple[Dim, ...]:
        if config.unbatched:
            return (length, features)
        return (batch, length, features) if batch_first else (length, batch, features)

    stacked = directions * config.num_layers

    def per_step(size: Dim) -> tuple[Dim, ...]:
        return (size,) if config.unbatched else (batch, size)

    def stacked_state(size: Dim) -> tuple[Dim, ...]:
        return (stacked, size) if config.unbatched else (stacked, batch, size)

    if lengths is not None:
        source = Tensor("input", "input", sequence(config.input_size), description="padded input sequences")
    else:
        source = Tensor("input", "input", sequence(config.input_size), description="input sequence")
    tensors: list[Tensor] = [source]
    # Every layer and direction has its own weights; the activations and states of one
    # cell have the same shapes in all of them, so the table lists them once.
    gates = gate_tensors(torch, per_step(hidden))
    states = [
        Tensor("hidden_state", "state", per_step(out_size), description="h_t of one layer and direction")
    ]
    if config.cell == "lstm":
        states.append(
            Tensor("cell_state", "state", per_step(hidden), description="c_t of one layer and direction")
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
    features = directions * out_size
    every = "every layer and direction"
    if lengths is not None:
        rows = (lengths.total, features)
        output = Tensor("output", "output", rows, description="PackedSequence data: h_t of the last layer")
        every += ", at each sequence's own last step"
    else:
        output = Tensor(
            "output", "output", sequence(features), description="h_t of the last layer, every step"
        )
    final = [Tensor("h_n", "output", stacked_state(out_size), description=f"final h of {every}")]
    if config.cell == "lstm":
        final.append(Tensor("c_n", "output", stacked_state(hidden), description=f"final c of {every}"))
    tensors += [output, *final]
    outputs = [output.name] + [t.name for t in final]
    initial: tuple[Tensor, ...] = ()
    if config.unbatched or lengths is not None:
        # hx: the ranks (unbatched) and the batch (packed) are what these calls change.
        initial = tuple(
            Tensor(f"{t.name[0]}_0", "input", t.shape,
                   description=f"initial {t.name[0]} of every layer and direction (zeros if not given)")
            for t in final
        )  # fmt: skip

    def view(layer: int, direction: str, cell: Cell) -> CellView:
        # A stacked layer reads the sequence below it, shaped like the module's output.
        return cell.view(
            spec,
            torch,
            layer=layer,
            direction=direction,
            step_input=source if layer == 0 else output,
            time_axis=0 if lengths is not None and layer > 0 else 1 if batch_first else 0,
            step_rows=batch if lengths is not None and layer > 0 else None,
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
    if config.unbatched:
        notes.append(
            "unbatched: PyTorch runs the sequence as a batch of one and drops that axis again"
            + ("; batch_first is ignored." if config.batch_first else ".")
        )
    elif config.batch_first:
        notes.append(
            "batch_first changes input and output only: h_n and c_n stay (layers*directions, batch, size)."
        )
    packing = None
    if lengths is not None:
        packing = _packing(config, sequence, features)
        notes.append(
            "packed: step t runs the batch_sizes[t] sequences longer than t; gates and states are shown "
            f"at the first and largest step ({batch} rows)."
        )
    views = [view(*one) for one in cells]
    result = layer_result(torch.layer_class, config, tensors, outputs, views, constraints, tuple(notes))
    if initial or packing is not None:
        result = replace(result, initial_states=initial, packing=packing)
    return result


def _packing(
    config: TorchRecurrentConfig, sequence: Callable[..., tuple[Dim, ...]], features: Dim
) -> Packing:
    """What ``pack_padded_sequence(input, lengths, batch_first, enforce_sorted)`` makes of the padded
    input, and the ``PackedSequence`` the module returns (its sorting indices are its input's)."""
    lengths = config.lengths
    assert lengths is not None
    count = lengths.sequences
    indices = None if config.enforce_sorted else (count,)

    def packed(width: Dim) -> PackedShapes:
        return PackedShapes((lengths.total, width), (lengths.longest,), indices, indices)

    return Packing(
        lengths=str(lengths),
        sequences=count,
        total=lengths.total,
        steps=lengths.longest,
        enforce_sorted=config.enforce_sorted,
        batch_sizes=lengths.batch_sizes(),
        padded_input=sequence(config.input_size),
        input=packed(config.input_size),
        output=packed(features),
        padded_output=sequence(features, lengths.longest),
    )


def _bias(config: TorchRecurrentConfig, name: str, description: str) -> tuple[Tensor, ...]:
    if not config.use_bias:
        return ()
    return fused_weight(name, (), CELLS[config.cell].torch, config.hidden_size, description, "first")
