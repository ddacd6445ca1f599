"""A recurrent layer's weights gate by gate, in one orientation: how a port reads the source's
tensors and fills the target's.

Every convention stores, per gate, an input weight, a recurrent weight and up to two biases;
only the layout differs (the gate order from the cell table, which axis holds the gates,
whether a weight is ``(in, out)`` or ``(out, in)``, where the directions go). :func:`read_cells`
reads a source's layout into :class:`GateTerms` as ``(out, in)`` slices, and
:func:`fill_tensors` writes them into a target's. Names and shapes come from the rules'
results, so they are the ones shapecalc's tables print.

>>> from shapecalc.configs import TorchRecurrentConfig
>>> from shapecalc.rules import derive
>>> config = TorchRecurrentConfig(cell="gru", hidden_size=8, input_size=4)
>>> reset = read_cells(derive(config), 8)[0, 0][0]
>>> reset.role, reset.W.source, reset.W.index, reset.bh.index
('reset', 'weight_ih_l0', ((0, 8), None), ((0, 8),))
"""

from __future__ import annotations

from shapecalc.cells import Convention
from shapecalc.dims import Dim
from shapecalc.options import KERAS, ONNX, TORCH
from shapecalc.port.records import Axis, Part, TargetTensor, Term
from shapecalc.record import record, replace
from shapecalc.result import LayerResult
from shapecalc.views import CellView


@record
class GateTerms:
    """One gate of one cell (a layer and direction) as slices of the source.

    ``W`` is the ``(hidden, input)`` input weight and ``U`` the ``(hidden, hidden)`` recurrent
    weight, each a :class:`Term` (transposed where the source stores ``(in, out)``). ``bx`` is
    the bias on the input side (Keras' one bias, PyTorch's ``bias_ih``, ONNX's ``Wb``), ``bh``
    the recurrent one (Keras GRU's row 1, ``bias_hh``, ``Rb``); ``None`` where the source has none.
    ``role`` is ``""`` for a gateless cell (SimpleRNN).
    """

    role: str
    letter: str | None
    W: Term
    U: Term
    bx: Term | None = None
    bh: Term | None = None


#: (layer, direction index) -> the cell's gates in the source's fused order.
Cells = dict[tuple[int, int], tuple[GateTerms, ...]]


def _blocks(convention: Convention, hidden: Dim) -> list[tuple[str, str | None, Axis, tuple[Dim, Dim]]]:
    """Each gate's role, letter and block on the fused axis (``None``: the whole axis, for a gateless
    cell), with the block as a range (ONNX's ``B`` holds two blocks even then)."""
    if not convention.gates:
        return [("", None, None, (0, hidden))]
    out: list[tuple[str, str | None, Axis, tuple[Dim, Dim]]] = []
    for k, gate in enumerate(convention.gates):
        block = (k * hidden, (k + 1) * hidden)
        out.append((gate.role, gate.letter, block, block))
    return out


def _per_layer(result: LayerResult) -> list[tuple[int, int, CellView]]:
    """Each cell view with its layer and its direction's index in that layer."""
    seen: dict[int, int] = {}
    out = []
    for view in result.cells:
        index = seen.get(view.layer, 0)
        seen[view.layer] = index + 1
        out.append((view.layer, index, view))
    return out


def _name(tensor: object) -> str:
    return str(getattr(tensor, "name", ""))


