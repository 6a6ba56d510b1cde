"""The schemas are the one definition of the source format; the docs' examples must follow them."""

import re

import jsonschema
import pytest
from conftest import REPO, run, write

from acudeck.format import CARD_TYPES, card_fields, load_schema


@pytest.mark.parametrize("name", ["cards", "deck", "course"])
def test_schemas_are_valid_json_schema(name):
    jsonschema.Draft202012Validator.check_schema(load_schema(name))


def test_every_card_type_has_its_fields_in_the_schema():
    assert card_fields("basic") == ("front", "back")
    assert card_fields("compare") == ("aspect", "items")
    assert set(load_schema("cards")["$defs"]["card"]["properties"]["type"]["enum"]) == set(CARD_TYPES)


def readme_yaml_blocks():
    text = (REPO / "README.md").read_text()
    return re.findall(r"```yaml\n(.*?)```", text, re.S)


def test_readme_examples_build(tmp_path):
    blocks = readme_yaml_blocks()
    deck = next(b for b in blocks if "key: needling" in b)
    cards = next(b for b in blocks if b.startswith("cards:"))
    write(tmp_path / "cards_src/needling/deck.yaml", deck.replace("retired: [old-card-id]", ""))
    write(tmp_path / "cards_src/needling/cards.yaml", cards)
    result = run(tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "decks/needling.apkg: written: 6 notes, 11 cards" in result.output


def test_every_source_file_names_its_schema_for_editors():
    for path in sorted((REPO / "cards_src").rglob("*.yaml")) + sorted((REPO / "courses").glob("*.yaml")):
        first = path.read_text().splitlines()[0]
        schema = "deck" if path.name == "deck.yaml" else "course" if path.parent.name == "courses" else "cards"
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("=", 1)[1]).resolve()
        assert target == (REPO / f"acudeck/schema/{schema}.schema.json").resolve(), path


def test_editors_and_the_loader_agree_on_the_same_examples():
    """What an editor's plain JSON Schema validation says of a file is what the loader says."""
    import yaml

    from acudeck.errors import SourceError
    from acudeck.source import load_deck

    good = sorted((REPO / "cards_src").rglob("*.yaml"))
    for path in good:
        schema = load_schema("deck" if path.name == "deck.yaml" else "cards")
        assert not list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(path.read_text()))), path
    corpus = REPO / "tests/bad_inputs"
    for case in ("unknown-key", "missing-field", "unknown-card-type", "id-not-slug", "compare-one-item", "number-field"):
        cards = corpus / case / "cards_src/d/cards.yaml"
        data = yaml.safe_load(cards.read_text())
        assert list(jsonschema.Draft202012Validator(load_schema("cards")).iter_errors(data)), case
        with pytest.raises(SourceError):
            load_deck(cards.parent, corpus / case)


def test_per_card_validation_gives_the_same_verdicts_as_whole_file_validation():
    from acudeck import format as fmt
    from acudeck.errors import SourceError
    from acudeck.yamlfile import load_yaml

    files = sorted((REPO / "tests/bad_inputs").rglob("*.yaml")) + sorted((REPO / "cards_src").rglob("*.yaml"))
    compared = 0
    for path in files:
        if path.name == "deck.yaml":
            continue
        try:
            doc = load_yaml(path)
        except SourceError:
            continue
        fast = {problem for _, problem in fmt.schema_errors(doc, "cards")}
        whole = {problem for _, problem in fmt._errors(fmt._validator("cards"), doc.data, doc, ())}
        assert fast == whole, path
        compared += 1
    assert compared > 40
