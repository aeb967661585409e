"""The operations of customerio-mcp: one module per area, pure logic in tools.core."""
