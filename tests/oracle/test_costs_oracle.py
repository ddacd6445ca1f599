"""shapecalc's MACs against independent counters, on real PyTorch and Keras 3 layers.

* ``torch.utils.flop_counter.FlopCounterMode`` counts the matrix products and
  convolutions a layer really executes, at 2 FLOPs per multiply-accumulate and
  without bias adds: it must read ``2 * macs``. PyTorch's CPU ``nn.LSTM`` runs as
  one fused oneDNN op the counter cannot see, so oneDNN is off while counting.
* ``torchinfo`` counts every parameter, biases included, once per batch element
  and time step: ``macs + batch * T * bias elements``.
* ``ptflops`` (pytorch backend) adds bias elements and its own element-wise
  counts (RNN 1, GRU 7, LSTM 10 per hidden unit), skips the LSTM projection
  ``weight_hr``, and divides by the first input dimension (its "batch").

Keras runs on the torch backend, so the same counter sees its layers. Its
generic recurrent loop runs the cell once more than the sequence is long (the
step that determines the output shape), so Keras layers are checked on the
per-step slope, ``count(T2) - count(T1)``, and the total may exceed ``2 * macs``
by at most that one step.
"""

from __future__ import annotations

import io
import os
import random
from typing import Any

import pytest
from conftest import require_oracle

from shapecalc.api import shapes

pytestmark = pytest.mark.oracle

os.environ.setdefault("KERAS_BACKEND", "torch")

TORCH_CASES = 120
KERAS_CASES = 24
#: ptflops' element-wise operations per hidden unit, cell and step (ptflops/pytorch_ops.py).
PTFLOPS_ELEMENTWISE = {"rnn": 1, "gru": 7, "lstm": 10}
TORCH_MODULES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


