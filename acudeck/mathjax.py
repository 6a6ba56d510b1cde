"""What Anki's card view would run from a field: LaTeX, and MathJax beyond plain math.

Anki desktop turns `[latex]...[/latex]`, `[$]...[/$]` and `[$$]...[/$$]` into a LaTeX run on
the student's computer (rslib latex.rs matches them case-insensitively), so they are refused
everywhere. Anki's reviewers run MathJax on `\\(...\\)` and `\\[...\\]` with packages that can
make links (`\\href`), set CSS and HTML attributes (`\\style`, `\\class`, `\\cssId`, `\\mmlToken`),
define macros (`\\def`, `\\newcommand`) or load more code (`\\require`): inside math, only the
commands in ALLOWED_COMMANDS, plain math that takes no text, URL or attribute, may be used.

The check reads a field's final HTML as the student's browser reads its text: entities decoded
once (`&#92;(` is a `\\(` to MathJax). Tags stay in the text, which can only widen what counts as
math: MathJax looks for math in each run of text between tags, and here every region that
starts anywhere in the field is read to its end (or to the end of the field).
"""

from __future__ import annotations

import html
import re

LATEX_MESSAGE = "LaTeX ([latex], [$], [$$]) is not supported: Anki would run LaTeX on the student's computer"

# Harmless math: symbols, operators, fonts and accents that take math arguments only.
# Not here on purpose: \href \url \style \class \cssId \data \html* \mmlToken \bbox \color \unicode
# \require \def \newcommand \renewcommand \let \csname \input \include \write18 \text* \mbox \fbox
# \operatorname (it takes text), \ce (mhchem), \toggle \mathtip \texttip (action), \begin \end.
_ALLOWED_GROUPS = {
    "Greek letters": "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa varkappa lambda mu nu xi pi varpi rho varrho "
    "sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega",
    "fractions, roots, big operators, functions": "frac dfrac tfrac sqrt binom dbinom tbinom sum prod coprod int iint iiint oint lim limsup liminf "
    "sup inf max min log ln lg exp sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth det dim deg gcd arg ker hom Pr bmod pmod mod "
    "limits nolimits displaystyle textstyle scriptstyle scriptscriptstyle",
    "operators, relations, symbols": "cdot cdots ldots dots vdots ddots times div pm mp ast star circ bullet oplus ominus otimes oslash odot setminus "
    "cup cap wedge vee land lor neg lnot le leq ge geq neq ne approx equiv sim simeq cong propto ll gg prec succ subset subseteq supset supseteq "
    "in notin ni mid nmid parallel perp not colon forall exists nexists emptyset varnothing infty partial nabla prime hbar ell Re Im aleph angle "
    "triangle therefore because degree",
    "arrows": "to gets rightarrow leftarrow leftrightarrow Rightarrow Leftarrow Leftrightarrow longrightarrow longleftarrow Longrightarrow "
    "Longleftarrow longleftrightarrow Longleftrightarrow mapsto uparrow downarrow updownarrow Uparrow Downarrow implies iff rightleftharpoons",
    "delimiters and their sizes": "left right middle big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr langle rangle lfloor rfloor lceil rceil "
    "vert Vert lvert rvert lVert rVert backslash",
    "fonts (of math)": "mathrm mathbf mathit mathsf mathtt mathcal mathbb mathfrak boldsymbol",
    "accents, over and under": "hat widehat bar overline underline vec tilde widetilde dot ddot acute grave breve check overbrace underbrace "
    "overrightarrow overleftarrow overset underset stackrel",
    "spacing": "quad qquad",
}
ALLOWED_COMMANDS = frozenset(name for names in _ALLOWED_GROUPS.values() for name in names.split())

_LATEX = re.compile(r"\[(?:latex|\$\$?)\]", re.IGNORECASE)
_MATH_START = re.compile(r"\\[(\[]")
# As MathJax's FindTeX reads the inside of math: a control sequence, or a brace.
_TOKEN = re.compile(r"\\(?:[a-zA-Z]+|.)|[{}]", re.DOTALL)


def active_content_problems(field_html: str) -> list[str]:
    """What in one field's final HTML would make Anki run LaTeX or MathJax beyond plain math."""
    if "\\" not in field_html and "[" not in field_html and "&" not in field_html:
        return []  # the common case, without decoding anything
    return text_problems(html.unescape(field_html))


def text_problems(text: str) -> list[str]:
    """The same, for the text a browser makes of the HTML (entities decoded)."""
    if "\\" not in text and "[" not in text:
        return []
    found = [LATEX_MESSAGE] if _LATEX.search(text) else []
    for name in sorted(set(math_commands(text)) - ALLOWED_COMMANDS):
        found.append(f"\\{name} is not allowed in math (\\(...\\) or \\[...\\]): math may use only the plain math commands listed in acudeck/mathjax.py")
    return found


