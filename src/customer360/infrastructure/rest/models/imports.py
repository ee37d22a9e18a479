"""Models of bulk import and export: a row of an import (the create body plus the customer it updates),
import jobs and their report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from customer360.application.import_ports import RowInput
from customer360.application.inputs import ProfileInput
from customer360.domain.ids import CUSTOMER_PREFIX, id_pattern
from customer360.infrastructure.rest.models.common import ApiOutput
from customer360.infrastructure.rest.models.customers import CustomerCreate, named


class ImportRowIn(CustomerCreate):
    """One row of an import: the body of POST /customers; ``customerId`` (or a known external reference)
    makes it an update of that profile."""

    customer_id: Annotated[str, Field(pattern=id_pattern(CUSTOMER_PREFIX))] | None = None

    def to_row(self) -> RowInput:
        named_fields = self.model_fields_set
        return RowInput(
            attributes=ProfileInput(**named(self, leave_out=frozenset({"status", "contacts", "customer_id"}))),
            customer_id=self.customer_id,
            status=self.status if "status" in named_fields else None,
            contacts=self.contact_inputs(),
        )


class ImportCounts(ApiOutput):
    created: int = 0
    updated: int = 0
    unchanged: int = Field(0, description="Rows naming an existing profile that already had these values")
    invalid: int = Field(0, description="Rows refused (see the report)")
    skipped: int = Field(0, description="Likely duplicates left out (onDuplicate=skip; see the report)")
    pairs_queued: int = Field(0, description="Duplicate pairs put in the review queue")


class ImportJobOut(ApiOutput):
    id: str
    status: str = Field(description="RECEIVING, QUEUED, RUNNING, INTERRUPTED (resume it), COMPLETED or FAILED")
    format: str
    on_duplicate: str
    dry_run: bool
    mapping: dict[str, str] = Field(description="File column → field, as applied")
    ignored_columns: list[str]
    rows: int = Field(description="Rows read from the file")
    processed: int = Field(description="Rows applied or reported so far, in file order")
    counts: ImportCounts
    error: str | None = Field(None, description="Why the file could not be imported (nothing was applied)")
    error_details: dict[str, object] | None = None
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    links: dict[str, str]


class ImportJobPage(ApiOutput):
    items: list[ImportJobOut]
    next_cursor: str | None


class ImportIssueOut(ApiOutput):
    row: int = Field(description="Row of the file: CSV data records from 1 (the header excluded), NDJSON lines")
    field: str = Field(description="The field (API spelling) or 'row'")
    outcome: str = Field(description="INVALID, DUPLICATE (skipped) or CONFLICT")
    reason: str = Field(description="The rule broken; never the value")
    customer_id: str | None = Field(None, description="For DUPLICATE: the existing profile")


class ImportReportPage(ApiOutput):
    items: list[ImportIssueOut]
    next_cursor: str | None
