"""Fuzzing ``shapecalc model FILE``: truncated and corrupt YAML / TOML / JSON / ``.keras`` files,
YAML tags that try to build objects, alias bombs, deep nesting, missing and unreadable files.

Each run keeps the contract of ``tests/fuzzing.py``: exit 0, 1 or 2, one ``Error:`` line when
not 0, valid JSON when ``--format json`` succeeds, no traceback, no hang, no crash.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from fuzzing import check_run, command_options, dump_json, mutated_documents, time_limit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz

KERAS_DATA = Path(__file__).parent / "data" / "keras"
EXAMPLES = int(os.environ.get("SHAPECALC_FUZZ_EXAMPLES", "400")) // 2

OWN_YAML = b"""\
name: tagger
input: [timestep, 20]
layers:
  - type: lstm
    name: encoder
    units: 32
    return_sequences: true
  - type: dense
    units: 10
"""
OWN_TOML = b"""\
name = "tagger"
input = ["timestep", 20]

[[layers]]
type = "lstm"
units = 32
return_sequences = true

[[layers]]
type = "dense"
units = 10
"""
OWN_JSON = b'{"input": ["T", "W", "H", 3], "layers": [{"type": "convlstm", "filters": 8, "kernel": [3, 3]}]}'


def seeds() -> dict[str, bytes]:
    """Valid model files of every kind, by file name."""
    files = {"own.yaml": OWN_YAML, "own.toml": OWN_TOML, "own.json": OWN_JSON}
    for name in ("seq2seq_states", "bidirectional_text", "convlstm3d_volume"):
        files[f"{name}.json"] = (KERAS_DATA / f"{name}.json").read_bytes()
        files[f"{name}.keras"] = (KERAS_DATA / f"{name}.keras").read_bytes()
    return files


SEEDS = seeds()


def run_model(capsys: pytest.CaptureFixture[str], path: Path, fmt: str = "json") -> tuple[int, str, str]:
    from shapecalc.main import main

    capsys.readouterr()
    with time_limit(30):
        code = main(["model", str(path), "--format", fmt])
    captured = capsys.readouterr()
    check_run(["model", str(path), "--format", fmt], code, captured.out, captured.err)
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("SHAPECALC_DEBUG", raising=False)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_the_seed_files_are_valid_models(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(SEEDS[name])
    code, _, err = run_model(capsys, path)
    assert code == 0, err


def rezip(archive: bytes, config: bytes) -> bytes:
    """``archive`` (a ``.keras`` zip) with its ``config.json`` replaced by ``config``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as old, zipfile.ZipFile(out, "w") as new:
        for item in old.infolist():
            new.writestr(item, config if item.filename == "config.json" else old.read(item))
    return out.getvalue()


def config_of(archive: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(archive)) as old:
        return old.read("config.json")