def math_commands(text: str) -> list[str]:
    """The names of the control sequences (letters only) inside every math region of `text`.
    A region runs from `\\(` or `\\[` to its closing delimiter outside braces, as MathJax finds it,
    or to the end of the text when it is not closed."""
    names: list[str] = []
    pos = 0
    while start := _MATH_START.search(text, pos):
        close = "\\)" if start.group() == "\\(" else "\\]"
        depth = 0
        for token in _TOKEN.finditer(text, start.end()):
            part = token.group()
            if part == close and depth == 0:
                pos = token.end()
                break
            if part == "{":
                depth += 1
            elif part == "}":
                depth = max(depth - 1, 0)
            elif part[1:2].isalpha() and part[1:].isascii():
                names.append(part[1:])
        else:
            break  # not closed: everything to the end has been read
    return names


# --------------------------------------------------------------------------- cloze fields as Anki renders them

# Anki's {{cloze:...}} filter (rslib cloze.rs) replaces each deletion by a span (or its hint), then
# removes every tag between \( or \[ and the next \) or \] (its own regular expressions, copied
# here): text that tags kept apart in the field can meet inside math. Each side of each card is
# checked as the browser gets it.
_CLOZE_TOKEN = re.compile(r"\{\{c([0-9]+)::|\}\}")
_ANKI_MATHJAX = re.compile(r"(\\[(\[])(.*?)(\\[\])])", re.DOTALL | re.IGNORECASE)
_ANKI_HTML = re.compile(r"(<!--.*?-->)|(<style.*?>.*?</style>)|(<script.*?>.*?</script>)|(<.*?>)", re.DOTALL | re.IGNORECASE)
_MAX_OPEN_CLOZES = 10


class _Cloze:
    __slots__ = ("ordinal", "nodes", "hint")

    def __init__(self, ordinal: int):
        self.ordinal = ordinal
        self.nodes: list[str | _Cloze] = []
        self.hint: str | None = None


def cloze_problems(field_html: str) -> list[str]:
    """`active_content_problems` of every side of every card that Anki renders from a cloze field."""
    if not _CLOZE_RISK.search(field_html):
        return []  # no backslash, entity or bracket, and no hint that makes one ([$], [latex])
    return sorted({message for side in cloze_card_sides(field_html) for message in active_content_problems(side)})


_CLOZE_RISK = re.compile(r"[\\&\[$]|latex", re.IGNORECASE)


def cloze_card_sides(field_html: str) -> list[str]:
    """The HTML of the question and the answer of every card of a cloze field, as Anki renders it."""
    nodes = _parse_clozes(field_html)
    ordinals = sorted(_ordinals(nodes))
    sides = []
    for ordinal in ordinals:
        for question in (True, False):
            found = [False]
            revealed = "".join(node if isinstance(node, str) else _reveal(node, ordinal, question, found) for node in nodes)
            if found[0]:
                sides.append(_ANKI_MATHJAX.sub(lambda m: m[1] + _ANKI_HTML.sub("", m[2]) + m[3], revealed))
    return sides


def _tokens(text: str):
    """("open", n), ("close", None) and ("text", run), as rslib's tokenizer finds them."""
    pos = run_start = 0
    while match := _CLOZE_TOKEN.search(text, pos):
        if match[1] is not None and int(match[1]) > 0xFFFF:  # not a u16: not a cloze marker
            pos = match.start() + 1
            continue
        if match.start() > run_start:
            yield "text", text[run_start : match.start()]
        yield ("open", int(match[1])) if match[1] is not None else ("close", None)
        pos = run_start = match.end()
    if run_start < len(text):
        yield "text", text[run_start:]


def _parse_clozes(text: str) -> list[str | _Cloze]:
    output: list[str | _Cloze] = []
    open_clozes: list[_Cloze] = []
    for kind, value in _tokens(text):
        if kind == "open":
            if len(open_clozes) < _MAX_OPEN_CLOZES:
                open_clozes.append(_Cloze(value))
        elif kind == "text":
            if open_clozes:
                cloze = open_clozes[-1]
                if "::" in value:
                    value, cloze.hint = value.split("::", 1)
                cloze.nodes.append(value)
            else:
                output.append(value)
        elif open_clozes:
            cloze = open_clozes.pop()
            (open_clozes[-1].nodes if open_clozes else output).append(cloze)
        else:
            output.append("}}")
    return output  # clozes never closed are dropped, as Anki drops them


def _ordinals(nodes: list) -> set[int]:
    found: set[int] = set()
    for node in nodes:
        if isinstance(node, _Cloze) and node.ordinal:
            found |= {node.ordinal} | _ordinals(node.nodes)
    return found


def _reveal(cloze: _Cloze, ordinal: int, question: bool, found: list[bool]) -> str:
    active = cloze.ordinal == ordinal
    found[0] |= active
    if cloze.nodes and isinstance(cloze.nodes[0], str) and cloze.nodes[0].startswith("image-occlusion:"):
        return f'<div class="cloze" data-ordinal="{cloze.ordinal}"></div>'
    inner = "".join(node if isinstance(node, str) else _reveal(node, ordinal, question, found) for node in cloze.nodes)
    if question and active:
        hidden = html.escape(inner, quote=True)
        hint = "..." if cloze.hint is None else cloze.hint
        return f'<span class="cloze" data-cloze="{hidden}" data-ordinal="{cloze.ordinal}">[{hint}]</span>'
    kind = "cloze" if active else "cloze-inactive"
    return f'<span class="{kind}" data-ordinal="{cloze.ordinal}">{inner}</span>'
