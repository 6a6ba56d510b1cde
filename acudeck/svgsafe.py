"""Contributed images checked before a card uses them: SVG against an allow-list, PNG by its chunks.

An SVG is a program as much as a picture: opened in Anki's web view it can run script, load other
files and restyle the page. An SVG passes only if every element, attribute and style property is on
the lists below, every reference (`href`, `url(...)`) points inside the file, and the file declares
no DTD (entities), holds no processing instruction, and stays within size limits. What passes is
returned as a tree that `acudeck.picture` writes out again, so only what was checked is shipped.

Parsing uses the standard library's expat directly rather than ElementTree: it reports the line and
column of each element, and lets the DTD handlers refuse a DOCTYPE before any entity is defined.
A textual scan refuses `<!DOCTYPE`/`<!ENTITY` before the parser even starts; the handlers are the
second line of defence. (defusedxml would add a dependency for what these few handlers do.)
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from typing import NamedTuple, NoReturn
from xml.parsers import expat

MAX_BYTES = 1 << 20  # per image file
MAX_SIDE = 4096  # pixels, each of width and height
MAX_ELEMENTS = 10_000
MAX_DEPTH = 64
MAX_EXPANDED = 50_000  # elements drawn once every <use> and url(#id) is expanded: no "billion laughs" by <use>

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ELEMENTS = _words("svg g defs title desc path rect circle ellipse line polyline polygon text tspan linearGradient radialGradient stop clipPath use symbol")
TEXT_ELEMENTS = _words("text tspan title desc")  # the elements whose character data is kept

# CSS properties allowed as presentation attributes and in style="...": none of them loads anything.
PROPERTIES = _words(
    """fill fill-opacity fill-rule stroke stroke-width stroke-opacity stroke-linecap stroke-linejoin stroke-miterlimit
    stroke-dasharray stroke-dashoffset opacity stop-color stop-opacity clip-path clip-rule color display visibility
    font-family font-size font-weight font-style font-variant font-stretch text-anchor dominant-baseline
    alignment-baseline baseline-shift letter-spacing word-spacing text-decoration writing-mode paint-order
    vector-effect shape-rendering text-rendering color-interpolation"""
)
GEOMETRY = _words(
    """x y width height rx ry cx cy r fx fy fr x1 y1 x2 y2 points d pathLength dx dy rotate textLength lengthAdjust
    offset gradientUnits gradientTransform spreadMethod clipPathUnits transform viewBox preserveAspectRatio"""
)
# Functions a value may call: colours, transforms, arithmetic, and url() to an element of the file. Not
# src(), image(), image-set(), element(), attr() and the like, which fetch or copy something.
FUNCTIONS = _words("url rgb rgba hsl hsla calc matrix translate translatex translatey scale scalex scaley rotate skewx skewy")
ATTRIBUTES = PROPERTIES | GEOMETRY | {"id", "class", "style", "href", "version", "lang"}
XML_ATTRIBUTES = frozenset({"space", "lang"})

_ID = r"[A-Za-z_][\w.-]*"
_LOCAL_HREF = re.compile(rf"#({_ID})")
_URL = re.compile(r"url\(", re.IGNORECASE)
_LOCAL_URL = re.compile(rf"url\(\s*(['\"]?)#({_ID})\1\s*\)", re.IGNORECASE)
_ID_VALUE = re.compile(_ID)
_FUNCTION = re.compile(r"([A-Za-z_-][\w-]*)\s*\(")
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(px)?\s*")
_NUMBER_LIST = re.compile(r"[\s,]+")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}  # colour type -> bit depths


class ImageProblem(NamedTuple):
    """A problem in an image file; line and col count from 1, or are 0 for the file as a whole."""

    line: int
    col: int
    message: str


@dataclass(frozen=True)
class Element:
    """A checked SVG element: its local name, its attributes in source order (`xlink:href` and
    `xml:space` keep their prefix), its children (elements and, in text elements, text)."""

    name: str
    attributes: tuple[tuple[str, str], ...]
    children: tuple[Element | str, ...]
    line: int = 0
    col: int = 0

    def get(self, name: str, default: str | None = None) -> str | None:
        return next((value for key, value in self.attributes if key == name), default)


@dataclass(frozen=True)
class CheckedImage:
    """What a check found: the image's size in pixels, its problems, and for a clean SVG its tree."""

    kind: str  # "svg" or "png"
    width: float | None
    height: float | None
    problems: tuple[ImageProblem, ...]
    root: Element | None = None  # set only for an SVG without problems

    @property
    def ok(self) -> bool:
        return not self.problems


