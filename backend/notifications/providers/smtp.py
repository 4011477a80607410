"""E-mail over SMTP (smtplib), with STARTTLS and login when configured, and a timeout.

A 4xx reply, a refused connection or a timeout is retryable; a 5xx reply is not.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from backend.core.settings import NotificationSettings
from backend.notifications.providers.base import OutgoingMessage, ProviderResult


class SmtpProvider:
    name = "smtp"

    def __init__(self, settings: NotificationSettings) -> None:
        self._s = settings

    def _build(self, message: OutgoingMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._s.email_from
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(domain="oncall")
        email.set_content(message.body)
        if message.html:
            email.add_alternative(message.html, subtype="html")
        return email

    def send(self, message: OutgoingMessage) -> ProviderResult:
        s = self._s
        email = self._build(message)
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            retryable = any(400 <= code < 500 for code in codes)
            return ProviderResult.failure(f"recipient refused ({codes})", retryable=retryable)
        except smtplib.SMTPResponseException as exc:
            return ProviderResult.failure(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:200],
                retryable=400 <= exc.smtp_code < 500,
            )
        except (OSError, smtplib.SMTPException) as exc:  # timeouts, refused connections
            return ProviderResult.failure(f"{type(exc).__name__}: {exc}"[:200], retryable=True)
        return ProviderResult(
            ok=True, status="sent", summary="accepted by SMTP", provider_id=email["Message-ID"]
        )
