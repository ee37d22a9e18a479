"""How a source system writes a customer down: the create body of ``POST /customers`` as that system
would send it (benchmarks/crm_dataset.py).

Each source has its habits: the web shop has an e-mail for everyone and rarely a birth date, the call
centre always a phone (in national format) and often a birth date read out on the phone, the ERP upper-
cases names, abbreviates street types and keeps VAT numbers, the CRM is the most complete. On top,
clerks make typos now and then, whichever the source.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import phonenumbers
from benchmarks.crm_entities import BY_CODE, Company, Person, Place

PERSON_SOURCES = (("CRM", 35), ("ERP", 20), ("WEBSHOP", 30), ("CALLCENTER", 15))
COMPANY_SOURCES = (("ERP", 40), ("CRM", 35), ("BILLING", 15), ("WEBSHOP", 10))


@dataclass(frozen=True, slots=True)
class Habits:
    birth_date: float
    email: float
    mobile: float
    landline: float
    address: float
    tax_id: float
    website: float
    one_name_field: float
    """Share of records sending the person's name as one string instead of given/family."""
    upper_case: float
    abbreviate: float
    phone_style: str


HABITS = {
    "CRM": Habits(0.7, 0.85, 0.7, 0.5, 0.9, 0.8, 0.7, 0.1, 0.02, 0.2, "international"),
    "ERP": Habits(0.4, 0.5, 0.4, 0.6, 1.0, 0.95, 0.4, 0.3, 0.35, 0.6, "national"),
    "WEBSHOP": Habits(0.15, 1.0, 0.5, 0.1, 0.95, 0.3, 0.2, 0.45, 0.0, 0.2, "as_typed"),
    "CALLCENTER": Habits(0.75, 0.4, 0.95, 0.7, 0.6, 0.5, 0.1, 0.15, 0.05, 0.4, "national"),
    "BILLING": Habits(0.0, 0.7, 0.2, 0.8, 1.0, 1.0, 0.5, 0.0, 0.2, 0.5, "e164"),
}
STREET_ABBREVIATIONS = {
    "straße": ("str.", "strasse", "Str."),
    "Road": ("Rd", "Rd.", "road"),
    "Street": ("St", "St.", "street"),
    "Avenue": ("Ave", "Av."),
    "Lane": ("Ln",),
    "Crescent": ("Cres",),
    "Drive": ("Dr",),
    "avenue": ("av.", "ave"),
    "boulevard": ("bd", "bd."),
    "straat": ("str.", "str"),
    "laan": ("ln",),
}
LEGAL_FORM_SPELLINGS = {
    "GmbH": ("G.m.b.H.", "GMBH", "Gesellschaft mit beschränkter Haftung"),
    "GmbH & Co. KG": ("GmbH u. Co. KG", "GmbH & Co KG"),
    "Ltd": ("Limited", "Ltd.", "LTD"),
    "Limited": ("Ltd", "Ltd."),
    "SARL": ("S.A.R.L.", "Sarl"),
    "SAS": ("S.A.S.", "Sas"),
    "B.V.": ("BV", "B.V"),
    "N.V.": ("NV",),
    "AG": ("Aktiengesellschaft",),
    "KG": ("K.G.",),
}
TITLES = {"DE": ("Herr", "Frau", "Dr."), "GB": ("Mr", "Mrs", "Ms", "Dr"), "FR": ("M.", "Mme"), "NL": ("Dhr.", "Mevr.")}


def typo(rng: random.Random, text: str) -> str:
    """One slip of the keyboard: a letter dropped, doubled, swapped with its neighbour or replaced."""
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    match rng.randrange(4):
        case 0:
            return text[:i] + text[i + 1 :]
        case 1:
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        case 2:
            return text[:i] + text[i] + text[i:]
        case _:
            near = "qwertzuiopasdfghjklyxcvbnm"
            return text[:i] + rng.choice(near) + text[i + 1 :]


def phone_text(rng: random.Random, e164: str, style: str) -> str:
    number = phonenumbers.parse(e164)
    if style == "e164":
        return e164
    if style == "international":
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if style == "national":
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    formatted = phonenumbers.format_number(
        number,
        rng.choice(
            (
                phonenumbers.PhoneNumberFormat.NATIONAL,
                phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                phonenumbers.PhoneNumberFormat.E164,
            )
        ),
    )
    return formatted.replace(" ", rng.choice((" ", "", "-", " "))) if rng.random() < 0.3 else formatted


def street_line(rng: random.Random, home: Place, abbreviate: bool) -> str:
    street = home.street
    if abbreviate:
        for word, spellings in STREET_ABBREVIATIONS.items():
            if street.endswith(word) or f"{word} " in street or street.startswith(f"{word} "):
                street = street.replace(word, rng.choice(spellings), 1)
                break
    if BY_CODE[home.country].number_first:
        separator = ", " if home.country == "FR" and rng.random() < 0.3 else " "
        return f"{home.house}{separator}{street}"
    return f"{street} {home.house}"


def address_lines(rng: random.Random, home: Place, abbreviate: bool) -> list[str]:
    """The lines as sources write them; a GB flat is "Flat 3, 12 High Street" or its own line."""
    street = street_line(rng, home, abbreviate)
    unit, building = home.sub_premise, home.building
    if unit is None:
        return [building, street] if building else [street]
    if home.country == "FR":
        return [street, unit] if rng.random() < 0.7 else [f"{street} {unit}"]
    style = rng.random()
    if building:
        if style < 0.5:
            return [f"{unit} {building}", street]
        if style < 0.8:
            return [unit, building, street]
        return [f"{unit}, {building}, {street}"]
    if style < 0.45:
        return [unit, street]
    if style < 0.85:
        return [f"{unit}, {street}"]
    return [f"{unit} {street}"]


