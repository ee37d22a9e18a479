"""Request and response models of the merge workflow, provenance and the survivorship policy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from customer360.domain.ids import CUSTOMER_PREFIX, id_pattern
from customer360.domain.survivorship import FIELDS_BY_NAME
from customer360.infrastructure.rest.models.common import ApiInput, ApiOutput, SourceSystem, TopicCode
from customer360.infrastructure.rest.models.customers import (
    AddressOut,
    CommunicationOut,
    ContactOut,
    CustomerOut,
    EmailOut,
    ExternalRefOut,
    LocaleOut,
    PhoneOut,
    TaxIdOut,
)

CustomerRef = Annotated[str, Field(pattern=id_pattern(CUSTOMER_PREFIX), examples=["CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4B"])]
Version = Annotated[int, Field(ge=1, le=2_147_483_647)]
FieldName = Annotated[str, StringConstraints(max_length=40)]
RuleName = Literal["KEEP_TARGET", "KEEP_SOURCE", "MOST_RECENT", "MOST_COMPLETE", "SOURCE_PRIORITY", "UNION"]


class MergeIn(ApiInput):
    """MergeCustomerProfiles. The seed's body ``{"sourceCustomerId": "…"}`` plus the versions both sides
    had when the steward looked at them: ``If-Match`` (or ``targetVersion``) and ``sourceVersion``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sourceCustomerId": "CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4B",
                    "sourceVersion": 3,
                    "mergeReason": "DUPLICATE",
                    "fieldChoices": {"segment": "SOURCE", "emails": "UNION"},
                }
            ]
        }
    )

    source_customer_id: CustomerRef
    merge_reason: TopicCode = "DUPLICATE"
    source_version: Version | None = Field(None, description="Required: the source's version (its ETag)")
    target_version: Version | None = Field(None, description="The target's version, if not sent as If-Match")
    field_choices: (
        Annotated[
            dict[FieldName, Literal["TARGET", "SOURCE", "UNION"]],
            Field(max_length=20, json_schema_extra={"propertyNames": {"enum": sorted(FIELDS_BY_NAME)}}),
        ]
        | None
    ) = Field(None, description="Per-field choices for this merge, overriding the tenant's survivorship policy")


class UnmergeIn(ApiInput):
    source_customer_id: CustomerRef
    target_version: Version | None = Field(None, description="Optional: the target's version (or If-Match)")


# --- provenance ------------------------------------------------------------------------------------
class FieldProvenanceOut(ApiOutput):
    source_customer_id: str = Field(description="The record the value came from")
    merge_id: str | None = Field(description="The merge that brought it into this record; null: its own value")
    rule: str = Field(description="The survivorship rule (or STEWARD_CHOICE, ORIGINAL, UPDATED) that gave it")
    decided_by: str | None = Field(description="The merge whose rule decided the field last")
    fallback: bool = Field(description="The rule's preferred side was empty, so the other side's value was taken")


class ItemSourceOut(ApiOutput):
    customer_id: str
    merge_id: str | None


class ItemProvenanceOut(ApiOutput):
    index: int = Field(description="Position in the profile's list")
    sources: list[ItemSourceOut] = Field(description="Every record that had this item")


class ListProvenanceOut(ApiOutput):
    rule: str
    decided_by: str | None
    items: list[ItemProvenanceOut]


class ContactProvenanceOut(ApiOutput):
    contact_id: str
    source_customer_id: str
    merge_id: str | None


class ProvenanceOut(ApiOutput):
    customer_id: str
    status: str
    merged_into: str | None
    fields: dict[str, FieldProvenanceOut]
    lists: dict[str, ListProvenanceOut]
    contacts: list[ContactProvenanceOut] = Field(description="Contacts that came with a merge")


# --- merge, preview, unmerge -----------------------------------------------------------------------
class DecisionOut(ApiOutput):
    field: str
    rule: str
    winner: str = Field(description="TARGET, SOURCE or BOTH (a union)")
    fallback: bool


