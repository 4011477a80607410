"""Dashboard metrics (INC-03): open now, MTTA and MTTR over a window, and a series to chart.

MTTA is the mean of (acknowledged_at - opened_at) over incidents *opened in the window* that
were acknowledged; MTTR the same with resolved_at. Incidents resolved without an
acknowledgement count towards MTTR only. Computed in Python over the window's rows (three
timestamps each), which keeps it identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import fmean

from sqlalchemy import func
from sqlmodel import col, select

from backend.core import clock
from backend.core.actor import Actor, require_authenticated
from backend.core.db import unit_of_work
from backend.core.errors import ValidationFailed
from backend.incidents.models import ACTIVE_STATUSES, Incident, IncidentStatus
from backend.incidents.schemas import IncidentMetrics, MetricsPoint

MAX_WINDOW = timedelta(days=93)
MAX_BUCKETS = 500


@dataclass
class _Bucket:
    opened: int = 0
    acked: list[float] = field(default_factory=list)
    resolved: list[float] = field(default_factory=list)


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 1) if values else None


def _check(start: datetime, end: datetime, bucket: timedelta) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed.field("start", "give a time zone offset", loc_prefix="query")
    if end <= start or end - start > MAX_WINDOW:
        raise ValidationFailed.field("end", "end after start, at most 93 days", loc_prefix="query")
    if bucket <= timedelta(0) or (end - start) / bucket > MAX_BUCKETS:
        raise ValidationFailed.field(
            "bucket_seconds", f"positive, at most {MAX_BUCKETS} buckets", loc_prefix="query"
        )


def incident_metrics(
    actor: Actor,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    bucket_seconds: int = 3600,
    service_ids: list[int] | None = None,
) -> IncidentMetrics:
    """Open count now, MTTA/MTTR over ``[start, end)`` (default: the last 24 hours) and one
    point per bucket for the charts.

    Raises:
        Unauthenticated, ValidationFailed (naive times, empty or > 93-day window, too many
        buckets).
    """
    require_authenticated(actor)
    # By default up to and including this instant (an incident opened "now" counts).
    end = end or clock.now() + timedelta(microseconds=1)
    if start is None:
        try:
            start = end - timedelta(days=1)
        except OverflowError as exc:  # end=0001-01-01…: the day before is out of range
            too_early = ValidationFailed.field("end", "after 0001-01-02", loc_prefix="query")
            raise too_early from exc
    bucket = timedelta(seconds=bucket_seconds)
    _check(start, end, bucket)
    scope = [col(Incident.service_id).in_(service_ids)] if service_ids else []
    with unit_of_work() as uow:
        counts = dict(
            uow.session.exec(
                select(Incident.status, func.count())
                .where(col(Incident.status).in_(ACTIVE_STATUSES), *scope)
                .group_by(col(Incident.status))
            ).all()
        )
        rows = uow.session.exec(
            select(Incident.opened_at, Incident.acknowledged_at, Incident.resolved_at).where(
                col(Incident.opened_at) >= start, col(Incident.opened_at) < end, *scope
            )
        ).all()
    buckets = [_Bucket() for _ in range(int((end - start) / bucket) + 1)]
    all_acked: list[float] = []
    all_resolved: list[float] = []
    for opened, acked, resolved in rows:
        b = buckets[int((opened - start) / bucket)]
        b.opened += 1
        if acked is not None:
            b.acked.append((acked - opened).total_seconds())
            all_acked.append(b.acked[-1])
        if resolved is not None:
            b.resolved.append((resolved - opened).total_seconds())
            all_resolved.append(b.resolved[-1])
    series = [
        MetricsPoint(
            start=start + index * bucket,
            opened=b.opened,
            acknowledged=len(b.acked),
            resolved=len(b.resolved),
            mtta_seconds=_mean(b.acked),
            mttr_seconds=_mean(b.resolved),
        )
        for index, b in enumerate(buckets)
        if start + index * bucket < end
    ]
    return IncidentMetrics(
        start=start,
        end=end,
        open_now=sum(counts.values()),
        unacknowledged_now=counts.get(IncidentStatus.OPEN, 0),
        opened=len(rows),
        mtta_seconds=_mean(all_acked),
        mttr_seconds=_mean(all_resolved),
        bucket_seconds=bucket_seconds,
        series=series,
    )
