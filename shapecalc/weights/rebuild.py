"""Rebuilding one layer: its options through the single-layer engine, then a check of every
weight the engine expects against the tensor the file holds.

>>> layer, problems, gates = rebuild_layer(
...     "rnn", "rnn", {"framework": "torch", "hidden_size": 2, "input_size": 3},
...     {"weight_ih_l0": "rnn.weight_ih_l0"}, {"rnn.weight_ih_l0": (2, 3)}, framework="torch")
>>> layer.command
'shapecalc rnn --framework torch --hidden-size 2 --input-size 3'
>>> problems[0]
'rnn: rnn.weight_hh_l0 is missing (nn.RNN stores it as (2, 2))'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shapecalc.api import build_config
from shapecalc.dims import format_shape
from shapecalc.errors import ShapecalcError
from shapecalc.options import OPTIONS, Option, find
from shapecalc.rules import derive
from shapecalc.weights.result import GateSlice, RebuiltLayer


def rebuild_layer(
    name: str,
    kind: str,
    options: Mapping[str, Any],
    names: Mapping[str, str],
    shapes: Mapping[str, tuple[int, ...]],
    *,
    framework: str,
    assumed: Sequence[str] = (),
    notes: Sequence[str] = (),
    compare: bool = True,
) -> tuple[RebuiltLayer, list[str], dict[str, list[GateSlice]]]:
    """Derive layer ``kind`` with ``options`` and compare its weights with the file's.

    ``names`` maps the engine's weight names (``weight_ih_l0``, ``forward/kernel``) to the
    file's tensor names, and ``shapes`` gives the file's shapes. Returns the layer, the
    problems (a missing, unexpected or misshapen tensor) and each file tensor's gate slices;
    ``compare=False`` skips the check (a layout the engine does not name, such as ONNX's).
    ``ShapecalcError`` when the engine refuses the options.
    """
    config = build_config(kind, options)
    result = derive(config)
    expected = {t.name: t for t in result.tensors if t.role == "weight"}
    problems: list[str] = []
    shown = name or "(top level)"
    for engine_name, tensor in expected.items() if compare else ():
        file_name = names.get(engine_name)
        want = format_shape(tensor.shape)
        if file_name is None or file_name not in shapes:
            missing = file_name or _expected_name(engine_name, names)
            problems.append(f"{shown}: {missing} is missing ({result.layer} stores it as {want})")
        elif tuple(shapes[file_name]) != tensor.shape:
            problems.append(
                f"{shown}: {file_name} is {format_shape(shapes[file_name])}, "
                f"but {result.layer} with this config stores {want}"
            )
    for engine_name, file_name in names.items() if compare else ():
        if engine_name not in expected and file_name in shapes:
            problems.append(f"{shown}: {file_name} does not belong to {result.layer} with this config")
    gates: dict[str, list[GateSlice]] = {}
    for tensor in result.tensors:
        of = tensor.slice_of
        if tensor.role == "weight_slice" and of is not None and of in names and tensor.gate and tensor.index:
            gates.setdefault(names[of], []).append(GateSlice(tensor.gate, tensor.index))
    used = tuple(names[n] for n in expected if n in names and names[n] in shapes) if compare else ()
    layer = RebuiltLayer(
        name, framework, tuple(assumed), used, command_line(kind, options), result, tuple(notes),
        config, {n: f for n, f in names.items() if f in shapes},
    )  # fmt: skip
    return layer, problems, gates


def _expected_name(engine_name: str, names: Mapping[str, str]) -> str:
    # Name a missing tensor as the file would have: the prefix its siblings share.
    for known, file_name in names.items():
        if file_name.endswith(known):
            return file_name[: len(file_name) - len(known)] + engine_name
    return engine_name


def command_line(kind: str, options: Mapping[str, Any]) -> str:
    """The ``shapecalc`` command that derives the same layer.

    >>> command_line("lstm", {"units": 4, "input_dim": 3, "use_bias": False, "kernel_size": (3, 3)})
    'shapecalc lstm --units 4 --input-dim 3 --kernel-size 3 3 --no-bias'
    """
    words = ["shapecalc", kind]
    order = ["framework", *(key for key in OPTIONS if key != "framework")]
    given = {key: (value, find(key)) for key, value in options.items()}
    for key, (value, option) in sorted(given.items(), key=lambda item: order.index(_key(item[1][1]))):
        assert option is not None
        flag = "--" + key.replace("_", "-")
        if isinstance(value, (list, tuple)) and all(v == option.default for v in value):
            continue  # strides [1, 1]: the default, spelled per axis
        if isinstance(value, bool):
            if value != option.default:
                negation = "--" + option.negation.replace("_", "-") if option.negation else f"--no-{flag[2:]}"
                words.append(flag if value else negation)
        elif isinstance(value, (list, tuple)):
            words += [flag, *(str(v) for v in value)]
        elif value != option.default:
            words += [flag, str(value)]
    return " ".join(words)


def _key(option: Option | None) -> str:
    if option is None:
        raise ShapecalcError("an option the option table does not hold")
    return option.key
