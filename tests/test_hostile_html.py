"""Cards that try to inject HTML or script: built, imported into a real Anki collection, and
rendered; nothing active may survive, and the hostile text must be shown as text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import run

anki_collection = pytest.importorskip("anki.collection")

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"

DECK_YAML = r"""
key: h
name: 'Hostile <script>alert("name")</script>'
description: "Desc <script>alert('desc')</script> <iframe src=x></iframe> [t](https://e.com \"<b onmouseover=alert(1)>\")"
tags: [hostile]
reading:
  title: "Title <script>alert('title')</script>"
  author: "Author <img src=x onerror=alert('author')>"
"""

CARDS_YAML = r"""
cards:
  - id: basic-script
    type: basic
    front: "Front <script>alert(1)</script> <div onclick=alert(1)>div</div>"
    back: "Back <img src=x onerror=alert(1)> <iframe src=https://evil.example></iframe> <style>body{display:none}</style>"
    extra: "Extra <a href=x onclick=alert(1)>a</a> <svg onload=alert(1)></svg>"
    source: "Source <script>alert('source')</script> \" onmouseover=alert(1) x=\""
  - id: md-link
    type: basic
    front: "[<script>alert(1)</script> text](https://example.com \"title\\\" onclick=\\\"alert(1)\")"
    back: "[**bold** <img src=x onerror=alert(1)>](https://example.com '<script>t</script>')"
  - id: code-span
    type: reversed
    front: "Code `<script>alert(1)</script>` and `<iframe onload=alert(1)>`"
    back: |-
      Block:

          <script>alert(2)</script>

      ```html
      <style>*{}</style><img src=x onerror=alert(3)>
      ```
  - id: cloze-hostile
    type: cloze
    text: "Cloze {{c1::<script>alert(1)</script>}} and {{c2::<img src=x onerror=alert(2)>::<b onclick=alert(3)>hint</b>}}"
    extra: "<iframe srcdoc='<script>alert(1)</script>'></iframe>"
  - id: point-hostile
    type: point
    point: "SI <script>alert('point')</script>"
    muscle: "<img src=x onerror=alert('muscle')> infraspinatus"
    extra: "<style>@import url(https://evil.example/x.css)</style>"
  - id: compare-hostile
    type: compare
    aspect: "Aspect <script>alert('aspect')</script>"
    items:
      "<script>alert('item')</script>": "Value <img src=x onerror=alert('v1')>"
      "<img src=x onerror=alert('item2')>": "Other <iframe src=x></iframe>"
      "Plain \" onclick=\"alert(1)": "Third <a href=\"javascript:alert(1)\">raw</a>"
    source: "<script>alert('cmp')</script>"
    reference: "Ref <img src=x onerror=alert('ref')>"
