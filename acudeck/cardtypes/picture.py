"""picture: an image of the deck's media/ with labelled spots; per spot, cards both ways.

"What is marked here?" shows the image with the spot marked; "Where is <label>?" shows it unmarked,
then marked on the back. The sides are SVGs made at build time (acudeck/picture.py) from the checked
source image, and go into the package under names of their content; the source image itself is not
packed. The note context carries the digest of every media/ file, so a card file's cached notes
follow the image they were drawn from.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .. import mathjax
from .. import picture as drawing
from ..errors import BuildError, Location, Problem
from ..notetypes import NoteField, NoteTypeSpec
from ..safefs import FileTooLarge, read_limited, read_problem
from ..svgsafe import MAX_BYTES, MAX_SIDE, check_image, image_kind
from ..text import comparable, plain
from . import common
from .protocol import Field

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..card import CardSource
    from ..notes import NoteContext, NoteSource

NAME = "picture"
SUMMARY = "An image with labelled spots; per spot, 'What is marked here?' and 'Where is <label>?'."
LABEL = "Picture"
MAX_SPOTS = 60
MAX_POLYGON_POINTS = 200
MAX_SPOT_EXTRA = 500
MAX_CARD_MEDIA = 32 << 20  # the sides of one card, in bytes: each side holds the whole image

_NUMBER = {"type": "number"}
_SHAPES = {
    "at": {"type": "array", "items": _NUMBER, "maxItems": 2, "description": "A point: [x, y], marked by a ring."},
    "circle": {"type": "array", "items": _NUMBER, "maxItems": 3, "description": "A circle: [cx, cy, r]."},
    "rect": {"type": "array", "items": _NUMBER, "maxItems": 4, "description": "A rectangle: [x, y, width, height]."},
    "polygon": {"type": "array", "items": {"type": "array", "items": _NUMBER, "maxItems": 2}, "maxItems": MAX_POLYGON_POINTS, "description": "A region: [[x, y], ...]."},
}
_SPOT = {
    "type": "object",
    "required": ["label"],
    "properties": {
        "label": {"type": "string", "minLength": 1, "maxLength": 100, "description": "What the spot is; shown as written."},
        "extra": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_SPOT_EXTRA,
            "description": "Shown as written on the back of this spot's cards only, after the card's extra: what is true of this spot and of no other.",
        },
        **_SHAPES,
    },
    "additionalProperties": False,
    "maxProperties": 6,
    "description": "A labelled place, in the image's pixels (x to the right, y down from the top left), with one shape: at, circle, rect or polygon, and an optional extra.",
}
# The image the schema's example card shows: `init` writes it beside the sample cards.
SIBLINGS = "note"
EXAMPLE_MEDIA = {
    "example-target.svg": (
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="120" viewBox="0 0 200 120">'
        '<rect width="200" height="120" fill="#f4f1ea"/>'
        '<circle cx="60" cy="60" r="30" fill="none" stroke="#555" stroke-width="4"/>'
        '<circle cx="140" cy="60" r="30" fill="none" stroke="#555" stroke-width="4"/></svg>\n'
    )
}
FIELDS = (
    Field(
        "image",
        {"type": "string", "minLength": 1, "maxLength": 200, "description": "A file of the deck's media/ folder: an SVG or a PNG.", "examples": ["example-target.svg"]},
        kind="data",
    ),
    Field("width", {"type": "number", "description": "The image's own width in pixels.", "examples": [200]}, kind="data"),
    Field("height", {"type": "number", "description": "The image's own height in pixels.", "examples": [120]}, kind="data"),
    Field(
        "spots",
        {"type": "array", "minItems": 1, "maxItems": MAX_SPOTS, "items": _SPOT, "examples": [[{"label": "Left ring", "at": [60, 60]}, {"label": "Right ring", "at": [140, 60]}]]},
        kind="data",
    ),
    Field("prompt", common.text_field("Shown above the image on every card (Markdown).", "Two rings."), required=False),
    Field(
        "ask",
        {
            "type": "array",
            "maxItems": MAX_SPOTS,
            "minItems": 1,
            "items": {"type": "string", "maxLength": 100},
            "description": "The labels of the spots to make cards for; all of them when left out.",
            "examples": [["Left ring", "Right ring"]],
        },
        kind="data",
        required=False,
    ),
)
_PROMPT = '{{#Prompt}}<div class="prompt">{{Prompt}}</div>{{/Prompt}}'
_MARKED_ASK = '<div class="ask">What is marked here?</div>'
_WHERE_ASK = '<div class="ask">Where is {{Label}}?</div>'
NOTE_TYPE = NoteTypeSpec(
    model_id=1795201106,
    version=1,
    name="acudeck Picture",
    fields=(
        NoteField("Prompt", 7_481_403_337_573_129_024),
        NoteField("Label", 6_899_464_091_511_597_592),
        NoteField("Marked", 8_756_839_148_001_250_616),
        NoteField("Unmarked", 8_339_111_806_619_440_556),
        NoteField("Extra", 7_756_492_549_563_587_611),
        NoteField("Source", 5_262_456_597_840_360_416),
    ),
    templates=(
        common.template(
            "What is marked here?", _PROMPT + _MARKED_ASK + '<div class="picture">{{Marked}}</div>', '<div class="answer">{{Label}}</div>', id=6_906_043_768_078_823_889
        ),
        {
            "name": "Where is {{Label}}?",
            "qfmt": _PROMPT + _WHERE_ASK + '<div class="picture">{{Unmarked}}</div>',
            "afmt": _PROMPT + _WHERE_ASK + '<hr id="answer"><div class="picture">{{Marked}}</div>' + common.BACK_FOOTER,
            "id": 8_633_274_383_376_627_368,
        },
    ),
)
_FRONTS = common.front_fields(NOTE_TYPE)


# --- what a card file says ----------------------------------------------------------------------


def spots(card: CardSource) -> list[drawing.Spot]:
    """The card's spots (checked: `check` has passed)."""
    data = card.fields["spots"]
    assert isinstance(data, list)
    return [drawing.spot_from_data(spot) for spot in data]


