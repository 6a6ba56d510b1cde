"""The schemas are the one definition of the source format; the docs' examples must follow them."""

import re

import fastjsonschema
import jsonschema
import pytest
from conftest import REPO, run, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acudeck import format as fmt
from acudeck.cardtypes import CARD_TYPES, REGISTRY
from acudeck.errors import SourceError
from acudeck.format import ANNOTATIONS, as_draft7, load_schema
from acudeck.yamlfile import YamlDocument, load_yaml


@pytest.mark.parametrize("name", ["cards", "deck", "course"])
def test_schemas_are_valid_json_schema(name):
    jsonschema.Draft202012Validator.check_schema(load_schema(name))


def test_every_card_type_has_its_fields_in_the_schema():
    for name, kind in REGISTRY.items():
        own = [field.name for field in kind.FIELDS if field.required]
        assert load_schema("cards")["$defs"][name]["required"] == ["id", "type", *own]
    assert set(load_schema("cards")["$defs"]["card"]["properties"]["type"]["enum"]) == set(CARD_TYPES)


def readme_yaml_blocks():
    text = (REPO / "README.md").read_text()
    return re.findall(r"```yaml\n(.*?)```", text, re.S)


def test_readme_examples_build(tmp_path):
    blocks = readme_yaml_blocks()
    deck = next(b for b in blocks if "key: needling" in b)
    cards = next(b for b in blocks if b.startswith("cards:"))
    write(tmp_path / "cards_src/needling/deck.yaml", deck.replace("retired: [old-card-id]", ""))
    write(tmp_path / "cards_src/needling/definitions.yaml", cards)  # the first of the files the example names
    write(tmp_path / "cards_src/needling/differences.yaml", "cards: []\n")
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


# --- fastjsonschema, the quick accept path, accepts exactly what jsonschema accepts ----------------

SCHEMAS = ("cards", "deck", "course")
# The keywords the schemas may use: each means the same in draft 7 (fastjsonschema) as in 2020-12 (jsonschema),
# `$ref` once as_draft7 has moved its siblings. Not `format`: neither side asserts it, but better not to rely on that.
SAME_IN_DRAFT_7 = {
    *ANNOTATIONS,
    *("$schema", "$defs", "$ref", "type", "enum", "const", "required", "properties", "additionalProperties", "propertyNames"),
    *("minProperties", "maxProperties", "items", "minItems", "maxItems", "uniqueItems", "pattern", "minLength", "maxLength"),
    *("allOf", "anyOf", "oneOf", "not", "if", "then", "else"),
}


def subschemas(schema: dict):
    """`schema` and every schema inside it."""
    yield schema
    for key, value in schema.items():
        if key in ("properties", "$defs"):
            children = list(value.values())
        elif key in ("allOf", "anyOf", "oneOf"):
            children = value
        elif key in ("items", "additionalProperties", "propertyNames", "not", "if", "then", "else"):
            children = [value]
        else:
            children = []
        for child in children:
            if isinstance(child, dict):
                yield from subschemas(child)


@pytest.mark.parametrize("name", SCHEMAS)
def test_schemas_use_only_keywords_that_mean_the_same_in_draft_7(name):
    for schema in subschemas(load_schema(name)):
        assert set(schema) <= SAME_IN_DRAFT_7, set(schema) - SAME_IN_DRAFT_7
        assert isinstance(schema.get("items", {}), dict), "2020-12 has no list form of `items`"


@pytest.mark.parametrize("name", SCHEMAS)
def test_no_ref_fastjsonschema_compiles_has_keywords_beside_it(name):
    """Draft 7 ignores a `$ref`'s sibling keywords where 2020-12 applies them."""
    for schema in subschemas(as_draft7(load_schema(name))):
        if "$ref" in schema:
            assert set(schema) - {"$ref"} <= ANNOTATIONS, schema


def test_as_draft7_moves_a_ref_with_keywords_beside_it_into_an_allof():
    assert as_draft7({"$ref": "#/$defs/text", "maxLength": 3, "description": "d"}) == {"allOf": [{"$ref": "#/$defs/text"}], "maxLength": 3, "description": "d"}
    assert as_draft7({"$ref": "#/$defs/text", "description": "d"}) == {"$ref": "#/$defs/text", "description": "d"}
    assert as_draft7({"pattern": "^a$"}) == {"pattern": "^a(?=\\n?\\Z)"}


def fast_accepts(instance, name: str, definition: str = "") -> bool:
    """Like format._accepts, but an error other than a rejection fails the test instead of falling back."""
    try:
        fmt._fast_validator(name, definition)(instance)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def jsonschema_accepts(instance, name: str, definition: str = "") -> bool:
    return not list((fmt._subvalidator(definition) if definition else fmt._validator(name)).iter_errors(instance))


def assert_agree(instance, name: str, definition: str = "") -> bool:
    fast = fast_accepts(instance, name, definition)
    assert fast == jsonschema_accepts(instance, name, definition), (name, definition, instance)
    return fast


