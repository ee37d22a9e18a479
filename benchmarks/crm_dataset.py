"""A realistic CRM data set for the matching benchmark: persons and companies of four countries (DE, GB,
FR, NL) as several source systems wrote them down, with every record labelled by the real customer it
describes and by the kind of case it is.

About 30 % of customers have one to three duplicate records, each duplicate of one kind (re-keyed in
another source, typos, moved, moved after the profile was updated, an initial for the given name, a
nickname, a married name, invalid identifiers, a sparse web-shop or call-centre record, a GB flat
written another way; for companies re-keyed, typos, moved, another spelling of the name, a VAT number
failing its checksum). About 12 % belong to a group of *different* customers that look alike: twins,
household members, junior/senior, namesakes in one postcode, GB namesakes in flats of the same number,
sister companies at one site with different VAT numbers. The rest are single records.

``generate(entities, seed)`` returns the records in the order they reach the service, with the
profile updates between them (a moved customer's profile updated before an old source sends the old
address again). Each group's records are generated from the group's own random stream, so a data set
of any size is the same for the same seed and size.

    python benchmarks/crm_dataset.py --entities 20000 --out crm-20k.jsonl   # one JSON object a line
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import phonenumbers
from benchmarks.crm_entities import (
    BY_CODE,
    Company,
    Person,
    ascii_word,
    birth_date,
    broken_checksum,
    company,
    country,
    family_name,
    given_name,
    landline,
    mobile,
    moved,
    neighbour,
    person,
    personal_email,
    place,
    vat_number,
)
from benchmarks.crm_rendering import COMPANY_SOURCES, PERSON_SOURCES, company_body, person_body, typo
from benchmarks.crm_vocabulary import BRITAIN, NICKNAMES, ROLE_MAILBOXES

LOOKALIKE_CATEGORIES = (
    "twins",
    "household",
    "junior/senior",
    "namesakes in one postcode",
    "GB namesakes, same flat number",
    "sister companies",
)
DUPLICATE_CATEGORIES = (
    "person re-keyed",
    "person typos",
    "person moved",
    "person moved, profile updated",
    "person initial",
    "person nickname",
    "person married name",
    "person invalid phone",
    "person sparse record",
    "person GB flat written differently",
    "company re-keyed",
    "company typos",
    "company moved",
    "company name variant",
    "company invalid VAT number",
)
SINGLE_CATEGORIES = ("person single", "company single")
MOVED_CATEGORIES = ("person moved", "person moved, profile updated", "company moved")

_PERSON_DUPLICATES = (
    ("person re-keyed", 18),
    ("person typos", 20),
    ("person moved", 16),
    ("person moved, profile updated", 5),
    ("person initial", 7),
    ("person nickname", 5),
    ("person married name", 8),
    ("person invalid phone", 5),
    ("person sparse record", 9),
    ("person GB flat written differently", 7),
)
_COMPANY_DUPLICATES = (
    ("company re-keyed", 25),
    ("company typos", 20),
    ("company moved", 20),
    ("company name variant", 22),
    ("company invalid VAT number", 13),
)
_LOOKALIKES = (
    ("twins", 12),
    ("household", 30),
    ("junior/senior", 14),
    ("namesakes in one postcode", 16),
    ("GB namesakes, same flat number", 8),
    ("sister companies", 20),
)
LOOKALIKE_GROUP_SHARE = 0.055
DUPLICATED_SHARE = 0.31
LOOKALIKE_DUPLICATED_SHARE = 0.2
PERSON_SHARE = 0.7


@dataclass(frozen=True, slots=True)
class Record:
    """One record as a source system sends it, with the truth: which customer, which group, which kind."""

    record_id: str
    entity: str
    group: str
    category: str
    source: str
    body: dict[str, object]


@dataclass(frozen=True, slots=True)
class Update:
    """A profile update (JSON merge patch) of the profile created from ``record_id``."""

    record_id: str
    patch: dict[str, object]


Step = Record | Update


@dataclass
class Dataset:
    steps: list[Step]
    categories: dict[str, str] = field(default_factory=dict)
    """group -> category"""

    @property
    def records(self) -> list[Record]:
        return [s for s in self.steps if isinstance(s, Record)]


@dataclass
class _Timed:
    at: float
    step: Step


class _Group:
    """Builds one group's records from the group's own random stream."""

    def __init__(self, seed: int, index: int) -> None:
        self.rng = random.Random(f"crm-{seed}-{index}")
        self.id = f"G{index:07d}"
        self.entities = 0
        self.steps: list[_Timed] = []

    def entity_id(self) -> str:
        self.entities += 1
        return f"{self.id}-{self.entities}"

    def source(self, kind: str, other_than: str | None = None) -> str:
        sources = PERSON_SOURCES if kind == "PERSON" else COMPANY_SOURCES
        names, weights = zip(*sources, strict=True)
        for _ in range(10):
            chosen = self.rng.choices(names, weights=weights)[0]
            if chosen != other_than or self.rng.random() < 0.25:
                return chosen
        return chosen

    def add(self, entity: Person | Company, category: str, body: dict[str, object], source: str, at: float) -> str:
        record_id = f"{self.id}-R{len(self.steps) + 1}"
        self.steps.append(_Timed(at, Record(record_id, entity.entity, self.id, category, source, body)))
        return record_id

    def body(self, record_id: str) -> dict[str, object]:
        return next(t.step.body for t in self.steps if isinstance(t.step, Record) and t.step.record_id == record_id)

    def render(self, entity: Person | Company, source: str) -> dict[str, object]:
        ref = f"{source[:3]}-{self.id[1:]}-{len(self.steps) + 1}"
        if isinstance(entity, Person):
            return person_body(self.rng, entity, source, ref)
        return company_body(self.rng, entity, source, ref)

    def record(
        self,
        entity: Person | Company,
        category: str,
        *,
        source: str | None = None,
        at: float | None = None,
        tweak: Callable[[dict[str, object]], dict[str, object]] | None = None,
    ) -> str:
        kind = "PERSON" if isinstance(entity, Person) else "ORGANIZATION"
        chosen = source or self.source(kind)
        body = self.render(entity, chosen)
        if tweak is not None:
            body = tweak(body)
        return self.add(entity, category, body, chosen, self.rng.random() if at is None else at)


# -- duplicates ------------------------------------------------------------------------------------------
def _typos(rng: random.Random, body: dict[str, object], count: int) -> dict[str, object]:
    body = json.loads(json.dumps(body))
    for _ in range(count):
        where = rng.choice(("name", "name", "street", "email", "city"))
        if where == "name":
            for key in ("familyName", "givenName", "name"):
                if key in body and rng.random() < 0.7:
                    body[key] = typo(rng, str(body[key]))
                    break
        elif where == "street" and body.get("addresses"):
            address = body["addresses"][0]  # type: ignore[index]
            address["lines"][-1] = typo(rng, address["lines"][-1])
        elif where == "city" and body.get("addresses"):
            address = body["addresses"][0]  # type: ignore[index]
            address["city"] = typo(rng, address["city"])
        elif where == "email" and body.get("emails"):
            email = body["emails"][0]  # type: ignore[index]
            local, _, domain = email["address"].partition("@")
            email["address"] = f"{typo(rng, local)}@{domain}"
    return body


def _without(body: dict[str, object], *keys: str) -> dict[str, object]:
    return {k: v for k, v in body.items() if k not in keys}


def _initial(body: dict[str, object]) -> dict[str, object]:
    body = dict(body)
    if "givenName" in body:
        body["givenName"] = str(body["givenName"])[0] + "."
    elif "name" in body:
        text = str(body["name"])
        if "," in text:
            family, _, given = text.partition(",")
            body["name"] = f"{family}, {given.strip()[:1]}."
        else:
            words = text.split()
            body["name"] = " ".join([w[0] + "." if i == len(words) - 2 else w for i, w in enumerate(words)])
    return body


def _impossible(rng: random.Random, e164: str) -> str:
    digits = e164[1:]
    for _ in range(50):
        if rng.random() < 0.5:
            cut = rng.randrange(4, len(digits) - 1)
            candidate = "+" + digits[:cut] + digits[cut + rng.randint(2, 3) :]
        else:
            candidate = "+" + digits + "".join(str(rng.randrange(10)) for _ in range(rng.randint(4, 6)))
        if not phonenumbers.is_possible_number(phonenumbers.parse(candidate)):
            return candidate
    return "+" + digits[:5]


def _link(g: _Group, first: str, first_who: Person, copy: str, copy_who: Person) -> None:
    """Make both records carry one identifier the customer kept: the e-mail, the mobile or the birth date."""
    rng = g.rng
    options = ["birth"]
    if first_who.email and first_who.email == copy_who.email:
        options += ["email", "email"]
    if first_who.mobile and first_who.mobile == copy_who.mobile:
        options.append("mobile")
    chosen = rng.choice(options)
    for record_id, who in ((first, first_who), (copy, copy_who)):
        body = g.body(record_id)
        if chosen == "birth":
            body["birthDate"] = who.birth_date.isoformat()
        elif chosen == "email" and not body.get("emails"):
            body["emails"] = [{"address": who.email, "type": "PERSONAL"}]
        elif chosen == "mobile" and who.mobile:
            numbers = [p["number"] for p in body.get("phones", [])]  # type: ignore[union-attr]
            if not any(n.replace(" ", "") == who.mobile for n in numbers):
                body["phones"] = [*body.get("phones", []), {"number": who.mobile, "type": "MOBILE"}]  # type: ignore[misc]


# Share of duplicates of a kind that keep an identifier both records show (the rest share only a name).
_LINKED = {"person moved": 0.9, "person married name": 0.85}


def _after_move(rng: random.Random, who: Person) -> Person:
    """The customer after a move: a new home and landline, often a new mobile, rarely a new e-mail."""
    home = moved(rng, who.place)
    c = BY_CODE[who.country]
    return replace(
        who,
        place=home,
        landline=landline(rng, home) if who.landline else None,
        mobile=who.mobile if rng.random() < 0.6 else mobile(rng, c),
        email=who.email if rng.random() < 0.85 else personal_email(rng, c, who.given, who.family, who.birth_date),
    )


def _after_marriage(rng: random.Random, who: Person) -> Person:
    old = who.family
    new = family_name(rng, BY_CODE[who.country])
    later = replace(who, family=rng.choices((new, f"{old}-{new}", f"{new}-{old}"), weights=(6, 2, 1))[0])
    if rng.random() < 0.5:
        later = replace(later, place=moved(rng, who.place), landline=None)
    if who.email and rng.random() < 0.5:
        later = replace(later, email=personal_email(rng, BY_CODE[who.country], who.given, new, who.birth_date))
    return later


def _person_duplicates(g: _Group, who: Person, category: str, copies: int) -> None:
    rng = g.rng
    first = g.source("PERSON")
    original = g.record(who, category, source=first)
    # one life event per customer: every later record shows the same new state (or still the old one)
    later = who
    if category == "person moved":
        later = _after_move(rng, who)
    elif category == "person married name":
        later = _after_marriage(rng, who)
    for _ in range(copies):
        before = len(g.steps)
        source = g.source("PERSON", other_than=first)
        match category:
            case "person typos":
                g.record(who, category, source=source, tweak=lambda b: _typos(rng, b, rng.choice((1, 1, 2))))
            case "person moved" | "person married name":
                state = later if rng.random() < 0.8 else who
                # the e-mail survives a move; sometimes one side lacks it
                drop = category == "person moved" and rng.random() < 0.25
                copy = g.record(
                    state, category, source=source, tweak=(lambda b: _without(b, "emails")) if drop else None
                )
                if rng.random() < _LINKED[category]:
                    _link(g, original, who, copy, replace(state, email=None) if drop else state)
            case "person initial":
                g.record(who, category, source=source, tweak=_initial)
            case "person nickname":
                g.record(replace(who, given=NICKNAMES.get(who.given, who.given)), category, source=source)
            case "person invalid phone":
                number = who.mobile or who.landline or mobile(rng, BY_CODE[who.country])
                wrong = _impossible(rng, number)

                def broken(body: dict[str, object], wrong: str = wrong) -> dict[str, object]:
                    return {**body, "phones": [{"number": wrong, "type": "OTHER"}]}

                g.record(replace(who, mobile=number), category, source=source, tweak=broken)
            case "person sparse record":
                # a web-shop guest (name and e-mail) or a call-centre note (name and phone); the full
                # record knows that e-mail or phone too
                by_email = bool(who.email) and rng.random() < 0.6
                number = who.mobile or who.landline or mobile(rng, BY_CODE[who.country])
                kept = replace(who, mobile=number)
                names = {k: v for k, v in g.render(kept, source).items() if k in ("name", "givenName", "familyName")}
                contact = (
                    {"emails": [{"address": who.email, "type": "PERSONAL"}]}
                    if by_email
                    else {"phones": [{"number": number, "type": "MOBILE"}]}
                )
                ref = {
                    "externalRefs": [{"sourceSystem": source, "externalId": f"{source[:3]}-{g.id[1:]}-{before + 1}"}]
                }
                g.add(kept, category, {"kind": "PERSON", **ref, **names, **contact}, source, rng.random())
                full = g.body(original)
                key = "emails" if by_email else "phones"
                if rng.random() < 0.95 and contact[key][0] not in full.get(key, []):  # type: ignore[operator]
                    full[key] = [*full.get(key, []), *contact[key]]  # type: ignore[misc]
            case _:
                g.record(who, category, source=source)


def _moved_after_update(g: _Group, who: Person, category: str) -> None:
    """Created, then the profile is updated to the new home; later an old source sends the old address."""
    rng = g.rng
    first = g.source("PERSON")
    created = g.record(who, category, source=first, at=rng.random() * 0.4)
    later = replace(who, place=moved(rng, who.place), landline=None)
    later = replace(later, mobile=later.mobile if rng.random() < 0.5 else mobile(rng, BY_CODE[who.country]))
    fresh = g.render(later, "CRM")
    patch: dict[str, object] = {"addresses": fresh.get("addresses"), "phones": fresh.get("phones")}
    g.steps.append(_Timed(0.45 + rng.random() * 0.2, Update(created, patch)))
    g.record(who, category, source=g.source("PERSON", other_than=first), at=0.7 + rng.random() * 0.3)


def _person_with_duplicates(g: _Group, category: str) -> None:
    rng = g.rng
    c = country(rng)
    if category == "person GB flat written differently":
        c = BRITAIN
        who = person(rng, g.entity_id(), c, home=place(rng, c, flat_share=5.0))
    elif category == "person nickname":
        who = person(rng, g.entity_id(), c)
        names = [n for n in NICKNAMES if n in (*BY_CODE[who.country].female, *BY_CODE[who.country].male)]
        names = names or list(NICKNAMES)
        who = replace(who, given=rng.choice(names))
    elif category == "person married name":
        who = person(rng, g.entity_id(), c)
        who = replace(who, female=True, given=given_name(rng, BY_CODE[who.country], True))
    else:
        who = person(rng, g.entity_id(), c)
    if category == "person moved, profile updated":
        _moved_after_update(g, who, category)
        return
    _person_duplicates(g, who, category, _copies(rng))


def _company_with_duplicates(g: _Group, category: str) -> None:
    rng = g.rng
    firm = company(rng, g.entity_id())
    first = g.source("ORGANIZATION")
    g.record(firm, category, source=first)
    for _ in range(_copies(rng)):
        source = g.source("ORGANIZATION", other_than=first)
        match category:
            case "company typos":
                g.record(firm, category, source=source, tweak=lambda b: _typos(rng, b, 1))
            case "company moved":
                site = moved(rng, firm.place)
                later = replace(
                    firm, place=site, switchboard=landline(rng, site) if rng.random() < 0.8 else firm.switchboard
                )
                g.record(later, category, source=source)
            case "company name variant":
                variant = rng.random()
                if variant < 0.4 and firm.trade:
                    later = replace(firm, trade=None)
                elif variant < 0.7:
                    later = replace(firm, core=firm.core.upper() if rng.random() < 0.5 else firm.core + " & Co")
                else:
                    later = replace(firm, trade=firm.trade, core=f"{firm.core} {firm.country}")
                g.record(later, category, source=source)
            case "company invalid VAT number":
                wrong = broken_checksum(rng, firm.tax_id or vat_number(rng, BY_CODE[firm.country]))

                def broken(body: dict[str, object], wrong: str = wrong) -> dict[str, object]:
                    return {**body, "taxIds": [{"country": wrong[:2], "type": "VAT", "value": wrong}]}

                g.record(replace(firm, tax_id=firm.tax_id or wrong), category, source=source, tweak=broken)
            case _:
                g.record(firm, category, source=source)


def _copies(rng: random.Random) -> int:
    return rng.choices((1, 2, 3), weights=(60, 28, 12))[0]


# -- look-alikes -----------------------------------------------------------------------------------------
def _own_contact_points(rng: random.Random, who: Person) -> Person:
    c = BY_CODE[who.country]
    return replace(
        who,
        email=personal_email(rng, c, who.given, who.family, who.birth_date) if rng.random() < 0.85 else None,
        mobile=mobile(rng, c) if rng.random() < 0.8 else None,
    )


def _other_given(rng: random.Random, who: Person, female: bool) -> str:
    c = BY_CODE[who.country]
    for _ in range(20):
        name = given_name(rng, c, female)
        if name != who.given and name[0] != who.given[0]:
            return name
    return given_name(rng, c, female)


def _lookalike_members(g: _Group, category: str) -> list[Person | Company]:
    rng = g.rng
    if category == "sister companies":
        base = company(rng, g.entity_id())
        base = replace(base, tax_id=base.tax_id or vat_number(rng, BY_CODE[base.country]))
        c = BY_CODE[base.country]
        trade = rng.choice([t for t in (*c.trades, "Holding", "Services") if t != base.trade])
        sister = replace(
            base,
            entity=g.entity_id(),
            trade=trade,
            legal_form=base.legal_form if rng.random() < 0.7 else rng.choice(c.legal_forms),
            tax_id=vat_number(rng, c),
            email=base.email if rng.random() < 0.5 else f"{ascii_word(trade)}@{base.domain}",
            contact=None,
        )
        return [base, sister]
    c = BRITAIN if category == "GB namesakes, same flat number" else country(rng)
    home = place(rng, c)
    base = person(rng, g.entity_id(), c, home=home)
    household = category in ("twins", "household")
    shared_line = landline(rng, home) if household or rng.random() < 0.75 else None
    base = replace(base, landline=shared_line)
    members: list[Person | Company] = [base]
    if category == "twins":
        female = base.female if rng.random() < 0.6 else not base.female
        twin = replace(base, entity=g.entity_id(), female=female, given=_other_given(rng, base, female))
        members.append(_own_contact_points(rng, twin))
    elif category == "household":
        spouse_family = base.family if rng.random() < 0.75 else family_name(rng, c)
        spouse_born = birth_date(rng, max(1935, base.birth_date.year - 8), min(2006, base.birth_date.year + 8))
        spouse = replace(
            base, entity=g.entity_id(), female=not base.female, family=spouse_family, birth_date=spouse_born
        )
        spouse = replace(spouse, given=_other_given(rng, base, spouse.female))
        members.append(_own_contact_points(rng, spouse))
        for _ in range(rng.choice((0, 0, 1, 2))):
            if base.birth_date.year + 20 > 2006:
                break
            female = rng.random() < 0.5
            child = replace(
                base,
                entity=g.entity_id(),
                female=female,
                birth_date=birth_date(rng, base.birth_date.year + 20, min(2006, base.birth_date.year + 38)),
            )
            child = replace(child, given=_other_given(rng, base, female))
            members.append(_own_contact_points(rng, child))
    elif category == "junior/senior":
        senior = replace(base, birth_date=birth_date(rng, 1935, 1968))
        year = senior.birth_date.year + rng.randint(18, min(40, 2006 - senior.birth_date.year))
        junior_born = birth_date(rng, year, year)
        junior = replace(senior, entity=g.entity_id(), birth_date=junior_born)
        if rng.random() < 0.2:
            senior, junior = replace(senior, suffix="Sr."), replace(junior, suffix="Jr.")
        members = [senior, _own_contact_points(rng, junior)]
    elif category == "namesakes in one postcode":
        common = replace(base, given=given_name(rng, c, base.female), family=c.family[rng.randrange(8)])
        other = replace(common, entity=g.entity_id(), birth_date=birth_date(rng), place=neighbour(rng, home))
        other = replace(other, landline=landline(rng, other.place) if rng.random() < 0.4 else None)
        members = [common, _own_contact_points(rng, other)]
    else:  # GB namesakes in flats of the same number, in different buildings of one city
        flat = f"Flat {rng.randint(1, 12)}"
        city = next(x for x in c.cities if x.name == home.city)
        common = replace(base, family=c.family[rng.randrange(8)], place=replace(home, sub_premise=flat))
        there = replace(place(rng, c, city=city), sub_premise=flat)
        other = replace(
            common,
            entity=g.entity_id(),
            given=_other_given(rng, common, common.female) if rng.random() < 0.5 else common.given,
            birth_date=birth_date(rng),
            place=there,
            landline=landline(rng, there) if rng.random() < 0.4 else None,
        )
        members = [common, _own_contact_points(rng, other)]
    return members


def _defining(member: Person | Company, category: str) -> Callable[[dict[str, object]], dict[str, object]]:
    """The fields that tell the look-alikes apart, on every record: a category is defined by them."""

    def tweak(body: dict[str, object]) -> dict[str, object]:
        if category == "junior/senior" and isinstance(member, Person):
            return {**body, "birthDate": member.birth_date.isoformat()}
        if category in ("twins", "household") and isinstance(member, Person) and member.landline:
            phones = [p for p in body.get("phones", []) if p.get("type") != "LANDLINE"]  # type: ignore[union-attr]
            return {**body, "phones": [*phones, {"number": member.landline, "type": "LANDLINE"}]}
        if category == "sister companies" and isinstance(member, Company) and member.tax_id:
            return {**body, "taxIds": [{"country": member.tax_id[:2], "type": "VAT", "value": member.tax_id}]}
        return body

    return tweak


def _lookalike_group(g: _Group, category: str) -> None:
    rng = g.rng
    for member in _lookalike_members(g, category):
        kind = "PERSON" if isinstance(member, Person) else "ORGANIZATION"
        first = g.source(kind)
        defining = _defining(member, category)
        g.record(member, category, source=first, tweak=defining)
        if rng.random() < LOOKALIKE_DUPLICATED_SHARE:
            typos = rng.random() < 0.4

            def tweak(
                body: dict[str, object],
                typos: bool = typos,
                defining: Callable[[dict[str, object]], dict[str, object]] = defining,
            ) -> dict[str, object]:
                return defining(_typos(rng, body, 1) if typos else body)

            g.record(member, category, source=g.source(kind, other_than=first), tweak=tweak)


# -- the data set ----------------------------------------------------------------------------------------
def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    names, weights = zip(*table, strict=True)
    return rng.choices(names, cum_weights=list(accumulate(weights)))[0]


def _group(seed: int, index: int) -> _Group:
    g = _Group(seed, index)
    rng = g.rng
    if rng.random() < LOOKALIKE_GROUP_SHARE:
        category = _pick(rng, _LOOKALIKES)
        _lookalike_group(g, category)
    elif rng.random() < PERSON_SHARE:
        if rng.random() < DUPLICATED_SHARE:
            _person_with_duplicates(g, _pick(rng, _PERSON_DUPLICATES))
        else:
            g.record(person(rng, g.entity_id()), "person single")
    elif rng.random() < DUPLICATED_SHARE:
        _company_with_duplicates(g, _pick(rng, _COMPANY_DUPLICATES))
    else:
        g.record(company(rng, g.entity_id()), "company single")
    return g


class _Owners:
    """E-mail addresses belong to one customer and domains to one group (a group of companies may share
    one): a value another customer already has is given a number, as a mail provider would."""

    def __init__(self) -> None:
        self.domains: dict[str, str] = {}
        self.renamed_domains: dict[tuple[str, str], str] = {}
        self.emails: dict[str, str] = {}
        self.renamed_emails: dict[tuple[str, str], str] = {}

    def _domain(self, group: str, domain: str) -> str:
        key = (group, domain)
        if key not in self.renamed_domains:
            owner = self.domains.setdefault(domain, group)
            if owner == group:
                self.renamed_domains[key] = domain
            else:
                stem, _, tld = domain.partition(".")
                n = 2
                while f"{stem}{n}.{tld}" in self.domains:
                    n += 1
                self.domains[f"{stem}{n}.{tld}"] = group
                self.renamed_domains[key] = f"{stem}{n}.{tld}"
        return self.renamed_domains[key]

    def _email(self, record: Record, address: str) -> str:
        local, _, domain = address.partition("@")
        if record.body["kind"] == "ORGANIZATION" or ("." in domain and domain in self.domains):
            domain = self._domain(record.group, domain.lower())
            if local.lower() in ROLE_MAILBOXES or record.body["kind"] == "ORGANIZATION":
                return f"{local}@{domain}"
        key = (record.entity, address.lower())
        if key not in self.renamed_emails:
            owner = self.emails.setdefault(address.lower(), record.entity)
            n = 2
            candidate = address
            while owner != record.entity:
                candidate = f"{local}{n}@{domain}"
                owner = self.emails.setdefault(candidate.lower(), record.entity)
                n += 1
            self.renamed_emails[key] = candidate
        renamed = self.renamed_emails[key]
        return renamed.upper() if address.isupper() else renamed

    def claim(self, record: Record) -> None:
        body = record.body
        website = body.get("website")
        if isinstance(website, str):
            host = website.split("://")[-1].removeprefix("www.").rstrip("/")
            body["website"] = website.replace(host, self._domain(record.group, host))
        for holder in (body, *body.get("contacts", [])):  # type: ignore[misc]
            for email in holder.get("emails", []):
                email["address"] = self._email(record, email["address"])
            if "email" in holder:
                holder["email"] = self._email(record, holder["email"])


def generate(entities: int, seed: int = 1) -> Dataset:
    """About ``entities`` customers (whole groups), their records in arrival order, the updates between."""
    timed: list[tuple[float, int, Step]] = []
    categories: dict[str, str] = {}
    owners = _Owners()
    count = index = 0
    while count < entities:
        g = _group(seed, index)
        index += 1
        count += g.entities
        for t in sorted(g.steps, key=lambda t: t.at):
            if isinstance(t.step, Record):
                owners.claim(t.step)
        for position, t in enumerate(g.steps):
            # a group's steps keep their own order in time; groups interleave by their random times
            timed.append((t.at, index * 1000 + position, t.step))
            if isinstance(t.step, Record):
                categories[t.step.group] = t.step.category
    timed.sort(key=lambda item: (item[0], item[1]))
    return Dataset(steps=[step for _, _, step in timed], categories=categories)


def _record_dict(record: Record) -> dict[str, object]:
    return {
        "recordId": record.record_id,
        "entity": record.entity,
        "group": record.group,
        "category": record.category,
        "source": record.source,
        "body": record.body,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="JSON lines file (default: a summary only)")
    args = parser.parse_args()
    dataset = generate(args.entities, args.seed)
    records = dataset.records
    by_category: dict[str, int] = {}
    for record in records:
        by_category[record.category] = by_category.get(record.category, 0) + 1
    print(f"{len(records):,} records, {len({r.entity for r in records}):,} customers")
    for name, count in sorted(by_category.items()):
        print(f"  {name:<40} {count:>7,}")
    if args.out:
        with args.out.open("w", encoding="utf-8") as handle:
            for step in dataset.steps:
                if isinstance(step, Record):
                    handle.write(json.dumps({"record": _record_dict(step)}, ensure_ascii=False) + "\n")
                else:
                    handle.write(json.dumps({"update": {"recordId": step.record_id, "patch": step.patch}}) + "\n")


if __name__ == "__main__":
    main()
