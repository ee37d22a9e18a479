"""CustomerRepository on PostgreSQL: one profile row, its contacts, its look-up keys and external refs.

A new profile's insert is queued on the unit of work's pending writes when it is added, so it is
written in the use case's order: before any row queued later that refers to it. Changes of loaded
profiles are written when the unit of work flushes, each with an optimistic version check on top of
the row lock taken when it was loaded for update; the flush says which profiles were written since
the last one (the unit of work brings their matching data in line next).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, Text, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from customer360.domain.customer import CustomerProfile
from customer360.domain.errors import ConcurrentModification, CustomerNotFound, DuplicateExternalReference
from customer360.domain.ids import CUSTOMER_PREFIX, is_valid_id
from customer360.domain.profile_attributes import Contact, ContactAttributes, ProfileAttributes
from customer360.domain.search_terms import search_text, search_tokens
from customer360.domain.values import ContactRole, CustomerKind, CustomerStatus, ExternalReference
from customer360.infrastructure.persistence.documents import (
    address_from,
    communication_from,
    email_from,
    locale_from,
    phone_from,
    tax_id_from,
    to_document,
)
from customer360.infrastructure.persistence.pending_writes import PendingWrites, SqlExecutor
from customer360.infrastructure.persistence.tables import (
    contact,
    customer_key,
    customer_profile,
    external_reference,
)

_UPSERT_CONTACT = pg_insert(contact).on_conflict_do_update(
    index_elements=[contact.c.tenant_id, contact.c.id],
    set_={
        name: pg_insert(contact).excluded[name]
        for name in (
            "customer_id",
            "name",
            "given_name",
            "family_name",
            "job_title",
            "roles",
            "primary_roles",
            "emails",
            "phones",
            "communication",
            "updated_at",
            "removed_at",
        )
    },
)
_INSERT_REFERENCE = pg_insert(external_reference).on_conflict_do_nothing().returning(external_reference.c.customer_id)
# A profile's look-up keys from three arrays (one fixed statement, whatever the number of keys).
_KEYS = (
    func.unnest(
        bindparam("key_types", type_=ARRAY(Text)),
        bindparam("key_values", type_=ARRAY(Text)),
        bindparam("key_owners", type_=ARRAY(Text)),
    )
    .table_valued("key_type", "key_value", "owner")
    .render_derived(name="k")
)
_INSERT_KEYS = insert(customer_key).from_select(
    ["tenant_id", "key_type", "key_value", "customer_id", "owner"],
    select(
        bindparam("key_tenant", type_=String),
        _KEYS.c.key_type,
        _KEYS.c.key_value,
        bindparam("key_customer", type_=String),
        _KEYS.c.owner,
    ),
)


@dataclass(frozen=True, slots=True)
class WrittenProfiles:
    profiles: list[CustomerProfile] = field(default_factory=list)
    new_ids: set[str] = field(default_factory=set)


def profile_keys(profile: CustomerProfile) -> list[tuple[str, str, str]]:
    """(type, value, owner) keys for exact look-ups; owner '' is the profile, else a contact id."""
    if profile.status is CustomerStatus.MERGED:
        # A merged profile must not be found by exact look-ups: its survivor holds its keys now.
        return []
    return attribute_keys(profile.attributes, [(c.id, c.attributes) for c in profile.active_contacts])


def attribute_keys(a: ProfileAttributes, contacts: list[tuple[str, ContactAttributes]]) -> list[tuple[str, str, str]]:
    keys: set[tuple[str, str, str]] = set()
    owners: list[tuple[str, Any]] = [("", a), *contacts]
    for owner, attributes in owners:
        for email in attributes.emails:
            keys.add(("EMAIL", email.key, owner))
        for phone in attributes.phones:
            keys.add(("PHONE", phone.e164, owner))
            keys.add(("PHONE_NSN", phone.national_number, owner))
    for tax in a.tax_ids:
        keys.add(("TAX_ID", tax.value, ""))
        if tax.value.startswith(tax.country):
            keys.add(("TAX_ID", tax.value[len(tax.country) :], ""))
    if a.domain:
        keys.add(("DOMAIN", a.domain, ""))
    return sorted(keys)


class SqlCustomerRepository:
    def __init__(self, connection: SqlExecutor, tenant_id: str) -> None:
        self._conn = connection
        self._tenant = tenant_id
        self._seen: dict[str, CustomerProfile] = {}
        self._new: set[str] = set()
        # New profiles whose queued insert ran since the last flush (their matching data is due).
        self._inserted: list[CustomerProfile] = []
        self._loaded_refs: dict[str, set[ExternalReference]] = {}

    def seen(self) -> list[CustomerProfile]:
        return list(self._seen.values())

    async def add(self, profile: CustomerProfile) -> None:
        self._seen[profile.id] = profile
        self._new.add(profile.id)
        if isinstance(self._conn, PendingWrites):
            # Queued writes run on the bare connection (the queue is being run when they run).
            self._conn.later(lambda connection: self._insert_new(profile, connection))

    async def get(self, customer_id: str) -> CustomerProfile:
        return await self._load(customer_id, lock=False)

    async def get_for_update(self, customer_id: str) -> CustomerProfile:
        return await self._load(customer_id, lock=True)

    async def owner_of_external_ref(self, ref: ExternalReference) -> str | None:
        return await self._owner(ref, self._conn)

    async def _owner(self, ref: ExternalReference, db: SqlExecutor) -> str | None:
        result = await db.execute(
            select(external_reference.c.customer_id).where(
                external_reference.c.tenant_id == self._tenant,
                external_reference.c.source_system == ref.source_system,
                external_reference.c.external_id == ref.external_id,
            )
        )
        return result.scalar_one_or_none()

    async def _load(self, customer_id: str, *, lock: bool) -> CustomerProfile:
        if customer_id in self._seen:
            return self._seen[customer_id]
        if not is_valid_id(CUSTOMER_PREFIX, customer_id):
            raise CustomerNotFound(customer_id)
        query = select(customer_profile).where(
            customer_profile.c.tenant_id == self._tenant, customer_profile.c.id == customer_id
        )
        row = (await self._conn.execute(query.with_for_update() if lock else query)).mappings().first()
        if row is None:
            raise CustomerNotFound(customer_id)
        contact_rows = (
            (
                await self._conn.execute(
                    select(contact)
                    .where(contact.c.tenant_id == self._tenant, contact.c.customer_id == customer_id)
                    .order_by(contact.c.id)
                )
            )
            .mappings()
            .all()
        )
        ref_rows = (
            await self._conn.execute(
                select(external_reference.c.source_system, external_reference.c.external_id)
                .where(
                    external_reference.c.tenant_id == self._tenant,
                    external_reference.c.customer_id == customer_id,
                )
                .order_by(
                    external_reference.c.created_at,
                    external_reference.c.source_system,
                    external_reference.c.external_id,
                )
            )
        ).all()
        refs = tuple(ExternalReference(source_system=s, external_id=e) for s, e in ref_rows)
        profile = _profile_from_rows(row, contact_rows, refs)
        self._seen[customer_id] = profile
        self._loaded_refs[customer_id] = set(refs)
        return profile

    async def flush(self) -> WrittenProfiles:
        inserted = self._inserted
        self._inserted = []
        written = WrittenProfiles(list(inserted), {p.id for p in inserted})
        for profile in list(self._seen.values()):
            if profile.id in self._new:  # added outside a unit of work: nothing was queued
                await self._insert_new(profile, self._conn)
                inserted = self._inserted
                self._inserted = []
                written.profiles.extend(inserted)
                written.new_ids.update(p.id for p in inserted)
            elif profile.changed:
                await self._update(profile, self._conn)
                profile.mark_saved()
                if profile.id not in written.new_ids:
                    written.profiles.append(profile)
        return written

    async def _insert_new(self, profile: CustomerProfile, db: SqlExecutor) -> None:
        if profile.id not in self._new:
            return
        self._new.discard(profile.id)
        values = self._profile_values(profile)
        assert values.keys() == _PROFILE_COLUMN_SET, "profile_row and _PROFILE_COLUMNS differ"
        keys = self._key_values(profile)
        if keys is None:
            await db.execute(_INSERT_PROFILE, values)
        else:  # the profile and its keys in one round trip
            await db.execute(_INSERT_PROFILE_AND_KEYS, {**values, **keys})
        if profile.contacts:
            await db.execute(_UPSERT_CONTACT, [self._contact_values(profile.id, c) for c in profile.contacts])
        await self._write_external_refs(profile, set(), db)
        profile.mark_saved()
        self._inserted.append(profile)

    async def _update(self, profile: CustomerProfile, db: SqlExecutor) -> None:
        result = await db.execute(
            update(customer_profile)
            .where(
                customer_profile.c.tenant_id == self._tenant,
                customer_profile.c.id == profile.id,
                customer_profile.c.version == profile.loaded_version,
            )
            .values(**self._profile_values(profile))
        )
        if result.rowcount != 1:
            raise ConcurrentModification(f"Customer {profile.id} was changed concurrently", {"customerId": profile.id})
        await self._write_children(profile, self._loaded_refs.get(profile.id, set()), db)

    async def _write_children(
        self, profile: CustomerProfile, loaded_refs: set[ExternalReference], db: SqlExecutor
    ) -> None:
        if profile.contacts:
            # executemany with one compiled statement: multi-row VALUES would recompile per row count.
            await db.execute(_UPSERT_CONTACT, [self._contact_values(profile.id, c) for c in profile.contacts])
        await db.execute(
            delete(customer_key).where(
                customer_key.c.tenant_id == self._tenant, customer_key.c.customer_id == profile.id
            )
        )
        keys = self._key_values(profile)
        if keys is not None:
            await db.execute(_INSERT_KEYS, keys)
        await self._write_external_refs(profile, loaded_refs, db)

    def _key_values(self, profile: CustomerProfile) -> dict[str, Any] | None:
        """The parameters of ``_INSERT_KEYS`` for the profile's look-up keys (None: it has none)."""
        keys = profile_keys(profile)
        if not keys:
            return None
        return {
            "key_tenant": self._tenant,
            "key_customer": profile.id,
            "key_types": [t for t, _, _ in keys],
            "key_values": [v for _, v, _ in keys],
            "key_owners": [o for _, _, o in keys],
        }

    async def _write_external_refs(
        self, profile: CustomerProfile, loaded: set[ExternalReference], db: SqlExecutor
    ) -> None:
        current = set(profile.attributes.external_refs)
        for ref in loaded - current:
            await db.execute(
                delete(external_reference).where(
                    and_(
                        external_reference.c.tenant_id == self._tenant,
                        external_reference.c.source_system == ref.source_system,
                        external_reference.c.external_id == ref.external_id,
                        external_reference.c.customer_id == profile.id,
                    )
                )
            )
        for ref in sorted(current - loaded, key=lambda r: r.source_system):
            inserted = await db.execute(
                _INSERT_REFERENCE,
                {
                    "tenant_id": self._tenant,
                    "source_system": ref.source_system,
                    "external_id": ref.external_id,
                    "customer_id": profile.id,
                    "created_at": profile.updated_at,
                },
            )
            # Already ours is fine: a merge or unmerge re-points reference rows before the flush.
            if inserted.first() is None and await self._owner(ref, db) != profile.id:
                # Another transaction took the reference after our check: the database is the arbiter.
                raise DuplicateExternalReference(ref.source_system, None)
        self._loaded_refs[profile.id] = current

    def _profile_values(self, profile: CustomerProfile) -> dict[str, Any]:
        return profile_row(self._tenant, profile)

    def _contact_values(self, customer_id: str, c: Contact) -> dict[str, Any]:
        return contact_row(self._tenant, customer_id, c)


