"""Use cases of the relationships between profiles and of the account hierarchy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from customer360.application.environment import HandlerEnv
from customer360.application.ports import UnitOfWork
from customer360.application.queries import Answer
from customer360.domain.errors import RelationshipNotFound
from customer360.domain.events import FieldChange
from customer360.domain.ids import RELATIONSHIP_PREFIX
from customer360.domain.primitives import to_primitive
from customer360.domain.relationships import (
    Relationship,
    RelationshipType,
    check_kinds,
    check_new_link,
    check_validity,
)


@dataclass(frozen=True, slots=True)
class AddRelationship:
    customer_id: str
    to_customer_id: str
    type: str
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True, slots=True)
class ChangeRelationshipValidity:
    customer_id: str
    relationship_id: str
    valid_from: date | None
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class RemoveRelationship:
    customer_id: str
    relationship_id: str


@dataclass(frozen=True, slots=True)
class RelationshipChanged:
    relationship_id: str
    customer_id: str


async def add_relationship(cmd: AddRelationship, uow: UnitOfWork, env: HandlerEnv) -> RelationshipChanged:
    rel_type = RelationshipType(cmd.type)
    check_validity(cmd.valid_from, cmd.valid_to)
    # Lock order everywhere: the tenant's hierarchy lock, then profiles by ascending id (as merges do),
    # so concurrent links and merges cannot deadlock, and neither end can be merged away meanwhile.
    if rel_type is RelationshipType.SUBSIDIARY_OF:
        await uow.relationships.lock_hierarchy()
    for customer_id in sorted({cmd.customer_id, cmd.to_customer_id}):
        await uow.customers.get_for_update(customer_id)
    source = await uow.customers.get_for_update(cmd.customer_id)
    source.check_is_writable()
    target = await uow.customers.get_for_update(cmd.to_customer_id)
    target.check_is_writable()
    check_kinds(rel_type, source.attributes.kind, target.attributes.kind)
    check_new_link(
        from_id=source.id,
        to_id=target.id,
        type=rel_type,
        valid_from=cmd.valid_from,
        valid_to=cmd.valid_to,
        existing_from=await uow.relationships.outgoing(source.id),
        ancestors_of_target=await uow.relationships.ancestors(target.id)
        if rel_type is RelationshipType.SUBSIDIARY_OF
        else [],
    )
    now = env.clock.now()
    relationship = Relationship(
        id=env.new_id(RELATIONSHIP_PREFIX),
        from_customer_id=source.id,
        to_customer_id=target.id,
        type=rel_type,
        valid_from=cmd.valid_from,
        valid_to=cmd.valid_to,
        created_at=now,
        created_by=env.context.actor,
    )
    await uow.relationships.add(relationship)
    image = to_primitive(
        {"type": rel_type, "toCustomerId": target.id, "validFrom": cmd.valid_from, "validTo": cmd.valid_to}
    )
    source.record_relationship_change(
        "RELATIONSHIP_ADDED",
        relationship.id,
        [FieldChange(f"relationships[{relationship.id}]", None, image)],
        actor=env.context.actor,
        now=now,
        source=env.context.source,
    )
    return RelationshipChanged(relationship.id, source.id)


async def change_relationship_validity(
    cmd: ChangeRelationshipValidity, uow: UnitOfWork, env: HandlerEnv
) -> RelationshipChanged:
    check_validity(cmd.valid_from, cmd.valid_to)
    # Same lock order as add_relationship: hierarchy first (taken for every type: it is cheap and rare).
    await uow.relationships.lock_hierarchy()
    source = await uow.customers.get_for_update(cmd.customer_id)
    relationship = await _owned(uow, cmd.customer_id, cmd.relationship_id)
    if relationship.type is RelationshipType.SUBSIDIARY_OF:
        others = [r for r in await uow.relationships.outgoing(source.id) if r.id != relationship.id]
        check_new_link(
            from_id=source.id,
            to_id=relationship.to_customer_id,
            type=relationship.type,
            valid_from=cmd.valid_from,
            valid_to=cmd.valid_to,
            existing_from=others,
            ancestors_of_target=[],
        )
    changes = [
        FieldChange(f"relationships[{relationship.id}].{name}", to_primitive(old), to_primitive(new))
        for name, old, new in (
            ("validFrom", relationship.valid_from, cmd.valid_from),
            ("validTo", relationship.valid_to, cmd.valid_to),
        )
        if old != new
    ]
    if changes:
        relationship.valid_from, relationship.valid_to = cmd.valid_from, cmd.valid_to
        await uow.relationships.save(relationship)
        source.record_relationship_change(
            "RELATIONSHIP_CHANGED",
            relationship.id,
            changes,
            actor=env.context.actor,
            now=env.clock.now(),
            source=env.context.source,
        )
    return RelationshipChanged(relationship.id, source.id)


async def remove_relationship(cmd: RemoveRelationship, uow: UnitOfWork, env: HandlerEnv) -> RelationshipChanged:
    source = await uow.customers.get_for_update(cmd.customer_id)
    relationship = await _owned(uow, cmd.customer_id, cmd.relationship_id)
    now = env.clock.now()
    relationship.removed_at = now
    await uow.relationships.save(relationship)
    source.record_relationship_change(
        "RELATIONSHIP_REMOVED",
        relationship.id,
        [FieldChange(f"relationships[{relationship.id}]", relationship.type.value, None)],
        actor=env.context.actor,
        now=now,
        source=env.context.source,
    )
    return RelationshipChanged(relationship.id, source.id)


async def _owned(uow: UnitOfWork, customer_id: str, relationship_id: str) -> Relationship:
    relationship = await uow.relationships.get_for_update(relationship_id)
    if relationship.from_customer_id != customer_id or not relationship.active:
        raise RelationshipNotFound(relationship_id)
    return relationship


async def relationship_answer(result: RelationshipChanged, uow: UnitOfWork) -> Answer[RelationshipChanged]:
    """What a relationship command answers with: the relationship as it now is (absent once removed)."""
    document = await uow.views.relationship(result.customer_id, result.relationship_id)
    return Answer(result, {} if document is None else {result.relationship_id: document})
