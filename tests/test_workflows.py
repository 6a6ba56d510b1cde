"""The GitHub workflows: this repository's and those `acudeck init` writes, checked by actionlint
(with shellcheck too when it is on PATH), and held to the rule that a pull request's code never
runs with a token that can write."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from acudeck import scaffold

WORKFLOWS = REPO / ".github/workflows"


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    found = shutil.which("actionlint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if not found:
        pytest.fail("actionlint is missing: pip install -e '.[dev]' installs it")
    return subprocess.run([found, "-no-color", "-oneline", *map(str, files)], capture_output=True, text=True, timeout=120)


def initialised(tmp_path: Path) -> Path:
    repo = tmp_path / "course"
    assert scaffold.init(repo, "herbs")
    return repo


def load(path: Path) -> dict:
    return load_text(path.read_text("utf-8"))


def load_text(text: str) -> dict:
    data = yaml.safe_load(text)
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as true
    return data


def test_actionlint_finds_nothing_in_this_repositorys_workflows_or_in_those_init_writes(tmp_path):
    written = sorted((initialised(tmp_path) / ".github/workflows").glob("*.yml"))
    assert [path.name for path in written] == ["deck-review-comment.yml", "decks.yml", "release.yml"]
    result = actionlint(*sorted(WORKFLOWS.glob("*.yml")), *written)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_actionlint_reports_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github/workflows/decks.yml"
    broken.parent.mkdir(parents=True)
    text = (WORKFLOWS / "decks.yml").read_text("utf-8")
    broken.write_text(text.replace("run: acudeck check\n", 'run: echo "${{ github.event.pull_request.title }}"\n', 1).replace("runs-on:", "runs_on:", 1))
    result = actionlint(broken)
    assert result.returncode == 1
    assert '"github.event.pull_request.title" is potentially untrusted' in result.stdout
    assert 'unexpected key "runs_on"' in result.stdout


def test_this_repositorys_workflows_are_the_templates_installing_its_checkout():
    for path, text in scaffold.workflow_files(scaffold.OWN_INSTALL).items():
        assert (REPO / path).read_text("utf-8") == text, f"{path}: write it again from acudeck/templates (CONTRIBUTING.md, 'Workflows')"
    written = scaffold.plan(Path("course"), "herbs")
    assert {path for path in written if path.startswith(".github/")} == set(scaffold.workflow_files("").keys())
    installs = {path: [step.get("run") for step in _steps(load_text(written[path])) if "pip" in step.get("run", "")] for path in scaffold.WORKFLOWS.values()}
    assert installs == {
        ".github/workflows/decks.yml": [scaffold.PINNED_INSTALL] * 2,
        ".github/workflows/deck-review-comment.yml": [],  # it runs no code of the repository's, nor acudeck
        ".github/workflows/release.yml": [scaffold.PINNED_INSTALL],
    }


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_a_pull_requests_code_runs_only_with_a_token_that_can_read(tmp_path):
    workflows = initialised(tmp_path) / ".github/workflows"
    decks = load(workflows / "decks.yml")
    assert set(decks["on"]) == {"push", "pull_request"} and decks["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in decks["jobs"].values())
    review = decks["jobs"]["review"]
    assert review["if"] == "github.event_name == 'pull_request'"
    checkout = review["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    uploaded = {step["with"]["name"]: step["with"]["path"] for step in review["steps"] if step.get("uses", "").startswith("actions/upload-artifact@")}
    assert uploaded == {"deck-review": "review/", "deck-preview": "decks/preview/"}

    comment = load(workflows / "deck-review-comment.yml")
    assert comment["on"] == {"workflow_run": {"workflows": ["decks"], "types": ["completed"]}} and comment["permissions"] == {}
    assert comment["jobs"]["comment"]["permissions"] == {"actions": "read", "pull-requests": "write"}
    uses = [step["uses"].split("@")[0] for step in _steps(comment)]
    assert uses == ["actions/download-artifact", "actions/github-script"] and not any("run" in step for step in _steps(comment))


def test_only_the_release_job_that_runs_nothing_of_the_repository_can_write(tmp_path):
    release = load(initialised(tmp_path) / ".github/workflows/release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}} and release["permissions"] == {}
    build, publish = release["jobs"]["build"], release["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read"} and publish["permissions"] == {"contents": "write"}
    assert [step.get("uses", "").split("@")[0] for step in publish["steps"]] == ["actions/download-artifact", ""]
    assert publish["steps"][1]["run"].startswith('gh release create "$TAG" release/*.apkg ')
    assert "acudeck check" in [step.get("run") for step in build["steps"]]
    assert 'acudeck release-check "$previous" --notes > release/notes.md' in "".join(step.get("run", "") for step in build["steps"])


COMMENT_HARNESS = """
const fs = require("fs");
const [script, folder, event] = process.argv.slice(2);
const posted = [];
const comments = [{ id: 7, user: { login: "someone" }, body: "<!-- acudeck deck review -->" }];
const pulls = [{ number: 12, head: { sha: "other" } }, { number: 13, head: { sha: "abc" } }];
const github = {
  paginate: async (list) => (list === github.rest.issues.listComments ? comments : pulls),
  rest: { pulls: { list() {} }, issues: { listComments() {}, updateComment: async (a) => posted.push(a), createComment: async (a) => posted.push(a) } },
};
const context = { repo: { owner: "o", repo: "r" }, payload: { workflow_run: JSON.parse(event) } };
process.chdir(folder);
const run = new Function("require", "github", "context", "core", "return (async () => {" + fs.readFileSync(script, "utf8") + "})()");
run(require, github, context, { notice: () => {} }).then(() => console.log(JSON.stringify(posted)));
"""


def test_the_comment_takes_the_pull_request_from_the_event_and_the_reports_as_capped_text(tmp_path):
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    workflow = load(REPO / ".github/workflows/deck-review-comment.yml")
    (tmp_path / "script.js").write_text(_steps(workflow)[1]["with"]["script"])
    (tmp_path / "harness.js").write_text(COMMENT_HARNESS)
    (tmp_path / "review").mkdir()
    (tmp_path / "review/diff.txt").write_text("Card changes since origin/main:\n  + ```` @you <b>x</b>\n")
    (tmp_path / "review/release-check.txt").write_text("x" * 200_000)
    event = {
        "pull_requests": [],
        "head_repository": {"owner": {"login": "fork"}},
        "head_branch": "b",
        "head_sha": "abc",
        "conclusion": "failure",
        "html_url": "https://example.org/run",
    }
    result = subprocess.run([node, "harness.js", "script.js", ".", json.dumps(event)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    [posted] = json.loads(result.stdout)
    assert posted["issue_number"] == 13  # a fork's pull request, found by the event's head commit; someone else's comment left alone
    body = posted["body"]
    assert body.startswith("<!-- acudeck deck review -->\n### Deck review: failed\n")
    assert "`````text\nCard changes since origin/main:\n  + ```` @you <b>x</b>\n\n`````" in body  # a fence the text cannot close
    assert "x" * 30_000 + "\n[cut: the whole report is in the run's deck-review artifact]\n```" in body and "x" * 30_001 not in body
