"""``-o/--output FILE`` and ``--force``: a command's output written to a file, atomically.

The text goes to a temporary file beside FILE and replaces FILE in one rename once it is
whole, so an error never leaves half a file. An existing FILE is refused unless ``--force``;
the command's own input is refused even with ``--force``.

>>> target = OutputFile("result.json", force=False)
>>> target.path.name
'result.json'
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from shapecalc.errors import ShapecalcError, shown

#: Where a command keeps its output file (set by the -o option's callback) and its inputs.
_TARGET, _INPUTS = "shapecalc.output", "shapecalc.inputs"
F = TypeVar("F", bound=Callable[..., Any])


class OutputFile:
    """FILE, written once through a temporary file and a rename."""

    def __init__(self, path: str, *, force: bool) -> None:
        self.path = Path(path)
        self.force = force
        self._stream: IO[bytes] | None = None
        self._temporary: str | None = None

    def check(self, inputs: list[str]) -> None:
        """Refuse to write over the command's input, or over a file without ``--force``."""
        for given in inputs:
            if given != "-" and Path(given).exists() and self.path.exists() and self.path.samefile(given):
                raise ShapecalcError(
                    f"{shown(str(self.path))} is the input; write the output elsewhere", "--output"
                )
        if self.path.is_dir():
            raise ShapecalcError(f"{shown(str(self.path))} is a folder", "--output")
        if self.path.exists() and not self.force:
            raise ShapecalcError(f"{shown(str(self.path))} exists; give --force to replace it", "--output")

    def write(self, data: bytes) -> None:
        if self._stream is None:
            folder = self.path.parent if str(self.path.parent) else Path(".")
            handle, self._temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=folder)
            self._stream = os.fdopen(handle, "wb")
        self._stream.write(data)

    def commit(self) -> None:
        """Put the whole text in place (an empty file when nothing was written)."""
        if self._stream is None:
            self.write(b"")
        assert self._stream is not None and self._temporary is not None
        self._stream.close()
        os.replace(self._temporary, self.path)
        self._stream = self._temporary = None

    def discard(self) -> None:
        if self._stream is not None and self._temporary is not None:
            self._stream.close()
            os.unlink(self._temporary)
            self._stream = self._temporary = None


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and param.name == "output":
        target = OutputFile(value, force=False)
        ctx.meta[_TARGET] = target
        ctx.call_on_close(target.discard)  # a run that ends before commit() leaves no file
    if param.name == "force" and value:
        ctx.meta["shapecalc.force"] = True
    return value


def output_params(section: str = "Output") -> list[click.Option]:
    """The ``-o/--output FILE`` and ``--force`` options (their values live in the context)."""
    options = [
        click.Option(
            ["output", "-o", "--output"],
            metavar="FILE",
            type=click.Path(),
            expose_value=False,
            callback=_remember,
            help="Write the output to FILE (atomically) instead of stdout.",
        ),
        click.Option(
            ["force", "--force"],
            is_flag=True,
            expose_value=False,
            callback=_remember,
            help="Let --output replace an existing file.",
        ),
    ]
    for option in options:
        option.section = section  # type: ignore[attr-defined]
    return options


def with_output(func: F) -> F:
    """Add ``-o/--output FILE`` and ``--force`` to a Click command."""
    func = click.option(
        "--force", "force", is_flag=True, expose_value=False, callback=_remember,
        help="Let --output replace an existing file.",
    )(func)  # fmt: skip
    return click.option(
        "-o", "--output", "output", metavar="FILE", type=click.Path(), expose_value=False, callback=_remember,
        help="Write the output to FILE (atomically) instead of stdout.",
    )(func)  # fmt: skip


def reads(path: str | None) -> None:
    """Note that the running command reads ``path`` (the output may never replace it)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and path is not None:
        ctx.meta.setdefault(_INPUTS, []).append(path)


def output_file() -> OutputFile | None:
    """The file the running command writes to, checked, or ``None`` for stdout."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    target: OutputFile | None = ctx.meta.get(_TARGET)
    if target is not None and not getattr(target, "_checked", False):
        target.force = bool(ctx.meta.get("shapecalc.force"))
        target.check(ctx.meta.get(_INPUTS, []))
        target._checked = True  # type: ignore[attr-defined]
    return target
