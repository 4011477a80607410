"""``/api/v1/web-push``: what a browser needs to subscribe to browser push (NOTIF-01).

The VAPID public key is public by design (every subscribed browser holds it), so it is served
without authentication; the key pair is created on the first request if nothing needed it yet.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from backend.notifications import vapid
from backend.notifications.schemas import VapidPublicKeyOut

router = APIRouter(prefix="/api/v1/web-push", tags=["notifications"])


@router.get("/vapid-public-key")
async def vapid_public_key() -> VapidPublicKeyOut:
    """The installation's VAPID public key, as ``PushManager.subscribe`` takes it
    (``applicationServerKey``: urlsafe base64 of the uncompressed P-256 point)."""
    return VapidPublicKeyOut(public_key=await run_in_threadpool(vapid.public_key))
