"""Splink and recordlinkage on the CRM benchmark data set, set up as their documentation recommends.

Both see the profiles as the service holds them at the end (every update applied), one row each,
standardised first as Splink's documentation asks ("input data should be standardised"): names lower-
cased and split, phones in E.164, postcodes without spaces, tax ids with their country prefix. Persons and
companies are linked in two runs (their columns differ); the predictions are pooled.

* **Splink** (DuckDB): the comparisons of its examples — ``ForenameSurnameComparison`` with term
  frequencies, ``DateOfBirthComparison``, ``EmailComparison``, exact postcode and city with term
  frequencies, Jaro–Winkler street; companies ``NameComparison`` with term frequencies and exact tax id,
  domain, phone; blocking rules in the style of its 50k example; the prior from deterministic rules,
  u by random sampling, m by EM in two sessions (``estimate_without_term_frequencies=True``).
* **recordlinkage**: blocking on the same keys, its ``Compare`` features and the unsupervised
  ``ECMClassifier``, as in its documentation.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import phonenumbers
from benchmarks.crm_dataset import Dataset, Record
from benchmarks.crm_engine import merge_patch

Pair = frozenset[str]
_TITLES = frozenset(("mr", "mrs", "ms", "dr", "herr", "frau", "m", "mme", "dhr", "mevr", "prof"))
_NOT_WORD = re.compile(r"[^\w\s-]")


def _words(text: str) -> list[str]:
    return [w for w in _NOT_WORD.sub(" ", text.lower()).split() if w not in _TITLES]


def _names(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    if body.get("givenName") or body.get("familyName"):
        given = " ".join(_words(body.get("givenName") or "")) or None
        family = " ".join(_words(body.get("familyName") or "")) or None
        return given, family
    name = str(body.get("name") or "")
    if "," in name:
        family, _, given = name.partition(",")
        return " ".join(_words(given)) or None, " ".join(_words(family)) or None
    words = _words(name)
    return (" ".join(words[:-1]) or None, words[-1] if words else None)


def _phone(body: Mapping[str, Any]) -> str | None:
    for phone in body.get("phones") or []:
        try:
            number = phonenumbers.parse(phone["number"], phone.get("country"))
        except phonenumbers.NumberParseException:
            continue
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def row(record_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """One standardised row of a profile's create body."""
    address = (body.get("addresses") or [{}])[0]
    lines = address.get("lines") or []
    street = next((line for line in lines if any(c.isdigit() for c in line)), lines[0] if lines else None)
    given, family = _names(body) if body["kind"] == "PERSON" else (None, None)
    email = ((body.get("emails") or [{}])[0].get("address") or "").lower() or None
    tax = (body.get("taxIds") or [{}])[0]
    tax_id = re.sub(r"[^0-9A-Za-z]", "", tax.get("value") or "").upper() or None
    if tax_id and not tax_id[:2].isalpha():
        tax_id = str(tax.get("country", "")).upper() + tax_id
    website = str(body.get("website") or "").lower()
    domain = website.split("://")[-1].removeprefix("www.").split("/")[0] or (email.split("@")[1] if email else None)
    return {
        "unique_id": record_id,
        "first_name": given,
        "surname": family,
        "first_name_surname_concat": f"{given or ''} {family or ''}".strip() or None,
        "dob": body.get("birthDate"),
        "email": email,
        "phone": _phone(body),
        "street": " ".join(_words(street)) if street else None,
        "postcode": re.sub(r"\s", "", str(address.get("postalCode") or "")).upper() or None,
        "city": " ".join(_words(str(address.get("city") or ""))) or None,
        "org_name": " ".join(_words(str(body.get("name") or ""))) if body["kind"] != "PERSON" else None,
        "tax_id": tax_id,
        "domain": domain,
    }


def final_rows(dataset: Dataset, refuse: Any) -> dict[str, list[dict[str, Any]]]:
    """Rows of every profile as it is after the last update, persons and companies apart."""
    from benchmarks.crm_engine import accepted_body

    bodies: dict[str, dict[str, Any]] = {}
    kinds: dict[str, str] = {}
    for step in dataset.steps:
        if isinstance(step, Record):
            bodies[step.record_id] = accepted_body(step.body, refuse).body
            kinds[step.record_id] = str(step.body["kind"])
        else:
            bodies[step.record_id] = merge_patch(bodies[step.record_id], step.patch)
    rows: dict[str, list[dict[str, Any]]] = {"PERSON": [], "ORGANIZATION": []}
    for record_id, body in bodies.items():
        rows[kinds[record_id]].append(row(record_id, body))
    return rows


