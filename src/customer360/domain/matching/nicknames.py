"""Given-name variants (Bill -> William), loaded lazily from ``data/nicknames.txt``."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources import files


@cache
def _table() -> Mapping[str, frozenset[str]]:
    # Read once, on first use, so importing the package does no I/O.
    text = files("customer360.domain.matching").joinpath("data/nicknames.txt").read_text("utf-8")
    names: dict[str, set[str]] = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        canonical, _, variants = line.partition(":")
        canonical = canonical.strip()
        names.setdefault(canonical, set()).add(canonical)
        for variant in variants.split():
            names.setdefault(variant, set()).add(canonical)
    return {name: frozenset(canonicals) for name, canonicals in names.items()}


def canonical_given_names(folded_name: str) -> frozenset[str]:
    """The canonical names a folded given name may stand for; the name itself if it has no entry.

    >>> sorted(canonical_given_names("bill"))
    ['william']
    """
    return _table().get(folded_name, frozenset((folded_name,)))
