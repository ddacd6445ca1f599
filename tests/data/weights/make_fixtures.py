"""Build the small weights files ``shapecalc weights`` is tested on, with the real frameworks.

    KERAS_BACKEND=torch python tests/data/weights/make_fixtures.py

Each file is a few KB: tiny layers, real formats. ``expected.json`` records what the
frameworks report for each (every tensor's name, shape and dtype; the params), so the fast
tests check shapecalc against the frameworks without importing them.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")
HERE = Path(__file__).resolve().parent


def torch_files(expected: dict[str, Any]) -> None:
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)

    class Tagger(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(6, 3)
            self.lstm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
            self.head = torch.nn.Linear(8, 2)

    class Zoo(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.projected = torch.nn.LSTM(3, 4, proj_size=2)
            self.gru = torch.nn.GRU(2, 3, bias=False)
            self.rnn = torch.nn.RNN(3, 2, nonlinearity="relu", batch_first=True)

    tagger, zoo = Tagger(), Zoo()
    state = tagger.state_dict()
    torch.save(state, HERE / "tagger.pt")
    save_file(state, HERE / "tagger.safetensors", metadata={"framework": "pt"})
    optimizer = torch.optim.SGD(tagger.parameters(), lr=0.1, momentum=0.9)
    tagger.head(torch.zeros(1, 8)).sum().backward()
    optimizer.step()
    checkpoint = {"epoch": 3, "model_state_dict": tagger.state_dict(), "optimizer": optimizer.state_dict()}
    torch.save(checkpoint, HERE / "checkpoint_legacy.pt", _use_new_zipfile_serialization=False)
    torch.save(zoo.state_dict(), HERE / "zoo.pth")
    broken = {k: v for k, v in tagger.state_dict().items() if k != "lstm.weight_ih_l1"}
    torch.save(broken, HERE / "missing_layer.pt")
    torch.jit.script(torch.nn.Linear(2, 2)).save(str(HERE / "scripted.pt"))
    torch.save(torch.nn.Linear(2, 2), HERE / "module.pt")
    for name, module in (("tagger.pt", tagger), ("tagger.safetensors", tagger), ("zoo.pth", zoo)):
        expected[name] = _torch_expected(module)
    expected["checkpoint_legacy.pt"] = _torch_expected(tagger)

    class Exported(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(3, 4, bidirectional=True)
            self.gru = torch.nn.GRU(8, 2)

        def forward(self, x: Any) -> Any:
            y, _ = self.lstm(x)
            return self.gru(y)[0]

    torch.onnx.export(Exported(), (torch.zeros(5, 1, 3),), str(HERE / "exported.onnx"), dynamo=False)
    import onnx

    model = onnx.load(str(HERE / "exported.onnx"))
    expected["exported.onnx"] = {
        "tensors": [[i.name, list(i.dims), "float32"] for i in model.graph.initializer],
        "layers": {"LSTM": [3, 4, True], "GRU": [8, 2, False]},
    }


def _torch_expected(module: Any) -> dict[str, Any]:
    tensors = [
        [k, list(v.shape), str(v.dtype).removeprefix("torch.")] for k, v in module.state_dict().items()
    ]
    return {"tensors": tensors, "params": sum(p.numel() for p in module.parameters())}


def keras_files(expected: dict[str, Any]) -> None:
    import h5py
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    inputs = keras.Input((5, 3))
    x = keras.layers.Bidirectional(keras.layers.LSTM(2, return_sequences=True), merge_mode="sum")(inputs)
    x = keras.layers.GRU(3, reset_after=False)(x)
    outputs = keras.layers.Dense(2)(x)
    model = keras.Model(inputs, outputs, name="tagger")
    model.save(HERE / "tagger.keras")
    model.save_weights(HERE / "tagger.weights.h5")
    model.save(HERE / "tagger.h5")
    record = {
        "tensors": [[w.path, list(w.shape), str(w.dtype)] for w in model.weights],
        "params": model.count_params(),
    }
    for name in ("tagger.keras", "tagger.weights.h5", "tagger.h5"):
        expected[name] = record
    # A .keras archive whose config says units=3 while the GRU's kernel was built for 4 columns' worth.
    with zipfile.ZipFile(HERE / "tagger.keras") as old:
        config = json.loads(old.read("config.json"))
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "GRU":
                layer["config"]["units"] = 4
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
            for item in old.infolist():
                data = json.dumps(config).encode() if item.filename == "config.json" else old.read(item)
                new.writestr(item.filename, data)
    (HERE / "wrong_units.keras").write_bytes(out.getvalue())
    with h5py.File(HERE / "not_keras.h5", "w") as h5:
        h5["data"] = np.zeros((2, 2), "float32")


def hostile_files() -> None:
    """Pickles that would run code: they must be refused, and nothing run."""
    marker = "/tmp/shapecalc-weights-pwned"

    class System:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps({"lstm.weight_ih_l0": System()}, protocol=2)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil/data.pkl", payload)
        archive.writestr("evil/version", "3\n")
    (HERE / "evil.pt").write_bytes(out.getvalue())
    legacy = b"".join(pickle.dumps(v, protocol=2) for v in (0x1950A86A20F9469CFC6C, 1001, {}))
    (HERE / "evil_legacy.pt").write_bytes(legacy + payload)


def main() -> None:
    expected: dict[str, Any] = {}
    torch_files(expected)
    keras_files(expected)
    hostile_files()
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    for path in sorted(HERE.iterdir()):
        print(f"{path.stat().st_size:>8,}  {path.name}")


if __name__ == "__main__":
    main()
