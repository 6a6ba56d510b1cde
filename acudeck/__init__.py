"""acudeck: flashcards written in plain YAML, compiled into Anki decks that update in place."""

__version__ = "0.1.0"
