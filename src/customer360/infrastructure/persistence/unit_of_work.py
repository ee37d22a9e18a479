"""The unit of work: one connection, one transaction, the tenant set, one commit.

Repositories write nothing when a use case calls them: row writes are queued on ``writes``
(pending_writes.py) and loaded aggregates are kept in the repositories. ``flush`` writes, in this order:

1. the queued row writes, in the order the use case made them (new profiles with their contacts,
   look-up keys and external references, consent records, re-pointed links, merge records,
   provenance, decisions, holds, policies …; a read through the unit of work runs them first), so a
   row may refer to a profile added before it in the same unit;
2. the changes of the customer profiles loaded and changed;
3. the matching data of every profile written since the last flush (match_sync.sync_match_data); a flush
   before an answer (``answer=True``) has the documents of those profiles come back with that statement,
   and the views answer the next read of each from them while no other statement has run.

``commit`` flushes, then writes the audit and outbox rows of every recorded event, then commits: the
change, its audit trail and its events become visible together or not at all. The audit and outbox
statement travels with the COMMIT (one simple query, its values as literals: journal.journal_statement),
so the outbox lock it takes is released within that round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customer360.application import consistency
from customer360.application.context import RequestContext
from customer360.application.duplicate_ports import MatchingLimits
from customer360.domain.duplicates import DuplicatePolicy
from customer360.domain.events import DomainEvent
from customer360.domain.survivorship import SurvivorshipPolicy
from customer360.infrastructure.persistence.consent_repository import SqlConsentRepository
from customer360.infrastructure.persistence.consent_rules import SqlConsentRules
from customer360.infrastructure.persistence.customer_links import SqlCustomerLinks
from customer360.infrastructure.persistence.customer_repository import SqlCustomerRepository
from customer360.infrastructure.persistence.database import begin_for_tenant, commit_with
from customer360.infrastructure.persistence.idempotency import SqlIdempotencyStore
from customer360.infrastructure.persistence.journal import EnvelopeSerializer, journal_statement, write_journal
from customer360.infrastructure.persistence.match_index import ModelCache, SqlDuplicateIndex
from customer360.infrastructure.persistence.match_sync import sync_match_data
from customer360.infrastructure.persistence.merge_repository import SqlMergeRepository
from customer360.infrastructure.persistence.pending_writes import PendingWrites
from customer360.infrastructure.persistence.privacy_store import SqlPrivacyStore
from customer360.infrastructure.persistence.relationship_repository import SqlRelationshipRepository
from customer360.infrastructure.persistence.transaction_views import SqlTransactionViews


@dataclass(frozen=True, slots=True)
class SqlUnitOfWorkFactory:
    """The executor's UnitOfWorkFactory: one SqlUnitOfWork per command, with the service's settings."""

    engine: AsyncEngine
    envelope: EnvelopeSerializer
    merge_policy: SurvivorshipPolicy
    suppression_key: bytes
    duplicate_policy: DuplicatePolicy
    matching_limits: MatchingLimits
    match_models: ModelCache
    # With a read replica: each commit's WAL position goes to the request (read-your-writes).
    record_position: bool = False

    def __call__(self, context: RequestContext) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.engine,
            context,
            self.envelope,
            self.merge_policy,
            suppression_key=self.suppression_key,
            duplicate_policy=self.duplicate_policy,
            matching_limits=self.matching_limits,
            match_models=self.match_models,
            record_position=self.record_position,
        )


class SqlUnitOfWork:
    writes: PendingWrites
    customers: SqlCustomerRepository
    relationships: SqlRelationshipRepository
    consents: SqlConsentRepository
    idempotency: SqlIdempotencyStore
    views: SqlTransactionViews
    merges: SqlMergeRepository
    links: SqlCustomerLinks
    privacy: SqlPrivacyStore
    consent_rules: SqlConsentRules
    duplicates: SqlDuplicateIndex

    def __init__(
        self,
        engine: AsyncEngine,
        context: RequestContext,
        envelope: EnvelopeSerializer,
        merge_policy: SurvivorshipPolicy | None = None,
        suppression_key: bytes = b"",
        duplicate_policy: DuplicatePolicy | None = None,
        matching_limits: MatchingLimits | None = None,
        match_models: ModelCache | None = None,
        record_position: bool = False,
    ) -> None:
        self._engine = engine
        # With a read replica: the commit's WAL position goes to the request (application.consistency).
        self._record_position = record_position
        self.context = context
        # How an event is written into its outbox row (messaging's envelope; given by bootstrap).
        self._envelope = envelope
        # HMAC key of the suppression list (SUPPRESSION_HASH_KEY).
        self._suppression_key = suppression_key
        # The service's default survivorship policy (settings); tenants override it field by field.
        self._merge_policy = merge_policy or SurvivorshipPolicy.default()
        # Duplicate detection: the default thresholds (settings), limits, and the process-wide model cache.
        self._duplicate_policy = duplicate_policy or DuplicatePolicy()
        self._matching_limits = matching_limits or MatchingLimits()
        self._match_models = match_models or ModelCache()
        self._connection: AsyncConnection | None = None

    @property
    def connection(self) -> AsyncConnection:
        assert self._connection is not None, "the unit of work is not entered"
        return self._connection

    async def __aenter__(self) -> Self:
        connection = await self._engine.connect()
        self._connection = connection
        try:
            await connection.begin()
            await begin_for_tenant(connection, self.context.tenant_id)
        except BaseException:
            await connection.close()
            raise
        tenant = self.context.tenant_id
        writes = self.writes = PendingWrites(connection)
        self.customers = SqlCustomerRepository(writes, tenant)
        self.relationships = SqlRelationshipRepository(writes, tenant)
        self.consents = SqlConsentRepository(writes, tenant)
        self.idempotency = SqlIdempotencyStore(writes, tenant)
        self.views = SqlTransactionViews(writes, tenant)
        self.merges = SqlMergeRepository(writes, tenant, self.context.correlation_id, self._merge_policy)
        self.links = SqlCustomerLinks(writes, tenant)
        self.privacy = SqlPrivacyStore(writes, tenant, self._suppression_key)
        self.consent_rules = SqlConsentRules(writes, tenant)
        self.duplicates = SqlDuplicateIndex(
            writes,
            tenant,
            default_policy=self._duplicate_policy,
            limits=self._matching_limits,
            models=self._match_models,
        )
        return self

    async def _record_commit_position(self, floor: consistency.ReadFloor) -> None:
        """The primary's WAL position after the commit: a replica that has replayed it sees this write.
        Asked on the driver's connection, outside a transaction (one round trip)."""
        raw = await self.connection.get_raw_connection()
        position = await raw.driver_connection.fetchval("SELECT pg_current_wal_lsn()::text")  # type: ignore[union-attr]
        parsed = consistency.parse_position(position)
        if parsed is not None:
            floor.wrote(parsed)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self.connection
        try:
            if connection.in_transaction():
                await connection.rollback()
        finally:
            await connection.close()
            self._connection = None

    def collect_events(self) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        for profile in self.customers.seen():
            events.extend(profile.events)
        for record in self.consents.seen():
            events.extend(record.events)
        events.extend(self.privacy.events)
        events.extend(self.duplicates.events)
        return events

    async def flush(self, *, answer: bool = False) -> None:
        await self.writes.flush()
        written = await self.customers.flush()
        documents = await sync_match_data(
            self.writes,
            self.context.tenant_id,
            written.profiles,
            written.new_ids,
            self.duplicates.prepared,
            documents=answer,
        )
        if documents:
            self.views.keep(documents)

    async def commit(self) -> None:
        await self.flush()
        events = self.collect_events()
        journal = journal_statement(self.context, events, self._envelope)
        if journal is None or not await commit_with(self.connection, journal):
            await write_journal(self.connection, self.context, events, self._envelope)
            await self.connection.commit()
        if self._record_position and (floor := consistency.current()) is not None:
            await self._record_commit_position(floor)
        for profile in self.customers.seen():
            profile.events.clear()
        for record in self.consents.seen():
            record.events.clear()
        self.privacy.events.clear()
        self.duplicates.events.clear()
