"""Synthetic German customer master data with realistic duplicates, for benchmarks/duplicate_check.py.

Persons (70 %) and organisations (30 %). Names follow a long-tailed distribution: a head of common real
surnames and given names (Zipf weights) and a tail of invented ones; addresses spread over real city
postcode ranges; e-mails, mobile and landline numbers, valid German VAT numbers. Every value is
synthetic (example domains, 555-free but invented numbers).

Duplicates are copies of an original with what real sources do to a record: typos, swapped names,
capitalisation, a missing or different e-mail or phone, "Str." for "Straße", a moved address, a
different legal form spelling, words in another order. Each chunk is generated from its own seed, so
chunks can be made in parallel and again later with the same result.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from itertools import accumulate

from stdnum.iso7064 import mod_11_10
from unidecode import unidecode


def _words(text: str) -> list[str]:
    return text.split()


GIVEN = _words(
    "Maria Anna Ursula Monika Petra Elisabeth Sabine Renate Helga Karin Brigitte Ingrid Erika Andrea "
    "Gisela Claudia Susanne Gabriele Christa Christine Hannelore Barbara Julia Stefanie Nicole Katharina "
    "Laura Lena Sarah Lisa Johanna Sophie Emma Mia Hanna Lea Clara Greta Ida Karla Eva Paula Marie "
    "Charlotte Luise Peter Michael Thomas Andreas Wolfgang Klaus Jürgen Günter Stefan Christian Uwe "
    "Werner Horst Frank Dieter Manfred Gerhard Hans Bernd Helmut Martin Walter Matthias Jan Tobias Lukas "
    "Felix Jonas Leon Paul Ben Finn Elias Noah Luis Max Moritz Niklas Tim Florian Sebastian Alexander "
    "Daniel Markus Johannes Philipp"
)
FAMILY = _words(
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer "
    "Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt "
    "Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber "
    "Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank "
    "Berger Winkler Roth Beck"
)
SYLLABLES = _words("ka lo mer tin ber sa vo rin del ta no gus pe lan dor fi mo ra zen bu ste wa hol ki tra ne sol ma")
SUFFIXES = ("mann", "er", "berg", "hoff", "ke", "ler", "hardt", "s", "bach", "feld", "")
CITIES = (  # (city, first postcode, postcodes, weight)
    ("Berlin", 10115, 2200, 36),
    ("Hamburg", 20095, 1600, 18),
    ("München", 80331, 1600, 15),
    ("Köln", 50667, 900, 11),
    ("Frankfurt am Main", 60306, 700, 7),
    ("Stuttgart", 70173, 600, 6),
    ("Düsseldorf", 40210, 500, 6),
    ("Leipzig", 4103, 300, 6),
    ("Dortmund", 44135, 300, 6),
    ("Essen", 45127, 300, 6),
    ("Bremen", 28195, 300, 5),
    ("Dresden", 1067, 300, 5),
    ("Hannover", 30159, 300, 5),
    ("Nürnberg", 90402, 300, 5),
    ("Bochum", 44787, 100, 4),
    ("Wuppertal", 42103, 300, 4),
    ("Bielefeld", 33602, 200, 3),
    ("Bonn", 53111, 200, 3),
    ("Münster", 48143, 200, 3),
    ("Mannheim", 68159, 200, 3),
    ("Karlsruhe", 76131, 200, 3),
    ("Augsburg", 86150, 200, 3),
    ("Wiesbaden", 65183, 200, 3),
    ("Kiel", 24103, 100, 2),
    ("Freiburg im Breisgau", 79098, 100, 2),
    ("Rostock", 18055, 100, 2),
    ("Kassel", 34117, 100, 2),
    ("Potsdam", 14467, 100, 2),
)
STREET_NAMES = _words(
    "Haupt Bahnhof Garten Schul Dorf Berg Kirch Wald Ring Linden Birken Eichen Ahorn Rosen Mühlen Feld "
    "Wiesen Friedrich Goethe Schiller Mozart Beethoven Bismarck Kant Lessing Herder Uhland Heine Luther "
    "Kaiser König"
)
STREET_TYPES = ("straße", "weg", "allee", "platz", "ring", "gasse")
PROVIDERS = ("gmail.com", "web.de", "gmx.de", "t-online.de", "outlook.com", "posteo.de", "mail.example")
TRADES = _words("Maschinenbau Logistik Systems Handel Bau Chemie Software Consulting Foods Textil Elektro Medien")
FORMS = ("GmbH", "AG", "KG", "GmbH & Co. KG", "UG", "e.K.", "OHG", "SE")
FORM_VARIANTS = {"GmbH": "G.m.b.H.", "AG": "Aktiengesellschaft", "GmbH & Co. KG": "GmbH u. Co. KG", "KG": "K.G."}
NICKNAMES = {"Johannes": "Hans", "Elisabeth": "Lisa", "Katharina": "Katja", "Alexander": "Alex", "Matthias": "Matze"}


def _zipf(n: int, s: float = 1.0) -> list[float]:
    return list(accumulate(1.0 / (k**s) for k in range(1, n + 1)))


_GIVEN_W, _FAMILY_W = _zipf(len(GIVEN), 0.9), _zipf(len(FAMILY), 1.0)
_CITY_W = list(accumulate(c[3] for c in CITIES))


@dataclass(frozen=True, slots=True)
class Synthetic:
    """One synthetic customer in the API's vocabulary (persons: given/family name and birth date)."""

    kind: str
    given: str | None = None
    family: str | None = None
    birth_date: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    tax_id: str | None = None
    website: str | None = None

    def body(self) -> dict[str, object]:
        """The create body of POST /customers (and POST /duplicates/check)."""
        body: dict[str, object] = {"kind": self.kind}
        if self.kind == "PERSON":
            body |= {"givenName": self.given, "familyName": self.family}
            if self.birth_date:
                body["birthDate"] = self.birth_date
        else:
            body["name"] = self.name
            if self.website:
                body["website"] = self.website
            if self.tax_id:
                body["taxIds"] = [{"country": "DE", "type": "VAT", "value": self.tax_id}]
        if self.email:
            body["emails"] = [{"address": self.email}]
        if self.phone:
            body["phones"] = [{"number": self.phone}]
        if self.street:
            address = {"type": "BILLING", "lines": [self.street], "city": self.city, "country": "DE"}
            body["addresses"] = [{**address, "postalCode": self.postal_code}]
        return body


