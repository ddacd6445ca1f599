"""The docs show real output, and hold together.

Every ``$ command`` of every console block in README.md and ``docs/*.md`` (a page added later
included) is one test: run as ``scripts/update_docs.py`` runs it (its docstring says how: in
order per page, in one scratch directory that sees ``tests/``, ``benchmarks/`` and
``shapecalc/``, at 100 columns), it prints exactly the lines under it. A block right after
``<!-- not-run -->``, benchmark timings and test runs are shown as written and skip, saying so.
Then: every docs page is linked from the README, every relative link resolves to a file and an
anchor, and no line ends in spaces.
"""

from __future__ import annotations

import doctest
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from docs_pages import README, ROOT, anchors, links, pages, update_script

SCRIPT = update_script()
EXAMPLES = [example for page in pages() for example in SCRIPT.page_examples(page)]
#: The pages whose links and lines are checked: the docs, and the contributors' guide.
CHECKED = [*pages(), ROOT / "CONTRIBUTING.md"]


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.fixture(scope="session")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One session per page: its examples share a scratch directory, in order."""
    return {
        _name(page): SCRIPT.Session(SCRIPT.page_examples(page), lambda: tmp_path_factory.mktemp("docs"))
        for page in pages()
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.page}:{e.line} $ {e.command[:60].rstrip()}")
def test_console_example_is_real_output(sessions: dict[str, Any], example: Any) -> None:
    reason = example.why_not_run()
    if reason is not None:
        pytest.skip(f"not run: {reason}")
    if example.uses_jq and shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    printed = sessions[example.page].printed(example)
    assert printed == list(example.shown), (
        f"{example.page}:{example.line}: $ {example.command}\n"
        "(after a deliberate change of output: python scripts/update_docs.py, then review the diff)"
    )


def _commands(page: str) -> list[str]:
    return [example.command for example in EXAMPLES if example.page == page]


def test_the_pages_have_their_examples() -> None:
    for page in ("README.md", "docs/tensor-by-tensor.md"):
        assert "shapecalc lstm --units 32 --input-dim 20" in _commands(page), page
        assert "shapecalc convlstm --filters 8 --kernel 3 3 --input 128 128 3" in _commands(page), page
    layers = _commands("docs/layers.md")
    assert "shapecalc gru --units 32 --input-dim 20" in layers
    assert any("--framework torch" in command and "--proj-size" in command for command in layers)
    assert any("--framework onnx" in command for command in layers)
    at_least = {"models": 4, "weights": 4, "pictures": 4, "reliability": 4, "costs": 4, "symbolic": 4}
    at_least["json"] = 3
    for page, count in at_least.items():
        assert len(_commands(f"docs/{page}.md")) >= count, page
    porting = _commands("docs/porting.md")
    assert "shapecalc port lstm --from keras --to torch --units 32 --input-dim 20" in porting
    assert any("--format python" in command for command in porting)
    assert any("--format json" in command for command in porting)
    files = " ".join(_commands("docs/porting-files.md"))
    assert all(f"--to {to} -o " in files for to in ("torch", "keras", "onnx"))
    packed = _commands("docs/packed-sequences.md")
    assert any("--lengths" in command for command in packed)
    assert any("--unbatched" in command for command in packed)
    readme = _commands("README.md")
    assert any(command.startswith("shapecalc model ") for command in readme)
    assert any(command.startswith("shapecalc weights ") for command in readme)
    assert any("| jq" in command for command in readme)


def test_few_examples_are_kept_unrun() -> None:
    kept = [f"{example.page}:{example.line}" for example in EXAMPLES if example.why_not_run()]
    assert len(kept) < len(EXAMPLES) // 10, kept


@pytest.mark.parametrize("page", pages(), ids=_name)
def test_every_console_block_holds_commands(page: Path) -> None:
    for block in SCRIPT.console_blocks(page.read_text(encoding="utf-8"), _name(page)):
        assert block.examples, f"{_name(page)}:{block.first}: an empty console block"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {(README.parent / target.split("#", 1)[0]).resolve() for target in links(README.read_text())}
    unlinked = [_name(page) for page in pages()[1:] if page.resolve() not in linked]
    assert not unlinked, "add a line for each to the README's Contents"


@pytest.mark.parametrize("page", CHECKED, ids=_name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in links(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:|//", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text(encoding="utf-8")):
            broken.append(f"{target}: no such anchor in {_name(file)}")
    assert not broken


@pytest.mark.parametrize("page", CHECKED, ids=_name)
def test_no_line_ends_in_spaces(page: Path) -> None:
    lines = page.read_text(encoding="utf-8").split("\n")
    assert [number for number, line in enumerate(lines, 1) if line != line.rstrip()] == []


def test_each_generated_table_lives_on_one_page() -> None:
    for name in ("options-table", "layer-classes"):
        holders = [_name(p) for p in pages() if f"<!-- begin:{name} -->" in p.read_text(encoding="utf-8")]
        assert len(holders) == 1, (name, holders)


@pytest.mark.parametrize("name", SCRIPT.IMAGES)
def test_the_pictures_are_what_their_commands_draw(name: str) -> None:
    assert (ROOT / name).read_text(encoding="utf-8") == SCRIPT.image(name), "python scripts/update_docs.py"
    shown = {(page.parent / target).resolve() for page in pages() for target in links(page.read_text())}
    assert (ROOT / name).resolve() in shown, f"no page shows {name}"


def test_the_update_scripts_examples_hold() -> None:
    assert doctest.testmod(SCRIPT).failed == 0


PAGE = """\
Some prose.

