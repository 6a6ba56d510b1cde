"""The source format: the JSON Schemas of card files, deck files and course files.

This module is the one definition of the format. The card types' parts come from the card type
registry (each type declares its fields); `python build.py schema` writes the `*.schema.json` files
beside this module, which editors read (see the `yaml-language-server` line at the top of each
source file), and a test fails when the committed files differ from what it writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..cardtypes import CARD_TYPES, REGISTRY

SCHEMA_FOLDER = Path(__file__).parent
DRAFT = "https://json-schema.org/draft/2020-12/schema"
SLUG = "^[a-z0-9]+(-[a-z0-9]+)*(?!\\n)$"
TAG = '^[^\\s"]+(?!\\n)$'
RETIRED = "^[a-z0-9]+(-[a-z0-9]+)*(/[^\\n]*\\S[^\\n]*)?(?!\\n)$"  # a card id, or `card-id/Item` for one item of a compare


def _common_card_properties() -> dict[str, Any]:
    """The fields every card type takes besides its own."""
    return {
        "extra": {"$ref": "#/$defs/text", "description": "Shown on the back: context, a mnemonic."},
        "tags": {"type": "array", "maxItems": 30, "items": {"$ref": "#/$defs/tag"}, "description": "Tags added to the deck's default tags."},
        "source": {"$ref": "#/$defs/quotes"},
        "reference": {
            "$ref": "#/$defs/text",
            "maxLength": 300,
            "description": "Another work the card relies on (a standard reference that corrects or completes the reading); shown after the source quotes.",
        },
    }


def _type_schema(name: str) -> dict[str, Any]:
    kind = REGISTRY[name]
    own = {field.name: field.schema for field in kind.FIELDS}
    return {
        "type": "object",
        "required": ["id", "type", *(field.name for field in kind.FIELDS if field.required)],
        "maxProperties": 20,
        "properties": {"id": {"$ref": "#/$defs/id"}, "type": {"const": kind.NAME, "description": kind.SUMMARY}, **own, **_common_card_properties()},
        "additionalProperties": False,
        "examples": [{"id": f"example-{kind.NAME}", "type": kind.NAME, **{field.name: field.schema["examples"][0] for field in kind.FIELDS}}],
    }


def _any_card_schema() -> dict[str, Any]:
    branches = [{"if": {"type": "object", "properties": {"type": {"const": name}}, "required": ["type"]}, "then": {"$ref": f"#/$defs/{name}"}} for name in CARD_TYPES]
    return {
        "type": "object",
        "required": ["id", "type"],
        "maxProperties": 20,
        "properties": {"type": {"enum": list(CARD_TYPES)}},
        "allOf": branches,
        "description": "One flashcard; its type decides which fields it has.",
    }


def cards_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {
        "id": {
            "type": "string",
            "pattern": SLUG,
            "maxLength": 80,
            "description": "A slug, unique in its deck and never reused: the note's identity in students' collections.",
        },
        "text": {"type": "string", "pattern": "\\S", "maxLength": 10000, "description": "Markdown (CommonMark); raw HTML is shown as text."},
        "tag": {"type": "string", "pattern": TAG, "maxLength": 100, "description": "An Anki tag; '::' makes a hierarchy."},
        "items": {
            "type": "object",
            "minProperties": 2,
            "maxProperties": 12,
            # Each item's note repeats the whole table: short values keep a card's notes a small multiple of its size.
            "additionalProperties": {"type": "string", "pattern": "\\S", "maxLength": 1000, "description": "Markdown (CommonMark); raw HTML is shown as text."},
            "propertyNames": {"pattern": "\\S", "maxLength": 100},
            "description": "Each compared thing mapped to its value for this aspect (at most 1,000 characters each).",
        },
        **{name: _type_schema(name) for name in CARD_TYPES},
        "card": _any_card_schema(),
        "quotes": {
            "type": ["string", "array"],
            "pattern": "\\S",
            "maxLength": 400,
            "minItems": 1,
            "maxItems": 5,
            "items": {"$ref": "#/$defs/text", "maxLength": 400},
            "description": "A short verbatim quote from the reading that supports the card, or a list of them (a compare card may need one per item).",
        },
    }
    return {
        "$schema": DRAFT,
        "title": "acudeck card file",
        "description": "A file of flashcards in a deck folder under cards_src/.",
        "type": "object",
        "required": ["cards"],
        "additionalProperties": False,
        "maxProperties": 10,
        "properties": {"cards": {"type": "array", "maxItems": 5000, "items": {"$ref": "#/$defs/card"}}},
        "$defs": defs,
    }


def deck_schema() -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "title": "acudeck deck file",
        "description": "deck.yaml: one folder under cards_src/ is one deck.",
        "type": "object",
        "required": ["key", "name"],
        "additionalProperties": False,
        "maxProperties": 20,
        "properties": {
            "key": {
                "type": "string",
                "pattern": SLUG,
                "maxLength": 60,
                "description": "Stable, never changes: it names decks/<key>.apkg and seeds every note's identity.",
            },
            "name": {"type": "string", "pattern": "^[^\\s:](.*[^\\s:])?(?!\\n)$", "maxLength": 200, "description": "The deck name students see; '::' makes subdecks."},
            "description": {"type": "string", "maxLength": 2000, "description": "Shown on the deck's overview screen (Markdown)."},
            "tags": {
                "type": "array",
                "maxItems": 30,
                "items": {"type": "string", "pattern": TAG, "maxLength": 100},
                "description": "Tags on every card of the deck.",
            },
            "reading": {
                "type": "object",
                "required": ["title"],
                "additionalProperties": False,
                "maxProperties": 10,
                "properties": {
                    "title": {"type": "string", "pattern": "\\S", "maxLength": 300},
                    "author": {"type": "string", "pattern": "\\S", "maxLength": 300},
                    "url": {"type": "string", "pattern": "^https?://", "maxLength": 2000},
                },
                "description": "The reading the cards were written from.",
            },
            "files": {
                "type": "array",
                "maxItems": 5000,
                "items": {"type": "string", "pattern": "\\.yaml$", "maxLength": 500},
                "description": (
                    "The deck's card files in the order students meet their cards, by their paths from the deck folder "
                    "(e.g. definitions.yaml, then differences.yaml); it must name every card file once. Without it: "
                    "in the sorted order of those paths."
                ),
                "examples": [["definitions.yaml", "differences.yaml"]],
            },
            "retired": {
                "type": "array",
                "maxItems": 10000,
                "items": {"type": "string", "pattern": RETIRED, "maxLength": 200},
                "uniqueItems": True,
                "description": "Card ids that were released and then removed (or `card-id/Item`: one item of a compare card); they can never be used again.",
            },
        },
    }


def course_schema() -> dict[str, Any]:
    """A course selects cards by type too: its `types` name every registered card type."""
    return {
        "$schema": DRAFT,
        "title": "acudeck course file",
        "description": "courses/<key>.yaml: a course deck made of cards selected from the decks in cards_src/.",
        "type": "object",
        "required": ["key", "name", "select"],
        "additionalProperties": False,
        "maxProperties": 20,
        "properties": {
            "key": {"type": "string", "pattern": SLUG, "maxLength": 60, "description": "Names decks/<key>.apkg; must match the file name."},
            "name": {
                "type": "string",
                "pattern": "^[^\\s:](.*[^\\s:])?(?!\\n)$",
                "maxLength": 200,
                "description": "The deck name students see, e.g. 'ACU 201::Week 3 - Needling'.",
            },
            "description": {"type": "string", "maxLength": 2000, "description": "Shown on the deck's overview screen (Markdown)."},
            "select": {
                "type": "array",
                "minItems": 1,
                "maxItems": 100,
                "description": "Cards are in the course when any entry selects them.",
                "items": {
                    "type": "object",
                    "required": ["deck"],
                    "additionalProperties": False,
                    "maxProperties": 10,
                    "properties": {
                        "deck": {"type": "string", "pattern": SLUG, "maxLength": 60, "description": "The key of a deck in cards_src/."},
                        "tags": {
                            "type": "array",
                            "maxItems": 100,
                            "items": {"type": "string", "pattern": TAG, "maxLength": 100},
                            "description": "Cards with any of these tags, or a tag below one of them (needling::point selects needling::point::si11).",
                        },
                        "types": {"type": "array", "maxItems": 10, "items": {"enum": list(CARD_TYPES)}, "description": "Cards of any of these types."},
                        "ids": {
                            "type": "array",
                            "maxItems": 10000,
                            "items": {"type": "string", "pattern": SLUG, "maxLength": 80},
                            "description": "Only these card ids.",
                        },
                        "exclude": {
                            "type": "array",
                            "maxItems": 10000,
                            "items": {"type": "string", "pattern": SLUG, "maxLength": 80},
                            "description": "Never these card ids.",
                        },
                    },
                },
            },
        },
    }


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(folder: Path) -> list[tuple[Path, bool]]:
    """Write every schema into `folder` (made if missing); return each file and whether its text changed."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in generated().items():
        path = folder / f"{name}.schema.json"
        text = schema_text(schema)
        changed = not path.is_file() or path.read_text("utf-8") != text
        if changed:
            path.write_text(text, encoding="utf-8")
        written.append((path, changed))
    return written


def generated() -> dict[str, dict[str, Any]]:
    return {"cards": cards_schema(), "deck": deck_schema(), "course": course_schema()}