def image_kind(file_name: str) -> str | None:
    """The kind of image a file name says by its extension: "svg", "png", or None for anything else."""
    suffix = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    return suffix if suffix in ("svg", "png") else None


def check_image(data: bytes, kind: str) -> CheckedImage:
    if kind == "svg":
        return check_svg(data)
    if kind == "png":
        return check_png(data)
    raise ValueError(f"unknown image kind {kind!r}")


# --- SVG ---------------------------------------------------------------------------------------


def check_svg(data: bytes) -> CheckedImage:
    """Check an SVG file's bytes; all problems at once where the file can be read at all."""
    problems = _check_text(data)
    if problems:
        return CheckedImage("svg", None, None, tuple(problems))
    reader = _SvgReader()
    root = reader.read(data)
    problems = reader.problems
    if root is not None and not problems:
        problems += _check_references(root)
    width = height = None
    if root is not None:
        size, size_problems = _size(root)
        problems += size_problems
        width, height = size if size else (None, None)
    problems = sorted(set(problems))
    return CheckedImage("svg", width, height, tuple(problems), root if not problems else None)


def _check_text(data: bytes) -> list[ImageProblem]:
    """What must be refused before the parser sees the file: size, encoding, DTDs."""
    if len(data) > MAX_BYTES:
        return [ImageProblem(0, 0, f"image is {len(data):,} bytes; the limit is {MAX_BYTES:,} bytes (1 MiB)")]
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as error:
        return [ImageProblem(*_position(data[: error.start].decode("utf-8", "replace"), error.start), "SVG file is not UTF-8 text")]
    problems = []
    if control := _CONTROL.search(text):
        problems.append(ImageProblem(*_position(text, control.start()), f"control character U+{ord(control.group()):04X} is not allowed"))
    for match in _DTD.finditer(text):
        problems.append(ImageProblem(*_position(text, match.start()), f"<!{match.group(1).upper()} declarations are not allowed (they can define entities)"))
    return problems


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


class _Stop(Exception):
    """Raised from an expat handler to end parsing at once."""


