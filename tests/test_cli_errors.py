"""Every usage error: exit code 2, one line on stderr that names the
option and echoes the value, nothing on stdout, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

LSTM = ("lstm", "--units", "32", "--input-dim", "20")
CONV = ("convlstm", "--filters", "8", "--kernel", "3", "3", "--input", "128", "128", "3")
TORCH = ("lstm", "--framework", "torch", "--hidden-size", "32", "--input-size", "20")

#: (arguments, the option the message must name, the value it must echo, the complaint)
CASES = [
    # Zero, negative and non-integer sizes.
    (("lstm", "--units", "0", "--input-dim", "20"), "--units", "got 0", "must be a positive integer"),
    (("lstm", "--units", "-3", "--input-dim", "20"), "--units", "got -3", "must be a positive integer"),
    (("lstm", "--units", "2.5", "--input-dim", "20"), "--units", "'2.5'", "is not a whole number"),
    (("lstm", "--units", "32", "--input-dim", "1e3"), "--input-dim", "'1e3'", "is not a whole number"),
    (("lstm", "--units", "-W", "--input-dim", "20"), "--units", "got '-W'", "must be a positive size"),
    (("lstm", "--units", "1 - W", "--input-dim", "20"), "--units", "got '-W + 1'", "must be a positive size"),
    (("lstm", "--units", "W - W", "--input-dim", "20"), "--units", "got 0", "must be a positive integer"),
    ((*LSTM, "--timesteps", "0"), "--timesteps", "got 0", "must be a positive integer"),
    ((*LSTM, "--batch", "-1"), "--batch", "got -1", "must be a positive integer"),
    (("convlstm", "--filters", "0", *CONV[3:]), "--filters", "got 0", "must be a positive integer"),
    (
        ("convlstm", "--filters", "8", "--kernel", "3", "0", *CONV[6:]),
        "--kernel",
        "got 0",
        "must be a positive integer",
    ),
    ((*CONV[:6], "--input", "128", "128", "0"), "--input", "got 0", "must be a positive integer"),
    ((*CONV, "--dilation", "0", "1"), "--dilation", "got 0", "must be a positive integer"),
    # A kernel larger than its (dilated) input under 'valid' padding, in every rank and data format.
    ((*CONV[:6], "--input", "2", "128", "3"), "--kernel", "3", "larger than the input's rows 2"),
    ((*CONV[:6], "--input", "128", "2", "3"), "--kernel", "3", "larger than the input's cols 2"),
    ((*CONV[:6], "--input", "5", "128", "3", "--dilation", "3", "1"), "--kernel", "3", "(dilated to 7)"),
    (
        (*CONV[:6], "--input", "3", "1", "3", "--data-format", "channels_first"),
        "--kernel",
        "3",
        "larger than the input's rows 1",
    ),
    (("convlstm1d", "--filters", "8", "--kernel", "5", "--input", "4", "3"), "--kernel", "5", "steps 4"),
    (
        ("convlstm3d", "--filters", "4", "--kernel", "3", "3", "3", "--input", "2", "16", "16", "1"),
        "--kernel",
        "3",
        "larger than the input's depth 2",
    ),
    # Strides: zero, negative, fractional, symbolic.
    ((*CONV, "--strides", "0", "1"), "--strides", "got 0", "must be a positive integer"),
    ((*CONV, "--strides", "-1", "1"), "--strides", "got -1", "must be a positive integer"),
    ((*CONV, "--strides", "1.5", "1"), "--strides", "got '1.5'", "must be a positive integer"),
    ((*CONV, "--strides", "S", "1"), "--strides", "got 'S'", "must be a positive integer"),
    # Malformed expressions.
    (("lstm", "--units", "((", "--input-dim", "20"), "--units", "'(('", "unexpected end"),
    (("lstm", "--units", "H//0", "--input-dim", "20"), "--units", "'H//0'", "division by zero"),
    (
        ("lstm", "--units", "__import__('os')", "--input-dim", "20"),
        "--units",
        "\"__import__('os')\"",
        "unexpected",
    ),
    (("lstm", "--units", "W/2", "--input-dim", "20"), "--units", "'W/2'", "unexpected '/'"),
    (("lstm", "--units", "2**3", "--input-dim", "20"), "--units", "'2**3'", "unexpected '*'"),
    (("lstm", "--units", "", "--input-dim", "20"), "--units", "", "empty expression"),
    (("lstm", "--units", "lambda", "--input-dim", "20"), "--units", "'lambda'", "reserved word"),
    (("lstm", "--units", "H//W", "--input-dim", "20"), "--units", "'H//W'", "integer constant"),
    # Option combinations Keras or PyTorch refuse.
    (
        (*CONV, "--strides", "2", "2", "--dilation", "2", "2"),
        "--strides",
        "strides=(2, 2) and dilation_rate=(2, 2)",
        "not compatible with dilation > 1",
    ),
    ((*CONV, "--framework", "torch"), "--framework", "torch", "PyTorch has no ConvLSTM"),
    ((*CONV, "--padding", "causal"), "--padding", "'causal'", "accept only 'valid' and 'same'"),
    ((*CONV, "--padding", "full"), "--padding", "got 'full'", "must be one of 'valid', 'same'"),
    ((*CONV, "--data-format", "nchw"), "--data-format", "got 'nchw'", "must be one of"),
    ((*TORCH, "--proj-size", "32"), "--proj-size", "32", "must be smaller than hidden_size (32)"),
    ((*LSTM, "--num-layers", "2"), "--num-layers", "", "it applies to framework torch"),
    ((*TORCH, "--return-state"), "--return-state", "", "not an option of lstm with framework torch"),
    ((*TORCH, "--num-layers", "0"), "--num-layers", "got 0", "must be a positive integer"),
    ((*LSTM, "--format", "xml"), "--format", "'xml'", "is not one of 'table', 'json', 'markdown'"),
    ((*LSTM, "--framework", "jax"), "--framework", "got 'jax'", "must be one of 'keras', 'torch'"),
    ((*LSTM, "--hidden-size", "32"), "--hidden-size", "--units", "give --units or --hidden-size, not both"),
    # Too few or too many values for an option.
    ((*CONV[:6], "3", "--input", "128", "128", "3"), "--kernel", "(3 3 3)", "needs 1 or 2 values, got 3"),
    ((*CONV, "--strides"), "--strides", "", "needs 1 or 2 values, got 0"),
    (("lstm", "--units", "3", "4", "--input-dim", "5"), "--units", "'3 4'", "needs 1 value, got 2"),
    ((*LSTM, "extra"), "--input-dim", "'20 extra'", "needs 1 value, got 2"),
]


@pytest.mark.parametrize(("args", "option", "value", "complaint"), CASES, ids=lambda v: str(v)[:40])
def test_usage_error_names_the_option_and_echoes_the_value(run_cli, args, option, value, complaint):
    result = run_cli(*args)
    assert result.code == 2
    assert result.out == ""
    line = result.err
    assert line.count("\n") == 1 and line.endswith("\n"), line
    assert line.startswith(f"Error: Invalid value for '{option}': "), line
    assert value in line, line
    assert complaint in line, line
    assert "Traceback" not in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("transformer", "--units", "3"), "Error: No such command 'transformer'. Layers and commands: lstm,"),
        (("lstn", "--units", "3"), "Error: No such command 'lstn'. Did you mean 'lstm'?"),
        (("convlstm4d",), "Error: No such command 'convlstm4d'. Did you mean "),
        ((*LSTM, "--bogus"), "Error: No such option '--bogus'."),
        ((*LSTM, "--dilation", "2"), "Error: No such option '--dilation'."),
        (("gru", "--units", "3", "--input-dim", "4", "--paddding", "same"), "Error: No such option"),
        (("lstm", "--input-dim", "20"), "Error: Missing option '--units'."),
        (("convlstm", "--filters", "8", "--input", "4", "4", "3"), "Error: Missing option '--kernel-size'."),
        (("lstm", "extra", *LSTM[1:]), "Error: Got unexpected extra argument 'extra'."),
    ],
)
def test_unknown_layers_flags_and_missing_options(run_cli, args, expected):
    result = run_cli(*args)
    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith(expected), result.err
    assert "--help" in result.err  # points at the help, as Click does
    assert "Traceback" not in result.err


def test_every_layer_command_is_suggested_for_an_unknown_one(run_cli):
    err = run_cli("transformer").err
    for name in ("lstm", "gru", "rnn", "convlstm1d", "convlstm", "convlstm3d"):
        assert f" {name}," in err or f" {name}." in err, err


def test_a_real_process_exits_2_with_one_line(tmp_path):
    """The console entry point, not just the in-process main: no traceback reaches the terminal."""
    for args in (["lstm", "--units", "H//0", "--input-dim", "20"], [*CONV, "--padding", "causal"]):
        done = subprocess.run(
            [sys.executable, "-m", "shapecalc", *args], capture_output=True, text=True, cwd=tmp_path
        )
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("Error: Invalid value for"), (
            done.stderr
        )
