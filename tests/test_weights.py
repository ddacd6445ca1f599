"""``shapecalc weights FILE`` on the committed fixtures (``tests/data/weights/``, built by the real
frameworks with ``make_fixtures.py``; ``expected.json`` holds what the frameworks reported).

Every tensor's name, shape and dtype, the params, every rebuilt layer's config, the gate
labels, the JSON contract, the problems of inconsistent files, and the refusals.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shlex
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from shapecalc.weights.reader import read_weights

DATA = Path(__file__).parent / "data" / "weights"
EXPECTED: dict[str, Any] = json.loads((DATA / "expected.json").read_text())
#: Formats whose files list tensors in an order of their own (safetensors sorts; h5py lists alphabetically).
UNORDERED = ("tagger.safetensors", "tagger.weights.h5")
FORMATS = {
    "tagger.pt": "pytorch", "checkpoint_legacy.pt": "pytorch-legacy", "tagger.safetensors": "safetensors",
    "zoo.pth": "pytorch", "tagger.keras": "keras", "tagger.weights.h5": "keras-weights",
    "tagger.h5": "keras-h5", "exported.onnx": "onnx",
}  # fmt: skip


def weights_json(run_cli: Any, name: str | Path, *args: str) -> tuple[int, dict[str, Any], str]:
    done = run_cli("weights", str(DATA / name), "--format", "json", *args)
    return done.code, json.loads(done.out) if done.out else {}, done.err


def layer(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(layer for layer in doc["layers"] if layer["name"] == name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_tensor_is_what_the_framework_reported(run_cli: Any, name: str) -> None:
    code, doc, err = weights_json(run_cli, name)
    assert code == 0, err
    assert doc["format"] == FORMATS[name]
    ours = [[t["name"], t["shape"], t["dtype"]] for t in doc["tensors"]]
    theirs = EXPECTED[name]["tensors"]
    assert (sorted(ours) if name in UNORDERED else ours) == (sorted(theirs) if name in UNORDERED else theirs)
    for tensor in doc["tensors"]:
        assert tensor["bytes"] == 4 * _elements(tensor["shape"])
    if "params" in EXPECTED[name]:
        assert doc["params"] == EXPECTED[name]["params"]


def _elements(shape: list[int]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


@pytest.mark.parametrize("name", ["tagger.pt", "tagger.safetensors", "checkpoint_legacy.pt"])
def test_a_bidirectional_two_layer_lstm_is_rebuilt(run_cli: Any, name: str) -> None:
    _, doc, _ = weights_json(run_cli, name)
    assert [layer["name"] for layer in doc["layers"]] == ["lstm"]
    lstm = doc["layers"][0]
    assert lstm["layer"] == "nn.LSTM" and lstm["framework"] == "torch"
    config = lstm["config"]
    assert (config["input_size"], config["hidden_size"], config["num_layers"]) == (3, 4, 2)
    assert config["bidirectional"] is True and config["proj_size"] == 0 and config["use_bias"] is True
    assert lstm["assumed"] == ["batch_first=False (a state_dict does not store it)"]
    assert len(lstm["tensors"]) == 16 and lstm["result"]["params"] == 736
    assert lstm["command"] == (
        "shapecalc lstm --framework torch --hidden-size 4 --input-size 3 --bidirectional --num-layers 2"
    )
    assert doc["problems"] == []


def test_projection_no_bias_and_rnn_are_rebuilt(run_cli: Any) -> None:
    _, doc, _ = weights_json(run_cli, "zoo.pth")
    projected, gru, rnn = (layer(doc, name) for name in ("projected", "gru", "rnn"))
    assert projected["layer"] == "nn.LSTM" and projected["config"]["proj_size"] == 2
    assert projected["config"]["hidden_size"] == 4 and projected["config"]["input_size"] == 3
    assert gru["layer"] == "nn.GRU" and gru["config"]["use_bias"] is False
    assert (gru["config"]["input_size"], gru["config"]["hidden_size"]) == (2, 3)
    assert rnn["layer"] == "nn.RNN" and (rnn["config"]["input_size"], rnn["config"]["hidden_size"]) == (3, 2)
    # The file was made with nonlinearity="relu", batch_first=True: a state_dict cannot tell, so they are
    # assumed (the defaults) and listed, never guessed silently.
    assert any(item.startswith("nonlinearity='tanh'") for item in rnn["assumed"])
    assert any(item.startswith("batch_first=False") for item in rnn["assumed"])


def test_a_checkpoint_lists_the_model_and_summarises_the_optimizer(run_cli: Any) -> None:
    _, doc, _ = weights_json(run_cli, "checkpoint_legacy.pt")
    assert doc["tensors"][0]["name"] == "embed.weight"  # the state_dict's own keys, no wrapper prefix
    assert doc["other_tensors"] == [{"what": "optimizer state (optimizer)", "tensors": 2, "bytes": 72}]


@pytest.mark.parametrize("name", ["tagger.keras", "tagger.h5"])
def test_keras_layers_come_from_the_config(run_cli: Any, name: str) -> None:
    _, doc, _ = weights_json(run_cli, name)
    bidirectional, gru = layer(doc, "bidirectional"), layer(doc, "gru")
    assert bidirectional["layer"] == "Bidirectional(LSTM)" and bidirectional["assumed"] == []
    config = bidirectional["config"]
    assert (config["units"], config["input_dim"], config["merge_mode"], config["return_sequences"]) == (
        2, 3, "sum", True,
    )  # fmt: skip
    assert gru["layer"] == "GRU" and gru["config"]["reset_after"] is False and gru["config"]["units"] == 3
    assert gru["config"]["input_dim"] == 2  # merge_mode="sum" keeps 2 features
    assert len(bidirectional["tensors"]) == 6


def test_a_weights_file_alone_assumes_what_it_cannot_carry(run_cli: Any) -> None:
    _, doc, _ = weights_json(run_cli, "tagger.weights.h5")
    bidirectional, gru = layer(doc, "bidirectional"), layer(doc, "gru")
    assert bidirectional["layer"] == "Bidirectional(LSTM)"
    assert bidirectional["config"]["merge_mode"] == "concat"  # really "sum": not in the file
    assert any(item.startswith("merge_mode='concat'") for item in bidirectional["assumed"])
    assert any(item.startswith("return_sequences=False") for item in bidirectional["assumed"])
    # reset_after is in the bias's shape: (9,) is reset_after=False, so it is known, not assumed
    assert gru["config"]["reset_after"] is False
    assert not any("reset_after" in item for item in gru["assumed"])


def test_onnx_nodes_are_rebuilt_in_the_onnx_convention(run_cli: Any) -> None:
    _, doc, _ = weights_json(run_cli, "exported.onnx")
    lstm, gru = doc["layers"]
    assert lstm["framework"] == "onnx" and lstm["layer"] == "LSTM" and gru["layer"] == "GRU"
    config = lstm["config"]
    assert (config["input_size"], config["hidden_size"], config["direction"]) == (3, 4, "bidirectional")
    assert (gru["config"]["input_size"], gru["config"]["hidden_size"]) == (8, 2)
    # torch.onnx exports nn.GRU with linear_before_reset=1, and the rebuilt node keeps it
    assert gru["config"]["linear_before_reset"] is True
    assert lstm["result"]["gate_order"] == ["i", "o", "f", "c"]
    assert lstm["command"].startswith("shapecalc lstm --framework onnx")
    w = next(t for t in doc["tensors"] if t["name"] == lstm["tensors"][0])
    assert w["shape"] == [2, 16, 3]
    assert [g["gate"] for g in w["gates"]] == list("iofc") * 2
    assert w["gates"][1]["index"] == "[0, 4:8, :]" and w["gates"][4]["index"] == "[1, 0:4, :]"


def test_gate_slices_are_labelled_in_the_file_s_own_convention(run_cli: Any) -> None:
    _, doc, _ = weights_json(run_cli, "tagger.pt")
    ih = next(t for t in doc["tensors"] if t["name"] == "lstm.weight_ih_l0")
    assert ih["gates"] == [{"gate": g, "index": f"[{4 * k}:{4 * k + 4}]"} for k, g in enumerate("ifgo")]
    assert "gates" not in doc["tensors"][0]  # embed.weight
    _, doc, _ = weights_json(run_cli, "tagger.keras")
    kernel = next(t for t in doc["tensors"] if t["name"] == "gru/gru_cell/kernel")
    assert kernel["gates"] == [{"gate": g, "index": f"[:, {3 * k}:{3 * k + 3}]"} for k, g in enumerate("zrh")]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_layer_s_command_reproduces_its_table(run_cli: Any, name: str) -> None:
    _, doc, _ = weights_json(run_cli, name)
    for rebuilt in doc["layers"]:
        words = shlex.split(rebuilt["command"])
        assert words[0] == "shapecalc"
        again = run_cli(*words[1:], "--format", "json")
        assert again.code == 0, again.err
        assert json.loads(again.out) == rebuilt["result"]
        assert rebuilt["config"] == rebuilt["result"]["config"]


def test_the_json_contract(run_cli: Any) -> None:
    _, doc, _ = weights_json(run_cli, "tagger.pt")
    assert list(doc) == [
        "schema_version", "file", "format", "metadata", "tensors", "params", "bytes", "other_tensors",
        "layers", "problems",
    ]  # fmt: skip
    assert doc["schema_version"] == 1 and doc["file"] == "tagger.pt"
    assert list(doc["layers"][0]) == [
        "name",
        "framework",
        "layer",
        "assumed",
        "config",
        "tensors",
        "command",
        "result",
    ]
    assert doc["bytes"] == sum(t["bytes"] for t in doc["tensors"])


def test_a_missing_layer_tensor_is_a_problem(run_cli: Any) -> None:
    code, doc, err = weights_json(run_cli, "missing_layer.pt")
    assert code == 1
    assert doc["problems"] == ["lstm: lstm.weight_ih_l1 is missing (nn.LSTM stores it as (16, 8))"]
    assert err == (
        "Error: missing_layer.pt: the tensors contradict their config: "
        "lstm: lstm.weight_ih_l1 is missing (nn.LSTM stores it as (16, 8))\n"
    )


def test_a_kernel_that_does_not_fit_units_is_a_problem(run_cli: Any) -> None:
    code, doc, err = weights_json(run_cli, "wrong_units.keras")
    assert code == 1 and err.count("\n") == 1 and "(and 2 more" in err
    assert doc["problems"] == [
        "gru: gru/gru_cell/kernel is (2, 9), but GRU with this config stores (2, 12)",
        "gru: gru/gru_cell/recurrent_kernel is (3, 9), but GRU with this config stores (4, 12)",
        "gru: gru/gru_cell/bias is (9,), but GRU with this config stores (12,)",
    ]


def test_a_safetensors_file_s_metadata_and_tied_tensors(tmp_path: Path) -> None:
    header = {
        "__metadata__": {"format": "pt"},
        "embed.weight": {"dtype": "F16", "shape": [4, 2], "data_offsets": [0, 16]},
        "head.weight": {"dtype": "F16", "shape": [4, 2], "data_offsets": [0, 16]},  # tied to embed.weight
        "steps": {"dtype": "I64", "shape": [], "data_offsets": [16, 24]},
    }
    path = _safetensors(tmp_path, header, 24)
    result = read_weights(path)
    assert result.metadata == {"format": "pt"}
    assert result.params == 8  # the tied tensor once, the integer one not at all
    assert [(row.tensor.dtype, row.tensor.bytes) for row in result.tensors] == [
        ("float16", 16), ("float16", 16), ("int64", 8),
    ]  # fmt: skip


def _safetensors(tmp_path: Path, header: dict[str, Any], data: int, name: str = "m.safetensors") -> Path:
    raw = json.dumps(header).encode()
    path = tmp_path / name
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(data))
    return path


def test_layer_keeps_one_layer_and_names_the_others(run_cli: Any) -> None:
    code, doc, _ = weights_json(run_cli, "zoo.pth", "--layer", "gru")
    assert code == 0
    assert [layer["name"] for layer in doc["layers"]] == ["gru"]
    assert [t["name"] for t in doc["tensors"]] == ["gru.weight_ih_l0", "gru.weight_hh_l0"]
    done = run_cli("weights", str(DATA / "zoo.pth"), "--layer", "gr")
    assert done.code == 2
    assert done.err == (
        "Error: zoo.pth: layer: no layer 'gr' (did you mean 'gru'?); the file has 'gru', 'projected', 'rnn'\n"
    )


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_table_and_markdown_show_every_tensor_and_layer(run_cli: Any, fmt: str) -> None:
    done = run_cli("weights", str(DATA / "zoo.pth"), "--format", fmt)
    assert done.code == 0, done.err
    for name, *_ in EXPECTED["zoo.pth"]["tensors"]:
        assert name in done.out
    for text in (
        "nn.LSTM",
        "nn.GRU",
        "nn.RNN",
        "assumed: nonlinearity='tanh'",
        "shapecalc rnn --framework torch",
    ):
        assert text in done.out
    assert "i [0:4], f [4:8], g [8:12], o [12:16]" in done.out


# ------------------------------------------------------------------------------------------- refusals
MARKER = Path("/tmp/shapecalc-weights-pwned")


@pytest.mark.parametrize("name", ["evil.pt", "evil_legacy.pt"])
def test_a_pickle_that_calls_os_system_is_refused_and_nothing_runs(run_cli: Any, name: str) -> None:
    MARKER.unlink(missing_ok=True)
    done = run_cli("weights", str(DATA / name))
    assert done.code == 2
    assert done.err == (
        f"Error: {name}: refused: the pickle asks for posix.system, which is not a tensor, storage or "
        "plain container (nothing was run)\n"
    )
    assert not MARKER.exists()


class _Gadget:
    def __init__(self, target: Any, args: tuple[Any, ...]) -> None:
        self.target, self.args = target, args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.target, self.args)


def _torch_zip(
    tmp_path: Path, payload: bytes, name: str = "m.pt", compress: int = zipfile.ZIP_STORED
) -> Path:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compress) as archive:
        archive.writestr("m/data.pkl", payload)
        archive.writestr("m/version", "3\n")
    path = tmp_path / name
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        (
            pickle.dumps(_Gadget(eval, ("open('/tmp/shapecalc-weights-pwned', 'w')",)), protocol=2),
            "__builtin__.eval",
        ),
        (pickle.dumps(_Gadget(exec, ("import os",)), protocol=4), "builtins.exec"),
        (pickle.dumps(_Gadget(subprocess.Popen, (["touch", str(MARKER)],))), "subprocess.Popen"),
        (b"cos\nsystem\n(S'touch /tmp/shapecalc-weights-pwned'\ntR.", "os.system"),
        (b"c__builtin__\ngetattr\n(c__builtin__\nobject\nS'__subclasses__'\ntR.", "__builtin__.getattr"),
        (b"\x80\x02ctorch.nn.modules.rnn\nLSTM\n)\x81.", "torch.nn.modules.rnn.LSTM"),
    ],
)
def test_a_pickle_asking_for_any_other_global_is_refused(
    run_cli: Any, tmp_path: Path, payload: bytes, named: str
) -> None:
    MARKER.unlink(missing_ok=True)
    done = run_cli("weights", str(_torch_zip(tmp_path, payload)))
    assert done.code == 2
    assert (
        done.err.startswith("Error: m.pt: ") and f"asks for {named}" in done.err and done.err.count("\n") == 1
    )
    assert not MARKER.exists()


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "the file is empty"),
        (lambda p: p.write_bytes(b"hello, world\n" * 10), "not a weights file shapecalc reads"),
        (lambda p: p.write_bytes((DATA / "tagger.pt").read_bytes()[:3000]), "not a readable zip archive"),
        (
            lambda p: p.write_bytes((DATA / "checkpoint_legacy.pt").read_bytes()[:200]),
            "the pickle",
        ),
        (lambda p: p.write_bytes((DATA / "scripted.pt").read_bytes()), "a TorchScript archive"),
        (lambda p: p.write_bytes((DATA / "module.pt").read_bytes()), "a pickled nn.Module"),
        (lambda p: p.write_bytes((DATA / "not_keras.h5").read_bytes()), "an HDF5 file that is not a Keras"),
        (
            lambda p: p.write_bytes(struct.pack("<Q", 10**6) + b'{"a": 1}'),
            "the header claims 1,000,000 bytes",
        ),
        (lambda p: p.write_bytes(struct.pack("<Q", 40) + b'{"w": {"dtype": "F32"}}'.ljust(40)), "the shape"),
    ],
)
def test_bad_files_are_one_line_naming_the_file(run_cli: Any, tmp_path: Path, make: Any, reason: str) -> None:
    path = tmp_path / "bad.pt"
    make(path)
    done = run_cli("weights", str(path))
    assert done.code == 2, done.err
    assert done.err.startswith("Error: bad.pt: ") and reason in done.err and done.err.count("\n") == 1


def test_a_header_that_lies_about_its_length_is_refused(tmp_path: Path, run_cli: Any) -> None:
    header = {"w": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 4_000_000]}}
    done = run_cli("weights", str(_safetensors(tmp_path, header, 16)))
    assert done.code == 2
    assert "data_offsets [0, 4000000] lie outside the file's data" in done.err
    raw = struct.pack("<Q", 2**40) + b'{"w": 1}'
    (tmp_path / "long.safetensors").write_bytes(raw)
    done = run_cli("weights", str(tmp_path / "long.safetensors"))
    assert done.code == 2 and "the header claims 1,099,511,627,776 bytes" in done.err


def test_a_zip_bomb_pickle_is_refused_without_inflating_it(
    tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shapecalc.weights import torch_format

    monkeypatch.setattr(torch_format, "MAX_PICKLE", 2**20)  # the real bound is 256 MB: the same code
    payload = b"\x80\x02N" + b"N" * (4 * 2**20) + b"."
    path = _torch_zip(tmp_path, payload, compress=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 2**15
    done = run_cli("weights", str(path))
    assert done.code == 2 and "data.pkl is 4,194,308 bytes, more than 1 MB" in done.err


@pytest.mark.parametrize(
    ("module", "name", "extra"), [("h5py", "tagger.weights.h5", "h5"), ("onnx", "exported.onnx", "onnx")]
)
def test_a_missing_optional_reader_names_its_extra(
    run_cli: Any, monkeypatch: pytest.MonkeyPatch, module: str, name: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    done = run_cli("weights", str(DATA / name))
    assert done.code == 2
    assert done.err.endswith(f"pip install 'shapecalc[{extra}]'\n") and done.err.count("\n") == 1


def test_no_framework_is_imported() -> None:
    files = [str(DATA / name) for name in EXPECTED]
    code = (
        "import sys; from shapecalc.weights.reader import read_weights\n"
        f"for name in {files!r}: read_weights(name)\n"
        "print(sorted(m for m in ('torch', 'keras', 'tensorflow', 'jax', 'numpy') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "['numpy']"  # h5py and onnx bring NumPy; no framework
