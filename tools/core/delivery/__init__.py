"""Pure delivery logic: retry policy, addresses, unsubscribe tokens, preference checks."""