class _SvgReader:
    """Builds the checked tree from expat's events, recording a problem for everything refused."""

    def __init__(self) -> None:
        self.problems: list[ImageProblem] = []
        self.prefixes: dict[str, str] = {SVG_NS: "", XLINK_NS: "xlink", XML_NS: "xml"}
        self.stack: list[tuple[str, list[tuple[str, str]], list[Element | str], int, int]] = []
        self.refused_depth = 0  # > 0 while inside a refused element, whose content is not reported again
        self.count = 0
        self.root: Element | None = None

    def read(self, data: bytes) -> Element | None:
        parser = expat.ParserCreate(namespace_separator=" ")
        self.parser = parser
        parser.ordered_attributes = True
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.XmlDeclHandler = self._xml_declaration
        parser.StartDoctypeDeclHandler = lambda *_: self._stop("DOCTYPE declarations are not allowed (they can define entities)")
        parser.ProcessingInstructionHandler = lambda target, _: self._problem(f"processing instructions (<?{target} ...?>) are not allowed")
        parser.StartNamespaceDeclHandler = self._namespace
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        try:
            parser.Parse(data, True)
        except _Stop:
            return None
        except expat.ExpatError as error:
            self.problems.append(ImageProblem(error.lineno, error.offset + 1, f"not well-formed XML: {expat.ErrorString(error.code)}"))
            return None
        return self.root

    def _here(self) -> tuple[int, int]:
        return self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1

    def _problem(self, message: str) -> None:
        self.problems.append(ImageProblem(*self._here(), message))

    def _stop(self, message: str) -> NoReturn:
        self._problem(message)
        raise _Stop

    def _xml_declaration(self, version: str | None, encoding: str | None, standalone: int) -> None:
        if encoding and encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            self._problem(f"the SVG must be encoded as UTF-8, not {encoding}")

    def _namespace(self, prefix: str | None, uri: str) -> None:
        self.prefixes.setdefault(uri, prefix or "")

    def _qualified(self, name: str) -> tuple[str | None, str, str]:
        """(namespace, local name, the name as the file spells it) of an expat name."""
        uri, _, local = name.rpartition(" ")
        prefix = self.prefixes.get(uri, "?") if uri else ""
        return uri or None, local, f"{prefix}:{local}" if prefix else local

    def _start(self, name: str, flat_attributes: list[str]) -> None:
        line, col = self._here()
        if self.refused_depth:
            self.refused_depth += 1
            return
        self.count += 1
        if self.count > MAX_ELEMENTS:
            self._stop(f"more than {MAX_ELEMENTS:,} elements")
        if len(self.stack) >= MAX_DEPTH:
            self._stop(f"elements nest more than {MAX_DEPTH} deep")
        uri, local, spelled = self._qualified(name)
        if not self.stack and (uri != SVG_NS or local != "svg"):
            self._problem(f'the root element must be <svg xmlns="{SVG_NS}">, not <{spelled}>')
            self.refused_depth = 1
            return
        if uri != SVG_NS or local not in ELEMENTS:
            self._problem(f"element <{spelled}> is not allowed" if uri == SVG_NS else f"element <{spelled}> is not an SVG element (not allowed)")
            self.refused_depth = 1
            return
        pairs = zip(flat_attributes[::2], flat_attributes[1::2], strict=True)
        attributes = [checked for key, value in pairs if (checked := self._attribute(local, key, value)) is not None]
        self.stack.append((local, attributes, [], line, col))

    def _attribute(self, element: str, key: str, value: str) -> tuple[str, str] | None:
        uri, local, spelled = self._qualified(key)
        if uri == XLINK_NS and local == "href":
            return ("xlink:href", value) if self._href(value) else None
        if uri == XML_NS and local in XML_ATTRIBUTES:
            return (spelled, value)
        if uri is not None:
            self._problem(f"attribute '{spelled}' on <{element}> is not allowed")
            return None
        if local.lower().startswith("on"):
            self._problem(f"event handler attribute '{local}' on <{element}> is not allowed")
            return None
        if local not in ATTRIBUTES:
            self._problem(f"attribute '{local}' on <{element}> is not allowed")
            return None
        if local == "href":
            return (local, value) if self._href(value) else None
        if local == "style":
            return (local, value) if self._style(value) else None
        if not self._property_value(local, value):
            return None
        if local == "id" and not _ID_VALUE.fullmatch(value):
            self._problem(f"id '{value}' must start with a letter and hold only letters, digits, '_', '.' and '-'")
            return None
        return (local, value)

    def _href(self, value: str) -> bool:
        if _LOCAL_HREF.fullmatch(value.strip()):
            return True
        self._problem(f"href may only point to an element of this file ('#id'), not '{_shorten(value)}'")
        return False

    def _property_value(self, name: str, value: str) -> bool:
        if "\\" in value:
            self._problem(f"'{name}' must not contain a backslash (CSS escapes could hide a URL)")
            return False
        for call in _FUNCTION.finditer(value):
            if call.group(1).lower() not in FUNCTIONS:
                self._problem(f"'{name}' must not call {call.group(1)}()")
                return False
        if len(_URL.findall(value)) != len(_LOCAL_URL.findall(value)):
            self._problem(f"'{name}' may only use url(#id) pointing to an element of this file, not '{_shorten(value)}'")
            return False
        return True

    def _style(self, value: str) -> bool:
        for forbidden, why in (("@", "at-rules such as @import"), ("/*", "comments")):
            if forbidden in value:
                self._problem(f"style attribute must not contain {why}")
                return False
        ok = True
        for declaration in filter(str.strip, value.split(";")):
            name, colon, declared = declaration.partition(":")
            name = name.strip().lower()
            if not colon or name not in PROPERTIES:
                self._problem(f"style property '{_shorten(name)}' is not allowed")
                ok = False
            elif not self._property_value(name, declared):
                ok = False
        return ok

    def _end(self, name: str) -> None:
        if self.refused_depth:
            self.refused_depth -= 1
            return
        local, attributes, children, line, col = self.stack.pop()
        element = Element(local, tuple(attributes), tuple(children), line, col)
        if self.stack:
            self.stack[-1][2].append(element)
        else:
            self.root = element

    def _text(self, text: str) -> None:
        if self.refused_depth or not self.stack or self.stack[-1][0] not in TEXT_ELEMENTS:
            return  # whitespace between elements, or text where SVG draws none
        self.stack[-1][2].append(text)


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_references(root: Element) -> list[ImageProblem]:
    """Every #id exists, once; and references, expanded, neither loop nor multiply beyond MAX_EXPANDED."""
    problems: list[ImageProblem] = []
    ids: dict[str, Element] = {}
    for element in _walk(root):
        if (element_id := element.get("id")) is None:
            continue
        if element_id in ids:
            problems.append(ImageProblem(element.line, element.col, f"id '{element_id}' is used twice (first on line {ids[element_id].line})"))
        else:
            ids[element_id] = element
    targets: dict[int, list[Element]] = {}
    for element in _walk(root):
        for target_id in _references(element):
            if target_id in ids:
                targets.setdefault(id(element), []).append(ids[target_id])
            else:
                problems.append(ImageProblem(element.line, element.col, f"'#{target_id}' is not the id of an element in this file"))
    return problems + _check_expansion(root, targets)