def _invented(rng: random.Random, shortest: int, longest: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(shortest, longest))).capitalize()


def _family(rng: random.Random) -> str:
    if rng.random() < 0.45:
        return rng.choices(FAMILY, cum_weights=_FAMILY_W)[0]
    return _invented(rng, 1, 3) + rng.choice(SUFFIXES)


def _place(rng: random.Random) -> tuple[str, str, str]:
    city, first, count, _ = rng.choices(CITIES, cum_weights=_CITY_W)[0]
    # A few street names are everywhere (Hauptstraße, Bahnhofstraße); most are local ones.
    root = rng.choice(STREET_NAMES) if rng.random() < 0.3 else _invented(rng, 2, 3)
    street = f"{root}{rng.choice(STREET_TYPES)} {rng.randint(1, 150)}"
    return street, f"{first + rng.randrange(count):05d}", city


def _vat(rng: random.Random) -> str:
    body = f"{rng.randint(10_000_000, 99_999_999)}"
    return f"DE{body}{mod_11_10.calc_check_digit(body)}"


def _ascii(text: str) -> str:
    return unidecode(text).lower().replace(" ", "").replace("'", "")


def person(rng: random.Random) -> Synthetic:
    given, family = rng.choices(GIVEN, cum_weights=_GIVEN_W)[0], _family(rng)
    street, postal_code, city = _place(rng)
    email = f"{_ascii(given)}.{_ascii(family)}{rng.randint(1, 999)}@{rng.choice(PROVIDERS)}"
    phone = f"+49 1{rng.choice('567')}{rng.randint(0, 9)} {rng.randint(1_000_000, 99_999_999)}"
    return Synthetic(
        kind="PERSON",
        given=given,
        family=family,
        birth_date=f"{rng.randint(1930, 2006)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        email=email if rng.random() < 0.8 else None,
        phone=phone if rng.random() < 0.7 else None,
        street=street if rng.random() < 0.9 else None,
        postal_code=postal_code,
        city=city,
    )


