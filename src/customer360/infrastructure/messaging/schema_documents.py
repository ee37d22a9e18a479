"""The schema catalog as the application's ``EventSchemas`` port (``GET /events/schemas``)."""

from __future__ import annotations

from customer360.application.integration_queries import EventSchemaNotFound
from customer360.application.queries import Document
from customer360.infrastructure.messaging.schema_catalog import SchemaNotFoundError, load_schema_catalog


class CatalogSchemas:
    """Reads the shipped catalog on first use (``load_schema_catalog`` is cached), never at construction."""

    def all(self) -> list[Document]:
        return load_schema_catalog().describe()

    def versions(self, name: str) -> list[Document]:
        try:
            return [schema.describe() for schema in load_schema_catalog().versions(name)]
        except SchemaNotFoundError:
            raise EventSchemaNotFound(name) from None

    def version(self, name: str, version: int) -> Document:
        try:
            return load_schema_catalog().get(name, version).describe()
        except SchemaNotFoundError:
            raise EventSchemaNotFound(f"{name} v{version}") from None

    def with_fingerprint(self, fingerprint: str | int) -> Document | None:
        schema = load_schema_catalog().find_by_fingerprint(fingerprint)
        return None if schema is None else schema.describe()