# -- Splink ------------------------------------------------------------------------------------------
def _splink(rows: list[dict[str, Any]], kind: str, threshold: float) -> dict[Pair, float]:
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frame = pd.DataFrame(rows)
    if kind == "PERSON":
        blocking = [
            block_on("substr(first_name,1,3)", "substr(surname,1,4)"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
            block_on("postcode", "first_name"),
            block_on("postcode", "surname"),
            block_on("email"),
            block_on("phone"),
        ]
        comparisons = [
            cl.ForenameSurnameComparison(
                "first_name", "surname", forename_surname_concat_col_name="first_name_surname_concat"
            ),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone"),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.7]),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        ]
        deterministic = [block_on("first_name", "surname", "dob"), block_on("email")]
        sessions = [block_on("first_name", "surname"), block_on("dob")]
    else:
        blocking = [
            block_on("org_name"),
            block_on("tax_id"),
            block_on("domain"),
            block_on("email"),
            block_on("phone"),
            block_on("postcode", "substr(org_name,1,3)"),
        ]
        comparisons = [
            cl.NameComparison("org_name").configure(term_frequency_adjustments=True),
            cl.ExactMatch("tax_id"),
            cl.EmailComparison("email"),
            cl.ExactMatch("domain"),
            cl.ExactMatch("phone"),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.7]),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        ]
        deterministic = [block_on("tax_id"), block_on("org_name", "postcode")]
        sessions = [block_on("org_name"), block_on("postcode")]
    settings = SettingsCreator(
        link_type="dedupe_only", blocking_rules_to_generate_predictions=blocking, comparisons=comparisons
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for session in sessions:
        linker.training.estimate_parameters_using_expectation_maximisation(
            session, estimate_without_term_frequencies=True
        )
    predictions = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    return {
        frozenset((str(a), str(b))): float(p)
        for a, b, p in zip(
            predictions["unique_id_l"], predictions["unique_id_r"], predictions["match_probability"], strict=True
        )
    }


def splink(rows: Mapping[str, list[dict[str, Any]]], threshold: float) -> dict[Pair, float]:
    found: dict[Pair, float] = {}
    for kind, kind_rows in rows.items():
        found |= _splink(kind_rows, kind, threshold)
    return found


# -- recordlinkage -----------------------------------------------------------------------------------
def _recordlinkage(rows: list[dict[str, Any]], kind: str) -> set[Pair]:
    import pandas as pd
    import recordlinkage

    frame = pd.DataFrame(rows).set_index("unique_id")
    indexer = recordlinkage.Index()
    blocks: Iterable[str | list[str]] = (
        ("surname", ["first_name", "dob"], "email", "phone", ["postcode", "surname"])
        if kind == "PERSON"
        else ("org_name", "tax_id", "domain", "email", "phone")
    )
    for block in blocks:
        indexer.block(block)
    candidates = indexer.index(frame)
    compare = recordlinkage.Compare()
    if kind == "PERSON":
        compare.string("first_name", "first_name", method="jarowinkler", threshold=0.85)
        compare.string("surname", "surname", method="jarowinkler", threshold=0.85)
        compare.exact("dob", "dob")
    else:
        compare.string("org_name", "org_name", method="jarowinkler", threshold=0.85)
        compare.exact("tax_id", "tax_id")
        compare.exact("domain", "domain")
    compare.exact("email", "email")
    compare.exact("phone", "phone")
    compare.string("street", "street", method="damerau_levenshtein", threshold=0.85)
    compare.exact("postcode", "postcode")
    features = compare.compute(candidates, frame)
    matches = recordlinkage.ECMClassifier(binarize=0.5).fit_predict(features)
    return {frozenset((str(a), str(b))) for a, b in matches}


def recordlinkage_pairs(rows: Mapping[str, list[dict[str, Any]]]) -> set[Pair]:
    found: set[Pair] = set()
    for kind, kind_rows in rows.items():
        found |= _recordlinkage(kind_rows, kind)
    return found
