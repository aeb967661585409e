"""Pure logic: no I/O, no imports from server, store, mcp, aiosqlite or anyio."""
