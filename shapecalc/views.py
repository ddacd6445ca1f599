"""Typed views of a result: one :class:`CellView` per layer and direction.

A rule builds the flat tensor list (the JSON contract) and, beside it, a view
of each cell that runs over the sequence: its tensors by what they are, its
gates with their slices of the fused weights, and its entry of the cell table
(:mod:`shapecalc.cells`). Costs, ``--explain`` and the pictures read these
fields; nothing looks a tensor up by a name it built.

>>> from shapecalc.api import shapes
>>> view = shapes("gru", units=8, input_dim=4, bidirectional=True).cells[1]
>>> view.direction, view.kernel.name, view.gate("reset").kernel.name
('backward', 'backward/kernel', 'backward/kernel_r')
"""

from __future__ import annotations

from shapecalc.cells import CellSpec, Convention, GateSpec
from shapecalc.dims import Dim
from shapecalc.record import record
from shapecalc.result import Tensor


@record
class GateView:
    """One gate of one cell: its activation tensor and its slices of the cell's weights.

    ``bias`` is Keras' bias slice (two rows with ``reset_after``), PyTorch's
    ``bias_ih`` slice or ONNX's ``Wb``; ``recurrent_bias`` PyTorch's ``bias_hh``
    slice or ONNX's ``Rb``; ``peephole`` ONNX's ``P`` slice (LSTM i, o, f).
    """

    spec: GateSpec
    tensor: Tensor
    kernel: Tensor
    recurrent_kernel: Tensor
    bias: Tensor | None = None
    recurrent_bias: Tensor | None = None
    peephole: Tensor | None = None


@record
class Convolution:
    """What a ConvLSTM cell convolves with, and the output grid its kernels slide over."""

    grid: tuple[Dim, ...]
    strides: tuple[Dim, ...]
    dilation: tuple[Dim, ...]
    padding: str
    data_format: str


@record
class CellView:
    """One cell (a layer and direction) of a recurrent layer.

    ``step_input`` is the sequence this cell reads, one step at a time along
    ``time_axis``: the layer's input, or for a stacked PyTorch layer the
    sequence below it (shaped like the module's ``output``). ``output`` is the
    tensor this cell's ``h_t`` goes to; ``final_states`` PyTorch's stacked
    ``h_n`` / ``c_n``. ``split_bias`` marks Keras GRU's ``reset_after`` bias,
    whose row 0 joins the input product and row 1 the recurrent product.
    ``reset_after`` is also ONNX GRU's ``linear_before_reset``.

    One ONNX tensor holds every direction: its cells share ``W``, ``R``, ``B``
    and ``peepholes`` (``P``), and their gates hold each direction's slices; a
    gateless ONNX cell holds its direction's slices (``Wi``, ``WBi``, ...) itself.
    """

    layer: int
    direction: str
    spec: CellSpec
    convention: Convention
    step_input: Tensor
    time_axis: int
    kernel: Tensor
    recurrent_kernel: Tensor
    bias: Tensor | None
    recurrent_bias: Tensor | None
    projection: Tensor | None
    gates: tuple[GateView, ...]
    states: tuple[Tensor, ...]
    output: Tensor
    final_states: tuple[Tensor, ...] = ()
    reset_after: bool = False
    split_bias: bool = False
    convolution: Convolution | None = None
    peepholes: Tensor | None = None
    #: When ``step_input`` is ``PackedSequence`` data (a stacked PyTorch layer reading packed
    #: lengths): the rows of its first and largest step, ``batch_sizes[0]``.
    step_rows: Dim | None = None

    @property
    def hidden_state(self) -> Tensor:
        return self.states[0]

    @property
    def cell_state(self) -> Tensor | None:
        return self.states[1] if len(self.states) > 1 else None

    @property
    def kernels(self) -> tuple[Tensor, ...]:
        """The weights every output position multiplies: input, recurrent and projection."""
        found = (self.kernel, self.recurrent_kernel, self.projection)
        return tuple(tensor for tensor in found if tensor is not None)

    @property
    def biases(self) -> tuple[Tensor, ...]:
        return tuple(tensor for tensor in (self.bias, self.recurrent_bias) if tensor is not None)

    @property
    def step_shape(self) -> tuple[Dim, ...]:
        """One step of ``step_input``: its shape without the time axis (packed data: the rows
        of its largest step)."""
        shape = self.step_input.shape
        if self.step_rows is not None:
            return (self.step_rows, *shape[1:])
        return shape[: self.time_axis] + shape[self.time_axis + 1 :]

    @property
    def unit_tensor(self) -> Tensor:
        """A tensor with one element per unit and position: the first gate, or the hidden state."""
        return self.gates[0].tensor if self.gates else self.hidden_state

    def weight_slots(self, gate: GateView | None = None) -> dict[str, Tensor]:
        """``gate``'s slices (the whole weights for a gateless cell) by the table's slot names.

        >>> from shapecalc.api import shapes
        >>> cell = shapes("rnn", framework="torch", hidden_size=4, input_size=3).cells[0]
        >>> {slot: t.name for slot, t in cell.weight_slots().items()}
        {'W_x': 'weight_ih_l0', 'W_h': 'weight_hh_l0', 'b_x': 'bias_ih_l0', 'b_h': 'bias_hh_l0'}
        """
        source: GateView | CellView = self if gate is None else gate
        peephole = gate.peephole if gate is not None else None
        tensors = (source.kernel, source.recurrent_kernel, source.bias, source.recurrent_bias, peephole)
        slots = zip(self.convention.weight_slots, tensors, strict=False)
        return {slot: tensor for slot, tensor in slots if tensor is not None}

    def gate(self, role: str) -> GateView:
        """The gate playing ``role`` in this cell's convention."""
        return next(gate for gate in self.gates if gate.spec.role == role)
