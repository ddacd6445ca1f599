"""``shapecalc port FILE`` against the real frameworks: a random model built and saved by the
source framework, ported by the command (a subprocess), loaded by the target framework the
way a user would (``load_state_dict`` from safetensors; ``model_from_json`` + ``load_weights``;
an onnxruntime session), and both run on the same random input: outputs and final states
agree within 1e-5 (float32). Keras -> PyTorch, PyTorch -> Keras, PyTorch -> ONNX,
ONNX -> PyTorch, Keras -> ONNX, ONNX -> Keras, on seeded random cells, sizes, directions, stacks,
biases and RNN activations (tanh, relu).
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from oracle_support import ORACLE_MARKS, require_frameworks

pytestmark = [
    *ORACLE_MARKS,
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]
os.environ.setdefault("KERAS_BACKEND", "torch")

CASES = 6
TOLERANCE = 1e-5
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
KERAS_CLASSES = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}
TORCH_CLASSES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


@pytest.fixture(scope="module", autouse=True)
def _frameworks() -> None:
    require_frameworks("torch", "keras", "safetensors", "h5py", "onnx", "onnxruntime")
    try:
        missing = importlib.util.find_spec("shapecalc.port.apply") is None
    except ModuleNotFoundError:
        missing = True
    if missing:
        pytest.skip("the recipe engine (shapecalc.port) is not in this tree")


def port(source: Path, to: str, out: Path) -> dict[str, Any]:
    """Run ``shapecalc port`` as a user does; its JSON summary."""
    command = ["port", str(source), "--to", to, "-o", str(out), "--format", "json"]
    done = subprocess.run(
        [sys.executable, "-m", "shapecalc", *command], capture_output=True, text=True, timeout=99, check=False
    )
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def close(got: Any, want: Any) -> None:
    import numpy as np

    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=TOLERANCE, rtol=TOLERANCE)


def draw(seed: int, *, stack: bool, keras_gru_before: bool = False, tanh: bool = True) -> dict[str, Any]:
    rng = random.Random(seed)
    cell = ("lstm", "gru", "rnn")[seed % 3]  # every cell twice in six cases
    return {
        "cell": cell,
        "input": rng.randint(1, 5),
        "hidden": rng.randint(1, 5),
        "layers": rng.randint(1, 3) if stack else 1,
        "bidirectional": rng.random() < 0.5,
        "bias": rng.random() < 0.75,
        "reset_after": not (keras_gru_before and cell == "gru" and seed // 3 % 2 == 0),
        # SimpleRNN's activation relu is nn.RNN's nonlinearity='relu' and ONNX RNN's Relu.
        # (a state_dict does not store nn.RNN's nonlinearity: the tests from PyTorch keep tanh)
        "activation": "relu" if cell == "rnn" and seed // 3 % 2 and not tanh else "tanh",
        "seed": seed,
    }


def torch_module(case: dict[str, Any]) -> Any:
    import torch

    torch.manual_seed(case["seed"])
    extra = {"nonlinearity": case.get("activation", "tanh")} if case["cell"] == "rnn" else {}
    module = getattr(torch.nn, TORCH_CLASSES[case["cell"]])(
        case["input"], case["hidden"], num_layers=case["layers"], bias=case["bias"],
        bidirectional=case["bidirectional"], **extra,
    )  # fmt: skip
    return module.eval()


def keras_model(case: dict[str, Any]) -> Any:
    import keras
    import numpy as np

    options: dict[str, Any] = {"use_bias": case["bias"], "return_sequences": True, "return_state": True}
    if case["cell"] == "gru":
        options["reset_after"] = case["reset_after"]
    if case["cell"] == "rnn":
        options["activation"] = case["activation"]
    inputs = keras.Input((None, case["input"]))
    layer = getattr(keras.layers, KERAS_CLASSES[case["cell"]])(case["hidden"], **options)
    if case["bidirectional"]:
        layer = keras.layers.Bidirectional(layer, merge_mode="concat")
    outputs = layer(inputs)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(case["seed"])
    model.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()])
    return model


def h5_layout(path: Path) -> list[tuple[str, dict[str, Any], Any]]:
    """Every group and dataset of an HDF5 file: its path, attributes and shape."""
    import h5py

    found: list[tuple[str, dict[str, Any], Any]] = []
    with h5py.File(path, "r") as h5:
        found.append(("", dict(h5.attrs), None))
        h5.visititems(lambda name, item: found.append((name, dict(item.attrs), getattr(item, "shape", None))))
    return found


def torch_run(module: Any, x: Any) -> tuple[Any, ...]:
    """(output, h_n[, c_n]) as NumPy, time-major input."""
    import torch

    with torch.no_grad():
        output, states = module(torch.from_numpy(x))
    states = states if isinstance(states, tuple) else (states,)
    return (output.numpy(), *(s.numpy() for s in states))


def keras_states(case: dict[str, Any], outputs: list[Any]) -> list[Any]:
    """Keras's [seq, h, (c), (backward h, c)] -> torch-ordered (h_n[, c_n]) per direction."""
    import numpy as np

    per = 2 if case["cell"] == "lstm" else 1
    directions = 2 if case["bidirectional"] else 1
    states = outputs[1:]
    return [np.stack([states[d * per + k] for d in range(directions)]) for k in range(per)]