def profile_row(tenant_id: str, profile: CustomerProfile) -> dict[str, Any]:
    """The customer_profile row of a profile (the bulk import writes it by COPY)."""
    a = profile.attributes
    return {
        "tenant_id": tenant_id,
        "id": profile.id,
        "kind": a.kind.value,
        "status": profile.status.value,
        "name": a.name,
        "legal_name": a.legal_name,
        "given_name": a.given_name,
        "family_name": a.family_name,
        "birth_date": a.birth_date,
        "segment": a.segment,
        "industry": a.industry,
        "website": a.website,
        "domain": a.domain,
        "tax_ids": to_document(a.tax_ids),
        "emails": to_document(a.emails),
        "phones": to_document(a.phones),
        "addresses": to_document(a.addresses),
        "locale": to_document(a.locale),
        "communication": to_document(a.communication),
        "tags": list(a.tags),
        "search_text": search_text(a.name, a.legal_name),
        "search_tokens": search_tokens((a.name, a.legal_name), a.addresses),
        "merged_into": profile.merged_into,
        "created_at": profile.created_at,
        "created_by": profile.created_by,
        "updated_at": profile.updated_at,
        "updated_by": profile.updated_by,
        "version": profile.version,
    }


def contact_row(tenant_id: str, customer_id: str, c: Contact) -> dict[str, Any]:
    a = c.attributes
    return {
        "tenant_id": tenant_id,
        "id": c.id,
        "customer_id": customer_id,
        "name": a.name,
        "given_name": a.given_name,
        "family_name": a.family_name,
        "job_title": a.job_title,
        "roles": sorted(r.value for r in a.roles),
        "primary_roles": sorted(r.value for r in a.primary_roles),
        "emails": to_document(a.emails),
        "phones": to_document(a.phones),
        "communication": to_document(a.communication),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "removed_at": c.removed_at,
    }


