"""Demo contact methods: every demo user can be reached on every channel, so a demo alert
shows an outbox message per channel (the embedded default delivers everything to the outbox).

They are created verified: nobody can receive the demo's codes. Real users verify each method.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from backend.core import clock
from backend.core.db import unit_of_work
from backend.notifications.models import ChannelKind, ContactMethod


def _addresses(email: str, n: int) -> dict[ChannelKind, str]:
    phone = f"+1555010{n:04d}"
    return {
        ChannelKind.EMAIL: email,
        ChannelKind.SMS: phone,
        ChannelKind.VOICE: phone,
        ChannelKind.PUSH: f"demo-device-{n}",
        ChannelKind.SLACK: f"U0DEMO{n:04d}",
    }


def ensure_contact_methods(user_ids: dict[str, int]) -> dict[str, list[str]]:
    """Create what is missing; returns each demo user's channels."""
    out: dict[str, list[str]] = {}
    with unit_of_work() as uow:
        for n, (email, user_id) in enumerate(sorted(user_ids.items()), start=1):
            have = {
                (m.kind, m.address)
                for m in uow.session.scalars(
                    select(ContactMethod).where(col(ContactMethod.user_id) == user_id)
                ).all()
            }
            for kind, address in _addresses(email, n).items():
                if (kind, address) not in have:
                    uow.session.add(
                        ContactMethod(
                            user_id=user_id,
                            kind=kind,
                            address=address,
                            label="demo",
                            verified_at=clock.now(),
                        )
                    )
            out[email] = [k.value for k in _addresses(email, n)]
    return out
