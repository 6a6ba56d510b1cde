"""`acudeck init`: a new deck repository that builds and checks as it is, and that never overwrites."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from acudeck.__main__ import cli
from acudeck.cardtypes import CARD_TYPES
from acudeck.schema import generated, schema_text

MODELINE = re.compile(r"# yaml-language-server: \$schema=(\S+)\n")


def _init(*args: str):
    return CliRunner().invoke(cli, ["init", *args], catch_exceptions=False)


def test_init_makes_a_repository_that_builds_and_checks(tmp_path):
    repo = tmp_path / "ACU 301 Herbs"
    result = _init(str(repo))
    assert result.exit_code == 0, result.output
    key = "acu-301-herbs"
    samples = yaml.safe_load((repo / "cards_src" / key / "samples.yaml").read_text("utf-8"))["cards"]
    assert [card["type"] for card in samples] == CARD_TYPES
    for required in (".gitignore", "README.md", ".pre-commit-config.yaml", ".github/workflows/decks.yml", f"courses/{key}-sample.yaml", f"cards_src/{key}/deck.yaml"):
        assert (repo / required).is_file(), required
    built = CliRunner().invoke(cli, ["-C", str(repo), "build"], catch_exceptions=False)
    assert built.exit_code == 0, built.output
    assert f"decks/{key}.apkg: written: " in built.output and f"decks/{key}-sample.apkg: written: " in built.output
    checked = CliRunner().invoke(cli, ["-C", str(repo), "check", "--no-cache"], catch_exceptions=False)
    assert checked.exit_code == 0, checked.output


def test_every_modeline_and_editor_setting_points_at_the_written_schemas(tmp_path):
    _init(str(tmp_path), "--key", "herbs")
    expected = {f"{kind}.schema.json": schema_text(schema) for kind, schema in generated().items()}
    assert {path.name: path.read_text("utf-8") for path in (tmp_path / "schemas").iterdir()} == expected
    kinds = {tmp_path / "cards_src/herbs/deck.yaml": "deck", tmp_path / "cards_src/herbs/samples.yaml": "cards", tmp_path / "courses/herbs-sample.yaml": "course"}
    for path, kind in kinds.items():
        target = MODELINE.match(path.read_text("utf-8"))
        assert target, path
        assert (path.parent / target[1]).resolve() == (tmp_path / "schemas" / f"{kind}.schema.json").resolve()
    mapped = json.loads((tmp_path / ".vscode/settings.json").read_text("utf-8"))["yaml.schemas"]
    assert {(tmp_path / schema).resolve() for schema in mapped} == {path.resolve() for path in (tmp_path / "schemas").iterdir()}


def test_the_ci_workflow_and_hook_run_acudeck_check(tmp_path):
    _init(str(tmp_path), "--key", "herbs")
    workflow = yaml.safe_load((tmp_path / ".github/workflows/decks.yml").read_text("utf-8"))
    steps = [step.get("run", "") for step in workflow["jobs"]["check"]["steps"]]
    assert any(step.startswith("pip install") and "acudeck" in step for step in steps) and steps[-1] == "acudeck check"
    hooks = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text("utf-8"))["repos"][0]["hooks"]
    ours = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert [hook["id"] for hook in hooks] == [hook["id"] for hook in ours]
    written = "".join(path.read_text("utf-8") for path in tmp_path.rglob("*") if path.is_file())
    assert not re.search(r"__[A-Z]+__", written)  # every placeholder filled
    assert "rev: v" in written and "git+https://" in written


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path):
    (tmp_path / "README.md").write_text("mine\n")
    (tmp_path / "courses").mkdir()
    (tmp_path / "courses" / "herbs-sample.yaml").write_text("mine\n")
    result = _init(str(tmp_path), "--key", "herbs")
    assert result.exit_code == 1
    assert result.output == f"Error: init: {tmp_path} already has courses/herbs-sample.yaml, README.md; init writes only new files\n"
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["README.md", "courses", "courses/herbs-sample.yaml"]
    assert (tmp_path / "README.md").read_text() == "mine\n"


def test_init_refuses_a_link_in_place_of_a_file_and_never_writes_through_it(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".gitignore").symlink_to(outside)
    (repo / "schemas").mkdir()
    (repo / "schemas" / "deck.schema.json").symlink_to(tmp_path / "missing")  # a dangling link too
    result = _init(str(repo), "--key", "herbs")
    assert result.exit_code == 1
    assert result.output == f"Error: init: {repo} already has schemas/deck.schema.json, .gitignore; init writes only new files\n"
    assert outside.read_text() == "keep\n" and not (tmp_path / "missing").exists()


def test_init_refuses_a_linked_folder_inside_the_new_repository(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".github").symlink_to(elsewhere)
    (repo / "courses").write_text("a file where a folder goes\n")
    result = _init(str(repo), "--key", "herbs")
    assert result.exit_code == 1
    assert result.output == f"Error: init: {repo} already has .github, courses; init writes only new files\n"
    assert list(elsewhere.iterdir()) == [] and sorted(p.name for p in repo.iterdir()) == [".github", "courses"]


def test_init_into_a_linked_folder_the_user_named_writes_there(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "named").symlink_to(tmp_path / "real")
    assert _init(str(tmp_path / "named"), "--key", "herbs").exit_code == 0
    assert (tmp_path / "real" / "cards_src" / "herbs" / "deck.yaml").is_file()


def test_init_derives_a_key_from_the_folder_name_or_refuses_one_it_cannot_use(tmp_path):
    assert _init(str(tmp_path / "Ärzte Kurs_2")).exit_code == 0
    assert (tmp_path / "Ärzte Kurs_2" / "cards_src" / "arzte-kurs-2" / "deck.yaml").is_file()
    result = _init(str(tmp_path / "___"))
    assert (result.exit_code, result.output) == (1, "Error: init: '' is not a deck key (lowercase letters, digits and single hyphens, at most 50); give one with --key\n")
    result = _init(str(tmp_path / "other"), "--key", "Bad_Key")
    assert (result.exit_code, result.output) == (1, "Error: init: 'Bad_Key' is not a deck key (lowercase letters, digits and single hyphens, at most 50); give one with --key\n")
    result = _init(str(tmp_path / "other"), "--name", "Ends with::")
    assert result.exit_code == 1 and result.output.startswith("Error: init: the deck would not be valid (name: ")
    assert not (tmp_path / "___").exists() and not (tmp_path / "other").exists()
