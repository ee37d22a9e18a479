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
    ``exact_level`` names the level whose u is replaced by the value's own frequency when the model
    has term frequencies for this field (a shared rare surname says more than a shared "Smith").
    """

    name: str
    levels: tuple[str, ...]
    default_m: tuple[float, ...]
    default_u: tuple[float, ...]
    exact_level: int | None = None


def _comparison(name: str, spec: tuple[tuple[str, float, float], ...], tf: bool = False) -> Comparison:
    levels = ("missing", *(level for level, _, _ in spec))
    m_total = sum(m for _, m, _ in spec)
    u_total = sum(u for _, _, u in spec)
    return Comparison(
        name=name,
        levels=levels,
        default_m=tuple(m / m_total for _, m, _ in spec),
        default_u=tuple(u / u_total for _, _, u in spec),
        exact_level=1 if tf else None,
    )


# Defaults are deliberately moderate (a typical CRM with a few per cent duplicates); the tenant's own
# data replaces them through `MatchModel.estimate`.
COMPARISONS: tuple[Comparison, ...] = (
    _comparison(
        "given_name",
        (
            ("exact", 0.80, 0.01),
            ("nickname", 0.03, 0.0005),
            ("typo", 0.06, 0.001),
            ("close", 0.03, 0.003),
            ("fuzzy", 0.02, 0.02),
            ("initial", 0.01, 0.003),
            ("swapped", 0.01, 0.0005),
            ("different", 0.04, 0.962),
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
            ("exact", 0.88, 0.0001),
            ("one_edit", 0.05, 0.002),
            ("day_month_swapped", 0.01, 0.00005),
            ("same_year", 0.02, 0.015),
            ("different", 0.04, 0.983),
        ),
    ),
    _comparison(
        "organization_name",
        (
            ("exact", 0.75, 0.0005),
            ("typo", 0.08, 0.0005),
            ("close", 0.08, 0.002),
            ("fuzzy", 0.05, 0.02),
            ("different", 0.04, 0.977),
        ),
        tf=True,
    ),
    _comparison("legal_form", (("same", 0.9, 0.3), ("different", 0.1, 0.7))),
    _comparison(
        "street",
        (
            ("exact", 0.80, 0.002),
            ("typo", 0.06, 0.0005),
            ("close", 0.04, 0.003),
            ("fuzzy", 0.03, 0.03),
            ("swapped", 0.01, 0.0005),
            ("different", 0.06, 0.964),
        ),
        tf=True,
    ),
    _comparison("house_number", (("exact", 0.85, 0.02), ("one_edit", 0.05, 0.1), ("different", 0.10, 0.88))),
    _comparison(
        "address_line2",
        (
            ("exact", 0.80, 0.002),
            ("typo", 0.06, 0.0005),
            ("close", 0.04, 0.003),
            ("fuzzy", 0.03, 0.03),
            ("swapped", 0.01, 0.0005),
            ("different", 0.06, 0.964),
        ),
    ),
    _comparison(
        "postal_code",
        (("exact", 0.85, 0.005), ("one_edit", 0.07, 0.05), ("different", 0.08, 0.945)),
        tf=True,
    ),
    _comparison(
        "city",
        (
            ("exact", 0.85, 0.01),
            ("typo", 0.05, 0.001),
            ("close", 0.03, 0.005),
            ("fuzzy", 0.02, 0.03),
            ("different", 0.05, 0.954),
        ),
        tf=True,
    ),
    _comparison("region", (("exact", 0.92, 0.2), ("different", 0.08, 0.8))),
    _comparison("country", (("exact", 0.97, 0.6), ("different", 0.03, 0.4))),
    _comparison(
        "email",
        (
            ("exact", 0.7, 0.00001),
            ("same_local_part", 0.05, 0.0005),
            ("typo", 0.05, 0.00001),
            ("different", 0.2, 0.99948),
        ),
    ),
    _comparison(
        "phone",
        (
            ("exact", 0.7, 0.00001),
            ("same_subscriber", 0.05, 0.00005),
            ("one_edit", 0.05, 0.0005),
            ("different", 0.2, 0.99944),
        ),
    ),
    _comparison("tax_id", (("exact", 0.9, 0.00001), ("one_edit", 0.03, 0.0001), ("different", 0.07, 0.99989))),
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
)
FIELD_INDEX: dict[str, int] = {c.name: i for i, c in enumerate(COMPARISONS)}
