"""Deck names as Anki reads them.

Anki splits a name at '::' into a deck and its parents; it trims each part, calls an empty part
"blank", and finds decks by name after NFC normalisation and Unicode case folding (rslib
decks/name.rs, and the `unicase` collation of the decks table): two names equal that way are one
deck in a student's collection, whichever package brought them.
"""

from __future__ import annotations

import unicodedata

from .errors import Location, Problem


def deck_name_problem(name: str) -> str | None:
    """Why Anki would not keep `name` as written, or None."""
    if any(not part.strip() for part in name.split("::")):
        return f"deck name '{name}' has an empty part between '::'; Anki would call it 'blank'"
    return None


def deck_name_key(name: str) -> str:
    """What Anki compares when it looks a deck up by name."""
    parts = (unicodedata.normalize("NFC", part).strip() for part in name.split("::"))
    return "::".join(unicodedata.normalize("NFC", part.casefold()) for part in parts)


def name_clashes(names: list[tuple[str, str, Location]]) -> list[Problem]:
    """(what, name, where) of decks and courses: a problem for each name that Anki would merge
    with an earlier one."""
    problems = []
    seen: dict[str, tuple[str, str, Location]] = {}
    for what, name, where in names:
        key = deck_name_key(name)
        if key not in seen:
            seen[key] = (what, name, where)
            continue
        first_what, first_name, first_where = seen[key]
        same = f"{what} name '{name}' and the name of {first_what} '{first_name}' ({first_where}) are one name to Anki"
        problems.append(Problem(where, f"{same}, which ignores case and Unicode form: both would fill one deck"))
    return problems
