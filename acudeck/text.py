"""Field text: Markdown to the HTML that reaches a card, with nothing active in it.

markdown-it-py (a CommonMark-compliant, maintained parser) renders with raw HTML turned off, so any
HTML a contributor writes is shown as text. Links and images are checked against an allowlist and
reported with their place; nh3 (bindings to the Rust sanitizer ammonia) then cleans the result
against an allowlist of tags and attributes as a second line of defence.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import unquote

LINK_SCHEMES = ("http://", "https://", "mailto:")
_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "blockquote",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
_MEDIA_NAME = re.compile(r"^[^/\\:\x00-\x1f\x7f-\x9f]+$")
_URL_MISREAD = re.compile(r"[#%?]")  # a browser would read a fragment, a query or an escape


@dataclass
class Rendered:
    html: str
    images: list[str] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line within the text, message)


# How deep markdown-it lets blocks (quotes, lists) and inline markup (links, emphasis) go inside each
# other: it bounds the parser's work on `[[[[...` (about 10 ms per 1,000 characters at this depth).
# Past it, inline markup stays text, and a block's content is dropped: that is reported.
MAX_NESTING = 12


@cache
def _parser():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "maxNesting": MAX_NESTING})
    # Every link is parsed so that a refused one is reported instead of silently left as text.
    md.validateLink = lambda url: True
    return md


# Text that Markdown and the sanitizer both leave exactly as it is: letters, digits, spaces and a
# few inert punctuation marks (no '<', '>' or '&'), not starting a block (list, heading, rule) and
# without runs of spaces. The result must equal the full path's; tests/test_text.py checks that on
# generated text.
_PLAIN = re.compile(r"(?![-+#>=]|\d+[.)])[^\W_](?:[^\W_]|[ .,;:?'\"()/%+#=@$^{}|-])*(?<! )|[^\W_]")


def render_markdown(text: str, media_names: Mapping[str, str] | None = None) -> Rendered:
    """Render one field. A single paragraph comes out without its <p>, as Anki fields usually are.
    An image's file name goes into its `src` as it is (as Anki stores it), or as `media_names`
    renames it."""
    if _PLAIN.fullmatch(text) and "  " not in text:
        return Rendered(text)
    return render_markdown_fully(text, media_names)


def render_markdown_fully(text: str, media_names: Mapping[str, str] | None = None) -> Rendered:
    md = _parser()
    tokens = md.parse(text)
    result = Rendered("")
    _check_nesting(tokens, result)
    _check_links(tokens, result, media_names or {})
    if len(tokens) == 3 and tokens[0].type == "paragraph_open":
        out = md.renderer.render(tokens[1].children or [], md.options, {})
    else:
        out = md.renderer.render(tokens, md.options, {}).rstrip("\n")
    result.html = sanitize(out)
    return result


def _check_nesting(tokens, result: Rendered) -> None:
    """A block opened at the last level leaves its content to a level markdown-it does not parse."""
    for token in tokens:
        if token.nesting == 1 and token.level >= MAX_NESTING - 1 and token.type not in ("paragraph_open", "heading_open"):
            result.problems.append((token.map[0] if token.map else 0, "Markdown nested too deeply (lists and quotes inside each other); its text would be lost"))
            return


def _check_links(tokens, result: Rendered, media_names: Mapping[str, str], line: int = 0) -> None:
    for token in tokens:
        if token.map:
            line = token.map[0]
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            if not href.lower().startswith(LINK_SCHEMES):
                result.problems.append((line, f"link target '{_short(href)}' is not allowed; links must start with http://, https:// or mailto:"))
        elif token.type == "image":
            # markdown-it percent-encodes the src (bürste.png becomes b%C3%BCrste.png): the file is the decoded name.
            name = unquote(str(token.attrGet("src") or ""), errors="replace")
            if not _MEDIA_NAME.match(name) or name.startswith("."):
                result.problems.append((line, f"image '{_short(name)}' must be a file name in the deck's media/ folder, without a path"))
            elif found := _URL_MISREAD.search(name):
                result.problems.append((line, f"image '{_short(name)}': a file name with '{found.group()}' would be misread as part of a URL; rename the file"))
            else:
                token.attrSet("src", media_names.get(name, name))
                result.images.append(name)
        if token.children:
            _check_links(token.children, result, media_names, line)


def _short(text: str, limit: int = 60) -> str:
    return shown(text if len(text) <= limit else text[: limit - 3] + "...")


def shown(text: str) -> str:
    """Text for a message, with what would not print (controls, zero-width characters) as escapes."""
    return text if text.isprintable() else "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


def sanitize(fragment: str) -> str:
    import nh3

    return nh3.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def plain(text: str) -> str:
    """Text shown as it is written (quotes, names): escaped, never interpreted."""
    return html.escape(text, quote=True)


# A cloze deletion as Anki and genanki find one: {{c<number>::<answer>}} or {{c<number>::<answer>::<hint>}}.
CLOZE_DELETION = re.compile(r"\{\{c(\d+)::(.+?)\}\}", re.S)
MAX_CLOZE = 100  # deletions c1 to c100 in one text: far more than one fact needs, and as many cards
HUGE_CLOZE = 10**9  # stands for any number of ten digits or more, which is never converted


def _cloze_number(digits: str) -> int:
    """Python refuses to convert over 4,300 digits, and a field may hold 10,000."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) < 10 else HUGE_CLOZE


def cloze_card_numbers(text: str) -> list[int]:
    """The number of every deletion, in order, repeats included; any of ten digits or more is HUGE_CLOZE."""
    return [_cloze_number(match.group(1)) for match in CLOZE_DELETION.finditer(text)]


def cloze_numbers(text: str) -> list[int]:
    return sorted(set(cloze_card_numbers(text)))


def cloze_answer(deletion: re.Match[str]) -> str:
    """The answer of a CLOZE_DELETION match, without its hint."""
    return deletion.group(2).split("::", 1)[0]


# --------------------------------------------------------------------------- what a student sees

# A tag of the sanitized HTML, whose attribute values are quoted and may hold '>'.
_TAG = re.compile(r"<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
# Letters and marks that render as blank (Hangul fillers, braille blank, joiners, Khmer and
# Mongolian vowel marks), besides the format characters (category Cf) and whitespace.
_BLANK = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u2800\u3164\uffa0")


def visible_text(fragment: str) -> str:
    """The text of rendered HTML: tags removed, entities decoded (Markdown escapes are already)."""
    if "<" not in fragment and "&" not in fragment:
        return fragment
    return html.unescape(_TAG.sub("", fragment))


def is_invisible(ch: str) -> bool:
    """Whitespace, or a character that shows nothing (zero-width space, soft hyphen, word joiner, BOM...)."""
    code = ord(ch)
    return ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc") or ch in _BLANK or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def shows_something(fragment: str) -> bool:
    """Whether rendered HTML shows the student anything: an image, or a visible character."""
    if "<img" in fragment:
        return True
    shown = visible_text(fragment)
    if shown.isascii():
        return not shown.isspace() and bool(shown)  # no ASCII character is invisible but whitespace (and controls, refused)
    return not all(map(is_invisible, shown))


def comparable(fragment: str) -> str:
    """Rendered HTML as a student would compare it: its visible text, NFKC-normalised, without
    invisible characters, case-folded, with runs of whitespace as one space."""
    text = visible_text(fragment)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = unicodedata.normalize("NFKC", "".join(ch for ch in text if ch.isspace() or not is_invisible(ch)).casefold())
    return " ".join(text.casefold().split())
