"""Escalation: policies, the durable step engine and the page requests it produces."""
