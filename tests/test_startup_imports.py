"""What a cold start imports: each command loads only what it prints with (start-up speed).

The modules are read from ``python -X importtime``, which lists every module a
real run imports, so the test needs no timing and holds on a busy machine.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

LSTM = ["lstm", "--units", "32", "--input-dim", "20"]


def imported(*args: str, env: dict[str, str] | None = None) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "shapecalc", *args],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "import time:" in line]
    return set(rows)


def test_the_json_path_loads_neither_renderers_nor_explain_nor_the_model_engine() -> None:
    modules = imported(*LSTM, "--format", "json")
    assert "shapecalc.rules" in modules  # the engine ran
    top = {name.split(".")[0] for name in modules}
    assert not top & {"rich", "pydantic", "yaml", "json", "dataclasses", "tempfile"}, sorted(modules)
    unwanted = {"shapecalc.explain", "shapecalc.cli.batch", "shapecalc.cli.model", "shapecalc.cli.catalog"}
    assert not modules & {*unwanted, "shapecalc.render.table"}


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_other_formats_do_not_load_explain_or_pydantic(fmt: str) -> None:
    modules = imported(*LSTM, "--format", fmt)
    assert "shapecalc.explain" not in modules and "pydantic" not in modules


def test_explain_loads_when_asked_for() -> None:
    assert "shapecalc.explain" in imported(*LSTM, "--format", "json", "--explain")


def test_completion_does_not_load_the_engine() -> None:
    env = {"_SHAPECALC_COMPLETE": "bash_complete", "COMP_WORDS": "shapecalc lstm --", "COMP_CWORD": "2"}
    modules = imported(env={**os.environ, **env})
    assert "shapecalc.api" not in modules and "shapecalc.rules" not in modules
