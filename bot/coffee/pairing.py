"""Cup-of-coffee pairing: who meets whom this round, as a pure function.

`pair_round(participants, history=..., seed=...)` splits the people available this round into
pairs, plus one trio when the count is odd. It has no side effects and, for the same input and
seed, always returns the same groups (whatever order the participants come in). The caller
decides who is available (opted-out, paused, away and on-holiday members are left out before
calling) and stores the groups it gets back.

Input
-----
- `participants`: `Participant(id, organisation)` for everyone in this round (ids unique).
- `history`: how many times each pair of people (a `frozenset` of two ids) has met in earlier
  rounds. A trio counts as its three pairs. Pairs not in the mapping have never met; entries for
  people not in this round are ignored.
- `last_met` (optional): the index of the most recent round in which each pair met (larger =
  more recent). Only used to break ties between pairs that have met equally often, in favour of
  the pair that met longest ago.
- `seed`: breaks the remaining ties (a different seed gives a different but equally good round).

How the groups are chosen
-------------------------
Every possible grouping is scored by a cost, compared in this strict order (an earlier rule
always outweighs everything after it):

1. **Cross-organisation**: the number of groups whose members all come from one organisation.
   Zero whenever the membership allows it. When one organisation has more than half the people
   some same-organisation groups are unavoidable; there are then as few as possible:
   `(L - R - t) / 2`, where L is the size of the largest organisation, R everyone else, and
   t is 1 for an odd count (the trio can hold two people from the largest organisation).
2. **No repeats**: the number of pairs inside groups who have met before. Nobody meets someone
   again while the round could be arranged, across organisations, with people who have not met.
3. **Mixed trio**: the number of same-organisation pairs inside groups, which for an odd count
   means the trio takes people from three organisations when it can.
4. **Least met**: the total number of earlier meetings of the pairs in the groups.
5. **Longest ago**: the total of `last_met` round indices (when given).
6. **Most still to meet**: people who still have many people from other organisations to meet
   are paired (and put in the trio, where they meet two) ahead of those with few left. This
   looks ahead a little, so that over the rounds fewer people run out of new partners early.
7. **Seeded tie-break**: a pseudo-random number per pair, drawn from `seed`.

Structure is fixed, not scored: nobody is in two groups, everybody is in one group, all groups
are pairs except exactly one trio when the count is odd (and at least 3). One person alone gets
no group; zero people give an empty round.

Algorithm and guarantees
------------------------
The seven rules are folded into one integer cost per pair (each rule a "digit" in a base larger
than the largest possible total of the rules below it), so minimising the sum is exactly the
strict order above.

- **Even count**: a minimum-cost perfect matching (Edmonds' blossom algorithm, from
  `networkx.max_weight_matching`). The result is optimal for all seven rules together.
- **Odd count up to 15 people**: every possible trio is tried, each with an optimal matching of
  the others, so the result is optimal as well.
- **Odd count above 15**: the trio's odd one out is chosen by a matching with a dummy person,
  run once with anyone allowed to be the odd one out, once restricted to the largest
  organisation and once restricted to each organisation; that person joins the pair that suits
  them best, and a local search re-splits the trio with each pair (every way of dividing those
  five people into a trio and a pair) while that lowers the cost; the best result wins. Rule 1
  is still optimal (the run restricted to the largest organisation proves it); rules 2-7 are
  minimised but not guaranteed optimal (against the exact method on random 17-19 person rounds,
  59 of 60 were as good on rules 1-2).

Over many rounds, feeding each round's groups back into `history`, people meet everyone from
another organisation they can be paired with before meeting anyone twice, when the numbers
allow it. With 5/3/2 people in three organisations (tests/test_pairing.py, 26 rounds) all 25
possible cross-organisation pairs meet in rounds 1-5, the first repeat comes in round 6, and
repeats stay even (every pair has met 5 or 6 times after 26 rounds). The pairs that never meet
there are NHS Trust-Supplier: with half the people in the Council, such a pair would force two
Council members together (rule 1 wins). Pairing is chosen one round at a time and does not plan
a season, and when organisations are of uneven sizes people have different numbers of possible
partners: members of the largest organisation run out of new people first and must meet
someone again while others still have new people to meet (4/3/2 people: first repeat in round
5, everyone met by round 7). Rules 4 and 6 keep those repeats few and spread.

Time: a round of a few dozen people takes milliseconds; 200 people, about ten seconds.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

__all__ = ["EXACT_ODD_LIMIT", "Participant", "Person", "pair_round", "round_cost"]

# Odd rounds up to this many people try every possible trio (exact); larger ones use the
# dummy-person heuristic described in the module docstring.
EXACT_ODD_LIMIT = 15
_JITTER = 1 << 16
_DUMMY = "dummy"  # the extra node for odd rounds (networkx nodes cannot be None)


@dataclass(frozen=True)
class Person:
    """Someone available for this round: their person id and their organisation."""

    id: int
    organisation: str


Participant = Person


class _Scorer:
    """Folds the seven rules into one integer cost per group (see the module docstring)."""

    def __init__(
        self,
        people: Sequence[Person],
        history: Mapping[frozenset[int], int],
        last_met: Mapping[frozenset[int], int] | None,
        seed: int,
    ) -> None:
        self.org = {p.id: p.organisation for p in people}
        ids = sorted(self.org)
        present = set(ids)

        def relevant(mapping: Mapping[frozenset[int], int] | None) -> dict[frozenset[int], int]:
            out: dict[frozenset[int], int] = {}
            for key, value in (mapping or {}).items():
                key = frozenset(key)
                if len(key) == 2 and key <= present and value > 0:
                    out[key] = int(value)
            return out

        self.count = relevant(history)
        self.recent = relevant(last_met)
        rng = random.Random(seed)
        self.jitter = {
            frozenset(pair): rng.randrange(_JITTER) for pair in itertools.combinations(ids, 2)
        }
        n = len(ids)
        # Rule 6: how many people from other organisations each person has not met yet.
        unmet: Counter[int] = Counter()
        for a, b in itertools.combinations(ids, 2):
            if self.org[a] != self.org[b] and frozenset((a, b)) not in self.count:
                unmet[a] += 1
                unmet[b] += 1
        most_unmet = max(unmet.values(), default=0)
        self.plenty = {i: most_unmet - unmet[i] for i in ids}
        # Each rule's unit exceeds the largest total the rules below it can reach in a round
        # (at most n pairs sit inside groups: n/2 pairs, or (n-3)/2 pairs plus a trio's 3).
        self.u_scarce = n * _JITTER + 1
        self.u_recent = (2 * n * most_unmet + 1) * self.u_scarce
        self.u_count = (n * max(self.recent.values(), default=0) + 1) * self.u_recent
        self.u_sameorg = (n * max(self.count.values(), default=0) + 1) * self.u_count
        self.u_repeat = (n + 1) * self.u_sameorg
        self.u_unmixed = (n + 1) * self.u_repeat

    def _pair_terms(self, a: int, b: int) -> int:
        key = frozenset((a, b))
        met = self.count.get(key, 0)
        return (
            (self.u_repeat if met else 0)
            + (self.u_sameorg if self.org[a] == self.org[b] else 0)
            + met * self.u_count
            + self.recent.get(key, 0) * self.u_recent
            + (self.plenty[a] + self.plenty[b]) * self.u_scarce
            + self.jitter[key]
        )

    def group(self, group: Iterable[int]) -> int:
        members = tuple(group)
        unmixed = len({self.org[m] for m in members}) == 1
        return (self.u_unmixed if unmixed else 0) + sum(
            self._pair_terms(a, b) for a, b in itertools.combinations(members, 2)
        )

    def tiers(self, groups: Iterable[Iterable[int]]) -> tuple[int, int, int, int, int]:
        """The round's totals for rules 1-5, for reporting and tests."""
        unmixed = repeats = same = met = recent = 0
        for group in groups:
            members = tuple(group)
            unmixed += len({self.org[m] for m in members}) == 1
            for a, b in itertools.combinations(members, 2):
                key = frozenset((a, b))
                repeats += key in self.count
                same += self.org[a] == self.org[b]
                met += self.count.get(key, 0)
                recent += self.recent.get(key, 0)
        return unmixed, repeats, same, met, recent


