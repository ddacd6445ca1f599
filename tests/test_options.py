"""The option table is the one vocabulary: every surface (the command line, the Python API,
batch mode) accepts the same keys and aliases and gives the same reason for the same mistake,
and the config classes hold exactly the table's keys."""

from __future__ import annotations

import io
import json

import pytest
from docs_pages import section, update_script

from shapecalc.api import build_config, request, shapes
from shapecalc.batch import read_lines, run_batch
from shapecalc.cli import cli
from shapecalc.configs import (
    SHAPELESS,
    ConvRecurrentConfig,
    OnnxRecurrentConfig,
    RecurrentConfig,
    TorchRecurrentConfig,
)
from shapecalc.errors import ShapecalcError
from shapecalc.options import (
    CHOICE,
    COUNT,
    COUNTS,
    FIXED,
    FLAG,
    KERAS,
    LAYERS,
    LENGTHS,
    OPTIONS,
    SHAPE,
    SIZE,
    SIZES,
    LayerKind,
    Option,
    layer_options,
)
from shapecalc.record import fields

#: The least each layer needs, per framework, under the canonical keys.
REQUIRED = {
    ("rnn", "keras"): {"units": 4, "input_dim": 3},
    ("rnn", "torch"): {"hidden_size": 4, "input_size": 3},
    ("rnn", "onnx"): {"hidden_size": 4, "input_size": 3},
    ("conv", "keras"): {"filters": 2, "kernel_size": 3},
}


def _base(layer: LayerKind, framework: str) -> dict[str, object]:
    base = dict(REQUIRED[(layer.family, framework)])
    if layer.rank:
        base["input_shape"] = [9] * (layer.rank + 1)
    if framework != KERAS:
        base["framework"] = framework
    return base


def _where(option: Option) -> list[tuple[LayerKind, str]]:
    """Every (layer, framework) the option applies to."""
    return [
        (layer, framework)
        for layer in LAYERS.values()
        for framework in layer.frameworks
        if option.applies_to(layer, framework)
    ]


#: A good value of each option that differs from its default, as JSON would carry it.
GOOD = {
    "units": 8,
    "input_dim": 5,
    "filters": 3,
    "kernel_size": 2,
    "input_shape": None,  # per rank, below
    "strides": 2,
    "padding": "same",
    "dilation_rate": 2,
    "data_format": "channels_first",
    "use_bias": False,
    "reset_after": False,
    "activation": "relu",
    "recurrent_activation": "hard_sigmoid",
    "nonlinearity": "relu",
    "batch": 7,
    "timesteps": 11,
    "bidirectional": True,
    "return_sequences": True,
    "return_state": True,
    "merge_mode": "sum",
    "num_layers": 2,
    "proj_size": 2,
    "batch_first": True,
    "unbatched": True,
    "lengths": "4,2x3",
    "enforce_sorted": False,
    "direction": "reverse",
    "layout": 1,
    "peepholes": True,
    "linear_before_reset": True,
    "dtype": "float16",
    "explain": True,
    "framework": None,  # chosen by the case itself
    "cell": None,  # checked on its own
    "rank": None,
}
#: What each option must go with to be valid on its own (merge_mode needs bidirectional).
NEEDS = {
    "merge_mode": {"bidirectional": True},
    "strides": {"dilation_rate": 1},
    "enforce_sorted": {"lengths": "3,2"},
}
#: A bad value of each kind, and the reason every surface must give.
BAD = {
    SIZE: ("0", 0, "must be a positive integer, got 0"),
    SIZES: ("0", [0], "must be a positive integer, got 0"),
    SHAPE: ("0", [0], "must be a positive integer, got 0"),
    COUNT: ("0", 0, "must be a positive integer, got 0"),
    COUNTS: ("0", [0], "must be a positive integer, got 0"),
    CHOICE: ("bogus", "bogus", "must be one of"),
    LENGTHS: ("0", [0], "must be positive integers"),
}


