"""Array literals for the set-based INSERT over unnest."""

from __future__ import annotations

from customer360.infrastructure.persistence.bulk_insert import array_literal


def test_integers_are_written_bare_and_text_quoted_and_escaped() -> None:
    """Key hashes (integers, negative too) go in as numbers; text is quoted with its quotes and backslashes
    escaped; a mixed array quotes only its text."""
    assert array_literal([-3, 0, 9_223_372_036_854_775_807]) == "{-3,0,9223372036854775807}"
    assert array_literal(iter([1, 2])) == "{1,2}"
    assert array_literal([]) == "{}"
    assert array_literal(['a"b', "c\\d"]) == '{"a\\"b","c\\\\d"}'
    assert array_literal([1, "x", 2]) == '{1,"x",2}'
