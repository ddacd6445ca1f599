"""Deep models: symbolic sizes stay small and exact through stacks of strided layers, and a
10,000-layer file goes through in well under a second of engine time.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shapecalc.dims import Expr, evaluate, sym
from shapecalc.errors import ShapecalcError
from shapecalc.model.engine import clear_caches, propagate
from shapecalc.model.reader import load_document, parse_model


def _run(layers: list[dict], length: int | str):
    model = {"input": [length, 2], "layers": layers}
    return propagate(load_document(model, "m.json"))


def _strided_stack(depth: int, padding: str) -> list[dict]:
    return [
        {"type": "conv1d", "filters": 2, "kernel": 3, "strides": 2, "padding": padding} for _ in range(depth)
    ]


@pytest.mark.parametrize(
    ("padding", "printed"),
    [
        ("valid", "(L - 2305843009213693951)//1152921504606846976 + 1"),
        ("same", "(L + 1152921504606846975)//1152921504606846976"),
    ],
)
def test_sixty_strided_convolutions_fold_to_one_floor_division(padding, printed):
    """((L - 3)//2 + 1 - 3)//2 + 1 ... folds to (L - a)//2**60 + 1, never a 60-deep nest."""
    result = _run(_strided_stack(60, padding), "L")
    length = result.outputs[0][1]
    assert str(length) == printed
    assert isinstance(length, Expr) and len(length.terms) <= 2


LAYER = st.one_of(
    st.builds(
        lambda kernel, stride, padding: {
            "type": "conv1d",
            "filters": 2,
            "kernel": kernel,
            "strides": stride,
            "padding": padding,
        },
        st.integers(1, 5),
        st.integers(1, 3),
        st.sampled_from(["valid", "same", "causal"]),
    ),
    st.builds(
        lambda pool, stride, padding: {
            "type": "max_pooling1d",
            "pool_size": pool,
            "strides": stride,
            "padding": padding,
        },
        st.integers(1, 4),
        st.integers(1, 3),
        st.sampled_from(["valid", "same"]),
    ),
    st.builds(lambda size: {"type": "up_sampling1d", "size": size}, st.integers(1, 3)),
    st.builds(
        lambda a, b: {"type": "zero_padding1d", "padding": [a, b]}, st.integers(0, 2), st.integers(0, 2)
    ),
)


@settings(max_examples=150, deadline=None)
@given(layers=st.lists(LAYER, min_size=1, max_size=12), length=st.integers(1, 400))
def test_symbolic_stack_evaluated_equals_numeric_stack(layers, length):
    """Output sizes and MACs computed with a symbol L, then evaluated at L = n, equal the numeric run;
    the numeric run fails exactly when a recorded 'valid when' condition does not hold at n."""
    symbolic = _run(layers, "L")
    env = {"L": length, "batch": 3}
    holds = all(_condition_holds(condition, env) for condition in symbolic.constraints)
    try:
        numeric = _run(layers, length)
    except ShapecalcError:
        assert not holds, symbolic.constraints
        return
    assert holds, symbolic.constraints
    assert [evaluate(d, env) for d in symbolic.outputs[0]] == [evaluate(d, env) for d in numeric.outputs[0]]
    assert evaluate(symbolic.macs, env) == evaluate(numeric.macs, env)
    assert symbolic.params == numeric.params


def _condition_holds(condition: str, env: dict[str, int]) -> bool:
    from shapecalc.dims import parse_dim

    left, right = condition.split(" >= ")
    return evaluate(parse_dim(left), env) >= evaluate(parse_dim(right), env)


def _ten_thousand_layers() -> dict:
    """The benchmark's ``strided`` model (benchmarks/bench_model.py)."""
    path = Path(__file__).parents[1] / "benchmarks" / "bench_model.py"
    spec = importlib.util.spec_from_file_location("bench_model", path)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.strided(10_000)


def test_ten_thousand_layers_fold_to_one_floor_division():
    result = propagate(parse_model(json.dumps(_ten_thousand_layers()).encode(), "deep.json"))
    assert len(result.rows) == 10_001
    # 20 halvings and 1,000 valid convolutions: one floor division of L.
    assert str(result.outputs[0][1]) == "(L - 104857501)//1048576 + 1"
    assert result.params == 10_000 * (3 * 4 * 4 + 4)


@pytest.mark.slow
def test_ten_thousand_layers_in_well_under_a_second_of_engine_time():
    data = json.dumps(_ten_thousand_layers()).encode()
    clear_caches()
    start = time.process_time()
    propagate(parse_model(data, "deep.json"))
    elapsed = time.process_time() - start
    # About 0.6 s on the development machine; the bound leaves room for a slow CI runner.
    assert elapsed < 2.0, elapsed


def test_a_stack_of_identical_recurrent_layers_is_exact():
    layers = [{"type": "lstm", "units": 16, "return_sequences": True} for _ in range(2_000)]
    result = propagate(load_document({"input": ["timestep", 16], "layers": layers}, "m.json"))
    assert result.params == 2_000 * 4 * 16 * (16 + 16 + 1)
    assert result.outputs[0] == (sym("batch"), sym("timestep"), 16)
    assert str(result.macs) == f"batch*timestep*{2_000 * 4 * 16 * 32}"


def test_too_many_layers_are_refused(run_cli, tmp_path):
    file = tmp_path / "big.json"
    file.write_text(json.dumps({"input": [3], "layers": [{"type": "dense", "units": 2}] * 100_001}))
    result = run_cli("model", str(file))
    assert result.code == 2
    assert result.err == "Error: big.json: 100,001 layers, more than a model may hold (100,000)\n"
    assert len(result.err) < 300
