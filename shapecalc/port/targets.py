"""The target of a port: the layers the other framework builds for a source layer, or the
option that stops the port, and why.

A target computes exactly what the source computes, or there is no target: a refusal names
the source's option (``reset_after``), says what the target lacks, and where the layer does
go. Every refusal is a real difference of the computation, proven by
``tests/oracle/test_oracle_port_recipes.py``.

>>> from shapecalc.configs import RecurrentConfig
>>> gru = RecurrentConfig(cell="gru", units=8, input_dim=4, reset_after=False)
>>> refusal(gru, "torch").option, refusal(gru, "onnx") is None
('reset_after', True)
>>> target_layers(gru, "onnx")[0].config.linear_before_reset
False
"""

from __future__ import annotations

from shapecalc.cells import CELLS
from shapecalc.configs import LayerConfig, OnnxRecurrentConfig, RecurrentConfig, TorchRecurrentConfig
from shapecalc.dims import Dim
from shapecalc.errors import ShapecalcError
from shapecalc.options import FRAMEWORKS, KERAS, ONNX, TORCH
from shapecalc.port.records import FRAMEWORK_NAMES, Refusal, TargetLayer

_NOT_SIGMOID = {
    TORCH: "PyTorch gates always use sigmoid",
    ONNX: "shapecalc ports to ONNX's default activations (Sigmoid for the gates)",
}
_NOT_TANH = {
    TORCH: "nn.LSTM and nn.GRU always use tanh",
    ONNX: "shapecalc ports to ONNX's default activations (Tanh)",
}
_RNN_ACTIVATIONS = {
    TORCH: "nn.RNN's nonlinearity is tanh or relu",
    ONNX: "shapecalc ports ONNX RNN activations Tanh and Relu only",
}


def framework_of(config: LayerConfig) -> str:
    """``keras``, ``torch`` or ``onnx``: whose layer ``config`` describes."""
    if isinstance(config, RecurrentConfig):
        return KERAS
    if isinstance(config, TorchRecurrentConfig):
        return TORCH
    if isinstance(config, OnnxRecurrentConfig):
        return ONNX
    raise ShapecalcError(
        f"only LSTM, GRU and RNN layers port; {type(config).__name__} has no PyTorch or ONNX form",
        option="layer",
    )


def check_target(to: object) -> str:
    """``to`` as a framework name, or an error naming ``--to``."""
    if not isinstance(to, str) or to not in FRAMEWORKS:
        raise ShapecalcError(f"must be one of {', '.join(FRAMEWORKS)}, got {to!r}", option="to")
    return to


def refusal(config: LayerConfig, to: str) -> Refusal | None:
    """Why the layer ``config`` cannot go to framework ``to``, or ``None`` when it can."""
    source = framework_of(config)
    if source == to:
        return Refusal(to, "to", f"the layer is already {FRAMEWORK_NAMES[to]}: nothing to port")
    if isinstance(config, RecurrentConfig):
        found = _keras_refusal(config, to)
    elif isinstance(config, TorchRecurrentConfig):
        found = _torch_refusal(config, to)
    else:
        assert isinstance(config, OnnxRecurrentConfig)
        found = _onnx_refusal(config, to)
    return None if found is None else Refusal(to, *found)


def _keras_refusal(config: RecurrentConfig, to: str) -> tuple[str, str] | None:
    if config.cell == "gru" and not config.reset_after and to == TORCH:
        return "reset_after", (
            "reset_after=False has no PyTorch form (nn.GRU applies the reset gate after the recurrent "
            "product, like reset_after=True); it ports exactly to ONNX GRU with linear_before_reset=0"
        )
    if config.cell != "rnn" and config.recurrent_activation != "sigmoid":
        return "recurrent_activation", f"{config.recurrent_activation!r}: {_NOT_SIGMOID[to]}"
    if config.cell == "rnn":
        if config.activation not in ("tanh", "relu"):
            return "activation", f"{config.activation!r}: {_RNN_ACTIVATIONS[to]}"
    elif config.activation != "tanh":
        return "activation", f"{config.activation!r}: {_NOT_TANH[to]}"
    if config.bidirectional and config.merge_mode != "concat" and to == TORCH:
        return "merge_mode", (
            f"{config.merge_mode!r}: PyTorch always concatenates the two directions "
            "(Bidirectional merge_mode='concat')"
        )
    return None


def _torch_refusal(config: TorchRecurrentConfig, to: str) -> tuple[str, str] | None:
    if config.proj_size != 0:
        return "proj_size", f"{config.proj_size}: {FRAMEWORK_NAMES[to]} LSTM has no projection (weight_hr)"
    return None


