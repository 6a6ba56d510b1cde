"""Picture groundwork: the SVG/PNG allow-list (acudeck/svgsafe.py), generated sides (acudeck/picture.py),
the shoulder diagram's geometry, and what a real browser shows of a generated side."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from acudeck import svgsafe
from acudeck.picture import MARK_COLOUR, At, Circle, Polygon, Rect, Spot, SpotError, check_spots, media_name, prepare, side_svg, sides, spot_from_data
from acudeck.svgsafe import check_png, check_svg

DIAGRAM = REPO / "cards_src/needling/media/scapula-right-posterior.svg"
SPOTS_FIXTURE = Path(__file__).parent / "fixtures/scapula-right-posterior.yaml"
SVG_OPEN = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="80">'


def svg(body: str, open_tag: str = SVG_OPEN) -> bytes:
    return f"{open_tag}{body}</svg>".encode()


def messages(data: bytes) -> list[str]:
    return [problem.message for problem in check_svg(data).problems]


def spots_fixture() -> dict:
    return yaml.safe_load(SPOTS_FIXTURE.read_text("utf-8"))


def fixture_spots() -> list[Spot]:
    return [spot_from_data(item) for item in spots_fixture()["spots"]]


# --- svgsafe: what passes -----------------------------------------------------------------------


def test_the_shoulder_diagram_passes_and_has_its_size():
    checked = check_svg(DIAGRAM.read_bytes())
    assert checked.problems == ()
    assert (checked.width, checked.height) == (640, 560)
    assert checked.root is not None and checked.root.name == "svg"


def test_local_references_gradients_styles_and_text_pass():
    data = svg(
        '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient><circle id="c" r="3"/></defs>'
        '<use xlink:href="#c" x="5"/><use href="#c" x="9"/>'
        '<rect width="10" height="10" fill="url(#g)" style="stroke: #000; fill: url(\'#g\')"/>'
        '<text x="1" y="9" xml:space="preserve">a &amp; b<tspan dy="2">c</tspan></text><!-- a comment -->'
    )
    assert check_svg(data).problems == ()


def test_size_comes_from_the_view_box_without_width_and_height():
    checked = check_svg(svg("", '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 200">'))
    assert (checked.width, checked.height, checked.problems) == (300, 200, ())


# --- svgsafe: what is refused, one construct each ---------------------------------------------------

BILLION_LAUGHS = '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg">&b;</svg>'
USE_BOMB = "".join(
    [
        '<defs><g id="l0">' + '<rect width="1" height="1"/>' * 10 + "</g>",
        *(f'<g id="l{level}">' + f'<use href="#l{level - 1}"/>' * 10 + "</g>" for level in range(1, 5)),
        '</defs><use href="#l4"/>',
    ]
)

REFUSED = {
    "script": (svg("<script>alert(1)</script>"), "element <script> is not allowed"),
    "event-handler": (svg('<rect width="1" height="1" onclick="alert(1)"/>'), "event handler attribute 'onclick' on <rect> is not allowed"),
    "event-handler-on-root": (svg("", SVG_OPEN.replace(">", ' onload="alert(1)">')), "event handler attribute 'onload' on <svg> is not allowed"),
    "foreign-object": (svg('<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>'), "element <foreignObject> is not allowed"),
    "style-element": (svg("<style>rect { fill: red }</style>"), "element <style> is not allowed"),
    "style-url": (svg('<rect style="fill: url(https://example.com/a.svg#p)"/>'), "'fill' may only use url(#id) pointing to an element of this file"),
    "attribute-url": (svg('<rect fill="url(https://example.com/a.svg#p)"/>'), "'fill' may only use url(#id)"),
    "style-import": (svg("<rect style=\"@import 'https://example.com/a.css'\"/>"), "style attribute must not contain at-rules such as @import"),
    "style-comment": (svg('<rect style="fill: u/**/rl(x)"/>'), "style attribute must not contain comments"),
    "style-escape": (svg('<rect style="fill: u\\72l(https://example.com/)"/>'), "'fill' must not contain a backslash"),
    "style-function": (svg("<rect style=\"fill: src('https://example.com/a.png')\"/>"), "'fill' must not call src()"),
    "attribute-function": (svg('<rect fill="image(https://example.com/a.png)"/>'), "'fill' must not call image()"),
    "style-property": (svg('<rect style="-moz-binding: x"/>'), "style property '-moz-binding' is not allowed"),
    "external-href": (svg('<use href="https://example.com/a.svg#x"/>'), "href may only point to an element of this file ('#id'), not 'https://example.com/a.svg#x'"),
    "data-href": (
        svg('<use xlink:href="data:image/svg+xml;base64,PHN2Zy8+"/>'),
        "not 'data:image/svg+xml;base64,PHN2Zy8+'",
    ),
    "image-element": (svg('<image href="#x"/>'), "element <image> is not allowed"),
    "link-element": (svg('<a href="#x"><text>t</text></a>'), "element <a> is not allowed"),
    "animation": (svg('<set attributeName="fill" to="red"/>'), "element <set> is not allowed"),
    "doctype-entities": (BILLION_LAUGHS.encode(), "<!DOCTYPE declarations are not allowed (they can define entities)"),
    "processing-instruction": (b'<?xml-stylesheet href="a.css" type="text/css"?>' + svg(""), "processing instructions (<?xml-stylesheet ...?>) are not allowed"),
    "too-large": (svg("<desc>" + "x" * svgsafe.MAX_BYTES + "</desc>"), "the limit is 1,048,576 bytes (1 MiB)"),
    "not-utf-8": ('<svg xmlns="http://www.w3.org/2000/svg"/>'.encode("utf-16"), "SVG file is not UTF-8 text"),
    "control-character": (svg("<desc>\x1f</desc>"), "control character U+001F is not allowed"),
    "other-encoding": (b'<?xml version="1.0" encoding="ISO-8859-1"?>' + svg(""), "the SVG must be encoded as UTF-8, not ISO-8859-1"),
    "foreign-element": (svg('<h:iframe xmlns:h="http://www.w3.org/1999/xhtml"/>'), "element <h:iframe> is not an SVG element (not allowed)"),
    "foreign-attribute": (svg('<rect xmlns:i="http://www.inkscape.org/namespaces/inkscape" i:label="x"/>'), "attribute 'i:label' on <rect> is not allowed"),
    "unknown-attribute": (svg('<rect filter="x"/>'), "attribute 'filter' on <rect> is not allowed"),
    "root-not-svg": (b'<html xmlns="http://www.w3.org/1999/xhtml"/>', 'the root element must be <svg xmlns="http://www.w3.org/2000/svg">, not <html>'),
    "no-namespace": (b'<svg width="1" height="1"/>', 'the root element must be <svg xmlns="http://www.w3.org/2000/svg">, not <svg>'),
    "malformed": (b'<svg xmlns="http://www.w3.org/2000/svg"><g></svg>', "not well-formed XML: mismatched tag"),
    "missing-target": (svg('<use href="#nowhere"/>'), "'#nowhere' is not the id of an element in this file"),
    "duplicate-id": (svg('<g id="a"/><g id="a"/>'), "id 'a' is used twice (first on line 1)"),
    "bad-id": (svg('<g id="a b"/>'), "id 'a b' must start with a letter"),
    "use-loop": (svg('<g id="a"><use href="#a"/></g>'), "reference loop: this element refers, directly or not, to itself or to an element containing it"),
    "gradient-loop": (svg('<linearGradient id="a" href="#b"/><linearGradient id="b" href="#a"/>'), "reference loop"),
    "use-bomb": (svg(USE_BOMB), "would expand <use> and url(#id) references to more than 50,000 elements"),
    "deep-nesting": (svg("<g>" * 70 + "</g>" * 70), "elements nest more than 64 deep"),
    "too-many-elements": (svg("<g/>" * (svgsafe.MAX_ELEMENTS + 1)), "more than 10,000 elements"),
    "units": (svg("", '<svg xmlns="http://www.w3.org/2000/svg" width="10cm" height="80">'), "width must be a positive number of pixels (such as 480), not '10cm'"),
    "no-size": (svg("", '<svg xmlns="http://www.w3.org/2000/svg">'), "the <svg> element needs a width and a height, or a viewBox"),
    "bad-view-box": (svg("", '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 -1 5">'), "viewBox must be four numbers"),
    "huge": (svg("", '<svg xmlns="http://www.w3.org/2000/svg" width="5000" height="80">'), "image is 5000 x 80 pixels; the limit is 4096 on each side"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_allow_list_refuses(case):
    data, expected = REFUSED[case]
    checked = check_svg(data)
    assert checked.root is None
    assert any(expected in message for message in messages(data)), messages(data)


def test_problems_carry_the_line_and_column_of_the_element():
    data = f"{SVG_OPEN}\n  <g>\n    <script>x</script></g>\n</svg>".encode()
    assert check_svg(data).problems == (svgsafe.ImageProblem(3, 5, "element <script> is not allowed"),)


def test_all_problems_are_reported_at_once():
    data = svg('<script/><rect onclick="x"/><use href="http://a/"/>')
    assert len(check_svg(data).problems) == 3


def test_the_parser_refuses_a_doctype_even_past_the_text_scan():
    """The second line of defence: the expat handlers, should a DOCTYPE get past the scan."""
    reader = svgsafe._SvgReader()
    assert reader.read(BILLION_LAUGHS.encode()) is None
    assert [problem.message for problem in reader.problems] == ["DOCTYPE declarations are not allowed (they can define entities)"]


INSERTS = [
    b"<",
    b">",
    b"&",
    b'"',
    b"<!",
    b"<?",
    b"url(",
    b"<script>",
    b' onload="x"',
    b' xmlns:x="urn:x"',
    b'<use href="#skin"/>',
    b"\x00",
    b"\xff",
    b"]]>",
    b"<![CDATA[",
    b"&#0;",
    b"</g>",
    b"<g>",
]


@settings(max_examples=200, deadline=None)
@given(edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 20), st.sampled_from(INSERTS)), min_size=1, max_size=4))
def test_a_damaged_svg_gives_problems_never_an_exception_and_what_passes_comes_out_safe(edits):
    data = bytearray(DIAGRAM.read_bytes())
    for where, cut, insert in edits:
        at = int(where * len(data))
        data[at : at + cut] = insert
    checked = check_svg(bytes(data))
    assert all(problem.message for problem in checked.problems)
    if checked.ok:
        assert check_svg(side_svg(bytes(data), "svg", 640, 560, [], None)).problems == ()


# --- PNG ------------------------------------------------------------------------------------------


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def make_png(width: int, height: int, rgb: tuple[int, int, int] = (10, 120, 200), *, header: bytes | None = None) -> bytes:
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    ihdr = header if header is not None else struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return svgsafe.PNG_SIGNATURE + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b"")


def test_a_png_passes_with_its_size():
    checked = check_png(make_png(30, 20))
    assert (checked.width, checked.height, checked.problems) == (30, 20, ())


PNG_REFUSED = {
    "signature": (b"GIF89a" + make_png(2, 2)[6:], "not a PNG file"),
    "checksum": (make_png(2, 2)[:-5] + b"\x00" + make_png(2, 2)[-4:], "has a wrong checksum"),
    "truncated": (make_png(2, 2)[:-12], "PNG file ends without an IEND chunk"),
    "header-cut": (make_png(2, 2)[:40], "a chunk header runs past the end"),
    "chunk-past-end": (make_png(2, 2)[:50], "runs past the end of the file"),
    "after-iend": (make_png(2, 2) + b"<svg onload=alert(1)>", "data after the PNG's IEND chunk is not allowed"),
    "too-wide": (make_png(1, 1, header=struct.pack(">IIBBBBB", 5000, 1, 8, 2, 0, 0, 0)), "image is 5000 x 1 pixels; the limit is 4096 on each side"),
    "no-pixels": (make_png(1, 1, header=struct.pack(">IIBBBBB", 0, 1, 8, 2, 0, 0, 0)), "PNG image has no pixels"),
    "bad-header": (make_png(1, 1, header=struct.pack(">IIBBBBB", 1, 1, 3, 2, 0, 0, 0)), "PNG header is invalid (bit depth 3, colour type 2)"),
    "too-large": (make_png(1, 1) + b"\x00" * svgsafe.MAX_BYTES, "the limit is 1,048,576 bytes (1 MiB)"),
    "no-idat": (svgsafe.PNG_SIGNATURE + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + png_chunk(b"IEND", b""), "no IDAT chunk"),
}


@pytest.mark.parametrize("case", sorted(PNG_REFUSED))
def test_a_bad_png_is_refused(case):
    data, expected = PNG_REFUSED[case]
    problems = check_png(data).problems
    assert len(problems) == 1 and expected in problems[0].message, problems


# --- spots ----------------------------------------------------------------------------------------


def test_spots_are_read_from_card_data():
    assert spot_from_data({"label": "SI 12", "at": [3, 4.5]}) == Spot("SI 12", At(3, 4.5))
    assert spot_from_data({"label": "c", "circle": [1, 2, 3]}).shape == Circle(1, 2, 3)
    assert spot_from_data({"label": "r", "rect": [1, 2, 3, 4]}).shape == Rect(1, 2, 3, 4)
    assert spot_from_data({"label": "p", "polygon": [[0, 0], [1, 0], [0, 1]]}).shape == Polygon(((0, 0), (1, 0), (0, 1)))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"at": [1, 2]}, "a spot needs a label"),
        ({"label": "x"}, "a spot needs exactly one shape"),
        ({"label": "x", "at": [1, 2], "circle": [1, 2, 3]}, "a spot needs exactly one shape"),
        ({"label": "x", "at": [1]}, "at must be a list of 2 numbers"),
        ({"label": "x", "rect": [1, 2, 3, True]}, "rect must be a list of 4 numbers"),
        ({"label": "x", "polygon": [[1, 2], [3]]}, "polygon must be a list of [x, y] points"),
    ],
)
def test_a_spot_in_no_known_form_is_refused(data, expected):
    with pytest.raises(SpotError, match=re.escape(expected)):
        spot_from_data(data)


@pytest.mark.parametrize(
    ("spot", "expected"),
    [
        (Spot("a", At(101, 5)), "spot reaches outside the 100 x 80 image (x from 0 to 100, y from 0 to 80)"),
        (Spot("a", Circle(95, 40, 10)), "spot reaches outside the 100 x 80 image (x from 0 to 100, y from 0 to 80)"),
        (Spot("a", Rect(10, -1, 5, 5)), "spot reaches outside the 100 x 80 image (x from 0 to 100, y from 0 to 80)"),
        (Spot("a", Polygon(((1, 1), (2, 90), (3, 1)))), "spot reaches outside the 100 x 80 image (x from 0 to 100, y from 0 to 80)"),
        (Spot("a", Polygon(((1, 1), (2, 2)))), "a polygon needs at least 3 points"),
        (Spot("a", Polygon(((1, 1), (2, 2), (3, 3)))), "a polygon's points must not all lie on one line"),
        (Spot("a", Circle(50, 40, -2)), "a circle's radius must be positive"),
        (Spot("a", Rect(10, 10, 5, 0)), "a rectangle's width and height must be positive"),
        (Spot("a", At(math.nan, 5)), "coordinates must be finite numbers"),
        (Spot(" ", At(5, 5)), "a spot's label must not be empty"),
    ],
)
def test_a_spot_that_cannot_be_shown_is_a_problem(spot, expected):
    assert check_spots(100, 80, [Spot("fine", At(50, 40)), spot]) == [(1, expected)]


def test_two_spots_with_one_label_are_a_problem():
    spots = [Spot("SI 12", At(1, 1)), Spot("x", At(2, 2)), Spot("si  12", At(3, 3))]
    assert check_spots(100, 80, spots) == [(2, "label 'si  12' is already used by spot 1: each spot needs its own label")]


def test_the_fixture_spots_fit_the_diagram():
    fixture = spots_fixture()
    assert check_spots(fixture["width"], fixture["height"], fixture_spots()) == []
    assert (DIAGRAM.parent / fixture["image"]).is_file()


# --- generated sides ------------------------------------------------------------------------------


def test_sides_are_the_same_bytes_every_time():
    source, spots = DIAGRAM.read_bytes(), fixture_spots()
    first = [side_svg(source, "svg", 640, 560, spots, label) for label in (None, "SI 11", "teres minor")]
    again = [side_svg(bytes(source), "svg", 640, 560, list(reversed(spots)), label) for label in (None, "SI 11", "teres minor")]
    assert first == again
    assert len(set(first)) == 3
    assert sides(source, "svg", 640, 560, spots) == {None: first[0], **{spot.label: side_svg(source, "svg", 640, 560, spots, spot.label) for spot in spots}}


def test_media_names_are_derived_from_the_content_and_lowercase():
    side = side_svg(DIAGRAM.read_bytes(), "svg", 640, 560, fixture_spots(), "SI 12")
    name = media_name(side)
    assert re.fullmatch(r"acudeck-[0-9a-f]{16}\.svg", name)
    assert name == f"acudeck-{hashlib.sha256(side).hexdigest()[:16]}.svg" == name.lower()
    assert media_name(side + b" ") != name


def test_a_generated_side_is_itself_a_safe_svg_with_the_marker_on_white():
    side = side_svg(DIAGRAM.read_bytes(), "svg", 640, 560, fixture_spots(), "supraspinatus")
    assert check_svg(side).problems == ()
    text = side.decode()
    assert text.index('fill="#ffffff"') < text.index("<svg x=") < text.index(MARK_COLOUR)


def test_text_of_the_source_comes_out_escaped():
    source = svg('<text x="1" y="9">&lt;script&gt;alert(1)&lt;/script&gt; &amp; "q"</text>')
    text = side_svg(source, "svg", 100, 80, [], None).decode()
    assert "<script" not in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in text


def test_a_source_with_problems_is_not_embedded():
    with pytest.raises(ValueError, match="element <script> is not allowed"):
        prepare(svg("<script>alert(1)</script>"), "svg", 100, 80)
    with pytest.raises(ValueError, match="not a PNG file"):
        prepare(b"GIF89a", "png", 100, 80)
    with pytest.raises(ValueError, match="at most 4096 on each side"):
        prepare(make_png(2, 2), "png", 5000, 80)


def test_a_png_is_embedded_as_a_data_uri():
    png = make_png(4, 3)
    text = side_svg(png, "png", 40, 30, [Spot("a", At(20, 15))], "a").decode()
    found = re.search(r'xlink:href="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert found and base64.b64decode(found.group(1)) == png


def test_an_unknown_label_to_mark_is_an_error():
    with pytest.raises(KeyError):
        side_svg(DIAGRAM.read_bytes(), "svg", 640, 560, fixture_spots(), "SI 13")


# --- the diagram's geometry -----------------------------------------------------------------------


def diagram_elements() -> dict[str, svgsafe.Element]:
    root = check_svg(DIAGRAM.read_bytes()).root
    assert root is not None
    return {element.get("id"): element for element in svgsafe._walk(root) if element.get("id")}


def path_endpoints(d: str) -> list[tuple[float, float]]:
    """The points where each segment of an absolute M/L/Q/C/Z path ends."""
    points = []
    for command, arguments in re.findall(r"([MLQCZ])([^MLQCZ]*)", d):
        numbers = [float(n) for n in arguments.replace(",", " ").split()]
        step = {"M": 2, "L": 2, "Q": 4, "C": 6, "Z": 0}[command]
        for i in range(0, len(numbers), step or 1):
            if step:
                points.append((numbers[i + step - 2], numbers[i + step - 1]))
    return points


def inside(point: tuple[float, float], polygon: list[tuple[float, float]]) -> bool:
    x, y = point
    crossings = 0
    for (x1, y1), (x2, y2) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            crossings += 1
    return crossings % 2 == 1


def vertical_extent(polygon: list[tuple[float, float]], x: float) -> tuple[float, float]:
    ys = [y1 + (x - x1) * (y2 - y1) / (x2 - x1) for (x1, y1), (x2, y2) in zip(polygon, [*polygon[1:], polygon[0]], strict=True) if min(x1, x2) <= x < max(x1, x2)]
    return min(ys), max(ys)


class Landmarks:
    """What the location rules measure from, read from the drawing itself."""

    def __init__(self) -> None:
        elements = diagram_elements()
        outline = path_endpoints(elements["scapula"].get("d"))
        self.superior_angle = min(outline, key=lambda p: p[1])
        self.inferior_angle = max(outline, key=lambda p: p[1])
        line = elements["spine-lower-border"]
        self.spine = [(float(line.get("x1")), float(line.get("y1"))), (float(line.get("x2")), float(line.get("y2")))]
        self.fold_end = path_endpoints(elements["axillary-fold"].get("d"))[0]
        # 1 cun: the drawing's scale, the scapula from superior to inferior angle being about 7.5 cun.
        self.cun = (self.inferior_angle[1] - self.superior_angle[1]) / 7.5
        self.polygons = {element_id: [tuple(map(float, pair.split(","))) for pair in elements[element_id].get("points").split()] for element_id in MUSCLES.values()}

    def spine_y(self, x: float) -> float:
        (x1, y1), (x2, y2) = self.spine
        return y1 + (x - x1) * (y2 - y1) / (x2 - x1)


MUSCLES = {"supraspinatus": "supraspinatus", "infraspinatus": "infraspinatus", "teres minor": "teres-minor", "teres major": "teres-major"}


def positions() -> dict[str, tuple[float, float]]:
    return {spot.label: (spot.shape.x, spot.shape.y) for spot in fixture_spots() if isinstance(spot.shape, At)}


def test_the_fixture_regions_are_the_drawings_muscles():
    drawn = Landmarks().polygons
    assert {spot.label: list(spot.shape.points) for spot in fixture_spots() if isinstance(spot.shape, Polygon)} == {label: drawn[i] for label, i in MUSCLES.items()}


def test_si_12_is_in_the_middle_of_the_supraspinous_fossa_straight_above_si_11():
    marks, at = Landmarks(), positions()
    (x11, _), (x12, y12) = at["SI 11"], at["SI 12"]
    assert abs(x11 - x12) < 1
    assert y12 < marks.spine_y(x12) and inside(at["SI 12"], marks.polygons["supraspinatus"])
    top, bottom = vertical_extent(marks.polygons["supraspinatus"], x12)
    assert abs(y12 - (top + bottom) / 2) < 0.1 * (bottom - top)


def test_si_11_is_a_third_of_the_way_from_the_spine_to_the_inferior_angle():
    marks, at = Landmarks(), positions()
    (sx1, sy1), (sx2, sy2) = marks.spine
    middle = ((sx1 + sx2) / 2, (sy1 + sy2) / 2)
    ix, iy = marks.inferior_angle
    dx, dy = ix - middle[0], iy - middle[1]
    x, y = at["SI 11"]
    along = ((x - middle[0]) * dx + (y - middle[1]) * dy) / (dx * dx + dy * dy)
    off_line = abs((x - middle[0]) * dy - (y - middle[1]) * dx) / math.hypot(dx, dy)
    assert abs(along - 1 / 3) < 0.02 and off_line < 2
    assert y > marks.spine_y(x) and inside(at["SI 11"], marks.polygons["infraspinatus"])


def test_si_10_is_below_the_spine_straight_above_si_9_and_the_axillary_fold():
    marks, at = Landmarks(), positions()
    (x9, y9), (x10, y10) = at["SI 9"], at["SI 10"]
    assert abs(x9 - x10) < 1 and abs(x10 - marks.fold_end[0]) < 1
    assert y10 < y9 < marks.fold_end[1]
    assert 0 < y10 - marks.spine_y(x10) < 0.6 * marks.cun  # in the depression just below the spine's lower border


def test_si_9_is_one_cun_above_the_end_of_the_axillary_fold():
    marks, at = Landmarks(), positions()
    assert abs(marks.fold_end[1] - at["SI 9"][1] - marks.cun) < 0.05 * marks.cun


# --- a real browser -------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CELL, MARGIN = (700, 620), 30  # each side shown at 640 x 560 inside a cell of its page background


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """An 8-bit RGB or RGBA PNG (what Chromium's screenshots are) as rows of RGB bytes."""
    pos, idat = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and not interlace, (depth, colour, interlace)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    bpp = 3 if colour == 2 else 4
    raw, stride, rows = zlib.decompress(b"".join(idat)), width * bpp, []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((x + b) & 255 for x, b in zip(line, previous, strict=True))
        elif kind in (3, 4):
            for i in range(stride):
                a, b, c = (line[i - bpp] if i >= bpp else 0), previous[i], (previous[i - bpp] if i >= bpp else 0)
                if kind == 3:
                    line[i] = (line[i] + (a + b) // 2) & 255
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line if bpp == 3 else b"".join(line[i : i + 3] for i in range(0, stride, 4))))
        previous = line
    return width, height, rows


