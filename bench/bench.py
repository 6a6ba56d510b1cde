"""Benchmark acudeck against a floor (PyYAML + genanki doing the same work with nothing else).

    python bench/bench.py                       # 1,000, 10,000 and 50,000 cards
    python bench/bench.py --quick               # 1,000 cards only (well under a minute)
    python bench/bench.py --sizes 10000         # any comma-separated sizes
    python bench/bench.py --floor DIR           # (internal) run the floor program on DIR

A worst-case row checks, next to the good deck, a deck of the same bytes made of the nastiest
inputs at the size caps (Markdown nested and chained as deep as it goes, 100 clozes a text,
fields of 10,000 characters, compare cards of 12 such items, cards with a problem in every line,
a cloze bomb), against a check of the good deck, both without the cache.

Every step runs in a fresh Python process. The steps run in rounds, three by default
(--repeat), so that a drift in the machine's speed touches every step alike; wall time is
measured with time.perf_counter around the child, and the table shows each step's median. One
more round measures memory only: the largest single process (os.wait4's max RSS, which covers
the worker processes acudeck starts too) and, on Linux, the sampled sum over the child and its
workers ("all MB", proportional set sizes, so that pages a worker shares with its parent count
once). Sampling /proc slows the processes it reads, so that round is not timed. acudeck's
modules are byte-compiled first, as pip compiles an installed package's. The synthetic source
trees are deterministic (seeded) and live in a temporary folder that is removed afterwards
(--keep keeps it).
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD_PY = REPO / "build.py"
DECK_KEY = "bench"
CARDS_PER_FILE = 250
SEED = 20261127
TIMESTAMP = 1_700_000_000.0
CACHE_DIR = ".acudeck-cache"
OUT_DIR = "decks"

# The types in rough proportion to a real deck: mostly basic and cloze, some of the rest.
TYPE_WEIGHTS = {"basic": 45, "reversed": 10, "cloze": 20, "point": 10, "compare": 15}

# fmt: off
WORDS = [
    "needle", "insertion", "depth", "angle", "muscle", "fascia", "trigger", "point", "motor", "nerve", "root", "segment", "spinal", "tissue",
    "response", "twitch", "stimulation", "acupuncture", "meridian", "channel", "pain", "syndrome", "chronic", "acute", "shortening", "tension",
    "release", "practitioner", "patient", "treatment", "session", "technique", "filiform", "solid", "fine", "tip", "tendon", "ligament", "shoulder",
    "scapula", "rotator", "cuff", "supraspinatus", "infraspinatus", "teres", "minor", "major", "subscapularis", "deltoid", "trapezius", "rhomboid",
    "levator", "neck", "lumbar", "thoracic", "cervical", "radiculopathy", "neuropathy", "sensitivity", "supersensitivity", "denervation",
    "paraspinal", "referral", "pattern", "palpation", "tenderness", "band", "contraction", "relaxation", "blood", "flow", "healing", "inflammation",
    "electrical", "current", "manual", "rotation", "deqi", "sensation", "ache", "heaviness", "distension", "qi", "balance", "theory", "western",
    "model", "evidence", "clinical", "trial",
]
# fmt: on
MUSCLES = ("supraspinatus", "infraspinatus", "teres minor", "teres major", "deltoid", "trapezius", "rhomboid", "levator scapulae", "gluteus medius", "piriformis")
CHANNELS = ("LI", "SI", "ST", "SP", "HT", "BL", "KI", "PC", "SJ", "GB", "LR", "LU", "GV", "CV")
COMPARED = ("Dry needling", "IMS", "Acupuncture", "Massage", "Physiotherapy", "Cupping")


# --------------------------------------------------------------------------- synthetic sources


def _words(rng: random.Random, low: int, high: int) -> str:
    """Plain words, between low and high characters long."""
    target = rng.randint(low, high)
    out: list[str] = []
    length = 0
    while length < target:
        word = rng.choice(WORDS)
        out.append(word)
        length += len(word) + 1
    text = " ".join(out)
    return text[:high].rstrip() if len(text) > high else text


def _markdown(rng: random.Random, text: str, allow_list: bool) -> str:
    """About a third of the fields get Markdown: bold, emphasis, or (answers) a list."""
    if rng.random() >= 1 / 3:
        return text
    words = text.split(" ")
    kind = rng.choice(("bold", "em", "list") if allow_list and len(words) >= 6 else ("bold", "em"))
    if kind == "list":
        third = len(words) // 3
        parts = [" ".join(words[:third]), " ".join(words[third : 2 * third]), " ".join(words[2 * third :])]
        return "\n".join(f"- {part}" for part in parts)
    i = rng.randrange(len(words))
    words[i] = f"**{words[i]}**" if kind == "bold" else f"*{words[i]}*"
    return " ".join(words)


def _question(rng: random.Random, n: int) -> str:
    # The card number makes every question distinct (acudeck refuses two cards asking the same thing).
    stem = _words(rng, 30, 105)
    return _markdown(rng, f"{stem.capitalize()} (case {n})?", allow_list=False)


def _answer(rng: random.Random, n: int | None = None) -> str:
    text = _words(rng, 20, 190)
    if n is not None:
        text = f"{text} ({n})"
    return _markdown(rng, text.capitalize() + ".", allow_list=True)


def make_card(rng: random.Random, n: int, card_type: str) -> dict:
    card: dict = {"id": f"{rng.choice(WORDS)}-{card_type}-{n}", "type": card_type}
    if card_type == "basic":
        card["front"] = _question(rng, n)
        card["back"] = _answer(rng)
    elif card_type == "reversed":
        # Both sides are asked, so the back must be distinct too.
        card["front"] = _question(rng, n)
        card["back"] = _answer(rng, n)
    elif card_type == "cloze":
        deletions = rng.randint(1, 3)
        parts = [f"{_words(rng, 15, 40).capitalize()} (case {n})"]
        for k in range(1, deletions + 1):
            parts.append(f"{{{{c{k}::{_words(rng, 5, 25)}}}}}")
            parts.append(_words(rng, 10, 35))
        card["text"] = _markdown(rng, " ".join(parts) + ".", allow_list=False)
    elif card_type == "point":
        # Point and muscle are both asked: each card gets its own of both.
        card["point"] = f"{rng.choice(CHANNELS)} {n}"
        card["muscle"] = f"{rng.choice(MUSCLES)} part {n}"
    else:
        card["aspect"] = _question(rng, n)
        names = rng.sample(COMPARED, 3)
        card["items"] = {name: f"{_answer(rng)} [{k}]" for k, name in enumerate(names)}
    if rng.random() < 0.3:
        card["extra"] = _answer(rng)
    if rng.random() < 0.4:
        card["source"] = _words(rng, 30, 160)
    if rng.random() < 0.2:
        card["tags"] = [f"bench::{rng.choice(WORDS)}"]
    return card


def generate(root: Path, n_cards: int) -> None:
    """Write cards_src/bench/ under root: deck.yaml and one part-NNNN.yaml per CARDS_PER_FILE cards."""
    import yaml

    rng = random.Random(SEED + n_cards)
    deck_dir = root / "cards_src" / DECK_KEY
    deck_dir.mkdir(parents=True)
    (deck_dir / "deck.yaml").write_text(
        f'key: {DECK_KEY}\nname: "Bench::Synthetic {n_cards}"\ndescription: A synthetic deck for benchmarks.\ntags: [bench]\n'
        'reading:\n  title: "A synthetic reading"\n  author: "Nobody"\n',
        encoding="utf-8",
    )
    types = list(TYPE_WEIGHTS)
    weights = list(TYPE_WEIGHTS.values())
    for index, start in enumerate(range(0, n_cards, CARDS_PER_FILE)):
        cards = [make_card(rng, n, rng.choices(types, weights)[0]) for n in range(start, min(start + CARDS_PER_FILE, n_cards))]
        write_card_file(deck_dir, index, cards, yaml)


def write_card_file(deck_dir: Path, index: int, cards: list[dict], yaml=None) -> None:
    if yaml is None:
        import yaml
    text = yaml.dump({"cards": cards}, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=1000)
    (deck_dir / f"part-{index:04d}.yaml").write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- the worst case

WORST_KEY = "worst"
WORST_STEP = "worst case: check --no-cache"
# What the worst case may cost, against a check of the good deck of the same bytes (no cache either).
# Markdown made of nothing but markup costs markdown-it about 5 to 10 microseconds a character,
# against well under one for prose; a compare card's items are repeated in each of its notes.
WORST_TIME_RATIO = 10
WORST_MEMORY_RATIO = 3
WORST_MEMORY_MB = 600
FIELD_CAP = 10_000  # the schema's maxLength of a text field
WORST_CARDS_PER_FILE = 60
MAX_PROBLEM_LINES = 51  # per file: 50 problems, then one line that counts the rest


def _at_cap(pattern: str, n: int, cap: int = FIELD_CAP) -> str:
    """`pattern` repeated to a field of `cap` characters, made distinct by the card number."""
    tail = f" (case {n})"
    return (pattern * (cap // len(pattern) + 1))[: cap - len(tail)] + tail


def worst_card(n: int) -> dict:
    """Card `n` of the worst-case deck: twelve kinds in turn, each as costly as the caps allow."""
    kind = n % 12
    if kind == 0:
        card = {"type": "basic", "front": f"Brackets (case {n})?", "back": _at_cap("[", n)}
    elif kind == 1:
        card = {"type": "basic", "front": f"Images in brackets (case {n})?", "back": _at_cap("![", n)}
    elif kind == 2:
        card = {"type": "basic", "front": f"Emphasis runs (case {n})?", "back": _at_cap("*_", n)}
    elif kind == 3:
        card = {"type": "reversed", "front": _at_cap("[![", n), "back": _at_cap("**a** ", n)}
    elif kind == 4:  # 100 deletions, the most a text takes: 100 cards
        card = {"type": "cloze", "text": _at_cap(" ".join(f"{{{{c{i}::w{i}}}}} and" for i in range(1, 101)) + " " + "word " * 2000, n)}
    elif kind == 5:  # the cloze bomb
        card = {"type": "cloze", "text": "{{c99999999::x}} " + _at_cap("{{c1::a}} ", n, FIELD_CAP - 17)}
    elif kind == 6:
        card = {"type": "basic", "front": f"Plain (case {n})?", "back": _at_cap("needle depth angle ", n)}
    elif kind == 7:  # a quote in a quote in ...: past the nesting cap
        card = {"type": "basic", "front": f"Quotes (case {n})?", "back": _at_cap("> ", n)}
    elif kind == 8:  # a problem for every key
        card = {"type": "basic", **{f"unknown{i}": "x" for i in range(15)}}
    elif kind == 9:  # a refused link on every line
        card = {"type": "basic", "front": f"Links (case {n})?", "back": _at_cap("[x](javascript:1)\n", n)}
    elif kind == 10:  # every item's note repeats the whole table
        card = {"type": "compare", "aspect": f"Compared (case {n})", "items": {f"item {i}": _at_cap(f"**{i}** ", n) for i in range(12)}}
    else:
        card = {"type": "basic", "front": f"Lists (case {n})?", "back": _at_cap("- ", n)}
    return {"id": f"worst-{n}", **card}


def generate_worst(root: Path, size: int) -> None:
    """cards_src/worst/ under root: worst-case card files adding up to about `size` bytes."""
    import yaml

    deck_dir = root / "cards_src" / WORST_KEY
    deck_dir.mkdir(parents=True)
    (deck_dir / "deck.yaml").write_text(f"key: {WORST_KEY}\nname: Worst case\n", encoding="utf-8")
    written, n, index = 0, 0, 0
    while written < size:
        cards = [worst_card(k) for k in range(n, n + WORST_CARDS_PER_FILE)]
        text = yaml.dump({"cards": cards}, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=1000)
        cut = _cut_to(text, size - written)
        (deck_dir / f"part-{index:04d}.yaml").write_text(cut, encoding="utf-8")
        written, n, index = written + len(cut.encode()), n + WORST_CARDS_PER_FILE, index + 1


def _cut_to(text: str, size: int) -> str:
    """The file's first cards that fit in about `size` bytes (at least one card)."""
    if len(text.encode()) <= size:
        return text
    starts = [m.start() for m in re.finditer("\n- id: ", text)]
    fitting = [i for i in starts[1:] if i <= size]
    return text[: fitting[-1] + 1] if fitting else text[: starts[1] + 1] if len(starts) > 1 else text


