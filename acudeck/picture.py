"""Picture sides: an image with one spot (a point or a region) marked, as one self-contained SVG.

Pure functions over bytes: the caller reads the source image and stores what comes back. A side is
an SVG holding a white background (so the picture reads in night mode), the source image (an SVG's
checked tree written out again inside a nested <svg>, a PNG as a data: URI) and the marker drawn on
top: a ring around a point, the outline of a region with a light fill, each stroke twice, dark under
light, so it shows on any colour. The bytes depend only on the inputs, with numbers written with at
most two decimals, so the same card always makes the same file and the same media name.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .svgsafe import MAX_SIDE, SVG_NS, XLINK_NS, Element, check_image, parse_view_box

MARK_COLOUR = "#ffd400"  # the light stroke: a vivid yellow that the diagrams avoid
MARK_EDGE = "#111111"  # the dark stroke under it
MARK_FILL_OPACITY = "0.3"
BACKGROUND = "#ffffff"


@dataclass(frozen=True)
class At:
    """A point, marked by a ring around it."""

    x: float
    y: float


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Polygon:
    points: tuple[tuple[float, float], ...]


Shape = At | Circle | Rect | Polygon
SHAPE_KEYS = ("at", "circle", "rect", "polygon")  # how a card file names each shape
_ARITY = {"at": 2, "circle": 3, "rect": 4}


@dataclass(frozen=True)
class Spot:
    """A labelled place on the image, in the image's pixels (x to the right, y down from the top left)."""

    label: str
    shape: Shape


class SpotError(ValueError):
    """A spot written in a form no shape has."""


def spot_from_data(data: Mapping[str, Any]) -> Spot:
    """A spot from card data: `{label: SI 12, at: [x, y]}`, or `circle: [cx, cy, r]`,
    `rect: [x, y, width, height]`, `polygon: [[x, y], [x, y], [x, y], ...]` instead of `at`."""
    label = data.get("label")
    if not isinstance(label, str):
        raise SpotError("a spot needs a label (text)")
    keys = [key for key in SHAPE_KEYS if key in data]
    if len(keys) != 1:
        raise SpotError(f"a spot needs exactly one shape: {', '.join(SHAPE_KEYS)}")
    key, value = keys[0], data[keys[0]]
    if key == "polygon":
        if not isinstance(value, list) or not all(_is_numbers(point, 2) for point in value):
            raise SpotError("polygon must be a list of [x, y] points")
        return Spot(label, Polygon(tuple((float(x), float(y)) for x, y in value)))
    if not _is_numbers(value, _ARITY[key]):
        raise SpotError(f"{key} must be a list of {_ARITY[key]} numbers")
    numbers = [float(n) for n in value]
    shapes = {"at": At, "circle": Circle, "rect": Rect}
    return Spot(label, shapes[key](*numbers))


def _is_numbers(value: Any, count: int) -> bool:
    return isinstance(value, list) and len(value) == count and all(isinstance(n, int | float) and not isinstance(n, bool) for n in value)


def check_spots(width: float, height: float, spots: Sequence[Spot]) -> list[tuple[int, str]]:
    """(index of the spot, message) for each spot that cannot be shown or asked about."""
    problems = []
    seen: dict[str, int] = {}
    for index, spot in enumerate(spots):
        key = " ".join(spot.label.split()).casefold()
        if not key:
            problems.append((index, "a spot's label must not be empty"))
        elif key in seen:
            problems.append((index, f"label '{spot.label}' is already used by spot {seen[key] + 1}: each spot needs its own label"))
        else:
            seen[key] = index
        if message := _shape_problem(spot.shape) or _outside(spot.shape, width, height):
            problems.append((index, message))
    return problems


def _shape_problem(shape: Shape) -> str | None:
    if not all(math.isfinite(n) for n in _numbers(shape)):
        return "coordinates must be finite numbers"
    if isinstance(shape, Circle) and shape.r <= 0:
        return "a circle's radius must be positive"
    if isinstance(shape, Rect) and (shape.width <= 0 or shape.height <= 0):
        return "a rectangle's width and height must be positive"
    if isinstance(shape, Polygon):
        if len(shape.points) < 3:
            return "a polygon needs at least 3 points"
        if abs(_area(shape.points)) < 1e-9:
            return "a polygon's points must not all lie on one line"
    return None


def _outside(shape: Shape, width: float, height: float) -> str | None:
    left, top, right, bottom = bounds(shape)
    if left < 0 or top < 0 or right > width or bottom > height:
        return f"spot reaches outside the {_num(width)} x {_num(height)} image (x from 0 to {_num(width)}, y from 0 to {_num(height)})"
    return None


def _numbers(shape: Shape) -> list[float]:
    if isinstance(shape, Polygon):
        return [n for point in shape.points for n in point]
    return list(vars(shape).values())


