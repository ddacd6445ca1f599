"""Shared fixtures: run the CLI in-process and capture its exit code and streams."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """``run_cli("lstm", "--units", "4", ...)`` -> Run(code, out, err), via shapecalc.main.main."""
    from shapecalc.main import main

    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("SHAPECALC_DEBUG", raising=False)

    def run(*args: str) -> Run:
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def require_oracle(module: str) -> None:
    """Skip (locally) or fail (in CI, SHAPECALC_REQUIRE_ORACLE=1) when a framework is missing."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        message = f"{module} is not installed: pip install -e '.[oracle]'"
        if os.environ.get("SHAPECALC_REQUIRE_ORACLE"):
            pytest.fail(message)
        pytest.skip(message)
