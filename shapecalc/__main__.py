"""``python -m shapecalc``: :func:`shapecalc.main.run` installs the Ctrl-C handler first thing."""

from shapecalc.main import run

if __name__ == "__main__":
    run()
