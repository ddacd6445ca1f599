"""``python -m shapecalc``."""

from shapecalc.main import run

if __name__ == "__main__":
    run()
