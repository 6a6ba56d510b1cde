"""Picture cards end to end: built, cached, packed, checked, and shown to a student by Anki and a browser."""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from ankitools import fresh_collection, import_apkg
from conftest import DECK_YAML, git, run, write
from test_picture import CHROMIUM, decode_png, marker_pixels

from acudeck.contents import read_apkg

SVG = """\
<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200" viewBox="0 0 300 200">
  <rect x="10" y="10" width="280" height="180" fill="#8899aa"/>
  <circle cx="150" cy="100" r="40" fill="{fill}"/>
</svg>
"""
CARDS = """\
cards:
  - id: body
    type: picture
    image: body.svg
    width: 300
    height: 200
    prompt: The body.
    spots:
      - label: A
        at: [60, 50]
      - label: B
        circle: [200, 120, 30]
      - label: C
        rect: [20, 150, 40, 30]
{ask}"""


def picture_project(root: Path, ask: str = "", fill: str = "#445566", cards: str = CARDS) -> Path:
    write(root / "cards_src/pics/deck.yaml", DECK_YAML.format(key="pics"))
    write(root / "cards_src/pics/cards.yaml", cards.format(ask=ask))
    write(root / "cards_src/pics/media/body.svg", SVG.format(fill=fill))
    return root


def built(root: Path, *args: str) -> dict:
    result = run(root, "build", *args)
    assert result.exit_code == 0, result.stderr
    return read_apkg(root / "decks/pics.apkg")


def images(field: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)">', field)


def test_each_asked_spot_is_a_note_whose_sides_are_packed_and_the_source_is_not(tmp_path):
    package = built(picture_project(tmp_path, ask="    ask: [A, b]\n"))
    notes = sorted(package["notes"].values(), key=lambda note: note["fields"][1])
    assert [note["fields"][1] for note in notes] == ["A", "B"]  # C is not asked
    assert package["cards"] == 4
    media = set(package["media"])
    assert "body.svg" not in media
    assert all(re.fullmatch(r"acudeck-[0-9a-f]{16}\.svg", name) for name in media)
    marked = {images(note["fields"][2])[0] for note in notes}
    unmarked = {images(note["fields"][3])[0] for note in notes}
    assert len(marked) == 2 and len(unmarked) == 1 and media == marked | unmarked
    with zipfile.ZipFile(tmp_path / "decks/pics.apkg") as zf:
        names = json.loads(zf.read("media"))
        for index, name in names.items():
            entry = zf.getinfo(index)
            assert entry.date_time == (1980, 1, 1, 0, 0, 0)  # the fixed entries of every media file
            side = zf.read(index)
            assert side.startswith(b"<svg") and b"<script" not in side
            assert (b'stroke="#ffd400"' in side) == (name in marked)


def test_a_markdown_image_of_the_source_packs_it(tmp_path):
    cards = CARDS.replace("prompt: The body.", "prompt: 'The body: ![whole](body.svg)'")
    package = built(picture_project(tmp_path, cards=cards))
    assert "body.svg" in package["media"]


def test_editing_only_the_image_changes_the_notes_after_a_cached_rebuild(tmp_path):
    root = picture_project(tmp_path / "cached")
    first = built(root)
    (root / "cards_src/pics/media/body.svg").write_text(SVG.format(fill="#aa3322"), encoding="utf-8")
    cached = built(root)
    clean = built(picture_project(tmp_path / "clean", fill="#aa3322"), "--no-cache")
    assert cached["media"] == clean["media"] and cached["media"] != first["media"]
    fields = {guid: note["fields"] for guid, note in cached["notes"].items()}
    assert fields == {guid: note["fields"] for guid, note in clean["notes"].items()}
    assert all(fields[guid] != note["fields"] for guid, note in first["notes"].items())


