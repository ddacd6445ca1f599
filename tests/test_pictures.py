"""Cell pictures (--format svg / html): valid XML, nothing overlapping, and every
shape on the picture is the shape the engine derived.

Golden files: ``SHAPECALC_UPDATE_GOLDEN=1 python -m pytest tests/test_pictures.py``
rewrites ``tests/golden/svg/`` after a deliberate change (review the diff).
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shapecalc.api import shapes
from shapecalc.dims import format_shape
from shapecalc.render.drawing import Drawing, Item, collisions
from shapecalc.render.html import render_html
from shapecalc.render.svg import cell_picture, render_svg

GOLDEN = Path(__file__).parent / "golden" / "svg"
SVG_NS = "{http://www.w3.org/2000/svg}"

#: Every layer kind, convention and option that changes the drawing.
CASES = {
    "lstm-notes": ("lstm", {"units": 32, "input_dim": 20}),
    "lstm-bidirectional": ("lstm", {"units": 8, "input_dim": 4, "bidirectional": True, "return_state": True}),
    "lstm-no-bias-sequences": (
        "lstm",
        {"units": "U", "input_dim": "D", "use_bias": False, "return_sequences": True},
    ),
    "gru": ("gru", {"units": 32, "input_dim": 20}),
    "gru-reset-before": ("gru", {"units": 32, "input_dim": 20, "reset_after": False, "use_bias": False}),
    "rnn": ("rnn", {"units": 32, "input_dim": 20}),
    "rnn-no-bias-bidirectional": (
        "rnn",
        {"units": 5, "input_dim": 3, "use_bias": False, "bidirectional": True},
    ),
    "convlstm-notes": ("convlstm", {"filters": 8, "kernel": (3, 3), "input": (128, 128, 3)}),
    "convlstm-symbolic": ("convlstm", {"filters": 8, "kernel": (3, 3), "input": ("W", "H", 3)}),
    "convlstm-strided-first": (
        "convlstm",
        {
            "filters": 4,
            "kernel": (3, 3),
            "input": (3, "W", "H"),
            "strides": (2, 2),
            "data_format": "channels_first",
        },
    ),
    "convlstm1d": ("convlstm1d", {"filters": 6, "kernel": 5, "input": ("L", 2), "padding": "same"}),
    "convlstm3d": ("convlstm3d", {"filters": 4, "kernel": (3, 3, 3), "input": (16, 32, 32, 1)}),
    "torch-lstm": ("lstm", {"framework": "torch", "hidden_size": 32, "input_size": 20}),
    "torch-lstm-proj": (
        "lstm",
        {"framework": "torch", "hidden_size": 32, "input_size": 20, "proj_size": 8, "num_layers": 2},
    ),
    "torch-gru-batch-first": (
        "gru",
        {
            "framework": "torch",
            "hidden_size": 16,
            "input_size": 4,
            "batch_first": True,
            "bidirectional": True,
        },
    ),
    "torch-rnn-no-bias": (
        "rnn",
        {"framework": "torch", "hidden_size": 7, "input_size": 3, "use_bias": False},
    ),
    "onnx-lstm-peepholes": (
        "lstm",
        {"framework": "onnx", "hidden_size": 32, "input_size": 20, "peepholes": True},
    ),
    "onnx-gru-bidirectional": (
        "gru",
        {"framework": "onnx", "hidden_size": 16, "input_size": 4, "bidirectional": True, "layout": 1},
    ),
    "onnx-gru-linear-before-reset": (
        "gru",
        {
            "framework": "onnx",
            "hidden_size": 16,
            "input_size": 4,
            "linear_before_reset": True,
            "use_bias": False,
        },
    ),
    "onnx-rnn": ("rnn", {"framework": "onnx", "hidden_size": 7, "input_size": 3, "direction": "reverse"}),
}


def _result(case: str, explain: bool = False):
    kind, options = CASES[case]
    return shapes(kind, explain=explain, **options)


def _texts(drawing: Drawing, kind: str) -> list[str]:
    return [line.text for item in drawing.items if item.kind == kind for line in item.lines]


def _label(item: Item) -> str:
    """A label's text; long shapes wrap after a comma, so join the lines with a space."""
    return " ".join(line.text for line in item.lines)


