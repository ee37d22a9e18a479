"""Blocking: which pairs are worth scoring at all.

Each record yields a small set of *blocking keys*; two records are candidates when they share a key.
Keys are chosen so that

* a true duplicate shares at least one key with its original even after several typos, swaps and
  missing values (each key combines different fields, so one damaged field cannot hide a pair), and
* no key is shared by many unrelated records at tenant scale: every name-based key is combined with
  something selective (a full birth date, a postcode, a birth year), and identifiers stand alone.

At one million profiles the expected posting list of a key is a handful of rows (a full birth date
alone would already be ~40; birth date + family-name initial is ~2). Outliers (placeholder birth
dates, a company's shared switchboard number, "info@" addresses) are handled by a cap: a key shared by
more than ``max_block_size`` records is treated as a stop key and ignored, both here and in the
service's real-time check, which reads at most ``max_block_size + 1`` rows per key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import chain, combinations

from customer360.domain.matching.features import PreparedRecord, prepare
from customer360.domain.matching.records import ORGANIZATION, MatchRecord
from customer360.domain.matching.text import soundex

DEFAULT_MAX_BLOCK_SIZE = 100
"""A key shared by more records than this is a stop key (see the module docstring)."""

# Key families that identify on their own (an identifier, a full name, a birth date with a name, a company
# name); the others (a name's sound with a city or a street, a street with a postcode...) only narrow the
# search down and are worth a comparison when a pair shares two keys or a strong one.
_STRONG_FAMILIES = frozenset(("Pnn", "Pny", "Pdi", "Pdp", "Pds", "Oon", "Oow"))
_IDENTIFIER_TAGS = frozenset("etvwi")


def key_is_strong(key: str) -> bool:
    """Whether a blocking key alone makes a pair worth scoring in a batch scan (see `_STRONG_FAMILIES`)."""
    family = key.partition(":")[0]
    return family in _STRONG_FAMILIES or (len(family) == 2 and family[1] in _IDENTIFIER_TAGS)


_MAX_KEY_LENGTH = 120


def _person_keys(r: PreparedRecord) -> list[str]:
    given_codes = {soundex(g) for g in r.given_canonical}
    if r.given:
        given_codes.add(soundex(r.given))
    given_codes.discard("")
    family = soundex(r.family_key) if r.family_key else ""
    names = given_codes | {family} if family else given_codes
    date = r.birth_date
    postcodes = {a.postal_code for a in r.addresses if a.postal_code}
    cities = {a.city.replace(" ", "") for a in r.addresses if a.city}
    # street and extra line are one pool: sources disagree about which line holds the street
    streets = {soundex(a.street_key) for a in r.addresses if a.street_key}
    streets.update(soundex(a.line2_key) for a in r.addresses if a.line2_key)
    streets.discard("")
    # Each name on its own, whichever field it sits in, with one selective companion: survives a typo
    # in the other name, a given/family swap, and a change of address or birth date. (Name + birth
    # date is covered by birth date + initial below.)
    keys = [f"Pnp:{name}|{postcode}" for name in names for postcode in postcodes]
    keys += [f"Pnc:{name}|{city}" for name in names for city in cities]
    keys += [f"Pns:{name}|{street}" for name in names for street in streets]
    if family:
        for pair in {"|".join(sorted((given, family))) for given in given_codes}:
            # a full name alone is selective for all but the commonest names, which the cap removes
            keys.append(f"Pnn:{pair}")
            if date:
                keys.append(f"Pny:{pair}|{date[:4]}")
    if date:
        keys += [f"Pdp:{date}|{postcode}" for postcode in postcodes]
        keys += [f"Pds:{date}|{street}" for street in streets]
        if r.given:
            keys.append(f"Pdi:{date}|{r.given[0]}")
        if r.family_key:
            keys.append(f"Pdi:{date}|{r.family_key[0]}")
    # where someone lives, without any name: catches records whose names were both mistyped or changed
    keys += [f"Psp:{street}|{postcode}" for street in streets for postcode in postcodes]
    keys += [f"Pph:{a.postal_code}|{a.house_number}" for a in r.addresses if a.postal_code and a.house_number]
    keys += [f"Psc:{street}|{city}" for street in streets for city in cities]
    if len(streets) > 1:
        keys += [f"Pss:{a}|{b}" for a, b in combinations(sorted(streets), 2)]
    return keys


def _organisation_keys(r: PreparedRecord) -> list[str]:
    keys: list[str] = []
    postcodes = {a.postal_code for a in r.addresses if a.postal_code}
    cities = {a.city.replace(" ", "") for a in r.addresses if a.city}
    if r.org_key and r.org_name:
        keys.append(f"Oon:{r.org_key}")
        words = r.org_name.split()
        # word order differs between sources ("Müller Bau" / "Bau Müller")
        keys.append("Oow:" + "|".join(sorted(words)))
        first = soundex(words[0])
        keys += [f"Oop:{first}|{postcode}" for postcode in postcodes]
        keys += [f"Ooc:{first}|{city}" for city in cities]
    for address in r.addresses:
        if address.house_number and address.street_key:
            street = soundex(address.street_key)
            if address.postal_code:
                keys.append(f"Oap:{street}|{address.house_number}|{address.postal_code}")
            if address.city:
                keys.append(f"Oac:{street}|{address.house_number}|{address.city}")
    return keys


def prepared_blocking_keys(record: PreparedRecord) -> frozenset[str]:
    """`blocking_keys` for a record that is already prepared."""
    # the kind leads every key: a person and a company are never candidates for one another
    keys = _organisation_keys(record) if record.kind == ORGANIZATION else _person_keys(record)
    kind = record.kind[:1]
    for tag, values in (
        ("e", record.emails),
        ("t", record.phones + record.landlines),
        ("v", record.tax_ids),
        ("w", record.domains),
        ("i", record.national_ids),
    ):
        if values:
            keys += [f"{kind}{tag}:{value}"[:_MAX_KEY_LENGTH] for value in values]
    return frozenset(keys)


def blocking_keys(record: MatchRecord, default_region: str | None = None) -> frozenset[str]:
    """The keys to store and index for ``record``; records sharing a key are duplicate candidates.

    Keys are opaque strings of at most 120 characters. They contain normalised values (e-mail,
    phone, ids, phonetic codes), so store them with the same protection as the profile itself.
    """
    return prepared_blocking_keys(prepare(record, default_region))


def candidate_pairs(
    records: Sequence[MatchRecord] | Sequence[PreparedRecord],
    *,
    link_only: bool = False,
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
) -> Iterator[tuple[int, int]]:
    """Pairs ``(i, j)`` with ``i < j`` of positions in ``records`` that share a blocking key.

    Each pair comes once, ordered by ``i`` then ``j``. With ``link_only`` only pairs from
    different ``source_system`` values are produced (linking deduplicated sources). Keys shared by
    more than ``max_block_size`` records are skipped (stop keys).
    """
    prepared = [r if isinstance(r, PreparedRecord) else prepare(r) for r in records]
    record_keys = [prepared_blocking_keys(record) for record in prepared]
    # Most keys belong to one record only: counting them in C first and building lists just for the
    # shared ones keeps the number of Python objects (and the garbage collector's work) small.
    counts = Counter(chain.from_iterable(record_keys))
    shared = {key for key, count in counts.items() if 1 < count <= max_block_size}
    blocks: dict[str, list[int]] = {}
    for position, keys in enumerate(record_keys):
        for key in keys & shared:
            members = blocks.get(key)
            if members is None:
                blocks[key] = [position]
            else:
                members.append(position)
    # Pairs are collected in a set (combinations and set updates run in C); memory grows with the
    # number of candidate pairs, which blocking keeps to a few per record.
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) == 2:  # the common case, without a combinations iterator
            pairs.add((members[0], members[1]))
        else:
            pairs.update(combinations(members, 2))
    if link_only:
        sources = [r.source_system for r in prepared]
        return iter(sorted((i, j) for i, j in pairs if sources[i] != sources[j]))
    return iter(sorted(pairs))