def _onnx_refusal(config: OnnxRecurrentConfig, to: str) -> tuple[str, str] | None:
    if config.peepholes:
        lstm = "Keras LSTM" if to == KERAS else "nn.LSTM"
        return "peepholes", f"{lstm} has no peepholes (input P)"
    if config.direction == "reverse":
        return "direction", (
            f"'reverse': {FRAMEWORK_NAMES[to]} has no reverse-only layer that shapecalc ports to "
            "(use forward or bidirectional)"
        )
    if config.cell == "gru" and not config.linear_before_reset and to == TORCH:
        return "linear_before_reset", (
            "linear_before_reset=0 has no PyTorch form (nn.GRU is linear_before_reset=1); it ports "
            "exactly to Keras GRU with reset_after=False"
        )
    return None


def target_layers(config: LayerConfig, to: str) -> tuple[TargetLayer, ...]:
    """The layers framework ``to`` builds for ``config``: one, or one per level of a stack."""
    found = refusal(config, check_target(to))
    if found is not None:
        raise ShapecalcError(f"cannot port to {to}: {found.message}", option=found.option)
    configs: tuple[LayerConfig, ...]
    if isinstance(config, RecurrentConfig):
        configs = (_from_keras(config, to),)
    elif isinstance(config, TorchRecurrentConfig):
        configs = _from_torch(config, to)
    else:
        assert isinstance(config, OnnxRecurrentConfig)
        configs = (_from_onnx(config, to),)
    many = len(configs) > 1
    return tuple(
        TargetLayer(_class_name(one, to), one, f"layer{index}/" if many else "")
        for index, one in enumerate(configs)
    )


def _class_name(config: LayerConfig, to: str) -> str:
    name = CELLS[config.cell].convention(to).layer_class
    if to == KERAS and getattr(config, "bidirectional", False):
        return f"Bidirectional({name})"
    return name


def _from_keras(config: RecurrentConfig, to: str) -> LayerConfig:
    if to == TORCH:
        return TorchRecurrentConfig(
            cell=config.cell,
            hidden_size=config.units,
            input_size=config.input_dim,
            bidirectional=config.bidirectional,
            use_bias=config.use_bias,
            batch_first=True,  # Keras is batch first
            batch=config.batch,
            timesteps=config.timesteps,
            nonlinearity=config.activation if config.cell == "rnn" else "tanh",
        )
    return OnnxRecurrentConfig(
        cell=config.cell,
        hidden_size=config.units,
        input_size=config.input_dim,
        direction="bidirectional" if config.bidirectional else "forward",
        layout=1,  # Keras is batch first
        use_bias=config.use_bias,
        linear_before_reset=config.cell == "gru" and config.reset_after,
        batch=config.batch,
        timesteps=config.timesteps,
        nonlinearity=config.activation if config.cell == "rnn" else "tanh",
    )


def _keras_target(
    source: TorchRecurrentConfig | OnnxRecurrentConfig,
    input_dim: Dim,
    bidirectional: bool,
    reset_after: bool = True,
    activation: str = "tanh",
) -> RecurrentConfig:
    """A Keras layer that returns what PyTorch and ONNX return: every step and the final states."""
    return RecurrentConfig(
        cell=source.cell,
        units=source.hidden_size,
        input_dim=input_dim,
        batch=source.batch,
        timesteps=source.timesteps,
        return_sequences=True,
        return_state=True,
        use_bias=source.use_bias,
        reset_after=reset_after if source.cell == "gru" else True,
        bidirectional=bidirectional,
        activation=activation,
    )


def _from_torch(config: TorchRecurrentConfig, to: str) -> tuple[LayerConfig, ...]:
    directions = 2 if config.bidirectional else 1
    out: list[LayerConfig] = []
    for level in range(config.num_layers):
        size = config.input_size if level == 0 else directions * config.hidden_size
        if to == KERAS:
            out.append(_keras_target(config, size, config.bidirectional, activation=config.nonlinearity))
            continue
        out.append(
            OnnxRecurrentConfig(
                cell=config.cell,
                hidden_size=config.hidden_size,
                input_size=size,
                direction="bidirectional" if config.bidirectional else "forward",
                layout=1 if config.batch_first else 0,
                use_bias=config.use_bias,
                linear_before_reset=config.cell == "gru",
                batch=config.batch,
                timesteps=config.timesteps,
                nonlinearity=config.nonlinearity,
            )
        )
    return tuple(out)


def _from_onnx(config: OnnxRecurrentConfig, to: str) -> LayerConfig:
    both = config.direction == "bidirectional"
    if to == KERAS:
        reset_after, activation = config.linear_before_reset, config.nonlinearity
        return _keras_target(config, config.input_size, both, reset_after, activation)
    return TorchRecurrentConfig(
        cell=config.cell,
        hidden_size=config.hidden_size,
        input_size=config.input_size,
        bidirectional=both,
        use_bias=config.use_bias,
        batch_first=config.layout == 1,
        batch=config.batch,
        timesteps=config.timesteps,
        nonlinearity=config.nonlinearity,
    )