def source_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / "cards_src").rglob("*.yaml"))


def worst_output_ok(log: Path) -> str:
    """'' when a worst-case check said what it should: only located lines, at most 51 a file; else what is wrong."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    per_file: dict[str, int] = {}
    for line in lines:
        path, _, rest = line.partition(":")
        if "Traceback" in line or not rest or not rest.split(":", 2)[0].isdigit():
            return f"not a located line: {line[:100]}"
        per_file[path] = per_file.get(path, 0) + 1
    worst = max(per_file.values(), default=0)
    return "" if 0 < worst <= MAX_PROBLEM_LINES else f"{worst} lines for one file"


# --------------------------------------------------------------------------- the floor


def floor(root: Path) -> None:
    """The least any tool can do: parse every card file with libyaml, one genanki note per card,
    write the .apkg, then rewrite the zip compressed (acudeck writes compressed, reproducible zips)."""
    import genanki
    import yaml

    model = genanki.Model(
        1_607_392_319,
        "Floor",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}],
    )
    deck = genanki.Deck(2_059_400_110, "Floor")
    for path in sorted((root / "cards_src" / DECK_KEY).glob("part-*.yaml")):
        with open(path, encoding="utf-8") as f:
            data = yaml.load(f, Loader=yaml.CSafeLoader)
        for card in data["cards"]:
            t = card["type"]
            if t in ("basic", "reversed"):
                fields = [card["front"], card["back"]]
            elif t == "cloze":
                fields = [card["text"], card.get("extra", "")]
            elif t == "point":
                fields = [card["point"], card["muscle"]]
            else:
                fields = [card["aspect"], "<br>".join(f"{k}: {v}" for k, v in card["items"].items())]
            deck.add_note(genanki.Note(model=model, fields=fields, guid=card["id"]))
    out = root / "floor"
    out.mkdir(exist_ok=True)
    raw = out / "floor.apkg"
    genanki.Package(deck).write_to_file(str(raw), timestamp=TIMESTAMP)
    final = out / "floor-deflated.apkg"
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(final, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))


# --------------------------------------------------------------------------- measuring


@dataclass
class Result:
    step: str
    seconds: float
    peak_mb: float
    ok: bool
    note: str = ""
    tree_mb: float = 0.0  # sampled peak of the process and its workers together (Linux only)


def _tree_memory_kb(pid: int) -> int:
    """Memory of a process and its descendants, from /proc; 0 where there is no /proc. Each process
    counts its proportional set size (Pss): pages that forked workers share with their parent are
    split between them instead of being counted once per process, as summing RSS would."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            total += next((int(line.split()[1]) for line in rollup if line.startswith("Pss:")), 0)
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                total += sum(_tree_memory_kb(int(child)) for child in children.read().split())
    except (OSError, ValueError):
        pass
    return total


