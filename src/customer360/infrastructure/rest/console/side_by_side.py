"""Two profiles side by side, and the match engine's explanation in a steward's words."""

from __future__ import annotations

from typing import Any

from customer360.infrastructure.rest.console.rendering import brief, when

# (label, document key) in the order a steward compares them.
PROFILE_ROWS: tuple[tuple[str, str], ...] = (
    ("Name", "name"),
    ("Legal name", "legalName"),
    ("Given name", "givenName"),
    ("Family name", "familyName"),
    ("Birth date", "birthDate"),
    ("Kind", "kind"),
    ("Status", "status"),
    ("Segment", "segment"),
    ("Industry", "industry"),
    ("Website", "website"),
    ("E-mails", "emails"),
    ("Phones", "phones"),
    ("Tax ids", "taxIds"),
    ("Addresses", "addresses"),
    ("External refs", "externalRefs"),
    ("Tags", "tags"),
    ("Contacts", "contacts"),
    ("Created", "createdAt"),
    ("Version", "version"),
)
FIELD_LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "organization_name": "Organisation name",
    "birth_date": "Birth date",
    "email": "E-mail",
    "phone": "Phone",
    "tax_id": "Tax id",
    "national_id": "National id",
    "address": "Address",
    "postcode": "Postcode",
    "city": "City",
    "street": "Street",
    "website": "Website",
    "domain": "Web domain",
    "household": "Household",
    "same_site": "Same site",
}
LEVEL_WORDS = {
    "exact": "agree exactly",
    "missing": "missing on one side",
    "different": "differ",
    "typo": "agree but for a typo",
    "close": "are close",
    "fuzzy": "are alike",
    "nickname": "agree as a nickname",
    "initial": "agree on the initial",
    "swapped": "agree with words swapped",
    "partial": "agree in part",
    "one_edit": "differ by one digit",
    "day_month_swapped": "agree with day and month swapped",
    "same_year": "share only the year",
    # the interaction levels: why two look-alikes are probably two customers
    "twin": "twins? same home, family name and birth date, another given name",
    "sibling": "siblings? same family name and birth date, another given name",
    "household_member": "one household: same home and family name, another given name and birth date",
    "flatmate": "one household: same home, another family name",
    "other_generation": "parent and child? same name and home, born 18 or more years apart",
    "namesake_nearby": "namesakes nearby: same name in the street, nothing else in common",
    "other_company": "another company at the same site: another name or another valid VAT number",
}


def comparable(key: str, value: Any) -> Any:
    """What makes two values the same to a steward: a phone's number, an e-mail's address in any case."""
    if key == "phones":
        return sorted(p.get("e164", "") for p in value or [])
    if key == "emails":
        return sorted(e.get("address", "").lower() for e in value or [])
    if key == "taxIds":
        return sorted(t.get("value", "") for t in value or [])
    return brief(value).casefold()


def _shown(document: dict[str, Any], key: str) -> str:
    value = document.get(key)
    if key == "contacts":
        return ", ".join(c.get("name", "") for c in value or []) or "—"
    if key == "createdAt":
        return when(value)
    return brief(value)


def compare(left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per field that either side has, with whether the shown values are the same."""
    rows = []
    for label, key in PROFILE_ROWS:
        a, b = _shown(left, key), _shown(right, key)
        if a == "—" and b == "—":
            continue
        same = comparable(key, left.get(key)) == comparable(key, right.get(key))
        rows.append(
            {
                "label": label,
                "key": key,
                "left": a,
                "right": b,
                "same": same,
                "ignore": key in ("version", "createdAt", "status"),
            }
        )
    return rows


def explain(explanation: list[dict[str, Any]]) -> dict[str, Any]:
    """Each compared field with its verdict (agrees, partly, disagrees, missing) and weight in bits."""
    rows = []
    prior = 0.0
    for entry in explanation:
        weight = float(entry["weight"])
        if entry["field"] == "prior":
            prior = weight
            continue
        level = str(entry["level"])
        if level == "missing" or weight == 0:
            verdict = "missing"
        elif level == "exact":
            verdict = "agree"
        elif weight > 0:
            verdict = "partly"
        else:
            verdict = "disagree"
        rows.append(
            {
                "field": FIELD_LABELS.get(entry["field"], entry["field"].replace("_", " ").capitalize()),
                "level": level,
                "words": LEVEL_WORDS.get(level, level.replace("_", " ")),
                "weight": weight,
                "verdict": verdict,
            }
        )
    largest = max((abs(r["weight"]) for r in rows), default=1.0) or 1.0
    for row in rows:
        row["width"] = round(abs(row["weight"]) / largest * 100)
    return {"prior": prior, "rows": sorted(rows, key=lambda r: -r["weight"])}
