"""Build the Anki decks from cards_src/: `python build.py --help` lists the commands."""

import sys

MISSING = "build.py: the Python package '{}' is not installed; run: pip install -e '.[dev]' (see README, Quick start)"

if __name__ == "__main__":
    try:
        from acudeck.__main__ import main

        main(prog_name="build.py")
    except ModuleNotFoundError as exc:  # run before the Quick start's install step
        if not exc.name or exc.name.startswith("acudeck"):
            raise
        sys.exit(MISSING.format(exc.name))
