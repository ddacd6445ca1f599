"""``--format html``: one self-contained page with the picture, the table and the
equations; hovering a tensor anywhere highlights it everywhere.

Nothing is fetched: styles and the script are inline, fonts are the reader's
own, and a Content-Security-Policy forbids any request and runs only the page's
own script (by its SHA-256 hash), never one a name could smuggle in. Every element that
shows a tensor carries ``data-tensor="name ..."``; hovering one highlights all
elements that list its first name. ``page.html#kernel_i`` opens the page with
``kernel_i`` highlighted (a link to one tensor), and a click sets that link.

>>> from shapecalc.api import shapes
>>> page = render_html(shapes("lstm", units=32, input_dim=20))
>>> page.startswith("<!DOCTYPE html>"), "<svg" in page, 'data-tensor="kernel kernel_i' in page
(True, True, True)
>>> "http://" in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
False
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence

from shapecalc.render.rows import COLUMNS, footer_lines, summary_rows, title
from shapecalc.render.svg import render_svg
from shapecalc.render.svg_markup import escape
from shapecalc.result import LayerResult

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'SCRIPT_HASH'; img-src data:"

PAGE_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#1f2328;
margin:24px auto;max-width:1400px;padding:0 16px;line-height:1.45}
h1{font-size:1.3rem;margin:0 0 .2rem}
h2{font-size:1.05rem;margin:1.6rem 0 .5rem}
figure{margin:0;overflow-x:auto;border:1px solid #d0d7de;border-radius:6px;padding:4px}
figure svg{display:block;max-width:100%;height:auto}
code,td,.eq{font-family:'DejaVu Sans Mono',Menlo,Consolas,'Liberation Mono',monospace;font-size:.88rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:3px 10px;border-bottom:1px solid #d8dee4;vertical-align:top}
th{font-weight:600;border-bottom:2px solid #d0d7de}
td.num{text-align:right}
td.meaning{font-family:inherit;font-size:.9rem;color:#57606a}
tr[data-tensor]{cursor:pointer}
tr.hl td,.eq .hl{background:#fff8c5}
.eq .hl{outline:1px solid #d4a72c}
ul{padding-left:1.2rem}
#sc-hovered{color:#cf222e;font-family:monospace}
.hint{color:#57606a;font-size:.85rem}
"""

SCRIPT = """
(function () {
  "use strict";
  var all = Array.prototype.slice.call(document.querySelectorAll("[data-tensor]"));
  var marked = [];
  function names(el) { return el.getAttribute("data-tensor").split(" "); }
  function highlight(name) {
    marked.forEach(function (el) { el.classList.remove("hl"); });
    marked = name ? all.filter(function (el) { return names(el).indexOf(name) >= 0; }) : [];
    marked.forEach(function (el) { el.classList.add("hl"); });
    document.getElementById("sc-hovered").textContent = name;
  }
  function fromLink() {
    var link = window.location.hash.slice(1);
    try { link = decodeURIComponent(link); } catch (malformed) { /* "#%": keep it as typed */ }
    highlight(link);
  }
  all.forEach(function (el) {
    var name = names(el)[0];
    el.addEventListener("mouseenter", function () { highlight(name); });
    el.addEventListener("mouseleave", fromLink);
    el.addEventListener("click", function () { window.location.hash = encodeURIComponent(name); });
  });
  window.addEventListener("hashchange", fromLink);
  fromLink();
  document.documentElement.setAttribute("data-shapecalc", "ready");
})();
"""


def render_html(result: LayerResult) -> str:
    """The page for one layer: cell picture, tensor table, equations when available."""
    sections = [
        ("Cell", render_svg(result)),
        ("Tensors", _table(result)),
    ]
    sections += [("Equations", body) for body in _equations(result)]
    return page(title(result), sections)


LAYER_HINT = "Hover a tensor to find it in the picture, the table and the equations"


