"""The preview page and the card CSS at phone and desktop width, in light and night mode, measured
in headless Chromium: every card uses the width of the screen, nothing is wider than the screen
(a compare table too wide for it scrolls inside its wrapper), and no word breaks inside."""

import json
import re
import shutil
import subprocess

import pytest
from conftest import REPO, run, write

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (Debian package chromium)")

# Wraps every word of the cards' text in a span, then measures, in light mode and then in night
# mode, and writes the result into the DOM as JSON (read back with --dump-dom).
MEASURE = """
<script>
window.addEventListener("load", function () {
  var width = document.documentElement.clientWidth;
  var walker = document.createTreeWalker(document.getElementById("cards"), NodeFilter.SHOW_TEXT);
  var texts = [];
  while (walker.nextNode()) texts.push(walker.currentNode);
  texts.forEach(function (node) {
    if (!node.nodeValue.trim() || node.parentNode.closest("script, style")) return;
    var frag = document.createDocumentFragment();
    node.nodeValue.split(/(\\s+)/).forEach(function (part) {
      if (!part) return;
      if (/^\\s+$/.test(part)) { frag.appendChild(document.createTextNode(part)); return; }
      part.split(/(?<=-)/).forEach(function (piece) {  // a line may end after a hyphen: "single-|use"
        var span = document.createElement("span");
        span.className = "measure-word";
        span.textContent = piece;
        frag.appendChild(span);
      });
    });
    node.parentNode.replaceChild(frag, node);
  });
  function inScroller(el) {
    for (var p = el.parentElement; p; p = p.parentElement) {
      if (p.classList.contains("compare-wrap")) return true;
    }
    return false;
  }
  function measure() {
    var result = {viewport: width, scrollWidth: document.documentElement.scrollWidth, cards: [], wide: [], broken: [], words: 0};
    document.querySelectorAll(".preview-sides > .card").forEach(function (el) {
      result.cards.push(el.getBoundingClientRect().width);
    });
    document.querySelectorAll("body *").forEach(function (el) {
      var box = el.getBoundingClientRect();
      var outside = box.right > width + 0.5 || box.left < -0.5;
      if (box.width && outside && !inScroller(el)) result.wide.push(el.tagName + "." + el.className + " " + Math.round(box.left) + ".." + Math.round(box.right));
    });
    document.querySelectorAll(".measure-word").forEach(function (el) {
      result.words++;
      if (el.getClientRects().length > 1) result.broken.push(el.textContent);
    });
    return result;
  }
  var light = measure();
  document.getElementById("night").click();
  var night = measure();
  parent.postMessage(JSON.stringify({light: light, night: night, nightOn: document.body.classList.contains("nightMode")}), "*");
});
</script>
"""

# Headless Chromium's window is at least 500 px wide: the page is measured in a frame of the width.
FRAME = """<!doctype html><html><body style="margin:0">
<iframe src="{src}" style="border:0; width:{width}px; height:900px"></iframe>
<script>
window.addEventListener("message", function (e) {{
  var out = document.createElement("pre");
  out.id = "measured";
  out.textContent = e.data;
  document.body.appendChild(out);
}});
</script></body></html>
"""

LONG_COMPARE = """\
cards:
  - id: long-compare
    type: compare
    aspect: How each technique is described by its practitioners
    items:
      Acupuncture: Traditional Chinese medicine inserting filiform needles along meridians
      Intramuscular Stimulation: Neuroanatomical treatment of neuropathic pain by stimulating motor points
      Dry needling: Treatment of myofascial trigger points with a solid filiform needle
      Electroacupuncture: Stimulation of acupuncture points with small electrical currents
    tags: [needling::comparison::a-rather-long-tag-name-that-goes-on, another::deeply::nested::tag::name]
"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Preview pages of the committed needling deck and its course, with one wide compare card added."""
    root = tmp_path_factory.mktemp("layout")
    shutil.copytree(REPO / "cards_src", root / "cards_src")
    shutil.copytree(REPO / "courses", root / "courses")
    write(root / "cards_src/needling/wide.yaml", LONG_COMPARE)
    deck = root / "cards_src/needling/deck.yaml"
    deck.write_text(re.sub(r"^files: \[(.*)\]$", r"files: [\1, wide.yaml]", deck.read_text(), flags=re.M))
    result = run(root, "preview")
    assert result.exit_code == 0, result.stderr
    return sorted((root / "decks/preview").glob("*.html"))


def measured(page, tmp_path, width):
    probe = tmp_path / f"probe-{page.stem}-{width}.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    frame = tmp_path / f"frame-{page.stem}-{width}.html"
    frame.write_text(FRAME.format(src=probe.name, width=width), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    command = [CHROMIUM, *flags, f"--user-data-dir={tmp_path / f'profile-{width}'}", f"--window-size={width + 40},1000", "--virtual-time-budget=5000", "--dump-dom", frame.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=90).stdout
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


@pytest.mark.parametrize("width", [390, 1280])
def test_cards_use_the_screen_and_no_word_breaks(pages, tmp_path, width):
    assert [page.name for page in pages] == ["acu-201-week-3.html", "needling.html"]
    for page in pages:
        result = measured(page, tmp_path, width)
        assert result["nightOn"]
        for mode in ("light", "night"):
            seen = result[mode]
            viewport = seen["viewport"]
            assert viewport == pytest.approx(width, abs=20), seen  # a scroll bar may take some
            assert seen["scrollWidth"] <= viewport, (page.name, mode, seen["wide"][:5])
            assert seen["wide"] == [], (page.name, mode)
            assert seen["words"] > 500 and seen["broken"] == [], (page.name, mode, seen["broken"][:10])
            # on a phone the two sides are stacked, each the width of the screen; on a desktop side by side
            share = 0.9 if width < 700 else 0.45
            assert seen["cards"] and min(seen["cards"]) >= share * viewport, (page.name, mode, min(seen["cards"]))