"""

STYLE_BLOCK = re.compile(r"^\s*<style>.*?</style>", re.DOTALL)


def write_project(root: Path, deck: str = DECK_YAML, cards: str = CARDS_YAML) -> None:
    folder = root / "cards_src" / "h"
    folder.mkdir(parents=True)
    (folder / "deck.yaml").write_text(deck.lstrip(), encoding="utf-8")
    (folder / "cards.yaml").write_text(cards.lstrip(), encoding="utf-8")


class _Tags(HTMLParser):
    """The tags and attributes a browser would see (attribute values already unescaped)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_inert(html: str, where: str) -> None:
    lowered = html.lower()
    for raw in ("<script", "<iframe", "<style", "<svg", "<object", "<embed"):
        assert raw not in lowered, (raw, where)
    # an event handler attribute, outside any quoted attribute value
    outside_values = re.sub(r"\"[^\"]*\"|'[^']*'", "", html)
    assert not re.search(r"<[^>]*\son\w+\s*=", outside_values, re.IGNORECASE), where
    parser = _Tags()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in {"script", "iframe", "style", "svg", "object", "embed", "frame", "link", "meta", "base", "form"}, (tag, where)
        for name, value in attrs:
            assert not name.lower().startswith("on"), (tag, name, where)
            if name.lower() in ("href", "src", "action", "formaction", "srcdoc", "style"):
                assert name.lower() not in ("srcdoc", "style", "action", "formaction"), (tag, name, where)
                scheme = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
                assert not scheme.startswith(("javascript:", "data:", "vbscript:")), (tag, name, value, where)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every card's question and answer HTML (Anki's style block removed), and the deck."""
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    root = tmp_path_factory.mktemp("hostile")
    write_project(root)
    result = run(root, "build")
    assert result.exit_code == 0, result.output
    apkg = root / "decks" / "h.apkg"
    col = Collection(str(tmp_path_factory.mktemp("anki") / "collection.anki2"))
    try:
        col.import_anki_package(ImportAnkiPackageRequest(package_path=str(apkg), options=ImportAnkiPackageOptions()))
        cards = []
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            question = STYLE_BLOCK.sub("", card.question(), count=1)
            answer = STYLE_BLOCK.sub("", card.answer(), count=1)
            cards.append((card.note().guid, question, answer))
        decks = [col.decks.get(d.id) for d in col.decks.all_names_and_ids()]
        notes = [col.get_note(nid).fields for nid in col.find_notes("")]
    finally:
        col.close()
    return {"cards": cards, "decks": decks, "notes": notes}


def test_every_card_imported(rendered):
    # basic 1, basic 1, reversed 2, cloze 2, point 2, compare 3 notes x 2
    assert len(rendered["cards"]) == 14


def test_rendered_cards_hold_nothing_active(rendered):
    for guid, question, answer in rendered["cards"]:
        assert_inert(question, f"question of {guid}: {question}")
        assert_inert(answer, f"answer of {guid}: {answer}")


def test_stored_fields_hold_nothing_active(rendered):
    for fields in rendered["notes"]:
        for value in fields:
            assert_inert(value, value)


def test_deck_description_holds_nothing_active(rendered):
    [deck] = [d for d in rendered["decks"] if d["name"] != "Default"]
    assert_inert(deck["desc"], deck["desc"])
    assert "&lt;script&gt;" in deck["desc"]


def test_hostile_text_is_visible_as_text(rendered):
    everything = "\n".join(q + "\n" + a for _, q, a in rendered["cards"])
    expected = [
        "&lt;script&gt;alert(1)&lt;/script&gt;",  # front, cloze
        "&lt;img src=x onerror=alert(1)&gt;",  # back
        "&lt;iframe src=https://evil.example&gt;",
        "&lt;style&gt;body{display:none}&lt;/style&gt;",
        "&lt;div onclick=alert(1)&gt;",
        "&lt;svg onload=alert(1)&gt;",
        "&lt;script&gt;alert('point')&lt;/script&gt;",  # point
        "&lt;img src=x onerror=alert('muscle')&gt;",  # muscle
        "&lt;script&gt;alert('aspect')&lt;/script&gt;",  # compare aspect
        "&lt;script&gt;alert('item')&lt;/script&gt;",  # compare item (a key)
        "&lt;img src=x onerror=alert('item2')&gt;",
        "&lt;img src=x onerror=alert('v1')&gt;",  # compare value
        '&lt;a href="javascript:alert(1)"&gt;raw&lt;/a&gt;',  # raw HTML in a compare value
        "Plain &quot; onclick=&quot;alert(1)",  # a compare item that tries to close an attribute
        "&lt;iframe srcdoc=",  # cloze extra
        "&lt;style&gt;@import",  # point extra
    ]
    missing = [text for text in expected if text not in everything.replace("&#39;", "'").replace("&#x27;", "'")]
    assert not missing, missing


def test_code_spans_and_blocks_show_html_as_text(rendered):
    everything = "\n".join(q + "\n" + a for _, q, a in rendered["cards"])
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in everything
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in everything
    assert "&lt;style&gt;*{}&lt;/style&gt;&lt;img src=x onerror=alert(3)&gt;" in everything


def test_source_and_reading_are_escaped(rendered):
    everything = "\n".join(a for _, _, a in rendered["cards"]).replace("&#x27;", "'").replace("&#39;", "'")
    assert "&lt;script&gt;alert('source')&lt;/script&gt;" in everything
    assert "&lt;script&gt;alert('title')&lt;/script&gt;" in everything  # the deck's reading title
    assert "&lt;img src=x onerror=alert('author')&gt;" in everything
    assert "&lt;img src=x onerror=alert('ref')&gt;" in everything


def test_markdown_link_text_and_title_are_escaped(rendered):
    everything = "\n".join(q + "\n" + a for _, q, a in rendered["cards"])
    assert '<a href="https://example.com"' in everything
    assert "&lt;script&gt;alert(1)&lt;/script&gt; text</a>" in everything


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("[x](javascript:alert(1))", "link target 'javascript:alert(1)' is not allowed; links must start with http://, https:// or mailto:"),
        ("[x](JaVaScRiPt:alert(1))", "link target 'JaVaScRiPt:alert(1)' is not allowed; links must start with http://, https:// or mailto:"),
        ("[x](data:text/html,<script>alert(1)</script>)", None),
        ("![x](data:image/png;base64,iVBORw0KGgo=)", "image 'data:image/png;base64,iVBORw0KGgo=' must be a file name in the deck's media/ folder, without a path"),
        ("![x](javascript:alert(1))", "image 'javascript:alert(1)' must be a file name in the deck's media/ folder, without a path"),
        ("<javascript:alert(1)>", "link target 'javascript:alert(1)' is not allowed; links must start with http://, https:// or mailto:"),
        ("[x][r]\n\n[r]: javascript:alert(1)", "link target 'javascript:alert(1)' is not allowed; links must start with http://, https:// or mailto:"),
    ],
)
def test_active_links_fail_the_build_with_a_located_error(tmp_path, field, expected):
    cards = "cards:\n  - id: a\n    type: basic\n    front: Q?\n    back: " + __import__("json").dumps(field) + "\n"
    write_project(tmp_path, deck="key: h\nname: H\n", cards=cards)
    result = run(tmp_path, "build")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("cards_src/h/cards.yaml:5:") for line in lines), lines
    if expected is not None:
        assert lines == [f"cards_src/h/cards.yaml:5:11: {expected}"]
    assert not (tmp_path / "decks" / "h.apkg").exists()