def _matching(scorer: _Scorer, ids: Sequence[int], dummy_ok: Iterable[int] = ()) -> list[tuple]:
    """A minimum-cost perfect matching of `ids` (even count, or odd with a dummy).

    With `dummy_ok`, a dummy person (None) joins and may only be matched, at no cost, to one of
    those ids; the pair containing the dummy is returned as `(id, None)`.
    """
    if not ids:
        return []
    graph = nx.Graph()
    pairs = list(itertools.combinations(ids, 2))
    costs = {pair: scorer.group(pair) for pair in pairs}
    top = max(costs.values(), default=0) + 1
    for pair in pairs:
        graph.add_edge(*pair, weight=top - costs[pair])
    for i in dummy_ok:
        graph.add_edge(i, _DUMMY, weight=top)
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    out = []
    for a, b in matching:
        if _DUMMY in (a, b):
            out.append((b if a == _DUMMY else a, None))
        else:
            out.append((a, b))
    return out


def _exact_odd(scorer: _Scorer, ids: Sequence[int]) -> list[tuple[int, ...]]:
    """Every possible trio, each with a minimum-cost matching of everyone else.

    The matchings come from one memoised search over subsets of the (at most
    EXACT_ODD_LIMIT - 3) others, shared by all trios.
    """
    n = len(ids)
    pair_cost = {
        (i, j): scorer.group((ids[i], ids[j])) for i, j in itertools.combinations(range(n), 2)
    }

    @functools.cache
    def matching(mask: int) -> tuple[int, tuple[tuple[int, int], ...]]:
        if not mask:
            return 0, ()
        first = (mask & -mask).bit_length() - 1
        rest = mask & ~(1 << first)
        options = []
        for j in range(first + 1, n):
            if rest >> j & 1:
                cost, pairs = matching(rest & ~(1 << j))
                options.append((cost + pair_cost[first, j], ((first, j), *pairs)))
        return min(options)

    everyone = (1 << n) - 1
    best = min(
        (
            scorer.group(ids[i] for i in trio) + matching(everyone & ~sum(1 << i for i in trio))[0],
            trio,
        )
        for trio in itertools.combinations(range(n), 3)
    )
    trio = best[1]
    pairs = matching(everyone & ~sum(1 << i for i in trio))[1]
    return [tuple(ids[i] for i in trio), *((ids[i], ids[j]) for i, j in pairs)]


