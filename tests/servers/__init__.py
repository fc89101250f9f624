"""Real servers for tests, shared by several test directories (import the fixture explicitly)."""