def ort_run(path: Path, x: Any) -> list[Any]:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    result: list[Any] = session.run(None, {session.get_inputs()[0].name: x})
    return result


def onnx_sequence(y: Any) -> Any:
    """ONNX's Y [seq, dirs, batch, hidden] as PyTorch's output [seq, batch, dirs * hidden]."""
    seq, dirs, batch, hidden = y.shape
    return y.transpose(0, 2, 1, 3).reshape(seq, batch, dirs * hidden)


def inputs(case: dict[str, Any], seq: int = 5, batch: int = 3) -> Any:
    import numpy as np

    return np.random.default_rng(case["seed"] + 1).normal(size=(seq, batch, case["input"])).astype("float32")


@pytest.mark.parametrize("seed", range(CASES))
def test_keras_to_torch(seed: int, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    case = draw(400 + seed, stack=False, tanh=False)
    model = keras_model(case)
    source = tmp_path / ("m.keras", "m.weights.h5", "m.h5")[seed // 2 % 3]  # (relu: a config)
    model.save_weights(source) if source.name.endswith(".weights.h5") else model.save(source)
    summary = port(source, "torch", tmp_path / "out.safetensors")
    if case["cell"] == "rnn":
        assert (f"nonlinearity='{case['activation']}'" in summary["layers"][0]["target"]) == (
            case["activation"] != "tanh"
        )
    module = torch_module({**case, "layers": 1})
    module.batch_first = True
    module.load_state_dict(load_file(tmp_path / "out.safetensors"))
    x = inputs(case).transpose(1, 0, 2).copy()
    want = [o.detach().cpu().numpy() for o in model(torch.from_numpy(x))]
    got = torch_run(module, x)
    close(got[0], want[0])
    for state, expected in zip(got[1:], keras_states(case, want), strict=True):
        close(state, expected)


@pytest.mark.parametrize("seed", range(CASES))
def test_torch_to_keras(seed: int, tmp_path: Path) -> None:
    import keras
    import numpy as np
    import torch

    case = draw(500 + seed, stack=True)
    module = torch_module(case)
    source = tmp_path / "m.pt"
    torch.save(module.state_dict(), source, _use_new_zipfile_serialization=seed % 2 == 0)
    port(source, "keras", tmp_path / "out.weights.h5")
    written = (tmp_path / "out.json").read_text()
    model = keras.models.model_from_json(written)
    assert json.loads(model.to_json()) == json.loads(written)  # the model's own to_json()
    model.load_weights(tmp_path / "out.weights.h5")
    model.save_weights(tmp_path / "keras.weights.h5")  # Keras's own layout of the same model
    assert h5_layout(tmp_path / "out.weights.h5") == h5_layout(tmp_path / "keras.weights.h5")
    x = inputs(case)
    want = torch_run(module, x)
    outputs = [o.detach().cpu().numpy() for o in model(torch.from_numpy(x.transpose(1, 0, 2).copy()))]
    close(outputs[0].transpose(1, 0, 2), want[0])
    per = 2 if case["cell"] == "lstm" else 1
    directions = 2 if case["bidirectional"] else 1
    states = outputs[1:]
    for k in range(per):  # Keras: per level, per direction, h then c; torch: h_n then c_n
        stacked = [states[(level * directions + d) * per + k] for level in range(case["layers"])
                   for d in range(directions)]  # fmt: skip
        close(np.stack(stacked), want[1 + k])


@pytest.mark.parametrize("seed", range(CASES))
def test_torch_to_onnx(seed: int, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    case = draw(600 + seed, stack=True)
    module = torch_module(case)
    source = tmp_path / ("m.safetensors" if seed % 2 else "m.pt")
    state = {f"enc.{k}": v.contiguous() for k, v in module.state_dict().items()}
    save_file(state, source) if seed % 2 else torch.save(state, source)
    port(source, "onnx", tmp_path / "out.onnx")
    x = inputs(case)
    want = torch_run(module, x)
    got = ort_run(tmp_path / "out.onnx", x)
    close(onnx_sequence(got[0]), want[0])
    for state_got, state_want in zip(got[1:], want[1:], strict=True):
        close(state_got, state_want)


def onnx_source(case: dict[str, Any], source: Path) -> None:
    """An ONNX model of one node with random weights (RNN activations Relu when the case has relu)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    cell, hidden, size = case["cell"], case["hidden"], case["input"]
    directions = 2 if case["bidirectional"] else 1
    rng = np.random.default_rng(case["seed"])
    gates = GATES[cell] * hidden
    weights = {"W": (directions, gates, size), "R": (directions, gates, hidden)}
    if case["bias"]:
        weights["B"] = (directions, 2 * gates)
    arrays = {name: rng.normal(0, 0.5, shape).astype("float32") for name, shape in weights.items()}
    attributes: dict[str, Any] = {
        "hidden_size": hidden,
        "direction": "bidirectional" if directions == 2 else "forward",
    }
    if cell == "gru":
        attributes["linear_before_reset"] = 1
    if case["activation"] == "relu":
        attributes["activations"] = ["Relu"] * directions
    outputs = ["Y", "Y_h", "Y_c"] if cell == "lstm" else ["Y", "Y_h"]
    node = helper.make_node(TORCH_CLASSES[cell], ["X", *arrays], outputs, name="enc", **attributes)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["s", "b", size])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs],
        [numpy_helper.from_array(array, name) for name, array in arrays.items()],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, source)


@pytest.mark.parametrize("seed", range(CASES))
def test_onnx_to_torch(seed: int, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    case = draw(700 + seed, stack=False, tanh=False)
    source = tmp_path / "m.onnx"
    onnx_source(case, source)
    summary = port(source, "torch", tmp_path / "out.safetensors")
    if case["cell"] == "rnn":
        assert ("nonlinearity='relu'" in summary["layers"][0]["target"]) == (case["activation"] == "relu")
    module = torch_module(case)
    module.load_state_dict(load_file(tmp_path / "out.safetensors"))
    x = inputs(case)
    want = ort_run(source, x)
    got = torch_run(module, x)
    close(got[0], onnx_sequence(want[0]))
    for state_got, state_want in zip(got[1:], want[1:], strict=True):
        close(state_got, state_want)


@pytest.mark.parametrize("seed", range(CASES))
def test_keras_to_onnx(seed: int, tmp_path: Path) -> None:
    import torch

    case = draw(800 + seed, stack=False, keras_gru_before=True, tanh=False)
    model = keras_model(case)
    source = tmp_path / "m.keras"
    model.save(source)
    port(source, "onnx", tmp_path / "out.onnx")
    if case["cell"] == "rnn":
        import onnx

        (node,) = onnx.load(tmp_path / "out.onnx").graph.node
        written = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        directions = 2 if case["bidirectional"] else 1
        expected = [b"Relu"] * directions if case["activation"] == "relu" else None
        assert written.get("activations") == expected
    x = inputs(case)
    want = [o.detach().cpu().numpy() for o in model(torch.from_numpy(x.transpose(1, 0, 2).copy()))]
    got = ort_run(tmp_path / "out.onnx", x)
    close(onnx_sequence(got[0]), want[0].transpose(1, 0, 2))
    for state, expected in zip(got[1:], keras_states(case, want), strict=True):
        close(state, expected)


def onnx_to_keras(case: dict[str, Any], tmp_path: Path) -> None:
    """``case``'s ONNX node ported to Keras and loaded from the written JSON and weights: the
    same outputs and final states as onnxruntime's."""
    import keras
    import torch

    source = tmp_path / "m.onnx"
    onnx_source(case, source)
    port(source, "keras", tmp_path / "out.weights.h5")
    model = keras.models.model_from_json((tmp_path / "out.json").read_text())
    if case["cell"] == "rnn":
        inner = getattr(model.layers[-1], "forward_layer", model.layers[-1])
        assert inner.get_config()["activation"] == case["activation"]
    model.load_weights(tmp_path / "out.weights.h5")
    x = inputs(case)
    want = ort_run(source, x)
    outputs = [o.detach().cpu().numpy() for o in model(torch.from_numpy(x.transpose(1, 0, 2).copy()))]
    close(outputs[0].transpose(1, 0, 2), onnx_sequence(want[0]))
    for state, expected in zip(keras_states(case, outputs), want[1:], strict=True):
        close(state, expected)


@pytest.mark.parametrize("seed", range(CASES))
def test_onnx_to_keras(seed: int, tmp_path: Path) -> None:
    onnx_to_keras(draw(900 + seed, stack=False, tanh=False), tmp_path)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_relu_rnn_node_to_keras(bidirectional: bool, tmp_path: Path) -> None:
    case = {**draw(902, stack=False), "activation": "relu", "bidirectional": bidirectional}
    onnx_to_keras(case, tmp_path)


def test_a_file_of_several_layers_keeps_each_under_its_name(tmp_path: Path) -> None:
    import numpy as np
    import onnxruntime
    import torch

    class Two(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(5, 3)
            self.encoder = torch.nn.GRU(3, 4, bidirectional=True)
            self.decoder = torch.nn.LSTM(8, 2, num_layers=2)

    torch.manual_seed(3)
    two = Two().eval()
    torch.save(two.state_dict(), tmp_path / "m.pt")
    summary = port(tmp_path / "m.pt", "onnx", tmp_path / "out.onnx")
    assert [layer["name"] for layer in summary["layers"]] == ["encoder", "decoder"]
    assert summary["not_converted"] == [{"name": "embed", "reason": "not a recurrent layer"}]
    session = onnxruntime.InferenceSession(str(tmp_path / "out.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["encoder.X", "decoder.X"]
    x = np.random.default_rng(0).normal(size=(4, 2, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(4, 2, 8)).astype("float32")
    got = dict(
        zip(
            [o.name for o in session.get_outputs()],
            session.run(None, {"encoder.X": x, "decoder.X": y}),
            strict=True,
        )
    )
    with torch.no_grad():
        encoded, _ = two.encoder(torch.from_numpy(x))
        decoded, (h, c) = two.decoder(torch.from_numpy(y))
    close(onnx_sequence(got["encoder.Y"]), encoded.numpy())
    close(onnx_sequence(got["decoder.Y"]), decoded.numpy())
    close(got["decoder.Y_h"], h.numpy())
    close(got["decoder.Y_c"], c.numpy())


def test_values_are_what_the_frameworks_load(tmp_path: Path) -> None:
    """read_values against torch.load, h5py and onnx: every fixture, and strided, tied and
    offset tensors in both torch.save formats."""
    import h5py
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper

    from shapecalc.weights.reader import read_weights
    from shapecalc.weights.values import read_values

    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    views = {"w": base, "t": base.t(), "part": base[1:, 2:5], "tied": base, "half": base.half()}
    for legacy in (False, True):
        path = tmp_path / f"views{int(legacy)}.pt"
        torch.save(views, path, _use_new_zipfile_serialization=not legacy)
        result = read_weights(path)
        values = read_values(path, result.format, [row.tensor for row in result.tensors])
        for name, tensor in views.items():
            assert values[name].dtype == tensor.numpy().dtype
            assert np.array_equal(values[name], tensor.numpy()), (legacy, name)
    data = Path(__file__).parent.parent / "data" / "weights"
    for path in sorted(data.iterdir()):
        if path.suffix in (".py", ".json") or path.name.startswith(("evil", "module", "scripted", "not_")):
            continue
        result = read_weights(path)
        values = read_values(path, result.format, [row.tensor for row in result.tensors])
        if result.format.startswith("pytorch"):
            state = torch.load(path, weights_only=True)
            from shapecalc.weights.torch_format import STATE_DICT_KEYS

            state = next((state[k] for k in STATE_DICT_KEYS if isinstance(state.get(k), dict)), state)
            want = {
                name: tensor.numpy() for name, tensor in state.items() if isinstance(tensor, torch.Tensor)
            }
        elif result.format == "onnx":
            want = {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}
        elif result.format == "safetensors":
            from safetensors.numpy import load_file

            want = load_file(path)
        else:
            continue  # Keras: checked below through each dataset's own path
        for name, array in values.items():
            assert np.array_equal(array, want[name]), (path.name, name)
    for name in ("tagger.weights.h5", "tagger.h5"):
        result = read_weights(data / name)
        values = read_values(data / name, result.format, [row.tensor for row in result.tensors])
        with h5py.File(data / name, "r") as h5:
            for row in result.tensors:
                assert np.array_equal(values[row.tensor.name], h5[row.tensor.storage[0]][()])
