"""ONNX ``LSTM`` / ``GRU`` / ``RNN`` nodes against shapecalc's onnx convention.

Each seed draws one config: cell, hidden and input size (numbers or names),
direction (or the ``bidirectional`` flag), layout, bias, peepholes (LSTM),
linear_before_reset (GRU), activations Tanh or Relu (RNN), given initial states,
and numeric or unknown batch and timesteps. A node is built from shapecalc's shapes of ``X``, ``W``, ``R``,
``B``, ``P``, ``initial_h`` and ``initial_c``; then

* ``onnx.checker`` accepts the model, and ``onnx.shape_inference`` (strict)
  gives ``Y``, ``Y_h`` and ``Y_c`` exactly shapecalc's shapes, an unknown batch or
  sequence length as the same name;
* onnxruntime runs it (layout 0; its CPU kernels refuse layout 1, so a layout 1
  node's weights and states run in the same node at layout 0) on random data at
  every run's sizes, and its outputs have shapecalc's shapes: onnxruntime checks
  every input's shape against the spec;
* for a few configs, onnxruntime's numbers equal a NumPy step written from the
  spec's equations with shapecalc's per-gate slices (``Wi`` is ``W[0, 0:H]``...),
  which proves the gate order and the place of every bias and peephole.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from oracle_support import (
    ORACLE_MARKS,
    Case,
    apply_index,
    dim_value,
    names_in,
    require_frameworks,
    sequence_sizes,
    shape_value,
    size,
)

from shapecalc import shapes

pytestmark = ORACLE_MARKS

CASES = 320
OPSET = 22
GATES = {"lstm": 4, "gru": 3, "rnn": 1}


@pytest.fixture(scope="module", autouse=True)
def _frameworks() -> None:
    require_frameworks("onnx", "onnxruntime")


def onnx_case(seed: int) -> Case:
    rng = random.Random(seed)
    kind = rng.choice(tuple(GATES))
    env: dict[str, int] = {}
    options: dict[str, Any] = {
        "framework": "onnx",
        "hidden_size": size(rng, 1, 6, "H", 0.3, env),
        "input_size": size(rng, 1, 5, "I", 0.3, env),
        "layout": rng.choice((0, 0, 1)),
        "use_bias": rng.random() < 0.7,
    }
    direction = rng.choice(("forward", "reverse", "bidirectional", "flag", "default"))
    if direction == "flag":
        options["bidirectional"] = True
    elif direction != "default":
        options["direction"] = direction
    if kind == "lstm":
        options["peepholes"] = rng.random() < 0.5
    if kind == "gru":
        options["linear_before_reset"] = rng.random() < 0.5
    if kind == "rnn" and rng.random() < 0.4:
        options["nonlinearity"] = "relu"
    runs, unknown = sequence_sizes(rng, options, env)
    return Case(kind, options, runs, unknown)


def _given_states(seed: int) -> bool:
    return random.Random(seed * 7 + 1).random() < 0.5


def _dims(shape: list[Any], case: Case, env: dict[str, int]) -> list[int | str]:
    """A shapecalc shape as ONNX dims: an unknown batch or sequence length stays a name."""
    return [dim if isinstance(dim, str) and names_in(dim) <= case.unknown else dim_value(dim, env)
            for dim in shape]  # fmt: skip


def _node_model(case: Case, derived: dict[str, Any], layout: int, states: bool, seed: int) -> Any:
    """The ONNX model of shapecalc's tensors: weights as initializers with random values."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    env = case.runs[0]
    tensors = {t["name"]: t for t in derived["tensors"]}
    rng = np.random.default_rng(seed)
    config = derived["config"]
    initializers, inputs = [], []
    x_shape = _dims(tensors["X"]["shape"], case, env)
    if layout != config["layout"]:  # the layout 0 twin of a layout 1 node: X's first two axes swap
        x_shape = [x_shape[1], x_shape[0], x_shape[2]]
    inputs.append(helper.make_tensor_value_info("X", TensorProto.FLOAT, x_shape))
    names = ["X", "W", "R", "B" if "B" in tensors else "", "", "", "", "P" if "P" in tensors else ""]
    for name in ("W", "R", "B", "P"):
        if name in tensors:
            shape = shape_value(tensors[name]["shape"], env)
            array = rng.uniform(-1, 1, size=shape).astype(np.float32)
            initializers.append(numpy_helper.from_array(array, name))
    if states:
        for position, name in ((5, "initial_h"), (6, "initial_c")):
            if name in tensors:
                shape = _dims(tensors[name]["shape"], case, env)
                if layout != config["layout"]:
                    shape = [shape[1], shape[0], shape[2]]
                inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
                names[position] = name
    while names[-1] == "":
        names.pop()
    outputs = list(derived["outputs"])
    attributes: dict[str, Any] = {
        "hidden_size": dim_value(config["hidden_size"], env),
        "direction": config["direction"],
        "layout": layout,
    }
    if case.kind == "gru":
        attributes["linear_before_reset"] = int(config["linear_before_reset"])
    if config.get("nonlinearity", "tanh") != "tanh":  # the RNN's activations, one per direction
        directions = 2 if config["direction"] == "bidirectional" else 1
        attributes["activations"] = [config["nonlinearity"].capitalize()] * directions
    node = helper.make_node(derived["layer"], names, outputs, **attributes)
    graph = helper.make_graph(
        [node],
        "shapecalc",
        inputs,
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 10  # what onnxruntime reads
    return model


def _inferred(model: Any) -> dict[str, list[int | str]]:
    from onnx import checker, shape_inference

    inferred = shape_inference.infer_shapes(model, strict_mode=True)
    checker.check_model(inferred, full_check=True)  # the checker wants the outputs' shapes: inferred
    return {
        value.name: [d.dim_param if d.HasField("dim_param") else d.dim_value for d in _dims_of(value)]
        for value in inferred.graph.output
    }


def _dims_of(value: Any) -> Any:
    return value.type.tensor_type.shape.dim


def _feeds(model: Any, env: dict[str, int], seed: int) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    feeds = {}
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim
        shape = [env[d.dim_param] if d.HasField("dim_param") else d.dim_value for d in dims]
        feeds[value.name] = rng.uniform(-1, 1, size=shape).astype(np.float32)
    return feeds


def _session(model: Any) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def _derive(case: Case) -> dict[str, Any]:
    return shapes(case.kind, **case.options).to_json()


@pytest.mark.parametrize("seed", range(CASES))
def test_onnx_node_matches_shape_inference_and_onnxruntime(seed: int) -> None:
    case = onnx_case(seed)
    derived = _derive(case)
    tensors = {t["name"]: t for t in derived["tensors"]}
    env = case.runs[0]
    layout = derived["config"]["layout"]
    states = _given_states(seed)
    expected = {name: _dims(tensors[name]["shape"], case, env) for name in derived["outputs"]}
    assert _inferred(_node_model(case, derived, layout, states, seed)) == expected, case
    runnable = _node_model(case, derived, 0, states, seed)  # a layout 1 node's layout 0 twin
    session = _session(runnable)
    for run in case.runs:
        outputs = session.run(None, _feeds(runnable, run, seed))
        ours = [shape_value(tensors[name]["shape"], run) for name in derived["outputs"]]
        if layout == 1:  # the twin returns the sequence first: (seq, dirs, batch, h), (dirs, batch, h)
            ours = [(s[1], s[2], s[0], s[3]) if len(s) == 4 else (s[1], s[0], s[2]) for s in ours]
        assert [tuple(o.shape) for o in outputs] == ours, (case, run)
    weights = [shape_value(t["shape"], env) for t in derived["tensors"] if t["role"] == "weight"]
    assert dim_value(derived["params"], env) == sum(_product(shape) for shape in weights)


def _product(shape: tuple[int, ...]) -> int:
    total = 1
    for size_ in shape:
        total *= size_
    return total


def test_the_oracle_notices_a_wrong_weight_shape() -> None:
    """onnxruntime refuses a ``B`` one gate short: the runs above do check the weights."""
    from onnx import numpy_helper

    options = {"framework": "onnx", "hidden_size": 3, "input_size": 2}
    case = Case("lstm", options, [{"batch": 2, "timestep": 4}], {"batch", "timestep"})
    derived = _derive(case)
    model = _node_model(case, derived, 0, False, 0)
    bias = next(t for t in model.graph.initializer if t.name == "B")
    bias.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(bias)[:, :-3], "B"))
    with pytest.raises(Exception, match="B"):
        _session(model).run(None, _feeds(model, case.runs[0], 0))


