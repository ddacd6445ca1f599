"""Every layer class of the model registry takes what its Keras 3 constructor takes.

shapecalc's known arguments of a class (those its rule reads, those it sets aside as inert,
and every layer's base arguments) are compared with ``inspect.signature`` of
``keras.layers.<Class>.__init__``: every Keras argument must be known, and every extra
one must be a shapecalc spelling or an argument Keras takes through ``**kwargs``.
"""

from __future__ import annotations

import inspect

import pytest
from oracle_support import ORACLE_MARKS, require_frameworks

from shapecalc.model.layers.registry import RULES
from shapecalc.model.own_format import ENTRY_KEYS
from shapecalc.options import OPTIONS

pytestmark = ORACLE_MARKS

#: Keras ops (``ops.Add``) are not layers: their own test checks them (test_oracle_keras_attention).
CLASSES = sorted({rule.class_name for rule in RULES.values() if not rule.class_name.startswith("ops.")})
#: Keys a shapecalc model file takes for the layer commands' spellings of an option (the option
#: table's aliases: ``kernel``, ``hidden_size``, ``no_bias``, ...) and for what Keras writes as a
#: wrapper (``bidirectional``, ``merge_mode``).
SHAPECALC_SPELLINGS = {key for option in OPTIONS.values() for key in (*option.keys, option.negation) if key}
#: Arguments Keras 3 takes through ``**kwargs`` rather than by name (and still writes in configs).
KWARGS = {
    "LSTM": {"zero_output_for_mask", "implementation"},
    "GRU": {"zero_output_for_mask", "implementation"},
    "SimpleRNN": {"zero_output_for_mask"},
    "ConvLSTM1D": {"zero_output_for_mask", "unroll"},
    "ConvLSTM2D": {"zero_output_for_mask", "unroll"},
    "ConvLSTM3D": {"zero_output_for_mask", "unroll"},
    "LayerNormalization": {"rms_scaling"},
    # Attention.get_config writes it; AdditiveAttention passes it on through **kwargs.
    "AdditiveAttention": {"seed"},
    # Embedding's, which ReversibleEmbedding passes on through **kwargs.
    "ReversibleEmbedding": {"lora_rank", "lora_alpha", "quantization_config", "weights"},
    # Keras 2 files write these; Keras 3 pops input_length and never takes sparse.
    "Embedding": {"input_length", "sparse"},
    # Written by get_config (the base image layer's data format, a lookup's vocabulary size),
    # taken back through **kwargs.
    **{name: {"data_format"} for name in ("AutoContrast", "RandomBrightness", "RandomContrast")},
    **{name: {"data_format"} for name in ("Solarization", "MaxNumBoundingBoxes")},
    **{name: {"vocabulary_size"} for name in ("IntegerLookup", "TextVectorization")},
    "StringLookup": {"vocabulary_size", "oov_method"},
}


@pytest.fixture(scope="module")
def keras():
    require_frameworks("torch", "keras")
    import keras

    return keras


def keras_arguments(cls: type) -> set[str]:
    """The named constructor arguments of ``cls`` (``self``, ``*args`` and ``**kwargs`` aside)."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return {p.name for p in parameters if p.name != "self" and p.kind not in variadic}


@pytest.mark.parametrize("class_name", CLASSES)
def test_every_keras_argument_is_known(keras, class_name):
    rule = RULES[class_name.replace("_", "").lower()]
    keras_class = getattr(keras.layers, class_name)
    base = keras_arguments(keras.layers.Layer)
    wanted = keras_arguments(keras_class) | base
    known = rule.known | set(ENTRY_KEYS)
    assert wanted - known == set(), f"{class_name}: Keras arguments shapecalc refuses"
    extra = rule.known - wanted - SHAPECALC_SPELLINGS - KWARGS.get(class_name, set()) - rule.call_options
    # The base Layer pops input_dim/input_shape from **kwargs; Keras 2 files write batch_input_shape.
    extra -= {"input_dim", "input_shape", "batch_input_shape"}
    assert extra == set(), f"{class_name}: arguments shapecalc knows that Keras does not"


@pytest.mark.parametrize("class_name", [name for name in CLASSES if RULES[name.lower()].call_options])
def test_call_arguments_are_arguments_of_the_call(keras, class_name):
    """What a rule takes per call (``return_attention_scores``, ``reverse``, ``key``) is an
    argument of the Keras class's ``call``."""
    rule = RULES[class_name.replace("_", "").lower()]
    call = keras_arguments(type("Call", (), {"__init__": getattr(keras.layers, class_name).call}))
    assert rule.call_options | set(rule.call_tensors) <= call
