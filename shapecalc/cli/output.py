"""Where command output goes: the width and colour a renderer is given, and the one writer of
results, which keeps JSON exact and turns a failing stdout into one kind of error.

>>> import os; os.environ["COLUMNS"] = "120"; piped_width()
120
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shapecalc.cli.target import OutputFile


class OutputClosedError(Exception):
    """The reader of stdout went away (``shapecalc ... | head``): the run ends quietly, exit 0."""


class OutputError(Exception):
    """stdout cannot be written (a full disk, a closed descriptor): one ``Error:`` line, exit 1."""


def piped_width() -> int:
    """The width for piped output: ``$COLUMNS`` when it is a sane number, else 100."""
    return _columns() or 100


def _columns() -> int | None:
    text = os.environ.get("COLUMNS", "")
    if text.isascii() and text.isdigit() and 20 <= int(text) <= 1000:
        return int(text)
    return None


def _is_terminal() -> bool:
    stream = sys.stdout
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):  # a closed or detached stream
        return False


def wants_color(fmt: str) -> bool:
    """Colour for tables on a terminal, unless ``NO_COLOR`` is set."""
    return fmt == "table" and _is_terminal() and "NO_COLOR" not in os.environ


def output_width() -> int:
    """The width tables fit: ``$COLUMNS`` when set, else the terminal's own, else 100 (piped)."""
    columns = _columns()
    if columns is not None:
        return columns
    if _is_terminal():
        try:
            return max(20, os.get_terminal_size(sys.stdout.fileno()).columns)
        except (OSError, ValueError, AttributeError):
            pass
    return 100


def write_output(text: str, fmt: str, *, color: bool = False, final: bool = True) -> None:
    """Write a rendered result to stdout and flush it, or to the command's ``--output`` file
    (whole once ``final``: batch mode writes its answers one by one, then the last).

    JSON and CSV (data formats) go out as UTF-8 bytes whatever ``PYTHONIOENCODING`` says
    (RFC 8259, RFC 4180), a lone surrogate as its ``\\udcff`` escape; every other
    format passes :func:`~shapecalc.render.inert.terminal_output` once more, so no control
    character reaches a terminal raw. A closed pipe raises :class:`OutputClosedError`, any
    other failure :class:`OutputError`.
    """
    from shapecalc.cli.target import output_file

    target = output_file()
    if target is not None:
        _to_file(target, text, fmt, final)
        return
    if fmt in ("svg", "html") and _is_terminal():
        sys.stderr.write(f"hint: {fmt.upper()} is a file to open: add -o picture.{fmt} to write it there\n")
    stream = sys.stdout
    if stream is None:  # started with stdout closed (``>&-``)
        raise OutputError("cannot write the output: stdout is closed")
    try:
        data = fmt in ("json", "csv")
        binary = getattr(stream, "buffer", None) if data else None
        if binary is not None:
            stream.flush()
            binary.write(text.encode("utf-8", "backslashreplace"))
            binary.flush()
        else:
            from shapecalc.render.inert import terminal_output

            stream.write(text if data else terminal_output(text, color=color))
            stream.flush()
    except BrokenPipeError:
        raise OutputClosedError from None
    except (OSError, ValueError) as error:  # ValueError: the stream was closed under us
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise OutputError(f"cannot write the output: {reason}") from None


def _to_file(target: OutputFile, text: str, fmt: str, final: bool) -> None:
    from shapecalc.render.inert import terminal_output

    data = text if fmt in ("json", "csv", "svg", "html") else terminal_output(text)
    try:
        target.write(data.encode("utf-8", "backslashreplace"))
        if final:
            target.commit()
    except OSError as error:
        target.discard()
        reason = error.strerror or str(error)
        raise OutputError(f"cannot write {target.path}: {reason}") from None
