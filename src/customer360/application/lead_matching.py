"""The duplicate check on the lead path: the probabilistic matcher of ``leads``' matcher seam.

After the exact keys (``ExactKeyMatcher``), a lead is attached to the best existing profile scoring at
or above the tenant's *likely duplicate* threshold — the same check and threshold as ``POST
/customers`` — instead of creating a profile the review queue would flag at once.
"""

from __future__ import annotations

import dataclasses

from customer360.application.duplicates import find_candidates
from customer360.application.integration_events import IntegrationStore
from customer360.application.leads import LeadCandidate, LeadMatch
from customer360.application.ports import UnitOfWork
from customer360.domain.duplicates import NEW_PROFILE_ID, match_record_of
from customer360.domain.matching import MatchAddress, MatchRecord
from customer360.domain.profile_attributes import ProfileAttributes
from customer360.domain.values import CustomerKind

MATCHED_ON = "duplicateCheck"


def lead_match_record(candidate: LeadCandidate) -> MatchRecord:
    """The engine's view of a lead: what the profile created from it would hold."""
    organisation = candidate.kind is CustomerKind.ORGANIZATION
    attributes = ProfileAttributes(
        kind=candidate.kind,
        name=candidate.name or " ".join(p for p in (candidate.given_name, candidate.family_name) if p),
        given_name=None if organisation else candidate.given_name,
        family_name=None if organisation else candidate.family_name,
        emails=(candidate.email,) if candidate.email else (),
        phones=(candidate.phone,) if candidate.phone else (),
        tax_ids=(candidate.tax_id,) if candidate.tax_id else (),
    )
    record = match_record_of(NEW_PROFILE_ID, attributes)
    country = candidate.lead.country
    if country:
        # The lead's country is all it says about an address; it helps only where the rest agrees.
        record = dataclasses.replace(record, addresses=(MatchAddress(country=country.upper()),))
    return record


class LikelyDuplicateMatcher:
    """Attach the lead to the best profile at or above the tenant's likely-duplicate threshold."""

    async def match(self, candidate: LeadCandidate, uow: UnitOfWork, store: IntegrationStore) -> LeadMatch | None:
        _, found = await find_candidates(uow, lead_match_record(candidate), exclude_decided=False, likely=True)
        return LeadMatch(found[0].customer_id, MATCHED_ON) if found else None
