"""The order students meet a package's cards: each card's new-card position (its `due` while new).

Anki's default deck options gather new cards by position, 20 a day, and do not bury siblings, so
every card a student meets on a day can see the backs of the cards met before it that day. Two
cards made from one source card (the notes of a compare, the deletions of a cloze, both sides of a
reversed or point card, the spots of a picture) often answer each other: a compare's table, a
cloze's other deletions, an `extra` about the next spot.

The authored order (a deck's card files in order, cards in file order, a card's notes in order, a
note's cards by ord) is kept, except that **siblings are spread**: a stable greedy interleave
fills the positions one by one, each with the first card in authored order whose latest placed
sibling is at least its family's gap back. A card whose sibling is too close waits, and the cards
after it move up; it takes the first position it is allowed. The gap is `SIBLING_SPREAD`, or, for a
family too large to fit at that distance between its first card and the end of the package (k
cards from authored index p of n: (n - 1 - p) // (k - 1) < 20), that quotient, at least 1: such a
family is spread as evenly as the rest of the package allows instead of piling up at its end. When
no card is allowed, the position goes to the card whose latest sibling is furthest back (the
earliest authored among equals). A small deck with large families can still put siblings on one
day: the leak test (tests/test_leaks.py) judges.

Positions are card data: they are not note content, so they move no note mod and no ledger entry.
Anki never changes an existing card on import, so they decide the order of newly added cards only.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Hashable, Sequence

SIBLING_SPREAD = 20  # Anki's default day of new cards: siblings this far apart are never met the same day


def spread(families: Sequence[Hashable], gap: int = SIBLING_SPREAD) -> list[int]:
    """The order of the cards (indexes into `families`, which names each card's source card, in
    authored order): siblings at least `gap` apart wherever the greedy rule above can manage.

    Runs over every card of the largest deck on every build: a pointer walks the authored order,
    and only the cards that must wait go through heaps (waiting by the position they may take,
    then, once allowed, by authored index); a card that waits always comes before the pointer."""
    ids: dict[Hashable, int] = {}
    family_of = [ids.setdefault(family, len(ids)) for family in families]
    total = len(family_of)
    if len(ids) == total:
        return list(range(total))
    gaps = _gaps(family_of, len(ids), gap)
    last = [-total - gap] * len(ids)  # the position of each family's latest placed card
    held: list[deque[int] | None] = [None] * len(ids)  # per family, its cards the pointer passed while one of them waited
    waits = [False] * len(ids)  # the family has a card in `waiting` or `allowed`
    waiting: list[tuple[int, int, int]] = []  # (first position allowed, card, family)
    allowed: list[tuple[int, int]] = []  # (card, family)
    order: list[int] = []
    pointer = 0
    for position in range(total):
        while waiting and waiting[0][0] <= position:
            _, card, family = heapq.heappop(waiting)
            heapq.heappush(allowed, (card, family))
        if allowed:
            card, family = heapq.heappop(allowed)
        else:  # the first card from the pointer on that may take the position; those passed wait
            while pointer < total:
                card, family = pointer, family_of[pointer]
                pointer += 1
                if waits[family]:  # behind a sibling that waits: after it, in authored order
                    queue = held[family]
                    if queue is None:
                        queue = held[family] = deque()
                    queue.append(card)
                elif position - last[family] >= gaps[family]:
                    break
                else:
                    heapq.heappush(waiting, (last[family] + gaps[family], card, family))
                    waits[family] = True
            else:  # none may: the card whose sibling is furthest back
                _, card, family = heapq.heappop(waiting)
        order.append(card)
        last[family], waits[family] = position, False
        queue = held[family]
        if queue:
            heapq.heappush(waiting, (position + gaps[family], queue.popleft(), family))
            waits[family] = True
    return order


def _gaps(family_of: list[int], count: int, gap: int) -> list[int]:
    """Per family, the distance it can keep: `gap`, or as much as fits after its first card."""
    total = len(family_of)
    first = dict(zip(reversed(family_of), range(total - 1, -1, -1), strict=True))  # the earliest index wins
    size = Counter(family_of)
    return [_gap(total, first[family], size[family], gap) for family in range(count)]


def _gap(total: int, first: int, size: int, gap: int) -> int:
    if size < 2:
        return gap
    return max(1, min(gap, (total - 1 - first) // (size - 1)))


def positions(families: Sequence[Hashable], gap: int = SIBLING_SPREAD) -> list[int]:
    """Each card's new-card position (from 1, as Anki numbers them), by `spread`."""
    found = [0] * len(families)
    for position, index in enumerate(spread(families, gap), 1):
        found[index] = position
    return found
