"""ONNX ``LSTM``/``GRU``/``RNN`` nodes rebuilt from their attributes and W, R, B (and P), in
shapecalc's ONNX convention (``--framework onnx``). The file's own tensors are labelled in
ONNX's gate order: W is ``[num_directions, gates * hidden_size, input_size]`` with LSTM rows
i, o, f, c and GRU rows z, r, h.

>>> onnx_gates("LSTM", "W", 2, 1)
[('i', '[0, 0:2, :]'), ('o', '[0, 2:4, :]'), ('f', '[0, 4:6, :]'), ('c', '[0, 6:8, :]')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from shapecalc.errors import ShapecalcError
from shapecalc.weights.rebuild import rebuild_layer
from shapecalc.weights.result import GateSlice, RebuiltLayer
from shapecalc.weights.tensors import OnnxNode, StoredTensor, brief

GATES = {"LSTM": "iofc", "GRU": "zrh", "RNN": ""}
KINDS = {"LSTM": "lstm", "GRU": "gru", "RNN": "rnn"}


def onnx_gates(op: str, which: str, hidden: int, directions: int) -> list[tuple[str, str]]:
    """Each gate's slice of W, R (rows) or B (W's biases, then R's) for every direction."""
    out: list[tuple[str, str]] = []
    gates = GATES[op]
    for direction in range(directions):
        if which == "B":
            for half, part in enumerate(("Wb", "Rb")):
                for k, gate in enumerate(gates):
                    start = (half * len(gates) + k) * hidden
                    out.append((f"{part}_{gate}", f"[{direction}, {start}:{start + hidden}]"))
        else:
            for k, gate in enumerate(gates):
                out.append((gate, f"[{direction}, {k * hidden}:{(k + 1) * hidden}, :]"))
    return out


def rebuild_onnx(
    nodes: Sequence[OnnxNode], tensors: Sequence[StoredTensor]
) -> tuple[list[RebuiltLayer], list[str], dict[str, list[GateSlice]]]:
    """Every recurrent node, the problems found (W, R, B against the attributes), the gate slices."""
    by_name = {t.name: t for t in tensors}
    layers: list[RebuiltLayer] = []
    problems: list[str] = []
    gates: dict[str, list[GateSlice]] = {}
    for node in nodes:
        try:
            rebuilt, found, slices = _node(node, by_name)
        except (ValueError, ShapecalcError) as error:
            problems.append(f"{node.name}: the {node.op} node cannot be rebuilt ({brief(error)})")
            continue
        layers.append(rebuilt)
        problems += found
        gates.update(slices)
    return layers, problems, gates


def _node(
    node: OnnxNode, by_name: Mapping[str, StoredTensor]
) -> tuple[RebuiltLayer, list[str], dict[str, list[GateSlice]]]:
    inputs = list(node.inputs) + [""] * 8
    w, r, b = (by_name.get(inputs[k]) for k in (1, 2, 3))
    if w is None or r is None or len(w.shape) != 3 or len(r.shape) != 3:
        raise ValueError("its W and R are not 3-D initializers of the file")
    attributes: Mapping[str, Any] = node.attributes
    direction = str(attributes.get("direction", "forward"))
    directions = 2 if direction == "bidirectional" else 1
    hidden = int(attributes.get("hidden_size") or r.shape[2])
    count = max(len(GATES[node.op]), 1)
    problems = []
    for tensor, want in (
        (w, [directions, count * hidden, w.shape[2]]),
        (r, [directions, count * hidden, hidden]),
    ):
        if list(tensor.shape) != want:
            problems.append(f"{node.name}: {tensor.name} is {list(tensor.shape)}, {node.op} with "
                            f"hidden_size={hidden}, direction={direction!r} needs {want}")  # fmt: skip
    if b is not None and list(b.shape) != [directions, 2 * count * hidden]:
        problems.append(
            f"{node.name}: {b.name} is {list(b.shape)}, {node.op} needs {[directions, 2 * count * hidden]}"
        )
    options: dict[str, Any] = {
        "framework": "onnx",
        "hidden_size": hidden,
        "input_size": w.shape[2],
        "direction": direction,
        "layout": int(attributes.get("layout", 0)),
    }
    if b is None:
        options["use_bias"] = False
    if node.op == "LSTM" and len(inputs) > 7 and inputs[7]:
        options["peepholes"] = True
    if node.op == "GRU" and int(attributes.get("linear_before_reset", 0)):
        options["linear_before_reset"] = True
    notes: list[str] = []
    nonlinearity = _rnn_nonlinearity(node.op, attributes.get("activations"), directions)
    if nonlinearity is not None:
        options["nonlinearity"] = nonlinearity
    assumed = [f"{k}={attributes[k]!r}" for k in ("activations", "clip")
               if k in attributes and not (k == "activations" and nonlinearity is not None)]  # fmt: skip
    layer, _, _ = rebuild_layer(node.name, KINDS[node.op], options, {}, {}, framework="onnx",
                                assumed=assumed, notes=notes, compare=False)  # fmt: skip
    slices = {
        tensor.name: [GateSlice(g, i) for g, i in onnx_gates(node.op, which, hidden, directions)]
        for tensor, which in ((w, "W"), (r, "R"), (b, "B"))
        if tensor is not None and GATES[node.op]
    }
    used = tuple(t.name for t in (w, r, b) if t is not None)
    names = {key: t.name for key, t in zip("WRB", (w, r, b), strict=True) if t is not None}
    return replace(layer, tensors=used, names=names), problems, slices


#: The ONNX RNN activations shapecalc models, as ``nonlinearity``.
_RNN_NONLINEARITIES = {"Tanh": "tanh", "Relu": "relu"}


def _rnn_nonlinearity(op: str, activations: object, directions: int) -> str | None:
    """An RNN node's ``activations`` as one ``nonlinearity``, when each direction has the same
    Tanh or Relu; else ``None`` (and the attribute stays an assumption a port refuses).

    >>> _rnn_nonlinearity("RNN", ["Relu", "Relu"], 2), _rnn_nonlinearity("RNN", ["Relu", "Tanh"], 2)
    ('relu', None)
    """
    if op != "RNN" or not isinstance(activations, list) or len(activations) != directions:
        return None
    if len(set(activations)) != 1 or activations[0] not in _RNN_NONLINEARITIES:
        return None
    return _RNN_NONLINEARITIES[activations[0]]
