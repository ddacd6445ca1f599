"""Hostile text through every output: names from model files, file names, echoed values.

Each format is parsed the way its reader would: a terminal's text must hold no raw control
or bidi character, SVG must be well-formed XML, the HTML page must hold no element or
attribute the input introduced, markdown rendered by a CommonMark parser no markup the
input introduced, and JSON must give the names back exactly.
"""

from __future__ import annotations

import json
import os
import time
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fuzzing import INJECTIONS, RAW_CONTROL, check_run, hostile_text, time_limit
from hypothesis import HealthCheck, given, settings
from markdown_it import MarkdownIt

from shapecalc.model.limits import MAX_NAME_LENGTH
from shapecalc.render.inert import NAME_LENGTH, cut, markdown_code, markdown_text, terminal, visible, xml

KERAS_DATA = Path(__file__).parent / "data" / "keras"
FORMATS = ("table", "json", "markdown", "svg", "html")
#: Near the longest name a model file may hold (longer ones, and lone surrogates, are refused);
#: the tests add a few characters to it.
LONG = "L" * (MAX_NAME_LENGTH - 10)
NAMES = [
    *(name for name in INJECTIONS if not any(0xD800 <= ord(c) <= 0xDFFF for c in name)),
    LONG,
    "\x1b[2J" + "x" * (MAX_NAME_LENGTH - 16) + "\u202e",
]
#: GitHub-flavoured enough: CommonMark with tables.
COMMONMARK = MarkdownIt("commonmark").enable("table")
EXAMPLES = int(os.environ.get("SHAPECALC_FUZZ_EXAMPLES", "400")) // 8


def own_model(names: list[str], model_name: str = "m") -> bytes:
    """A shapecalc model file: one dense layer per name."""
    layers = [{"type": "dense", "units": 2, "name": name} for name in names]
    return json.dumps({"name": model_name, "input": [4], "layers": layers}).encode()


def keras_model(name: str) -> bytes:
    """Keras' seq2seq example with its encoder renamed: the name is also in ``connected to``."""
    text = (KERAS_DATA / "seq2seq_states.json").read_text(encoding="utf-8")
    return text.replace('"encoder"', json.dumps(name)).encode()


class Markup(HTMLParser):
    """Every tag and attribute name in an HTML text, and its text content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def markup(text: str) -> Markup:
    parser = Markup()
    parser.feed(text)
    parser.close()
    return parser


def run_model(run_cli, path: Path, fmt: str, *extra: str):
    args = ["model", str(path), "--format", fmt, *extra]
    with time_limit(30):
        done = run_cli(*args)
    check_run(args, done.code, done.out, done.err)
    return done


BENIGN: dict[tuple[str, ...], str] = {}


def benign(run_cli, tmp_path: Path, kind: str, fmt: str, *extra: str) -> str:
    """The same model with plain names: the markup the renderer itself writes."""
    key = (kind, fmt, *extra)
    if key not in BENIGN:
        path = tmp_path / "benign.json"
        path.write_bytes(own_model(["plain"]) if kind == "own" else keras_model("plain"))
        BENIGN[key] = run_model(run_cli, path, fmt, *extra).out
    return BENIGN[key]


def check_output(
    run_cli, tmp_path: Path, kind: str, fmt: str, out: str, names: list[str], *extra: str
) -> None:
    """``out`` (format ``fmt``, options ``extra``) shows ``names`` inertly; see the module's docstring."""
    if fmt == "json":
        data = json.loads(out)
        assert [layer["name"] for layer in data["layers"] if layer["name"] in names] == names
        return
    if fmt in ("table", "markdown"):
        assert not RAW_CONTROL.search(out), out[:2000]
        assert all(len(line) <= 4 * NAME_LENGTH + 200 for line in out.splitlines())
    if fmt == "table":
        for name in names:
            words = terminal(name).split()  # rich wraps a long cell at spaces, and folds words
            assert not words or words[0][:12] in out
    if fmt == "markdown":
        rendered = COMMONMARK.render(out)
        plain = COMMONMARK.render(benign(run_cli, tmp_path, kind, fmt, *extra))
        found, allowed = markup(rendered), markup(plain)
        assert found.tags <= allowed.tags, found.tags - allowed.tags
        assert found.attributes <= allowed.attributes, found.attributes - allowed.attributes
        rows = [line for line in out.splitlines() if line.startswith("| ")]
        rules = [line for line in rows if line.startswith("| ---")]
        assert rendered.count("<tr>") == len(rows) - len(rules)  # no row split or swallowed
    if fmt == "svg":
        tree = ElementTree.fromstring(out)
        allowed_tree = ElementTree.fromstring(benign(run_cli, tmp_path, kind, fmt, *extra))
        assert {e.tag for e in tree.iter()} <= {e.tag for e in allowed_tree.iter()}
        assert {a for e in tree.iter() for a in e.attrib} <= {
            a for e in allowed_tree.iter() for a in e.attrib
        }
        assert not any(RAW_CONTROL.search(e.text or "") for e in tree.iter())
    if fmt == "html":
        found, allowed = markup(out), markup(benign(run_cli, tmp_path, kind, fmt, *extra))
        assert found.tags <= allowed.tags, found.tags - allowed.tags
        assert found.attributes <= allowed.attributes, found.attributes - allowed.attributes
        assert out.count("<script") == 1 and out.count("</script>") == 1
        picture = out[out.index("<svg") : out.index("</svg>") + len("</svg>")]
        ElementTree.fromstring(picture)  # the inline SVG is XML too
        assert not RAW_CONTROL.search(out.replace("\n", ""))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", NAMES, ids=lambda name: visible(name)[:24])