def _cases() -> list[tuple[Option, LayerKind, str]]:
    return [
        (option, layer, framework)
        for option in OPTIONS.values()
        if option.kind != FIXED and option.key != "framework"
        for layer, framework in _where(option)
    ]


def _id(case: object) -> str:
    return case.key if isinstance(case, Option) else case.name if isinstance(case, LayerKind) else str(case)


def _good(option: Option, layer: LayerKind) -> object:
    if option.key == "input_shape":
        return [12] * (layer.rank + 1)
    return GOOD[option.key]


def test_every_option_has_a_good_value() -> None:
    assert set(GOOD) == set(OPTIONS)


@pytest.mark.parametrize(("option", "layer", "framework"), _cases(), ids=_id)
def test_every_key_and_alias_means_the_same_on_api_and_batch(option: Option, layer, framework) -> None:
    """Each spelling of an option gives the very answer of its canonical key, in the API and in batch."""
    base = {**_base(layer, framework), **NEEDS.get(option.key, {})}
    value = _good(option, layer)
    canonical_key = option.key_for(framework)
    expected = shapes(layer.name, **{**base, canonical_key: value}).to_json()
    for key in option.keys:
        options = {k: v for k, v in base.items() if find_key(k) != option.key}
        assert shapes(layer.name, **{**options, key: value}).to_json() == expected, key
        line = json.dumps({"layer": layer.name, **options, key: value}).encode()
        out: list[str] = []
        assert run_batch(read_lines(io.BytesIO(line + b"\n")), out.append) == [], out
        assert json.loads(out[0]) == expected, key
    if option.negation:
        options = {k: v for k, v in base.items() if k != option.key}
        assert shapes(layer.name, **{**options, option.negation: not value}).to_json() == expected


def find_key(key: str) -> str:
    from shapecalc.options import find

    found = find(key)
    return found.key if found else key


def _cli_args(option: Option, layer: LayerKind, framework: str, value: object, flag: str) -> list[str]:
    args = [layer.name]
    for key, item in _base(layer, framework).items():
        if key != option.key_for(framework):
            args += ["--" + key.replace("_", "-"), *map(str, item if isinstance(item, list) else [item])]
    return [*args, flag, *map(str, value if isinstance(value, list) else [value])]


@pytest.mark.parametrize(("option", "layer", "framework"), _cases(), ids=_id)
def test_the_command_line_has_every_flag_of_the_option(run_cli, option: Option, layer, framework) -> None:
    """The layer command offers every spelling of the option, and each gives the API's answer."""
    command = cli.get_command(None, layer.name)  # type: ignore[arg-type]
    assert command is not None
    param = next(p for p in command.params if p.name == option.key)
    assert tuple(param.opts) == option.flags
    if option.kind == FLAG:
        return  # flags have no values to spell; the flag itself is covered by SAME_LAYER in test_api
    base = {**_base(layer, framework), **NEEDS.get(option.key, {})}
    value = _good(option, layer)
    expected = shapes(layer.name, **{**base, option.key_for(framework): value}).to_json()
    extra: list[str] = []
    for key, item in NEEDS.get(option.key, {}).items():
        extra += ["--" + key.replace("_", "-")] + ([] if item is True else [str(item)])
    for flag in option.flags:
        args = [*_cli_args(option, layer, framework, value, flag), *extra, "--format", "json"]
        result = run_cli(*args)
        assert result.code == 0, (args, result.err)
        assert json.loads(result.out) == expected, flag


def _bad_cases() -> list[tuple[Option, LayerKind, str]]:
    return [case for case in _cases() if case[0].kind in BAD and case[0].key not in ("proj_size",)]


