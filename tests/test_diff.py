"""`diff BASE`: the card changes between a git revision and the working tree."""

import subprocess

from conftest import run, write


def git(root, *args):
    subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-C", str(root), *args], check=True, capture_output=True)


def test_diff_lists_added_changed_and_retired_cards(project, tmp_path):
    assert run(project).exit_code == 0
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "first")
    cards = project / "cards_src/sample/cards.yaml"
    text = cards.read_text().replace("Managing pain syndromes.", "The management of pain syndromes.")
    text = text[: text.index("  - id: q-cloze")] + "  - id: q-new\n    type: basic\n    front: What is IMS short for?\n    back: Intramuscular Stimulation.\n"
    cards.write_text(text)
    deck = project / "cards_src/sample/deck.yaml"
    deck.write_text(deck.read_text() + "retired: [q-cloze]\n")
    before = {p: p.read_bytes() for p in (project / "decks").iterdir()}
    out = tmp_path / "changes.html"
    result = run(project, "diff", "main", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Card changes since main:\n"
        "\n"
        "Test::sample (sample): 1 added, 1 changed, 1 removed\n"
        "  + q-new (basic): What is IMS short for?\n"
        "  ~ q-basic (basic): What is dry needling for?\n"
        "  - q-cloze (cloze, retired): IMS stands for {{c1::Intramuscular}} {{c2::Stimulation}}.\n"
    )
    page = out.read_text()
    assert page.count('<section class="diff-') == 3
    assert "The management of pain syndromes." in page and "Managing pain syndromes." in page  # after and before, rendered
    assert {p: p.read_bytes() for p in (project / "decks").iterdir()} == before  # the working tree is not built


def test_diff_with_no_changes_says_so(project):
    assert run(project).exit_code == 0
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "first")
    result = run(project, "diff", "HEAD", "-o", str(project / "out.html"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Card changes since HEAD: none.\n"


def test_diff_against_an_unknown_revision_is_a_clear_error(project):
    git(project, "init", "-q", "-b", "main")
    write(project / "README", "x")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "first")
    result = run(project, "diff", "no-such-rev")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot read revision 'no-such-rev': ")
