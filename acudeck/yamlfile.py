"""Plain-data YAML with the location of every key and value.

Only mappings, sequences and scalars are built, straight from libyaml's events: no tags, anchors
or aliases (so no object construction and no alias bombs), and duplicate keys are errors.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from .errors import Location, Problem, SourceError
from .safefs import read_source, too_large

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 32
# Values (mappings, lists and scalars) in one file: 40 for each of the 5,000 cards a file may hold (a
# real card has about ten). It keeps a file's plain data to some 50 MB, however short its values
# (`[a,a,a,...]` is two bytes a value).
MAX_VALUES = 200_000
# A plain scalar that YAML would read as a number or a date is never that long; converting a long one
# can take quadratic time (sexagesimal `1:2:3:...`) or fail (over 4,300 digits).
MAX_NUMBER_CHARS = 100

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path_ = tuple  # a trail of keys and indexes from the document root, e.g. ("cards", 3, "front")


@dataclass
class YamlDocument:
    """A loaded file: its data, and where each value and key of it stands."""

    path: str
    data: Any
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    text: str = ""

    def text_start(self, line: int) -> int:
        """The column where the text of `line` starts, past its indentation."""
        lines = self._lines
        if not 1 <= line <= len(lines):
            return 1
        return len(lines[line - 1]) - len(lines[line - 1].lstrip(" ")) + 1

    @cached_property
    def _lines(self) -> list[str]:
        return self.text.splitlines()  # once: a file can have thousands of problems that ask

    def at(self, trail: Path_ = ()) -> Location:
        """The location of the value at `trail`, or of its nearest located parent."""
        trail = tuple(trail)
        while trail not in self.values and trail:
            trail = trail[:-1]
        line, col = self.values.get(trail, (1, 1))
        return Location(self.path, line, col)

    def key_at(self, trail: Path_) -> Location:
        """The location of the key that leads to `trail` (for unknown or duplicate keys)."""
        if tuple(trail) in self.keys:
            line, col = self.keys[tuple(trail)]
            return Location(self.path, line, col)
        return self.at(trail)


def read_text(path: Path, display: str) -> str:
    """The file's text, or a located error for the mistakes that stop YAML from reading it."""
    return decode_text(read_bytes(path, display), display)


def read_bytes(path: Path, display: str) -> bytes:
    """The file's bytes, read without following a link or blocking on a FIFO, and refused by its
    size before it is read (see safefs.py)."""
    return read_source(path, display, MAX_FILE_BYTES)


