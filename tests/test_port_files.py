"""``shapecalc port FILE`` without the frameworks: what it refuses (exit 2, one line, no file),
where it never writes (over FILE even with --force, over OUT without --force), that a failure
while writing leaves nothing, the missing-extra message, and damaged or hostile files.
(The conversions themselves are proven in ``tests/oracle/test_oracle_port_files.py``.)
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
from fuzzing import check_run, time_limit
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz_files import corrupted
from test_fuzz_weights import FUZZ_SETTINGS, MARKER, SEEDS

DATA = Path(__file__).parent / "data" / "weights"


def _has_engine() -> bool:
    try:
        return importlib.util.find_spec("shapecalc.port.apply") is not None
    except ModuleNotFoundError:
        return False


needs_engine = pytest.mark.skipif(not _has_engine(), reason="the recipe engine (shapecalc.port) is not here")
needs_numpy = pytest.mark.skipif(importlib.util.find_spec("numpy") is None, reason="numpy is not installed")


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("SHAPECALC_DEBUG", raising=False)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from shapecalc.main import main

    capsys.readouterr()
    with time_limit(60):
        code = main(["port", *args])
    captured = capsys.readouterr()
    check_run(["port", *args], code, captured.out, captured.err)
    return code, captured.out, captured.err


def keras_gru_reset_before(path: Path) -> None:
    """A Keras 3 .weights.h5 of one GRU(reset_after=False), in Keras's own layout."""
    import numpy as np

    from shapecalc.portfile.keras_file import weights_bytes
    from shapecalc.portfile.layers import PortedLayer

    arrays = {
        "kernel": np.ones((3, 6), "f4"),
        "recurrent_kernel": np.ones((2, 6), "f4"),
        "bias": np.ones(6, "f4"),
    }
    path.write_bytes(weights_bytes([PortedLayer("gru", "gru", 3, 2, arrays, reset_after=False)]))


@needs_engine
def test_a_refused_layer_exits_2_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("h5py")
    source = tmp_path / "gru.weights.h5"
    keras_gru_reset_before(source)
    code, out, err = run(capsys, str(source), "--to", "torch", "-o", str(tmp_path / "out.safetensors"))
    assert code == 2 and out == ""
    assert err.startswith("Error: gru.weights.h5: layer 'gru': ") and "reset_after" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gru.weights.h5"]


@pytest.mark.parametrize("force", [False, True])
def test_the_output_is_never_the_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, force: bool
) -> None:
    source = tmp_path / "tagger.pt"
    shutil.copy(DATA / "tagger.pt", source)
    before = source.read_bytes()
    link = tmp_path / "link.pt"
    link.symlink_to(source)
    for out in (source, link):
        code, _, err = run(
            capsys, str(source), "--to", "onnx", "-o", str(out), *(["--force"] if force else [])
        )
        assert code == 2 and "is the input" in err
    assert source.read_bytes() == before


