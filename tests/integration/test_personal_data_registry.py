"""Every table is in the personal-data registry (or says why it holds no personal data)."""

from __future__ import annotations

from customer360.infrastructure.persistence.customer_links import customer_columns
from customer360.infrastructure.persistence.personal_data import LOCATIONS, NOT_PERSONAL, registered_tables
from customer360.infrastructure.persistence.tables import TENANT_TABLES, metadata


def test_every_table_is_registered() -> None:
    """A new table fails here until personal_data.py says how export and erasure treat it."""
    assert set() == {t.name for t in metadata.tables.values()} - registered_tables()


def test_every_column_holding_a_customer_id_is_a_registered_location() -> None:
    """Each foreign key to customer_profile is a location's customer column, or its table is not personal."""
    located = {(loc.name, column) for loc in LOCATIONS for column in loc.customer_columns}
    assert set() == {(t, c) for t, c in customer_columns() if t not in NOT_PERSONAL} - located


def test_the_registry_names_only_real_tables_and_columns() -> None:
    """No stale entries: each location's columns exist; each table is a tenant table."""
    tenant_tables = {t.name for t in TENANT_TABLES}
    for location in LOCATIONS:
        assert location.name in tenant_tables
        assert set(location.customer_columns) | set(location.erase_columns) <= set(location.table.c.keys())
    assert set(NOT_PERSONAL) <= tenant_tables
