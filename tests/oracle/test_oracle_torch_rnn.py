"""PyTorch ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` against shapecalc's torch convention.

Each seed draws one config: cell, hidden and input size, num_layers,
bidirectional, proj_size (LSTM; sometimes >= hidden_size, negative, or on a
GRU/RNN, which PyTorch refuses), bias, batch_first, numeric or named batch and
timesteps, and now and then a zero size. ``named_parameters()`` must give
exactly shapecalc's weight names, in order, with its shapes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from oracle_support import (
    ORACLE_MARKS,
    Built,
    Case,
    check,
    dim_value,
    require_frameworks,
    sequence_sizes,
    size,
)

pytestmark = ORACLE_MARKS

CASES = 300
MODULES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


@pytest.fixture(scope="module", autouse=True)
def _frameworks() -> None:
    require_frameworks("torch")


def torch_case(seed: int) -> Case:
    rng = random.Random(seed)
    kind = rng.choice(tuple(MODULES))
    env: dict[str, int] = {}
    zero = rng.random() < 0.04  # PyTorch refuses a zero size, and so must shapecalc
    hidden = size(rng, 0 if zero else 1, 6, "H", 0.3, env)
    options: dict[str, Any] = {
        "framework": "torch",
        "hidden_size": hidden,
        "input_size": size(rng, 0 if zero else 1, 5, "I", 0.3, env),
        "num_layers": rng.choice((1, 1, 2, 3)) if rng.random() > 0.02 else 0,
        "bidirectional": rng.random() < 0.5,
        "use_bias": rng.random() < 0.7,
        "batch_first": rng.random() < 0.5,
    }
    hidden_value = dim_value(hidden, env)
    if kind == "lstm" and rng.random() < 0.5:
        # Mostly valid (< hidden_size); sometimes equal, larger or negative.
        options["proj_size"] = size(rng, 1, hidden_value + 1, "P", 0.3, env) if hidden_value else 1
        if rng.random() < 0.05:
            options["proj_size"] = -1
    elif kind != "lstm" and rng.random() < 0.04:
        options["proj_size"] = 1
    runs, unknown = sequence_sizes(rng, options, env)
    return Case(kind, options, runs, unknown)


def torch_build(case: Case) -> Callable[[], Built]:
    def build() -> Built:
        import torch

        options, env = case.options, case.runs[0]
        batch_first = options.get("batch_first", False)
        extra = {"proj_size": dim_value(options["proj_size"], env)} if "proj_size" in options else {}
        module = getattr(torch.nn, MODULES[case.kind])(
            dim_value(options["input_size"], env),
            dim_value(options["hidden_size"], env),
            num_layers=options.get("num_layers", 1),
            bias=options.get("use_bias", True),
            batch_first=batch_first,
            bidirectional=options.get("bidirectional", False),
            **extra,
        )
        parameters = dict(module.named_parameters())
        run_outputs, states = [], {}
        for run in case.runs:
            batch = dim_value(options.get("batch", "batch"), run)
            steps = dim_value(options.get("timesteps", "timestep"), run)
            features = dim_value(options["input_size"], run)
            sequence = (batch, steps) if batch_first else (steps, batch)
            inputs = torch.randn(*sequence, features)
            with torch.no_grad():
                output, final = module(inputs)
            finals = list(final) if isinstance(final, tuple) else [final]
            run_outputs.append([tuple(output.shape), *(tuple(t.shape) for t in finals)])
            if not states:
                states = {
                    name: tuple(t[0].shape)
                    for name, t in zip(("hidden_state", "cell_state"), finals, strict=False)
                }
                input_shape = tuple(inputs.shape)
        return Built(
            weights={name: tuple(p.shape) for name, p in parameters.items()},
            arrays={name: p.detach().numpy() for name, p in parameters.items()},
            params=sum(p.numel() for p in parameters.values()),
            symbolic_outputs=None,
            run_outputs=run_outputs,
            states=states,
            input_shape=input_shape,
        )

    return build


@pytest.mark.parametrize("seed", range(CASES))
def test_torch_recurrent_matches_pytorch(seed: int) -> None:
    case = torch_case(seed)
    check(case, torch_build(case))