def asked(card: CardSource) -> list[drawing.Spot]:
    """The spots the card makes cards for, in the order the card lists them."""
    wanted = card.fields.get("ask")
    found = spots(card)
    if not isinstance(wanted, list):
        return found
    keys = {_key(label) for label in wanted}
    return [spot for spot in found if _key(spot.label) in keys]


def check_verbatim(value: str, where: Location, problems: list[Problem]) -> None:
    """A label is shown as written, escaped: MathJax still reads it (as cardfile.check_verbatim)."""
    problems.extend(Problem(where, message) for message in mathjax.text_problems(value))


def _key(label: str) -> str:
    return " ".join(label.split()).casefold()


def _size(card: CardSource) -> tuple[float, float]:
    width, height = card.fields["width"], card.fields["height"]
    assert isinstance(width, int | float) and isinstance(height, int | float)
    return float(width), float(height)


def check(card: CardSource, at: Callable[[tuple], Location]) -> list[Problem]:
    """The size; the spots: each in a known shape, inside the image, with a label of its own; `ask` names spots."""
    width, height = _size(card)
    if not all(0 < side <= MAX_SIDE for side in (width, height)):
        return [Problem(at(("width",)), f"width and height must be more than 0 and at most {MAX_SIDE} pixels")]
    problems: list[Problem] = []
    data = card.fields["spots"]
    assert isinstance(data, list)
    read: list[tuple[int, drawing.Spot]] = []
    for index, spot in enumerate(data):
        try:
            read.append((index, drawing.spot_from_data(spot)))
        except drawing.SpotError as exc:
            problems.append(Problem(at(("spots", index)), str(exc)))
            continue
        check_verbatim(read[-1][1].label, at(("spots", index, "label")), problems)
        if isinstance(spot.get("extra"), str):
            check_verbatim(spot["extra"], at(("spots", index, "extra")), problems)
    for index, message in drawing.check_spots(width, height, [spot for _, spot in read]):
        problems.append(Problem(at(("spots", read[index][0])), message))
    labels = {_key(str(spot.get("label", ""))) for spot in data}
    wanted = card.fields.get("ask")
    for index, label in enumerate(wanted if isinstance(wanted, list) else ()):
        check_verbatim(label, at(("ask", index)), problems)
        if _key(label) not in labels:
            problems.append(Problem(at(("ask", index)), f"ask names '{label}', which no spot of this card has"))
    return problems


# --- the sides ----------------------------------------------------------------------------------


def generate(card: CardSource, context: NoteContext) -> common.Generated:
    """The sides of the card's picture: the image unmarked, and marked at each asked spot."""
    name = str(card.fields["image"])
    problems, made = _sides(card, context)
    if problems:
        return common.Generated({}, (name,), problems)
    return common.Generated({drawing.media_name(data): data for data in made.values()}, (name,), [])


def _sides(card: CardSource, context: NoteContext) -> tuple[list[Problem], dict[drawing.Shape | None, bytes]]:
    """Problems with the image, or each side's bytes by the shape it marks (None: unmarked)."""
    name = str(card.fields["image"])
    where = card.field_locations.get("image", card.location)
    found = context.media_file(name)
    kind = image_kind(name)
    if found is None:
        return [Problem(where, f"image '{name}' is not in {context.media_dir}/")], {}
    if kind is None:
        return [Problem(where, f"image '{name}' is not an SVG or PNG file (its name must end in .svg or .png)")], {}
    width, height = _size(card)
    shapes = (None, *(spot.shape for spot in asked(card)))
    if found.size * len(shapes) > MAX_CARD_MEDIA:  # known before anything is drawn: a 1 MiB image with 60 spots is 60 MiB of sides
        limit = MAX_CARD_MEDIA >> 20
        message = f"the {len(shapes)} sides of this card would each hold the {found.size:,}-byte image, over the limit of {limit} MiB a card"
        return [Problem(where, message + ": ask fewer spots, or use a smaller image")], {}
    in_file, size, made = _drawn(found.path, found.display, found.digest, kind, width, height, shapes)
    problems = [Problem(Location(*at), message) for *at, message in in_file]
    if in_file:
        problems.append(Problem(where, f"image '{name}' cannot be used as it is ({found.display} has {len(in_file)} problem{'s' if len(in_file) > 1 else ''})"))
    if size:
        problems.append(Problem(card.field_locations.get("width", where), size))
    return problems, dict(zip(shapes, made, strict=True)) if made else {}


