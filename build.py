"""Build the Anki decks from cards_src/: `python build.py --help` lists the commands."""

from acudeck.__main__ import cli

if __name__ == "__main__":
    cli(prog_name="build.py")