# ---------------------------------------------------------------------- values: the gate order
def _sigmoid(x: Any) -> Any:
    import numpy as np

    return 1 / (1 + np.exp(-x))


def _reference(
    case: Case, derived: dict[str, Any], model: Any, feeds: dict[str, Any], env: dict[str, int]
) -> list[Any]:
    """Y, Y_h (, Y_c) of the node from the spec's equations, with shapecalc's slices by name."""
    import numpy as np
    from onnx import numpy_helper

    stored = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    part = {
        t["name"]: apply_index(stored[t["slice_of"]], t["index"], env)
        for t in derived["tensors"]
        if t["role"] == "weight_slice"
    }
    config = derived["config"]
    x = feeds["X"]
    steps, batch = x.shape[0], x.shape[1]
    hidden = dim_value(config["hidden_size"], env)
    directions = ["forward", "backward"] if config["direction"] == "bidirectional" else [config["direction"]]
    y = np.zeros((steps, len(directions), batch, hidden), np.float32)
    last_h, last_c = [], []
    for d, direction in enumerate(directions):
        tag = "B" if d else ""

        def w(kind: str, gate: str, tag: str = tag) -> Any:
            # The spec's names: Wi, Rbf, Po; the backward direction's WBi, RBbf, PBo.
            name = kind[0] + tag + kind[1:] + gate
            return part.get(name, np.zeros(hidden, np.float32))

        def pre(xt: Any, h: Any, gate: str) -> Any:
            return xt @ w("W", gate).T + h @ w("R", gate).T + w("Wb", gate) + w("Rb", gate)

        h = feeds["initial_h"][d] if "initial_h" in feeds else np.zeros((batch, hidden), np.float32)
        c = feeds["initial_c"][d] if "initial_c" in feeds else np.zeros((batch, hidden), np.float32)
        order = range(steps) if direction == "forward" else reversed(range(steps))
        for t in order:
            xt = x[t]
            if case.kind == "lstm":
                i = _sigmoid(pre(xt, h, "i") + w("P", "i") * c)
                f = _sigmoid(pre(xt, h, "f") + w("P", "f") * c)
                candidate = np.tanh(pre(xt, h, "c"))
                c = f * c + i * candidate
                o = _sigmoid(pre(xt, h, "o") + w("P", "o") * c)
                h = o * np.tanh(c)
            elif case.kind == "gru":
                z = _sigmoid(pre(xt, h, "z"))
                r = _sigmoid(pre(xt, h, "r"))
                if config["linear_before_reset"]:
                    recurrent = r * (h @ w("R", "h").T + w("Rb", "h"))
                else:
                    recurrent = (r * h) @ w("R", "h").T + w("Rb", "h")
                candidate = np.tanh(xt @ w("W", "h").T + recurrent + w("Wb", "h"))
                h = (1 - z) * candidate + z * h
            elif config.get("nonlinearity") == "relu":
                h = np.maximum(pre(xt, h, "i"), 0)
            else:
                h = np.tanh(pre(xt, h, "i"))
            y[t, d] = h
        last_h.append(h)
        last_c.append(c)
    out = [y, np.stack(last_h)]
    return [*out, np.stack(last_c)] if case.kind == "lstm" else out


