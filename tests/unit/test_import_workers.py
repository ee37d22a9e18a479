"""Planned rows travel between the importing process and its worker processes unchanged."""

from __future__ import annotations

import functools
import pickle

from customer360.application.context import RequestContext
from customer360.application.import_ports import StagedRow
from customer360.application.imports import PlannedRow, plan_with
from customer360.infrastructure.import_files import checked, row_input
from customer360.infrastructure.imports import ProcessPlanner
from customer360.infrastructure.messaging.envelopes import envelope
from customer360.infrastructure.persistence.import_unit import encode_created

CONTEXT = RequestContext(tenant_id="t-workers", actor="user:a", correlation_id="corr-1", source="IMPORT")
ENCODE = functools.partial(encode_created, envelope)


def _staged() -> list[StagedRow]:
    bodies = [
        {
            "kind": "PERSON",
            "givenName": "Anna",
            "familyName": "Weber",
            "externalRefs": [{"sourceSystem": "ERP", "externalId": "1"}],
        },
        {"kind": "ORGANIZATION", "name": "Weber GmbH", "phones": [{"number": "+49 30 1234567"}]},
        {"kind": "PERSON", "givenName": "Ben", "emails": [{"address": "ben@example.com"}], "birthDate": "2090-01-01"},
    ]
    rows = [checked(number, body) for number, body in enumerate(bodies, 1)]
    assert all(isinstance(row, StagedRow) for row in rows)
    return rows  # type: ignore[return-value]


def test_planned_rows_pickle_to_equal_rows() -> None:
    """Staged rows, plans (created profiles' encoded rows, references, refusals) read back equal."""
    planned = plan_with(_staged(), CONTEXT, "DE", row_input, ENCODE)
    assert [p.create_issue is not None for p in planned] == [False, False, True]
    assert pickle.loads(pickle.dumps(planned)) == planned  # noqa: S301 (our own bytes, as between the processes)
    assert pickle.loads(pickle.dumps(_staged())) == _staged()  # noqa: S301


async def test_a_worker_process_plans_as_this_process_does() -> None:
    """The same rows planned by a worker process: the same outcome per row, references, tables written
    and blocking keys (ids and times differ: each plan makes its own)."""

    def shape(p: PlannedRow) -> tuple[object, ...]:
        encoded = p.encoded
        tables = None if encoded is None else {t: len(rows) for t, rows in encoded.rows.items()}
        return (p.row, p.refs, p.create_issue, tables, None if encoded is None else encoded.keys)

    planner = ProcessPlanner(1)
    try:
        remote = await planner(_staged(), CONTEXT, "DE", row_input, ENCODE)
    finally:
        planner.close()
    local = plan_with(_staged(), CONTEXT, "DE", row_input, ENCODE)
    assert [shape(p) for p in remote] == [shape(p) for p in local]
