"""Checking source files against the JSON Schemas of the format (`acudeck.schema` defines them).

Two validators read the same schema files: fastjsonschema compiles them into Python code and accepts a
valid file quickly; only a file it rejects goes to jsonschema, whose errors carry the paths and keywords
that we turn into located messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from types import CodeType
from typing import Any

from .cardtypes import CARD_TYPES
from .errors import Problem
from .schema import RETIRED, generated
from .yamlfile import YamlDocument


@cache
def load_schema(name: str) -> dict:
    """`name` is 'cards', 'deck' or 'course': the schema as acudeck.schema defines it (the committed
    files are what `build.py schema` writes from the same definition, for editors)."""
    return generated()[name]


@cache
def _validator(name: str):
    import jsonschema

    schema = load_schema(name)
    return jsonschema.Draft202012Validator(schema, format_checker=None)


# Keywords that only annotate: a `$ref` may have these beside it and mean the same in draft 7 as in 2020-12.
ANNOTATIONS = frozenset({"description", "title", "$comment", "default", "examples"})


# Every fastjsonschema check that card files use: the file, each card type, and any card.
CARD_FILE_CHECKS = (("cards", ""), *(("cards", card_type) for card_type in CARD_TYPES), ("cards", "card"))

_fast_validators: dict[tuple[str, str], Callable[[Any], Any]] = {}


@cache
def fast_validator_code(name: str, definition: str = "") -> CodeType:
    """fastjsonschema's check of schema `name`, or of its `$defs/<definition>` (with `$defs` kept, so
    refs resolve), compiled. Generating and compiling it takes longer than checking a card file, so
    the build cache keeps it (see reader.py)."""
    import fastjsonschema

    schema = load_schema(name)
    if definition:
        schema = {**schema["$defs"][definition], "$defs": schema["$defs"]}
    draft7 = {**as_draft7(schema), "$schema": "http://json-schema.org/draft-07/schema#"}
    source = fastjsonschema.compile_to_code(draft7, use_default=False, use_formats=False)
    return compile(source, f"<fastjsonschema {name} {definition}>", "exec")


def install_fast_validator(name: str, definition: str, code: CodeType) -> None:
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    _fast_validators[(name, definition)] = namespace["validate"]


def has_fast_validator(name: str, definition: str = "") -> bool:
    return (name, definition) in _fast_validators


def _fast_validator(name: str, definition: str = "") -> Callable[[Any], Any]:
    if (name, definition) not in _fast_validators:
        install_fast_validator(name, definition, fast_validator_code(name, definition))
    return _fast_validators[(name, definition)]


def _accepts(instance: Any, name: str, definition: str = "") -> bool:
    """Whether fastjsonschema finds `instance` valid; when it does not, jsonschema decides and explains."""
    check = _fast_validator(name, definition)
    try:
        check(instance)
    except Exception:  # a rejection, or a fault in the generated code (older releases had some): jsonschema decides
        return False
    return True


def as_draft7(schema: Any) -> Any:
    """A copy of a 2020-12 `schema` that fastjsonschema, which reads it as draft 7, takes to mean the same.

    In draft 7 a `$ref` hides its sibling keywords (`reference` has a `maxLength`), so such a `$ref` moves into an
    `allOf`. fastjsonschema turns a pattern's `$` into `\\Z`; Python's `$`, which jsonschema uses, also matches before
    a final newline, so it is spelled out."""
    if isinstance(schema, list):
        return [as_draft7(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: as_draft7(value) for key, value in schema.items()}
    if isinstance(schema.get("$ref"), str) and set(schema) - ANNOTATIONS - {"$ref"}:
        schema["allOf"] = [{"$ref": schema.pop("$ref")}, *schema.get("allOf", [])]
    if isinstance(schema.get("pattern"), str):
        schema["pattern"] = re.sub(r"(?<!\\)\$", lambda _: r"(?=\n?\Z)", schema["pattern"])
    return schema


def validate(doc: YamlDocument, schema_name: str) -> list[Problem]:
    """Every schema violation in `doc`, as located problems."""
    return [problem for _, problem in schema_errors(doc, schema_name)]


def schema_errors(doc: YamlDocument, schema_name: str) -> list[tuple[tuple, Problem]]:
    """Every schema violation in `doc`, with the trail of keys to the value it concerns."""
    data = doc.data
    if schema_name == "cards" and isinstance(data, dict) and isinstance(data.get("cards"), list):
        return _card_file_errors(doc)
    return [] if _accepts(data, schema_name) else _errors(_validator(schema_name), data, doc, ())


def _errors(validator, instance, doc: YamlDocument, prefix: tuple) -> list[tuple[tuple, Problem]]:
    return [(prefix + tuple(error.absolute_path), problem) for error in validator.iter_errors(instance) for problem in _explain(error, doc, prefix)]


def _card_file_errors(doc: YamlDocument) -> list[tuple[tuple, Problem]]:
    """The same verdicts as validating the whole file, but each card is checked against its own
    type's subschema only, instead of trying every type's `if` on every card. (That is quicker for
    fastjsonschema too, three times: each `if` that fails raises an exception.) In a file of more
    cards than the schema takes, only that many are checked one by one."""
    rest = {**doc.data, "cards": []}
    found = [] if _accepts(rest, "cards") else _errors(_validator("cards"), rest, doc, ())
    cards = doc.data["cards"]
    limit = load_schema("cards")["properties"]["cards"]["maxItems"]
    if len(cards) > limit:  # which `rest` does not show
        found.append((("cards",), Problem(doc.at(("cards",)), too_many_items(("cards",), limit))))
    for index, card in enumerate(cards[:limit]):
        card_type = card.get("type") if isinstance(card, dict) else None
        subschema = card_type if isinstance(card_type, str) and card_type in CARD_TYPES else "card"
        if not _accepts(card, "cards", subschema):
            found += _errors(_subvalidator(subschema), card, doc, ("cards", index))
    return found


@cache
def _subvalidator(name: str):
    return _validator("cards").evolve(schema=load_schema("cards")["$defs"][name])


def too_many_items(trail: tuple, limit: int) -> str:
    if trail == ("cards",):
        return f"a card file takes at most {limit:,} cards; split it into several files"
    return f"{_name(trail)} takes at most {limit:,} items"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a yes/no value ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


_TYPE_WORDS = {"string": "text", "object": "a mapping of keys to values", "array": "a list", "integer": "a whole number"}


def _name(trail: tuple) -> str:
    """How a user names the value at `trail`: the key, or the list item."""
    if len(trail) == 2 and trail[0] == "cards":
        return f"card {trail[1] + 1}"
    for part in reversed(trail):
        if isinstance(part, str):
            return f"'{one_line(part)}'"
    return "the file"


def _card_type(doc: YamlDocument, trail: tuple) -> str | None:
    if len(trail) >= 2 and trail[0] == "cards" and isinstance(doc.data, dict):
        cards = doc.data.get("cards")
        if isinstance(cards, list) and isinstance(trail[1], int) and trail[1] < len(cards):
            card = cards[trail[1]]
            if isinstance(card, dict) and card.get("type") in CARD_TYPES:
                return card["type"]
    return None


def _explain(error, doc: YamlDocument, prefix: tuple = ()) -> Iterator[Problem]:
    trail = prefix + tuple(error.absolute_path)
    keyword = error.validator
    value = error.instance
    where = doc.at(trail)
    what = _name(trail)
    if keyword == "additionalProperties" and isinstance(value, dict):
        allowed = list(error.schema.get("properties", {}))
        card_type = _card_type(doc, trail)
        owner = f"a {card_type} card" if card_type and len(trail) == 2 else (what if trail else "this file")
        for key in value:
            if key not in allowed:
                hint = _close_match(key, allowed)
                message = f"unknown key '{one_line(key)}'" + (f" (did you mean '{hint}'?)" if hint else "")
                message += f"; {owner} takes: {', '.join(allowed)}"
                yield Problem(doc.key_at(trail + (key,)), message)
    elif keyword == "required":
        missing = [key for key in error.validator_value if not isinstance(value, dict) or key not in value]
        card_type = _card_type(doc, trail)
        owner = f"a {card_type} card" if card_type and len(trail) == 2 else (what if trail else "the file")
        for key in missing:
            yield Problem(where, f"missing key '{key}': {owner} needs it")
    elif keyword == "type" and value is None and error.validator_value == "string":
        yield Problem(where, f"{what} is empty")
    elif keyword == "type":
        expected = error.validator_value
        choices = expected if isinstance(expected, list) else [expected]
        words = " or ".join(_TYPE_WORDS.get(str(choice), str(choice)) for choice in choices)
        hint = " (put it in quotes)" if "string" in choices and not isinstance(value, (list, dict)) else ""
        yield Problem(where, f"{what} must be {words}, not {_describe(value)}{hint}")
    elif keyword == "enum" and trail[-1:] == ("type",):
        hint = _close_match(str(value), CARD_TYPES)
        message = f"unknown card type '{one_line(str(value))}'" + (f" (did you mean '{hint}'?)" if hint else "")
        yield Problem(where, f"{message}; the types are: {', '.join(CARD_TYPES)}")
    elif keyword == "pattern" and trail == ("name",):
        yield Problem(where, f"deck name '{one_line(value)}' must not start or end with a space or ':'")
    elif keyword == "pattern" and error.validator_value == "\\S":
        yield Problem(where, f"{what} is empty")
    elif keyword == "pattern" and error.validator_value == RETIRED:
        yield Problem(where, f"{what} must be a card id, or 'card-id/Item' for one item of a compare card, not '{one_line(value)}'")
    elif keyword == "pattern" and "a-z0-9" in error.validator_value:
        yield Problem(where, f"{what} must be a slug (lowercase letters, digits and single hyphens), not '{one_line(value)}'")
    elif keyword == "pattern" and "\\s" in error.validator_value:
        yield Problem(where, f"{what}: '{one_line(value)}' must not contain spaces or quotes")
    elif keyword == "pattern":
        yield Problem(where, f"{what} must match {error.validator_value}, not '{one_line(value)}'")
    elif keyword == "minProperties":
        yield Problem(where, f"{what} needs at least {error.validator_value} entries")
    elif keyword == "maxProperties":
        yield Problem(where, f"{what} takes at most {error.validator_value:,} entries")
    elif keyword == "maxItems":
        yield Problem(where, too_many_items(trail, error.validator_value))
    elif keyword == "maxLength":
        yield Problem(where, f"{what} is longer than {error.validator_value:,} characters")
    elif keyword == "uniqueItems":
        yield Problem(where, f"{what} lists the same value twice")
    elif keyword == "propertyNames":
        yield Problem(where, f"{what} has an empty or overlong key")
    else:  # jsonschema's own words, which quote the value: kept short
        yield Problem(where, f"{what}: {one_line(error.message, 200)}")


def one_line(text: str, limit: int = 60) -> str:
    """A user's value quoted in a message: on one line, and not too long."""
    text = text.encode("unicode_escape").decode("ascii") if any(c in text for c in "\n\r\t") else text
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _close_match(word: str, choices) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return found[0] if found else None