def run(step: str, argv: list[str], log_dir: Path, timeout: float = 3600, sample: bool = False, expect: int = 0, verify=None) -> Result:
    """Run argv as a fresh process: wall time, and its own peak RSS (os.wait4's rusage); with
    `sample`, also the peak of the process and its workers together, read from /proc every 20 ms
    (which slows the processes it reads, so such a run's time is not reported)."""
    log = log_dir / f"{step.replace(' ', '_').replace('/', '_')}.log"
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = start + timeout
        tree_kb, next_sample = 0, start
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter()
            if now > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            if sample and now >= next_sample:
                tree_kb, next_sample = max(tree_kb, _tree_memory_kb(proc.pid)), now + 0.02
            time.sleep(0.002)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    peak_mb = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    ok = proc.returncode == expect
    note = verify(log) if ok and verify else ""
    ok = ok and not note
    if proc.returncode != expect:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        note = f"exit {proc.returncode}: " + " | ".join(tail)
    return Result(step, seconds, peak_mb, ok, note, max(tree_kb / 1024, peak_mb) if tree_kb else 0.0)


def has_no_cache_option() -> bool:
    out = subprocess.run([sys.executable, str(BUILD_PY), "build", "--help"], capture_output=True, text=True, cwd=REPO)
    return "--no-cache" in out.stdout


