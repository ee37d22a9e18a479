"""One consumed Kafka message → one transaction: the inbox row and the effect, or nothing.

Decoding (Avro single-object or a JSON envelope, by ``content-type``), routing by event type, the tenant
check, the command, and the use case run by the ordinary command executor (one unit of work, one
commit, audit and outbox rows of any profile change included). The inbox row ``(tenant, consumer,
eventId)`` is inserted first in that transaction: if it exists the message was applied before and
nothing else happens, so a redelivered message changes the database once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from customer360.application.context import RequestContext
from customer360.application.environment import HandlerEnv
from customer360.application.executor import CommandExecutor
from customer360.application.inputs import ProfileInput, TaxIdInput, given
from customer360.application.integration_events import (
    ActivateContract,
    ApplyMasterUpdate,
    IntegrationStore,
    RecordServiceOrder,
    activate_contract,
    apply_master_update,
    record_service_order,
)
from customer360.application.leads import LeadCreated, LeadIntake
from customer360.application.ports import UnitOfWork
from customer360.domain.entitlements import CreditTermsChange, Entitlement, ServiceOrder
from customer360.infrastructure.messaging.avro_codec import (
    HEADER_CONTENT_TYPE,
    HEADER_TENANT_ID,
    AvroEventCodec,
    EventDecodeError,
    UnknownEventTypeError,
)
from customer360.infrastructure.messaging.schema_catalog import EventDirection
from customer360.infrastructure.persistence.integration_store import SqlInbox, SqlIntegrationStore
from customer360.infrastructure.persistence.unit_of_work import SqlUnitOfWork

MAX_TENANT_LENGTH = 64
MAX_EVENT_ID_LENGTH = 128
MAX_CORRELATION_LENGTH = 128
CONSUMED_EVENT_TYPES = frozenset(
    {"LeadCreatedEvent", "ServiceOrderCreatedEvent", "ContractActivatedEvent", "CustomerMasterUpdatedEvent"}
)


@dataclass(frozen=True, slots=True)
class ConsumedMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    #: Left out of ``repr``: the value may hold personal data.
    value: bytes | None = field(repr=False)
    headers: list[tuple[str, bytes]] = field(default_factory=list)

    def header(self, name: str) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"
    DEAD_LETTERED = "dead_lettered"


class PoisonMessage(Exception):
    """A message that can never be applied (undecodable, no tenant …): dead-lettered at once."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


