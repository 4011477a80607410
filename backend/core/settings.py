"""Typed settings, read from the environment (prefix ``ONCALL_``, nested with ``__``).

Nothing reads the environment at import time: call :func:`get_settings`. Tests clear the
cache through a fixture instead of mutating ``os.environ`` globally.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path("data")


class DatabaseSettings(BaseModel):
    # The embedded default: one SQLite file under ./data/ (WAL mode, see core/db.py).
    url: str = f"sqlite:///{DATA_DIR / 'oncall.db'}"
    echo: bool = False
    pool_size: int = 10


class RedisSettings(BaseModel):
    # Empty means embedded: stub broker with in-process workers, in-process event bus.
    url: str = ""
    # Separate logical databases keep the Reflex state, the broker and pub/sub apart.
    broker_db: int = 1
    events_channel: str = "oncall:events"

    # Reflex's state manager keeps its keys in this logical database.
    reflex_state_db: int = 0

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def url_for_db(self, db: int) -> str:
        """The configured server's URL with its database replaced by ``db``."""
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


class AuthSettings(BaseModel):
    session_cookie: str = "oncall_session"
    session_ttl_hours: int = 12
    # Activity in the last part of a session's life extends it (sliding sessions).
    session_slide_when_left_minutes: int = 60
    cookie_secure: bool = True
    # Secret for the IdP event hook (HMAC-SHA256). Empty disables the hook.
    idp_hook_secret: SecretStr = SecretStr("")
    break_glass_max_attempts: int = 5
    break_glass_attempt_window_minutes: int = 15
    break_glass_lockout_failures: int = 3
    break_glass_lockout_minutes: int = 5


class SSOSettings(BaseModel):
    issuer: str = ""
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    scopes: str = "openid email profile"
    display_name: str = "Single sign-on"

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id)


class ObservabilitySettings(BaseModel):
    log_json: bool = True
    log_level: str = "INFO"


class AuditSettings(BaseModel):
    retention_days: int = 400


class IngestSettings(BaseModel):
    # Bodies above this are refused with 413 before they are read to the end.
    max_body_bytes: int = 256 * 1024
    # How long a rotated-out integration secret keeps working.
    secret_grace_hours: int = 24
    # Replay window of the generic webhook's signed timestamp.
    max_timestamp_age_seconds: int = 300
    max_timestamp_skew_seconds: int = 60
    # Stored copy of each delivery's raw body (the delivery log); longer bodies are cut.
    stored_body_bytes: int = 64 * 1024
    # CloudWatch through SNS: check each message's SNS signature (certificates fetched only
    # from sns.<region>.amazonaws.com). The cert prefix lets tests serve their own from
    # 127.0.0.1; never set it on a real deployment.
    sns_verify_signatures: bool = True
    sns_test_cert_url_prefix: str = ""
    # Ingest commands at once per server process (worker threads); more requests wait for a
    # slot without holding anything. The firing-alert statements of the threads are committed
    # together (backend/core/group_commit.py), so a slot no longer holds a connection of its
    # own. Tuned on 2 cores with 2 server processes (docs/benchmarks.md): with group commit
    # 12 beat 6, 8, 16 and 24 (before it, 6 beat 10).
    concurrency: int = Field(default=12, ge=1, le=200)


class CalendarSettings(BaseModel):
    """One-way sync of on-call shifts into Google Calendar and Outlook (SCHED-06).

    A provider is offered only when its OAuth client id is set. The URLs default to the real
    services; tests point them at local servers.
    """

    google_client_id: str = ""
    google_client_secret: SecretStr = SecretStr("")
    google_auth_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105  # a URL
    google_api_url: str = "https://www.googleapis.com/calendar/v3"
    outlook_client_id: str = ""
    outlook_client_secret: SecretStr = SecretStr("")
    outlook_auth_url: str = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
    outlook_token_url: str = "https://login.microsoftonline.com/common/oauth2/v2.0/token"  # noqa: S105  # a URL
    outlook_api_url: str = "https://graph.microsoft.com/v1.0"
    # How far ahead shifts are pushed (every connection is re-synced hourly).
    sync_weeks: int = 4
    # Each provider call: timeout, then at most this many attempts with exponential backoff.
    timeout_seconds: float = 10.0
    max_attempts: int = 3
    backoff_seconds: float = 0.5


class EscalationSettings(BaseModel):
    """Escalation engine timing (ROUTE-02)."""

    # The sweeper re-sends a step this long past its due time (a lost or delayed message).
    sweep_grace_seconds: int = 10
    sweep_batch: int = 500
    # A next step due further ahead than this is not queued when its level fires: the sweep
    # (every 5 s) hands it to the queue once it is due within this horizon, with the delay
    # that is left. Dramatiq keeps delayed messages in its workers' memory (at most 1,000 per
    # worker thread); a storm's thousands of far-future steps filled that, and a due step then
    # waited in Redis behind them (docs/benchmarks.md). Must exceed the sweep period.
    handoff_seconds: int = 30
    # TESTS ONLY: how many seconds one policy "minute" lasts. Always 60 in production; the
    # durability tests set ONCALL_ESCALATION__MINUTE_SECONDS=2 so a 1-minute level times out
    # in 2 s with real workers. Never set it on a real deployment.
    minute_seconds: float = 60.0


