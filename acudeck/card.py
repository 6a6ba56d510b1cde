"""One card as written in a card file, with its Markdown already rendered to safe HTML."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Location

Position = tuple[int, int]  # (line, col) in the card's file


@dataclass(slots=True)
class CardSource:
    id: str
    type: str
    fields: dict[str, object]  # the type's own fields as written; a mapping field (compare's `items`) stays a mapping
    html: dict[str, object]  # the same fields rendered: an items field maps each item to its rendered value, a data field is as written
    extra: str  # rendered, "" when absent
    extra_text: str  # as written
    tags: tuple[str, ...]
    sources: tuple[str, ...]  # verbatim quotes from the reading
    reference: str | None
    path: str  # the file, as shown in messages
    positions: dict[str, Position]  # "" -> the card itself; each key -> its value
    image_refs: tuple[tuple[str, int, int], ...] = ()  # (file name, line, col), checked against media/ per deck

    @property
    def location(self) -> Location:
        return Location(self.path, *self.positions[""])

    @property
    def field_locations(self) -> dict[str, Location]:
        return {key: Location(self.path, *at) for key, at in self.positions.items() if key}

    @property
    def images(self) -> list[tuple[str, Location]]:
        return [(name, Location(self.path, line, col)) for name, line, col in self.image_refs]

    def text(self, name: str) -> str:
        """A text field as written."""
        value = self.fields[name]
        assert isinstance(value, str)
        return value

    def rendered(self, name: str) -> str:
        """A text field rendered."""
        value = self.html[name]
        assert isinstance(value, str)
        return value

    def items(self, name: str) -> dict[str, str]:
        """A mapping field as written."""
        value = self.fields[name]
        assert isinstance(value, dict)
        return value

    def rendered_items(self, name: str) -> dict[str, str]:
        """A mapping field rendered, item by item."""
        value = self.html[name]
        assert isinstance(value, dict)
        return value