class MergeOut(ApiOutput):
    merge_id: str
    target_customer_id: str
    source_customer_id: str
    merge_reason: str
    customer: CustomerOut = Field(description="The golden record, as stored")
    moved: dict[str, int] = Field(description="Rows re-pointed to the target, per table.column")
    left_behind: dict[str, int] = Field(description="Rows kept on the source (one-per-customer data)")
    retired_contacts: list[str] = Field(description="Source contacts that duplicated a target contact")
    retired_relationships: list[str]
    derived_consents: list[str] = Field(description="Consent records appended to keep the most restrictive state")


class GoldenRecordOut(ApiOutput):
    kind: str
    name: str
    legal_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    birth_date: str | None = None
    segment: str | None = None
    industry: str | None = None
    website: str | None = None
    domain: str | None = None
    tax_ids: list[TaxIdOut]
    emails: list[EmailOut]
    phones: list[PhoneOut]
    addresses: list[AddressOut]
    locale: LocaleOut
    communication: CommunicationOut
    tags: list[str]
    external_refs: list[ExternalRefOut]
    contacts: list[ContactOut]


class ConsentChangeOut(ApiOutput):
    type: str
    purpose: str
    contact_point: str | None
    status: str
    note: str


class MergePreviewOut(ApiOutput):
    target_customer_id: str
    source_customer_id: str
    target_version: int = Field(description="Send as If-Match (or targetVersion) to merge what you previewed")
    source_version: int = Field(description="Send as sourceVersion")
    golden: GoldenRecordOut
    decisions: list[DecisionOut]
    provenance: ProvenanceOut
    would_move: dict[str, int] = Field(description="Rows pointing at the source, per table.column")
    retired_contacts: list[str]
    retired_relationships: list[str]
    consent_changes: list[ConsentChangeOut]


class UnmergeConflictOut(ApiOutput):
    field: str
    reason: str = Field(description="CHANGED_AFTER_MERGE, REMOVED_AFTER_MERGE or PRIMARY_CONFLICT")
    resolution: str = Field(description="KEPT_ON_TARGET, RESTORED_ON_SOURCE or NOT_RESTORED")


class UnmergeOut(ApiOutput):
    merge_id: str
    target: CustomerOut
    source: CustomerOut
    conflicts: list[UnmergeConflictOut]
    moved_back: dict[str, int]
    not_moved_back: int = Field(description="Re-pointed rows that no longer pointed at the target")
    restored_relationships: list[str]
    reinstated_consents: list[str] = Field(description="Target records re-instating its own consent")
    carried_consents: list[str] = Field(description="Revocations captured during the merge, copied to the source")


class MergeSummaryOut(ApiOutput):
    id: str
    target_customer_id: str
    source_customer_id: str
    merge_reason: str
    status: str
    merged_at: datetime
    merged_by: str
    unmerged_at: datetime | None
    unmerged_by: str | None


class MergePage(ApiOutput):
    items: list[MergeSummaryOut]
    next_cursor: str | None


class MergeRecordOut(MergeSummaryOut):
    correlation_id: str
    record: dict[str, Any] = Field(description="Before-images, golden record, decisions and every re-pointed row")
    unmerge_report: dict[str, Any] | None


# --- survivorship policy ---------------------------------------------------------------------------
class PolicyIn(ApiInput):
    """The tenant's policy: rules per field (unlisted fields take the service default) and the ranking of
    source systems for SOURCE_PRIORITY."""

    rules: Annotated[
        dict[FieldName, RuleName],
        Field(max_length=40, json_schema_extra={"propertyNames": {"enum": sorted(FIELDS_BY_NAME)}}),
    ] = Field(default_factory=dict)
    source_priority: (
        Annotated[list[SourceSystem], Field(max_length=20, json_schema_extra={"uniqueItems": True})] | None
    ) = None


class PolicyOut(ApiOutput):
    rules: dict[str, str]
    source_priority: list[str]
    version: int
