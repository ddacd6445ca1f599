"""The seeded differential cases reach every option value, unknown size and refusal.

Runs without the frameworks: it only draws the cases (and asks shapecalc), so
a change to a generator or to ``CASES`` cannot quietly stop testing something.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import pytest
import test_oracle_keras_convlstm as convlstm
import test_oracle_keras_rnn as keras_rnn
import test_oracle_onnx_rnn as onnx_rnn
import test_oracle_torch_rnn as torch_rnn
from oracle_support import Case, shapecalc_json

#: Fewest cases that must show each feature.
AT_LEAST = 5
SIZES = ("units", "input_dim", "hidden_size", "input_size", "filters", "proj_size", "batch", "timesteps")


def features(case: Case) -> Iterable[str]:
    """What a case exercises, as ``option=value`` words."""
    options = case.options
    yield f"kind={case.kind}"
    for key in (
        "return_sequences",
        "return_state",
        "use_bias",
        "reset_after",
        "bidirectional",
        "batch_first",
        "peepholes",
        "linear_before_reset",
    ):
        if key in options:
            yield f"{key}={options[key]}"
    for key in ("merge_mode", "padding", "data_format", "num_layers", "direction", "layout"):
        if key in options:
            yield f"{key}={options[key]}"
    yield from (f"unknown={name}" for name in ("batch", "timestep", "N", "T") if name in case.unknown)
    sizes = [options.get(key) for key in SIZES] + [*options.get("kernel", ()), *options.get("input", ())]
    if any(isinstance(size, str) for size in sizes):
        yield "named size"
    if "kernel" in options:
        yield f"rank={len(options['kernel'])} {options['data_format']}"
        yield "strided" if max(options["strides"]) > 1 else "unit strides"
        yield "dilated" if max(d for d in options["dilation"]) > 1 else "undilated"
    if options.get("framework") == "torch" and "proj_size" in options:
        yield f"proj_size on {case.kind}"
    derived = shapecalc_json(case)
    yield "refused" if isinstance(derived, str) else "accepted"


FAMILIES: dict[str, tuple[Callable[[int], Case], int, list[str]]] = {
    "keras recurrent": (
        keras_rnn.keras_rnn_case,
        keras_rnn.CASES,
        [f"kind={k}" for k in ("lstm", "gru", "rnn")]
        + [f"merge_mode={m}" for m in ("concat", "sum", "ave", "mul", "none")]
        + ["reset_after=True", "reset_after=False", "use_bias=False", "return_state=True"],
    ),
    "keras convlstm": (
        convlstm.convlstm_case,
        convlstm.CASES,
        [f"rank={r} {f}" for r in (1, 2, 3) for f in ("channels_last", "channels_first")]
        + [f"merge_mode={m}" for m in ("concat", "sum", "ave", "mul", "none")]
        + ["padding=valid", "padding=same", "strided", "dilated", "use_bias=False", "refused"],
    ),
    "torch": (
        torch_rnn.torch_case,
        torch_rnn.CASES,
        [f"kind={k}" for k in ("lstm", "gru", "rnn")]
        + [f"num_layers={n}" for n in (1, 2, 3)]
        + ["bidirectional=True", "batch_first=True", "use_bias=False", "proj_size on lstm", "refused"],
    ),
    "onnx": (
        onnx_rnn.onnx_case,
        onnx_rnn.CASES,
        [f"kind={k}" for k in ("lstm", "gru", "rnn")]
        + [f"direction={d}" for d in ("forward", "reverse", "bidirectional")]
        + ["bidirectional=True", "layout=0", "layout=1", "use_bias=False", "peepholes=True"]
        + ["peepholes=False", "linear_before_reset=True", "linear_before_reset=False"],
    ),
}
COMMON = ["unknown=batch", "unknown=timestep", "unknown=N", "unknown=T", "named size", "accepted"]


@pytest.mark.parametrize("family", FAMILIES)
def test_seeded_cases_cover_every_option(family: str) -> None:
    draw, count, needed = FAMILIES[family]
    seen = Counter(feature for seed in range(count) for feature in features(draw(seed)))
    missing = {feature: seen[feature] for feature in [*needed, *COMMON] if seen[feature] < AT_LEAST}
    assert not missing, f"{family}: too few cases with {missing}"