def bounds(shape: Shape) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a shape."""
    if isinstance(shape, At):
        return shape.x, shape.y, shape.x, shape.y
    if isinstance(shape, Circle):
        return shape.cx - shape.r, shape.cy - shape.r, shape.cx + shape.r, shape.cy + shape.r
    if isinstance(shape, Rect):
        return shape.x, shape.y, shape.x + shape.width, shape.y + shape.height
    xs, ys = [x for x, _ in shape.points], [y for _, y in shape.points]
    return min(xs), min(ys), max(xs), max(ys)


def _area(points: Sequence[tuple[float, float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, [*points[1:], points[0]], strict=True)) / 2


# --- sides -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """A checked source image, embedded once, ready to be drawn with any spot marked."""

    width: float
    height: float
    embedded: str  # the SVG markup that draws the source at width x height

    def side(self, shape: Shape | None) -> bytes:
        """The SVG of one side: the picture with `shape` marked, or unmarked."""
        w, h = _num(self.width), _num(self.height)
        parts = [
            f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}" width="{w}" height="{h}" viewBox="0 0 {w} {h}">',
            f'<rect width="{w}" height="{h}" fill="{BACKGROUND}"/>',
            self.embedded,
        ]
        if shape is not None:
            parts.append(_marker(shape, min(self.width, self.height) / 100))
        parts.append("</svg>\n")
        return "\n".join(parts).encode("utf-8")


def prepare(source: bytes, kind: str, width: float, height: float) -> Picture:
    """Check the source image (ValueError if it has problems: report them with svgsafe first) and
    embed it at width x height pixels."""
    if not all(math.isfinite(side) and 0 < side <= MAX_SIDE for side in (width, height)):
        raise ValueError(f"picture size must be positive and at most {MAX_SIDE} on each side, not {width} x {height}")
    checked = check_image(source, kind)
    if not checked.ok:
        raise ValueError(f"source image has problems, first: {checked.problems[0].message}")
    w, h = _num(width), _num(height)
    if kind == "png":
        data = base64.b64encode(source).decode("ascii")
        return Picture(width, height, f'<image width="{w}" height="{h}" preserveAspectRatio="none" xlink:href="data:image/png;base64,{data}"/>')
    root, source_width, source_height = checked.root, checked.width, checked.height
    if root is None or source_width is None or source_height is None:
        raise ValueError("source image has no size")  # check_svg gives a clean SVG both, so this is not reached
    box = root.get("viewBox") if parse_view_box(root.get("viewBox")) else f"0 0 {_num(source_width)} {_num(source_height)}"
    kept = tuple((key, value) for key, value in root.attributes if key not in ("x", "y", "width", "height", "viewBox"))
    nested = Element("svg", (("x", "0"), ("y", "0"), ("width", w), ("height", h), ("viewBox", box or ""), *kept), root.children)
    return Picture(width, height, "".join(_serialize(nested)))


def side_svg(source: bytes, kind: str, width: float, height: float, spots: Sequence[Spot], marked: str | None) -> bytes:
    """One side: the image with the spot labelled `marked` marked (KeyError if no spot has that
    label), or with nothing marked when `marked` is None."""
    return prepare(source, kind, width, height).side(_shape_of(spots, marked))


def sides(source: bytes, kind: str, width: float, height: float, spots: Sequence[Spot]) -> dict[str | None, bytes]:
    """Every side a picture card needs: None (unmarked) first, then each spot's label, marked."""
    picture = prepare(source, kind, width, height)
    return {None: picture.side(None), **{spot.label: picture.side(spot.shape) for spot in spots}}


def _shape_of(spots: Sequence[Spot], label: str | None) -> Shape | None:
    if label is None:
        return None
    for spot in spots:
        if spot.label == label:
            return spot.shape
    raise KeyError(label)


def media_name(data: bytes) -> str:
    """The media file name of a generated side: derived from its bytes, lowercase (Anki lowercases
    new media names since 26.05), never starting with '_' (which Anki's importer skips if present)."""
    return f"acudeck-{hashlib.sha256(data).hexdigest()[:16]}.svg"


def _marker(shape: Shape, unit: float) -> str:
    """The shape drawn twice, a wide dark stroke under a narrow light one."""
    if isinstance(shape, At):
        ring = Circle(shape.x, shape.y, max(3 * unit, 8))
        edge, light, fill = max(1.2 * unit, 3), max(0.6 * unit, 1.5), ""
        shape = ring
    else:
        edge, light = max(0.9 * unit, 2.5), max(0.45 * unit, 1.2)
        fill = f' fill="{MARK_COLOUR}" fill-opacity="{MARK_FILL_OPACITY}"'
    geometry = _geometry(shape)
    return (
        f'<g fill="none" stroke-linejoin="round">'
        f'<{geometry}{fill} stroke="{MARK_EDGE}" stroke-width="{_num(edge)}"/>'
        f'<{geometry} stroke="{MARK_COLOUR}" stroke-width="{_num(light)}"/>'
        f"</g>"
    )


def _geometry(shape: Shape) -> str:
    if isinstance(shape, Circle):
        return f'circle cx="{_num(shape.cx)}" cy="{_num(shape.cy)}" r="{_num(shape.r)}"'
    if isinstance(shape, Rect):
        return f'rect x="{_num(shape.x)}" y="{_num(shape.y)}" width="{_num(shape.width)}" height="{_num(shape.height)}"'
    if isinstance(shape, Polygon):
        return f'polygon points="{" ".join(f"{_num(x)},{_num(y)}" for x, y in shape.points)}"'
    raise TypeError(shape)


def _num(value: float) -> str:
    """A number as written in a side: at most two decimals, no trailing zeros, no '-0'."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _serialize(element: Element):
    """The element as XML text, attributes in their order, text escaped; yields pieces."""
    attributes = "".join(f' {key}="{_escape_attribute(value)}"' for key, value in element.attributes)
    if not element.children:
        yield f"<{element.name}{attributes}/>"
        return
    yield f"<{element.name}{attributes}>"
    for child in element.children:
        if isinstance(child, str):
            yield _escape_text(child)
        else:
            yield from _serialize(child)
    yield f"</{element.name}>"


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attribute(value: str) -> str:
    return _escape_text(value).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")