def test_check_finds_a_package_whose_generated_media_differ(tmp_path):
    root = picture_project(tmp_path)
    built(root)
    apkg = root / "decks/pics.apkg"
    with zipfile.ZipFile(apkg) as zf:
        entries = {info.filename: zf.read(info) for info in zf.infolist()}
    entries["0"] = entries["0"].replace(b"#445566", b"#000000")
    with zipfile.ZipFile(apkg, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    result = run(root, "check")
    assert result.exit_code == 1
    assert "media differ" in result.stderr


def test_an_image_swapped_for_a_link_is_refused(tmp_path):
    root = picture_project(tmp_path)
    outside = tmp_path / "outside.svg"
    outside.write_text(SVG.format(fill="#000000"), encoding="utf-8")
    media = root / "cards_src/pics/media/body.svg"
    media.unlink()
    media.symlink_to(outside)
    result = run(root, "build")
    assert result.exit_code == 1
    assert "cards_src/pics/media/body.svg:1:1: symbolic link" in result.stderr
    assert not (root / "decks/pics.apkg").exists()


def test_the_preview_page_shows_the_generated_images(tmp_path):
    root = picture_project(tmp_path)
    built(root)
    result = run(root, "preview")
    assert result.exit_code == 0, result.stderr
    page = (root / "decks/preview/pics.html").read_text("utf-8")
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert sources and all(src.startswith("data:image/svg+xml;base64,") for src in sources)
    assert "acudeck-" not in page  # no name left that the page would have to find beside it


def test_export_shows_each_spots_marked_side_and_writes_it_beside_the_sheet(tmp_path):
    root = picture_project(tmp_path / "project")
    package = built(root)
    marked = {note["fields"][1]: images(note["fields"][2])[0] for note in package["notes"].values()}
    result = run(root, "export", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert '<img src=""acudeck-' in result.output  # the notes' fields as the package holds them
    sheet_file = tmp_path / "sheets" / "pics.md"
    sheet_file.parent.mkdir()
    result = run(root, "export", "--format", "markdown", "-o", str(sheet_file))
    assert result.exit_code == 0, result.stderr
    sheet = sheet_file.read_text(encoding="utf-8")
    for label, name in marked.items():
        assert f"- **{label}**: ![{label}, marked]({name})" in sheet
        assert (sheet_file.parent / name).read_bytes() == package_media(root)[name]
    assert sorted(p.name for p in sheet_file.parent.iterdir()) == sorted(["pics.md", *marked.values()])


def package_media(root: Path) -> dict[str, bytes]:
    import json
    import zipfile

    with zipfile.ZipFile(root / "decks/pics.apkg") as zf:
        return {name: zf.read(index) for index, name in json.loads(zf.read("media")).items()}


# --- as a student sees it -------------------------------------------------------------------------

IMAGE_AT = (40, 40)  # where the page puts the card's picture


def screenshot(tmp_path: Path, name: str, fragment: str, media: Path, night: bool) -> list[bytes]:
    """The card's HTML, with the collection's media beside it, in headless Chromium; its pixel rows."""
    folder = tmp_path / name
    shutil.copytree(media, folder)
    body = "card nightMode" if night else "card"
    place = f".picture img {{ position: fixed !important; left: {IMAGE_AT[0]}px; top: {IMAGE_AT[1]}px; max-width: none !important; }}"
    (folder / "page.html").write_text(f'<!doctype html><html><head><style>{place}</style></head><body class="{body}" style="margin:0">{fragment}</body></html>', encoding="utf-8")
    shot = folder / "shot.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    flags += ["--hide-scrollbars", "--force-device-scale-factor=1", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=400,300"]
    subprocess.run([CHROMIUM, *flags, (folder / "page.html").as_uri()], capture_output=True, timeout=90)
    width, height, rows = decode_png(shot.read_bytes())
    assert (width, height) == (400, 300)
    return rows


@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (Debian package chromium)")
def test_anki_renders_the_marker_where_the_spot_is_and_nowhere_else_in_light_and_night_mode(tmp_path):
    root = picture_project(tmp_path / "project")
    built(root)
    with fresh_collection(tmp_path) as col:
        import_apkg(col, root / "decks/pics.apkg")
        checked = col.media.check()
        assert (list(checked.missing), list(checked.unused)) == ([], [])
        media = Path(col.media.dir())
        cards = {}
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            cards[(card.note()["Label"], card.ord)] = (card.question(), card.answer())
        assert len(cards) == 6
        for night in (False, True):
            for label, centre, radius in (("A", (60, 50), None), ("B", (200, 120), 30)):
                question, answer = cards[(label, 0)]
                where_question, where_answer = cards[(label, 1)]
                for shown, name in ((question, "marked-q"), (answer, "marked-a"), (where_answer, "where-a")):
                    rows = screenshot(tmp_path, f"{label}-{name}-{night}", shown, media, night)
                    everywhere = marker_pixels(rows, 0, 0, 400, 300)
                    assert len(everywhere) > 20, (label, name, night)
                    for x, y in everywhere:
                        distance = math.hypot(x - IMAGE_AT[0] - centre[0], y - IMAGE_AT[1] - centre[1])
                        assert (distance < 13) if radius is None else (abs(distance - radius) < 4), (label, name, night, x, y)
                rows = screenshot(tmp_path, f"{label}-where-q-{night}", where_question, media, night)
                assert marker_pixels(rows, 0, 0, 400, 300) == []  # the unmarked front gives nothing away
                background = tuple(rows[5][15:18])  # the page beside the picture
                picture = tuple(rows[IMAGE_AT[1] + 3][3 * (IMAGE_AT[0] + 3) : 3 * (IMAGE_AT[0] + 3) + 3])
                assert picture == (255, 255, 255)  # the side's own white, in night mode too
                assert (background != (255, 255, 255)) == night


def test_the_diff_page_shows_the_images_before_and_after_an_image_edit(tmp_path):
    root = picture_project(tmp_path / "project")
    built(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    (root / "cards_src/pics/media/body.svg").write_text(SVG.format(fill="#aa3322"), encoding="utf-8")
    out = tmp_path / "changes.html"
    result = run(root, "diff", "main", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "3 changed" in result.stdout  # every note shows the edited image
    page = out.read_text("utf-8")
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) >= 6 and all(src.startswith("data:image/svg+xml;base64,") for src in sources)
    decoded = {base64.b64decode(src.split(",", 1)[1]) for src in sources}
    assert any(b"#445566" in side for side in decoded) and any(b"#aa3322" in side for side in decoded)  # before and after


def test_a_course_that_selects_a_picture_card_packs_its_sides(tmp_path):
    root = picture_project(tmp_path)
    write(root / "courses/week.yaml", "key: week\nname: Week\nselect:\n  - deck: pics\n    ids: [body]\n")
    deck = built(root)
    course = read_apkg(root / "decks/week.apkg")
    assert course["media"] == deck["media"] and len(course["media"]) == 4
    assert {guid: note["fields"] for guid, note in course["notes"].items()} == {guid: note["fields"] for guid, note in deck["notes"].items()}


def test_a_card_whose_sides_would_pass_the_limit_is_refused_before_drawing(tmp_path, monkeypatch):
    from acudeck.cardtypes import picture

    root = picture_project(tmp_path)
    size = (root / "cards_src/pics/media/body.svg").stat().st_size
    monkeypatch.setattr(picture, "MAX_CARD_MEDIA", 4 * size - 1)  # 4 sides: unmarked, A, B, C
    result = run(root, "build", "--no-cache")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"cards_src/pics/cards.yaml:4:12: the 4 sides of this card would each hold the {size:,}-byte image, over the limit")
    monkeypatch.setattr(picture, "MAX_CARD_MEDIA", 4 * size)
    assert run(root, "build", "--no-cache").exit_code == 0


def test_a_deck_whose_drawn_images_pass_the_limit_is_refused(tmp_path, monkeypatch):
    from acudeck import source

    root = picture_project(tmp_path)
    monkeypatch.setattr(source, "MAX_GENERATED_MEDIA", 1000)
    result = run(root, "build", "--no-cache")
    assert result.exit_code == 1
    assert result.stderr.startswith("cards_src/pics/cards.yaml:1:1: the images drawn for this deck's cards pass 0 MiB here")
    assert not (root / "decks/pics.apkg").exists()


def test_a_reference_without_a_quote_is_named_on_the_back(tmp_path):
    cards = CARDS.replace("{ask}", "    reference: WHO Standard <Locations> (2008)\n")
    package = built(picture_project(tmp_path, cards=cards))
    assert {note["fields"][5] for note in package["notes"].values()} == {"<cite>WHO Standard &lt;Locations&gt; (2008)</cite>"}
