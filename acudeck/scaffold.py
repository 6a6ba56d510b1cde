"""`acudeck init DIR`: a new deck repository, with one sample card of each card type.

The sample cards are the examples the card types give in their schema fragments, so a new type
appears in new repositories without a change here. The repository gets its own copy of the JSON
Schemas (`schemas/`), which its files' modelines and editor settings point to, the student README,
the pre-commit hook, the GitHub workflows and a .gitignore (the prose files are templates in
acudeck/templates/). Nothing that exists is overwritten: one existing file and nothing is written.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from . import __version__
from .cardtypes import CARD_TYPES, REGISTRY
from .errors import BuildError
from .schema import SLUG, cards_schema, course_schema, deck_schema, generated, schema_text

# Where the deck repository's CI and pre-commit hook install acudeck from (tagged v<version>).
REPOSITORY = "https://github.com/acudeck/acudeck"
# How the workflows install acudeck: a deck repository pins the release it was made with (with
# Anki's engine, for preview and release-check); acudeck's own repository installs its checkout.
PINNED_INSTALL = f'pip install "acudeck[anki] @ git+{REPOSITORY}@v{__version__}"'
OWN_INSTALL = 'pip install -e ".[anki]"'
SCHEMAS = "schemas"
KEY_LENGTH = 50  # leaves room for the sample course's key, '<key>-sample'
MODELINE = "# yaml-language-server: $schema={}\n"


def deck_key(folder: Path) -> str:
    """A deck key from a folder name: 'ACU 201 Needling' -> 'acu-201-needling'."""
    ascii_name = unicodedata.normalize("NFKD", folder.resolve().name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:KEY_LENGTH].strip("-")


def plan(folder: Path, key: str | None = None, name: str | None = None) -> dict[str, str]:
    """Every file `init` writes, by its path relative to `folder`, with its text."""
    key = key or deck_key(folder)
    if not re.match(SLUG, key) or len(key) > KEY_LENGTH:
        raise BuildError(f"init: '{key}' is not a deck key (lowercase letters, digits and single hyphens, at most {KEY_LENGTH}); give one with --key")
    name = name or key.replace("-", " ").capitalize()
    deck = {"key": key, "name": name, "description": f"The cards of {name}.", "tags": [key], "files": ["samples.yaml"]}
    course = {"key": f"{key}-sample", "name": f"{name} - sample course", "select": [{"deck": key}]}
    _refuse_invalid(deck, deck_schema(), "deck")
    _refuse_invalid(course, course_schema(), "course")
    deck_folder = f"cards_src/{key}"
    files = {f"{SCHEMAS}/{kind}.schema.json": schema_text(schema) for kind, schema in generated().items()}
    files[f"{deck_folder}/deck.yaml"] = _yaml_file("../../schemas/deck.schema.json", DECK_HEADER, deck)
    files[f"{deck_folder}/samples.yaml"] = MODELINE.format("../../schemas/cards.schema.json") + CARDS_HEADER + _cards_text(sample_cards())
    for kind in REGISTRY.values():
        files.update({f"{deck_folder}/media/{name}": text for name, text in kind.EXAMPLE_MEDIA.items()})
    files[f"courses/{key}-sample.yaml"] = _yaml_file("../schemas/course.schema.json", COURSE_HEADER, course)
    files[".vscode/settings.json"] = json.dumps({"yaml.schemas": editor_schemas()}, indent=2) + "\n"
    fill = _filler(name)
    for template, target in TEMPLATES.items():
        files[target] = fill(_template(template))
    files.update(workflow_files(PINNED_INSTALL))
    return files


def workflow_files(install: str) -> dict[str, str]:
    """The GitHub workflows, by their path in a repository, installing acudeck with `install`."""
    return {target: _template(template).replace("__INSTALL__", install) for template, target in WORKFLOWS.items()}


def _template(name: str) -> str:
    return resources.files(__package__).joinpath("templates", name).read_text("utf-8")


def init(folder: Path, key: str | None = None, name: str | None = None) -> list[Path]:
    """Write the new repository into `folder` (made if missing); refuse before writing anything when
    any of its files exists (a link or a folder of that name too), or when a folder it would write
    into is a link or a file."""
    files = plan(folder, key, name)
    existing = [relative for relative in files if (folder / relative).is_symlink() or (folder / relative).exists()]
    existing += sorted({str(parent) for relative in files for parent in Path(relative).parents[:-1] if _not_a_folder(folder / parent)})
    if existing:
        raise BuildError(f"init: {folder} already has {', '.join(existing)}; init writes only new files")
    written = []
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as fh:  # "x": never through a file or link made meanwhile
            fh.write(text)
        written.append(path)
    return written


def _not_a_folder(path: Path) -> bool:
    """A link, or a file, where init would make or enter a folder: it would write somewhere else."""
    return path.is_symlink() or (path.exists() and not path.is_dir())


def sample_cards() -> list[dict[str, Any]]:
    """One card of each registered type: the example its schema fragment gives."""
    definitions = cards_schema()["$defs"]
    return [definitions[name]["examples"][0] for name in CARD_TYPES]


def editor_schemas() -> dict[str, list[str]]:
    """VS Code's `yaml.schemas`: each schema file to the files it describes (the modelines say it too)."""
    return {
        f"./{SCHEMAS}/deck.schema.json": ["cards_src/*/deck.yaml"],
        f"./{SCHEMAS}/cards.schema.json": ["cards_src/*/*.yaml", "!cards_src/*/deck.yaml"],
        f"./{SCHEMAS}/course.schema.json": ["courses/*.yaml"],
    }