def test_an_existing_output_needs_force(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    out.write_bytes(b"keep")
    code, _, err = run(capsys, str(DATA / "tagger.pt"), "--to", "onnx", "-o", str(out))
    assert (
        code == 2
        and err.startswith("Error: --output: ")
        and err.endswith(" exists; give --force to replace it\n")
    )
    assert out.read_bytes() == b"keep"


def test_keras_output_must_end_in_weights_h5(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, str(DATA / "tagger.pt"), "--to", "keras", "-o", str(tmp_path / "out.h5"))
    assert code == 2 and "ending in .weights.h5" in err
    assert list(tmp_path.iterdir()) == []


@needs_engine
@needs_numpy
def test_a_failure_while_writing_leaves_no_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shapecalc.cli.target import OutputFile

    original = OutputFile.write

    def half_then_fail(self: OutputFile, data: bytes) -> None:
        original(self, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    pytest.importorskip("h5py")
    monkeypatch.setattr(OutputFile, "write", half_then_fail)
    code, _, err = run(
        capsys, str(DATA / "tagger.pt"), "--to", "keras", "-o", str(tmp_path / "out.weights.h5")
    )
    assert code != 0 and "No space left" in err
    assert list(tmp_path.iterdir()) == []


@needs_engine
@needs_numpy
def test_a_missing_extra_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnx")
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    code, _, err = run(
        capsys, str(DATA / "exported.onnx"), "--to", "torch", "-o", str(tmp_path / "out.safetensors")
    )
    assert code == 2
    assert err == "Error: writing safetensors needs safetensors: pip install 'shapecalc[port]'\n"
    assert list(tmp_path.iterdir()) == []


def test_numpy_missing_is_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from shapecalc.errors import ShapecalcError
    from shapecalc.port.apply import numpy_module

    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(
        ShapecalcError, match=r"^converting weights needs numpy: pip install 'shapecalc\[port\]'$"
    ):
        numpy_module()


def test_a_file_without_recurrent_layers_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import json
    import struct

    header = json.dumps({"fc.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}).encode()
    source = tmp_path / "fc.safetensors"
    source.write_bytes(struct.pack("<Q", len(header)) + header + bytes(24))
    code, _, err = run(capsys, str(source), "--to", "onnx", "-o", str(tmp_path / "out.onnx"))
    assert code == 2 and err == "Error: fc.safetensors: no recurrent layer (LSTM, GRU, RNN) to convert\n"
    assert not (tmp_path / "out.onnx").exists()


def test_the_pickle_of_a_module_is_refused_not_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("evil.pt", "evil_legacy.pt", "module.pt"):
        MARKER.unlink(missing_ok=True)
        code, _, err = run(capsys, str(DATA / name), "--to", "onnx", "-o", str(tmp_path / "out.onnx"))
        assert code == 2 and err.startswith(f"Error: {name}: ")
        assert not MARKER.exists() and not (tmp_path / "out.onnx").exists()


@needs_engine
@needs_numpy
@pytest.mark.fuzz
@settings(FUZZ_SETTINGS, max_examples=max(FUZZ_SETTINGS.max_examples // 2, 1))
@given(name=st.sampled_from(["tagger.safetensors", "tagger.pt", "checkpoint_legacy.pt"]), data=st.data())
def test_damaged_files_keep_the_contract(
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    data: st.DataObject,
) -> None:
    folder = tmp_path_factory.mktemp("damaged")
    source = folder / name
    source.write_bytes(data.draw(corrupted(SEEDS[name])))
    code, _, _ = run(capsys, str(source), "--to", "torch", "-o", str(folder / "out.safetensors"))
    assert code in (0, 2)
    if code != 0:
        assert not (folder / "out.safetensors").exists()


@needs_engine
@needs_numpy
def test_a_storage_shorter_than_its_tensors_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import zipfile

    source = tmp_path / "short.pt"
    with zipfile.ZipFile(DATA / "tagger.pt") as original, zipfile.ZipFile(source, "w") as damaged:
        for info in original.infolist():
            data = original.read(info)
            damaged.writestr(info, data[:4] if info.filename.startswith("tagger/data/") else data)
    code, _, err = run(capsys, str(source), "--to", "onnx", "-o", str(tmp_path / "out.onnx"))
    assert code == 2 and err.startswith("Error: short.pt: tensor ") and "reach past its storage" in err
    assert not (tmp_path / "out.onnx").exists()


@needs_engine
@needs_numpy
@pytest.mark.parametrize(
    ("attributes", "refused"),
    [({"activations": ["Sigmoid"]}, "activations=['Sigmoid']"), ({"clip": 3.0}, "clip=3.0"),
     ({"activations": ["Relu", "Relu"]}, "activations=['Relu', 'Relu']")],  # two on a forward node
)
def test_onnx_activations_or_clip_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, attributes: dict[str, object], refused: str
) -> None:
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    weights = [numpy_helper.from_array(np.zeros(shape, "f4"), name) for name, shape in
               (("W", (1, 2, 3)), ("R", (1, 2, 2)))]  # fmt: skip
    node = helper.make_node("RNN", ["X", "W", "R"], ["Y"], hidden_size=2, **attributes)
    x, y = (helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in "XY")
    graph = helper.make_graph([node], "g", [x], [y], weights)
    onnx.save(helper.make_model(graph), tmp_path / "rnn.onnx")
    code, _, err = run(
        capsys, str(tmp_path / "rnn.onnx"), "--to", "torch", "-o", str(tmp_path / "out.safetensors")
    )
    assert code == 2 and refused in err and err.startswith("Error: rnn.onnx: layer ")
    assert not (tmp_path / "out.safetensors").exists()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing_layer.pt", "the tensors contradict their config, nothing is converted: lstm: "),
        ("scripted.pt", "a TorchScript archive (torch.jit.save)"),
        ("zoo.pth", "layer 'projected': proj_size: cannot port to onnx: "),
    ],
)
def test_shipped_files_the_port_refuses(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, reason: str
) -> None:
    if name == "zoo.pth" and not _has_engine():
        pytest.skip("the recipe engine (shapecalc.port) is not here")
    code, out, err = run(capsys, str(DATA / name), "--to", "onnx", "-o", str(tmp_path / "out.onnx"))
    assert code == 2 and out == "" and err.startswith(f"Error: {name}: {reason}")
    assert list(tmp_path.iterdir()) == []
