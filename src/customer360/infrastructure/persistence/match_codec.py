"""How matching data is stored: blocking keys as 64-bit hashes, prepared records as compact JSON.

**Keys.** ``blocking_keys`` are strings that contain normalised values (e-mail addresses, phone numbers,
phonetic codes). The table stores an 8-byte BLAKE2b digest of each as a signed ``bigint`` instead:
the index is a third of the size, the values are not readable from the key table, and a collision
(one in 2⁶⁴ per pair of keys) only adds a candidate that the scoring then rejects.

**Features.** ``match_record.features`` holds the engine's ``PreparedRecord`` (the normalised form), so
the real-time check and the scan never normalise a stored profile again (normalising e-mails and
phones costs ~0.4 ms per record; rebuilding a prepared record from JSON a few microseconds). The form
is a positional JSON array led by a format number; ``tests/unit/test_match_codec.py`` fails when the
engine's record gains a field this codec does not know. Normaliser changes require a re-index
(``customer360 dedup reindex``), as they do for the keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson

from customer360.domain.matching import PreparedRecord, key_is_strong
from customer360.domain.matching.contact_points import is_shared_line, is_valid_tax_id
from customer360.domain.matching.features import PreparedAddress

FEATURES_FORMAT = 2
"""2: addresses with their unit, shared lines apart from personal numbers, valid tax ids, and history
(previous addresses, phones and e-mails after the current ones). Format 1 rows are read, and rewritten
by the next save or a scan (which re-indexes them)."""
_NONE: frozenset[str] = frozenset()

PREPARED_FIELDS = (
    "record_id",
    "kind",
    "source_system",
    "given",
    "given_canonical",
    "family",
    "family_key",
    "org_name",
    "org_key",
    "legal_form",
    "birth_date",
    "emails",
    "phones",
    "addresses",
    "tax_ids",
    "domains",
    "national_ids",
    "landlines",
    "valid_tax_ids",
)
ADDRESS_FIELDS = (
    "street",
    "street_key",
    "house_number",
    "line2_key",
    "postal_code",
    "city",
    "region",
    "country",
    "unit",
)


@lru_cache(maxsize=1 << 18)
def key_hash(key: str) -> int:
    """The stored form of a blocking key (or a term): a signed 64-bit BLAKE2b digest whose lowest bit says
    whether the key is strong (``key_is_strong``), so the scan can tell strong keys by their hash."""
    digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
    return (digest & ~1) | int(key_is_strong(key))


def is_strong_hash(key_hash_: int) -> bool:
    return bool(key_hash_ & 1)


def key_hashes(keys: Iterable[str]) -> list[int]:
    """Sorted, distinct hashes of ``keys`` (and of terms: ``match_term`` stores them the same way)."""
    return sorted({key_hash(k) for k in keys})


class HashedCounts(Mapping[str, int]):
    """Term counts read from ``match_term`` (by hash), looked up by term."""

    def __init__(self, by_hash: Mapping[int, int]) -> None:
        self._by_hash = by_hash

    def __getitem__(self, term: str) -> int:
        return self._by_hash[key_hash(term)]

    def get(self, term: str, default: Any = None) -> Any:
        return self._by_hash.get(key_hash(term), default)

    def __iter__(self) -> Iterator[str]:
        raise TypeError("terms are stored as hashes and cannot be listed")

    def __len__(self) -> int:
        return len(self._by_hash)


def encode_features(record: PreparedRecord) -> list[Any]:
    """The JSON-able form of a prepared record (without its id: the row holds it)."""
    r = record
    return [
        FEATURES_FORMAT,
        r.kind,
        r.source_system,
        r.given,
        sorted(r.given_canonical),
        r.family,
        r.family_key,
        r.org_name,
        r.org_key,
        r.legal_form,
        r.birth_date,
        list(r.emails),
        list(r.phones),
        [[getattr(a, name) for name in ADDRESS_FIELDS] for a in r.addresses],
        list(r.tax_ids),
        list(r.domains),
        list(r.national_ids),
        list(r.landlines),
        sorted(r.valid_tax_ids),
    ]


def features_json(record: PreparedRecord) -> str:
    return orjson.dumps(encode_features(record)).decode()


def decode_features(record_id: str, data: Sequence[Any]) -> PreparedRecord:
    """Rebuild a prepared record from `encode_features` output; raises ValueError on another format."""
    if not data or data[0] not in (1, FEATURES_FORMAT):
        raise ValueError("unsupported match features format")
    if data[0] == 1:
        data = _upgraded(data)
    (
        _,
        kind,
        source_system,
        given,
        canonical,
        family,
        family_key,
        org_name,
        org_key,
        legal_form,
        birth_date,
        emails,
        phones,
        addresses,
        tax_ids,
        domains,
        national_ids,
        landlines,
        valid_tax_ids,
    ) = data
    # positional, and no empty set made for every record that has none: a scan decodes tens of thousands
    return PreparedRecord(
        record_id,
        kind,
        source_system,
        given,
        frozenset(canonical) if canonical else _NONE,
        family,
        family_key,
        org_name,
        org_key,
        legal_form,
        birth_date,
        tuple(emails),
        tuple(phones),
        tuple([PreparedAddress(*parts) for parts in addresses]),
        tuple(tax_ids),
        tuple(domains),
        tuple(national_ids),
        tuple(landlines),
        frozenset(valid_tax_ids) if valid_tax_ids else _NONE,
    )


def _upgraded(data: Sequence[Any]) -> list[Any]:
    # a format 1 row: no units, phones not split by kind, validity of tax ids unknown (computed now)
    upgraded = list(data)
    upgraded[13] = [[*parts, None] for parts in data[13]]
    phones = data[12]
    upgraded[12] = [p for p in phones if not is_shared_line(p)]
    upgraded += [[p for p in phones if is_shared_line(p)], [t for t in data[14] if is_valid_tax_id(t)]]
    return upgraded


def features_from_json(record_id: str, text: str | bytes) -> PreparedRecord:
    return decode_features(record_id, orjson.loads(text))
