"""``shapecalc weights`` on files the real frameworks write: random ``nn.LSTM``/``nn.GRU``/``nn.RNN``
modules inside small models, saved with ``torch.save`` (zip and legacy) and as safetensors;
random Keras models saved as ``.keras``, ``.weights.h5`` and legacy ``.h5``; PyTorch modules
exported to ONNX. Every tensor's name, shape and dtype must be what the framework reports,
and every rebuilt recurrent layer's config the one the file was made from.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest
from oracle_support import ORACLE_MARKS, require_frameworks

from shapecalc.weights.reader import read_weights

pytestmark = [
    *ORACLE_MARKS,
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]
os.environ.setdefault("KERAS_BACKEND", "torch")

TORCH_CASES = 24
KERAS_CASES = 10
ONNX_CASES = 8
CELLS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


@pytest.fixture(scope="module", autouse=True)
def _frameworks() -> None:
    require_frameworks("torch", "keras", "safetensors", "h5py", "onnx")


def listed(path: Path) -> list[tuple[str, tuple[int, ...], str]]:
    return [(row.tensor.name, row.tensor.shape, row.tensor.dtype) for row in read_weights(path).tensors]


# ------------------------------------------------------------------------------------------ PyTorch
def torch_config(rng: random.Random) -> tuple[str, dict[str, Any]]:
    cell = rng.choice(list(CELLS))
    hidden = rng.randint(2, 6)
    config: dict[str, Any] = {
        "input_size": rng.randint(1, 6),
        "hidden_size": hidden,
        "num_layers": rng.randint(1, 3),
        "bidirectional": rng.random() < 0.5,
        "bias": rng.random() < 0.7,
    }
    if cell == "lstm" and rng.random() < 0.4:
        config["proj_size"] = rng.randint(1, hidden - 1)
    return cell, config


def torch_model(rng: random.Random, cell: str, config: dict[str, Any]) -> Any:
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = torch.nn.LayerNorm(config["input_size"])
            self.rnn = getattr(torch.nn, CELLS[cell])(**config)

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(7, config["input_size"])
            self.encoder = Encoder()
            self.head = torch.nn.Linear(config["input_size"], 7, bias=False)
            if rng.random() < 0.5:
                self.head.weight = self.embed.weight  # tied: counted once

    model = Model()
    return model.double() if rng.random() < 0.2 else model


@pytest.mark.parametrize("seed", range(TORCH_CASES))
def test_torch_files_list_every_tensor_and_rebuild_the_module(tmp_path: Path, seed: int) -> None:
    import torch
    from safetensors.torch import save_file

    rng = random.Random(seed)
    cell, config = torch_config(rng)
    model = torch_model(rng, cell, config)
    state = model.state_dict()
    truth = [(name, tuple(t.shape), str(t.dtype).removeprefix("torch.")) for name, t in state.items()]
    params = sum(p.numel() for p in model.parameters())  # parameters() lists a tied one once
    wrapped = {"model": state, "epoch": seed} if rng.random() < 0.5 else state
    torch.save(wrapped, tmp_path / "zip.pt")
    torch.save(wrapped, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    untied = {name: t.clone() for name, t in state.items()}  # safetensors refuses shared tensors
    save_file(untied, tmp_path / "m.safetensors")
    for name in ("zip.pt", "legacy.pt", "m.safetensors"):
        result = read_weights(tmp_path / name)
        ours = listed(tmp_path / name)
        assert (sorted(ours) if name.endswith("safetensors") else ours) == (
            sorted(truth) if name.endswith("safetensors") else truth
        ), name
        if not name.endswith("safetensors"):
            assert result.params == params, name
        assert result.problems == ()
        (layer,) = result.layers
        assert layer.name == "encoder.rnn" and layer.result.layer == f"nn.{CELLS[cell]}"
        built = layer.result.config
        expected = {**config, "proj_size": config.get("proj_size", 0), "use_bias": config["bias"]}
        del expected["bias"]
        assert {key: built[key] for key in expected if key in built} == {
            key: value for key, value in expected.items() if key in built
        }, name
        assert built["cell"] == cell and built["batch_first"] is False


# ------------------------------------------------------------------------------------------- Keras
def keras_model(rng: random.Random) -> tuple[Any, list[dict[str, Any]]]:
    import keras

    timesteps, features = rng.randint(2, 5), rng.randint(1, 5)
    inputs = keras.Input((timesteps, features))
    x, made = inputs, []
    count = rng.randint(1, 3)
    for position in range(count):
        class_name = rng.choice(["LSTM", "GRU", "SimpleRNN"])
        options: dict[str, Any] = {
            "units": rng.randint(1, 5),
            "use_bias": rng.random() < 0.8,
            "return_sequences": position < count - 1 or rng.random() < 0.3,
        }
        if class_name == "GRU":
            options["reset_after"] = rng.random() < 0.5
        layer = getattr(keras.layers, class_name)(**options)
        record = {"class_name": class_name, **options, "bidirectional": False}
        if rng.random() < 0.4:
            merge_mode = rng.choice(["concat", "sum", "ave", "mul"])
            layer = keras.layers.Bidirectional(layer, merge_mode=merge_mode)
            record.update(bidirectional=True, merge_mode=merge_mode)
        record["input_dim"] = int(x.shape[-1])
        x = layer(x)
        record["name"] = layer.name
        made.append(record)
    if len(x.shape) == 3:
        x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(rng.randint(1, 3))(x)
    return keras.Model(inputs, outputs), made


@pytest.mark.parametrize("seed", range(KERAS_CASES))
def test_keras_files_list_every_weight_and_rebuild_the_layers(tmp_path: Path, seed: int) -> None:
    rng = random.Random(1000 + seed)
    model, made = keras_model(rng)
    truth = [(w.path, tuple(w.shape), str(w.dtype)) for w in model.weights]
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    model.save(tmp_path / "m.h5")
    for name in ("m.keras", "m.weights.h5", "m.h5"):
        ours = listed(tmp_path / name)
        unordered = name == "m.weights.h5"
        assert (sorted(ours) if unordered else ours) == (sorted(truth) if unordered else truth), name
        result = read_weights(tmp_path / name)
        assert result.params == model.count_params() and result.problems == (), name
        by_name = {layer.name: layer for layer in result.layers}
        assert set(by_name) == {record["name"] for record in made}, name
        for record in made:
            built = by_name[record["name"]].result.config
            carried = ["units", "input_dim", "use_bias", "bidirectional"]  # what the weights alone say
            if record["class_name"] == "GRU" and record["use_bias"]:
                carried.append("reset_after")
            if name != "m.weights.h5":
                carried += (
                    ["return_sequences", "merge_mode", "reset_after"]
                    if record["bidirectional"]
                    else ["return_sequences"]
                )
            want = {key: record[key] for key in carried if key in record}
            assert {key: built[key] for key in want} == want, (name, record)
            layer_class = by_name[record["name"]].result.layer
            inner = record["class_name"]
            assert layer_class == (f"Bidirectional({inner})" if record["bidirectional"] else inner)


def test_a_convlstm_keras_file_is_rebuilt(tmp_path: Path) -> None:
    import keras

    inputs = keras.Input((3, 6, 5, 2))
    x = keras.layers.ConvLSTM2D(3, (3, 2), strides=(2, 1), padding="same", return_sequences=True)(inputs)
    outputs = keras.layers.ConvLSTM2D(2, 3, data_format="channels_last")(x)
    model = keras.Model(inputs, outputs)
    model.save(tmp_path / "c.keras")
    model.save_weights(tmp_path / "c.weights.h5")
    truth = [(w.path, tuple(w.shape), str(w.dtype)) for w in model.weights]
    assert listed(tmp_path / "c.keras") == truth
    assert sorted(listed(tmp_path / "c.weights.h5")) == sorted(truth)
    first, second = read_weights(tmp_path / "c.keras").layers
    assert first.result.config["kernel_size"] == [3, 2] and first.result.config["strides"] == [2, 1]
    assert first.result.config["input_shape"] == [6, 5, 2] and first.result.config["padding"] == "same"
    assert second.result.config["input_shape"] == [3, 5, 3]
    output = second.result.tensor("output").shape
    assert tuple(output)[1:] == tuple(model.output.shape)[1:]
    alone = read_weights(tmp_path / "c.weights.h5").layers[0]
    assert alone.result.config["filters"] == 3 and alone.result.config["input_shape"] == ["W", "H", 2]


# -------------------------------------------------------------------------------------------- ONNX
@pytest.mark.parametrize("seed", range(ONNX_CASES))
def test_onnx_exports_list_every_initializer_and_rebuild_the_nodes(tmp_path: Path, seed: int) -> None:
    import onnx
    import torch

    rng = random.Random(2000 + seed)
    cell, config = torch_config(rng)
    config.pop("proj_size", None)  # the ONNX exporter has no projection

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = getattr(torch.nn, CELLS[cell])(**config)

        def forward(self, x: Any) -> Any:
            return self.rnn(x)[0]

    path = tmp_path / "m.onnx"
    torch.onnx.export(Model(), (torch.zeros(4, 2, config["input_size"]),), str(path), dynamo=False)
    graph = onnx.load(str(path)).graph
    truth = [(i.name, tuple(i.dims), "float32") for i in graph.initializer]
    assert listed(path) == truth
    result = read_weights(path)
    assert result.problems == ()
    directions = 2 if config["bidirectional"] else 1
    assert len(result.layers) == config["num_layers"]
    for number, layer in enumerate(result.layers):
        built = layer.result.config
        assert layer.result.layer == CELLS[cell] and layer.framework == "onnx"
        inputs = config["input_size"] if number == 0 else config["hidden_size"] * directions
        assert (built["input_size"], built["hidden_size"]) == (inputs, config["hidden_size"])
        assert built["direction"] == ("bidirectional" if config["bidirectional"] else "forward")
        assert built["use_bias"] == config["bias"] or not config["bias"]