DECK_HEADER = """\
# The deck: one folder under cards_src/ is one deck. Its key names decks/<key>.apkg and seeds
# every card's identity in students' collections: never change it once students have the deck.
# Optional: `reading:` (title, author, url), the reading the cards were written from.
# `files:` lists the card files in the order students meet their cards (definitions before
# differences, a point before its location picture); add each new card file where it belongs.
"""
CARDS_HEADER = """\
# A card file: any number of *.yaml files in the deck's folder, each with a `cards:` list.
# One sample card of each type; replace them with your own. A card's id is its identity in
# students' collections: once released, never change or reuse it (list removed ids under
# `retired:` in deck.yaml).
"""
COURSE_HEADER = """\
# A course deck: cards picked from the decks in cards_src/. An entry selects the cards of a deck
# (narrow it with tags:, types:, ids: and exclude:, which combine with AND); a card is in the
# course when any entry selects it.
"""
TEMPLATES = {
    "README.md": "README.md",
    "gitignore": ".gitignore",
    "pre-commit-config.yaml": ".pre-commit-config.yaml",
}
WORKFLOWS = {
    "decks.yml": ".github/workflows/decks.yml",
    "deck-review-comment.yml": ".github/workflows/deck-review-comment.yml",
    "release.yml": ".github/workflows/release.yml",
}


def _yaml_file(schema: str, header: str, data: dict[str, Any]) -> str:
    return MODELINE.format(schema) + header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


def _cards_text(cards: list[dict[str, Any]]) -> str:
    """A `cards:` list with each card's type explained above it, and a blank line between cards."""
    entries = []
    for card in cards:
        listed = yaml.safe_dump([card], sort_keys=False, allow_unicode=True, width=120)
        entries.append(f"  # {card['type']}: {REGISTRY[card['type']].SUMMARY}\n" + "".join(f"  {line}" for line in listed.splitlines(keepends=True)))
    return "cards:\n" + "\n".join(entries)


def _refuse_invalid(data: dict[str, Any], schema: dict[str, Any], what: str) -> None:
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error:
        where = ".".join(map(str, error.absolute_path)) or what
        raise BuildError(f"init: the {what} would not be valid ({where}: {error.message}); choose another --key or --name")


def _filler(name: str) -> Callable[[str], str]:
    values = {"__NAME__": name, "__REPOSITORY__": REPOSITORY, "__VERSION__": __version__}

    def fill(text: str) -> str:
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        return text

    return fill
