"""Contract suites of the application's ports, run against the fakes and against the SQL adapters."""
