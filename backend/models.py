"""Every table, imported in one place for Alembic's autogenerate and for metadata users."""

from backend.apikeys.models import ApiKey
from backend.audit.models import AuditEntry
from backend.catalog.models import Service, ServiceDependency
from backend.core.db import metadata
from backend.escalation.models import EscalationLevel, EscalationPolicy, PageRequest
from backend.identity.models import (
    BreakGlassCredential,
    LoginAttempt,
    OidcLoginState,
    User,
    UserSession,
)
from backend.incidents.models import Incident, IncidentEvent, IncidentFilterPreset
from backend.ingest.models import (
    Alert,
    HeartbeatMonitor,
    IdempotencyRecord,
    InboundDelivery,
    Integration,
    MaintenanceWindow,
    RoutingRule,
)
from backend.notifications.action_models import ActionLink, SlackMessage
from backend.notifications.models import (
    ContactMethod,
    DeliveryAttempt,
    Notification,
    NotificationRule,
    OutboxMessage,
    ProviderHealth,
    QuietHours,
)
from backend.notifications.vapid import VapidKey
from backend.schedules.models import (
    CalendarConnection,
    CalendarFeed,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    ShiftSwap,
)
from backend.teams.models import Team, TeamMembership

__all__ = [
    "ActionLink",
    "Alert",
    "ApiKey",
    "AuditEntry",
    "BreakGlassCredential",
    "CalendarConnection",
    "CalendarFeed",
    "ContactMethod",
    "DeliveryAttempt",
    "EscalationLevel",
    "EscalationPolicy",
    "HeartbeatMonitor",
    "IdempotencyRecord",
    "InboundDelivery",
    "Incident",
    "IncidentEvent",
    "IncidentFilterPreset",
    "Integration",
    "LoginAttempt",
    "MaintenanceWindow",
    "Notification",
    "NotificationRule",
    "OidcLoginState",
    "OutboxMessage",
    "PageRequest",
    "ProviderHealth",
    "QuietHours",
    "RoutingRule",
    "Schedule",
    "ScheduleLayer",
    "ScheduleOverride",
    "Service",
    "ServiceDependency",
    "ShiftSwap",
    "SlackMessage",
    "Team",
    "TeamMembership",
    "User",
    "UserSession",
    "VapidKey",
    "metadata",
]
