"""Write the shell completion scripts in ``completions/`` from the CLI itself.

Each script is what Click prints for ``_SHAPECALC_COMPLETE=<shell>_source shapecalc``:
a thin shell function that calls ``shapecalc`` back to ask for completions, so
new commands, options and choices complete without regenerating. Regenerate
after renaming the program or upgrading Click (a test fails when they are stale)::

    python scripts/generate_completions.py           # rewrite completions/
    python scripts/generate_completions.py --check   # exit 1 when a committed script is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

from click.shell_completion import get_completion_class

from shapecalc.cli import cli

PROG_NAME = "shapecalc"
COMPLETE_VAR = "_SHAPECALC_COMPLETE"
DIRECTORY = Path(__file__).resolve().parent.parent / "completions"
#: Shell -> file name, as each shell looks for it (zsh: ``_shapecalc`` on $fpath).
FILES = {"bash": "shapecalc.bash", "zsh": "_shapecalc", "fish": "shapecalc.fish"}


def completion_scripts() -> dict[str, str]:
    """File name -> script text, for every shell in :data:`FILES`."""
    scripts = {}
    for shell, name in FILES.items():
        completion = get_completion_class(shell)
        if completion is None:
            raise LookupError(f"Click has no completion for {shell}")
        scripts[name] = completion(cli, {}, PROG_NAME, COMPLETE_VAR).source() + "\n"
    return scripts


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    stale = []
    for name, text in completion_scripts().items():
        path = DIRECTORY / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    if stale:
        print(f"stale: {', '.join(stale)}; run python scripts/generate_completions.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
