"""Card types are one module each: every registered module provides the whole interface, no other
module names a type, and a new type is one copied module plus its name in CARD_TYPES."""

from __future__ import annotations

import ast
import inspect
import os
import shutil
import subprocess
import sys
from pathlib import Path

import genanki
from conftest import CARDS_YAML, DECK_YAML, REPO, write
from hypothesis import given, settings
from hypothesis import strategies as st

from acudeck.cardtypes import CARD_TYPES, REGISTRY
from acudeck.cardtypes.protocol import CardType
from acudeck.notetypes import genanki_model

PACKAGE = REPO / "acudeck"


def protocol_members() -> dict[str, object]:
    methods = {name: member for name, member in vars(CardType).items() if inspect.isfunction(member) and not name.startswith("_")}
    return {**dict.fromkeys(CardType.__annotations__), **methods}


def test_every_registered_type_provides_the_whole_interface():
    for name, module in REGISTRY.items():
        assert module.NAME == name == module.__name__.rsplit(".", 1)[1]
        for member, method in protocol_members().items():
            assert hasattr(module, member), f"{name} lacks {member}"
            if method is not None:
                expected = list(inspect.signature(method).parameters)[1:]  # without self
                assert list(inspect.signature(getattr(module, member)).parameters) == expected, (name, member)


def test_the_registry_loads_exactly_the_listed_modules():
    modules = sorted(p.stem for p in (PACKAGE / "cardtypes").glob("*.py") if p.stem not in ("__init__", "protocol", "common"))
    assert sorted(CARD_TYPES) == modules == sorted(REGISTRY)
    ids = [kind.NOTE_TYPE.model_id for kind in REGISTRY.values()]
    assert len(set(ids)) == len(ids)


# Not card types, but Anki's own words: its kind of note type (a key of the schema fingerprint every
# ledger holds), and the CSS class of a cloze deletion in its rendering (which mathjax.py copies).
NOT_A_CARD_TYPE = {("notetypes.py", "cloze"), ("mathjax.py", "cloze")}


def test_no_module_but_its_own_and_the_list_names_a_card_type():
    names = set(CARD_TYPES)
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in ("cardtypes/__init__.py", *(f"cardtypes/{name}.py" for name in names)):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and node.value in names and (relative, node.value) not in NOT_A_CARD_TYPE:
                found.append(f"{relative}:{node.lineno}: {node.value!r}")
    assert found == []


fields_text = st.one_of(st.just(""), st.text(alphabet="ab <>{}:c12", max_size=12))
cloze_text = st.lists(st.one_of(st.text(alphabet="ab ", max_size=4), st.integers(0, 12).map(lambda n: f"{{{{c{n}::x}}}}")), max_size=6).map("".join)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_card_ords_are_the_ones_genanki_makes(data):
    """Anki and genanki decide which cards a note makes; each type declares it, and must agree."""
    for kind in REGISTRY.values():
        spec = kind.NOTE_TYPE
        strategy = cloze_text if spec.cloze else fields_text
        fields = tuple(data.draw(strategy) for _ in spec.fields)
        expected = tuple(card.ord for card in genanki.Note(model=genanki_model(spec), fields=list(fields)).cards)
        assert kind.card_ords(fields) == expected, (kind.NAME, fields)


def test_committed_schemas_are_what_the_schema_command_writes(tmp_path):
    from conftest import run

    result = run(tmp_path, "schema", "--write", str(tmp_path / "schemas"))
    assert result.exit_code == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "schemas").iterdir())
    assert written
    for name in written:
        assert (tmp_path / "schemas" / name).read_text("utf-8") == (PACKAGE / "schema" / name).read_text("utf-8"), f"run: python build.py schema ({name})"


NEW_TYPE_CARDS = """\
cards:
  - id: q-flip
    type: flip
    front: Which channel is SI?
    back: The Small Intestine channel.
"""


def test_adding_a_type_is_one_copied_module(tmp_path):
    """The steps CONTRIBUTING.md gives, on a copy of the package: copy basic.py, rename, new model id,
    add it to CARD_TYPES, write the schema; cards of the new type then build, check, export and preview."""
    package = tmp_path / "lib" / "acudeck"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    basic = (package / "cardtypes" / "basic.py").read_text("utf-8")
    model_id = REGISTRY["basic"].NOTE_TYPE.model_id
    flip = basic.replace('NAME = "basic"', 'NAME = "flip"').replace(str(model_id), "1795209999").replace('name="acudeck Basic"', 'name="acudeck Flip"')
    (package / "cardtypes" / "flip.py").write_text(flip, encoding="utf-8")
    registry = package / "cardtypes" / "__init__.py"
    registry.write_text(registry.read_text("utf-8").replace('"compare"]', '"compare", "flip"]'), encoding="utf-8")
    project = tmp_path / "project"
    write(project / "cards_src/sample/deck.yaml", DECK_YAML.format(key="sample"))
    write(project / "cards_src/sample/cards.yaml", CARDS_YAML + NEW_TYPE_CARDS.removeprefix("cards:\n"))
    env = {**os.environ, "PYTHONPATH": str(package.parent)}

    def acudeck(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "acudeck", "-C", str(project), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)

    schema = acudeck("schema")
    assert schema.returncode == 0, schema.stderr
    assert '"flip"' in (package / "schema" / "cards.schema.json").read_text("utf-8")
    build = acudeck("build")
    assert build.returncode == 0, build.stderr
    assert build.stdout.startswith("decks/sample.apkg: written: 4 notes, 6 cards")
    check = acudeck("check")
    assert (check.returncode, check.stderr) == (0, "ok\n")
    export = acudeck("export", "--format", "csv")
    assert ",Which channel is SI?,The Small Intestine channel.," in export.stdout and "\nacudeck Flip,Test::sample," in export.stdout
    preview = acudeck("preview")
    assert preview.returncode == 0, preview.stderr
    assert "The Small Intestine channel." in (project / "decks/preview/sample.html").read_text("utf-8")


def test_no_import_cycle_between_acudeck_modules():
    """Counting imports that run when a module loads (not those only for type checkers)."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        graph[module] = _runtime_imports(path, module)
    seen: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        if seen.get(module) == 2:
            return
        assert seen.get(module) != 1, " -> ".join([*trail, module])
        seen[module] = 1
        for target in graph.get(module, ()):
            visit(target, [*trail, module])
        seen[module] = 2

    for module in sorted(graph):
        visit(module, [])


def _runtime_imports(path: Path, module: str) -> set[str]:
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.parse(path.read_text("utf-8")).body:  # top level only: imports inside functions run later
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.module else base
            found |= {target} if node.module else {f"{base}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("acudeck"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("acudeck")}
    return found - {module}