def test_hostile_layer_names_are_inert_in_every_format(run_cli, tmp_path, name, fmt):
    path = tmp_path / "m.json"
    path.write_bytes(own_model([name, name + "2"], model_name=name))
    done = run_model(run_cli, path, fmt)
    check_output(run_cli, tmp_path, "own", fmt, done.out, [name, name + "2"])


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", [*INJECTIONS[:4], *INJECTIONS[8:12], LONG], ids=lambda n: visible(n)[:24])
def test_hostile_names_in_a_functional_model_are_inert(run_cli, tmp_path, name, fmt):
    """The name also appears in ``connected to`` and on the picture's arrows."""
    path = tmp_path / "seq2seq.json"
    path.write_bytes(keras_model(name))
    done = run_model(run_cli, path, fmt, "--detail")
    check_output(run_cli, tmp_path, "keras", fmt, done.out, [name], "--detail")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_hostile_file_name_is_inert(run_cli, tmp_path, fmt):
    """The file name is in every title (the table's, the page's, the picture's)."""
    path = tmp_path / "\x1b]0;owned\x07\u202e<b>|`x`.json"
    path.write_bytes(own_model(["plain"]))
    done = run_model(run_cli, path, fmt)
    if fmt != "json":
        assert path.name not in done.out
    if fmt in ("svg", "html"):
        assert "<b>" not in done.out
    check_output(run_cli, tmp_path, "own", fmt, done.out, ["plain"])


@pytest.mark.parametrize("value", NAMES, ids=lambda name: visible(name)[:24])
@pytest.mark.parametrize("fmt", FORMATS)
def test_echoed_values_are_inert_on_stderr(run_cli, tmp_path, value, fmt):
    """A layer command, ``model`` and ``batch`` echo a bad value in their one error line."""
    value = value.replace("\ud800", "\udc80")  # a real argv holds only \udc80-\udcff (undecodable bytes)
    runs = [
        ["lstm", "--units", value, "--input-dim", "3", "--format", fmt],
        ["convlstm", "--filters", "8", "--kernel", "3", "--input", "9", "9", "1", "--merge-mode", value],
        ["lstm", "--units", "3", "--input-dim", "3", "--format", value],
        ["lstm", "--units", "3", "--input-dim", "3", f"--{value}"],
        ["model", str(tmp_path / value.replace("/", "_").replace("\x00", "_")), "--format", fmt],
        ["model", str(tmp_path / "none.json"), "--set", value],
        ["batch", str(tmp_path / value.replace("/", "_").replace("\x00", "_"))],
        [value],
    ]
    for args in runs:
        if "\x00" in " ".join(args[1:]):
            continue  # a NUL cannot be in a real argv; main refuses it (tested in test_fuzz_cli)
        done = run_cli(*args)
        check_run(args, done.code, done.out, done.err)
        assert done.code in (1, 2), (args, done.err)