@functools.lru_cache(maxsize=2)
def _drawn(path: str, display: str, digest: str, kind: str, width: float, height: float, shapes: tuple) -> tuple[tuple, str | None, tuple[bytes, ...]]:
    """The problems of the image file ((path, line, col, message), ...), a size that is not the
    image's own, or the sides. Kept by the image's digest: a card file asks twice (notes, then media)."""
    try:
        data = read_limited(path, MAX_BYTES)
    except FileTooLarge:
        return ((display, 0, 0, f"image is larger than {MAX_BYTES:,} bytes (1 MiB), the limit for an image"),), None, ()
    except OSError as exc:
        found = read_problem(exc, Path(path), display, None)
        return ((found.location.path, found.location.line, found.location.col, found.message),), None, ()
    if hashlib.sha256(data).hexdigest() != digest:
        return ((display, 0, 0, "changed while it was being read; run the command again"),), None, ()
    checked = check_image(data, kind)
    if not checked.ok:
        return tuple((display, p.line, p.col, p.message) for p in checked.problems), None, ()
    if (checked.width, checked.height) != (width, height):
        own = f"{drawing._num(checked.width or 0)} x {drawing._num(checked.height or 0)}"
        return (), f"width and height must be the image's own size, {own}; this card says {drawing._num(width)} x {drawing._num(height)}", ()
    picture = drawing.prepare(data, kind, width, height)
    return (), None, tuple(picture.side(shape) for shape in shapes)


def _img(data: bytes) -> str:
    return f'<img src="{drawing.media_name(data)}">'


def notes(card: CardSource, context: NoteContext) -> list[NoteSource]:
    problems, made = _sides(card, context)
    if problems:  # checked with the card file; only an image changed since can get here
        raise BuildError(f"{problems[0]}")
    unmarked = _img(made[None])
    found = []
    extras = spot_extras(card)
    for spot in asked(card):
        own = (card.rendered("prompt"), plain(spot.label), _img(made[spot.shape]), unmarked)
        extra = card.extra + (f'<div class="spot-extra">{plain(extras[_key(spot.label)])}</div>' if _key(spot.label) in extras else "")
        found.append(common.note(NAME, NOTE_TYPE, card, context, f"{card.id}/{spot.label}", own, card_ords(own), extra))
    return found


def spot_extras(card: CardSource) -> dict[str, str]:
    """Each spot's own extra, by its label's key: a spot's facts stay off its siblings' backs."""
    data = card.fields["spots"]
    assert isinstance(data, list)
    return {_key(spot["label"]): spot["extra"] for spot in data if isinstance(spot.get("extra"), str)}


# --- the rest of the interface ------------------------------------------------------------------


def prompts(card: CardSource) -> list[tuple[str, str]]:
    """'Where is X?' asks by the label; 'What is marked here?' by the image and the spot."""
    prompt = comparable(card.rendered("prompt"))
    image = card.fields["image"]
    found = []
    for spot in asked(card):
        found += [(f"location of '{spot.label}'", f"{prompt}\x1fwhere is {comparable(plain(spot.label))}?"), (f"mark of '{spot.label}'", f"{prompt}\x1f{image}\x1f{spot.shape!r}")]
    return found


def duplicate_message(card: CardSource, what: str, other: CardSource, other_what: str) -> str:
    return common.same_question(card, what, other, other_what)


def _spot_text(spot: drawing.Spot) -> str:
    return f"{type(spot.shape).__name__.lower()} {', '.join(drawing._num(n) for n in drawing._numbers(spot.shape))}"


def study_sheet(card: CardSource, notes: list[NoteSource]) -> list[str]:
    """A heading line, then each asked spot with its marked side: `export -o FILE` writes the sides
    beside the sheet (their names are the ones the package holds)."""
    prompt = card.text("prompt") if card.fields.get("prompt") else f"media/{card.fields['image']}"
    lines = [f"{prompt}", ""]
    extras = spot_extras(card)
    for spot, note in zip(asked(card), notes, strict=True):
        label, marked = note.fields[1], _IMAGE_NAME.search(note.fields[2])
        extra = f" {common.plain_markdown(extras[_key(spot.label)])}" if _key(spot.label) in extras else ""
        lines += [f"- **{label}**: ![{label}, marked]({marked.group(1) if marked else ''}){extra}"]
    return [*lines, ""]


_IMAGE_NAME = re.compile(r'<img src="([^"]+)"')


def media(card: CardSource) -> list[str]:
    return []  # the source image is drawn from, not packed: `generate` names it


def card_ords(fields: tuple[str, ...]) -> tuple[int, ...]:
    return common.cards_with_a_front(_FRONTS, fields)