def reset(root: Path) -> None:
    for name in (OUT_DIR, CACHE_DIR):
        shutil.rmtree(root / name, ignore_errors=True)


def edit_one_card(root: Path) -> None:
    """Change the back of one basic card (the middle file's first one) and rewrite that file only."""
    import yaml

    paths = sorted((root / "cards_src" / DECK_KEY).glob("part-*.yaml"))
    index = len(paths) // 2
    cards = yaml.load(paths[index].read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)["cards"]
    card = next((c for c in cards if c["type"] == "basic"), cards[0])
    key = next(k for k in ("back", "text", "muscle", "aspect") if k in card)
    card[key] = card[key] + " Edited for the benchmark."
    write_card_file(root / "cards_src" / DECK_KEY, index, cards, yaml)


def combined(timed: list[Result], runs: list[Result]) -> Result:
    """Several runs of one step: the median time of the timed runs (a busy machine slows single
    runs), and the largest memory of all of them."""
    seconds = sorted(r.seconds for r in timed)[len(timed) // 2]
    failed = [r for r in runs if not r.ok]
    return Result(runs[0].step, seconds, max(r.peak_mb for r in runs), not failed, failed[0].note if failed else "", max(r.tree_mb for r in runs))


def bench_size(n_cards: int, no_cache: bool, keep: bool, repeat: int = 3) -> dict[str, Result]:
    tmp = Path(tempfile.mkdtemp(prefix=f"acudeck-bench-{n_cards}-"))
    root = tmp / "project"
    logs = tmp / "logs"
    logs.mkdir()
    try:
        # Generating and editing happen in child processes: a forked child's max RSS starts at its
        # parent's, so the parent must stay small for the children's peaks to be their own.
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--generate", str(root), str(n_cards)], check=True)
        n_files = len(list((root / "cards_src" / DECK_KEY).glob("part-*.yaml")))
        print(f"\n== {n_cards:,} cards in {n_files} files (generated in {time.perf_counter() - t0:.1f} s, {root})", flush=True)
        worst = tmp / "worst"
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--generate-worst", str(worst), str(source_bytes(root))], check=True)
        print(f"   worst case: {source_bytes(worst):,} bytes of card files, against {source_bytes(root):,}", flush=True)
        acudeck = [sys.executable, str(BUILD_PY), "-C", str(root)]

        def edit() -> None:
            subprocess.run([sys.executable, str(Path(__file__).resolve()), "--edit", str(root)], check=True)

        def forget_check() -> None:  # a check that passed is replayed next time; each measured one checks for real
            (root / CACHE_DIR / "check.json").unlink(missing_ok=True)

        cold = "cold build (--no-cache)" if no_cache else "cold build (no cache yet)"
        # In order, as a round: each one leaves what the next needs (a built deck and its cache).
        steps = [
            ("floor", [sys.executable, str(Path(__file__).resolve()), "--floor", str(root)], None),
            (cold, [*acudeck, "build", *(["--no-cache"] if no_cache else [])], lambda: reset(root)),
            ("cold build with cache", [*acudeck, "build"], lambda: reset(root)),
            ("rebuild, nothing changed", [*acudeck, "build"], None),
            ("rebuild, one card edited", [*acudeck, "build"], edit),
            ("check", [*acudeck, "check"], forget_check),
            ("check --no-cache", [*acudeck, "check", "--no-cache"], None),
            (WORST_STEP, [sys.executable, str(BUILD_PY), "-C", str(worst), "check", "--no-cache"], None),
            ("--help", [sys.executable, str(BUILD_PY), "--help"], None),
        ]
        # Whole rounds rather than each step `repeat` times in a row: the machine's own speed drifts,
        # and a ratio of two steps (one-edit rebuild to cold build) should see the same drift in both.
        # The last round only samples memory.
        runs: dict[str, list[Result]] = {name: [] for name, _, _ in steps}
        for i in range(repeat + 1):
            for name, argv, before in steps:
                if before:
                    before()
                worst_case = {"expect": 1, "verify": worst_output_ok} if name == WORST_STEP else {}
                runs[name].append(run(name, argv, logs, sample=i == repeat, **worst_case))
        results: dict[str, Result] = {}
        for name, all_runs in runs.items():
            timed = all_runs[:-1]
            results[name] = r = combined(timed, all_runs)
            spread = f" ({min(x.seconds for x in timed):.2f}-{max(x.seconds for x in timed):.2f})" if repeat > 1 else ""
            print(f"   {name:<28} {r.seconds:8.2f} s{spread} {r.peak_mb:8.1f} MB {r.tree_mb:8.1f} MB all{'' if r.ok else '   FAILED ' + r.note}", flush=True)
        return results
    finally:
        if keep:
            print(f"   (kept {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def cold_of(results: dict[str, Result]) -> Result:
    return next(r for name, r in results.items() if name.startswith("cold build (") and name != "cold build with cache")


def print_table(n_cards: int, results: dict[str, Result]) -> None:
    floor_r = results["floor"]
    cold = cold_of(results)
    print(f"\n{n_cards:,} cards")
    print(f"  {'step':<28} {'seconds':>9} {'peak MB':>9} {'all MB':>9}  ratio")
    for name, r in results.items():
        if name == "floor":
            ratio = "1.00 x floor"
        elif name.startswith("cold build"):
            ratio = f"{r.seconds / floor_r.seconds:.2f} x floor"
        elif name == WORST_STEP:
            ratio = f"{r.seconds / results['check --no-cache'].seconds:.2f} x check --no-cache"
        elif name.startswith("rebuild") or name.startswith("check"):
            ratio = f"{r.seconds / cold.seconds:.2f} x cold build"
        else:
            ratio = ""
        flag = "" if r.ok else f"  FAILED ({r.note})"
        print(f"  {name:<28} {r.seconds:9.3f} {r.peak_mb:9.1f} {r.tree_mb:9.1f}  {ratio}{flag}")


def print_targets(n_cards: int, results: dict[str, Result]) -> bool:
    floor_r = results["floor"]
    cold = cold_of(results)
    unchanged = results["rebuild, nothing changed"]
    one_edit = results["rebuild, one card edited"]
    default_cold = results.get("cold build with cache")
    default_ratio = f"; {one_edit.seconds / default_cold.seconds:.3f} x the default cold build" if default_cold and default_cold is not cold else ""
    acudeck_steps = [r for name, r in results.items() if name not in ("floor", WORST_STEP)]
    peak = max(max(r.peak_mb, r.tree_mb) for r in acudeck_steps)
    worst, good_check = results[WORST_STEP], results["check --no-cache"]
    worst_peak, good_peak = max(worst.peak_mb, worst.tree_mb), max(good_check.peak_mb, good_check.tree_mb)
    targets = [
        (f"cold build <= 1.3 x floor ({cold.seconds:.2f} s vs {1.3 * floor_r.seconds:.2f} s)", cold.ok and cold.seconds <= 1.3 * floor_r.seconds),
        (f"unchanged rebuild < 0.5 s ({unchanged.seconds:.2f} s)", unchanged.ok and unchanged.seconds < 0.5),
        (
            f"one-edit rebuild < 0.25 x cold build ({one_edit.seconds:.2f} s vs {0.25 * cold.seconds:.2f} s{default_ratio})",
            results["rebuild, one card edited"].ok and results["rebuild, one card edited"].seconds < 0.25 * cold.seconds,
        ),
        (f"--help < 0.25 s ({results['--help'].seconds:.3f} s)", results["--help"].ok and results["--help"].seconds < 0.25),
        (f"peak memory < 300 MB, workers included ({peak:.0f} MB)", all(r.ok for r in acudeck_steps) and peak < 300),
        (
            f"worst case: check <= {WORST_TIME_RATIO} x the good deck's ({worst.seconds:.2f} s vs {WORST_TIME_RATIO * good_check.seconds:.2f} s)",
            worst.ok and good_check.ok and worst.seconds <= WORST_TIME_RATIO * good_check.seconds,
        ),
        (
            f"worst case: peak memory <= {WORST_MEMORY_RATIO} x the good deck's check and < {WORST_MEMORY_MB} MB ({worst_peak:.0f} MB vs {good_peak:.0f} MB)",
            worst.ok and worst_peak <= WORST_MEMORY_RATIO * good_peak and worst_peak < WORST_MEMORY_MB,
        ),
    ]
    label = f"{n_cards:,} cards" + ("" if n_cards == 50_000 else " (50,000 not run: targets judged at the largest size run)")
    print(f"\nTargets at {label}:")
    print("  " + "; ".join(f"{text}: {'PASS' if ok else 'FAIL'}" for text, ok in targets))
    return all(ok for _, ok in targets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,50000", help="comma-separated card counts (default: 1000,10000,50000)")
    parser.add_argument("--quick", action="store_true", help="1,000 cards only")
    parser.add_argument("--keep", action="store_true", help="keep the generated projects and logs")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step; the table shows the median time (default: 3)")
    parser.add_argument("--floor", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=2, metavar=("DIR", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--edit", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--generate-worst", nargs=2, metavar=("DIR", "BYTES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor:
        floor(Path(args.floor))
        return 0
    if args.generate:
        generate(Path(args.generate[0]), int(args.generate[1]))
        return 0
    if args.edit:
        edit_one_card(Path(args.edit))
        return 0
    if args.generate_worst:
        generate_worst(Path(args.generate_worst[0]), int(args.generate_worst[1]))
        return 0
    try:
        sizes = [1000] if args.quick else [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes: expected comma-separated integers, got {args.sizes!r}")
    if not sizes or any(n < 1 for n in sizes):
        parser.error("--sizes: every size must be a positive integer")
    # Byte-compile acudeck as pip does for an installed package: otherwise, where PYTHONDONTWRITEBYTECODE
    # is set (in some containers), every step would compile acudeck's modules again while the
    # floor's libraries load theirs from .pyc.
    compileall.compile_dir(REPO / "acudeck", quiet=1)
    no_cache = has_no_cache_option()
    how = "available" if no_cache else "not available: cold build = build after deleting decks/ and .acudeck-cache/"
    print(f"python {sys.version.split()[0]} ({sys.executable}); build --no-cache {how}")
    if args.repeat < 1:
        parser.error("--repeat: must be at least 1")
    all_results = {n: bench_size(n, no_cache, args.keep, args.repeat) for n in sizes}
    for n, results in all_results.items():
        print_table(n, results)
    largest = 50_000 if 50_000 in all_results else max(all_results)
    return 0 if print_targets(largest, all_results[largest]) else 1


if __name__ == "__main__":
    sys.exit(main())
