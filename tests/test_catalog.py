"""``shapecalc layers`` lists exactly the registry's layer classes, and the docs' list is it."""

from __future__ import annotations

import json
from pathlib import Path

from docs_pages import section, update_script

from shapecalc.model.layers.registry import RULES, find_rule, known_classes

ROOT = Path(__file__).resolve().parent.parent


def test_json_lists_every_class_the_registry_runs(run_cli) -> None:
    result = run_cli("layers", "--format", "json")
    assert result.code == 0, result.err
    listed = json.loads(result.out)["layers"]
    names = {entry["class"] for entry in listed}
    assert {rule.class_name for rule in RULES.values()} <= names
    assert {"InputLayer", "Sequential", "Functional"} <= names
    for entry in listed:
        for alias in entry["aliases"]:
            found = find_rule(alias, own_format=True)
            assert found is not None and found.class_name == entry["class"], alias


def test_the_table_and_markdown_are_tidy(run_cli) -> None:
    for fmt in ("table", "markdown"):
        out = run_cli("layers", "--format", fmt).out
        assert all(line == line.rstrip() for line in out.splitlines()), fmt
        assert "ConvLSTM2D" in out and "convlstm" in out
        assert out.rstrip().endswith("with or without underscores.")


def test_the_docs_list_the_registry() -> None:
    listed = section("layer-classes").removeprefix("\n")
    assert listed == update_script().layer_classes(), "the docs are stale: run python scripts/update_docs.py"
    assert listed.count("`") == 2 * len(known_classes())


def test_the_readme_lists_the_unknowable_classes() -> None:
    from shapecalc.model.layers.unknowable import UNKNOWABLE

    listed = section("unknowable-classes").removeprefix("\n")
    assert listed == update_script().unknowable_classes(), "stale: run python scripts/update_docs.py"
    assert [line.split("`")[1] for line in listed.splitlines()] == list(UNKNOWABLE)
    assert "<!-- begin:unknowable-classes -->" in (ROOT / "README.md").read_text(encoding="utf-8")