def decode_text(raw: bytes, display: str) -> str:
    """The text of a file's bytes, or a located error for the mistakes that stop YAML from reading it."""
    if len(raw) > MAX_FILE_BYTES:
        raise SourceError([too_large(display, MAX_FILE_BYTES)])
    if raw.startswith(b"\xef\xbb\xbf"):
        raise SourceError([Problem(Location(display, 1, 1), "file starts with a byte-order mark; save it as UTF-8 without BOM")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        raise SourceError([Problem(Location(display, line, col), f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x})")])


def load_yaml(path: Path, display: str | None = None) -> YamlDocument:
    """Load one YAML file as plain data; raise SourceError with located problems."""
    display = display or str(path)
    text = read_text(path, display)
    return parse_yaml(text, display)


def parse_yaml(text: str, display: str) -> YamlDocument:
    if (nel := text.find("\x85")) >= 0:
        # The one C1 control that YAML reads raw, as a line break: a value would silently change.
        raise SourceError([_control_problem(text, nel, display)])
    doc = YamlDocument(display, None, text=text)
    loader = _Loader(text)
    try:
        builder = _Builder(loader, doc)
        doc.data = builder.document()
    except yaml.MarkedYAMLError as exc:
        raise SourceError([_slip(exc, text, display) or _syntax_problem(exc, display)]) from None
    except yaml.reader.ReaderError as exc:
        raise SourceError([_control_problem(text, exc.position, display, _codepoint(exc.character))]) from None
    except yaml.YAMLError as exc:
        raise SourceError([Problem(Location(display), f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    return doc


def _control_problem(text: str, position: int, display: str, codepoint: int | None = None) -> Problem:
    before = text[:position]
    line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
    codepoint = ord(text[position]) if codepoint is None else codepoint
    return Problem(Location(display, line, col), f"control character U+{codepoint:04X} is not allowed in YAML")


def _syntax_problem(exc: yaml.MarkedYAMLError, display: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "invalid YAML"
    if "'\\t'" in problem or "tab character" in problem:
        return Problem(Location(display, line, col), "tab character: indent YAML with spaces")
    if "maximum nesting depth" in problem:  # libyaml's own limit, which its scanner meets before ours on `[[[[...`
        return Problem(Location(display, line, col), f"nested deeper than {MAX_DEPTH} levels")
    message = f"YAML syntax error: {problem}"
    if exc.context:
        message += f" ({exc.context})"
    return Problem(Location(display, line, col), message)


# The commonest slips, told in plain words with their fix, where they are (tests/bad_inputs/yaml-slip-*):
# an unclosed quote (at its opening), curly quotes used as quotes, a value with ': ' unquoted, '-id:'
# with no space, 'front:x' with no space, a key indented unlike its neighbours, a list item at the
# wrong indent; and a tab (in _syntax_problem).
_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?P<key>[A-Za-z_][\w-]*):(?P<gap> *)(?P<value>.*)$")


def _slip(exc: yaml.MarkedYAMLError, text: str, display: str) -> Problem | None:
    lines = text.splitlines()
    mark, context = exc.problem_mark, exc.context_mark
    problem = exc.problem or ""

    def at(line: int, col: int, message: str) -> Problem:
        return Problem(Location(display, line + 1, col + 1), message)

    def line_text(index: int) -> str:
        return lines[index] if 0 <= index < len(lines) else ""

    if "while scanning a quoted scalar" in (exc.context or "") and "end of stream" in problem and context:
        quote = line_text(context.line)[context.column : context.column + 1] or '"'
        return at(context.line, context.column, f"this {quote} opens a quoted value that is never closed: end the value with {quote} on the same line")
    if not mark:
        return None
    for index in (mark.line - 1, mark.line):  # libyaml stops on the line after '-id: a'
        current = line_text(index)
        if (dash := re.match(r"^( *)-(?=[^\s-])", current)) and "mapping values" in problem:
            return at(index, len(dash.group(1)), "a list item needs a space after '-': write '- " + current[len(dash.group(0)) :].strip()[:40] + "'")
    for index in range(context.line if context else mark.line, mark.line + 1):
        current = line_text(index)
        found = _KEY_LINE.match(current)
        if found and found.group("value")[:1] in "“‘”’" and found.group("value"):
            col = found.start("value")
            return at(index, col, "curly quotes (“ ” ‘ ’) are not YAML quotes: put the value in straight quotes, \"...\" or '...'")
        if "simple key" in (exc.context or "") and (nospace := re.match(r"^( *(?:- +)?)([A-Za-z_][\w-]*):(?=[^\s:])", current)):
            col = len(nospace.group(0))
            return at(index, col, f"a space is missing after '{nospace.group(2)}:': write '{nospace.group(2)}: {current[col:].strip()[:40]}'")
    current = line_text(mark.line)
    found = _KEY_LINE.match(current)
    if "mapping values" in problem and found and found.group("gap") and mark.column > found.start("value"):
        key, value = found.group("key"), found.group("value")
        return at(mark.line, found.start("value"), f"the value of '{key}' holds ': ', which YAML reads as a new key: put the value in quotes, {key}: \"{value[:40]}\"")
    if "mapping values" in problem and found:
        neighbour = _neighbour_indent(lines, mark.line)
        indent = len(found.group("indent"))
        if neighbour is not None and neighbour != indent:
            return at(mark.line, indent, f"'{found.group('key')}' is indented {indent} spaces, the key above it {neighbour}: the keys of one card line up under each other")
    if "did not find expected key" in problem and current.lstrip().startswith("- "):
        indent = len(current) - len(current.lstrip())
        items = [len(line) - len(line.lstrip()) for line in lines[: mark.line] if line.lstrip().startswith("- ")]
        if items and items[0] != indent:
            return at(mark.line, indent, f"this list item starts {indent} spaces in, the items above it {items[0]}: line up the '-' of every item")
    return None


def _neighbour_indent(lines: list[str], index: int) -> int | None:
    """The indentation of the nearest key line above `index`."""
    for line in reversed(lines[:index]):
        found = _KEY_LINE.match(line)
        if found:
            return len(found.group("indent")) + len(found.group("dash") or "")
    return None


class _Refused(Exception):
    def __init__(self, mark, message):
        self.mark, self.message = mark, message


class _Builder:
    def __init__(self, loader, doc: YamlDocument):
        self.loader = loader
        self.doc = doc
        self.values_left = MAX_VALUES

    def _pos(self, mark) -> tuple[int, int]:
        return (mark.line + 1, mark.column + 1)

    def document(self) -> Any:
        loader = self.loader
        loader.get_event()  # StreamStartEvent
        if loader.check_event(yaml.StreamEndEvent):
            raise SourceError([Problem(Location(self.doc.path, 1, 1), "file is empty")])
        loader.get_event()  # DocumentStartEvent
        try:
            data = self.node(loader.get_event(), (), 0)
        except _Refused as exc:
            line, col = self._pos(exc.mark)
            raise SourceError([Problem(Location(self.doc.path, line, col), exc.message)]) from None
        loader.get_event()  # DocumentEndEvent
        if not loader.check_event(yaml.StreamEndEvent):
            event = loader.get_event()
            line, col = self._pos(event.start_mark)
            raise SourceError([Problem(Location(self.doc.path, line, col), "more than one YAML document in the file")])
        return data

    def node(self, event, trail: tuple, depth: int) -> Any:
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark, "YAML aliases (*name) are not allowed; write the value out")
        if event.anchor is not None:
            raise _Refused(event.start_mark, "YAML anchors (&name) are not allowed; write the value out")
        if event.tag is not None and event.tag != "!":
            raise _Refused(event.start_mark, f"YAML tags ({event.tag}) are not allowed; only plain data is read")
        if depth > MAX_DEPTH:
            raise _Refused(event.start_mark, f"nested deeper than {MAX_DEPTH} levels")
        self.values_left -= 1
        if self.values_left < 0:
            raise _Refused(event.start_mark, f"more than {MAX_VALUES:,} values in one file; split it into several files")
        line, col = self._pos(event.start_mark)
        if isinstance(event, yaml.ScalarEvent) and event.style in ("|", ">"):
            line += 1  # a block scalar's text starts on the line after its indicator
        self.doc.values[trail] = (line, col)
        if isinstance(event, yaml.ScalarEvent):
            return self.scalar(event)
        if isinstance(event, yaml.SequenceStartEvent):
            return self.sequence(trail, depth)
        return self.mapping(trail, depth)

    def scalar(self, event) -> Any:
        _refuse_escaped_controls(event)
        if event.tag == "!" or event.style:
            return event.value
        tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        kind = _CONSTRUCTED.get(tag)
        if kind is None:  # text, or `<<` and `=` written as a value: text too
            return event.value
        shown = _shown(event.value)
        if len(event.value) > MAX_NUMBER_CHARS:
            raise _Refused(event.start_mark, f"'{shown}' is too long to be read as {kind}; put it in quotes")
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
        try:
            value = self.loader.construct_object(node)
        except Exception:  # whatever the constructor makes of the text: 2024-02-30, 25:00:00, ...
            raise _Refused(event.start_mark, f"'{shown}' looks like {kind} but is not one; put it in quotes") from None
        finally:
            self.loader.constructed_objects.clear()  # it keeps every node it built
        if isinstance(value, float) and not math.isfinite(value):
            raise _Refused(event.start_mark, f"'{shown}' is not a finite number; put it in quotes")
        return value

    def sequence(self, trail: tuple, depth: int) -> list:
        items: list[Any] = []
        loader = self.loader
        while not loader.check_event(yaml.SequenceEndEvent):
            items.append(self.node(loader.get_event(), trail + (len(items),), depth + 1))
        loader.get_event()
        return items

    def mapping(self, trail: tuple, depth: int) -> dict:
        result: dict[str, Any] = {}
        loader = self.loader
        keys = self.doc.keys
        while not loader.check_event(yaml.MappingEndEvent):
            key_event = loader.get_event()
            if not isinstance(key_event, yaml.ScalarEvent):
                if isinstance(key_event, yaml.AliasEvent):
                    raise _Refused(key_event.start_mark, "YAML aliases (*name) are not allowed; write the value out")
                raise _Refused(key_event.start_mark, "a key must be plain text, not a list or mapping")
            if key_event.anchor is not None or (key_event.tag is not None and key_event.tag != "!"):
                raise _Refused(key_event.start_mark, "a key must be plain text, without anchors or tags")
            _refuse_escaped_controls(key_event)
            key = key_event.value
            child = trail + (key,)
            if key in result:
                first = keys[child]
                raise _Refused(key_event.start_mark, f"duplicate key '{_shown(key)}' (first defined at line {first[0]})")
            keys[child] = self._pos(key_event.start_mark)
            result[key] = self.node(loader.get_event(), child, depth + 1)
        loader.get_event()
        return result


# The plain scalars that YAML reads as something other than text, and what a user calls them.
_CONSTRUCTED = {
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:bool": "a yes/no value",
    "tag:yaml.org,2002:null": "nothing (null)",
}


def _shown(text: str) -> str:
    """A user's text quoted in a message: escaped onto one line and at most 60 characters."""
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= 60 else text[:57] + "..."


# What a double-quoted scalar's escapes (\x1f, \u0000, \e, \x85, \N, ...) can write but the YAML reader
# refuses as raw text: C0, DEL and C1 controls. U+001F matters most: Anki separates a note's fields with it.
_ESCAPED_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _refuse_escaped_controls(event) -> None:
    if event.style == '"' and (found := _ESCAPED_CONTROL.search(event.value)):
        raise _Refused(event.start_mark, f"control character U+{ord(found.group()):04X} is not allowed, even written as an escape")


def _codepoint(character: str | int) -> int:
    """libyaml reports the offending character as an int, the pure-Python reader as a string."""
    return character if isinstance(character, int) else ord(character)
