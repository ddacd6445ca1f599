"""Rewrite the output under every ``$ command`` of the docs' console blocks with what it prints now.

The docs are README.md and every page ``docs/*.md``; their examples are tests
(``tests/test_docs.py`` runs them through this module). After a deliberate change of output,
run this, read the diff, and commit it::

    python scripts/update_docs.py                   # every page
    python scripts/update_docs.py docs/weights.md   # some pages

It also writes the options table (between ``<!-- begin:options-table -->`` and
``<!-- end:options-table -->``) from the option table in ``shapecalc/options.py``, and the
list of layer classes (``layer-classes``) from the model registry, on the page that holds them;
run for every page, it also redraws the pictures in ``docs/images/`` (``IMAGES``).

How an example runs, here and in the tests: a page's ``$ command`` lines run in order in one
scratch directory per page, which sees the repository's ``tests/``, ``benchmarks/`` and
``shapecalc/``, with ``shapecalc`` on the PATH, at 100 columns, stdout and stderr together, and
must print exactly the lines under the command (trailing spaces aside). A ``$ cat FILE`` of a
file name the scratch directory does not hold (``cat bad.yaml``, no folder) writes FILE from the
lines under it: it is the example's input. Left as written and never run: a console block
right after a ``<!-- not-run -->`` line, benchmark timings (``python benchmarks/...``) and test
runs (a command that runs pytest). Commands that use ``jq`` need jq: the tests skip them without
it, and this script refuses to run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NOT_RUN = "<!-- not-run -->"
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
#: ``cat FILE`` of one plain file name: the command that writes FILE when it is absent.
_WRITTEN = re.compile(r"cat ([\w.-]+)")


@dataclass(frozen=True)
class Example:
    """One ``$ command`` of a console block and the lines the page shows under it."""

    page: str
    line: int
    command: str
    shown: tuple[str, ...]
    marked_not_run: bool = False

    @property
    def uses_jq(self) -> bool:
        """Whether the command runs jq (``... | jq ...``, ``jq ... FILE``)."""
        return re.search(r"(^|[|;&]\s*)jq\b", self.command) is not None

    def why_not_run(self) -> str | None:
        """Why the example is shown but never run, or ``None`` when it runs."""
        if self.marked_not_run:
            return f"marked {NOT_RUN}"
        if self.command.startswith("python benchmarks/"):
            return "benchmark timings, kept as written"
        if "pytest" in self.command:
            return "a test run, kept as written"
        return None


@dataclass(frozen=True)
class Block:
    """A console block: the lines ``first`` up to (not including) ``end`` hold its examples."""

    first: int
    end: int
    examples: tuple[Example, ...]


def pages() -> list[Path]:
    """README.md and every ``docs/*.md`` page, in that order."""
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def page_name(path: Path) -> str:
    """The page's path from the repository root, as the tests name it (``docs/layers.md``)."""
    return path.resolve().relative_to(ROOT).as_posix()


def console_blocks(text: str, page: str = "page") -> list[Block]:
    """The console blocks of a page, other fenced blocks left aside.

    >>> [block] = console_blocks("<!-- not-run -->\\n```console\\n$ echo hi\\nhi\\n```\\n")
    >>> block.examples[0].command, block.examples[0].shown, block.examples[0].why_not_run()
    ('echo hi', ('hi',), 'marked <!-- not-run -->')
    """
    lines = text.split("\n")
    blocks: list[Block] = []
    position = 0
    while position < len(lines):
        opening = _FENCE.match(lines[position])
        if opening is None:
            position += 1
            continue
        fence = opening["fence"]
        end = position + 1
        while end < len(lines) and not (lines[end].startswith(fence) and not lines[end].strip(fence[0])):
            end += 1
        if opening["info"].strip() == "console":
            marked = position > 0 and lines[position - 1].strip() == NOT_RUN
            blocks.append(Block(position + 1, end, _examples(lines, position + 1, end, page, marked)))
        position = end + 1
    return blocks


def _examples(lines: list[str], first: int, end: int, page: str, marked: bool) -> tuple[Example, ...]:
    examples: list[tuple[int, str, list[str]]] = []
    for number in range(first, end):
        line = lines[number]
        if line.startswith("$ "):
            examples.append((number + 1, line[2:], []))
        elif not examples:
            raise ValueError(f"{page}:{number + 1}: a console block starts with a '$ ' command line")
        else:
            examples[-1][2].append(line)
    return tuple(Example(page, at, command, tuple(shown), marked) for at, command, shown in examples)


def page_examples(path: Path) -> list[Example]:
    """Every example of a page, in order."""
    blocks = console_blocks(path.read_text(encoding="utf-8"), page_name(path))
    return [example for block in blocks for example in block.examples]


def run(command: str, scratch: Path, env: dict[str, str]) -> list[str]:
    """What ``command`` prints in ``scratch`` (stdout and stderr together), line by line."""
    done = subprocess.run(
        ["sh", "-c", command], cwd=scratch, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=120,
    )  # fmt: skip
    return [text.rstrip() for text in done.stdout.rstrip("\n").split("\n")] if done.stdout else []


def play(example: Example, scratch: Path, env: dict[str, str]) -> list[str]:
    """Run one example as the page means it: ``cat FILE`` of a file name the scratch directory
    does not hold writes that file, and the lines shown are its output."""
    written = _WRITTEN.fullmatch(example.command)
    if written and not (scratch / written[1]).exists():
        (scratch / written[1]).write_text("\n".join(example.shown) + "\n")
        return list(example.shown)
    return run(example.command, scratch, env)


class Session:
    """One page's examples, played in order in one scratch directory.

    ``printed(example)`` first plays the page's earlier examples that have not run yet (the files
    they write are the later ones' input), so any one example can run alone; an example earlier
    than the last one played starts a fresh scratch directory.
    """

    def __init__(self, examples: list[Example], new_scratch: Callable[[], Path]) -> None:
        self.examples = examples
        self._new_scratch = new_scratch
        self._next = len(examples)
        self._scratch = Path()
        self._env: dict[str, str] = {}

    def printed(self, example: Example) -> list[str]:
        index = self.examples.index(example)
        if index < self._next:
            self._scratch = self._new_scratch()
            self._env = scratch_folder(self._scratch)
            self._next = 0
        for earlier in self.examples[self._next : index]:
            if earlier.why_not_run() is None:
                play(earlier, self._scratch, self._env)
        self._next = index + 1
        return play(example, self._scratch, self._env)


def options_table() -> str:
    """The docs' table of every option, made from ``shapecalc.options.OPTIONS``."""
    from shapecalc.options import FIXED, FRAMEWORKS, LAYERS, OPTIONS

    lines = [
        "| key | also | command line | layers | framework | default | meaning |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for option in OPTIONS.values():
        if option.kind == FIXED:
            continue
        layers = [
            name for name, kind in LAYERS.items() if any(option.applies_to(kind, f) for f in kind.frameworks)
        ]
        also = [*option.keys[1:], *([option.negation] if option.negation else [])]
        flags = list(option.flags)
        if option.negation:
            flags.append("--" + option.negation.replace("_", "-"))
        elif option.default is True:
            flags.append("--no-" + option.key.replace("_", "-"))
        used = {f for kind in LAYERS.values() for f in kind.frameworks if option.applies_to(kind, f)}
        frameworks = "all" if len(used) == len(FRAMEWORKS) else ", ".join(f for f in FRAMEWORKS if f in used)
        values = f" ({'; '.join(option.choices)})" if option.choices else ""
        if len(option.choices) > 8:  # Keras' activations: the first few
            values = f" ({'; '.join(option.choices[:4])}; ...: {len(option.choices)} names)"
        default = "" if option.default is None or option.default is False else f"`{option.default}`"
        default = default.replace("True", "true")
        key = f"`{option.key}`"
        lines.append(
            f"| {key} | {', '.join(f'`{a}`' for a in also)} | {', '.join(f'`{f}`' for f in flags)} | "
            f"{'all' if len(layers) == len(LAYERS) else ', '.join(layers)} | {frameworks} | {default} | "
            f"{option.help}{values} |"
        )
    return "\n".join(lines) + "\n"


def layer_classes() -> str:
    """The docs' list of the layer classes model files may name, from the registry."""
    from shapecalc.model.layers.registry import known_classes

    return ", ".join(f"`{name}`" for name, _, _ in known_classes()) + ".\n"


def unknowable_classes() -> str:
    """The list of the classes whose shapes no config can tell, each with its reason."""
    from shapecalc.model.layers.unknowable import UNKNOWABLE

    return "".join(f"- `{name}`: {reason}.\n" for name, reason in UNKNOWABLE.items())


_CLASSES = re.compile(r"(<!-- begin:layer-classes -->\n).*?(<!-- end:layer-classes -->)", re.S)
_UNKNOWABLE = re.compile(r"(<!-- begin:unknowable-classes -->\n).*?(<!-- end:unknowable-classes -->)", re.S)
_OPTIONS = re.compile(r"(<!-- begin:options-table -->\n).*?(<!-- end:options-table -->)", re.S)


#: The pictures the pages show, each with the command that draws it.
IMAGES = {"docs/images/lstm-cell.svg": "shapecalc lstm --units 32 --input-dim 20 --format svg"}


def image(name: str) -> str:
    """The picture ``name`` (a key of ``IMAGES``) as its command draws it now."""
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        done = subprocess.run(
            ["sh", "-c", IMAGES[name]], cwd=scratch, env=scratch_folder(scratch), capture_output=True,
            text=True, timeout=120, check=True,
        )  # fmt: skip
    return done.stdout


def scratch_folder(scratch: Path) -> dict[str, str]:
    """Make ``scratch`` the folder the docs' examples run in (it sees the repository's
    ``tests/``, ``benchmarks/`` and ``shapecalc/``, and ``shapecalc`` is on the PATH); return the
    environment to run them with, 100 columns wide."""
    for name in ("tests", "benchmarks", "shapecalc"):
        (scratch / name).symlink_to(ROOT / name)
    bin_dir = scratch / ".bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "shapecalc"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m shapecalc "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "100"}
    env["PYTHONPATH"] = str(ROOT)
    env.pop("NO_COLOR", None)
    return env


def rewrite(text: str, page: str, scratch: Path, env: dict[str, str]) -> str:
    """``text`` with every example that runs followed by what it prints now, in order."""
    lines = text.split("\n")
    out: list[str] = []
    done = 0
    for block in console_blocks(text, page):
        out += lines[done : block.first]
        for example in block.examples:
            out.append("$ " + example.command)
            out += example.shown if example.why_not_run() else play(example, scratch, env)
        done = block.end
    new = "\n".join(out + lines[done:])
    new = _OPTIONS.sub(lambda m: m[1] + options_table() + m[2], new)
    new = _CLASSES.sub(lambda m: m[1] + layer_classes() + m[2], new)
    return _UNKNOWABLE.sub(lambda m: m[1] + unknowable_classes() + m[2], new)


def main(arguments: list[str]) -> int:
    if shutil.which("jq") is None:
        print("update_docs.py: jq is not installed, and the pages' jq examples need it", file=sys.stderr)
        return 1
    for path in [Path(name).resolve() for name in arguments] or pages():
        text = path.read_text(encoding="utf-8")
        with tempfile.TemporaryDirectory() as folder:
            scratch = Path(folder)
            new = rewrite(text, page_name(path), scratch, scratch_folder(scratch))
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"{page_name(path)}: rewritten; review with git diff")
    for name in IMAGES if not arguments else ():
        picture = image(name)
        if picture != (ROOT / name).read_text(encoding="utf-8"):
            (ROOT / name).write_text(picture, encoding="utf-8")
            print(f"{name}: redrawn; review with git diff")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
