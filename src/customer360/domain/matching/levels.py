"""The comparison levels of every field and their default m/u probabilities (before any training).

Every comparison has level 0 = ``missing`` (either side lacks the value; it contributes nothing) and
then levels from the strongest agreement to ``different``. The functions that assign the levels live
in `comparison`; their order here is the order of a comparison vector.
"""

from __future__ import annotations

from dataclasses import dataclass

MISSING = 0


@dataclass(frozen=True, slots=True)
class Comparison:
    """One field's comparison levels and the default m/u probabilities used before any training.

    ``levels[0]`` is always ``"missing"``; ``default_m``/``default_u`` are aligned with ``levels[1:]``.
    ``exact_level`` names the level whose u is replaced by the value's own frequency when term
    frequencies are known (a shared rare surname says more than a shared "Smith"). ``fixed`` lists the
    levels (numbers as in ``levels``) whose m and u are set by design and never trained: they encode
    what unlabelled data cannot teach (two different valid VAT numbers are two legal entities), and
    training must not wash them out. An ``interaction`` comparison corrects for fields that are not
    independent (a household shares address, landline and family name): its u is set by design, its m
    is the share of the tenant's duplicates that show the level, learned from the pairs training is
    sure of, so a tenant whose duplicates often look like a household (FEBRL's) weakens it.
    """

    name: str
    levels: tuple[str, ...]
    default_m: tuple[float, ...]
    default_u: tuple[float, ...]
    exact_level: int | None = None
    fixed: frozenset[int] = frozenset()
    interaction: bool = False
    explains: tuple[tuple[str, ...], ...] = ()
    """For an interaction, per level: the comparisons whose evidence the level replaces when it fires."""


FIXED = True
_PLACE = ("address", "address_line2", "phone")
_MEMBER = ("given_name", "family_name", "birth_date", *_PLACE)


def _interaction(name: str, spec: tuple[tuple[str, tuple[str, ...], float, float], ...]) -> Comparison:
    # each level stands on its own: m and u are the shares of all duplicates and of all other pairs that
    # show the whole pattern, not of those where the field is present
    return Comparison(
        name=name,
        levels=("missing", *(level for level, _, _, _ in spec)),
        default_m=tuple(m for _, _, m, _ in spec),
        default_u=tuple(u for _, _, _, u in spec),
        interaction=True,
        explains=tuple(explains for _, explains, _, _ in spec),
    )


def _comparison(
    name: str, spec: tuple[tuple[str, float, float] | tuple[str, float, float, bool], ...], tf: bool = False
) -> Comparison:
    levels = ("missing", *(level[0] for level in spec))
    fixed = frozenset(i for i, level in enumerate(spec, start=1) if len(level) > 3)
    # trainable levels share what the fixed ones leave (fixed levels keep their values exactly)
    m_free = 1.0 - sum(level[1] for level in spec if len(level) > 3)
    u_free = 1.0 - sum(level[2] for level in spec if len(level) > 3)
    m_total = sum(level[1] for level in spec if len(level) == 3) or 1.0
    u_total = sum(level[2] for level in spec if len(level) == 3) or 1.0
    return Comparison(
        name=name,
        levels=levels,
        default_m=tuple(level[1] if len(level) > 3 else level[1] / m_total * m_free for level in spec),
        default_u=tuple(level[2] if len(level) > 3 else level[2] / u_total * u_free for level in spec),
        exact_level=1 if tf else None,
        fixed=fixed,
    )


