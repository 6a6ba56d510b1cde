"""The order students meet cards: authored (deck.yaml `files:`, cards in file order, a course's
recipe), with siblings spread (acudeck/order.py); positions are card data and move no note mod."""

from __future__ import annotations

import random

from conftest import run, write
from test_leaks import study_days, words

from acudeck.contents import read_apkg
from acudeck.order import SIBLING_SPREAD, _interleave, positions, spread


def test_without_siblings_the_order_is_the_authored_one():
    assert spread(list(range(50))) == list(range(50))


def _check_spread(families: list[int], order: list[int], gap: int) -> None:
    assert sorted(order) == list(range(len(families)))
    placed: dict[int, list[int]] = {}
    for position, index in enumerate(order):
        placed.setdefault(families[index], []).append(position)
    for family, at in placed.items():
        members = [i for i, f in enumerate(families) if f == family]
        assert [order[p] for p in at] == members, "a family keeps its own authored order"
        assert all(b - a >= gap for a, b in zip(at, at[1:], strict=False)), family


def test_siblings_are_spread_a_day_apart_and_the_rest_keeps_its_order():
    rng = random.Random(7)
    families = [rng.randrange(60) for _ in range(300)]  # families of about five cards, in a deck of 300
    families += list(range(1000, 1100))  # single cards after them, which fill the gaps
    order = spread(families)
    _check_spread(families, order, SIBLING_SPREAD)
    singles = [i for i in order if families[i] >= 1000]
    assert singles == sorted(singles)


def test_a_sibling_waits_and_the_next_cards_move_up():
    families = ["a", "a", "a", *range(45)]
    assert spread(families) == [0, *range(3, 22), 1, *range(22, 41), 2, *range(41, 48)]
    assert positions(families)[:4] == [1, 21, 41, 2]


