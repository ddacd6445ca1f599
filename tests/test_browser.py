"""The pictures in real headless Chromium (Debian's ``chromium``), offline via file://.

* the HTML page renders (its screenshot is not blank), its script runs
  (``data-shapecalc="ready"``) and nothing reaches the console: no error, no
  uncaught exception, no request blocked by the page's Content-Security-Policy;
* ``page.html#kernel_i`` highlights that tensor in the picture, the table and
  the equations;
* in every picture, each text's real rendered box lies inside its box or label,
  and no two texts overlap: the layout's width estimate holds in a browser.

Skips when Chromium is missing, except in CI (``SHAPECALC_REQUIRE_ORACLE=1``),
where ``.ci/run`` installs it and a missing browser fails.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from shapecalc.api import shapes
from shapecalc.render.html import render_html
from shapecalc.render.svg import render_svg

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)
#: How Chromium logs what a page writes to its console (errors, exceptions, CSP refusals).
CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]? (.*)")


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    message = "chromium is not installed (apt-get install chromium)"
    if os.environ.get("SHAPECALC_REQUIRE_ORACLE"):
        pytest.fail(message)
    pytest.skip(message)


def browse(
    chromium: str, tmp_path: Path, page: Path, *args: str, fragment: str = ""
) -> tuple[str, list[str]]:
    """Run Chromium on ``page``; return its stdout and the console lines it logged."""
    command = [chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args, page.as_uri() + fragment]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, [m.group(1) for m in CONSOLE.finditer(done.stderr)]


def screenshot(chromium: str, tmp_path: Path, page: Path) -> tuple[bytes, list[str]]:
    png = tmp_path / f"{page.stem}.png"
    _, console = browse(chromium, tmp_path, page, f"--screenshot={png}", "--window-size=1400,1000")
    return png.read_bytes(), console


def png_pixels(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """Width, height, bytes per pixel and rows of an 8-bit RGB(A) PNG, decoded with zlib."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, []
    header = (0, 0, 0, 0, 0, 0, 0)
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0 and color in (2, 6), header
    bpp = 3 if color == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(chunks))
    low, high = int.from_bytes(b"\x7f" * stride, "big"), int.from_bytes(b"\x80" * stride, "big")
    previous, rows = bytes(stride), []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], raw[start + 1 : start + 1 + stride]
        if kind == 0:
            row = line
        elif kind == 2:  # "up": add the row above byte by byte, without carries between bytes
            a, b = int.from_bytes(line, "big"), int.from_bytes(previous, "big")
            row = (((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(stride, "big")
        else:
            row = _unfilter(kind, bytearray(line), previous, bpp)
        rows.append(row)
        previous = row
    return width, height, bpp, rows


def _unfilter(kind: int, out: bytearray, previous: bytes, bpp: int) -> bytes:
    for i in range(len(out)):
        left = out[i - bpp] if i >= bpp else 0
        up = previous[i]
        if kind == 1:
            predictor = left
        elif kind == 3:
            predictor = (left + up) // 2
        else:
            corner = previous[i - bpp] if i >= bpp else 0
            guess = left + up - corner
            near_left, near_up, near_corner = abs(guess - left), abs(guess - up), abs(guess - corner)
            if near_left <= near_up and near_left <= near_corner:
                predictor = left
            else:
                predictor = up if near_up <= near_corner else corner
        out[i] = (out[i] + predictor) & 0xFF
    return bytes(out)


def colours(rows: list[bytes], bpp: int) -> dict[bytes, int]:
    counts: dict[bytes, int] = {}
    for row in rows:
        for i in range(0, len(row), bpp):
            pixel = row[i : i + bpp]
            counts[pixel] = counts.get(pixel, 0) + 1
    return counts


def highlighted_in(dom: str) -> list[tuple[str, str]]:
    """(tag, data-tensor) of every element the page's script marked with class ``hl``."""
    found = []
    for tag, attributes in re.findall(r"<(\w+)\s([^>]*)>", dom):
        keys = re.search(r'data-tensor="([^"]*)"', attributes)
        classes = re.search(r'class="([^"]*)"', attributes)
        if keys and classes and "hl" in classes.group(1).split():
            found.append((tag, keys.group(1)))
    return found


def test_the_png_decoder_reads_a_known_page(chromium, tmp_path):
    """A red page with a 200x100 blue box and a 10x10 green box, pixel for pixel."""
    page = tmp_path / "known.html"
    box = "position:absolute;left:{}px;top:{}px;width:{}px;height:{}px;background:{}"
    page.write_text(
        '<!DOCTYPE html><body style="margin:0;background:#f00">'
        f'<div style="{box.format(100, 50, 200, 100, "#00f")}"></div>'
        f'<div style="{box.format(400, 300, 10, 10, "#0f0")}"></div></body>'
    )
    data, console = screenshot(chromium, tmp_path, page)
    width, height, bpp, rows = png_pixels(data)
    counts = {pixel[:3]: n for pixel, n in colours(rows, bpp).items()}
    assert (width, height) == (1400, 1000) and console == []
    assert counts == {
        b"\xff\x00\x00": 1400 * 1000 - 20000 - 100,
        b"\x00\x00\xff": 20000,
        b"\x00\xff\x00": 100,
    }


def test_html_page_renders_runs_and_logs_nothing(chromium, tmp_path):
    page = tmp_path / "lstm.html"
    page.write_text(render_html(shapes("lstm", units=32, input_dim=20, explain=True)), encoding="utf-8")
    data, console = screenshot(chromium, tmp_path, page)
    assert console == []
    _, _, bpp, rows = png_pixels(data)
    counts = colours(rows, bpp)
    background = max(counts.values())
    assert len(counts) > 50  # text, boxes in several colours, anti-aliasing: far from blank
    assert sum(counts.values()) - background > 0.03 * sum(counts.values())
    dom, console = browse(chromium, tmp_path, page, "--dump-dom")
    assert console == []
    assert 'data-shapecalc="ready"' in dom


def test_a_broken_page_would_be_caught(chromium, tmp_path, monkeypatch):
    """The console check is real: an error in the page's own script and a blocked request are
    both seen (the script's hash in the policy follows the script)."""
    from shapecalc.render import html as page_module

    monkeypatch.setattr(page_module, "SCRIPT", page_module.SCRIPT + "notDefined();\n")
    page = tmp_path / "broken.html"
    broken = render_html(shapes("rnn", units=3, input_dim=2)).replace(
        "</body>", '<img src="https://example.invalid/x.png"></body>'
    )
    page.write_text(broken, encoding="utf-8")
    _, console = browse(chromium, tmp_path, page, "--dump-dom")
    assert any("Uncaught ReferenceError" in line for line in console)
    assert any("Content Security Policy" in line for line in console)


def test_an_injected_inline_script_is_refused(chromium, tmp_path):
    """The policy allows only the page's own script (by hash): one slipped into the page is
    refused by the browser and never runs, while the page's own still does."""
    page = tmp_path / "injected.html"
    injected = render_html(shapes("rnn", units=3, input_dim=2)).replace(
        "</body>", '<script>document.documentElement.setAttribute("data-pwned", "1");</script></body>'
    )
    page.write_text(injected, encoding="utf-8")
    dom, console = browse(chromium, tmp_path, page, "--dump-dom")
    assert 'data-shapecalc="ready"' in dom
    assert not re.search(r"<html[^>]*data-pwned", dom)
    assert any("Content Security Policy" in line for line in console)


@pytest.mark.parametrize("fragment", ["#%", "#%E0%A4%A", "#%zz", "#kernel%"])
def test_a_malformed_link_logs_nothing(chromium, tmp_path, fragment):
    """``page.html#%`` is no valid percent-encoding: the script keeps running, the console
    stays empty and nothing is highlighted."""
    page = tmp_path / "lstm.html"
    page.write_text(render_html(shapes("lstm", units=4, input_dim=3)), encoding="utf-8")
    dom, console = browse(chromium, tmp_path, page, "--dump-dom", fragment=fragment)
    assert console == []
    assert 'data-shapecalc="ready"' in dom
    assert highlighted_in(dom) == []


def test_a_hostile_model_page_runs_and_logs_nothing(chromium, tmp_path):
    """Layer names that try to become markup stay text in the page and its picture."""
    from shapecalc.model.engine import propagate
    from shapecalc.model.reader import parse_model
    from shapecalc.render.model_svg import render_model_html

    names = ['<img src=x onerror="alert(1)">', "</script><script>alert(2)</script>", "]]>\x1b]8;;x\x07"]
    layers = [{"type": "dense", "units": 2, "name": name} for name in names]
    text = json.dumps({"name": "<b>m</b>", "input": [4], "layers": layers}).encode()
    page = tmp_path / "hostile.html"
    page.write_text(render_model_html(propagate(parse_model(text, "<i>.json"))), encoding="utf-8")
    dom, console = browse(chromium, tmp_path, page, "--dump-dom", fragment="#%")
    assert console == []
    assert 'data-shapecalc="ready"' in dom
    assert "<img" not in dom and "<b>" not in dom and "<i>" not in dom
    assert dom.count("<script") == 1


def test_a_link_to_a_tensor_highlights_it_everywhere(chromium, tmp_path):
    page = tmp_path / "convlstm.html"
    result = shapes("convlstm", filters=8, kernel=(3, 3), input=(128, 128, 3), explain=True)
    page.write_text(render_html(result), encoding="utf-8")
    dom, console = browse(chromium, tmp_path, page, "--dump-dom", fragment="#kernel_i")
    assert console == []
    highlighted = highlighted_in(dom)
    assert ("text", "kernel_i kernel") in highlighted  # the picture's W_i line
    assert ("tr", "kernel kernel_i kernel_f kernel_c kernel_o") in highlighted  # the table's row
    assert ("span", "kernel_i kernel") in highlighted  # the equations' operand
    assert all("kernel_i" in keys.split() for _, keys in highlighted)


FIT_SCRIPT = """
<script>
var problems = [];
document.querySelectorAll("svg").forEach(function (svg, n) {
  var boxes = [];
  svg.querySelectorAll("g.item").forEach(function (g, k) {
    var shape = g.querySelector(".box");
    var outer = shape ? shape.getBBox() : svg.viewBox.baseVal;
    g.querySelectorAll("text").forEach(function (t) {
      var r = t.getBBox();
      boxes.push([k, r, t.textContent]);
      if (r.x < outer.x - 0.5 || r.x + r.width > outer.x + outer.width + 0.5 ||
          r.y < outer.y - 0.5 || r.y + r.height > outer.y + outer.height + 0.5) {
        problems.push(n + ": '" + t.textContent + "' sticks out of its box");
      }
    });
  });
  boxes.forEach(function (a, i) {
    boxes.slice(i + 1).forEach(function (b) {
      var p = a[1], q = b[1];
      var apart = p.x >= q.x + q.width || q.x >= p.x + p.width ||
                  p.y >= q.y + q.height || q.y >= p.y + p.height;
      if (a[0] !== b[0] && !apart) {
        problems.push(n + ": '" + a[2] + "' overlaps '" + b[2] + "'");
      }
    });
  });
});
document.getElementById("out").textContent = JSON.stringify(problems);
</script>
"""

FIT_CASES = [
    ("lstm", {"units": 32, "input_dim": 20}),
    ("convlstm", {"filters": 8, "kernel": (3, 3), "input": (128, 128, 3)}),
    (
        "convlstm",
        {
            "filters": "F",
            "kernel": (3, 3),
            "input": ("frame_height_in_pixels", "(W + 5)//3", "C"),
            "strides": (2, 2),
        },
    ),
    ("gru", {"framework": "torch", "hidden_size": 16, "input_size": 4, "bidirectional": True}),
    ("gru", {"units": "units", "input_dim": 20, "reset_after": False}),
    ("lstm", {"framework": "torch", "hidden_size": 32, "input_size": 20, "proj_size": 8}),
    ("rnn", {"units": 1, "input_dim": 1}),
]


def _model(name: str):
    from shapecalc.model.engine import propagate
    from shapecalc.model.reader import read_model

    return propagate(read_model(str(Path(__file__).parent / "data" / "keras" / f"{name}.keras")))


def test_model_page_renders_and_logs_nothing(chromium, tmp_path):
    from shapecalc.render.model_svg import render_model_html

    page = tmp_path / "model.html"
    page.write_text(render_model_html(_model("gru_bidirectional_seq2seq")), encoding="utf-8")
    dom, console = browse(chromium, tmp_path, page, "--dump-dom", fragment="#encoder")
    assert console == []
    assert 'data-shapecalc="ready"' in dom
    assert {("tr", "encoder"), ("g", "encoder")} <= set(highlighted_in(dom))


def test_real_text_fits_its_boxes_and_never_overlaps(chromium, tmp_path):
    from shapecalc.render.model_svg import render_model_svg

    pictures = "\n".join(render_svg(shapes(kind, **options)) for kind, options in FIT_CASES)
    pictures += "\n".join(
        render_model_svg(_model(name)) for name in ("video_next_frame", "gru_bidirectional_seq2seq")
    )
    page = tmp_path / "fit.html"
    page.write_text(f'<!DOCTYPE html><meta charset="utf-8"><body>{pictures}<pre id="out"></pre>{FIT_SCRIPT}')
    dom, console = browse(chromium, tmp_path, page, "--dump-dom")
    assert console == []
    found = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S)
    assert found is not None
    assert json.loads(html.unescape(found.group(1))) == []
