"""Clusters are the transitive closure of the pairs above the threshold."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from customer360.domain.matching import cluster

edges = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30), st.floats(min_value=0, max_value=1)), max_size=60)


def connected(pairs: list[tuple[int, int, float]], threshold: float) -> set[frozenset[int]]:
    # reference implementation: repeated merging of overlapping groups
    groups: list[set[int]] = []
    for a, b, p in pairs:
        if p < threshold:
            continue
        touching = [g for g in groups if a in g or b in g]
        merged = {a, b}.union(*touching)
        groups = [g for g in groups if g not in touching] + [merged]
    return {frozenset(g) for g in groups if len(g) > 1}


class TestCluster:
    def test_groups_are_transitive(self) -> None:
        """a~b and b~c put a, b and c in one group although a and c were never compared."""
        assert cluster([("a", "b", 0.9), ("b", "c", 0.8), ("a", "d", 0.1)], threshold=0.5) == [("a", "b", "c")]

    def test_pairs_at_the_threshold_link(self) -> None:
        """Probability equal to the threshold counts as a link."""
        assert cluster([("a", "b", 0.5)], threshold=0.5) == [("a", "b")]

    @given(edges, st.floats(min_value=0, max_value=1))
    def test_clusters_are_the_connected_components(self, pairs: list[tuple[int, int, float]], threshold: float) -> None:
        """Same groups as a reference transitive closure."""
        assert connected(pairs, threshold) == {frozenset(g) for g in cluster(pairs, threshold)}

    @given(edges, st.randoms())
    def test_result_does_not_depend_on_input_order(
        self, pairs: list[tuple[int, int, float]], rng: random.Random
    ) -> None:
        """Shuffled input, same output, sorted within and across groups."""
        shuffled = list(pairs)
        rng.shuffle(shuffled)
        assert cluster(pairs, 0.5) == cluster(shuffled, 0.5)