def _keyed(drawing: Drawing, key: str) -> list[Item]:
    return [item for item in drawing.items if item.kind == "label" and item.keys and item.keys[0] == key]


@pytest.mark.parametrize("case", sorted(CASES))
def test_picture_is_valid_svg_without_overlaps(case):
    result = _result(case)
    root = ET.fromstring(render_svg(result))
    assert root.tag == f"{SVG_NS}svg"
    assert root.find(f"{SVG_NS}title").text.startswith(result.layer)
    drawing = cell_picture(result)
    assert collisions(drawing) == []
    # every box and label of the layout is in the SVG, and vice versa
    groups = [g for g in root.iter(f"{SVG_NS}g") if "item" in g.get("class", "")]
    assert len(groups) == len(drawing.items)
    assert len(root.findall(f"{SVG_NS}path[@class='edge']")) == len(drawing.paths)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_label_is_the_shape_of_its_tensor(case):
    """A renderer formats shapes; it never computes one (x_t is checked in the table below)."""
    result = _result(case)
    drawing = cell_picture(result)
    checked = 0
    source = result.cells[0].step_input.name  # "input"; ONNX's X
    for item in drawing.items:
        if item.kind == "label" and item.keys and item.keys[0] != source:
            assert _label(item) == format_shape(result.tensor(item.keys[0]).shape), item.tooltip
            checked += 1
        for line in item.lines:
            if line.tooltip and line.keys:  # a weight line: "W_i (20, 32)"
                shape = format_shape(result.tensor(line.keys[0]).shape)
                assert line.text.endswith(f" {shape}") and line.tooltip == f"{line.keys[0]} {shape}"
                checked += 1
    assert checked >= 4


@pytest.mark.parametrize("case", sorted(CASES))
def test_hover_keys_name_tensors_of_the_result(case):
    result = _result(case, explain=True)
    names = {t.name for t in result.tensors}
    page = render_html(result)
    keys = {key for value in re.findall(r'data-tensor="([^"]*)"', page) for key in value.split()}
    assert keys <= names
    assert {result.cells[0].step_input.name, "hidden_state"} <= {k.removeprefix("forward/") for k in keys}


#: Known-true shapes as drawn (sub- and superscripts join the text: W_{i} reads "Wi").
KNOWN = [
    (
        "lstm-notes",
        {"input": "(batch, 20)", "gate_f": "(batch, 32)", "cell_state": "(batch, 32)"},
        {"Wi (20, 32)", "Ui (32, 32)", "bi (32,)", "Wo (20, 32)"},
    ),
    (
        "convlstm-notes",
        {
            "input": "(batch, 128, 128, 3)",
            "gate_i": "(batch, 126, 126, 8)",
            "hidden_state": "(batch, 126, 126, 8)",
        },
        {"Wi (3, 3, 3, 8)", "Ui (3, 3, 8, 8)", "bi (8,)", "xt*Wi + ht-1*Ui + bi"},
    ),
    (
        "convlstm-symbolic",
        {"input": "(batch, W, H, 3)", "gate_o": "(batch, W - 2, H - 2, 8)"},
        {"Wc (3, 3, 3, 8)"},
    ),
    (
        "convlstm-strided-first",
        {"input": "(batch, 3, W, H)", "gate_c": "(batch, 4, (W - 3)//2 + 1, (H - 3)//2 + 1)"},
        {"Wf (3, 3, 3, 4)", "Uf (3, 3, 4, 4)"},
    ),
    ("convlstm1d", {"input": "(batch, L, 2)", "gate_i": "(batch, L, 6)"}, {"Wi (5, 2, 6)"}),
    (
        "gru",
        {"input": "(batch, 20)", "gate_r": "(batch, 32)", "hidden_state": "(batch, 32)"},
        {"bz (2, 32)", "Wh (20, 32)", "xt·Wh + bh[0] + rt⊙(ht-1·Uh + bh[1])"},
    ),
    ("gru-reset-before", {"gate_h": "(batch, 32)"}, {"xt·Wh + (rt⊙ht-1)·Uh"}),
    ("rnn", {"input": "(batch, 20)", "hidden_state": "(batch, 32)"}, {"W (20, 32)", "U (32, 32)", "b (32,)"}),
    ("lstm-bidirectional", {"input": "(batch, 4)", "forward/gate_i": "(batch, 8)"}, {"Wi (4, 8)"}),
    (
        "torch-lstm",
        {"input": "(batch, 20)", "gate_g": "(batch, 32)"},
        {"Wii (32, 20)", "Whi (32, 32)", "bhi (32,)"},
    ),
    (
        "torch-lstm-proj",
        {"hidden_state": "(batch, 8)", "cell_state": "(batch, 32)"},
        {"Whr (8, 32)", "Whf (32, 8)", "Wif (32, 20)"},
    ),
    (
        "torch-gru-batch-first",
        {"input": "(batch, 4)", "gate_n": "(batch, 16)"},
        {"Win (16, 4)", "Winxt + bin + rt⊙(Whnht-1 + bhn)"},
    ),
    ("torch-rnn-no-bias", {"input": "(batch, 3)"}, {"Wih (7, 3)", "Whh (7, 7)", "xtWihᵀ + ht-1Whhᵀ"}),
    (
        "onnx-lstm-peepholes",
        {"X": "(batch, 20)", "gate_o": "(batch, 32)", "cell_state": "(batch, 32)"},
        {"Po (32,)", "Wc (32, 20)", "Xt·Woᵀ + Ht-1·Roᵀ + Po⊙Ct + Wbo + Rbo"},
    ),
    (
        "onnx-gru-linear-before-reset",
        {"X": "(batch, 4)", "gate_h": "(batch, 16)"},
        {"Wh (16, 4)", "Xt·Whᵀ + rt⊙(Ht-1·Rhᵀ)"},
    ),
    ("onnx-rnn", {"X": "(batch, 3)"}, {"Wi (7, 3)", "Xt·Wiᵀ + Ht-1·Riᵀ + Wbi + Rbi"}),
]


