"""Field text: Markdown to the HTML that reaches a card, with nothing active in it.

markdown-it-py (a CommonMark-compliant, maintained parser) renders with raw HTML turned off, so any
HTML a contributor writes is shown as text. Links and images are checked against an allowlist and
reported with their place; nh3 (bindings to the Rust sanitizer ammonia) then cleans the result
against an allowlist of tags and attributes as a second line of defence.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import cache

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
_MEDIA_NAME = re.compile(r"^[^/\\:\x00-\x1f]+$")


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


def render_markdown(text: str) -> Rendered:
    """Render one field. A single paragraph comes out without its <p>, as Anki fields usually are."""
    if _PLAIN.fullmatch(text) and "  " not in text:
        return Rendered(text)
    return render_markdown_fully(text)


def render_markdown_fully(text: str) -> Rendered:
    md = _parser()
    tokens = md.parse(text)
    result = Rendered("")
    _check_nesting(tokens, result)
    _check_links(tokens, result)
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


def _check_links(tokens, result: Rendered, line: int = 0) -> None:
    for token in tokens:
        if token.map:
            line = token.map[0]
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            if not href.lower().startswith(LINK_SCHEMES):
                result.problems.append((line, f"link target '{_short(href)}' is not allowed; links must start with http://, https:// or mailto:"))
        elif token.type == "image":
            src = str(token.attrGet("src") or "")
            if not _MEDIA_NAME.match(src) or src.startswith("."):
                result.problems.append((line, f"image '{_short(src)}' must be a file name in the deck's media/ folder, without a path"))
            else:
                result.images.append(src)
        if token.children:
            _check_links(token.children, result, line)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


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


_CLOZE = re.compile(r"\{\{c(\d+)::")
MAX_CLOZE = 100  # deletions c1 to c100 in one text: far more than one fact needs, and as many cards
HUGE_CLOZE = 10**9  # stands for any number of ten digits or more, which is never converted


def cloze_numbers(text: str) -> list[int]:
    """The deletion numbers in `text`, sorted; any of ten digits or more counts as 10**9 (Python
    refuses to convert over 4,300 digits, and a field may hold 10,000)."""
    digits = {n.lstrip("0") or "0" for n in _CLOZE.findall(text)}
    return sorted({int(n) if len(n) < 10 else HUGE_CLOZE for n in digits})