def postcode_text(rng: random.Random, home: Place) -> str:
    code = home.postcode
    if home.country in ("GB", "NL") and rng.random() < 0.25:
        code = code.replace(" ", "")
    return code.lower() if rng.random() < 0.05 else code


def _case(rng: random.Random, text: str, habits: Habits) -> str:
    if rng.random() < habits.upper_case:
        return text.upper()
    return text.lower() if rng.random() < 0.03 else text


def _phones(rng: random.Random, habits: Habits, pairs: list[tuple[str | None, str, float]]) -> list[dict[str, str]]:
    phones = []
    for number, kind, share in pairs:
        if number and rng.random() < share:
            text = phone_text(rng, number, habits.phone_style)
            phone = {"number": text, "type": kind}
            if not text.startswith("+"):
                # a national number means nothing without its country, which such sources keep beside it
                phone["country"] = phonenumbers.region_code_for_number(phonenumbers.parse(number))
            phones.append(phone)
    return phones


def _address(rng: random.Random, home: Place, habits: Habits) -> dict[str, object]:
    city = home.city if rng.random() > 0.03 else typo(rng, home.city)
    address: dict[str, object] = {
        "type": "BILLING",
        "lines": address_lines(rng, home, rng.random() < habits.abbreviate),
        "city": city.upper() if rng.random() < habits.upper_case else city,
        "country": home.country,
    }
    if rng.random() < 0.97:
        address["postalCode"] = postcode_text(rng, home)
    return address


def person_body(rng: random.Random, who: Person, source: str, ref: str) -> dict[str, object]:
    habits = HABITS[source]
    given, family = who.given, who.family
    if rng.random() < 0.03:
        given = typo(rng, given)
    elif rng.random() < 0.03:
        family = typo(rng, family)
    body: dict[str, object] = {"kind": "PERSON", "externalRefs": [{"sourceSystem": source, "externalId": ref}]}
    if rng.random() < habits.one_name_field:
        title = f"{rng.choice(TITLES[who.country])} " if rng.random() < 0.15 else ""
        suffix = f" {who.suffix}" if who.suffix else ""
        written = f"{family}, {given}" if source == "ERP" and rng.random() < 0.6 else f"{title}{given} {family}{suffix}"
        body["name"] = _case(rng, written, habits)
    else:
        body["givenName"] = _case(rng, given, habits)
        body["familyName"] = _case(
            rng, family + (f" {who.suffix}" if who.suffix and rng.random() < 0.5 else ""), habits
        )
    if rng.random() < habits.birth_date:
        body["birthDate"] = who.birth_date.isoformat()
    if who.email and rng.random() < habits.email:
        email = who.email if rng.random() > 0.08 else who.email.upper()
        body["emails"] = [{"address": email, "type": "PERSONAL"}]
    phones = _phones(rng, habits, [(who.mobile, "MOBILE", habits.mobile), (who.landline, "LANDLINE", habits.landline)])
    if phones:
        body["phones"] = phones
    if rng.random() < habits.address:
        body["addresses"] = [_address(rng, who.place, habits)]
    return body


def company_name(rng: random.Random, firm: Company, habits: Habits) -> str:
    form = firm.legal_form
    if rng.random() < 0.25:
        form = rng.choice(LEGAL_FORM_SPELLINGS.get(form, (form,)))
    words = [firm.core] + ([firm.trade] if firm.trade else [])
    name = " ".join(words)
    return _case(rng, f"{name} {form}" if rng.random() < 0.9 else name, habits)


def tax_id_text(rng: random.Random, tax_id: str) -> dict[str, str]:
    country = "GR" if tax_id.startswith("EL") else tax_id[:2]
    value = tax_id
    roll = rng.random()
    if roll < 0.2:
        value = tax_id[2:]  # without the country prefix: the country field says it
    elif roll < 0.35:
        value = f"{tax_id[:2]} {' '.join(tax_id[i : i + 3] for i in range(2, len(tax_id), 3))}"
    return {"country": country, "type": "VAT", "value": value}


def company_body(rng: random.Random, firm: Company, source: str, ref: str) -> dict[str, object]:
    habits = HABITS[source]
    body: dict[str, object] = {
        "kind": "ORGANIZATION",
        "name": company_name(rng, firm, habits),
        "externalRefs": [{"sourceSystem": source, "externalId": ref}],
    }
    if firm.tax_id and rng.random() < habits.tax_id:
        body["taxIds"] = [tax_id_text(rng, firm.tax_id)]
    if rng.random() < habits.website:
        body["website"] = rng.choice((f"https://www.{firm.domain}", f"www.{firm.domain}", f"http://{firm.domain}/"))
    if firm.email and rng.random() < habits.email:
        body["emails"] = [{"address": firm.email, "type": "WORK"}]
    phones = _phones(rng, habits, [(firm.switchboard, "LANDLINE", 0.9)])
    if phones:
        body["phones"] = phones
    if rng.random() < habits.address:
        body["addresses"] = [_address(rng, firm.place, habits)]
    if firm.contact and rng.random() < 0.5:
        given, family, email = firm.contact
        body["contacts"] = [{"givenName": given, "familyName": family, "email": email, "role": "BILLING"}]
    return body
