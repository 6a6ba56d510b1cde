"""Field rendering: the shortcut for plain text must give exactly what the Markdown path gives."""

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from acudeck.text import comparable, render_markdown, render_markdown_fully, shows_something, visible_text

ALPHABET = st.sampled_from(list("abcXYZ019 .,;:?'\"()/%-+#>=~|{}\u00e9\u2019\u200b\u00ad\\[$") + ["  ", "1.", "2)", "- ", "# "])


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(ALPHABET, max_size=12).map("".join))
def test_plain_text_shortcut_matches_markdown(text):
    assert render_markdown(text) == render_markdown_fully(text)


def test_plain_text_is_escaped():
    assert render_markdown('Say "hi" (it\'s 50% off)').html == render_markdown_fully('Say "hi" (it\'s 50% off)').html
    assert render_markdown("1. item").html == "<ol>\n<li>item</li>\n</ol>"


@settings(max_examples=600, deadline=None, database=None)
@given(st.text(max_size=30))
def test_plain_text_shortcut_matches_markdown_on_any_text(text):
    assert render_markdown(text) == render_markdown_fully(text)


# What a student sees of a field (duplicate questions, fields that show nothing, hidden clozes) is
# read with a regular expression over the sanitized HTML: it must agree with an HTML parser.
MARKDOWN = st.sampled_from(
    list("ab ") + ["**", "*", "`", '[x](https://e.com/a>b "t>i\'tle")', "![a>t](p.png)", "<b>", "&amp;", "&#8203;", "\u200b", "\n\n", "# ", "---\n", "{{c1::x}}"]
)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(MARKDOWN, max_size=10).map("".join))
def test_visible_text_matches_an_html_parser(markdown):
    fragment = render_markdown_fully(markdown).html
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    assert visible_text(fragment) == "".join(parser.parts)


def test_what_counts_as_showing_something():
    for nothing in ("", "\u200b\u2060\ufeff", "\u00ad", "---", "#", "** **", "[](https://e.com)", "&nbsp;", "\u3164"):
        assert not shows_something(render_markdown(nothing).html), repr(nothing)
    for something in ("a", "![](p.png)", "<!-- -->", "`x`", "\u200ba"):
        assert shows_something(render_markdown(something).html), repr(something)


def test_questions_compare_as_a_student_reads_them():
    same = ["What is X?", "**What** is X?", "Ｗhat is X?", "What\u200b is X?", "what  is *x*?", "What is X\\?"]
    assert len({comparable(render_markdown(text).html) for text in same}) == 1
    assert comparable(render_markdown("What is Y?").html) != comparable(render_markdown("What is X?").html)
