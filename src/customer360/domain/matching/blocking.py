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

from collections.abc import Iterator, Sequence
from itertools import combinations

from customer360.domain.matching.features import PreparedRecord, prepare
from customer360.domain.matching.records import ORGANIZATION, MatchRecord
from customer360.domain.matching.text import soundex

DEFAULT_MAX_BLOCK_SIZE = 100
"""A key shared by more records than this is a stop key (see the module docstring)."""

_MAX_KEY_LENGTH = 120


def _person_keys(r: PreparedRecord) -> set[str]:
    names = {soundex(g) for g in r.given_canonical}
    if r.given:
        names.add(soundex(r.given))
    names.discard("")
    given_codes = set(names)
    family = soundex(r.family_key) if r.family_key else ""
    if family:
        names.add(family)
    date = r.birth_date
    postcodes = {a.postal_code for a in r.addresses if a.postal_code}
    cities = {a.city for a in r.addresses if a.city}
    # street and extra line are one pool: sources disagree about which line holds the street
    streets = {soundex(a.street_key) for a in r.addresses if a.street_key}
    streets.update(soundex(a.line2_key) for a in r.addresses if a.line2_key)
    streets.discard("")
    keys: set[str] = set()
    # Each name on its own, whichever field it sits in, with one selective companion: survives a typo
    # in the other name, a given/family swap, and a change of address or birth date. (Name + birth
    # date is covered by birth date + initial below.)
    for name in names:
        keys.update(f"Pnp:{name}|{postcode}" for postcode in postcodes)
        keys.update(f"Pnc:{name}|{city}" for city in cities)
        keys.update(f"Pns:{name}|{street}" for street in streets)
    if family:
        for given in given_codes:
            pair = "|".join(sorted((given, family)))
            # a full name alone is selective for all but the commonest names, which the cap removes
            keys.add(f"Pnn:{pair}")
            if date:
                keys.add(f"Pny:{pair}|{date[:4]}")
    if date:
        keys.update(f"Pdp:{date}|{postcode}" for postcode in postcodes)
        keys.update(f"Pds:{date}|{street}" for street in streets)
        if r.given:
            keys.add(f"Pdi:{date}|{r.given[0]}")
        if r.family_key:
            keys.add(f"Pdi:{date}|{r.family_key[0]}")
    # where someone lives, without any name: catches records whose names were both mistyped or changed
    for street in streets:
        keys.update(f"Psp:{street}|{postcode}" for postcode in postcodes)
        keys.update(f"Psc:{street}|{city}" for city in cities)
    if len(streets) > 1:
        keys.update(f"Pss:{a}|{b}" for a, b in combinations(sorted(streets), 2))
    return keys


def _organisation_keys(r: PreparedRecord) -> set[str]:
    keys: set[str] = set()
    postcodes = {a.postal_code for a in r.addresses if a.postal_code}
    cities = {a.city for a in r.addresses if a.city}
    if r.org_key and r.org_name:
        keys.add(f"Oon:{r.org_key}")
        words = r.org_name.split()
        # word order differs between sources ("Müller Bau" / "Bau Müller")
        keys.add("Oow:" + "|".join(sorted(words)))
        first = soundex(words[0])
        keys.update(f"Oop:{first}|{postcode}" for postcode in postcodes)
        keys.update(f"Ooc:{first}|{city}" for city in cities)
    for address in r.addresses:
        if address.house_number and address.street_key:
            street = soundex(address.street_key)
            if address.postal_code:
                keys.add(f"Oap:{street}|{address.house_number}|{address.postal_code}")
            if address.city:
                keys.add(f"Oac:{street}|{address.house_number}|{address.city}")
    return keys


def prepared_blocking_keys(record: PreparedRecord) -> frozenset[str]:
    """`blocking_keys` for a record that is already prepared."""
    # the kind leads every key: a person and a company are never candidates for one another
    keys = _organisation_keys(record) if record.kind == ORGANIZATION else _person_keys(record)
    kind = record.kind[:1]
    for tag, values in (
        ("e", record.emails),
        ("t", record.phones),
        ("v", record.tax_ids),
        ("w", record.domains),
        ("i", record.national_ids),
    ):
        keys.update(f"{kind}{tag}:{value}"[:_MAX_KEY_LENGTH] for value in values)
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

    Each pair is yielded once, ordered by ``i`` then ``j``. With ``link_only`` only pairs from
    different ``source_system`` values are produced (linking deduplicated sources). Keys shared by
    more than ``max_block_size`` records are skipped (stop keys).
    """
    prepared = [r if isinstance(r, PreparedRecord) else prepare(r) for r in records]
    record_keys = [prepared_blocking_keys(record) for record in prepared]
    # most keys belong to a single record: they get a plain int, and a list only once shared, which
    # keeps the number of objects (and garbage-collector work) proportional to the shared keys
    first_holder: dict[str, int] = {}
    blocks: dict[str, list[int]] = {}
    for position, keys in enumerate(record_keys):
        for key in keys:
            members = blocks.get(key)
            if members is not None:
                members.append(position)
                continue
            holder = first_holder.setdefault(key, position)
            if holder != position:
                blocks[key] = [holder, position]
    shared = {key: members for key, members in blocks.items() if len(members) <= max_block_size}
    sources = [r.source_system for r in prepared]
    # one record at a time, gathering its partners from its blocks: memory stays proportional to
    # the blocks, not to the (much larger) number of pairs
    for i, keys in enumerate(record_keys):
        partners: set[int] = set()
        for key in keys:
            members = shared.get(key)
            if members is not None:
                partners.update(members)
        source = sources[i]
        for j in sorted(partners):
            if j > i and not (link_only and sources[j] == source):
                yield (i, j)
