"""Per-agent SQLite storage: connections, migrations, the store manager, repositories."""
