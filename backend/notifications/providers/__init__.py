"""Providers by channel, chosen from settings (``ONCALL_NOTIFICATIONS__EMAIL_PROVIDER`` …)."""

from __future__ import annotations

from backend.core.errors import PermanentError
from backend.core.settings import NotificationSettings
from backend.notifications.providers.base import OutgoingMessage, Provider, ProviderResult
from backend.notifications.providers.outbox import OutboxProvider
from backend.notifications.providers.ses_email import SesEmailProvider
from backend.notifications.providers.slack import SlackProvider
from backend.notifications.providers.smtp import SmtpProvider
from backend.notifications.providers.sns_push import SnsPushProvider
from backend.notifications.providers.sns_sms import SnsSmsProvider
from backend.notifications.providers.teams import TeamsProvider
from backend.notifications.providers.twilio_sms import TwilioSmsProvider
from backend.notifications.providers.twilio_voice import TwilioVoiceProvider
from backend.notifications.providers.web_push import WebPushProvider

__all__ = ["OutgoingMessage", "Provider", "ProviderResult", "provider_for", "provider_named"]

# Which providers each channel may use (the outbox takes every channel).
SUPPORTED: dict[str, tuple[str, ...]] = {
    "email": ("outbox", "smtp", "ses"),
    "sms": ("outbox", "twilio", "sns"),
    "voice": ("outbox", "twilio"),
    "push": ("outbox", "sns"),
    "slack": ("outbox", "slack"),
    "teams": ("outbox", "teams"),
    "web_push": ("outbox", "webpush"),
}


def provider_for(channel: str, settings: NotificationSettings) -> Provider:
    """The configured provider of ``channel``.

    Raises:
        PermanentError: the configured provider does not exist for that channel.
    """
    return provider_named(
        str(getattr(settings, f"{channel}_provider", "outbox")), channel, settings
    )


def provider_named(name: str, channel: str, settings: NotificationSettings) -> Provider:
    """The provider ``name`` for ``channel``.

    Raises:
        PermanentError: no such provider for that channel.
    """
    if name not in SUPPORTED.get(channel, ()):
        raise PermanentError(f"No provider '{name}' for {channel} notifications.")
    if name == "smtp":
        return SmtpProvider(settings)
    if name == "twilio":
        return TwilioVoiceProvider(settings) if channel == "voice" else TwilioSmsProvider(settings)
    if name == "sns":
        return SnsPushProvider(settings) if channel == "push" else SnsSmsProvider(settings)
    if name == "ses":
        return SesEmailProvider(settings)
    if name == "slack":
        return SlackProvider(settings)
    if name == "teams":
        return TeamsProvider(settings)
    if name == "webpush":
        return WebPushProvider(settings)
    return OutboxProvider()