Handler = Callable[[Any, UnitOfWork, HandlerEnv, IntegrationStore], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Route:
    """How one consumed event type is applied: its command, the use case, who acts and as which source."""

    command: Callable[[dict[str, Any]], Any]
    handler: Handler
    actor: Callable[[dict[str, Any]], str]
    source: str


@dataclass(frozen=True, slots=True)
class Applied:
    outcome: Outcome
    event_type: str | None
    event_id: str | None = None


class EventApplier:
    def __init__(
        self, *, executor: CommandExecutor, codec: AvroEventCodec, consumer: str, lead_intake: LeadIntake
    ) -> None:
        self._executor = executor
        self._codec = codec
        self._consumer = consumer
        self._routes: dict[str, Route] = {
            "LeadCreatedEvent": Route(_lead, lead_intake, lambda _: "sales", "SALES"),
            "ServiceOrderCreatedEvent": Route(
                _service_order, record_service_order, lambda _: "service-orders", "SERVICE_ORDERS"
            ),
            "ContractActivatedEvent": Route(_contract, activate_contract, lambda _: "contracts", "CONTRACTS"),
            "CustomerMasterUpdatedEvent": Route(
                _master_update, apply_master_update, lambda e: str(e["payload"]["sourceSystem"])[:64], "MDG"
            ),
        }

    async def apply(self, message: ConsumedMessage) -> Applied:
        """Apply the message; raises PoisonMessage, or whatever the use case raised (then retried)."""
        envelope = self._decode(message)
        if envelope is None:
            header = message.header("event-type")
            return Applied(Outcome.SKIPPED, header.decode(errors="replace")[:64] if header else None)
        event_type = str(envelope["eventType"])
        route = self._routes.get(event_type)
        if route is None:
            return Applied(Outcome.SKIPPED, event_type, str(envelope["eventId"]))
        tenant, event_id = self._check(envelope, message)
        command = route.command(envelope)
        context = RequestContext(
            tenant_id=tenant,
            actor=route.actor(envelope),
            correlation_id=str(envelope.get("correlationId") or event_id)[:MAX_CORRELATION_LENGTH],
            source=route.source,
        )

        async def in_one_transaction(cmd: Any, uow: UnitOfWork, env: HandlerEnv) -> Outcome:
            assert isinstance(uow, SqlUnitOfWork), "consumers run on the SQL unit of work"
            inbox = SqlInbox(uow.connection, tenant)
            first_time = await inbox.remember(
                self._consumer,
                event_id,
                event_type,
                message.topic,
                message.partition,
                message.offset,
                env.clock.now(),
            )
            if not first_time:
                return Outcome.DUPLICATE
            await route.handler(cmd, uow, env, SqlIntegrationStore(uow.writes, tenant))
            return Outcome.APPLIED

        outcome: Outcome = await self._executor.execute(context, in_one_transaction, command)
        return Applied(outcome, event_type, event_id)

    def _decode(self, message: ConsumedMessage) -> dict[str, Any] | None:
        try:
            envelope = self._codec.decode_message(message.value, message.header(HEADER_CONTENT_TYPE))
        except UnknownEventTypeError:
            return None
        except EventDecodeError as exc:
            raise PoisonMessage(f"undecodable:{exc.reason.value}", str(exc)) from None
        schema = self._codec.catalog.latest(str(envelope["eventType"]))
        # Our own (produced) events on a consumed topic are not for us to apply.
        return envelope if schema.direction is EventDirection.CONSUMED else None

    @staticmethod
    def _check(envelope: dict[str, Any], message: ConsumedMessage) -> tuple[str, str]:
        tenant = envelope.get("tenantId")
        if not isinstance(tenant, str) or not tenant.strip():
            raise PoisonMessage("no-tenant", "the event names no tenant")
        if len(tenant) > MAX_TENANT_LENGTH:
            raise PoisonMessage("invalid-tenant", f"the tenant id is longer than {MAX_TENANT_LENGTH} characters")
        header = message.header(HEADER_TENANT_ID)
        if header is not None and header.decode(errors="replace") != tenant:
            raise PoisonMessage("tenant-mismatch", "the tenant-id header and the event's tenantId differ")
        event_id = str(envelope["eventId"])
        if not event_id.strip() or len(event_id) > MAX_EVENT_ID_LENGTH:
            raise PoisonMessage("invalid-event-id", f"eventId must have 1 to {MAX_EVENT_ID_LENGTH} characters")
        return tenant, event_id


# ------------------------------------------------------------------------------ envelope → command


def _timestamp(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _lead(envelope: dict[str, Any]) -> LeadCreated:
    p = envelope["payload"]
    return LeadCreated(
        lead_id=p["leadId"],
        company_name=p.get("companyName"),
        given_name=p.get("contactGivenName"),
        family_name=p.get("contactFamilyName"),
        email=p.get("email"),
        phone=p.get("phone"),
        country=p.get("country"),
        tax_id=p.get("taxId"),
        source=p["source"],
        event_id=envelope["eventId"],
        occurred_at=_timestamp(envelope["timestamp"]),
    )


def _service_order(envelope: dict[str, Any]) -> RecordServiceOrder:
    p = envelope["payload"]
    order = ServiceOrder(
        service_order_id=p["serviceOrderId"],
        customer_id=p["customerId"],
        order_number=p.get("orderNumber"),
        order_type=p.get("orderType"),
        priority=p.get("priority"),
        status=p["status"],
        opened_at=_timestamp(p["openedAt"]),
        summary=p.get("summary"),
    )
    return RecordServiceOrder(order, event_id=envelope["eventId"])


def _contract(envelope: dict[str, Any]) -> ActivateContract:
    p = envelope["payload"]
    contract = Entitlement(
        contract_id=p["contractId"],
        customer_id=p["customerId"],
        services=tuple(p["services"]),
        sla_tier=p["slaTier"],
        response_time_minutes=int(p["responseTimeMinutes"]),
        resolution_time_minutes=int(p["resolutionTimeMinutes"]),
        valid_from=date.fromisoformat(p["validFrom"]),
        valid_to=date.fromisoformat(p["validTo"]) if p.get("validTo") else None,
    )
    return ActivateContract(contract, activated_at=_timestamp(envelope["timestamp"]), event_id=envelope["eventId"])


def _master_update(envelope: dict[str, Any]) -> ApplyMasterUpdate:
    p = envelope["payload"]
    tax_ids = p.get("taxIds")
    return ApplyMasterUpdate(
        customer_id=p.get("customerId"),
        source_system=p["sourceSystem"],
        external_id=p.get("externalId"),
        # A null attribute of the event is unchanged, not removed.
        attributes=ProfileInput(
            name=given(p.get("name")),
            legal_name=given(p.get("legalName")),
            segment=given(p.get("segment")),
            industry=given(p.get("industry")),
            website=given(p.get("website")),
            tax_ids=given(
                None if tax_ids is None else tuple(TaxIdInput(country=t["country"], value=t["value"]) for t in tax_ids)
            ),
        ),
        status=p.get("status"),
        credit=CreditTermsChange.create(
            credit_limit=p.get("creditLimit"),
            currency=p.get("creditCurrency"),
            payment_terms=p.get("paymentTerms"),
            credit_blocked=p.get("creditBlocked"),
        ),
        occurred_at=_timestamp(envelope["timestamp"]),
        event_id=envelope["eventId"],
    )
