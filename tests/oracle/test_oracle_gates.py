"""Gate order, proven: one time step computed by hand from shapecalc's per-gate
slices equals the real layer's step.

Shapes alone cannot tell the input gate's slice from the forget gate's (they
are the same size). So each test fills a real layer with random weights, takes
every gate's part of each fused weight with the slice ``index`` shapecalc
reports, computes one step with the textbook equations for that gate letter
(Keras i, f, c, o / z, r, h; PyTorch i, f, g, o / r, z, n) and compares the new
states with what the framework computes. A wrong gate order, slice or bias row
changes the numbers.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import pytest
from oracle_support import ORACLE_MARKS, apply_index, dim_value, require_frameworks

from shapecalc import shapes

pytestmark = ORACLE_MARKS

CASES = 40


@pytest.fixture(scope="module", autouse=True)
def _frameworks() -> None:
    require_frameworks("torch", "keras")


def sigmoid(x: Any) -> Any:
    import numpy as np

    return 1 / (1 + np.exp(-x))


def gate_parts(result: dict[str, Any], arrays: Mapping[str, Any], env: Mapping[str, int]) -> dict[str, Any]:
    """``{weight name: {gate letter: that gate's slice of the real array}}``."""
    parts: dict[str, dict[str, Any]] = {}
    for tensor in result["tensors"]:
        if tensor["role"] == "weight_slice":
            part = apply_index(arrays[tensor["slice_of"]], tensor["index"], env)
            assert part.shape == tuple(dim_value(d, env) for d in tensor["shape"]), tensor["name"]
            parts.setdefault(tensor["slice_of"], {})[tensor["gate"]] = part
    return parts


def keras_step(
    cell: str, parts: dict[str, Any], full: Mapping[str, Any], x: Any, states: list[Any]
) -> list[Any]:
    """One Keras step (``reset_after`` is read off the bias: 2 rows when on)."""
    import numpy as np

    h = states[0]
    if cell == "rnn":
        bias = full.get("bias", 0)
        return [np.tanh(x @ full["kernel"] + h @ full["recurrent_kernel"] + bias)]
    kernel, recurrent = parts["kernel"], parts["recurrent_kernel"]
    bias = parts.get("bias", {})
    if cell == "lstm":
        z = {g: x @ kernel[g] + h @ recurrent[g] + bias.get(g, 0) for g in "ifco"}
        c = sigmoid(z["f"]) * states[1] + sigmoid(z["i"]) * np.tanh(z["c"])
        return [sigmoid(z["o"]) * np.tanh(c), c]
    rows = {g: b.reshape(-1, b.shape[-1]) for g, b in bias.items()}
    input_bias = {g: rows[g][0] for g in rows}
    recurrent_bias = {g: rows[g][1] for g in rows if rows[g].shape[0] == 2}
    reset_after = bool(recurrent_bias) or full.get("reset_after", False)
    xs = {g: x @ kernel[g] + input_bias.get(g, 0) for g in "zrh"}
    hs = {g: h @ recurrent[g] + recurrent_bias.get(g, 0) for g in "zrh"}
    z, r = sigmoid(xs["z"] + hs["z"]), sigmoid(xs["r"] + hs["r"])
    candidate = np.tanh(xs["h"] + (r * hs["h"] if reset_after else (r * h) @ recurrent["h"]))
    return [z * h + (1 - z) * candidate]


def _keras_case(seed: int) -> tuple[str, dict[str, Any]]:
    rng = random.Random(seed)
    cell = rng.choice(("lstm", "gru", "rnn"))
    options: dict[str, Any] = {"units": rng.randint(1, 4), "input_dim": rng.randint(1, 3)}
    options["use_bias"] = rng.random() < 0.8
    if cell == "gru":
        options["reset_after"] = rng.random() < 0.5
    return cell, options


@pytest.mark.parametrize("seed", range(CASES))
def test_keras_recurrent_gate_slices_compute_the_real_step(seed: int) -> None:
    import keras
    import numpy as np

    cell, options = _keras_case(seed)
    result = shapes(cell, **options).to_json()
    layer_class = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "rnn": keras.layers.SimpleRNN}[cell]
    extra = {"reset_after": options["reset_after"]} if cell == "gru" else {}
    layer = layer_class(options["units"], use_bias=options["use_bias"], return_state=True, **extra)
    rng = np.random.default_rng(seed)
    batch, units = 2, options["units"]
    x = rng.standard_normal((batch, 1, options["input_dim"])).astype("float32")
    states = [
        rng.standard_normal((batch, units)).astype("float32") for _ in range(2 if cell == "lstm" else 1)
    ]
    layer.build((batch, 1, options["input_dim"]))
    layer.set_weights([rng.standard_normal(tuple(w.shape)).astype("float32") for w in layer.weights])
    real = [keras.ops.convert_to_numpy(t) for t in layer(x, initial_state=states)[1:]]
    arrays = {w.path.split("/")[-1]: keras.ops.convert_to_numpy(w.value) for w in layer.weights}
    full = {**arrays, "reset_after": options.get("reset_after", False)}
    expected = keras_step(cell, gate_parts(result, arrays, {}), full, x[:, 0], states)
    for ours, theirs in zip(expected, real, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("rank", "data_format"),
    [
        (1, "channels_last"),
        (2, "channels_last"),
        (3, "channels_last"),
        (1, "channels_first"),
        (2, "channels_first"),
        (3, "channels_first"),
    ],
)
def test_convlstm_gate_slices_compute_the_real_step(rank: int, data_format: str) -> None:
    """With a 1-wide kernel a ConvLSTM is an LSTM at every position: same equations, same slices."""
    import keras
    import numpy as np

    channels, filters, batch = 3, 2, 2
    spatial = (4, 3, 2)[:rank]
    frame = (*spatial, channels) if data_format == "channels_last" else (channels, *spatial)
    result = shapes(
        {1: "convlstm1d", 2: "convlstm2d", 3: "convlstm3d"}[rank],
        filters=filters,
        kernel=(1,) * rank,
        input=frame,
        data_format=data_format,
    ).to_json()
    layer = getattr(keras.layers, f"ConvLSTM{rank}D")(filters, 1, data_format=data_format, return_state=True)
    rng = np.random.default_rng(rank)
    x = rng.standard_normal((batch, 1, *frame)).astype("float32")
    state_shape = (batch, *spatial, filters) if data_format == "channels_last" else (batch, filters, *spatial)
    states = [rng.standard_normal(state_shape).astype("float32") for _ in range(2)]
    layer.build((batch, 1, *frame))
    layer.set_weights([rng.standard_normal(tuple(w.shape)).astype("float32") for w in layer.weights])
    real = [keras.ops.convert_to_numpy(t) for t in layer(x, initial_state=states)[1:]]
    arrays = {w.path.split("/")[-1]: keras.ops.convert_to_numpy(w.value) for w in layer.weights}
    parts = gate_parts(result, arrays, {})
    # A 1-wide kernel (1, ..., 1, in, out) is the matrix (in, out); move channels last to multiply.
    parts = {
        name: {g: p.reshape(p.shape[-2:]) if p.ndim > 1 else p for g, p in gates.items()}
        for name, gates in parts.items()
    }
    to_last = (lambda a: np.moveaxis(a, 1, -1)) if data_format == "channels_first" else (lambda a: a)
    to_format = (lambda a: np.moveaxis(a, -1, 1)) if data_format == "channels_first" else (lambda a: a)
    expected = keras_step("lstm", parts, {}, to_last(x[:, 0]), [to_last(s) for s in states])
    for ours, theirs in zip(expected, real, strict=True):
        np.testing.assert_allclose(to_format(ours), theirs, rtol=1e-4, atol=1e-5)


def torch_step(
    cell: str, parts: dict[str, Any], tag: str, x: Any, h: Any, c: Any, full: Mapping[str, Any]
) -> tuple[Any, Any]:
    """One PyTorch step of one layer and direction (weights are (out, in): multiply by the transpose)."""
    import numpy as np

    if cell == "rnn":
        z = x @ full[f"weight_ih_{tag}"].T + h @ full[f"weight_hh_{tag}"].T
        z = z + full.get(f"bias_ih_{tag}", 0) + full.get(f"bias_hh_{tag}", 0)
        return np.tanh(z), None
    w_ih, w_hh = parts[f"weight_ih_{tag}"], parts[f"weight_hh_{tag}"]
    b_ih, b_hh = parts.get(f"bias_ih_{tag}", {}), parts.get(f"bias_hh_{tag}", {})
    xs = {g: x @ w_ih[g].T + b_ih.get(g, 0) for g in w_ih}
    hs = {g: h @ w_hh[g].T + b_hh.get(g, 0) for g in w_hh}
    if cell == "gru":
        r, z = sigmoid(xs["r"] + hs["r"]), sigmoid(xs["z"] + hs["z"])
        n = np.tanh(xs["n"] + r * hs["n"])
        return (1 - z) * n + z * h, None
    gate = {g: xs[g] + hs[g] for g in "ifgo"}
    c_new = sigmoid(gate["f"]) * c + sigmoid(gate["i"]) * np.tanh(gate["g"])
    h_new = sigmoid(gate["o"]) * np.tanh(c_new)
    if f"weight_hr_{tag}" in full:
        h_new = h_new @ full[f"weight_hr_{tag}"].T
    return h_new, c_new


@pytest.mark.parametrize("seed", range(CASES))
def test_torch_gate_slices_compute_the_real_step(seed: int) -> None:
    """Every layer and direction of a stack, one step (so both directions read the same input)."""
    import numpy as np
    import torch

    rng = random.Random(seed)
    cell = rng.choice(("lstm", "gru", "rnn"))
    hidden, input_size, layers = rng.randint(2, 5), rng.randint(1, 4), rng.randint(1, 3)
    bidirectional, bias = rng.random() < 0.5, rng.random() < 0.8
    proj = rng.randint(1, hidden - 1) if cell == "lstm" and rng.random() < 0.5 else 0
    options = {"hidden_size": hidden, "input_size": input_size, "num_layers": layers}
    options.update(bidirectional=bidirectional, use_bias=bias, proj_size=proj)
    result = shapes(cell, framework="torch", **options).to_json()
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell](
        input_size,
        hidden,
        num_layers=layers,
        bias=bias,
        bidirectional=bidirectional,
        **({"proj_size": proj} if proj else {}),
    )
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.normal_()
    full = {name: p.detach().numpy() for name, p in module.named_parameters()}
    parts = gate_parts(result, full, {})
    batch, directions = 2, 2 if bidirectional else 1
    x = torch.randn(1, batch, input_size)
    h0 = torch.randn(layers * directions, batch, proj or hidden)
    c0 = torch.randn(layers * directions, batch, hidden)
    with torch.no_grad():
        output, final = module(x, (h0, c0) if cell == "lstm" else h0)
    layer_input = x[0].numpy()
    h_n, c_n = [], []
    for layer in range(layers):
        outs = []
        for direction, suffix in enumerate(("", "_reverse")[:directions]):
            k = layer * directions + direction
            h, c = torch_step(
                cell, parts, f"l{layer}{suffix}", layer_input, h0[k].numpy(), c0[k].numpy(), full
            )
            outs.append(h)
            h_n.append(h)
            c_n.append(c)
        layer_input = np.concatenate(outs, axis=-1)
    np.testing.assert_allclose(layer_input, output[0].numpy(), rtol=1e-4, atol=1e-5)
    finals = list(final) if cell == "lstm" else [final]
    np.testing.assert_allclose(np.stack(h_n), finals[0].numpy(), rtol=1e-4, atol=1e-5)
    if cell == "lstm":
        np.testing.assert_allclose(np.stack(c_n), finals[1].numpy(), rtol=1e-4, atol=1e-5)


def test_apply_index_reads_every_slice_form() -> None:
    import numpy as np

    array = np.arange(24).reshape(2, 3, 4)
    assert apply_index(array, "[..., U:U*2]", {"U": 2}).tolist() == array[..., 2:4].tolist()
    assert apply_index(array, "[:, 1:3]", {}).shape == (2, 2, 4)
    assert apply_index(array, "[0:1]", {}).shape == (1, 3, 4)
