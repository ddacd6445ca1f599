"""Hostile model files that used to crash or mislead: doctored ``.keras`` archives, sizes past
int64 in any layer, outputs that do not exist, a symbolic ``Reshape`` that may not divide,
duplicate keys, unordered shapes. Each is one ``Error:`` line with exit 2, or a true answer.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from shapecalc.errors import ShapecalcError
from shapecalc.model.engine import propagate
from shapecalc.model.reader import parse_model

KERAS = Path(__file__).parent / "data" / "keras" / "stacked_lstm.keras"


def _run(data: bytes, name: str) -> object:
    return propagate(parse_model(data, name))


def _refused(data: bytes, name: str) -> str:
    with pytest.raises(ShapecalcError) as caught:
        _run(data, name)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message
    return message


def _zip(*members: tuple[str, bytes]) -> bytes:
    import warnings

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a duplicate name is the point
        for name, content in members:
            archive.writestr(name, content)
    return out.getvalue()


def _encrypted_flag(archive: bytes) -> bytes:
    """``archive`` with every member marked encrypted (bit 0 of the flags), as a password tool leaves it."""
    data = bytearray(archive)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            data[start + offset] |= 1
            start += 4
    return bytes(data)


def _lying_size(archive: bytes) -> bytes:
    """``archive`` with the central directory's uncompressed size of each member set to 1."""
    data = bytearray(archive)
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        data[start + 24 : start + 28] = (1).to_bytes(4, "little")
        start += 4
    return bytes(data)


CONFIG = KERAS.read_bytes()
with zipfile.ZipFile(KERAS) as _archive:
    CONFIG_JSON = _archive.read("config.json")

ARCHIVES = {
    "truncated": CONFIG[: len(CONFIG) // 2],
    "cut at the end": CONFIG[:-30],
    "chunk removed": CONFIG[:200] + CONFIG[4000:],
    "encrypted": _encrypted_flag(CONFIG),
    "lying size": _lying_size(CONFIG),
    "duplicate config": _zip(("config.json", CONFIG_JSON), ("config.json", CONFIG_JSON)),
    "traversal names": _zip(("../../config.json", CONFIG_JSON), ("/etc/passwd", b"x")),
}


@pytest.mark.parametrize("name", sorted(ARCHIVES))
def test_doctored_keras_archives_are_file_errors(name: str) -> None:
    message = _refused(ARCHIVES[name], "m.keras")
    assert message.startswith("m.keras: "), message


@pytest.mark.parametrize(
    ("layer", "what"),
    [
        ({"type": "dense", "units": 2**62}, "params"),
        ({"type": "embedding", "input_dim": 2**62, "output_dim": 4}, "params"),
        ({"type": "conv1d", "filters": 2**62, "kernel": 3}, "params"),
        ({"type": "repeat_vector", "n": 2**62}, None),
        ({"type": "flatten"}, "output shape"),
        ({"type": "dense", "units": "4611686018427387904*W"}, "params"),
    ],
)
def test_every_layer_kind_is_held_to_int64(layer: dict[str, object], what: str | None) -> None:
    import json

    model = {"input": [2**62, 4] if layer["type"] == "flatten" else [8, 4], "layers": [layer]}
    if layer["type"] == "repeat_vector":
        model = {"input": [4], "layers": [layer, {"type": "flatten"}]}
    message = _refused(json.dumps(model).encode(), "m.json")
    assert "is too large (sizes stop at 9223372036854775807)" in message, message
    assert what is None or f": {what}: " in message, message


def test_a_keras_input_size_past_int64_is_refused() -> None:
    import json

    document = json.loads((KERAS.parent / "stacked_lstm.json").read_text())
    document["config"]["layers"][0]["config"]["batch_shape"] = [None, 2**63, 4]
    assert "integers from 1 to 9223372036854775807" in _refused(json.dumps(document).encode(), "m.json")


def test_an_output_that_does_not_exist_is_refused() -> None:
    data = b'{"input": [4], "layers": [{"type": "dense", "units": 2}], "outputs": ["dense[5]"]}'
    message = _refused(data, "m.json")
    assert (
        message
        == "m.json: the model's output dense[0][5] does not exist: layer 'dense' gives 1 output(s) per call"
    )


def test_keras_ends_that_name_no_layer_are_refused() -> None:
    import json

    document = json.loads((KERAS.parent / "multi_input_merge.json").read_text())
    document["config"]["output_layers"] = [["nowhere", 0, 0]]
    assert "output nowhere[0][0] names no layer" in _refused(json.dumps(document).encode(), "m.json")
    document = json.loads((KERAS.parent / "multi_input_merge.json").read_text())
    document["config"]["input_layers"] = [["nowhere", 0, 0]]
    assert "input nowhere[0][0] is not an input layer" in _refused(json.dumps(document).encode(), "m.json")


def test_a_symbolic_reshape_with_minus_one_says_it_must_divide() -> None:
    data = b'{"input": ["W", 3], "layers": [{"type": "reshape", "target_shape": [-1, 2]}]}'
    result = _run(data, "m.json")
    assert result.constraints == ("(W*3) % 2 == 0",)  # type: ignore[attr-defined]
    data = b'{"input": ["W", 4], "layers": [{"type": "reshape", "target_shape": [-1, 2]}]}'
    assert _run(data, "m.json").constraints == ()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("m.json", b'{"input": [4], "input": [5], "layers": []}', "m.json: the key 'input' is given twice"),
        (
            "m.yaml",
            b"input: [4]\ninput: [5]\nlayers: []\n",
            "m.yaml: at line 2, column 1: the key 'input' is given twice",
        ),
        ("m.toml", b"input = [4]\ninput = [5]\n", "m.toml: invalid TOML"),
        (
            "m.yaml",
            b"input: !!set {4, 3, 5}\nlayers: [{type: dense, units: 2}]\n",
            "input must be a list, got {",
        ),
        (
            "m.json",
            b'{"input": [4], "layers": [{"type": "dense", "units": 2, "name": "\\ud800"}]}',
            "lone surrogate",
        ),
        ("m.yaml", b'layers: [{type: dense, units: 2, name: "\\ud800"}]\n', "invalid Unicode character"),
        (
            "m.json",
            b'{"input": [' + b"9" * 5000 + b'], "layers": []}',
            "m.json: a number has more than 4300 digits",
        ),
        (
            "m.yaml",
            b"input: [" + b"9" * 5000 + b"]\nlayers: []\n",
            "m.yaml: a number has more than 4300 digits",
        ),
        ("m.toml", b"input = [" + b"9" * 5000 + b"]\n", "m.toml: a number has more than 4300 digits"),
        ("m.yaml", b"a: &a [1, *a]\n", "the alias '*a' is inside its own anchor"),
    ],
    ids=lambda value: value[:40] if isinstance(value, str) else None,
)
def test_ambiguous_or_unprintable_files_are_refused(name: str, data: bytes, message: str) -> None:
    assert message in _refused(data, name)


def test_long_names_and_values_are_cut_in_messages() -> None:
    name = "n" * 100_000
    data = b'{"input": [4], "layers": [{"type": "dense", "units": "' + b"u" * 2000 + b'", "name": "x"}]}'
    assert len(_refused(data, "m.json")) < 300
    data = b'{"input": [4], "layers": [{"type": "dense", "units": 2, "name": "' + name.encode() + b'"}]}'
    assert "longer than 1,000 characters" in _refused(data, "m.json")
    data = b'{"input": [4], "layers": [{"type": "' + name.encode() + b'"}]}'
    assert len(_refused(data, "m.json")) < 300
