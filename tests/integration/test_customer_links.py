"""Every table that points at a customer is in the merge's registry (or says why a merge leaves it)."""

from __future__ import annotations

from customer360.infrastructure.persistence.customer_links import LINKS, NOT_MOVED, customer_columns
from customer360.infrastructure.persistence.tables import TENANT_TABLES


def test_every_foreign_key_to_a_customer_is_registered() -> None:
    """A new table with a customer id fails here until customer_links.py says how a merge treats it."""
    registered = {(link.table.name, link.column) for link in LINKS} | set(NOT_MOVED)
    assert customer_columns() - registered == set()


def test_the_registry_names_only_real_columns() -> None:
    """No stale entries: each registered column exists and refers to customer_profile."""
    registered = {(link.table.name, link.column) for link in LINKS} | set(NOT_MOVED)
    assert registered - customer_columns() == set()


def test_moved_tables_are_tenant_tables_with_a_primary_key() -> None:
    """Re-pointed rows are remembered by primary key, so an unmerge can move exactly them back."""
    tenant_tables = {t.name for t in TENANT_TABLES}
    for link in LINKS:
        assert link.table.name in tenant_tables
        assert link.key_columns(), link.table.name