def read_cells(result: LayerResult, hidden: Dim) -> Cells:
    """The source layer ``result`` describes, gate by gate (``hidden`` units per gate)."""
    cells: Cells = {}
    for layer, d, view in _per_layer(result):
        convention = view.convention
        gates = []
        stacked = max(len(convention.gates), 1) * hidden
        for role, letter, block, span in _blocks(convention, hidden):
            bx = bh = None
            if convention.framework == KERAS:
                kernel = Term(_name(view.kernel), (None, block), True, letter)
                recurrent = Term(_name(view.recurrent_kernel), (None, block), True, letter)
                if view.bias is not None and view.split_bias:
                    bx = Term(_name(view.bias), (0, block), gate=letter)
                    bh = Term(_name(view.bias), (1, block), gate=letter)
                elif view.bias is not None:
                    bx = Term(_name(view.bias), (block,), gate=letter)
            elif convention.framework == TORCH:
                kernel = Term(_name(view.kernel), (block, None), gate=letter)
                recurrent = Term(_name(view.recurrent_kernel), (block, None), gate=letter)
                if view.bias is not None and view.recurrent_bias is not None:
                    bx = Term(_name(view.bias), (block,), gate=letter)
                    bh = Term(_name(view.recurrent_bias), (block,), gate=letter)
            else:
                kernel = Term("W", (d, block, None), gate=letter)
                recurrent = Term("R", (d, block, None), gate=letter)
                if any(t.name == "B" for t in result.tensors):
                    bx = Term("B", (d, span), gate=letter)
                    bh = Term("B", (d, (stacked + span[0], stacked + span[1])), gate=letter)
            gates.append(GateTerms(role, letter, kernel, recurrent, bx, bh))
        cells[layer, d] = tuple(gates)
    return cells


def _flipped(term: Term, transpose: bool) -> Term:
    """``term`` as the target stores it: transposed once more when the target is ``(in, out)``."""
    return replace(term, transpose=term.transpose != transpose)


def fill_tensors(result: LayerResult, cells: Cells, source_layer: int, prefix: str) -> list[TargetTensor]:
    """Every weight of the target layer ``result`` describes, filled from the source's ``cells``
    of layer ``source_layer``; names get ``prefix`` (a level of a stack)."""
    # name -> (row, part): ONNX's Rb half of B and Keras GRU's bias row 1 come after the other half
    parts: dict[str, list[tuple[int, Part]]] = {}
    for _, d, view in _per_layer(result):
        convention = view.convention
        hidden = view.recurrent_kernel.shape[-1 if convention.framework != KERAS else 0]
        by_role = {gate.role: gate for gate in cells[source_layer, d]}
        stacked = max(len(convention.gates), 1) * hidden
        for role, letter, block, span in _blocks(convention, hidden):
            gate = by_role[role]

            def put(name: str, at: tuple[Axis, ...], *terms: Term | None, row: int = 0,
                    letter: str | None = letter, d: int = d) -> None:  # fmt: skip
                found = tuple(term for term in terms if term is not None)
                parts.setdefault(name, []).append((2 * d + row, Part(at, found, letter, d)))

            if convention.framework == KERAS:
                put(_name(view.kernel), (None, block), _flipped(gate.W, True))
                put(_name(view.recurrent_kernel), (None, block), _flipped(gate.U, True))
                if view.bias is not None and view.split_bias:
                    put(_name(view.bias), (0, block), gate.bx)
                    put(_name(view.bias), (1, block), gate.bh, row=1)
                elif view.bias is not None:
                    put(_name(view.bias), (block,), gate.bx, gate.bh)
            elif convention.framework == TORCH:
                put(_name(view.kernel), (block, None), _flipped(gate.W, False))
                put(_name(view.recurrent_kernel), (block, None), _flipped(gate.U, False))
                if view.bias is not None:
                    put(_name(view.bias), (block,), gate.bx)
                    put(_name(view.recurrent_bias), (block,), gate.bh)
            else:
                assert convention.framework == ONNX
                put("W", (d, block, None), _flipped(gate.W, False))
                put("R", (d, block, None), _flipped(gate.U, False))
                if view.bias is not None:
                    put("B", (d, span), gate.bx)
                    put("B", (d, (stacked + span[0], stacked + span[1])), gate.bh, row=1)
    return [
        TargetTensor(prefix + tensor.name, tensor.shape, _in_rows(parts[tensor.name]), "")
        for tensor in result.tensors
        if tensor.role == "weight" and tensor.name in parts
    ]


def _in_rows(parts: list[tuple[int, Part]]) -> tuple[Part, ...]:
    """The parts in the target's storage order: direction, then bias half or row, then gate."""
    return tuple(part for _, part in sorted(parts, key=lambda item: item[0]))
