"""What every shapecalc run must satisfy, and the adversarial inputs the fuzz tests draw from.

The contract: any argv and any file end with exit 0, 1 or 2; a
failure prints exactly one line, ``Error: ...``, on stderr; ``--format json``
that succeeds prints valid JSON; nothing prints a traceback or hangs.
"""

from __future__ import annotations

import itertools
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from xml.etree import ElementTree

import click
from hypothesis import strategies as st

from shapecalc.cli import cli
from shapecalc.cli.params import ChoiceText, CountText, SizeText, ValuesText

#: Longest acceptable error line (shapecalc.errors.shown keeps echoed values to about 60 characters).
MAX_ERROR_LINE = 600
#: What no terminal may receive raw: C0 and C1 controls, DEL, bidi controls, line separators and
#: lone surrogates (line feeds are checked apart).
RAW_CONTROL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
#: Formats read by a terminal or a markdown viewer, where a control character would act.
TEXT_FORMATS = (None, "table", "markdown")
#: Tokens after which the output is help or a version, not a result.
HELP_TOKENS = {"--help", "-h", "--version"}


class Hang(BaseException):
    """Raised by :func:`time_limit`; a BaseException so ``main`` cannot swallow it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail the run with :class:`Hang` when it takes longer than ``seconds`` (main thread, POSIX)."""

    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def batch_process() -> subprocess.Popen[bytes]:
    """A real ``shapecalc batch`` reading stdin, to converse with through pipes (see :func:`ask`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "shapecalc", "batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def ask(process: subprocess.Popen[bytes], line: str) -> dict[str, object]:
    """Send one config line to a :func:`batch_process` and read its answer."""
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(line.encode() + b"\n")
    process.stdin.flush()
    answer: dict[str, object] = json.loads(process.stdout.readline())
    return answer


def check_run(args: Sequence[str], code: int, out: str, err: str, output_expected: bool = True) -> None:
    """Assert the contract for one finished run of ``shapecalc *args``."""
    shown = f"shapecalc {' '.join(repr(a)[:80] for a in args)}\nexit {code}\nstderr: {err[:2000]!r}"
    assert code in (0, 1, 2), shown
    assert "Traceback" not in err and "Traceback" not in out, shown
    assert "internal error" not in err, shown  # a bug: every bad input has its own message
    assert not RAW_CONTROL.search(err), shown  # echoed values cannot drive the terminal
    if code != 0:
        assert err.startswith("Error: ") and err.endswith("\n") and err.count("\n") == 1, shown
        assert len(err.splitlines()) == 1, shown  # no other line breaks (\r, \x0b, \u2028, ...)
        assert len(err) <= MAX_ERROR_LINE, shown  # echoed values are cut short, never a 3 MB line
        return
    if HELP_TOKENS & set(args):
        return
    fmt = output_format(args)
    if fmt == "json":
        json.loads(out)
    elif output_expected:
        assert out.strip(), shown
    if fmt in TEXT_FORMATS:
        assert not RAW_CONTROL.search(out), shown
    elif fmt == "svg":
        ElementTree.fromstring(out)  # well-formed XML: no control character, no stray markup


def output_format(args: Sequence[str]) -> str | None:
    """The ``--format`` value in effect (Click keeps the last one given)."""
    found = None
    for flag, value in itertools.pairwise(args):
        if flag == "--format":
            found = value
    return found


# --------------------------------------------------------------------------- values
UNICODE_DIGITS = ["٣", "३", "๓", "²", "①", "１２", "٣٣", "߃", "𝟑", "3\u0663"]
HUGE_NUMBERS = [
    "9" * 5000,
    "1" * 19,
    "9" * 19,
    str(2**63 - 1),
    str(2**63),
    str(2**62),
    str(10**100),
    "-" + "9" * 30,
    "0",
    "-1",
    "0" * 30 + "1",
    "4611686018427387904*W",
    "3037000500*3037000500",
]
EMPTY = ["", " ", "\t", "\n", "\r\n", "\u2028", "\x0b"]
FLOATS = ["1.5", "1e3", "2.", ".5", "nan", "inf", "-0.0", "1_000", "0x10", "1j"]
DIVISION_BY_ZERO = ["W//0", "3//0", "(W + 1)//(2 - 2)", "W//(W - W)", "0//0", "W//-0"]
HOSTILE = [
    "__import__('os')",
    "os.system('x')",
    "lambda: 1",
    "W**2",
    "W/2",
    "W % 2",
    "[W]",
    "{}",
    "W;H",
    "$(id)",
]
NAMES = ["W", "H", "D", "batch", "timestep", "x_1", "_", "T"]
#: Text that tries to act on whatever shows it: terminal escapes (clear, OSC 8 link, OSC 0 title),
#: C1 controls, bidi overrides, NUL, a lone surrogate, markup for XML, HTML and markdown.
INJECTIONS = [
    "\x1b[2Jevil",
    "\x1b]8;;https://example.invalid\x07link\x1b]8;;\x07",
    "\x1b]0;owned\x07",
    "\x9b2J\x9d0;t\x9c",
    "\u202eevil\u202c",
    "\u2066x\u2069\u200f",
    "a\x00b",
    "\ud800x\udcff",
    "<script>alert(1)</script>",
    "]]><x/>",
    '" onmouseover="alert(1)',
    "a|b`c`*_d_*[e](f)<b>&amp;",
    "\r\x0b\x0c\x7f\u2028\u2029",
]


def nested(depth: int) -> str:
    return "(" * depth + "W" + ")" * depth


@cache
def expressions() -> st.SearchStrategy[str]:
    """Random well-formed expressions over small ints and names (division by zero included)."""
    leaves = st.integers(min_value=0, max_value=40).map(str) | st.sampled_from(NAMES)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, st.sampled_from([" + ", " - ", "*", "//"]), inner).map("".join)
        return binary | inner.map(lambda e: f"({e})") | inner.map(lambda e: f"-{e}")

    return st.recursive(leaves, extend, max_leaves=12)


@cache
def size_values() -> st.SearchStrategy[str]:
    """Text for a size option: mostly plausible, often adversarial."""
    good = st.integers(min_value=1, max_value=64).map(str) | st.sampled_from(NAMES)
    return st.one_of(
        good,
        good,
        expressions(),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.sampled_from(UNICODE_DIGITS + HUGE_NUMBERS + EMPTY + FLOATS + DIVISION_BY_ZERO + HOSTILE),
        st.floats().map(repr),
        st.integers(min_value=55, max_value=75).map(nested),
        st.integers(min_value=55, max_value=75).map(lambda k: "-" * k + "W"),
        st.integers(min_value=60, max_value=70).map(lambda k: "a" * k),
        st.just("W + " * 600 + "W"),
        st.text(max_size=30),
        st.sampled_from(INJECTIONS),
    )


@cache
def hostile_text() -> st.SearchStrategy[str]:
    """A name or value meant to act on the terminal, the XML or the markdown that shows it."""
    return st.one_of(
        st.sampled_from(INJECTIONS),
        st.lists(st.sampled_from(INJECTIONS) | st.text(max_size=8), min_size=1, max_size=4).map("".join),
        st.text(st.characters(codec=None, categories=("Cc", "Cf", "Cs", "Zl", "Zp", "Co")), min_size=1),
        st.integers(min_value=200, max_value=12_000).map(lambda k: "n" + "\x1b" * 3 + "é" * k),
    )


@cache
def free_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=20),
        st.sampled_from(EMPTY + HOSTILE + UNICODE_DIGITS + INJECTIONS + ["--", "-", "-x"]),
    )


def option_args(option: click.Option) -> st.SearchStrategy[list[str]]:
    """``[flag, value, ...]`` for one option, its values drawn by the option's type."""
    flags = st.sampled_from([*option.opts, *option.secondary_opts])
    if option.is_flag or option.count:
        return flags.map(lambda flag: [flag])
    if isinstance(option.type, (click.Choice, ChoiceText)):
        value = st.sampled_from(list(option.type.choices)) | free_text()
    elif isinstance(option.type, (SizeText, CountText, ValuesText)):
        value = size_values()
    else:
        value = free_text()
    low, high = (1, 1)
    if isinstance(option.type, ValuesText):  # one value for every axis, or one per axis
        low, high = min(option.type.counts), max(option.type.counts)
    return st.tuples(flags, st.lists(value, min_size=low, max_size=high)).map(lambda t: [t[0], *t[1]])


