"""Transitive grouping of scored pairs into clusters of duplicates (union-find)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

Id = TypeVar("Id", str, int)
"""Record ids (``str``) or positions in a batch (``int``)."""


def cluster(pairs_with_probability: Iterable[tuple[Id, Id, float]], threshold: float) -> list[tuple[Id, ...]]:
    """Groups of ids linked, directly or through others, by pairs with probability ≥ ``threshold``.

    Only groups of two or more are returned. Ids inside a group are sorted, and groups are sorted by
    their first id, so the result does not depend on the order of the input.

    >>> cluster([("a", "b", 0.9), ("b", "c", 0.8), ("d", "e", 0.2)], threshold=0.5)
    [('a', 'b', 'c')]
    """
    parent: dict[Id, Id] = {}

    def root(node: Id) -> Id:
        parent.setdefault(node, node)
        top = node
        while parent[top] != top:
            top = parent[top]
        # path compression: later look-ups along this chain are one step
        while parent[node] != top:
            parent[node], node = top, parent[node]
        return top

    for left, right, probability in pairs_with_probability:
        if probability < threshold:
            continue
        a, b = root(left), root(right)
        if a != b:
            parent[b] = a
    groups: dict[Id, list[Id]] = {}
    for node in parent:
        groups.setdefault(root(node), []).append(node)
    clusters = [tuple(sorted(members)) for members in groups.values() if len(members) > 1]
    clusters.sort()
    return clusters
