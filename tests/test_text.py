"""Field rendering: the shortcut for plain text must give exactly what the Markdown path gives."""

from hypothesis import given, settings
from hypothesis import strategies as st

from acudeck.text import render_markdown, render_markdown_fully

ALPHABET = st.sampled_from(list("abcXYZ019 .,;:?'\"()/%-+#>=~|{}\u00e9\u2019") + ["  ", "1.", "2)", "- ", "# "])


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
