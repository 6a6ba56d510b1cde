"""acudeck: flashcards written in plain YAML, compiled into Anki decks that update in place."""

from importlib import metadata

try:
    __version__ = metadata.version("acudeck")  # the one place it is written is pyproject.toml
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