def file_commands() -> set[str]:
    """Commands that take a file argument (``batch``, ``model``): fuzzed with files instead."""
    return {
        name
        for name, command in cli.all_commands().items()
        if any(isinstance(p, click.Argument) for p in command.params)
    }


def layer_argv() -> st.SearchStrategy[list[str]]:
    """A layer command (or an alias) with a random subset of its options, mostly --format json."""
    names = sorted(set(cli.all_commands()) - file_commands())
    return st.sampled_from([*names, "convlstm2d"]).flatmap(_command_argv)


def _command_argv(name: str) -> st.SearchStrategy[list[str]]:
    return command_options(name).map(lambda options: [name, *options])


def command_options(name: str) -> st.SearchStrategy[list[str]]:
    """Random options of command ``name`` (its own, by type), a stray token, mostly --format json last."""
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    # -o/--output writes files: tests/test_output_file.py covers it, the fuzz keeps to stdout.
    options = [
        p
        for p in command.params
        if isinstance(p, click.Option) and not set(p.opts) & HELP_TOKENS and p.name not in ("output", "force")
    ]
    chosen = st.lists(st.sampled_from(options).flatmap(option_args), max_size=len(options) + 2)
    extra = st.lists(free_text(), max_size=1)
    formats = [choice for p in options if p.name == "fmt" for choice in p.type.choices]  # type: ignore[attr-defined]
    fmt = st.sampled_from([["--format", "json"]] * 4 + [["--format", f] for f in formats] + [[]])
    return st.tuples(chosen, extra, fmt).map(lambda t: [*(a for group in t[0] for a in group), *t[1], *t[2]])


