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

from collections import defaultdict
from collections.abc import Iterator, Sequence
from itertools import combinations

from customer360.domain.matching.features import PreparedRecord, prepare
from customer360.domain.matching.records import ORGANIZATION, MatchRecord
from customer360.domain.matching.text import soundex

DEFAULT_MAX_BLOCK_SIZE = 100
"""A key shared by more records than this is a stop key (see the module docstring)."""

_KEY_PRINTABLE_LIMIT = 120


def _key(kind: str, *parts: str) -> str:
    return (kind + ":" + "|".join(parts))[:_KEY_PRINTABLE_LIMIT]


def _person_keys(r: PreparedRecord) -> set[str]:
    keys: set[str] = set()
    givens = {soundex(g) for g in r.given_canonical} | ({soundex(r.given)} if r.given else set())
    givens.discard("")
    family = soundex(r.family_key) if r.family_key else ""
    date = r.birth_date
    postcodes = {a.postal_code for a in r.addresses if a.postal_code}
    cities = {a.city for a in r.addresses if a.city}
    # Each name on its own, whichever field it sits in, with one selective companion: survives a typo
    # in the other name, a given/family swap, and a change of either address or birth date.
    for name in givens | {family} - {""}:
        if date:
            keys.add(_key("nd", name, date))
        keys.update(_key("np", name, postcode) for postcode in postcodes)
        keys.update(_key("nc", name, city) for city in cities)
    streets = {soundex(a.street_key) for a in r.addresses if a.street_key}
    for name in givens | {family} - {""}:
        keys.update(_key("ns", name, street) for street in streets)
    for given in givens:
        if family:
            # a full name alone is selective for all but the commonest names, which the cap removes
            keys.add(_key("nn", *sorted((given, family))))
            if date:
                keys.add(_key("ny", *sorted((given, family)), date[:4]))
    if date:
        keys.update(_key("dp", date, postcode) for postcode in postcodes)
        keys.update(_key("dc", date, city) for city in cities)
        initials = {r.given[0]} if r.given else set()
        if r.family_key:
            initials.add(r.family_key[0])
        keys.update(_key("di", date, initial) for initial in initials)
    for address in r.addresses:
        if address.house_number and address.street_key:
            street = soundex(address.street_key)
            if address.postal_code:
                keys.add(_key("ap", address.postal_code, address.house_number, street))
            if address.city:
                keys.add(_key("ac", address.city, address.house_number, street))
    return keys


def _organisation_keys(r: PreparedRecord) -> set[str]:
    keys: set[str] = set()
    if r.org_key and r.org_name:
        keys.add(_key("on", r.org_key))
        words = r.org_name.split()
        keys.add(_key("ow", *sorted(words)))
        first = soundex(words[0])
        for address in r.addresses:
            if address.postal_code:
                keys.add(_key("op", first, address.postal_code))
            if address.city:
                keys.add(_key("oc", first, address.city))
    for address in r.addresses:
        if address.postal_code and address.house_number and address.street_key:
            keys.add(_key("oa", address.postal_code, address.house_number, soundex(address.street_key)))
    return keys


def prepared_blocking_keys(record: PreparedRecord) -> frozenset[str]:
    """`blocking_keys` for a record that is already prepared."""
    keys = _organisation_keys(record) if record.kind == ORGANIZATION else _person_keys(record)
    keys.update(_key("e", email) for email in record.emails)
    keys.update(_key("t", phone) for phone in record.phones)
    keys.update(_key("v", tax_id) for tax_id in record.tax_ids)
    keys.update(_key("w", domain) for domain in record.domains)
    keys.update(_key("i", national_id) for national_id in record.national_ids)
    # kind leads the key: a person and a company are never candidates for one another
    return frozenset(record.kind[0] + key for key in keys)


def blocking_keys(record: MatchRecord, default_region: str | None = None) -> frozenset[str]:
    """The keys to store and index for ``record``; records sharing a key are duplicate candidates.

    Keys are opaque strings of at most ~120 characters. They contain normalised values (e-mail,
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

    Each pair is yielded once. With ``link_only`` only pairs from different ``source_system`` values are
    produced (linking two deduplicated sources). Keys shared by more than ``max_block_size`` records
    are skipped (stop keys).
    """
    prepared = [r if isinstance(r, PreparedRecord) else prepare(r) for r in records]
    record_keys = [prepared_blocking_keys(record) for record in prepared]
    blocks: dict[str, list[int]] = defaultdict(list)
    for position, keys in enumerate(record_keys):
        for key in keys:
            blocks[key].append(position)
    stop_keys = {key for key, members in blocks.items() if len(members) > max_block_size}
    if stop_keys:
        record_keys = [keys - stop_keys for keys in record_keys]
    for key, members in blocks.items():
        if len(members) < 2 or key in stop_keys:
            continue
        for i, j in combinations(members, 2):
            if link_only and prepared[i].source_system == prepared[j].source_system:
                continue
            # a pair sharing several keys is yielded only by the smallest of them: no set of seen
            # pairs is needed, so memory stays flat however many pairs the scan produces
            if len(record_keys[i]) > 1 and min(record_keys[i] & record_keys[j]) != key:
                continue
            yield (i, j)
