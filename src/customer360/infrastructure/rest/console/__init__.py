"""The data steward's console: server-rendered pages at /console over the same application layer,
permissions and versions as the API (see docs/console.md)."""
