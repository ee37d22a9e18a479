"""How a scan of a tenant read whole splits its pairs into the parts it writes at once."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from customer360.application.duplicate_scan import balanced_parts


class TestBalancedParts:
    def test_parts_hold_about_as_many_pairs_each_and_end_after_a_lower_profile(self) -> None:
        """Six pairs of profiles 0, 0, 0, 1, 4, 4 in two parts: three each, the first ending after profile 0."""
        assert balanced_parts([0, 0, 0, 1, 4, 4], records=7, parts=2) == [(1, 3), (7, 6)]

    def test_a_profiles_pairs_are_never_split_between_two_parts(self) -> None:
        """Profile 0 has five of the six pairs: the first part takes them all, the second the last one."""
        assert balanced_parts([0, 0, 0, 0, 0, 3], records=5, parts=2) == [(1, 5), (5, 6)]

    def test_without_pairs_one_part_covers_every_profile(self) -> None:
        """No pairs to balance: one part, all profiles."""
        assert (balanced_parts([], records=4, parts=2), balanced_parts([], records=0, parts=2)) == ([(4, 0)], [])

    @given(
        st.lists(st.integers(min_value=0, max_value=30), max_size=60).map(sorted),
        st.integers(min_value=1, max_value=4),
    )
    def test_the_parts_cover_every_profile_and_pair_once_in_order(self, lows: list[int], parts: int) -> None:
        """Consecutive, non-empty, at most ``parts`` of them; the pairs of a part are those of its profiles."""
        records = 31
        found = balanced_parts(lows, records, parts)
        starts = [(0, 0), *found[:-1]]
        assert found[-1] == (records, len(lows))
        assert len(found) <= parts
        assert all(end > start and taken >= first for (start, first), (end, taken) in zip(starts, found, strict=True))
        assert all(
            lows[first:taken] == [low for low in lows if start <= low < end]
            for (start, first), (end, taken) in zip(starts, found, strict=True)
        )