# Defaults are deliberately moderate (a tenant of some 20,000 profiles, a few per cent of them
# duplicates); the tenant's own data replaces the trainable ones through `MatchModel.estimate`.
COMPARISONS: tuple[Comparison, ...] = (
    _comparison(
        "given_name",
        (
            ("exact", 0.80, 0.01),
            ("nickname", 0.03, 0.0005),
            ("typo", 0.06, 0.001),
            ("close", 0.03, 0.003),
            ("fuzzy", 0.02, 0.02),
            ("initial", 0.02, 0.003),
            ("swapped", 0.01, 0.0005),
            ("different", 0.03, 0.962),
        ),
        tf=True,
    ),
    _comparison(
        "family_name",
        (
            ("exact", 0.82, 0.003),
            ("typo", 0.06, 0.0005),
            ("close", 0.03, 0.002),
            ("fuzzy", 0.02, 0.02),
            ("partial", 0.02, 0.0005),
            ("swapped", 0.01, 0.0002),
            ("different", 0.04, 0.974),
        ),
        tf=True,
    ),
    _comparison(
        "birth_date",
        (
            ("exact", 0.88, 0.00005),
            ("one_edit", 0.05, 0.002),
            ("day_month_swapped", 0.01, 0.00005),
            ("same_year", 0.02, 0.015),
            ("different", 0.04, 0.68),
            # 18 years or more apart: another generation (parent and child), rarely a typo
            ("generation_gap", 0.002, 0.30),
        ),
    ),
    _comparison(
        "organization_name",
        (
            ("exact", 0.70, 0.0005),
            ("typo", 0.08, 0.0005),
            ("close", 0.08, 0.002),
            # every word of one name in the other, which has more ("Acme" / "Acme Logistics")
            ("extra_words", 0.06, 0.001),
            ("fuzzy", 0.04, 0.02),
            ("different", 0.04, 0.976),
        ),
        tf=True,
    ),
    _comparison("legal_form", (("same", 0.9, 0.3), ("different", 0.1, 0.7))),
    # One comparison for the whole address: street, house number, postcode and city agree together or
    # not at all, so they are one piece of evidence, not four (a full agreement counted 30 bits before).
    _comparison(
        "address",
        (
            ("same_unit", 0.25, 0.00001),
            ("same_premise", 0.45, 0.00005),
            # the same house, the postcode or the city mistyped
            ("premise_typo", 0.04, 0.00002),
            # one edit apart in the house number: a typo, or the neighbours (12 and 13, 110 and 140)
            ("house_number_typo", 0.02, 0.0002),
            # house number and postcode agree, the street does not: a street name mistyped past recognition
            ("same_number_and_postcode", 0.01, 0.00005),
            ("other_unit", 0.004, 0.00002),
            # the street and the place agree, one record has no house number: which house is unknown
            ("street_no_number", 0.01, 0.0001),
            # another house of the street: a duplicate rarely shows it, neighbours often do
            ("same_street", 0.01, 0.0015),
            ("same_postcode", 0.01, 0.003),
            # the same street and house number, the postcode and the town different or missing on one side
            ("street_and_number_elsewhere", 0.005, 0.00005),
            ("same_city", 0.05, 0.05),
            ("different", 0.166, 0.94549),
        ),
        tf=True,
    ),
    # The extra address line on its own (a building, a locality), when both records have one.
    _comparison(
        "address_line2",
        (
            ("exact", 0.50, 0.002),
            ("typo", 0.05, 0.0005),
            ("close", 0.05, 0.003),
            ("fuzzy", 0.03, 0.03),
            ("different", 0.37, 0.9645),
        ),
    ),
    _comparison(
        "email",
        (
            ("exact", 0.65, 0.00001),
            # a role mailbox (info@, office@): a company's, shared by the companies of a group
            ("exact_role", 0.25, 0.0001),
            # ...at the web domain both records show: the same fact as the domain, not a second one
            ("role_at_same_domain", 0.002, 0.001, FIXED),
            ("same_local_part", 0.03, 0.0005),
            ("typo", 0.03, 0.00001),
            # people have several addresses, and change them: a duplicate often shows another one
            ("different", 0.10, 0.99938),
        ),
    ),
    _comparison(
        "phone",
        (
            ("exact", 0.45, 0.00001),
            # a landline or a switchboard: a household's or a site's, not a person's
            ("exact_landline", 0.30, 0.00005),
            # ...and when the address agrees too, it adds little: households share both
            ("landline_same_address", 0.002, 0.001, FIXED),
            ("same_subscriber", 0.03, 0.00005),
            ("near", 0.05, 0.0005),
            ("different", 0.25, 0.9994),
        ),
    ),
    _comparison(
        "tax_id",
        (
            ("exact", 0.9, 0.00001),
            ("one_edit", 0.03, 0.0001),
            ("different", 0.07, 0.5),
            # two different ids that both pass their check digits: two legal entities
            ("different_valid", 1e-9, 0.49989, FIXED),
        ),
    ),
    _comparison("domain", (("exact", 0.8, 0.0001), ("same_name", 0.05, 0.0005), ("different", 0.15, 0.9994))),
    _comparison(
        "national_id",
        (
            ("exact", 0.9, 0.000001),
            ("one_edit", 0.05, 0.00005),
            ("two_edits", 0.02, 0.001),
            ("different", 0.03, 0.998949),
        ),
    ),
    # Interactions. A household shares its address, landline and family name, and a group of companies
    # its site, switchboard and domain: there these fields are not independent evidence. When a pattern
    # below fires, its level replaces the evidence of the fields it names (what the household or the
    # site shares) by the pattern's own likelihood ratio: how often the tenant's duplicates show it (m)
    # against how often all other pairs do (u), both learned by a scan; the defaults are for a tenant of
    # some 20,000 profiles. Given name and birth date keep speaking: they tell the members apart.
    _interaction(
        "household",
        (
            # another given name, and: same place, family name and birth date: twins
            ("twin", _MEMBER, 0.0001, 0.0000005),
            # ...the same family name and birth date elsewhere: twins apart, or a duplicate that moved
            ("sibling", ("given_name", "family_name", "birth_date"), 0.0001, 0.0000001),
            # ...same place and family name, another birth date: a partner, a child
            ("household_member", _MEMBER, 0.0001, 0.000005),
            # ...same place, another family name: a flatmate, a partner who kept their name
            ("flatmate", _MEMBER, 0.00002, 0.000003),
            # the same name at the same place, birth years 18 or more apart: parent and child
            ("other_generation", _MEMBER, 0.0001, 0.000005),
            # the same name in another house of the street, or another flat, with no shared identifier
            # or birth date: namesakes or relatives nearby far more often than independence predicts
            (
                "namesake_nearby",
                ("given_name", "family_name", "birth_date", "address", "address_line2"),
                0.0003,
                0.000002,
            ),
        ),
    ),
    _interaction(
        "same_site",
        # at one site or under one domain, with another name or another valid VAT number
        (("other_company", ("address", "address_line2", "phone", "domain", "email"), 0.00001, 0.00001),),
    ),
)
FIELD_INDEX: dict[str, int] = {c.name: i for i, c in enumerate(COMPARISONS)}