def counted_flops(run: Any) -> int:
    """FLOPs of the matrix products and convolutions ``run()`` executes."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), torch.backends.mkldnn.flags(enabled=False), counter:
        run()
    return int(counter.get_total_flops())


# ----------------------------------------------------------------------------------- PyTorch
def torch_case(seed: int) -> tuple[str, dict[str, Any], int, int]:
    """(cell, module options, batch, timesteps) drawn from ``seed``."""
    rng = random.Random(seed)
    cell = ("lstm", "gru", "rnn")[seed % 3]
    hidden = rng.randint(2, 24)
    options: dict[str, Any] = {
        "input_size": rng.randint(1, 24),
        "hidden_size": hidden,
        "num_layers": rng.randint(1, 3),
        "bidirectional": rng.random() < 0.5,
        "bias": rng.random() < 0.7,
        "batch_first": rng.random() < 0.5,
    }
    if cell == "lstm" and rng.random() < 0.4:
        options["proj_size"] = rng.randint(1, hidden - 1)
    return cell, options, rng.randint(1, 4), rng.randint(1, 6)


def torch_macs(cell: str, options: dict[str, Any], batch: int, steps: int) -> int:
    given = {key: value for key, value in options.items() if key != "bias"}
    result = shapes(cell, framework="torch", use_bias=options["bias"], batch=batch, timesteps=steps, **given)
    macs = result.costs.macs
    assert isinstance(macs, int)
    return macs


@pytest.fixture(scope="module")
def torch_counters() -> None:
    for module in ("torch", "torchinfo", "ptflops"):
        require_oracle(module)


@pytest.mark.parametrize("seed", range(TORCH_CASES))
def test_torch_macs_against_three_counters(torch_counters, seed):
    import torch
    import torchinfo
    from ptflops import get_model_complexity_info

    cell, options, batch, steps = torch_case(seed)
    torch.manual_seed(seed)
    module = getattr(torch.nn, TORCH_MODULES[cell])(**options)
    size = options["input_size"]
    x = torch.randn(batch, steps, size) if options["batch_first"] else torch.randn(steps, batch, size)
    macs = torch_macs(cell, options, batch, steps)
    uses = batch * steps
    numel = {name: p.numel() for name, p in module.named_parameters()}
    biases = sum(n for name, n in numel.items() if name.startswith("bias"))
    projections = sum(n for name, n in numel.items() if name.startswith("weight_hr"))
    cells = module.num_layers * (2 if module.bidirectional else 1)

    assert counted_flops(lambda: module(x)) == 2 * macs

    summary = torchinfo.summary(module, input_data=[x], verbose=0)
    assert summary.total_mult_adds == macs + uses * biases

    reported, _ = get_model_complexity_info(
        module,
        tuple(x.shape),
        input_constructor=lambda _shape: x,
        as_strings=False,
        print_per_layer_stat=False,
        ost=io.StringIO(),
    )
    elementwise = uses * cells * PTFLOPS_ELEMENTWISE[cell] * module.hidden_size
    assert round(reported * x.shape[0]) == macs - uses * projections + uses * biases + elementwise


# ------------------------------------------------------------------------------------- Keras
def keras_case(seed: int) -> tuple[str, dict[str, Any], tuple[int, ...], Any]:
    """(kind, shapecalc options, one frame's shape, layer factory) drawn from ``seed``."""
    rng = random.Random(seed)
    kind = ("lstm", "gru", "rnn", "convlstm1d", "convlstm", "convlstm3d")[seed % 6]
    bidirectional = rng.random() < 0.3
    use_bias = rng.random() < 0.7
    options: dict[str, Any] = {"use_bias": use_bias, "bidirectional": bidirectional}
    if kind in ("lstm", "gru", "rnn"):
        units, features = rng.randint(1, 12), rng.randint(1, 12)
        options |= {"units": units, "input_dim": features}
        layer_options: dict[str, Any] = {"use_bias": use_bias}
        if kind == "gru":
            options["reset_after"] = layer_options["reset_after"] = rng.random() < 0.5
        frame: tuple[int, ...] = (features,)
        name, first = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}[kind], units
    else:
        rank = {"convlstm1d": 1, "convlstm": 2, "convlstm3d": 3}[kind]
        filters, channels = rng.randint(1, 4), rng.randint(1, 3)
        kernel = tuple(rng.randint(1, 3) for _ in range(rank))
        strided = rng.random() < 0.4
        strides = tuple(rng.randint(1, 2) for _ in range(rank)) if strided else (1,) * rank
        dilation = (1,) * rank if strided else tuple(rng.randint(1, 2) for _ in range(rank))
        spatial = tuple(rng.randint(5, 9 if rank < 3 else 6) for _ in range(rank))
        data_format = rng.choice(["channels_last", "channels_first"])
        padding = rng.choice(["valid", "same"])
        frame = (*spatial, channels) if data_format == "channels_last" else (channels, *spatial)
        options |= {"filters": filters, "kernel": kernel, "input": frame, "strides": strides}
        options |= {"dilation": dilation, "padding": padding, "data_format": data_format}
        layer_options = {"kernel_size": kernel, "strides": strides, "dilation_rate": dilation}
        layer_options |= {"padding": padding, "data_format": data_format, "use_bias": use_bias}
        name, first = f"ConvLSTM{rank}D", filters

    def make_layer() -> Any:
        import keras

        layer = getattr(keras.layers, name)(first, **layer_options)
        return keras.layers.Bidirectional(layer) if bidirectional else layer

    return kind, options, frame, make_layer


@pytest.fixture(scope="module")
def keras_counter() -> None:
    require_oracle("torch")
    require_oracle("keras")


@pytest.mark.parametrize("seed", range(KERAS_CASES))
def test_keras_macs_per_step_against_the_flop_counter(keras_counter, seed):
    import numpy as np

    kind, options, frame, make_layer = keras_case(seed)
    layer, batch = make_layer(), 2
    counts, macs = {}, {}
    for steps in (2, 5):
        x = np.random.default_rng(seed).random((batch, steps, *frame)).astype("float32")
        if not layer.built:
            layer(x)  # builds the weights outside the count
        counts[steps] = counted_flops(lambda x=x: layer(x))
        macs[steps] = shapes(kind, batch=batch, timesteps=steps, **options).costs.macs
    one_step = macs[5] - macs[2]
    assert counts[5] - counts[2] == 2 * one_step
    extra = counts[5] - 2 * macs[5]
    assert extra in (0, 2 * one_step // 3), (counts, macs)
