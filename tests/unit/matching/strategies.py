"""Hypothesis strategies and a small synthetic population for the matching tests."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import strategies as st

from customer360.domain.matching import MatchAddress, MatchRecord

GIVEN_NAMES = ("anna", "bernd", "clara", "dieter", "emma", "felix", "greta", "hans", "ida", "jonas", "karl")
FAMILY_NAMES = ("adler", "becker", "schulz", "fischer", "hoffmann", "keller", "lang", "meyer", "neumann")
STREETS = ("lindenweg", "hauptstrasse", "bahnhofstrasse", "gartenweg", "schillerplatz", "am markt")
CITIES = ("berlin", "hamburg", "koeln", "leipzig", "dresden", "bremen", "kiel")

dates = st.dates().map(lambda d: d.isoformat())
postcodes = st.integers(min_value=10000, max_value=99999).map(str)


@st.composite
def people(draw: st.DrawFn, record_id: str = "a") -> MatchRecord:
    """A person with every field that blocking uses filled in."""
    return MatchRecord(
        record_id=record_id,
        kind="PERSON",
        given_name=draw(st.sampled_from(GIVEN_NAMES)),
        family_name=draw(st.sampled_from(FAMILY_NAMES)),
        birth_date=draw(dates),
        addresses=(
            MatchAddress(
                street=draw(st.sampled_from(STREETS)),
                house_number=str(draw(st.integers(min_value=1, max_value=200))),
                postal_code=draw(postcodes),
                city=draw(st.sampled_from(CITIES)),
            ),
        ),
    )


def typo(rng: random.Random, text: str) -> str:
    """One random insertion, deletion, substitution or transposition."""
    position = rng.randrange(len(text))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    match rng.randrange(4):
        case 0:
            return text[:position] + letter + text[position:]
        case 1 if len(text) > 1:
            return text[:position] + text[position + 1 :]
        case 3 if position + 1 < len(text):
            return text[:position] + text[position + 1] + text[position] + text[position + 2 :]
        case _:
            return text[:position] + letter + text[position + 1 :]


def population(size: int, duplicates: int, seed: int = 7) -> list[MatchRecord]:
    """``size`` distinct people plus ``duplicates`` copies of some of them with one or two typos."""
    rng = random.Random(seed)
    people_: list[MatchRecord] = []
    for index in range(size):
        people_.append(
            MatchRecord(
                record_id=f"p{index}",
                kind="PERSON",
                given_name=rng.choice(GIVEN_NAMES) + rng.choice(("", "a", "o", "ine", "us")),
                family_name=rng.choice(FAMILY_NAMES) + rng.choice(("", "er", "mann", "s", "berg")),
                birth_date=f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                addresses=(
                    MatchAddress(
                        street=rng.choice(STREETS),
                        house_number=str(rng.randint(1, 120)),
                        postal_code=str(rng.randint(10000, 99999)),
                        city=rng.choice(CITIES),
                    ),
                ),
            )
        )
    copies: list[MatchRecord] = []
    for index in range(duplicates):
        original = people_[rng.randrange(size)]
        copy = replace(original, record_id=f"{original.record_id}-dup{index}")
        if rng.random() < 0.5 and copy.family_name:
            copy = replace(copy, family_name=typo(rng, copy.family_name))
        if rng.random() < 0.5 and copy.given_name:
            copy = replace(copy, given_name=typo(rng, copy.given_name))
        copies.append(copy)
    return people_ + copies


def same_person(a: MatchRecord, b: MatchRecord) -> bool:
    """Whether two records of `population` stem from one person."""
    return a.record_id.split("-")[0] == b.record_id.split("-")[0]
