"""YAML model files, built from the parser's events one at a time, as plain data only.

Building the data here, not with PyYAML's composer, bounds the work while the file is read:
every value is counted as often as an alias repeats it (a "billion laughs" file stops at
:data:`~.limits.MAX_VALUES`, wherever the aliases are), nesting stops at
:data:`~.limits.MAX_DEPTH` without recursion, and no node graph is held beside the data.
It also refuses what PyYAML accepts silently: a key given twice, an alias inside its own
anchor, an integer of thousands of digits, and tags that would build Python objects.

>>> parse_yaml(b"base: &b {units: 4}\\nlayers: [*b, {<<: *b, units: 8}]", "m.yaml")
{'base': {'units': 4}, 'layers': [{'units': 4}, {'units': 8}]}
>>> parse_yaml(b"units: 4\\nunits: 8", "m.yaml")
Traceback (most recent call last):
...
shapecalc.errors.ShapecalcError: m.yaml: at line 2, column 1: the key 'units' is given twice
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapecalc.errors import ShapecalcError, shown
from shapecalc.model.limits import (
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_VALUES,
    given_twice,
    lone_surrogate,
    too_deep,
    too_many_digits,
    too_many_values,
)

YAML_TAG = "tag:yaml.org,2002:"
#: Tags of plain data on scalars (PyYAML's safe constructors build them).
SCALAR_TAGS = frozenset(
    f"{YAML_TAG}{name}" for name in ("null", "bool", "int", "float", "str", "binary", "timestamp")
)
MERGE_TAG = f"{YAML_TAG}merge"
#: Longest plain scalar remembered once built (``type: lstm`` repeats; a long text rarely does).
MEMO_LENGTH = 64


@dataclass(slots=True)
class _Collection:
    """A list or mapping being built: its items, and what the limits need to know about it."""

    is_mapping: bool
    tag: str
    anchor: str | None
    first_value: int  # the value count when it started: its size is the count at its end less this
    items: list[Any] = field(default_factory=list)
    height: int = 1  # levels of nesting, itself included
    key_marks: list[Any] = field(default_factory=list)


@dataclass(slots=True)
class _Anchor:
    value: Any
    size: int
    height: int


class _MergeKey:
    """The ``<<`` key, kept apart from a plain ``"<<"`` string."""


_MERGE = _MergeKey()


class _Builder:
    """Turns parser events into data, counting values (aliases expanded) and levels."""

    def __init__(self, loader: Any, source: str) -> None:
        self.loader = loader
        self.source = source
        self.values = 0
        self.stack: list[_Collection] = []
        self.anchors: dict[str, _Anchor] = {}
        self.result: Any = None
        # Plain scalars repeat (``type: lstm``, ``units: 32``): resolve and build each text once.
        self.known_scalars: dict[tuple[str, Any], Any] = {}

    def build(self) -> Any:
        import yaml

        documents = 0
        while True:
            event = self.loader.get_event()
            kind = type(event)
            if kind is yaml.ScalarEvent:
                self._scalar(event)
            elif kind is yaml.AliasEvent:
                self._alias(event)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self._start(event, kind is yaml.MappingStartEvent)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                self._end()
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise ShapecalcError(
                        f"{self.source}: {_line(event)}a model file holds one YAML document, not several"
                    )
            elif kind is yaml.StreamEndEvent:
                return self.result

    # ------------------------------------------------------------------ events
    def _count(self, size: int) -> None:
        self.values += size
        if self.values > MAX_VALUES:
            raise ShapecalcError(f"{too_many_values(self.source)}, YAML aliases expanded")

    def _scalar(self, event: Any) -> None:
        self._count(1)
        tag = event.tag
        memo = (event.value, event.implicit)
        if tag is None and memo in self.known_scalars:
            value = self.known_scalars[memo]
        else:
            if tag is None or tag == "!":
                tag = self.loader.resolve(_scalar_node(), event.value, event.implicit)
            value = self._scalar_value(tag, event)
            if event.tag is None and tag != MERGE_TAG and len(event.value) <= MEMO_LENGTH:
                self.known_scalars[memo] = value  # a str, number, bool, date or None: never changed
        if event.anchor is not None:
            self._remember(event.anchor, value, 1, 0)
        self._add(value, 0, event, merge=tag == MERGE_TAG)

    def _scalar_value(self, tag: str, event: Any) -> Any:
        text = event.value
        if not text.isascii() and _has_surrogate(text):
            raise ShapecalcError(f"{self.source}: {_line(event)}{lone_surrogate(text)}")
        if tag == f"{YAML_TAG}str":
            return text
        if tag == MERGE_TAG:
            return None
        if tag not in SCALAR_TAGS:
            raise refused_tag(self.source, tag, event)
        if tag == f"{YAML_TAG}int" and len(text) > MAX_DIGITS:
            raise ShapecalcError(too_many_digits(self.source))
        import yaml

        node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark)
        try:
            return self.loader.yaml_constructors[tag](self.loader, node)
        except (yaml.YAMLError, ValueError) as error:  # a bad !!binary, !!timestamp or !!int
            problem = getattr(error, "problem", None) or str(error)
            kind = tag[len(YAML_TAG) :]
            place = f"{self.source}: {_line(event)}"
            raise ShapecalcError(f"{place}{shown(text)} is not a valid {kind}: {problem}") from None

    def _alias(self, event: Any) -> None:
        name = shown(f"*{event.anchor}")
        if any(open_one.anchor == event.anchor for open_one in self.stack):  # a value holding itself
            raise ShapecalcError(f"{self.source}: {_line(event)}the alias {name} is inside its own anchor")
        anchor = self.anchors.get(event.anchor)
        if anchor is None:
            raise ShapecalcError(f"{self.source}: {_line(event)}the alias {name} names no anchor above it")
        self._count(anchor.size)
        self._add(anchor.value, anchor.height, event)

    def _start(self, event: Any, is_mapping: bool) -> None:
        self._count(1)
        if len(self.stack) >= MAX_DEPTH:
            raise ShapecalcError(too_deep(self.source, "YAML"))
        default = f"{YAML_TAG}{'map' if is_mapping else 'seq'}"
        tag = default if event.tag in (None, "!") else event.tag
        if tag not in (default, f"{YAML_TAG}set"):
            raise refused_tag(self.source, tag, event)
        self.stack.append(_Collection(is_mapping, tag, event.anchor, self.values))

    def _end(self) -> None:
        done = self.stack.pop()
        value = self._mapping(done) if done.is_mapping else done.items
        if done.tag == f"{YAML_TAG}set":
            value = set(value)
        if done.anchor is not None:
            self._remember(done.anchor, value, self.values - done.first_value + 1, done.height)
        self._add(value, done.height, None)

    # ------------------------------------------------------------------ building
    def _remember(self, anchor: str, value: Any, size: int, height: int) -> None:
        self.anchors[anchor] = _Anchor(value, size, height)

    def _add(self, value: Any, height: int, event: Any, merge: bool = False) -> None:
        """Put ``value`` (``height`` levels deep) into the collection being built, or make it the document."""
        if not self.stack:
            self.result = value
            return
        parent = self.stack[-1]
        if height:
            if len(self.stack) + height > MAX_DEPTH:
                raise ShapecalcError(too_deep(self.source, "YAML"))
            parent.height = max(parent.height, height + 1)
        if parent.is_mapping and len(parent.items) % 2 == 0:  # a key
            if isinstance(value, (list, dict, set)):
                raise ShapecalcError(
                    f"{self.source}: {_line(event)}a mapping key must be a single value, got {shown(value)}"
                )
            parent.key_marks.append(getattr(event, "start_mark", None))
            parent.items.append(_MERGE if merge else value)
        else:
            parent.items.append(value)

    def _mapping(self, done: _Collection) -> Any:
        keys, values = done.items[0::2], done.items[1::2]
        out: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key, value, mark in zip(keys, values, done.key_marks, strict=True):
            if key is _MERGE:
                sources = value if isinstance(value, list) else [value]
                if not all(isinstance(item, dict) for item in sources):
                    raise ShapecalcError(
                        f"{self.source}: {_place_of(mark)}a '<<' merge takes a mapping or a list of mappings"
                    )
                for item in reversed(sources):  # the first mapping listed wins
                    merged.update(item)
                continue
            if key in out:
                place = _place_of(mark)
                where = f"{self.source}: {place[:-2]}" if place else self.source
                raise ShapecalcError(given_twice(where, key))
            out[key] = value
        if merged:
            out = {**merged, **out}  # keys given in the mapping win over merged ones
        return out


def _scalar_node() -> Any:
    import yaml

    return yaml.ScalarNode


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)


def _line(event: Any) -> str:
    """Where ``event`` starts: ``at line 2, column 5: ``."""
    return _place_of(getattr(event, "start_mark", None))


def _place_of(mark: Any) -> str:
    return f"at line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


def refused_tag(source: str, tag: str, event: Any) -> ShapecalcError:
    """A tag that is not plain data (``!!python/object/apply:os.system``, ``!custom``)."""
    short = tag.replace(YAML_TAG, "!!")
    return ShapecalcError(
        f"{source}: {_line(event)}the YAML tag {shown(short)} is refused: model files hold plain data only"
    )


def parse_yaml(data: bytes, source: str) -> Any:
    """The data in a YAML file's bytes (UTF-8); :class:`ShapecalcError` says what is wrong."""
    import yaml

    # The C parser when there is one (some 10 times faster); both emit the same events.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(data)
    try:
        return _Builder(loader, source).build()
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        if "maximum nesting depth" in problem:  # libyaml's own bound on flow nesting, past ours
            raise ShapecalcError(too_deep(source, "YAML")) from None
        place = _place_of(getattr(error, "problem_mark", None))
        raise ShapecalcError(f"{source}: invalid YAML {place}{problem}") from None
    finally:
        loader.dispose()