def assert_agree_on_cards_file(data) -> bool:
    """On the whole file, on each card against every card subschema, and in what schema_errors finds."""
    if isinstance(data, dict) and isinstance(data.get("cards"), list):
        for card in data["cards"]:
            for definition in (*CARD_TYPES, "card"):
                assert_agree(card, "cards", definition)
    valid = assert_agree(data, "cards")
    assert valid == (fmt.schema_errors(YamlDocument("cards.yaml", data), "cards") == []), data
    return valid


def test_fast_and_jsonschema_agree_on_every_source_file():
    paths = sorted((REPO / "tests/bad_inputs").rglob("*.yaml")) + sorted((REPO / "cards_src").rglob("*.yaml")) + sorted((REPO / "courses").glob("*.yaml"))
    verdicts = []
    for path in paths:
        try:
            data = load_yaml(path).data
        except SourceError:
            continue
        name = "deck" if path.name == "deck.yaml" else "course" if path.parent.name == "courses" else "cards"
        verdicts.append((name, assert_agree_on_cards_file(data) if name == "cards" else assert_agree(data, name)))
    assert {("cards", True), ("cards", False), ("deck", True), ("deck", False), ("course", True)} <= set(verdicts)
    assert len(verdicts) > 100


@pytest.mark.parametrize(
    ("card", "valid"),
    [
        ({"reference": "r" * 300}, True),
        ({"reference": "r" * 301}, False),
        ({"source": ["q" * 400]}, True),
        ({"source": ["q" * 401]}, False),
        ({"source": "q" * 401}, False),
        ({"source": []}, False),
        ({"id": "a" * 80}, True),
        ({"id": "a" * 81}, False),
        ({"id": "a\n"}, False),  # Python's `$` alone would match before a final newline
        ({"id": "a\n\n"}, False),
        ({"tags": ["t\n"]}, False),
        ({"tags": ["t x"]}, False),
    ],
)
def test_fast_and_jsonschema_agree_at_the_edges(card, valid):
    card = {"id": "a", "type": "basic", "front": "Q?", "back": "A.", **card}
    assert assert_agree(card, "cards", "basic") is valid
    assert assert_agree_on_cards_file({"cards": [card]}) is valid


CARD_SCHEMA = load_schema("cards")["$defs"]
texts = st.one_of(st.sampled_from(["A.", "x\n", "a b", "{{c1::A}}"]), st.text(min_size=1, max_size=12), st.integers(290, 410).map("x".__mul__))
odd = st.one_of(
    st.sampled_from(["", " ", "\n"]),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.lists(texts, max_size=2),
    st.dictionaries(texts, texts, max_size=2),
)
# Per key: values mostly good, and values that are wrong in the ways that key can be wrong.
FIELD_VALUES = {
    "id": (
        st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}|x{80}", fullmatch=True),
        st.one_of(st.sampled_from(["A", "a--b", "-a", "a b", "a\n", "x" * 81]), st.text(max_size=6)),
    ),
    "tags": (
        st.lists(st.sampled_from(["a", "a::b", "t\n", "x" * 100]), max_size=3),
        st.lists(st.one_of(st.sampled_from(["a b", 'a"', "", "x" * 101]), st.text(max_size=6)), min_size=1, max_size=3),
    ),
    "source": (st.one_of(texts, st.lists(texts, min_size=1, max_size=5)), st.lists(texts, max_size=7)),
    "items": (
        st.dictionaries(st.one_of(st.text(min_size=1, max_size=12), st.just("k" * 100)), texts, min_size=2, max_size=12),
        st.dictionaries(st.one_of(texts, st.sampled_from(["", " ", "k" * 101])), st.one_of(texts, odd), max_size=13),
    ),
}
mostly = st.sampled_from([True] * 9 + [False])


@st.composite
def near_valid_cards(draw) -> dict:
    """A card of some type, with most of its keys, mostly good values, now and then a wrong one or a foreign key."""
    card_type = draw(st.sampled_from(CARD_TYPES))
    schema = CARD_SCHEMA[card_type]
    keys = [key for key in schema["properties"] if draw(mostly if key in schema["required"] else st.booleans())]
    keys += [] if draw(mostly) else [draw(st.sampled_from(["frnt", "text", "items", "notes"]))]
    card = {}
    for key in keys:
        good, bad = (st.just(card_type), st.sampled_from([*CARD_TYPES, "other", "Basic"])) if key == "type" else FIELD_VALUES.get(key, (texts, odd))
        card[key] = draw(good if draw(mostly) else st.one_of(bad, odd))
    return card


cards_files = st.fixed_dictionaries({"cards": st.lists(near_valid_cards(), max_size=4)}, optional={"deck": texts})


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(cards_files)
def test_fast_and_jsonschema_agree_on_generated_cards(data):
    assert_agree_on_cards_file(data)