def _channel_table(low: int, high: int) -> bytes:
    return bytes(1 if low <= value <= high else 0 for value in range(256))


MARKER_RGB = bytes.fromhex(MARK_COLOUR[1:])
MARKER_TABLES = [_channel_table(value - 40, value + 40) for value in MARKER_RGB[:2]] + [_channel_table(0, 90)]


def marker_pixels(rows: list[bytes], left: int, top: int, width: int, height: int) -> list[tuple[int, int]]:
    """(x, y) of the pixels close to the marker colour in a box of the screenshot, relative to the box."""
    found = []
    for y in range(top, top + height):
        row = rows[y][3 * left : 3 * (left + width)]
        masks = [int.from_bytes(row[channel::3].translate(table), "big") for channel, table in enumerate(MARKER_TABLES)]
        hits = (masks[0] & masks[1] & masks[2]).to_bytes(width, "big")
        found += [(x, y - top) for x, flag in enumerate(hits) if flag]
    return found


@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (Debian package chromium)")
def test_a_browser_shows_the_marker_at_the_spot_and_nowhere_else(tmp_path):
    source, spots = DIAGRAM.read_bytes(), fixture_spots()
    by_label = {spot.label: spot for spot in spots}
    cases = [("SI 11", "#ffffff"), ("teres minor", "#ffffff"), ("SI 12", "#000000"), (None, "#000000")]  # black: night mode
    cells = []
    for index, (label, background) in enumerate(cases):
        name = f"side{index}.svg"
        (tmp_path / name).write_bytes(side_svg(source, "svg", 640, 560, spots, label))
        left, top = (index % 2) * CELL[0], (index // 2) * CELL[1]
        cells.append(
            f'<div style="position:absolute;left:{left}px;top:{top}px;width:{CELL[0]}px;height:{CELL[1]}px;background:{background}">'
            f'<img src="{name}" width="640" height="560" style="position:absolute;left:{MARGIN}px;top:{MARGIN}px"></div>'
        )
    page = tmp_path / "page.html"
    page.write_text(f'<!doctype html><html><body style="margin:0">{"".join(cells)}</body></html>')
    shot = tmp_path / "shot.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    size = f"--window-size={2 * CELL[0]},{2 * CELL[1]}"
    subprocess.run(
        [CHROMIUM, *flags, "--hide-scrollbars", "--force-device-scale-factor=1", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", size, page.as_uri()],
        capture_output=True,
        timeout=90,
    )
    width, height, rows = decode_png(shot.read_bytes())
    assert (width, height) == (2 * CELL[0], 2 * CELL[1])

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        return tuple(rows[y][3 * x : 3 * x + 3])

    for index, (label, background) in enumerate(cases):
        left, top = (index % 2) * CELL[0], (index // 2) * CELL[1]
        marked = [(x - MARGIN, y - MARGIN) for x, y in marker_pixels(rows, left, top, *CELL)]
        assert pixel(left + 5, top + 5) == tuple(bytes.fromhex(background[1:]))  # the page around the picture
        assert pixel(left + MARGIN + 3, top + MARGIN + 3) == (255, 255, 255)  # the picture's own white, on a black page too
        if label is None:
            assert marked == []
            continue
        shape = by_label[label].shape
        if isinstance(shape, At):
            assert len(marked) > 150, (label, len(marked))
            distances = [math.hypot(x - shape.x, y - shape.y) for x, y in marked]
            assert min(distances) > 10 and max(distances) < 22, (label, min(distances), max(distances))
            assert (round(shape.x), round(shape.y)) not in marked  # a ring: the spot itself stays visible
        else:
            xs, ys = [p[0] for p in shape.points], [p[1] for p in shape.points]
            assert len(marked) > 400 and all(min(xs) - 4 <= x <= max(xs) + 4 and min(ys) - 4 <= y <= max(ys) + 4 for x, y in marked), label
            assert all(inside((x, y), list(shape.points)) or near_edge((x, y), list(shape.points), 4) for x, y in marked), label


def near_edge(point: tuple[float, float], polygon: list[tuple[float, float]], distance: float) -> bool:
    px, py = point
    for (x1, y1), (x2, y2) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        dx, dy = x2 - x1, y2 - y1
        t = max(0.0, min(1.0, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)))
        if math.hypot(px - x1 - t * dx, py - y1 - t * dy) <= distance:
            return True
    return False
