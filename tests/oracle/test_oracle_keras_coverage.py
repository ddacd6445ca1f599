"""Every layer class Keras 3 exports is either supported by the model registry or on the list of
classes whose shapes no config can tell (``shapecalc/model/layers/unknowable.py``).

The classes are enumerated from ``keras.layers`` itself, so a Keras release that adds a class
fails this test until the class gets a rule or a reason. Classes are compared as objects:
``AvgPool1D`` and ``AveragePooling1D`` are one class, counted once. The cells
(``LSTMCell``, ``StackedRNNCells``, ...) only appear inside ``RNN(cell=...)``; their rules are
there so that an ``RNN`` can hold them.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from oracle_support import ORACLE_MARKS, require_frameworks

from shapecalc.model.layers.registry import known_classes
from shapecalc.model.layers.rnn_cells import CELL_FAMILY
from shapecalc.model.layers.unknowable import UNKNOWABLE

pytestmark = ORACLE_MARKS

#: Classes other branches are adding rules for (convolutions, pooling, preprocessing and audio).
#: Merging those branches empties this list: a class here that has a rule fails
#: ``test_the_pending_classes_are_still_missing``.
PENDING_ON_OTHER_BRANCHES: frozenset[str] = frozenset()
#: The reason that marks a class Keras 3 no longer exports.
REMOVED = "was removed in Keras 3"


@pytest.fixture(scope="module")
def keras() -> Any:
    require_frameworks("torch", "keras")
    import keras

    return keras


def exported_classes(keras: Any) -> dict[type, list[str]]:
    """Every layer class ``keras.layers`` exports, with all the names it goes by."""
    names: dict[type, list[str]] = {}
    for name in sorted(dir(keras.layers)):
        value = getattr(keras.layers, name)
        if inspect.isclass(value) and issubclass(value, keras.layers.Layer):
            names.setdefault(value, []).append(name)
    return names


def supported_classes(keras: Any) -> set[type]:
    """The Keras classes a model file may name: the registry's and the loaders' (InputLayer, models)."""
    found = set()
    for class_name, aliases, _ in known_classes():
        for name in (class_name, *aliases):
            value = getattr(keras.layers, name, None) or getattr(keras, name, None)
            if inspect.isclass(value):
                found.add(value)
    return found


def missing_classes(keras: Any) -> list[str]:
    """The exported classes that are neither supported nor on the unknowable list, by first name."""
    supported = supported_classes(keras)
    missing = []
    for cls, names in exported_classes(keras).items():
        if cls in supported or any(name in UNKNOWABLE for name in names):
            continue
        missing.append(cls.__name__ if cls.__name__ in names else names[0])
    return sorted(missing)


def test_every_keras_layer_class_is_supported_or_unknowable(keras: Any) -> None:
    missing = missing_classes(keras)
    unexpected = [name for name in missing if name not in PENDING_ON_OTHER_BRANCHES]
    pending = [name for name in missing if name in PENDING_ON_OTHER_BRANCHES]
    assert not unexpected, (
        f"Keras layer classes with neither a shape rule nor a reason in unknowable.py: {unexpected}; "
        f"still missing, pending on other branches: {pending}"
    )


def test_the_pending_classes_are_still_missing(keras: Any) -> None:
    """The pending list holds only Keras classes that have no rule yet: once a branch adds one,
    it leaves the list (so the coverage test cannot go on excusing it)."""
    exported = {name for names in exported_classes(keras).values() for name in names}
    assert sorted(PENDING_ON_OTHER_BRANCHES - exported) == [], "pending names Keras does not export"
    missing = set(missing_classes(keras))
    assert sorted(PENDING_ON_OTHER_BRANCHES - missing) == [], "supported now: remove them from the list"


def test_the_unknowable_classes_are_keras_classes_without_a_rule(keras: Any) -> None:
    exported = {name for names in exported_classes(keras).values() for name in names}
    known = {name for class_name, aliases, _ in known_classes() for name in (class_name, *aliases)}
    assert sorted(set(UNKNOWABLE) & known) == [], "a class with a rule cannot be unknowable"
    gone = sorted(name for name in UNKNOWABLE if name not in exported)
    assert gone == sorted(name for name, reason in UNKNOWABLE.items() if reason.startswith(REMOVED))
    assert gone == ["LocallyConnected1D", "LocallyConnected2D"]
    for name, reason in UNKNOWABLE.items():
        assert reason and "\n" not in reason and not reason.endswith("."), name


def test_the_cells_are_the_keras_cells_and_run_inside_rnn(keras: Any) -> None:
    cells = sorted(name for name, _, family in known_classes() if family == CELL_FAMILY)
    assert cells == ["GRUCell", "LSTMCell", "SimpleRNNCell", "StackedRNNCells"]
    for name in cells:
        assert issubclass(getattr(keras.layers, name), keras.layers.Layer)
    assert "RNN" in {name for name, _, _ in known_classes()}