def script_hash(script: str) -> str:
    """The CSP source that allows exactly ``script`` as an inline script.

    >>> script_hash("")
    'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='
    """
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def page(heading: str, sections: Sequence[tuple[str, str]], hint: str = LAYER_HINT) -> str:
    """A complete HTML document: ``sections`` are (heading, trusted HTML) pairs."""
    csp = CSP.replace("SCRIPT_HASH", script_hash(SCRIPT))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="shapecalc">',
        f"<title>{escape(heading)}</title>",
        f"<style>{PAGE_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(heading)}</h1>",
        f'<p class="hint">{escape(hint)}; click to keep it highlighted. <span id="sc-hovered"></span></p>',
    ]
    for name, body in sections:
        tag = "figure" if body.lstrip().startswith("<svg") else "div"
        parts += [f"<h2>{escape(name)}</h2>", f"<{tag}>", body.strip(), f"</{tag}>"]
    parts += [f"<script>{SCRIPT}</script>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _table(result: LayerResult) -> str:
    slices: dict[str, list[str]] = {}
    for tensor in result.tensors:
        if tensor.slice_of is not None:
            slices.setdefault(tensor.slice_of, []).append(tensor.name)
    head = "".join(f"<th>{escape(column)}</th>" for column in COLUMNS)
    rows = [f"<table><thead><tr>{head}</tr></thead><tbody>"]
    for row in summary_rows(result):
        keys = " ".join([row.name, *slices.get(row.name, [])])
        cells = [
            f"<td><code>{escape(row.name)}</code></td>",
            f"<td>{escape(row.shape)}</td>",
            f"<td>{escape(row.per_gate)}</td>",
            f'<td class="num">{escape(row.params)}</td>',
            f'<td class="meaning">{escape(row.meaning)}</td>',
        ]
        rows.append(f'<tr data-tensor="{escape(keys)}">{"".join(cells)}</tr>')
    rows.append("</tbody></table>")
    rows.append(text_list(footer_lines(result)))
    return "\n".join(rows)


def text_list(lines: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"


def _equations(result: LayerResult) -> list[str]:
    """The explained equations (``--explain``), each operand hoverable, when derived."""
    if result.explanation is None:
        return []
    parents = {t.name: t.slice_of for t in result.tensors if t.slice_of}
    rows = [
        '<table class="eq"><thead><tr><th>equation</th><th>operands</th><th>result</th></tr></thead><tbody>'
    ]
    for step in result.explanation.steps:
        operands = (step.result, *step.operands)
        symbols = {operand.symbol: _keys(operand.tensor, parents) for operand in operands}
        chips = ", ".join(_chip(o.symbol, o.annotation(), _keys(o.tensor, parents)) for o in step.operands)
        result_chip = _chip(step.result.symbol, step.result.annotation(), _keys(step.result.tensor, parents))
        equation = _marked_equation(step.equation, symbols)
        rows.append(f"<tr><td>{equation}</td><td>{chips}</td><td>{result_chip}</td></tr>")
    rows.append("</tbody></table>")
    rows.append(text_list(result.explanation.notes))
    return ["\n".join(rows)]


def _keys(tensor: str, parents: dict[str, str]) -> str:
    return " ".join([tensor, parents[tensor]] if tensor in parents else [tensor])


def _chip(symbol: str, text: str, keys: str) -> str:
    shape = text[len(symbol) :]
    return f'<span data-tensor="{escape(keys)}">{math_html(symbol)}{escape(shape)}</span>'


def _marked_equation(equation: str, symbols: dict[str, str]) -> str:
    """``equation`` with each operand symbol wrapped in a hoverable span (longest symbols first)."""
    ordered = sorted(symbols, key=len, reverse=True)
    pattern = re.compile("|".join(rf"(?<![\w^]){re.escape(s)}(?![\w^])" for s in ordered))
    out, position = [], 0
    for match in pattern.finditer(equation):
        out.append(math_html(equation[position : match.start()]))
        keys = escape(symbols[match.group(0)])
        out.append(f'<span data-tensor="{keys}">{math_html(match.group(0))}</span>')
        position = match.end()
    out.append(math_html(equation[position:]))
    return "".join(out)


_MATH_SCRIPT = re.compile(r"([_^])(\{[^{}]*\}|\([^()]*\)|[A-Za-z0-9]+)")


def math_html(text: str) -> str:
    """``h_{t-1}`` -> ``h<sub>t-1</sub>``, ``h_t^fwd`` -> ``h<sub>t</sub><sup>fwd</sup>`` (escaped).

    >>> math_html("W_ii x_t + b_i[0] < h_{t-1}^(1)")
    'W<sub>ii</sub> x<sub>t</sub> + b<sub>i</sub>[0] &lt; h<sub>t-1</sub><sup>(1)</sup>'
    """
    out, position = [], 0
    for match in _MATH_SCRIPT.finditer(text):
        tag = "sub" if match.group(1) == "_" else "sup"
        body = match.group(2)
        body = body[1:-1] if body.startswith("{") else body
        out.append(escape(text[position : match.start()]))
        out.append(f"<{tag}>{escape(body)}</{tag}>")
        position = match.end()
    out.append(escape(text[position:]))
    return "".join(out)
