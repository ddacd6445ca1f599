"""The cell table and the typed cell views: the table agrees with what the rules
build, and the modules that read a result read its views, not hand-built names.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from shapecalc.configs import RecurrentConfig
from shapecalc.rules import derive


def test_an_unknown_config_type_is_a_bug_not_a_user_error() -> None:
    class Strange(RecurrentConfig):
        pass

    with pytest.raises(TypeError, match="no shape rule for Strange"):
        derive(Strange(cell="lstm", units=4, input_dim=3))


@pytest.mark.parametrize("module", ["shapecalc.costs", "shapecalc.explain"])
def test_costs_explain_and_the_table_do_not_import_the_rules(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith('shapecalc.rules')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
