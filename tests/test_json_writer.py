"""``--format json`` writes its text itself: it must be what ``json.dumps`` writes, byte for byte."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shapecalc.api import shapes
from shapecalc.render.json import dumps

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.text(alphabet=st.characters(max_codepoint=0x2F))  # control characters, quotes, backslash
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


def reference(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_dumps_writes_what_json_writes(value: object) -> None:
    assert dumps(value) == reference(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -0.0, 1e300, 2**70, "\x7f\u2028\ud800"])
def test_edge_values(value: object) -> None:
    assert dumps([value]) == reference([value])


@pytest.mark.parametrize(
    "kind, options",
    [
        ("lstm", {"units": 32, "input_dim": 20, "explain": True}),
        ("gru", {"units": "U", "input_dim": 12, "bidirectional": True, "merge_mode": "none"}),
        ("convlstm", {"filters": 8, "kernel": 3, "input": ("W", "H", 3), "padding": "same"}),
        ("lstm", {"framework": "torch", "hidden_size": 64, "input_size": 32, "proj_size": 16}),
    ],
)
def test_results_render_as_json_dumps_would(kind: str, options: dict[str, object]) -> None:
    as_json = shapes(kind, **options).to_json()
    assert dumps(as_json) == reference(as_json)


def test_what_a_result_never_holds_is_a_type_error() -> None:
    # json.dumps refuses sets and objects too; it would write the key 1 as "1".
    for value in ({"a": {1, 2}}, [object()], {1: "a"}):
        with pytest.raises(TypeError):
            dumps(value)
