"""Scores predicted duplicate pairs of the CRM benchmark data set against its truth, per kind of case.

A pair of records is *true* when both describe the same customer. Each record belongs to a group whose
category says what kind of case it is (benchmarks/crm_dataset.py); a pair counts for the categories
of both its records. Per category: true pairs, found, missed, wrong (predicted pairs that are not
true), precision, recall, F1; for the look-alike categories also the *false-merge rate*: the share of
pairs of two different customers of one group (the twins, the household members...) predicted as one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from benchmarks.crm_dataset import LOOKALIKE_CATEGORIES, MOVED_CATEGORIES, Record

Pair = frozenset[str]


@dataclass(frozen=True, slots=True)
class Scores:
    name: str
    true_pairs: int
    found: int
    missed: int
    wrong: int
    lookalike_pairs: int = 0
    false_merges: int = 0

    @property
    def precision(self) -> float:
        predicted = self.found + self.wrong
        return self.found / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def false_merge_rate(self) -> float | None:
        return self.false_merges / self.lookalike_pairs if self.lookalike_pairs else None


@dataclass(frozen=True, slots=True)
class Truth:
    entity: Mapping[str, str]
    category: Mapping[str, str]
    group: Mapping[str, str]
    true_pairs: frozenset[Pair]
    lookalike_pairs: frozenset[Pair]
    """Pairs of records of two different customers of one look-alike group."""


def truth_of(records: Sequence[Record]) -> Truth:
    by_entity: dict[str, list[str]] = {}
    by_group: dict[str, list[Record]] = {}
    for r in records:
        by_entity.setdefault(r.entity, []).append(r.record_id)
        by_group.setdefault(r.group, []).append(r)
    true_pairs = {frozenset(p) for ids in by_entity.values() for p in combinations(ids, 2)}
    lookalike = {
        frozenset((a.record_id, b.record_id))
        for members in by_group.values()
        if members[0].category in LOOKALIKE_CATEGORIES
        for a, b in combinations(members, 2)
        if a.entity != b.entity
    }
    return Truth(
        entity={r.record_id: r.entity for r in records},
        category={r.record_id: r.category for r in records},
        group={r.record_id: r.group for r in records},
        true_pairs=frozenset(true_pairs),
        lookalike_pairs=frozenset(lookalike),
    )


def score(truth: Truth, predicted: Iterable[Pair]) -> list[Scores]:
    """Overall first, then per category (alphabetical); then the look-alike and moved groups summed."""
    chosen = set(predicted)
    per: dict[str, list[int]] = {}

    def bump(pair: Pair, slot: int) -> None:
        for name in {truth.category[i] for i in pair}:
            per.setdefault(name, [0, 0, 0, 0, 0, 0])[slot] += 1

    for pair in truth.true_pairs:
        bump(pair, 0)
        bump(pair, 1 if pair in chosen else 2)
    for pair in chosen - truth.true_pairs:
        bump(pair, 3)
    for pair in truth.lookalike_pairs:
        bump(pair, 4)
        if pair in chosen:
            bump(pair, 5)
    tp = len(chosen & truth.true_pairs)
    rows = [Scores("overall", len(truth.true_pairs), tp, len(truth.true_pairs) - tp, len(chosen) - tp)]
    rows += [Scores(name, *counts) for name, counts in sorted(per.items())]
    for label, members in (("all look-alike groups", LOOKALIKE_CATEGORIES), ("all moved customers", MOVED_CATEGORIES)):
        picked = [r for r in rows[1:] if r.name in members]
        sums = [sum(getattr(r, f) for r in picked) for f in ("true_pairs", "found", "missed", "wrong")]
        rows.append(Scores(label, *sums, sum(r.lookalike_pairs for r in picked), sum(r.false_merges for r in picked)))
    return rows


def calibration(truth: Truth, scored: Mapping[Pair, float], edges: Sequence[float]) -> list[tuple[str, int, float]]:
    """Per probability bin: pairs in it and the share of them that are true (calibrated: share ≈ bin)."""
    bins: list[tuple[str, int, float]] = []
    for low, high in zip(edges, (*edges[1:], 1.000001), strict=True):
        pairs = [p for p, prob in scored.items() if low <= prob < high]
        share = sum(p in truth.true_pairs for p in pairs) / len(pairs) if pairs else 0.0
        bins.append((f"[{low:g}, {min(high, 1):g}{')' if high <= 1 else ']'}", len(pairs), share))
    return bins


def table(title: str, rows: Sequence[Scores]) -> str:
    columns = ("true", "found", "missed", "wrong", "P", "R", "F1")
    head = f"{title:<42} " + " ".join(f"{c:>6}" for c in columns) + f" {'false merges':>14}"
    lines = [head, "-" * len(head)]
    for r in rows:
        rate = r.false_merge_rate
        merges = f"{r.false_merges}/{r.lookalike_pairs} {rate:5.1%}" if rate is not None else ""
        lines.append(
            f"{r.name:<42} {r.true_pairs:>6} {r.found:>6} {r.missed:>6} {r.wrong:>6} "
            f"{r.precision:>6.3f} {r.recall:>6.3f} {r.f1:>6.3f} {merges:>14}"
        )
    return "\n".join(lines)
