"""``-o/--output FILE`` and ``--force``: a command's output written to a file, atomically.

The text goes to a temporary file beside FILE and replaces FILE in one rename once it is
whole, so an error never leaves half a file. An existing FILE is refused unless ``--force``;
the command's own input is refused even with ``--force``.

>>> OutputFile("out/result.json", force=False).path
'out/result.json'
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, Any, TypeVar

import click

from shapecalc.errors import ShapecalcError, shown

#: Where a command keeps what its options said and what it reads.
_PATH, _FORCE, _INPUTS, _FILE = "shapecalc.output", "shapecalc.force", "shapecalc.inputs", "shapecalc.file"
F = TypeVar("F", bound=Callable[..., Any])


class OutputFile:
    """FILE, written once through a temporary file and a rename."""

    def __init__(self, path: str, *, force: bool) -> None:
        self.path = path
        self.force = force
        self._stream: IO[bytes] | None = None
        self._temporary: str | None = None

    def check(self, inputs: list[str]) -> None:
        """Refuse to write over the command's input, or over a file without ``--force``."""
        where = shown(self.path)
        exists = os.path.exists(self.path)
        for given in inputs:
            if given != "-" and exists and os.path.exists(given) and os.path.samefile(self.path, given):
                raise ShapecalcError(f"{where} is the input; write the output elsewhere", "--output")
        if os.path.isdir(self.path):
            raise ShapecalcError(f"{where} is a folder", "--output")
        if exists and not self.force:
            raise ShapecalcError(f"{where} exists; give --force to replace it", "--output")

    def write(self, data: bytes) -> None:
        if self._stream is None:
            import tempfile  # only when a file is written (start-up speed: it loads random, shutil)

            folder = os.path.dirname(self.path) or "."
            prefix = f".{os.path.basename(self.path)}."
            handle, self._temporary = tempfile.mkstemp(prefix=prefix, dir=folder)
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
    ctx.meta[_PATH if param.name == "output" else _FORCE] = value
    return value


class PathText(click.ParamType):  # type: ignore[type-arg]
    """A file name as typed, completed as a file by the shell. Not ``click.Path()``: building one
    loads ``gettext`` and ``locale`` (a millisecond of every run's start-up) for checks that
    :class:`OutputFile` makes itself."""

    name = "path"

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem  # only when the shell asks

        return [CompletionItem(incomplete, type="file")]


#: The two options, written once: layer commands take them as objects, others as decorators.
_OPTIONS: tuple[tuple[list[str], dict[str, Any]], ...] = (
    (
        ["output", "-o", "--output"],
        {
            "metavar": "FILE",
            "type": PathText(),
            "help": "Write the output to FILE (atomically) instead of stdout.",
        },
    ),
    (["force", "--force"], {"is_flag": True, "help": "Let --output replace an existing file."}),
)


def output_params(section: str = "Output") -> list[click.Option]:
    """The ``-o/--output FILE`` and ``--force`` options (their values live in the context)."""
    options = []
    for declarations, settings in _OPTIONS:
        option = click.Option(declarations, expose_value=False, callback=_remember, **settings)
        option.section = section  # type: ignore[attr-defined]
        options.append(option)
    return options


def with_output(func: F) -> F:
    """Add ``-o/--output FILE`` and ``--force`` to a Click command."""
    for declarations, settings in reversed(_OPTIONS):
        func = click.option(
            *declarations[1:], declarations[0], expose_value=False, callback=_remember, **settings
        )(func)
    return func


def reads(path: str | None) -> None:
    """Note that the running command reads ``path`` (the output may never replace it)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and path is not None:
        ctx.meta.setdefault(_INPUTS, []).append(path)


def output_file() -> OutputFile | None:
    """The file the running command writes to, checked on first use, or ``None`` for stdout."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.meta.get(_PATH) is None:
        return None
    if _FILE not in ctx.meta:
        target = OutputFile(ctx.meta[_PATH], force=bool(ctx.meta.get(_FORCE)))
        target.check(ctx.meta.get(_INPUTS, []))
        ctx.meta[_FILE] = target
        ctx.call_on_close(target.discard)  # a run that ends before commit() leaves no file
    file: OutputFile = ctx.meta[_FILE]
    return file