@pytest.mark.parametrize(("case", "labels", "lines"), KNOWN, ids=[k[0] for k in KNOWN])
def test_known_shapes_on_the_picture(case, labels, lines):
    drawing = cell_picture(_result(case))
    for key, shape in labels.items():
        found = _keyed(drawing, key)
        assert found, key
        assert {_label(item) for item in found} == {shape}
    assert lines <= set(_texts(drawing, "gate"))


@pytest.mark.parametrize(
    ("case", "titles"),
    [
        ("lstm-notes", {"σ input gate it", "σ forget gate ft", "tanh candidate c̃t", "σ output gate ot"}),
        ("torch-lstm", {"σ input gate it", "σ forget gate ft", "tanh candidate gt", "σ output gate ot"}),
        ("gru", {"σ update gate zt", "σ reset gate rt", "tanh candidate h̃t"}),
        ("torch-gru-batch-first", {"σ update gate zt", "σ reset gate rt", "tanh new gate nt"}),
        ("rnn", {"tanh ht"}),
        (
            "onnx-lstm-peepholes",
            {"σ input gate it", "σ output gate ot", "σ forget gate ft", "tanh cell gate ct"},
        ),
        ("onnx-gru-bidirectional", {"σ update gate zt", "σ reset gate rt", "tanh hidden gate ht"}),
        ("onnx-rnn", {"tanh Ht"}),
        (
            "torch-lstm-proj",
            {"σ input gate it", "σ forget gate ft", "tanh candidate gt", "σ output gate ot", "projection"},
        ),
    ],
)
def test_each_convention_names_its_own_gates(case, titles):
    drawing = cell_picture(_result(case))
    assert {item.lines[0].text for item in drawing.items if item.kind == "gate"} == titles


@pytest.mark.parametrize(
    ("case", "legend"),
    [
        (
            "lstm-notes",
            [
                "input (batch, timestep, 20)",
                "returns output (batch, 32)",
                "params 6,784; MACs batch*timestep*6,656",
            ],
        ),
        ("convlstm-notes", ["params 3,200; MACs batch*timestep*50,295,168", "key: σ sigmoid; * convolution"]),
        ("convlstm-symbolic", ["valid when W >= 3", "valid when H >= 3"]),
        ("convlstm-strided-first", ["x * W: padding valid, strides (2, 2); h * U: padding same, stride 1"]),
        ("lstm-bidirectional", ["returns forward/cell_state (batch, 8)", "drawn: the forward cell"]),
        (
            "torch-lstm-proj",
            ["returns h_n (2, batch, 8)", "returns c_n (2, batch, 32)", "drawn: layer 0, forward"],
        ),
    ],
)
def test_legend_gives_config_outputs_and_totals(case, legend):
    drawing = cell_picture(_result(case))
    text = "\n".join(_texts(drawing, "text"))
    for part in legend:
        assert part in text