def test_a_model_file_error_naming_a_hostile_layer_is_inert(run_cli, tmp_path):
    path = tmp_path / "bad.json"
    layers = [{"type": "dense", "units": -1, "name": "\x1b]8;;https://x\x07" + "y" * 5000}]
    path.write_bytes(json.dumps({"input": [4], "layers": layers}).encode())
    done = run_cli("model", str(path))
    check_run(["model", str(path)], done.code, done.out, done.err)
    assert done.code == 2


def test_an_unknown_hostile_class_is_inert(run_cli, tmp_path):
    """The class name comes from the file too: refused, or listed with --skip-unknown."""
    text = (
        keras_model("enc")
        .decode()
        .replace('"class_name": "TimeDistributed"', '"class_name": "\\u001b[2J<b>X"')
    )
    path = tmp_path / "unknown.json"
    path.write_text(text, encoding="utf-8")
    for extra in ((), ("--skip-unknown",)):
        for fmt in FORMATS:
            args = ["model", str(path), "--format", fmt, *extra]
            done = run_cli(*args)
            check_run(args, done.code, done.out, done.err)
            if done.code == 0 and fmt != "json":
                check_output(run_cli, tmp_path, "keras", fmt, done.out, [])


@pytest.mark.fuzz
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(names=hostile_text().flatmap(lambda a: hostile_text().map(lambda b: [a, b])))
def test_random_hostile_names_are_inert(run_cli, tmp_path, names):
    names = [name or "empty" for name in names]  # a layer without a name gets Keras' default
    if len(set(names)) < 2:
        names = [names[0], names[0] + "_2"]
    path = tmp_path / "random.json"
    path.write_bytes(own_model(names, model_name=names[0]))
    for fmt in FORMATS:
        done = run_model(run_cli, path, fmt)
        if done.code == 0:
            check_output(run_cli, tmp_path, "own", fmt, done.out, names)


def test_a_huge_name_costs_no_more_than_a_short_one(run_cli, tmp_path):
    """Names are cut before a table measures them: a 4 MB name renders in a moment."""
    path = tmp_path / "huge.json"
    path.write_bytes(own_model(["h" * 4_000_000]))
    for fmt in ("table", "markdown", "svg", "html"):
        started = time.perf_counter()
        done = run_model(run_cli, path, fmt)
        assert time.perf_counter() - started < 10, fmt
        assert len(done.out) < 60_000, (fmt, len(done.out))


# --------------------------------------------------------------------------- the functions
def test_each_medium_function_keeps_its_promise():
    hostile = "".join(INJECTIONS)
    assert not RAW_CONTROL.search(terminal(hostile, None))
    ElementTree.fromstring(f'<a b="{xml(hostile)}">{xml(hostile)}</a>')
    assert "\n" not in markdown_text(hostile) and "\n" not in markdown_code(hostile)
    assert len(cut(LONG)) == NAME_LENGTH and cut("short") == "short"
    assert terminal("\x1b[2J") == "\\x1b[2J" and terminal("\u202e") == "\\u202e"


@pytest.mark.parametrize("name", [*INJECTIONS, "`", "``", " a ", "|", "\\|"])
def test_a_code_span_shows_its_text_exactly(name):
    """CommonMark renders the code span back to the (visibly escaped) text, in a table cell too."""
    cell = f"| h |\n| --- |\n| {markdown_code(name, None)} |\n"
    rendered = COMMONMARK.render(cell)
    code = rendered[rendered.index("<code>") + len("<code>") : rendered.index("</code>")]
    import html

    assert html.unescape(code) == visible(name)


@pytest.mark.parametrize("name", ["\ud800x\udcff", "\x1b[2J" + "L" * 20_000])
def test_names_a_model_file_may_not_hold_are_refused_inertly(run_cli, tmp_path: Path, name: str) -> None:
    path = tmp_path / "m.json"
    text = json.dumps({"input": [4], "layers": [{"type": "dense", "units": 2, "name": name}]})
    path.write_text(text, encoding="utf-8")
    result = run_cli("model", str(path))
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and "\x1b" not in result.err and len(result.err) < 600