def organisation(rng: random.Random) -> Synthetic:
    word = _invented(rng, 2, 3)
    trade = rng.choice(TRADES)
    domain = f"{_ascii(word)}-{trade.lower()}{rng.randint(1, 99)}.example"
    street, postal_code, city = _place(rng)
    area = {"Berlin": "30", "Hamburg": "40", "München": "89", "Köln": "221"}.get(city, f"{rng.randint(200, 999)}")
    return Synthetic(
        kind="ORGANIZATION",
        name=f"{word} {trade} {rng.choice(FORMS)}",
        email=f"info@{domain}" if rng.random() < 0.6 else None,
        phone=f"+49 {area} {rng.randint(1_000_000, 9_999_999)}" if rng.random() < 0.8 else None,
        street=street if rng.random() < 0.95 else None,
        postal_code=postal_code,
        city=city,
        tax_id=_vat(rng) if rng.random() < 0.5 else None,
        website=f"https://www.{domain}" if rng.random() < 0.6 else None,
    )


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    match rng.randrange(4):
        case 0:
            return text[:i] + text[i + 1 :]
        case 1:
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        case 2:
            return text[:i] + rng.choice("aeinrst") + text[i:]
        case _:
            return text[:i] + rng.choice("aeinrst") + text[i + 1 :]


def corrupt(rng: random.Random, original: Synthetic) -> Synthetic:
    """The same customer as another source would have typed it."""
    r = original
    if rng.random() < 0.3:
        r = replace(r, email=None)
    elif r.email and rng.random() < 0.15:
        r = replace(r, email=r.email.upper() if rng.random() < 0.5 else r.email.replace("@", "+crm@"))
    if rng.random() < 0.3:
        r = replace(r, phone=None)
    if r.street and rng.random() < 0.3:
        r = replace(r, street=r.street.replace("straße", "str.").replace("Straße", "Str."))
    if rng.random() < 0.1:
        street, postal_code, city = _place(rng)  # moved
        r = replace(r, street=street, postal_code=postal_code, city=city)
    elif rng.random() < 0.1:
        r = replace(r, street=None)
    if r.kind == "PERSON":
        assert r.given
        assert r.family
        roll = rng.random()
        if roll < 0.15:
            r = replace(r, family=_typo(rng, r.family))
        elif roll < 0.25:
            r = replace(r, given=_typo(rng, r.given))
        elif roll < 0.28:
            r = replace(r, given=r.family, family=r.given)
        elif roll < 0.31:
            r = replace(r, given=NICKNAMES.get(r.given, r.given))
        if r.birth_date and rng.random() < 0.1:
            r = replace(r, birth_date=None)
        elif r.birth_date and rng.random() < 0.05:
            year, month, day = r.birth_date.split("-")
            r = replace(r, birth_date=f"{year}-{month}-{int(day) % 28 + 1:02d}")
    else:
        assert r.name
        words = r.name.split(" ", 2)
        roll = rng.random()
        if roll < 0.3:
            form = words[2] if len(words) > 2 else ""
            r = replace(r, name=f"{words[0]} {words[1]} {FORM_VARIANTS.get(form, form)}".strip())
        elif roll < 0.45:
            r = replace(r, name=f"{_typo(rng, words[0])} {' '.join(words[1:])}")
        elif roll < 0.55:
            r = replace(r, name=f"{words[0]} {words[1]}")
        if rng.random() < 0.4:
            r = replace(r, tax_id=None)
        if rng.random() < 0.3:
            r = replace(r, website=None)
    return r


@dataclass(frozen=True, slots=True)
class Chunk:
    """``customers`` in id order; ``copies[i]`` is the position of the original of position ``i``."""

    customers: list[Synthetic]
    copies: dict[int, int]


def chunk(index: int, size: int, duplicate_share: float = 0.05) -> Chunk:
    """Chunk ``index``: originals, then copies of some of them (one to three each)."""
    rng = random.Random(f"c360-dedup-{index}")
    wanted = int(size * duplicate_share)
    customers = [person(rng) if rng.random() < 0.7 else organisation(rng) for _ in range(size - wanted)]
    copies: dict[int, int] = {}
    while len(copies) < wanted:
        original = rng.randrange(size - wanted)
        for _ in range(min(rng.choice((1, 1, 1, 2, 3)), wanted - len(copies))):
            copies[len(customers)] = original
            customers.append(corrupt(rng, customers[original]))
    return Chunk(customers, copies)
