"""``shapecalc batch``: the Click command around :mod:`shapecalc.batch`."""

from __future__ import annotations

import sys

import click

from shapecalc.batch import read_lines, run_batch
from shapecalc.cli.output import write_output
from shapecalc.cli.params import Command
from shapecalc.cli.target import reads, with_output
from shapecalc.errors import shown


@click.command("batch", cls=Command)
@with_output
@click.argument("file", required=False, default="-", type=click.Path())  # the shell completes file names
def batch(file: str) -> None:
    """Answer many configs in one run: one JSON object per line, from FILE or stdin.

    Each line holds "layer" and the layer commands' options under their keys
    (units, input_dim, kernel_size, input_shape, framework, dtype, explain,
    ...); each answer is the --format json object on one line. A bad line answers {"line": N,
    "error": "..."} and the rest go on. Exit code 0 when every line
    succeeded, 1 when any failed.

    \b
    Example:
      echo '{"layer": "lstm", "units": 32, "input_dim": 20}' | shapecalc batch
    """

    def write(text: str) -> None:
        # Flushed: one answer per line as it is ready, so a script can converse through a pipe.
        write_output(text, "json", final=False)

    reads(file)
    if file == "-":
        if sys.stdin is None:  # started with stdin closed (``<&-``)
            raise click.ClickException("cannot read stdin: it is closed")
        failed = run_batch(read_lines(sys.stdin.buffer), write)
    else:
        try:
            stream = open(file, "rb")  # noqa: SIM115 - closed below; open() errors are reported apart
        except OSError as error:
            raise click.ClickException(f"cannot read {shown(file)}: {error.strerror or error}") from None
        with stream:
            failed = run_batch(read_lines(stream), write)
    write_output("", "json")  # with --output: the file is whole now
    if failed:
        raise click.ClickException(f"{len(failed)} line(s) failed, the first is line {failed[0]}")
