"""What a command answers with: the read model of what it changed, read by id in the command's own
transaction (after the unit of work's flush), so an answer shows exactly what the command wrote.

The executor reads the answer (its ``present``) before it commits; the edge renders it after the command
returns. Documents come from ``uow.views`` in the API's spelling, keyed by the id they describe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from customer360.application.consent_workflows import ConsentConfirmed, PolicySaved
from customer360.application.consents import ConsentRecorded
from customer360.application.customers import ProfileChanged
from customer360.application.merges import MergeOutcome, UnmergeOutcome
from customer360.application.ports import UnitOfWork
from customer360.application.privacy_ports import StoredPolicy
from customer360.application.queries import Document
from customer360.application.relationships import RelationshipChanged
from customer360.domain.errors import CustomerNotFound

R = TypeVar("R")
Recorded = TypeVar("Recorded", ConsentRecorded, ConsentConfirmed)


@dataclass(frozen=True, slots=True)
class Answer(Generic[R]):
    """A command's result and the documents of what it changed, by id (an id missing: it is gone)."""

    result: R
    documents: Mapping[str, Document]


async def _profiles(uow: UnitOfWork, *customer_ids: str) -> dict[str, Document]:
    found = {}
    for customer_id in customer_ids:
        document = await uow.views.profile(customer_id)
        if document is None:
            raise CustomerNotFound(customer_id)
        found[customer_id] = document
    return found


async def profile(result: ProfileChanged, uow: UnitOfWork) -> Answer[ProfileChanged]:
    """The changed profile (with its contacts)."""
    return Answer(result, await _profiles(uow, result.customer_id))


async def merged(result: MergeOutcome, uow: UnitOfWork) -> Answer[MergeOutcome]:
    """The target with the golden record."""
    return Answer(result, await _profiles(uow, result.target_id))


async def unmerged(result: UnmergeOutcome, uow: UnitOfWork) -> Answer[UnmergeOutcome]:
    """The target and the source, apart again."""
    return Answer(result, await _profiles(uow, result.target_id, result.source_id))


async def consent(result: Recorded, uow: UnitOfWork) -> Answer[Recorded]:
    """The consent record written (a confirmation writes a new one)."""
    document = await uow.views.consent(result.consent_id)
    assert document is not None, "the record was written in this transaction"
    return Answer(result, {result.consent_id: document})


async def relationship(result: RelationshipChanged, uow: UnitOfWork) -> Answer[RelationshipChanged]:
    """The relationship as it now is (absent once removed)."""
    document = await uow.views.relationship(result.customer_id, result.relationship_id)
    return Answer(result, {} if document is None else {result.relationship_id: document})


async def purpose_policy(result: PolicySaved, uow: UnitOfWork) -> StoredPolicy:
    """The purpose policy as stored (version, when and by whom)."""
    stored = {s.policy.purpose: s for s in await uow.consent_rules.stored_policies()}
    return stored[result.purpose]
