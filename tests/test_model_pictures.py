"""Model pictures (shapecalc model FILE --format svg / html) for the saved real Keras
models: valid XML, nothing overlapping, one box per layer with Keras' parameter
count, and every arrow labelled with the output shape Keras reported."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from shapecalc.model.engine import propagate
from shapecalc.model.reader import read_model
from shapecalc.render.drawing import collisions
from shapecalc.render.model_svg import model_graph, model_picture, render_model_html, render_model_svg

DATA = Path(__file__).parent / "data" / "keras"
NAMES = sorted(path.name.removesuffix(".expected.json") for path in DATA.glob("*.expected.json"))


def keras_dims(label: str) -> list[int | None]:
    """``(batch, timestep, 5)`` as Keras prints it: names are ``None``."""
    parts = [part.strip() for part in label.strip("()").split(",") if part.strip()]
    return [int(part) if part.isdigit() else None for part in parts]


def keras_outputs(layer: dict) -> list[list[int | None]]:
    shape = layer["output_shape"]
    return shape if shape and isinstance(shape[0], list) else [shape]


@pytest.mark.parametrize("name", NAMES)
def test_model_picture_matches_keras(name):
    expected = json.loads((DATA / f"{name}.expected.json").read_text())
    result = propagate(read_model(str(DATA / f"{name}.keras")))
    drawing = model_picture(result)
    assert collisions(drawing) == []
    ET.fromstring(render_model_svg(result))
    layers = {layer["name"]: layer for layer in expected["layers"]}
    boxes = {item.id: item for item in drawing.items if item.kind == "layer"}
    for layer in expected["layers"]:
        lines = [line.text for line in boxes[layer["name"]].lines]
        assert lines[0] == layer["name"]
        assert lines[2] == f"params {layer['params']:,}"
    nodes, edges = model_graph(result)
    assert len(edges) == len(drawing.paths) and edges
    checked = 0
    for edge in edges:
        if edge.source not in layers:
            continue  # a Sequential model's implicit input: Keras' summary has no row for it
        checked += 1
        # which output of the source the edge carries: its tooltip names the reference
        index = int(re.fullmatch(r".*\[\d+\]\[(\d+)\]: .*", edge.tooltip).group(1))
        assert keras_dims(edge.label) == keras_outputs(layers[edge.source])[index], (edge.source, edge.target)
    assert checked >= len(expected["layers"])
    outputs = [n for n in nodes if n.lines[0].text == "output"]
    assert len(outputs) >= 1


def test_seq2seq_states_feed_the_decoder():
    result = propagate(read_model(str(DATA / "seq2seq_states.keras")))
    _, edges = model_graph(result)
    into_decoder = sorted((e.source, e.label, e.tooltip) for e in edges if e.target == "decoder")
    assert into_decoder == [
        ("decoder_in", "(batch, timestep_2, 6)", "decoder_in[0][0]: (batch, timestep_2, 6)"),
        ("encoder", "(batch, 8)", "encoder[0][1]: (batch, 8)"),
        ("encoder", "(batch, 8)", "encoder[0][2]: (batch, 8)"),
    ]


def test_cli_model_svg_and_html(run_cli):
    path = str(DATA / "video_next_frame.keras")
    svg = run_cli("model", path, "--format", "svg")
    assert svg.code == 0, svg.err
    root = ET.fromstring(svg.out)
    texts = "".join(root.itertext())
    assert "conv_lstm2d" in texts and "(batch, timestep, 16, 16, 4)" in texts
    html = run_cli("model", path, "--format", "html")
    assert html.code == 0, html.err
    assert html.out == render_model_html(propagate(read_model(path)))
    assert '<tr data-tensor="conv_lstm2d">' in html.out
