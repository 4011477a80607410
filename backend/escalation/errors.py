"""Errors of escalation policies and the escalation engine."""

from __future__ import annotations

from backend.core.errors import AlreadyExists, Conflict, ErrorCode, NotFound


class PolicyNotFound(NotFound):
    title = "Escalation policy not found"


class PolicyNameTaken(AlreadyExists):
    title = "The team already has a policy with that name"


class PolicyInUse(Conflict):
    """Active incidents escalate with the policy; ``extra['incident_ids']`` lists them."""

    code = ErrorCode.POLICY_IN_USE
    title = "The escalation policy is used by active incidents"
