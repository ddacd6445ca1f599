"""Fuzzing ``shapecalc weights FILE``: every committed fixture truncated, bit-flipped and spliced,
random pickles inside torch zip archives, random safetensors headers.

Each run keeps the contract of ``tests/fuzzing.py`` (exit 0, 1 or 2; one ``Error:`` line when
not 0; valid JSON when ``--format json`` succeeds; no traceback, no hang), and nothing a
damaged pickle names is ever run.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
from pathlib import Path

import pytest
from fuzzing import check_run, time_limit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz_files import corrupted

pytestmark = pytest.mark.fuzz

DATA = Path(__file__).parent / "data" / "weights"
EXAMPLES = int(os.environ.get("SHAPECALC_FUZZ_EXAMPLES", "400")) // 2
SEEDS = {
    path.name: path.read_bytes() for path in sorted(DATA.iterdir()) if path.suffix not in (".py", ".json")
}
MARKER = Path("/tmp/shapecalc-weights-pwned")
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def run_weights(capsys: pytest.CaptureFixture[str], path: Path, fmt: str) -> tuple[int, str, str]:
    from shapecalc.main import main

    capsys.readouterr()
    with time_limit(30):
        code = main(["weights", str(path), "--format", fmt])
    captured = capsys.readouterr()
    check_run(["weights", str(path), "--format", fmt], code, captured.out, captured.err)
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("SHAPECALC_DEBUG", raising=False)


@FUZZ_SETTINGS
@given(
    name=st.sampled_from(sorted(SEEDS)), data=st.data(), fmt=st.sampled_from(["json", "table", "markdown"])
)
def test_damaged_weights_files_keep_the_contract(
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    data: st.DataObject,
    fmt: str,
) -> None:
    MARKER.unlink(missing_ok=True)
    path = tmp_path_factory.mktemp("damaged") / name
    path.write_bytes(data.draw(corrupted(SEEDS[name])))
    code, out, _ = run_weights(capsys, path, fmt)
    assert code in (0, 1, 2)
    if code == 0 and fmt == "json":
        assert json.loads(out)["schema_version"] == 1
    assert not MARKER.exists()


@FUZZ_SETTINGS
@given(
    pickle=st.binary(max_size=200) | st.sampled_from([b"", b"\x80\x02}q\x00.", b"cos\nsystem\n(S'x'\ntR."])
)
def test_random_pickles_in_a_torch_archive_keep_the_contract(
    capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory, pickle: bytes
) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("m/data.pkl", pickle)
    path = tmp_path_factory.mktemp("pickles") / "m.pt"
    path.write_bytes(out.getvalue())
    code, _, _ = run_weights(capsys, path, "json")
    assert code in (0, 1, 2)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@FUZZ_SETTINGS
@given(
    header=st.dictionaries(
        st.text(max_size=12),
        st.fixed_dictionaries(
            {"dtype": st.sampled_from(["F32", "F16", "I64", "BOOL", "X9"]) | JSON_VALUES},
            optional={"shape": st.lists(st.integers(-2, 2**40), max_size=4) | JSON_VALUES,
                      "data_offsets": st.lists(st.integers(-2, 64), max_size=3) | JSON_VALUES},
        ) | JSON_VALUES,
        max_size=4,
    ),
    data=st.integers(0, 64),
    lie=st.integers(-3, 3),
)  # fmt: skip
def test_random_safetensors_headers_keep_the_contract(
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
    header: dict[str, object],
    data: int,
    lie: int,
) -> None:
    raw = json.dumps(header).encode()
    path = tmp_path_factory.mktemp("headers") / "m.safetensors"
    path.write_bytes(struct.pack("<Q", max(len(raw) + lie, 0)) + raw + bytes(data))
    code, _, _ = run_weights(capsys, path, "json")
    assert code in (0, 1, 2)