def _numeric_seeds() -> list[int]:
    """Layout 0 configs: the first of every cell, bias, peepholes, linear_before_reset and direction."""
    first: dict[tuple[object, ...], int] = {}
    for seed in range(CASES):
        case = onnx_case(seed)
        options = case.options
        if options["layout"] != 0:
            continue
        direction = "bidirectional" if options.get("bidirectional") else options.get("direction", "forward")
        key = (case.kind, options["use_bias"], options.get("peepholes"), options.get("linear_before_reset"),
               options.get("nonlinearity"), direction)  # fmt: skip
        first.setdefault(key, seed)
    return sorted(first.values())


@pytest.mark.parametrize("seed", _numeric_seeds())
def test_onnxruntime_computes_what_shapecalcs_slices_say(seed: int) -> None:
    import numpy as np

    case = onnx_case(seed)
    derived = _derive(case)
    model = _node_model(case, derived, 0, _given_states(seed), seed)
    env = case.runs[0]
    feeds = _feeds(model, env, seed)
    real = _session(model).run(None, feeds)
    expected = _reference(case, derived, model, feeds, env)
    for name, ours, theirs in zip(derived["outputs"], expected, real, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5, err_msg=f"{name} of {case}")


# ------------------------------------------------------------------ the known-true table's entries
def onnx_known_outputs(
    kind: str, options: dict[str, Any], weights: dict[str, tuple[int, ...]], batch: int, steps: int
) -> list[tuple[int, ...]]:
    """The outputs of a node whose weights have the given shapes (not shapecalc's): onnxruntime's
    at layout 0, where it checks every weight's shape; strict shape inference's at layout 1."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    layout = options.get("layout", 0)
    direction = "bidirectional" if options.get("bidirectional") else options.get("direction", "forward")
    size = options["input_size"]
    x_shape = [batch, steps, size] if layout else [steps, batch, size]
    rng = np.random.default_rng(0)
    initializers = [
        numpy_helper.from_array(rng.uniform(-1, 1, size=shape).astype(np.float32), name)
        for name, shape in weights.items()
    ]
    names = ["X", "W", "R", "B" if "B" in weights else "", "", "", "", "P" if "P" in weights else ""]
    while names[-1] == "":
        names.pop()
    outputs = ["Y", "Y_h", "Y_c"] if kind == "lstm" else ["Y", "Y_h"]
    attributes: dict[str, Any] = {"hidden_size": options["hidden_size"], "direction": direction}
    attributes["layout"] = layout
    if kind == "gru":
        attributes["linear_before_reset"] = int(options.get("linear_before_reset", False))
    node = helper.make_node(kind.upper(), names, outputs, **attributes)
    graph = helper.make_graph(
        [node],
        "known",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 10
    if layout:
        return [tuple(shape) for shape in _inferred(model).values()]  # type: ignore[arg-type]
    x = rng.uniform(-1, 1, size=x_shape).astype(np.float32)
    return [tuple(out.shape) for out in _session(model).run(None, {"X": x})]