@st.composite
def corrupted(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` truncated, with bytes flipped, inserted, deleted or a span repeated."""
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        how = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "repeat"]))
        if how == "truncate":
            data = data[:at]
        elif how == "flip":
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
        elif how == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        elif how == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 16)) :]
        else:
            span = data[at : at + draw(st.integers(1, 64))]
            data = data[:at] + span * draw(st.integers(2, 50)) + data[at:]
    return data


@st.composite
def damaged_files(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = SEEDS[name]
    if name.endswith(".keras") and draw(st.booleans()):
        data = rezip(data, draw(corrupted(config_of(data))))  # a sound zip around a broken config
    else:
        data = draw(corrupted(data))
    if draw(st.integers(0, 9)) == 0:  # now and then, the wrong extension
        name = name.rsplit(".", 1)[0] + draw(
            st.sampled_from([".yaml", ".toml", ".json", ".keras", ".txt", ""])
        )
    return name, data


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(file=damaged_files(), fmt=st.sampled_from(["json", "json", "table", "markdown"]))
def test_damaged_model_files_keep_the_contract(
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
    file: tuple[str, bytes],
    fmt: str,
) -> None:
    name, data = file
    path = tmp_path_factory.mktemp("damaged") / (name or "model")
    path.write_bytes(data)
    code, _, err = run_model(capsys, path, fmt)
    assert code in (0, 2), err  # the file is readable: any failure is the file's content


@settings(
    max_examples=EXAMPLES // 2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=st.sampled_from(sorted(SEEDS)), options=command_options("model"))
def test_random_model_options_keep_the_contract(
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    options: list[str],
) -> None:
    from shapecalc.main import main

    path = tmp_path_factory.mktemp("options") / name
    path.write_bytes(SEEDS[name])
    args = ["model", str(path), *options]
    capsys.readouterr()
    with time_limit(30):
        code = main(args)
    captured = capsys.readouterr()
    check_run(args, code, captured.out, captured.err)
    assert code in (0, 2), captured.err


@pytest.mark.parametrize(
    "tagged",
    [
        '!!python/object/apply:os.system ["touch {marker}"]',
        '!!python/object/new:subprocess.Popen [["touch", "{marker}"]]',
        "!!python/name:os.system",
        "!!python/module:os",
        '!!python/object:builtins.dict {{"units": 3}}',
        "!custom 3",
    ],
)
def test_yaml_tags_that_build_objects_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tagged: str
) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "model.yaml"
    path.write_text(f"input: [4, 3]\nlayers:\n  - type: dense\n    units: {tagged.format(marker=marker)}\n")
    code, _, err = run_model(capsys, path)
    assert code == 2 and "is refused: model files hold plain data only" in err, err
    assert not marker.exists()


@pytest.mark.parametrize(
    ("tagged", "message"),
    [
        ("!!binary aGVsbG8=", "got b'hello'"),
        ("!!timestamp 2001-12-14", "got datetime.date(2001, 12, 14)"),
        ("!!set {a, b}", "got {"),
        ("!!float 3", "got 3.0"),
    ],
)
def test_safe_yaml_tags_still_need_a_size(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tagged: str, message: str
) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(f"input: [4, 3]\nlayers:\n  - type: dense\n    units: {tagged}\n")
    code, _, err = run_model(capsys, path)
    assert code == 2 and "units" in err and message in err, err


def alias_bomb(levels: int = 9) -> str:
    """The "billion laughs": each level refers to the previous one nine times."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\ninput: *a{levels}\nlayers: [{{type: dense, units: *a{levels}}}]\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bomb.yaml", alias_bomb(), "more than 1,000,000 values (numbers, strings, lists, mappings), YAML"),
        ("deep.yaml", "input: " + "[" * 100_000 + "]" * 100_000 + "\n", "YAML nested too deeply"),
        ("compact.yaml", "input:\n" + "- " * 100_000 + "3\n", "YAML nested too deeply"),
        ("deep.json", '{"input": ' + "[" * 100_000 + "]" * 100_000 + "}", "JSON nested too deeply"),
        ("deep.toml", "input = " + "[" * 100_000 + "]" * 100_000 + "\n", "TOML nested too deeply"),
        (
            "many.json",
            '{"input": [4], "layers": [' + ", ".join(['{"type": "dense", "units": 2}'] * 100_001) + "]}",
            "100,001 layers, more than a model may hold (100,000)",
        ),
        ("empty.yaml", "", "a model file holds a mapping"),
        ("spaces.toml", "   \n\n", "layers is required"),
        (
            "huge.json",
            '{"input": [4], "layers": [{"type": "dense", "units": ' + "9" * 100 + "}]}",
            "must be at most 9223372036854775807, got a 100-digit integer",
        ),
        ("hdf5.keras", "\x89HDF\r\n\x1a\nrest", "HDF5 (.h5) Keras files are not read"),
        ("zip.keras", "PK\x03\x04 not really a zip", "not a readable .keras archive"),
        ("model.exe", "MZ", "unknown model file type '.exe'"),
    ],
    ids=lambda value: value[:30],
)
def test_hostile_model_files_are_refused_quickly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode("latin-1") if name.endswith(".keras") else content.encode())
    started = time.perf_counter()
    code, _, err = run_model(capsys, path)
    assert time.perf_counter() - started < 20
    assert code == 2 and message in err, err


def test_a_keras_file_with_too_many_layers_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from shapecalc.model.graph import MAX_LAYERS

    dense = '{"class_name": "Dense", "config": {"units": 2}}'
    layers = ", ".join(
        ['{"class_name": "InputLayer", "config": {"batch_shape": [null, 4]}}'] + [dense] * MAX_LAYERS
    )
    path = tmp_path / "deep.json"
    path.write_text('{"class_name": "Sequential", "config": {"layers": [' + layers + "]}}")
    started = time.perf_counter()
    code, _, err = run_model(capsys, path)
    assert time.perf_counter() - started < 20
    assert (code, err) == (2, "Error: deep.json: 100,001 layers, more than a model may hold (100,000)\n")


def test_a_zip_bomb_config_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A ``config.json`` that inflates past the size limit is not inflated."""
    from shapecalc.model.reader import MAX_BYTES

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", b" " * (MAX_BYTES + 1))
    path = tmp_path / "bomb.keras"
    path.write_bytes(out.getvalue())
    code, _, err = run_model(capsys, path)
    assert code == 2 and "larger than" in err, err


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("missing.yaml", "Error: No such file or directory: "),
        (".", "Error: Is a directory: "),
        ("/proc/self/mem", "Error: Input/output error"),  # opens, then every read fails
        ("x" * 5000 + ".yaml", "Error: File name too long: "),
    ],
    ids=lambda value: value[:30],
)
def test_missing_and_unreadable_files_are_runtime_errors(
    capsys: pytest.CaptureFixture[str], path: str, message: str
) -> None:
    if path == "/proc/self/mem" and not Path(path).exists():
        pytest.skip("no /proc on this system")
    code, _, err = run_model(capsys, Path(path))
    assert code == 1 and err.startswith(message), err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_file_without_read_permission_is_a_runtime_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "secret.yaml"
    path.write_bytes(OWN_YAML)
    path.chmod(0)
    code, _, err = run_model(capsys, path)
    assert code == 1 and err.startswith("Error: Permission denied: "), err


@settings(max_examples=4, deadline=None)
@given(file=damaged_files())
def test_damaged_files_in_real_processes(
    tmp_path_factory: pytest.TempPathFactory, file: tuple[str, bytes]
) -> None:
    name, data = file
    path = tmp_path_factory.mktemp("process") / (name or "model")
    path.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-m", "shapecalc", "model", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    check_run(["model", str(path), "--format", "json"], done.returncode, done.stdout, done.stderr)


KERAS_DOCUMENTS = {path.name: json.loads(path.read_text()) for path in sorted(KERAS_DATA.glob("*.json"))}
KERAS_DOCUMENTS = {name: doc for name, doc in KERAS_DOCUMENTS.items() if not name.endswith(".expected.json")}


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), name=st.sampled_from(sorted(KERAS_DOCUMENTS)))
def test_keras_files_with_any_node_replaced_keep_the_contract(
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
    name: str,
) -> None:
    """Any node of a real Keras config replaced by a value of another type: exit 0 or one
    ``Error:`` line with exit 2, never an internal error."""
    document = data.draw(mutated_documents(KERAS_DOCUMENTS[name]))
    path = tmp_path_factory.mktemp("mutated") / name
    path.write_bytes(dump_json(document))
    code, out, err = run_model(capsys, path, data.draw(st.sampled_from(["json", "table"])))
    assert code in (0, 2), err
    assert len(err) < 1000, err  # every echoed name and value is cut short
    if code == 0 and out.startswith("{"):
        assert_int64(json.loads(out))


def assert_int64(answer: dict[str, object]) -> None:
    """Every size and parameter count of a model's JSON answer fits in int64."""
    from shapecalc.dims import MAX_INT

    numbers: list[object] = [answer["params"]]
    stack: list[object] = [layer["output_shape"] for layer in answer["layers"]]  # type: ignore[attr-defined,index]
    numbers += [layer["params"] for layer in answer["layers"]]  # type: ignore[attr-defined,index]
    while stack:
        item = stack.pop()
        (stack.extend if isinstance(item, list) else numbers.append)(item)  # type: ignore[operator]
    assert [n for n in numbers if isinstance(n, int) and abs(n) > MAX_INT] == [], answer


def bombed(document: object, path: tuple[object, ...]) -> bytes:
    """``document`` as YAML (JSON is YAML's flow style) with a billion-laughs alias at ``path``."""
    from fuzzing import replaced

    text = dump_json(replaced(document, path, "BOMB")).decode().replace('"BOMB"', "*a9", 1)
    anchors = alias_bomb().split("\ninput:")[0]
    return f"- {anchors.replace(chr(10), chr(10) + '  ')}\n- {text}\n".encode()


@settings(
    max_examples=max(EXAMPLES // 20, 5),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), name=st.sampled_from(sorted(KERAS_DOCUMENTS)))
def test_an_alias_bomb_anywhere_is_refused_at_once(
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
    name: str,
) -> None:
    """Aliases are counted where they are used, in the name, a layer's option or a shape alike."""
    from fuzzing import node_paths

    document = KERAS_DOCUMENTS[name]
    path = tmp_path_factory.mktemp("bomb") / "bomb.yaml"
    path.write_bytes(bombed(document, data.draw(st.sampled_from(node_paths(document)))))
    started = time.perf_counter()
    code, _, err = run_model(capsys, path)
    assert time.perf_counter() - started < 5
    assert code == 2 and "YAML aliases expanded" in err, err
