"""A static HTML page showing every card of a package, front and back, as Anki renders it.

The cards are rendered by Anki's own engine (the `anki` package): the package is imported into a
throwaway collection and each card's question and answer are asked of it, so what the page shows
is what a student's Anki shows.
"""

from __future__ import annotations

import base64
import html
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BuildError

if TYPE_CHECKING:
    from .source import DeckSource

_STYLE = re.compile(r"<style>.*?</style>", re.S)
_IMG_SRC = re.compile(r'(<img\b[^>]*?\ssrc=")([^"/\\]+)(")', re.I)
_IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}
# The rendered HTML a page holds: some 50 MB, which a browser still opens. A deck can render to far
# more than its sources: a cloze text of 10,000 characters with 100 deletions is 100 cards of it.
MAX_PAGE_CHARS = 50_000_000


@dataclass
class RenderedCard:
    guid: str
    note_type: str  # the card type's preview label, or the note type's name when no card type has it
    template: str
    tags: list[str]
    question: str
    answer: str
    origin: str = ""  # "card-id · file:line", where the card is written, when the page knows it


def render_package(apkg: Path, guids: set[str] | None = None, max_chars: int | None = None) -> tuple[list[RenderedCard], int]:
    """The cards of `apkg` (of the notes in `guids` only, when given) as Anki renders them, until
    their HTML passes `max_chars` (MAX_PAGE_CHARS by default); and how many cards that left out."""
    max_chars = MAX_PAGE_CHARS if max_chars is None else max_chars
    try:
        from anki.collection import Collection, ImportAnkiPackageRequest
    except ImportError:
        raise BuildError("preview needs Anki's engine: pip install 'acudeck[anki]'") from None
    with tempfile.TemporaryDirectory(prefix="acudeck-preview-") as work:
        col = Collection(str(Path(work) / "collection.anki2"))
        try:
            options = col._backend.get_import_anki_package_presets()
            col.import_anki_package(ImportAnkiPackageRequest(package_path=str(apkg.resolve()), options=options))
            cards, size, left_out = [], 0, 0
            media = Path(col.media.dir())
            for cid in sorted(col.find_cards(""), key=lambda c: (col.get_card(c).nid, col.get_card(c).ord)):
                card = col.get_card(cid)
                note = card.note()
                if guids is not None and note.guid not in guids:
                    continue
                if size > max_chars:
                    left_out += 1
                    continue
                rendered = RenderedCard(
                    guid=note.guid,
                    note_type=_label(note.mid, note.note_type()),
                    template=str(card.template()["name"]),
                    tags=list(note.tags),
                    question=inline_media(_STYLE.sub("", card.question()), media),
                    answer=inline_media(_STYLE.sub("", card.answer()), media),
                )
                size += len(rendered.question) + len(rendered.answer)
                cards.append(rendered)
            return cards, left_out
        finally:
            col.close()


def inline_media(fragment: str, media: Path) -> str:
    """The images of the package as data: URIs, so that the page shows them on its own. Only files
    the import put into the throwaway collection's media folder, by plain name; anything else stays."""

    def inline(match: re.Match) -> str:
        name = html.unescape(match.group(2))
        mime = _IMAGE_TYPES.get(Path(name).suffix.lower())
        path = media / name
        if mime is None or path.parent != media or not path.is_file() or path.is_symlink():
            return match.group(0)
        return f"{match.group(1)}data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}{match.group(3)}"

    return _IMG_SRC.sub(inline, fragment)


def _label(model_id: int, note_type: dict | None) -> str:
    from .cardtypes import REGISTRY

    labels = {kind.NOTE_TYPE.model_id: kind.LABEL for kind in REGISTRY.values()}
    return labels.get(model_id) or str((note_type or {}).get("name", "?"))


def preview_page(title: str, css: str, cards: list[RenderedCard], left_out: int = 0) -> str:
    note_types = sorted({card.note_type for card in cards})
    tags = sorted({tag for card in cards for tag in card.tags})
    items = "\n".join(_card_html(index, card) for index, card in enumerate(cards, 1))
    options = lambda values: "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in values)  # noqa: E731
    return _PAGE.format(
        title=html.escape(title),
        css=css,
        count=len(cards),
        type_options=options(note_types),
        tag_options=options(tags),
        items=items + (f'\n<p class="preview-left-out">{left_out} more cards are not shown: {left_out_reason()}.</p>' if left_out else ""),
    )


def left_out_reason() -> str:
    return f"the page would pass {MAX_PAGE_CHARS // 1_000_000} MB"


def _card_html(index: int, card: RenderedCard) -> str:
    data = html.escape(json.dumps({"type": card.note_type, "tags": card.tags}))
    label = html.escape(f"#{index} · {card.note_type} · {card.template}")
    origin = f'<span class="preview-origin">{html.escape(card.origin)}</span>' if card.origin else ""
    tags = "".join(f'<span class="preview-tag">{html.escape(tag)}</span>' for tag in card.tags)
    return (
        f'<section class="preview-card" data-card="{data}">'
        f'<header><span class="preview-label">{label}</span>{origin}<span class="preview-tags">{tags}</span></header>'
        f'<div class="preview-sides"><div class="card preview-front">{card.question}</div>'
        f'<div class="card preview-back">{card.answer}</div></div></section>'
    )