def _walk(root: Element):
    stack = [root]
    while stack:
        element = stack.pop()
        yield element
        stack.extend(reversed([child for child in element.children if isinstance(child, Element)]))


def _references(element: Element) -> list[str]:
    found = []
    for key, value in element.attributes:
        if key in ("href", "xlink:href"):
            found.append(value.strip()[1:])
        elif key == "style" or key in PROPERTIES:
            found += [match.group(2) for match in _LOCAL_URL.finditer(value)]
    return found


def _check_expansion(root: Element, targets: dict[int, list[Element]]) -> list[ImageProblem]:
    """The number of elements drawn when every reference is expanded, by an iterative depth-first walk
    (a chain of references can be longer than Python's recursion allows)."""
    size: dict[int, int] = {}
    visiting: set[int] = set()
    problems: list[ImageProblem] = []

    def dependencies(element: Element) -> list[Element]:
        return [child for child in element.children if isinstance(child, Element)] + targets.get(id(element), [])

    stack = [(root, iter(dependencies(root)))]
    visiting.add(id(root))
    while stack:
        element, pending = stack[-1]
        dependency = next(pending, None)
        if dependency is None:
            stack.pop()
            visiting.discard(id(element))
            total = 1 + sum(size.get(id(d), 0) for d in dependencies(element))
            size[id(element)] = min(total, MAX_EXPANDED + 1)
        elif id(dependency) in visiting:
            problems.append(ImageProblem(element.line, element.col, "reference loop: this element refers, directly or not, to itself or to an element containing it"))
            return problems
        elif id(dependency) not in size:
            visiting.add(id(dependency))
            stack.append((dependency, iter(dependencies(dependency))))
    if size[id(root)] > MAX_EXPANDED:
        problems.append(ImageProblem(root.line, root.col, f"drawing this SVG would expand <use> and url(#id) references to more than {MAX_EXPANDED:,} elements"))
    return problems


