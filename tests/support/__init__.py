"""Test support shared by the integration and reliability suites: own databases, worker
processes, a Redis server of the test's own, a TCP proxy in front of PostgreSQL, fake provider
servers and the books (what must hold after any fault)."""
