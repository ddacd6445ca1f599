"""The entry point: runs the program and turns every failure into one line and an exit code.

Exit codes: 0 success (a closed pipe too: the reader chose to stop), 1 runtime failure (an
unreadable file, an output that cannot be written, an internal error), 2 usage error (a bad
option, size, expression or config), 130 interrupted.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from typing import Any

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: Longest ``Error:`` line; messages echo values through ``errors.shown``, this is the backstop.
MAX_ERROR_LENGTH = 400


def _fail(message: str, code: int) -> int:
    # Imported here: only a failure pays for it (render/__init__ imports nothing heavy).
    from shapecalc.render.inert import cut, terminal

    text = terminal(" ".join(str(message).split()), MAX_ERROR_LENGTH)
    _write_error(f"Error: {cut(text, MAX_ERROR_LENGTH)}\n")
    return code


def _write_error(line: str) -> None:
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # stderr closed or full: the exit code remains
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run shapecalc with ``argv`` and return the exit code; never raises."""
    import click

    from shapecalc.cli import OutputClosedError, OutputError, UserInterruptError, cli
    from shapecalc.errors import ShapecalcError, shown

    _tolerate_narrow_encodings()
    args = list(argv) if argv is not None else None
    if args and any("\x00" in arg for arg in args):
        # No real command line can hold a NUL byte (execve cannot pass one); Python callers can.
        return _fail("arguments cannot contain NUL bytes", EXIT_USAGE)
    try:
        cli.main(args=args, prog_name="shapecalc", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as error:
        sys.stdout.write(error.ctx.get_help() + "\n") if error.ctx else None
        return EXIT_OK
    except click.UsageError as error:
        message = error.format_message()
        if isinstance(error, click.NoSuchOption):  # Click echoes the whole unknown option
            message = message.replace(error.message, f"No such option {shown(error.option_name)}.", 1)
        if error.ctx is not None and not isinstance(error, click.BadParameter):
            message += f" (see '{error.ctx.command_path} --help')"
        return _fail(message, EXIT_USAGE)
    except ShapecalcError as error:
        return _fail(str(error), EXIT_USAGE)
    except click.ClickException as error:
        return _fail(error.format_message(), error.exit_code)
    except click.exceptions.Exit as error:
        return int(error.exit_code)
    except SystemExit as error:  # Click ends a shell-completion request with sys.exit()
        return error.code if isinstance(error.code, int) else EXIT_ERROR
    except click.exceptions.Abort:
        return _fail("aborted", EXIT_ERROR)
    except (KeyboardInterrupt, UserInterruptError):
        return _fail("interrupted", EXIT_INTERRUPTED)
    except (BrokenPipeError, OutputClosedError):
        # The reader went away (``shapecalc ... | head``): not our failure.
        _silence_stdout()
        return EXIT_OK
    except OutputError as error:
        _silence_stdout()  # what is still buffered must not fail again at exit
        return _fail(str(error), EXIT_ERROR)
    except RecursionError as error:
        # Nothing in shapecalc recurses without bound; a deep input hit Python's limit.
        return _fail(f"input nested too deeply ({error})", EXIT_USAGE)
    except OSError as error:
        # A file or stream the system refused (a full disk, a closed descriptor).
        _silence_stdout()
        where = f": {shown(str(error.filename))}" if error.filename else ""
        return _fail(f"{error.strerror or error}{where}", EXIT_ERROR)
    except Exception as error:
        if os.environ.get("SHAPECALC_DEBUG"):
            raise
        return _fail(
            f"internal error: {type(error).__name__}: {error} (set SHAPECALC_DEBUG=1 for details)", EXIT_ERROR
        )
    return EXIT_OK


def _tolerate_narrow_encodings() -> None:
    """Let a stdout that cannot hold every character (``PYTHONIOENCODING=latin-1``) show
    ``\u2500`` for what it cannot hold, rather than end the run with an encoding error.
    JSON is written as UTF-8 bytes instead (``cli.output.write_output``)."""
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if not encoding.startswith("utf") and reconfigure is not None:
        reconfigure(errors="backslashreplace")


def _silence_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's last flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no stdout, or no descriptor behind it
        pass


class ClosedStdout(io.TextIOBase):
    """``sys.stdout`` for a run started with stdout closed (``shapecalc ... >&-``): every write
    fails, so the run ends with ``Error: cannot write the output: stdout is closed``, exit 1."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        from shapecalc.cli.output import OutputError  # loaded already: only a command writes

        raise OutputError("cannot write the output: stdout is closed")


def _interrupted(signum: int, frame: Any) -> None:
    """Ctrl-C at any moment (while Python imports, Click parses or output drains): one line, 130.

    ``os._exit`` leaves at once: no exception can surface as a traceback, no cleanup can hang.
    """
    try:
        os.write(2, b"Error: interrupted\n")
    finally:
        os._exit(EXIT_INTERRUPTED)


def _flush_stdout(code: int) -> int:
    """Flush what is still buffered; a failure is reported here, not by the interpreter at exit."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except (OSError, ValueError) as error:
        _silence_stdout()
        if code == EXIT_OK:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            code = _fail(f"cannot write the output: {reason}", EXIT_ERROR)
    return code


def run() -> None:
    """Console-script entry point (and ``python -m shapecalc``)."""
    import signal

    signal.signal(signal.SIGINT, _interrupted)  # first: before Click and the engine are imported
    if sys.stdout is None:
        sys.stdout = ClosedStdout()
    sys.exit(_flush_stdout(main()))