_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,40}", fullmatch=True).filter(
    lambda n: n not in {"batch", "timestep"} and not __import__("keyword").iskeyword(n)
)


@settings(max_examples=25, deadline=None)
@given(
    rows=_NAME,
    cols=_NAME,
    stride=st.integers(1, 3),
    filters=st.one_of(st.integers(1, 10**6), _NAME),
    padding=st.sampled_from(["valid", "same"]),
)
def test_long_symbolic_labels_never_overlap(rows, cols, stride, filters, padding):
    result = shapes(
        "convlstm",
        filters=filters,
        kernel=(3, 3),
        input=(f"{rows}*7 + 13", f"({cols} + 5)//3", "C"),
        strides=(stride, stride),
        padding=padding,
        timesteps="a_rather_long_number_of_timesteps",
    )
    drawing = cell_picture(result)
    assert collisions(drawing) == []
    labels = [item for item in drawing.items if item.kind == "label"]
    assert max(len(_label(item)) for item in labels) > 20
    # wrapped after commas: a line is short, or a single dimension too long to break
    assert all(len(line.text) <= 30 or ", " not in line.text for item in labels for line in item.lines)
    ET.fromstring(render_svg(result))


@settings(max_examples=20, deadline=None)
@given(
    kind=st.sampled_from(["lstm", "gru", "rnn"]),
    framework=st.sampled_from(["keras", "torch", "onnx"]),
    units=st.one_of(st.integers(1, 10**6), _NAME),
    features=st.one_of(st.integers(1, 10**6), _NAME),
    bias=st.booleans(),
)
def test_dense_cells_never_overlap(kind, framework, units, features, bias):
    result = shapes(kind, framework=framework, units=units, input_dim=features, use_bias=bias)
    assert collisions(cell_picture(result)) == []


@pytest.mark.parametrize("case", ["lstm-notes", "convlstm-notes", "onnx-lstm-peepholes"])
def test_golden_svg(case):
    """The two everyday examples and an ONNX LSTM, byte for byte (see the module docstring to update)."""
    path = GOLDEN / f"{case}.svg"
    svg = render_svg(_result(case))
    if os.environ.get("SHAPECALC_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(svg, encoding="utf-8")
    assert svg == path.read_text(encoding="utf-8")


def test_cli_svg_and_html(run_cli):
    svg = run_cli("lstm", "--units", "32", "--input-dim", "20", "--format", "svg")
    assert svg.code == 0, svg.err
    assert svg.out == render_svg(_result("lstm-notes"))
    html = run_cli(
        "convlstm", "--filters", "8", "--kernel", "3", "3", "--input", "W", "H", "3", "--format", "html"
    )
    assert html.code == 0, html.err
    assert html.out.startswith("<!DOCTYPE html>") and "<svg" in html.out
    assert "<h2>Equations</h2>" in html.out  # the page always explains, --explain or not


def test_html_page_is_self_contained():
    page = render_html(_result("convlstm-notes", explain=True))
    without_namespace = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"https?:|//[a-z]|<link|@import|@font-face|\bsrc=", without_namespace)
    assert re.findall(r"url\(([^)]*)\)", page) == ["#sc-arrow"] * page.count("url(")
    assert "default-src 'none'" in page


def test_html_holds_picture_table_and_equations():
    page = render_html(_result("lstm-notes", explain=True))
    for section in ("<h2>Cell</h2>", "<h2>Tensors</h2>", "<h2>Equations</h2>"):
        assert section in page
    # one key, three places: the picture's W_i line, the table's kernel row, the equation's operand
    assert '<text x="' in page and 'data-tensor="kernel_i kernel"' in page
    assert '<tr data-tensor="kernel kernel_i kernel_f kernel_c kernel_o">' in page
    assert '<span data-tensor="kernel_i kernel">W<sub>i</sub></span>' in page
    assert "<h2>Equations</h2>" not in render_html(_result("lstm-notes"))
