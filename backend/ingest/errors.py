"""Ingestion errors: each maps to one problem type (docs/problems/<code>.md)."""

from __future__ import annotations

from backend.core.errors import ErrorCode, NotFound, Unauthenticated


class IntegrationNotFound(NotFound):
    title = "Integration not found"


class InvalidSignature(Unauthenticated):
    code = ErrorCode.INVALID_SIGNATURE
    title = "Invalid or missing signature"


class InvalidIntegrationSecret(Unauthenticated):
    code = ErrorCode.INVALID_INTEGRATION_SECRET
    title = "Invalid or missing integration secret"


class HeartbeatNotFound(NotFound):
    title = "Heartbeat monitor not found"


class MaintenanceWindowNotFound(NotFound):
    title = "Maintenance window not found"


class RoutingRuleNotFound(NotFound):
    title = "Routing rule not found"


class AlertNotFound(NotFound):
    title = "Alert not found"