# --------------------------------------------------------------------------- documents
#: What a node of a parsed model file may be replaced by: every JSON type, and the values that
#: broke readers before (a huge integer, a lone surrogate, a long name).
HOSTILE_NODES: list[object] = [
    0,
    -1,
    7,
    2.5,
    float("inf"),
    "",
    "x",
    "\ud800",
    "n" * 2000,
    [],
    [1],
    ["x", 0, 0],
    {},
    {"class_name": "Dense"},
    None,
    True,
    10**5000,
    2**63,
]


def node_paths(document: object) -> list[tuple[object, ...]]:
    """The path (keys and indexes) of every node of a parsed document, the root first."""
    paths: list[tuple[object, ...]] = []
    stack: list[tuple[tuple[object, ...], object]] = [((), document)]
    while stack:
        path, node = stack.pop()
        paths.append(path)
        if isinstance(node, dict):
            stack.extend(((*path, key), value) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, index), value) for index, value in enumerate(node))
    return paths


def replaced(document: object, path: tuple[object, ...], value: object) -> object:
    """A copy of ``document`` with the node at ``path`` replaced by ``value``."""
    if not path:
        return value
    copy = dict(document) if isinstance(document, dict) else list(document)  # type: ignore[call-overload]
    copy[path[0]] = replaced(copy[path[0]], path[1:], value)
    return copy


@st.composite
def mutated_documents(draw: st.DrawFn, document: object) -> object:
    """``document`` with one to three nodes replaced by :data:`HOSTILE_NODES` or by a node
    moved from elsewhere in it (a layer where a shape belongs, a shape where a name belongs)."""
    for _ in range(draw(st.integers(1, 3))):
        paths = node_paths(document)
        path = draw(st.sampled_from(paths))
        if draw(st.integers(0, 3)) == 0:
            donor: object = document
            for step in draw(st.sampled_from(paths)):
                donor = donor[step]  # type: ignore[index]
            value = donor
        else:
            value = draw(st.sampled_from(HOSTILE_NODES))
        document = replaced(document, path, value)
    return document


def dump_json(document: object) -> bytes:
    """``document`` as JSON text as a file would hold it (a lone surrogate as its escape)."""
    import sys

    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
    if limit:
        sys.set_int_max_str_digits(0)  # the huge integers must reach the file
    try:
        return json.dumps(document).encode()
    finally:
        if limit:
            sys.set_int_max_str_digits(limit)
