"""``/api/v1/users/{user_id}/…``: a user's contact methods, notification rules and quiet hours,
for machine clients (API keys): what a team moving from another paging tool scripts when it
imports its people (USER-03, USER-04).

The same services as the /notifications page, with the same checks: a method added here is
unverified and its owner is sent a code, as when they add it themselves, so a key cannot make
OnCall page an address nobody confirmed. ``users:read`` reads, ``users:write`` changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import api_key
from backend.apikeys.scopes import Scope
from backend.core.actor import Actor
from backend.identity import service as identity
from backend.notifications import personal
from backend.notifications import service as notifications
from backend.notifications.models import Urgency
from backend.notifications.schemas import (
    ContactMethodIn,
    ContactMethodOut,
    QuietHoursIn,
    RuleOut,
    RuleStepIn,
    VerificationCodeIn,
)

router = APIRouter(prefix="/api/v1/users/{user_id}", tags=["users"])
Reader = Annotated[Actor, Depends(api_key(Scope.USERS_READ))]
Writer = Annotated[Actor, Depends(api_key(Scope.USERS_WRITE))]
T = TypeVar("T")


def _of_existing_user(read: Callable[[Actor, int], T], actor: Actor, user_id: int) -> T:
    """``read(actor, user_id)``, but 404 for an unknown user (the services' reads would answer
    an empty list, the defaults or null)."""
    identity.get_user(actor, user_id)
    return read(actor, user_id)


@router.get("/contact-methods")
async def list_contact_methods(actor: Reader, user_id: int) -> list[ContactMethodOut]:
    """The user's contact methods (a Teams webhook shown as its host only)."""
    return await run_in_threadpool(
        _of_existing_user, notifications.list_contact_methods, actor, user_id
    )


@router.post("/contact-methods", status_code=201)
async def add_contact_method(
    actor: Writer, user_id: int, body: ContactMethodIn
) -> ContactMethodOut:
    """Add an unverified method; its verification code is sent to it. Pages use it once the
    code is entered (by its owner on /notifications, or ``…/verify``)."""
    return await run_in_threadpool(notifications.add_contact_method, actor, user_id, body)


@router.post("/contact-methods/{method_id}/verification")
async def resend_verification(actor: Writer, user_id: int, method_id: int) -> ContactMethodOut:
    """Send a fresh verification code (the previous one stops working)."""
    return await run_in_threadpool(
        lambda: notifications.resend_verification(actor, method_id, owner_id=user_id)
    )


@router.post("/contact-methods/{method_id}/verify")
async def verify_contact_method(
    actor: Writer, user_id: int, method_id: int, body: VerificationCodeIn
) -> ContactMethodOut:
    """Enter the code the method received (after too many wrong codes it must be sent again)."""
    return await run_in_threadpool(
        lambda: notifications.verify_contact_method(actor, method_id, body.code, owner_id=user_id)
    )


@router.delete("/contact-methods/{method_id}", status_code=204)
async def remove_contact_method(actor: Writer, user_id: int, method_id: int) -> Response:
    """Remove a method; its rules go with it and queued pages to it are skipped."""
    await run_in_threadpool(
        lambda: notifications.remove_contact_method(actor, method_id, owner_id=user_id)
    )
    return Response(status_code=204)


@router.get("/notification-rules")
async def list_rules(actor: Reader, user_id: int) -> list[RuleOut]:
    """The effective rules per urgency: the user's own, or the defaults (``id`` null)."""
    return await run_in_threadpool(_of_existing_user, notifications.list_rules, actor, user_id)


@router.put("/notification-rules/{urgency}")
async def set_rules(
    actor: Writer, user_id: int, urgency: Urgency, steps: list[RuleStepIn]
) -> list[RuleOut]:
    """Replace the rules of one urgency, in order; an empty list returns to the defaults."""
    rules = [step.for_urgency(urgency) for step in steps]
    return await run_in_threadpool(notifications.set_rules, actor, user_id, urgency, rules)


@router.get("/quiet-hours")
async def get_quiet_hours(actor: Reader, user_id: int) -> QuietHoursIn | None:
    """The low-urgency quiet hours in the user's time zone (HH:MM), or null."""
    return await run_in_threadpool(_of_existing_user, personal.my_quiet_hours, actor, user_id)


@router.put("/quiet-hours", status_code=204)
async def set_quiet_hours(actor: Writer, user_id: int, body: QuietHoursIn) -> Response:
    """Set the quiet hours (low-urgency pages wait until they end)."""
    await run_in_threadpool(notifications.set_quiet_hours, actor, user_id, body)
    return Response(status_code=204)


@router.delete("/quiet-hours", status_code=204)
async def clear_quiet_hours(actor: Writer, user_id: int) -> Response:
    """Clear the quiet hours."""
    await run_in_threadpool(notifications.set_quiet_hours, actor, user_id, None)
    return Response(status_code=204)
