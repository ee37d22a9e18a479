"""Reading a golden record's provenance, and reading or setting the tenant's survivorship policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from customer360.application.environment import HandlerEnv
from customer360.application.ports import UnitOfWork
from customer360.application.queries import Document
from customer360.domain.errors import VersionMismatch
from customer360.domain.provenance import Origin, Provenance
from customer360.domain.survivorship import SurvivorshipPolicy

POLICY_RESOURCE = "survivorship-policy"


@dataclass(frozen=True, slots=True)
class GetProvenance:
    customer_id: str


def _origin(origin: Origin) -> Document:
    return {"customerId": origin.customer_id, "mergeId": origin.merge_id}


async def describe_provenance(cmd: GetProvenance, uow: UnitOfWork, env: HandlerEnv) -> Document:
    """For every field: the record its value came from, the merge that brought it, the rule that chose it.

    Values changed after the last merge decision show the profile itself with rule ``UPDATED``.
    """
    profile = await uow.customers.get(cmd.customer_id)
    stored = await uow.merges.provenance(profile.id)
    provenance = stored.reconciled(profile.attributes) if stored else Provenance.native(profile.id, profile.attributes)
    return provenance_document(provenance, status=profile.status.value, merged_into=profile.merged_into)


def provenance_document(provenance: Provenance, *, status: str, merged_into: str | None) -> Document:
    return {
        "customerId": provenance.customer_id,
        "status": status,
        "mergedInto": merged_into,
        "fields": {
            name: {
                "sourceCustomerId": entry.origin.customer_id,
                "mergeId": entry.origin.merge_id,
                "rule": entry.rule,
                "decidedBy": entry.decided_by,
                "fallback": entry.fallback,
            }
            for name, entry in provenance.fields.items()
        },
        "lists": {
            name: {
                "rule": listed.rule,
                "decidedBy": listed.decided_by,
                "items": [
                    {"index": i, "sources": [_origin(o) for o in item.origins]} for i, item in enumerate(listed.items)
                ],
            }
            for name, listed in provenance.lists.items()
        },
        "contacts": [
            {"contactId": contact_id, "sourceCustomerId": o.customer_id, "mergeId": o.merge_id}
            for contact_id, o in sorted(provenance.contacts.items())
        ],
    }


@dataclass(frozen=True, slots=True)
class GetSurvivorshipPolicy:
    pass


@dataclass(frozen=True, slots=True)
class SetSurvivorshipPolicy:
    """Replace the tenant's policy: listed fields take the given rule, the others the service default."""

    rules: Mapping[str, str] = field(default_factory=dict)
    source_priority: Sequence[str] | None = None
    expected_version: int | None = None


async def get_policy(cmd: GetSurvivorshipPolicy, uow: UnitOfWork, env: HandlerEnv) -> SurvivorshipPolicy:
    return await uow.merges.policy()


async def set_policy(cmd: SetSurvivorshipPolicy, uow: UnitOfWork, env: HandlerEnv) -> SurvivorshipPolicy:
    current = await uow.merges.policy()
    if cmd.expected_version is not None and cmd.expected_version != current.version:
        raise VersionMismatch(POLICY_RESOURCE, cmd.expected_version, current.version)
    revised = uow.merges.default_policy().revised(cmd.rules, cmd.source_priority)
    revised = SurvivorshipPolicy(revised.rules, revised.source_priority, current.version)
    return await uow.merges.save_policy(revised, actor=env.context.actor, now=env.clock.now())