def test_a_family_too_large_for_the_deck_is_spread_evenly():
    families = ["a"] * 4 + list(range(10))
    order = spread(families)
    _check_spread(families, order, (len(families) - 1) // 3)
    assert order == [0, 4, 5, 6, 1, 7, 8, 9, 2, 10, 11, 12, 3, 13]


def plain_greedy(families: list, gap: int) -> list[int]:
    """The rule of order.py, position by position, as simply as it can be written."""
    members: dict = {}
    for index, family in enumerate(families):
        members.setdefault(family, []).append(index)
    total = len(families)
    own_gap = {f: gap if len(m) < 2 else max(1, min(gap, (total - 1 - m[0]) // (len(m) - 1))) for f, m in members.items()}
    placed: dict = {}  # family -> position of its latest placed card
    left = list(range(total))
    order = []
    for position in range(total):
        heads = [i for i in left if all(j not in left for j in members[families[i]] if j < i)]
        allowed = [i for i in heads if families[i] not in placed or position - placed[families[i]] >= own_gap[families[i]]]
        card = allowed[0] if allowed else min(heads, key=lambda i: (placed[families[i]] + own_gap[families[i]], i))
        order.append(card)
        left.remove(card)
        placed[families[card]] = position
    return order


def test_the_fast_interleave_is_the_plain_greedy_one():
    rng = random.Random(3)
    for _ in range(300):
        total = rng.randint(1, 90)
        families = [rng.randrange(rng.randint(1, total)) for _ in range(total)]
        if rng.random() < 0.3:
            families.sort()  # families in runs, as a compare's notes are
        ids: dict = {}
        families = [ids.setdefault(family, len(ids)) for family in families]
        gap = rng.choice([1, 2, 5, SIBLING_SPREAD])
        assert _interleave(families, gap) == plain_greedy(families, gap), (families, gap)


def test_a_family_authored_last_is_pulled_ahead_so_that_its_siblings_keep_a_day_apart():
    families = [*range(60), "a", "a", "a"]  # a three-sided card at the end of the deck
    order = spread(families)
    assert sorted(order) == list(range(len(families)))
    _check_spread(families, order, SIBLING_SPREAD)
    assert order.index(60) <= len(families) - 1 - 2 * SIBLING_SPREAD  # its first card comes where the rest fit
    assert [card for card in order if card < 60] == list(range(60))  # everything else keeps its order


def test_several_late_families_are_pulled_ahead_until_each_keeps_its_distance():
    families = [*range(100), *[f for f in "abcdef" for _ in range(3)]]  # six three-sided cards at the end
    order = spread(families)
    assert sorted(order) == list(range(len(families)))
    _check_spread(families, order, SIBLING_SPREAD)


def _project(root, files_line: str = ""):
    write(root / "cards_src/d/deck.yaml", f'key: d\nname: "Test::d"\n{files_line}')
    write(root / "cards_src/d/a.yaml", "cards:\n  - id: a\n    type: basic\n    front: What comes from file a?\n    back: Alpha.\n")
    b_cards = "  - id: b\n    type: basic\n    front: What comes from file b?\n    back: Beta.\n"
    b_cards += "  - id: b2\n    type: basic\n    front: What else comes from file b?\n    back: Bravo.\n"
    write(root / "cards_src/d/b.yaml", "cards:\n" + b_cards)
    return root


def _fronts(apkg, tmp_path) -> list[str]:
    return [words(met.describe()) for day in study_days(apkg, tmp_path) for met in day]


def test_the_files_list_of_deck_yaml_orders_the_cards_and_moves_no_note(tmp_path):
    root = _project(tmp_path / "p")
    assert run(root, "build").exit_code == 0
    assert _fronts(root / "decks/d.apkg", tmp_path / "s1") == ["what comes from file a", "what comes from file b", "what else comes from file b"]
    before, ledger = read_apkg(root / "decks/d.apkg"), (root / "decks/d.lock.json").read_bytes()
    write(root / "cards_src/d/deck.yaml", 'key: d\nname: "Test::d"\nfiles: [b.yaml, a.yaml]\n')
    checked = run(root, "check")
    assert checked.exit_code == 1 and "the order of new cards differs" in checked.stderr
    assert run(root, "build").exit_code == 0
    assert _fronts(root / "decks/d.apkg", tmp_path / "s2") == ["what comes from file b", "what else comes from file b", "what comes from file a"]
    after = read_apkg(root / "decks/d.apkg")
    assert after["notes"] == before["notes"] and after["order"] != before["order"]
    assert (root / "decks/d.lock.json").read_bytes() == ledger


def test_a_course_keeps_the_order_of_its_recipe(tmp_path):
    root = _project(tmp_path / "p")
    write(root / "courses/week.yaml", 'key: week\nname: "Test::week"\nselect:\n  - deck: d\n    ids: [b2]\n  - deck: d\n')
    result = run(root, "build")
    assert result.exit_code == 0, result.stderr
    assert _fronts(root / "decks/week.apkg", tmp_path / "s") == ["what else comes from file b", "what comes from file a", "what comes from file b"]


def _compare_and_basics(root, basics: int):
    write(root / "cards_src/d/deck.yaml", 'key: d\nname: "Test::d"\n')
    cards = "cards:\n  - id: strength\n    type: compare\n    aspect: How strong the stimulation is\n"
    cards += "    items:\n      Dry needling: The strongest\n      IMS: Often strong\n      Acupuncture: The gentlest\n"
    cards += "".join(f"  - id: b{n}\n    type: basic\n    front: What is fact number {n}?\n    back: Fact {n}.\n" for n in range(basics))
    write(root / "cards_src/d/cards.yaml", cards)
    return root


def test_a_deck_too_small_to_keep_a_cards_siblings_a_day_apart_is_warned_about(tmp_path):
    root = _compare_and_basics(tmp_path / "small", 30)
    result = run(root)
    assert result.exit_code == 0
    assert result.stderr == (
        "cards_src/d/cards.yaml:2:5: 'Test::d' holds 36 cards, too few to give the 6 cards of 'strength' a day each at 20 new cards "
        "a day: some meet on one day, where one's back answers another; add cards to the deck or make this card smaller\n"
    )
    assert run(root).stderr == result.stderr  # replayed from the cache alike


def test_a_deck_large_enough_spreads_them_without_a_word(tmp_path):
    root = _compare_and_basics(tmp_path / "large", 100)
    result = run(root)
    assert (result.exit_code, result.stderr) == (0, "")
    days = study_days(root / "decks/d.apkg", tmp_path / "anki")
    met = [[m.describe() for m in day if "stimulation" in m.describe()] for day in days]
    assert all(len(day) <= 1 for day in met) and sum(map(len, met)) == 6
