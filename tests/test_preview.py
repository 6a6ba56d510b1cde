"""The preview page: every card, front and back, as Anki's own engine renders it."""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from conftest import run, write

from acudeck.contents import read_apkg


class CardCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cards, self.options, self._side, self._text = [], [], None, ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and "data-card" in attrs:
            self.cards.append({"data": json.loads(attrs["data-card"]), "front": "", "back": ""})
        classes = (attrs.get("class") or "").split()
        if tag == "div" and ("preview-front" in classes or "preview-back" in classes):
            self._side = "front" if "preview-front" in classes else "back"
        if tag == "option":
            self.options.append(attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "section":
            self._side = None

    def handle_data(self, data):
        if self._side and self.cards:
            self.cards[-1][self._side] += data


def test_preview_shows_every_card_with_both_sides(project):
    result = run(project, "preview")
    assert result.exit_code == 0, result.stderr
    assert result.output == "decks/preview/sample.html: 5 cards\n"
    page = (project / "decks/preview/sample.html").read_text()
    parser = CardCollector()
    parser.feed(page)
    assert len(parser.cards) == read_apkg(project / "decks/sample.apkg")["cards"] == 5
    assert all(card["front"].strip() and card["back"].strip() for card in parser.cards)
    assert {card["data"]["type"] for card in parser.cards} == {"Basic", "Point", "Cloze"}
    assert "test::basic" in parser.options and "Point" in parser.options
    assert 'id="night"' in page and "[...]" in page  # Anki rendered the cloze question
    assert "Which muscle?" in page and "Which point?" in page


def test_preview_into_a_folder_of_ones_choice(project, tmp_path):
    out = tmp_path / "pages"
    result = run(project, "preview", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert (out / "sample.html").is_file()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (Debian package chromium)")
def test_preview_page_renders_in_a_headless_browser(project, tmp_path):
    assert run(project, "preview").exit_code == 0
    page = project / "decks/preview/sample.html"
    shot = tmp_path / "shot.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    dom = subprocess.run([CHROMIUM, *flags, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=60).stdout
    assert dom.count('class="preview-card"') == 5
    subprocess.run([CHROMIUM, *flags, f"--user-data-dir={tmp_path / 'profile2'}", f"--screenshot={shot}", "--window-size=1000,800", page.as_uri()], capture_output=True, timeout=60)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(set(data[100:20000])) > 50  # a blank page compresses to a handful of distinct bytes


def test_each_previewed_card_shows_its_id_and_where_it_is_written(project):
    write(
        project / "cards_src/sample/more.yaml", "cards:\n  - id: q-compare\n    type: compare\n    aspect: Target\n    items: {Dry needling: Trigger points, IMS: Motor points}\n"
    )
    write(project / "courses/week.yaml", "key: week\nname: Week\nselect:\n  - deck: sample\n    types: [compare, point]\n")
    result = run(project, "preview")
    assert result.exit_code == 0, result.stderr
    for page, expected in (("sample", 9), ("week", 6)):
        text = (project / f"decks/preview/{page}.html").read_text()
        origins = re.findall(r'<span class="preview-origin">([^<]*)</span>', text)
        assert len(origins) == text.count('class="preview-card"') == expected
        assert "q-compare · cards_src/sample/more.yaml:2" in origins and "q-point · cards_src/sample/cards.yaml:9" in origins
        assert ("q-basic · cards_src/sample/cards.yaml:2" in origins) == (page == "sample")