def write_preview(apkg: Path, title: str, out: Path, origins: dict[str, str] | None = None) -> tuple[int, int]:
    """Write the page for `apkg` to `out` (whose folder exists); return how many cards it shows, and
    how many it leaves out. `origins` maps a note's guid to where its card is written (card_origins)."""
    from .notetypes import CSS
    from .output import write_atomically

    cards, left_out = render_package(apkg)
    for card in cards:
        card.origin = (origins or {}).get(card.guid, "")
    write_atomically(out, preview_page(title, CSS, cards, left_out))
    return len(cards), left_out


def card_origins(decks: list[DeckSource]) -> dict[str, str]:
    """Each note's guid -> "card-id · file:line" of the card it was made of. A note's key is its
    card's id, or the id, '/' and a part of the card (compare's item): ids never hold a '/'."""
    cards = {(deck.key, card.id): card for deck in decks for card in deck.cards}
    found = {}
    for deck in decks:
        for note in deck.notes:
            card = cards.get((deck.key, note.key.split("/", 1)[0]))
            if card is not None:
                where = card.location
                found[note.guid] = f"{card.id} · {where.path}:{where.line}"
    return found


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - card preview</title>
<style>
{css}
body {{ margin: 0; font-family: sans-serif; background: #f2f2f7; overflow-wrap: break-word; }}
body.nightMode {{ background: #000; color: #e5e5ea; }}
.preview-bar {{ position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: 0.4em 1em; align-items: center;
  padding: 0.6em 1em; background: #fff; border-bottom: 1px solid #c7c7cc; }}
.preview-bar label {{ display: flex; align-items: center; gap: 0.3em; min-width: 0; max-width: 100%; }}
.preview-bar select {{ min-width: 0; max-width: 100%; flex: 1 1 auto; }}
body.nightMode .preview-bar {{ background: #1c1c1e; border-color: #48484a; }}
main {{ padding: 0.5em; }}
.preview-card {{ margin: 0.5em 0; border: 1px solid #c7c7cc; border-radius: 8px; overflow: hidden; background: #fff; min-width: 0; }}
body.nightMode .preview-card {{ border-color: #48484a; background: #1c1c1e; }}
.preview-card header {{ display: flex; flex-wrap: wrap; gap: 0.2em 1em; font-size: 12px; padding: 0.3em 0.8em; color: #6e6e73; border-bottom: 1px solid #e5e5ea; }}
body.nightMode .preview-card header {{ color: #a1a1a6; border-color: #48484a; }}
.preview-origin {{ font-family: monospace; }}
.preview-tags {{ display: flex; flex-wrap: wrap; gap: 0 0.6em; margin-left: auto; min-width: 0; }}
.preview-tag {{ min-width: 0; }}
.preview-sides {{ display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }}
.preview-sides > .card {{ max-width: none; min-width: 0; margin: 0; border-right: 1px solid #e5e5ea; }}
body.nightMode .preview-sides > .card {{ border-color: #48484a; }}
@media (max-width: 700px) {{ .preview-sides {{ grid-template-columns: minmax(0, 1fr); }} .preview-sides > .card {{ border-right: 0; border-bottom: 1px solid #e5e5ea; }} }}
.preview-card[hidden] {{ display: none; }}
</style></head>
<body class="card-preview">
<div class="preview-bar">
  <strong>{title}</strong>
  <label>Type <select id="filter-type"><option value="">all</option>{type_options}</select></label>
  <label>Tag <select id="filter-tag"><option value="">all</option>{tag_options}</select></label>
  <label><input type="checkbox" id="night"> Night mode</label>
  <span><span id="shown">{count}</span> of <span id="total">{count}</span> cards</span>
</div>
<main id="cards">
{items}
</main>
<script>
(function () {{
  var cards = Array.prototype.slice.call(document.querySelectorAll(".preview-card"));
  function apply() {{
    var type = document.getElementById("filter-type").value;
    var tag = document.getElementById("filter-tag").value;
    var shown = 0;
    cards.forEach(function (el) {{
      var d = JSON.parse(el.getAttribute("data-card"));
      var ok = (!type || d.type === type) && (!tag || d.tags.some(function (t) {{ return t === tag || t.indexOf(tag + "::") === 0; }}));
      el.hidden = !ok;
      if (ok) shown++;
    }});
    document.getElementById("shown").textContent = shown;
  }}
  document.getElementById("filter-type").addEventListener("change", apply);
  document.getElementById("filter-tag").addEventListener("change", apply);
  document.getElementById("night").addEventListener("change", function (e) {{
    document.body.classList.toggle("nightMode", e.target.checked);
    document.body.classList.toggle("night_mode", e.target.checked);
  }});
}})();
</script>
</body></html>
"""
