"""Rewrite the output under every ``$ command`` of README.md's console blocks with what it prints now.

The README's examples are tests (``tests/test_docs_*.py``); after a deliberate change of
output, run this, read the diff, and commit it::

    python scripts/update_readme.py

It also writes the options table (between ``<!-- begin:options-table -->`` and
``<!-- end:options-table -->``) from the option table in ``shapecalc/options.py``, and the
list of layer classes (``layer-classes``) from the model registry.

Only the sections the tests check (``<!-- begin:NAME -->`` ... ``<!-- end:NAME -->``) are
rewritten; the short excerpts above them are left as written. Commands run in order in one
scratch directory that sees the repository's ``tests/`` and ``benchmarks/``, at 100 columns,
as the tests run them. A ``$ cat FILE`` of a file the
repository does not hold writes FILE from the lines under it; benchmark timings and test
runs are kept as written.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_BLOCK = re.compile(r"(```console\n)(?P<body>.*?)(```)", re.S)
_SECTION = re.compile(r"(<!-- begin:(?P<name>[a-z]+) -->)(?P<text>.*?)(<!-- end:(?P=name) -->)", re.S)


def _rerun(body: str, scratch: Path, env: dict[str, str]) -> str:
    lines = body.rstrip("\n").split("\n")
    out: list[str] = []
    position = 0
    while position < len(lines):
        line = lines[position]
        position += 1
        if not line.startswith("$ "):
            continue
        command = line[2:]
        shown: list[str] = []
        while position < len(lines) and not lines[position].startswith("$ "):
            shown.append(lines[position])
            position += 1
        out.append(line)
        if command.startswith("cat ") and not (scratch / command[4:]).exists():
            (scratch / command[4:]).write_text("\n".join(shown) + "\n")
            out += shown
            continue
        if command.startswith("python benchmarks/") or "pytest" in command:
            out += shown
            continue
        done = subprocess.run(
            ["sh", "-c", command], cwd=scratch, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, timeout=120,
        )  # fmt: skip
        out += [text.rstrip() for text in done.stdout.rstrip("\n").split("\n")] if done.stdout else []
    return "\n".join(out) + "\n"


def options_table() -> str:
    """The README's table of every option, made from ``shapecalc.options.OPTIONS``."""
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
    """The README's list of the layer classes model files may name, from the registry."""
    from shapecalc.model.layers.registry import known_classes

    return ", ".join(f"`{name}`" for name, _, _ in known_classes()) + ".\n"


_CLASSES = re.compile(r"(<!-- begin:layer-classes -->\n).*?(<!-- end:layer-classes -->)", re.S)
_OPTIONS = re.compile(r"(<!-- begin:options-table -->\n).*?(<!-- end:options-table -->)", re.S)


def scratch_folder(scratch: Path) -> dict[str, str]:
    """Make ``scratch`` the folder the README's examples run in (it sees the repository's
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


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        env = scratch_folder(scratch)
        text = README.read_text(encoding="utf-8")
        new = _SECTION.sub(
            lambda s: s[1]
            + _BLOCK.sub(lambda m: m[1] + _rerun(m["body"], scratch, env) + m[3], s["text"])
            + s[4],
            text,
        )
    new = _OPTIONS.sub(lambda m: m[1] + options_table() + m[2], new)
    new = _CLASSES.sub(lambda m: m[1] + layer_classes() + m[2], new)
    if new != text:
        README.write_text(new, encoding="utf-8")
        print("README.md: console examples rewritten; review with git diff")
    return 0


if __name__ == "__main__":
    sys.exit(main())