class NotificationSettings(BaseModel):
    """Providers per channel and delivery timing (NOTIF-01/02). ``outbox`` stores messages in
    the database and shows them on a page: the embedded default, no credentials needed."""

    email_provider: str = "outbox"  # outbox | smtp | ses
    sms_provider: str = "outbox"  # outbox | twilio | sns
    voice_provider: str = "outbox"  # outbox | twilio (calls from twilio_from)
    push_provider: str = "outbox"  # outbox | sns (mobile push to platform endpoint ARNs)
    slack_provider: str = "outbox"
    teams_provider: str = "outbox"  # outbox | teams (Workflows webhook per contact method)
    web_push_provider: str = "outbox"  # outbox | webpush (pywebpush, VAPID keys persisted)
    # Tried when the primary fails retryably or its circuit breaker is open (empty: none).
    email_failover_provider: str = ""
    sms_failover_provider: str = ""
    # Circuit breaker per provider (NOTIF-04): open after this many consecutive failures,
    # half-open (one trial) this many seconds later.
    breaker_failures: int = 3
    breaker_open_seconds: float = 60.0
    # Every provider call gives up after this long (and counts as a retryable failure).
    timeout_seconds: float = 10.0
    max_attempts: int = 5
    # Retry n waits backoff_base_seconds * 2^(n-1): 30 s, 1, 2, 4 min by default.
    backoff_base_seconds: float = 30.0
    # A claimed delivery is leased for timeout_seconds + this margin (the time to record the
    # outcome); past the lease the sweeper hands it to another worker (a crashed one's).
    lease_margin_seconds: float = 60.0
    # The sweeper re-sends a notification this long past its due time (or its lease).
    sweep_grace_seconds: int = 30
    sweep_batch: int = 500
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    email_from: str = "OnCall <oncall@localhost>"
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_from: str = ""
    # Empty: Twilio's own API. Tests point it at a local server.
    twilio_base_url: str = ""
    # AWS SNS (SMS). Empty keys: boto3's usual chain (environment, instance role).
    sns_region: str = "us-east-1"
    sns_access_key_id: str = ""
    sns_secret_access_key: SecretStr = SecretStr("")
    # Empty: AWS itself. Tests point it at moto's server.
    sns_endpoint_url: str = ""
    # Amazon SES (e-mail; the sender is email_from, verified in SES). Same rules as SNS.
    ses_region: str = "us-east-1"
    ses_access_key_id: str = ""
    ses_secret_access_key: SecretStr = SecretStr("")
    ses_endpoint_url: str = ""
    # SES delivery receipts (docs/notifications.md): e-mails are sent with this configuration
    # set (its event destination: an SNS topic subscribed to /api/v1/webhooks/ses/events) and
    # only events from this topic are believed. Either empty: no receipts, e-mail stops at sent.
    ses_configuration_set: str = ""
    ses_events_topic_arn: str = ""
    # Slack app (NOTIF-01/05): the bot token (chat:write, users:read.email) and the signing
    # secret that verifies button clicks and slash commands. Empty base URL: Slack's own API.
    slack_bot_token: SecretStr = SecretStr("")
    slack_signing_secret: SecretStr = SecretStr("")
    slack_base_url: str = ""
    # Browser push (web push with VAPID, RFC 8030/8292). The key pair is generated once and
    # kept in the database (ADR 0009). The subject is the VAPID "sub" contact that push
    # services may write to (mailto: or https:); empty: mailto: with email_from's address.
    web_push_subject: str = ""
    # How long a push service keeps an undelivered page for an offline browser.
    web_push_ttl_seconds: int = 3600
    # Tests only: accept http://127.0.0.1 and http://localhost subscription endpoints.
    web_push_allow_insecure_endpoints: bool = False
    # Microsoft Teams Workflows webhooks (ADR 0008): a contact method's URL must be https to a
    # host under one of these suffixes (Microsoft's workflow hosts; add a sovereign cloud's).
    teams_webhook_hosts: list[str] = ["logic.azure.com", "powerplatform.com"]
    # Tests only: accept http://127.0.0.1 and http://localhost webhook URLs.
    teams_allow_insecure_urls: bool = False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ONCALL_", env_nested_delimiter="__", extra="ignore"
    )

    # The public origin of the app; CORS is limited to it and OIDC redirects are built on it.
    base_url: str = "http://localhost:3000"
    frontend_port: int = 3000
    backend_port: int = 8000
    # Worker threads for the embedded (stub) broker.
    embedded_worker_threads: int = 4
    docs_base_url: str = "https://oncall.example.org/docs"

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    sso: SSOSettings = Field(default_factory=SSOSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    # Fernet key (urlsafe base64 of 32 bytes) that encrypts stored secrets such as integration
    # signing secrets. Embedded (SQLite) mode generates one beside the database file when
    # empty; with PostgreSQL it must be set, identically on every machine.
    secret_key: SecretStr = SecretStr("")

    @property
    def embedded(self) -> bool:
        return not self.redis.enabled


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