def _size(root: Element) -> tuple[tuple[float, float] | None, list[ImageProblem]]:
    """The image's size in pixels: its width and height, or else its viewBox's."""
    problems: list[ImageProblem] = []

    def problem(message: str) -> None:
        problems.append(ImageProblem(root.line, root.col, message))

    box = parse_view_box(root.get("viewBox"))
    if root.get("viewBox") is not None and box is None:
        problem(f"viewBox must be four numbers 'min-x min-y width height' with a positive width and height, not '{_shorten(root.get('viewBox') or '')}'")
    sides = []
    for name, index in (("width", 2), ("height", 3)):
        value = root.get(name)
        if value is None:
            sides.append(box[index] if box else None)
            continue
        match = _LENGTH.fullmatch(value)
        if not match or float(match.group(1)) <= 0:
            problem(f"{name} must be a positive number of pixels (such as 480), not '{_shorten(value)}'")
            sides.append(None)
        else:
            sides.append(float(match.group(1)))
    if None in sides:
        if not problems:
            problem("the <svg> element needs a width and a height, or a viewBox")
        return None, problems
    width, height = (side or 0.0 for side in sides)
    if width > MAX_SIDE or height > MAX_SIDE:
        problem(f"image is {_number(width)} x {_number(height)} pixels; the limit is {MAX_SIDE} on each side")
    return (width, height), problems


def parse_view_box(value: str | None) -> tuple[float, float, float, float] | None:
    """The four numbers of a viewBox with a positive width and height, or None."""
    if value is None:
        return None
    parts = [part for part in _NUMBER_LIST.split(value.strip()) if part]
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        return None
    if len(numbers) != 4 or numbers[2] <= 0 or numbers[3] <= 0 or not all(abs(n) < 1e9 for n in numbers):
        return None
    return numbers[0], numbers[1], numbers[2], numbers[3]


def _number(value: float) -> str:
    return f"{value:g}"


# --- PNG ---------------------------------------------------------------------------------------


def check_png(data: bytes) -> CheckedImage:
    """Check a PNG file: the signature, every chunk's length and checksum, IHDR first with a sane
    size and format, IEND last with nothing after it. The pixels are not decoded."""
    if len(data) > MAX_BYTES:
        return _png_problem(f"image is {len(data):,} bytes; the limit is {MAX_BYTES:,} bytes (1 MiB)")
    if not data.startswith(PNG_SIGNATURE):
        return _png_problem("not a PNG file (it does not start with the PNG signature)")
    chunks, problem = _png_chunks(data)
    if problem:
        return _png_problem(problem)
    kind, header = chunks[0]
    if kind != b"IHDR" or len(header) != 13:
        return _png_problem("a PNG file must start with an IHDR chunk of 13 bytes")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", header)
    if depth not in _PNG_DEPTHS.get(colour, ()) or compression or filtering or interlace > 1:
        return _png_problem(f"PNG header is invalid (bit depth {depth}, colour type {colour})")
    if not width or not height:
        return _png_problem("PNG image has no pixels (width or height 0)")
    if width > MAX_SIDE or height > MAX_SIDE:
        return CheckedImage("png", width, height, (ImageProblem(0, 0, f"image is {width} x {height} pixels; the limit is {MAX_SIDE} on each side"),))
    if not any(kind == b"IDAT" for kind, _ in chunks):
        return _png_problem("PNG file has no image data (no IDAT chunk)")
    return CheckedImage("png", float(width), float(height), ())


def _png_problem(message: str) -> CheckedImage:
    return CheckedImage("png", None, None, (ImageProblem(0, 0, message),))


def _png_chunks(data: bytes) -> tuple[list[tuple[bytes, bytes]], str | None]:
    chunks: list[tuple[bytes, bytes]] = []
    offset = len(PNG_SIGNATURE)
    while offset < len(data):
        if offset + 12 > len(data):
            return chunks, "PNG file is truncated (a chunk header runs past the end)"
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        end = offset + 8 + length
        if end + 4 > len(data):
            return chunks, f"PNG chunk '{kind.decode('latin-1')}' runs past the end of the file (truncated?)"
        body = data[offset + 8 : end]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[end : end + 4])[0]:
            return chunks, f"PNG chunk '{kind.decode('latin-1')}' has a wrong checksum (damaged file)"
        chunks.append((kind, body))
        offset = end + 4
        if kind == b"IEND":
            return chunks, None if offset == len(data) else "data after the PNG's IEND chunk is not allowed"
    return chunks, "PNG file ends without an IEND chunk (truncated?)"
