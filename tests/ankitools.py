"""Small helpers for tests that drive a real Anki collection (PyPI `anki`, headless)."""

from __future__ import annotations

import contextlib
import html
import re
from pathlib import Path

from anki.collection import Collection, ImportAnkiPackageRequest


@contextlib.contextmanager
def fresh_collection(tmp_path: Path, name: str = "collection.anki2"):
    """A new, empty collection under `tmp_path`, closed on the way out."""
    folder = Path(tmp_path) / "anki"
    folder.mkdir(parents=True, exist_ok=True)
    col = Collection(str(folder / name))
    try:
        yield col
    finally:
        col.close()


def import_apkg(col: Collection, path: Path):
    """Import a package with Anki's default options (those the GUI offers); return the import log."""
    options = col._backend.get_import_anki_package_presets()
    response = col.import_anki_package(ImportAnkiPackageRequest(package_path=str(Path(path).resolve()), options=options))
    col.models._clear_cache()  # the importer does not invalidate the notetype cache
    return response.log


def log_counts(log) -> dict[str, int]:
    return {part: len(getattr(log, part)) for part in ("new", "updated", "duplicate", "conflicting", "first_field_match", "missing_notetype", "missing_deck", "empty_first_field")}


def logged_ids(entries) -> list[int]:
    """The note ids of one part of an import log (log.updated, log.new, ...)."""
    return [entry.id.nid for entry in entries]


def study(col: Collection, deck_name: str, n: int, ease: int = 3) -> list[int]:
    """Answer `n` cards of the deck through the scheduler; return the ids of the cards answered."""
    did = col.decks.id_for_name(deck_name)
    assert did, f"no deck named {deck_name!r}"
    col.decks.select(did)
    answered = []
    for _ in range(n):
        card = col.sched.getCard()
        if card is None:
            break
        col.sched.answerCard(card, ease)
        answered.append(card.id)
    return answered


def note_by_guid(col: Collection, guid: str):
    nid = col.db.scalar("SELECT id FROM notes WHERE guid = ?", guid)
    return col.get_note(nid) if nid else None


def all_notes(col: Collection) -> list:
    return [col.get_note(nid) for nid in col.find_notes("")]


def render_all(col: Collection) -> list[tuple[str, str]]:
    """Every card's rendered (question, answer) HTML."""
    return [render(col, cid) for cid in col.find_cards("")]


def render(col: Collection, cid: int) -> tuple[str, str]:
    card = col.get_card(cid)
    return card.question(), card.answer()


_STYLE = re.compile(r"<style\b.*?</style>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")


def visible_text(rendered: str) -> str:
    """What a student sees: no <style> block, no tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", _STYLE.sub("", rendered))).split())


def card_state(col: Collection) -> dict[int, tuple]:
    """Per card id: (note id, ord, type, queue, ivl, due, reps, lapses, factor, revlog rows)."""
    state = {}
    for cid, nid, ord_, ctype, queue, ivl, due, reps, lapses, factor in col.db.all("SELECT id, nid, ord, type, queue, ivl, due, reps, lapses, factor FROM cards"):
        revlog = tuple(col.db.all("SELECT id, ease, ivl, lastIvl, factor, time, type FROM revlog WHERE cid = ? ORDER BY id", cid))
        state[cid] = (nid, ord_, ctype, queue, ivl, due, reps, lapses, factor, revlog)
    return state


def note_state(col: Collection) -> dict[str, tuple]:
    """Per GUID: (note id, mod, fields, tags)."""
    return {guid: (nid, mod, flds.split("\x1f"), tags.split()) for nid, guid, mod, flds, tags in col.db.all("SELECT id, guid, mod, flds, tags FROM notes")}