def _profile_from_rows(row: Any, contact_rows: Any, refs: tuple[ExternalReference, ...]) -> CustomerProfile:
    attributes = ProfileAttributes(
        kind=CustomerKind(row["kind"]),
        name=row["name"],
        legal_name=row["legal_name"],
        given_name=row["given_name"],
        family_name=row["family_name"],
        birth_date=row["birth_date"],
        segment=row["segment"],
        industry=row["industry"],
        website=row["website"],
        domain=row["domain"],
        tax_ids=tuple(tax_id_from(d) for d in row["tax_ids"]),
        emails=tuple(email_from(d) for d in row["emails"]),
        phones=tuple(phone_from(d) for d in row["phones"]),
        addresses=tuple(address_from(d) for d in row["addresses"]),
        locale=locale_from(row["locale"]),
        communication=communication_from(row["communication"]),
        tags=tuple(row["tags"]),
        external_refs=refs,
    )
    contacts = [
        Contact(
            id=c["id"],
            attributes=ContactAttributes(
                name=c["name"],
                given_name=c["given_name"],
                family_name=c["family_name"],
                job_title=c["job_title"],
                roles=frozenset(ContactRole(r) for r in c["roles"]),
                primary_roles=frozenset(ContactRole(r) for r in c["primary_roles"]),
                emails=tuple(email_from(d) for d in c["emails"]),
                phones=tuple(phone_from(d) for d in c["phones"]),
                communication=communication_from(c["communication"]),
            ),
            created_at=c["created_at"],
            updated_at=c["updated_at"],
            removed_at=c["removed_at"],
        )
        for c in contact_rows
    ]
    return CustomerProfile(
        id=row["id"],
        tenant_id=row["tenant_id"],
        attributes=attributes,
        status=CustomerStatus(row["status"]),
        contacts=contacts,
        created_at=row["created_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
        version=row["version"],
        merged_into=row["merged_into"],
    )


# A new profile's row, every column a parameter (profile_row's keys), alone or with its keys (a CTE: the
# keys' foreign key is checked at the end of the statement, when the profile row is there).
_PROFILE_COLUMNS = (
    *("tenant_id", "id", "kind", "status", "name", "legal_name", "given_name", "family_name", "birth_date"),
    *("segment", "industry", "website", "domain", "tax_ids", "emails", "phones", "addresses", "locale"),
    *("communication", "tags", "search_text", "search_tokens", "merged_into", "created_at", "created_by"),
    *("updated_at", "updated_by", "version"),
)
_PROFILE_COLUMN_SET = frozenset(_PROFILE_COLUMNS)
_INSERT_PROFILE = insert(customer_profile).values(
    {name: bindparam(name, type_=customer_profile.c[name].type) for name in _PROFILE_COLUMNS}
)
_INSERT_PROFILE_AND_KEYS = _INSERT_KEYS.add_cte(_INSERT_PROFILE.cte("new_profile"))