```console
$ cat input.txt
a line
$ ls -d shapecalc tests benchmarks
benchmarks
shapecalc
tests
$ wc -l < input.txt
1
```

```python
$ not a command: another language
```

<!-- not-run -->
```console
$ exit 3
never compared
$ python benchmarks/bench_model.py
timings
```

````markdown
```console
$ shown inside a markdown example, not a block of this page
```
````

```console
$ echo more >> input.txt; cat input.txt
a line
more
```
"""


def _page_examples() -> list[Any]:
    return [example for block in SCRIPT.console_blocks(PAGE, "page.md") for example in block.examples]


def test_a_page_is_read_as_the_docstring_says() -> None:
    examples = _page_examples()
    assert [(e.line, e.command) for e in examples] == [
        (4, "cat input.txt"),
        (6, "ls -d shapecalc tests benchmarks"),
        (10, "wc -l < input.txt"),
        (20, "exit 3"),
        (22, "python benchmarks/bench_model.py"),
        (33, "echo more >> input.txt; cat input.txt"),
    ]
    assert [e.why_not_run() for e in examples] == [None, None, None, *[f"marked {SCRIPT.NOT_RUN}"] * 2, None]
    assert examples[3].shown == ("never compared",) and examples[2].shown == ("1",)
    uses_jq = {"shapecalc lstm --format json | jq .params": True, "jq -c .problems report.json": True}
    uses_jq |= {"a; jq .": True, "shapecalc model jq.yaml": False, "echo jq": False}
    assert {command: SCRIPT.Example("page.md", 1, command, ()).uses_jq for command in uses_jq} == uses_jq
    with pytest.raises(
        ValueError, match=re.escape("page.md:2: a console block starts with a '$ ' command line")
    ):
        SCRIPT.console_blocks("```console\nno command\n```\n", "page.md")


def test_a_pages_examples_share_one_scratch_directory_in_order(tmp_path: Path) -> None:
    examples = _page_examples()
    folders = iter([tmp_path / "first", tmp_path / "second"])

    def new_scratch() -> Path:
        folder = next(folders)
        folder.mkdir()
        return folder

    session = SCRIPT.Session(examples, new_scratch)
    # The last example alone: the earlier ones play first (the cat writes input.txt), those not
    # run do not.
    assert session.printed(examples[5]) == ["a line", "more"]
    assert (tmp_path / "first/input.txt").read_text() == "a line\nmore\n"
    # An earlier one starts again in a fresh scratch directory, which sees the repository.
    assert session.printed(examples[1]) == ["benchmarks", "shapecalc", "tests"]
    assert session.printed(examples[2]) == ["1"]
    assert (tmp_path / "second/input.txt").read_text() == "a line\n"


def test_a_cat_of_a_file_the_scratch_directory_holds_is_run(tmp_path: Path) -> None:
    env = SCRIPT.scratch_folder(tmp_path)
    (tmp_path / "input.txt").write_text("what the file holds\n")
    for command in ("cat input.txt", "cat ./input.txt"):
        example = SCRIPT.Example("page.md", 1, command, ("not what it holds",))
        assert SCRIPT.play(example, tmp_path, env) == ["what the file holds"]
    absent = SCRIPT.Example("page.md", 1, "cat tests/absent.yaml", ("input: [3]",))
    assert SCRIPT.play(absent, tmp_path, env) == ["cat: tests/absent.yaml: No such file or directory"]
    assert not (ROOT / "tests/absent.yaml").exists()


def test_rewriting_a_page_keeps_what_is_not_run(tmp_path: Path) -> None:
    stale = PAGE.replace("$ wc -l < input.txt\n1\n", "$ wc -l < input.txt\n7\n")
    assert stale != PAGE
    assert SCRIPT.rewrite(stale, "page.md", tmp_path, SCRIPT.scratch_folder(tmp_path)) == PAGE
