"""The entry point: runs the program and turns every failure into one line and an exit code.

Exit codes: 0 success, 1 runtime failure (an unreadable file, an internal
error), 2 usage error (a bad option, size, expression or config), 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _fail(message: str, code: int) -> int:
    text = " ".join(str(message).split())
    sys.stderr.write(f"Error: {text}\n")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run shapecalc with ``argv`` and return the exit code; never raises."""
    import click

    from shapecalc.cli import UserInterruptError, cli
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
        hint = ""
        if error.ctx is not None and not isinstance(error, click.BadParameter):
            hint = f" (see '{error.ctx.command_path} --help')"
        return _fail(error.format_message() + hint, EXIT_USAGE)
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
    except BrokenPipeError:
        # The reader went away (``shapecalc ... | head``): not our failure.
        _silence_stdout()
        return EXIT_OK
    except RecursionError as error:
        # Nothing in shapecalc recurses without bound; a deep input hit Python's limit.
        return _fail(f"input nested too deeply ({error})", EXIT_USAGE)
    except OSError as error:
        # A file or stream the system refused (a full disk, a closed descriptor).
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
    ``\u2500`` for what it cannot hold, rather than end the run with an encoding error."""
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if not encoding.startswith("utf") and reconfigure is not None:
        reconfigure(errors="backslashreplace")


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def run() -> None:
    """Console-script entry point."""
    try:
        code = main()
    except KeyboardInterrupt:  # Ctrl-C while Python was still importing, before main's handlers
        code = _fail("interrupted", EXIT_INTERRUPTED)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    sys.exit(code)