@pytest.mark.parametrize(("option", "layer", "framework"), _bad_cases(), ids=_id)
def test_one_mistake_gets_one_reason_on_every_surface(run_cli, option: Option, layer, framework) -> None:
    text, data, reason = BAD[option.kind]
    key = option.key_for(framework)
    base = {k: v for k, v in _base(layer, framework).items() if k != key}
    with pytest.raises(ShapecalcError) as raised:
        request(layer.name, {**base, key: data})
    api = raised.value
    assert api.option == key and reason in api.message, api
    out: list[str] = []
    run_batch(
        read_lines(io.BytesIO(json.dumps({"layer": layer.name, **base, key: data}).encode())), out.append
    )
    assert json.loads(out[0])["error"] == f"{key}: {api.message}"
    result = run_cli(*_cli_args(option, layer, framework, text, option.flags[0]))
    assert result.code == 2
    assert result.err == f"Error: Invalid value for '{option.flags[0]}': {api.message}\n"


CONFIG_CLASSES = [
    (RecurrentConfig, ("lstm", "gru", "rnn"), "keras"),
    (TorchRecurrentConfig, ("lstm", "gru", "rnn"), "torch"),
    (OnnxRecurrentConfig, ("lstm", "gru", "rnn"), "onnx"),
    (ConvRecurrentConfig, ("convlstm",), "keras"),
]


@pytest.mark.parametrize(("config", "layers", "framework"), CONFIG_CLASSES, ids=lambda v: str(v)[:30])
def test_config_fields_are_the_tables_keys(config, layers: tuple[str, ...], framework: str) -> None:
    """One config class serves several layers: its fields are the keys of the options any of them has."""
    names = {field.name for field in fields(config)}
    keys = {
        option.key_for(framework)
        for name in layers
        for option in layer_options(LAYERS[name])
        if option.config and option.applies_to(LAYERS[name], framework) and not option.stand_in(framework)
    }
    assert names == keys


@pytest.mark.parametrize("name", list(LAYERS))
def test_an_answers_config_is_accepted_back(name: str) -> None:
    layer = LAYERS[name]
    for framework in layer.frameworks:
        first = shapes(name, **_base(layer, framework))
        again = shapes(name, **first.config, **({"framework": framework} if framework != KERAS else {}))
        assert again.to_json() == first.to_json()


def test_cell_and_rank_must_agree_with_the_layer() -> None:
    with pytest.raises(ShapecalcError, match="cell: is 'lstm' for layer lstm, got 'gru'"):
        build_config("lstm", {"units": 4, "input_dim": 3, "cell": "gru"})
    with pytest.raises(ShapecalcError, match="rank: is 2 for layer convlstm, got 3"):
        build_config("convlstm", {"filters": 2, "kernel_size": 3, "input_shape": [9, 9, 1], "rank": 3})


def test_one_integer_means_every_axis() -> None:
    one = shapes("convlstm3d", filters=2, kernel_size=3, strides=2, dilation_rate=1, input_shape=[9, 9, 9, 1])
    each = shapes("convlstm3d", filters=2, kernel_size=[3, 3, 3], strides=[2, 2, 2], input_shape=[9, 9, 9, 1])
    assert one.to_json() == each.to_json()
    assert one.config["kernel_size"] == [3, 3, 3]


def test_batch_takes_dtype_explain_and_no_bias() -> None:
    line = {"layer": "rnn", "units": 4, "input_dim": 3, "dtype": "float64", "explain": True, "no_bias": True}
    out: list[str] = []
    assert run_batch(read_lines(io.BytesIO(json.dumps(line).encode())), out.append) == []
    answer = json.loads(out[0])
    assert answer["dtype"] == "float64" and answer["steps"] and answer["config"]["use_bias"] is False
    assert (
        answer == shapes("rnn", units=4, input_dim=3, use_bias=False, dtype="float64", explain=True).to_json()
    )


def test_build_config_refuses_how_to_answer() -> None:
    with pytest.raises(ShapecalcError, match="dtype: sets how to answer"):
        build_config("lstm", {"units": 4, "input_dim": 3, "dtype": "float16"})


