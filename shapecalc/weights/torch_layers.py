"""PyTorch recurrent modules rebuilt from ``state_dict`` names and shapes alone.

``<prefix>.weight_ih_l<k>[_reverse]``, ``weight_hh``, ``bias_ih``, ``bias_hh``, ``weight_hr``
belong to one ``nn.LSTM``/``nn.GRU``/``nn.RNN``: ``weight_hh_l0`` has ``gates * hidden_size``
rows (4: LSTM, 3: GRU, 1: RNN), ``weight_hr_l0`` gives ``proj_size``, the highest ``l<k>``
``num_layers``, ``_reverse`` ``bidirectional``, any bias ``bias``.

>>> from shapecalc.weights.tensors import StoredTensor, brief
>>> found = recurrent_groups([StoredTensor("enc.rnn.weight_ih_l0", (24, 5), "float32"),
...                           StoredTensor("enc.rnn.weight_hh_l0", (24, 8), "float32")])
>>> {prefix: sorted(members) for prefix, members in found.items()}
{'enc.rnn': ['weight_hh_l0', 'weight_ih_l0']}
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shapecalc.errors import ShapecalcError
from shapecalc.weights.rebuild import rebuild_layer
from shapecalc.weights.result import GateSlice, RebuiltLayer
from shapecalc.weights.tensors import StoredTensor, brief

_NAME = re.compile(
    r"^(?:(?P<prefix>.+)\.)?(?P<param>(?:weight|bias)_(?:ih|hh|hr)_l(?P<layer>\d+)(?:_reverse)?)$"
)
#: Rows of weight_hh_l0 per hidden unit -> the module.
CELLS = {4: "lstm", 3: "gru", 1: "rnn"}


def recurrent_groups(tensors: Sequence[StoredTensor]) -> dict[str, dict[str, StoredTensor]]:
    """The tensors of each recurrent module, by module prefix, under their parameter names."""
    groups: dict[str, dict[str, StoredTensor]] = {}
    for tensor in tensors:
        match = _NAME.match(tensor.name)
        if match:
            groups.setdefault(match["prefix"] or "", {})[match["param"]] = tensor
    return groups


def rebuild_torch(
    tensors: Sequence[StoredTensor],
) -> tuple[list[RebuiltLayer], list[str], dict[str, list[GateSlice]]]:
    """Every recurrent module the tensors hold, the problems found, and the gate slices."""
    layers: list[RebuiltLayer] = []
    problems: list[str] = []
    gates: dict[str, list[GateSlice]] = {}
    for prefix, members in recurrent_groups(tensors).items():
        try:
            kind, options = _config(prefix, members)
        except ValueError as error:
            problems.append(f"{prefix or '(top level)'}: {error}")
            continue
        assumed = ["batch_first=False (a state_dict does not store it)"]
        if kind == "rnn":
            assumed.append("nonlinearity='tanh' (a state_dict does not store it; no shape depends on it)")
        names = {param: tensor.name for param, tensor in members.items()}
        shapes = {tensor.name: tensor.shape for tensor in members.values()}
        try:
            layer, found, slices = rebuild_layer(
                prefix, kind, options, names, shapes, framework="torch", assumed=assumed
            )
        except ShapecalcError as error:
            problems.append(f"{prefix or '(top level)'}: the shapes give no valid layer ({brief(error)})")
            continue
        layers.append(layer)
        problems += found
        gates.update(slices)
    return layers, problems, gates


def _config(prefix: str, members: dict[str, StoredTensor]) -> tuple[str, dict[str, object]]:
    hh, ih, hr = (members.get(f"weight_{m}_l0") for m in ("hh", "ih", "hr"))
    if hh is None or ih is None or len(hh.shape) != 2 or len(ih.shape) != 2:
        raise ValueError("weight_ih_l0 and weight_hh_l0 (2-D) are needed to rebuild the layer")
    if hr is not None and len(hr.shape) == 2:
        hidden, proj = hr.shape[1], hr.shape[0]
    else:
        hidden, proj = hh.shape[1], 0
    rows = hh.shape[0]
    kind = CELLS.get(rows // hidden) if hidden and rows % hidden == 0 else None
    if kind is None:
        raise ValueError(
            f"weight_hh_l0 is {list(hh.shape)}: its rows are not 4, 3 or 1 times hidden_size {hidden}"
        )
    layers = 1 + max(int(_NAME.match(f"x.{p}")["layer"]) for p in members)  # type: ignore[index]
    options: dict[str, object] = {"framework": "torch", "hidden_size": hidden, "input_size": ih.shape[1]}
    if layers != 1:
        options["num_layers"] = layers
    if any(p.endswith("_reverse") for p in members):
        options["bidirectional"] = True
    if proj:
        options["proj_size"] = proj
    if not any(p.startswith("bias_") for p in members):
        options["use_bias"] = False
    return kind, options
