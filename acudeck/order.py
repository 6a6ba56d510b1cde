"""The order students meet a package's cards: each card's new-card position (its `due` while new).

Anki's default deck options gather new cards by position, 20 a day, and do not bury siblings, so
every card a student meets on a day can see the backs of the cards met before it that day. Two
cards made from one source card (the notes of a compare, the deletions of a cloze, both sides of a
reversed or point card, the spots of a picture) often answer each other: a compare's table, a
cloze's other deletions, an `extra` about the next spot.

The authored order (a deck's card files in order, cards in file order, a card's notes in order, a
note's cards by ord) is kept, except that **siblings are spread**: which cards are siblings is the
card type's `SIBLINGS` (a note's cards, or all cards of one source card when a back shows the other
notes' answers, as a compare's table does). A stable greedy interleave fills the positions one by
one, each with the first card in authored order whose latest placed sibling is at least its
family's gap back; a card whose sibling is too close waits, and the cards after it move up.

Near the end of a package there is nothing left to put between siblings, so a family whose cards
would not fit at `SIBLING_SPREAD` before the end is **pulled ahead** first: its j-th of k cards
comes no later than (k - 1 - j) * SIBLING_SPREAD positions before the end, less a day of slack
(late families compete for the last positions), and further ahead, a day at a time, while the
interleave still has to put two of them closer. Only a family too large
for the whole package keeps a smaller gap ((n - 1 - first) // (k - 1), at least 1). When no card
is allowed, the position goes to the card whose latest sibling is furthest back. The leak test
(tests/test_leaks.py) judges the result with Anki's scheduler.

Positions are card data: they are not note content, so they move no note mod and no ledger entry.
Anki never changes an existing card on import, so they decide the order of newly added cards only.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Hashable, Sequence
from typing import NamedTuple, TypeVar

F = TypeVar("F", bound=Hashable)  # what names a family of siblings

SIBLING_SPREAD = 20  # Anki's default day of new cards: siblings this far apart are never met the same day


PULL_ROUNDS = 32  # at most this many times the cards of a late family are pulled further ahead (a dense tail takes about ten)


def spread(families: Sequence[Hashable], gap: int = SIBLING_SPREAD) -> list[int]:
    """The order of the cards (indexes into `families`, which names each card's group of siblings,
    in authored order): siblings at least `gap` apart.

    A family whose first card comes too late for its siblings to follow at `gap` before the end
    (k cards need (k - 1) * gap positions after the first) has its first card pulled ahead, to
    the latest position that leaves room, and further ahead while the interleave still has to put
    two of its cards closer; only then does it give up distance (`_gaps`)."""
    ids: dict[Hashable, int] = {}
    family_of = [ids.setdefault(family, len(ids)) for family in families]
    total = len(family_of)
    if len(ids) == total:
        return list(range(total))
    pulls = [gap] * len(ids)  # a day of slack: late families crowd each other, and without it a dense tail takes rounds
    for _ in range(PULL_ROUNDS):
        arranged = _arranged(family_of, len(ids), pulls, gap)
        order = [arranged[i] for i in _interleave([family_of[i] for i in arranged], gap)]
        close = _too_close(order, family_of, gap)
        if not close:
            break
        for family in close:
            pulls[family] += gap
    return order


def _arranged(family_of: list[int], count: int, pulls: list[int], gap: int) -> list[int]:
    """The authored order with the cards of each late family moved ahead to where they fit: its
    j-th of k cards to no later than `gap` * (k - 1 - j) before the end (less its pull). Only the
    tail can be late, so only the tail is read (from the end, counting each card's later siblings)."""
    total = len(family_of)
    size = Counter(family_of)
    reach = (max(size.values(), default=1) - 1) * gap + max(pulls, default=0)  # no card before the tail is late
    later = [0] * count  # per family, its cards seen so far from the end
    late: list[tuple[int, int]] = []  # (latest position, card) of the cards that come too late
    for index in range(total - 1, max(total - 2 - reach, -1), -1):
        family = family_of[index]
        latest = total - 1 - later[family] * gap - pulls[family]
        later[family] += 1
        if size[family] > 1 and index > latest:
            late.append((latest, index))
    if not late:
        return list(range(total))
    slots = []
    slot = total
    for latest, index in sorted(late, reverse=True):  # from the end: one late card to a position
        slot = min(latest, slot - 1)
        slots.append((max(slot, 0), index))
    moved = {index for _, index in slots}
    arranged: list[int] = []
    pending = sorted(slots)  # each goes just before the card now at its slot
    nxt = 0
    for index in range(total):
        while nxt < len(pending) and pending[nxt][0] <= index:
            arranged.append(pending[nxt][1])
            nxt += 1
        if index not in moved:
            arranged.append(index)
    arranged.extend(card for _, card in pending[nxt:])
    return arranged


def _too_close(order: list[int], family_of: list[int], gap: int) -> set[int]:
    """The crowded families among those that could keep `gap` in a package this long."""
    size = Counter(family_of)
    return {family for family in _crowded(order, family_of, gap) if (size[family] - 1) * gap <= len(order) - 1}


def _crowded(order: list[int], families: Sequence[F], gap: int) -> list[F]:
    """The families two of whose cards `order` puts fewer than `gap` positions apart, in the order found."""
    last: dict[F, int] = {}
    crowded: dict[F, None] = {}
    for position, card in enumerate(order):
        family = families[card]
        if family in last and position - last[family] < gap:
            crowded[family] = None
        last[family] = position
    return list(crowded)


def _interleave(families: Sequence[int], gap: int) -> list[int]:
    """The greedy interleave of the module's docstring, over the cards in the order given.

    Runs over every card of the largest deck on every build: a pointer walks the authored order,
    and only the cards that must wait go through heaps (waiting by the position they may take,
    then, once allowed, by authored index); a card that waits always comes before the pointer."""
    family_of = list(families)
    total = len(family_of)
    count = max(family_of, default=-1) + 1
    gaps = _gaps(family_of, count, gap)
    last = [-total - gap] * count  # the position of each family's latest placed card
    held: list[deque[int] | None] = [None] * count  # per family, its cards the pointer passed while one of them waited
    waits = [False] * count  # the family has a card in `waiting` or `allowed`
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


class Ordering(NamedTuple):
    positions: list[int]  # each card's new-card position, from 1 as Anki numbers them
    crowded: list[Hashable]  # the families two of whose cards are closer than the gap: they may meet on one day


def arrange(families: Sequence[Hashable], gap: int = SIBLING_SPREAD) -> Ordering:
    """Each card's new-card position by `spread`, and the families it could not keep apart."""
    order = spread(families, gap)
    found = [0] * len(families)
    for position, index in enumerate(order, 1):
        found[index] = position
    return Ordering(found, _crowded(order, families, gap))


def positions(families: Sequence[Hashable], gap: int = SIBLING_SPREAD) -> list[int]:
    """Each card's new-card position (from 1, as Anki numbers them), by `spread`."""
    return arrange(families, gap).positions