def test_two_spellings_of_one_option_are_refused_everywhere(run_cli) -> None:
    with pytest.raises(ShapecalcError, match="give units or hidden_size, not both"):
        shapes("lstm", units=4, hidden_size=4, input_dim=3)
    result = run_cli("lstm", "--units", "4", "--hidden-size", "4", "--input-dim", "3")
    assert result.err == "Error: Invalid value for '--hidden-size': give --units or --hidden-size, not both\n"
    assert run_cli("lstm", "--units", "4", "--units", "5", "--input-dim", "3").err.endswith(
        "is given twice\n"
    )


def test_help_groups_options_and_shows_only_what_applies(run_cli) -> None:
    lstm = run_cli("lstm", "--help").out
    assert "PyTorch options:" in lstm and "--proj-size" in lstm
    for name in ("gru", "rnn"):
        text = run_cli(name, "--help").out
        assert "--proj-size" not in text and "--num-layers" in text
    assert "--reset-after / --no-reset-after" in run_cli("gru", "--help").out
    conv = run_cli("convlstm", "--help").out
    assert "causal" not in conv and "--framework [keras]" in conv and "PyTorch options" not in conv
    assert "  convlstm2d  Same as convlstm." in run_cli("--help").out


def test_the_docs_options_table_is_the_option_table() -> None:
    table = section("options-table").removeprefix("\n")
    assert table == update_script().options_table(), "the docs are stale: run python scripts/update_docs.py"
    assert "`kernel_size` | `kernel`" in table and "`num_layers` |" in table


#: Option-table keys a model-file layer takes from its input, or that set how to answer; the
#: activations a model file lists as ignored, as it does Keras' other shapeless arguments.
NOT_IN_MODEL_FILES = {"batch", "timesteps", "input_shape", "input_dim", "framework", "dtype", "explain",
                      *SHAPELESS}  # fmt: skip


def _model_cases() -> list[tuple[Option, LayerKind]]:
    return [
        (option, layer)
        for option, layer, framework in _cases()
        if framework == "keras" and option.key not in NOT_IN_MODEL_FILES
    ]


def _model_file(tmp_path, layer: LayerKind, options: dict[str, object]) -> str:
    frame = [9] * (layer.rank + 1) if layer.rank else [3]
    read = {k: v for k, v in options.items() if k not in ("input_shape", "input_dim")}
    entry = {"type": layer.name, **read}
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"input": [10, *frame], "layers": [entry]}))
    return str(path)


@pytest.mark.parametrize(("option", "layer"), _model_cases(), ids=_id)
def test_model_files_take_every_key_and_alias(run_cli, tmp_path, option: Option, layer: LayerKind) -> None:
    """A model-file layer reads the option table too: every spelling gives the same layer."""
    base = {**_base(layer, "keras"), **NEEDS.get(option.key, {})}
    value = _good(option, layer)
    answers = []
    for key in option.keys:
        options = {k: v for k, v in base.items() if find_key(k) != option.key}
        result = run_cli("model", _model_file(tmp_path, layer, {**options, key: value}), "--format", "json")
        assert result.code == 0, (key, result.err)
        answers.append(json.loads(result.out)["layers"][1])
    assert all(answer == answers[0] for answer in answers)


@pytest.mark.parametrize(("option", "layer"), [c for c in _model_cases() if c[0].kind in BAD], ids=_id)
def test_model_files_give_the_same_reason(run_cli, tmp_path, option: Option, layer: LayerKind) -> None:
    _, data, _ = BAD[option.kind]
    base = {k: v for k, v in _base(layer, "keras").items() if k != option.key}
    with pytest.raises(ShapecalcError) as raised:
        request(layer.name, {**base, option.key: data})
    result = run_cli("model", _model_file(tmp_path, layer, {**base, option.key: data}))
    assert result.code == 2
    assert result.err.startswith("Error: ") and result.err.endswith(f"{option.key} {raised.value.message}\n")
