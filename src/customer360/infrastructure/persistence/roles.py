"""Database roles and the row-level-security statements the migrations apply to every table.

The service never runs as the migrating (owner) role: request handling uses ``APP_ROLE`` and the
cross-tenant background work (outbox relay, purges) uses ``WORKER_ROLE``. Neither is a superuser or has
BYPASSRLS; with FORCE ROW LEVEL SECURITY not even the table owner escapes the tenant policy.
"""

from __future__ import annotations

APP_ROLE = "crm_customer360_app"
WORKER_ROLE = "crm_customer360_worker"
TENANT_SETTING = "app.tenant_id"


def create_roles_sql() -> list[str]:
    statements = []
    for role in (APP_ROLE, WORKER_ROLE):
        statements.append(
            f"""DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                    CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
                END IF;
            END $$"""
        )
    return statements


def tenant_isolation_sql(schema: str, table: str) -> list[str]:
    """ENABLE + FORCE RLS and the one tenant policy: a session without app.tenant_id sees nothing."""
    qualified = f"{schema}.{table}"
    predicate = f"tenant_id = current_setting('{TENANT_SETTING}', true)"
    return [
        f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {qualified} USING ({predicate}) WITH CHECK ({predicate})",
    ]


def worker_access_sql(schema: str, table: str, privileges: str) -> list[str]:
    """The worker role reads across tenants, but only the tables its jobs need."""
    qualified = f"{schema}.{table}"
    return [
        f"GRANT {privileges} ON {qualified} TO {WORKER_ROLE}",
        f"CREATE POLICY worker_all_tenants ON {qualified} TO {WORKER_ROLE} USING (true) WITH CHECK (true)",
    ]