def _improve(scorer: _Scorer, groups: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Local search: re-split the trio with each pair while that lowers the total cost."""
    trio_at = next(i for i, g in enumerate(groups) if len(g) == 3)
    improved = True
    while improved:
        improved = False
        for j, pair in enumerate(groups):
            if j == trio_at:
                continue
            five = groups[trio_at] + pair
            current = scorer.group(groups[trio_at]) + scorer.group(pair)
            for trio in itertools.combinations(five, 3):
                rest = tuple(i for i in five if i not in trio)
                if scorer.group(trio) + scorer.group(rest) < current:
                    groups[trio_at], groups[j] = trio, rest
                    current = scorer.group(trio) + scorer.group(rest)
                    improved = True
    return groups


def _heuristic_odd(scorer: _Scorer, ids: Sequence[int]) -> list[tuple[int, ...]]:
    sizes = Counter(scorer.org[i] for i in ids)
    largest = max(sizes.values())
    in_largest = [i for i in ids if sizes[scorer.org[i]] == largest]
    by_org = [[i for i in ids if scorer.org[i] == org] for org in sorted(sizes)]
    candidates = []
    for allowed in (ids, in_largest, *by_org):
        matched = _matching(scorer, ids, dummy_ok=allowed)
        joiner = next(a for a, b in matched if b is None)
        pairs = [pair for pair in matched if pair[1] is not None]
        best = min(range(len(pairs)), key=lambda k: scorer.group(pairs[k] + (joiner,)))
        groups = [pairs[k] for k in range(len(pairs)) if k != best]
        groups.append(pairs[best] + (joiner,))
        groups = _improve(scorer, groups)
        candidates.append((sum(scorer.group(g) for g in groups), groups))
    return min(candidates, key=lambda c: c[0])[1]


def _validated(participants: Sequence[Person]) -> list[Person]:
    people = sorted(participants, key=lambda p: p.id)
    for a, b in itertools.pairwise(people):
        if a.id == b.id:
            raise ValueError(f"participant {a.id} appears twice")
    return people


def round_cost(
    participants: Sequence[Person],
    groups: Iterable[Iterable[int]],
    *,
    history: Mapping[frozenset[int], int],
    last_met: Mapping[frozenset[int], int] | None = None,
) -> tuple[int, int, int, int, int]:
    """Totals of rules 1-5 for a round: (same-organisation groups, pairs meeting again,
    same-organisation pairs, earlier meetings, sum of last-met round indices)."""
    return _Scorer(_validated(participants), history, last_met, 0).tiers(groups)


def pair_round(
    participants: Sequence[Person],
    *,
    history: Mapping[frozenset[int], int],
    seed: int,
    last_met: Mapping[frozenset[int], int] | None = None,
) -> list[tuple[int, ...]]:
    """Groups for one round: pairs, and one trio when the count is odd (see module docstring).

    Each group is a tuple of person ids in ascending order; groups are sorted by their first id.
    Raises ValueError if an id appears twice.
    """
    people = _validated(participants)
    ids = [p.id for p in people]
    if len(ids) < 2:
        return []
    scorer = _Scorer(people, history, last_met, seed)
    if len(ids) % 2 == 0:
        groups = _matching(scorer, ids)
    elif len(ids) <= EXACT_ODD_LIMIT:
        groups = _exact_odd(scorer, ids)
    else:
        groups = _heuristic_odd(scorer, ids)
    return sorted(tuple(sorted(g)) for g in groups)
