"""Pure normalisation shared by every parser: severities, field aliases, timestamps, keys.

No I/O and no clock: callers pass ``received_at``. A parser turns a provider's payload into
:class:`NormalisedAlert` values with these helpers; the service stores them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from backend.incidents.models import Severity

MAX_TITLE = 500
MAX_SOURCE = 255
MAX_DEDUP_KEY = 255
MAX_DESCRIPTION = 20_000
MAX_LABELS = 64
MAX_LABEL_VALUE = 500
MAX_LINKS = 20


class EventAction(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class DeliveryKind(StrEnum):
    ALERTS = "alerts"
    # Known-but-ignored events (a Datadog "No Data", an SNS unsubscribe): logged, not stored.
    IGNORED = "ignored"
    SUBSCRIPTION_CONFIRMATION = "subscription_confirmation"


@dataclass(frozen=True)
class NormalisedAlert:
    title: str
    action: EventAction = EventAction.TRIGGER
    severity: Severity = Severity.MEDIUM
    description: str = ""
    source: str = ""
    dedup_key: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    occurred_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParseContext:
    received_at: datetime
    # The sender's signed X-OnCall-Timestamp, second to last in the timestamp fallback chain.
    header_time: datetime | None = None


@dataclass(frozen=True)
class ParsedDelivery:
    alerts: list[NormalisedAlert] = field(default_factory=list)
    kind: DeliveryKind = DeliveryKind.ALERTS
    # The provider's own id for this delivery (SNS MessageId, Datadog event id): retries
    # carry the same id, so it is the idempotency key when the caller sent none.
    delivery_id: str | None = None
    note: str = ""
    subscribe_url: str | None = None


# Severity words from every provider we parse, and the usual P1-P5 / SEV1-SEV5 scales.
_SEVERITY_WORDS: dict[str, Severity] = {
    **dict.fromkeys(
        ("critical", "crit", "fatal", "emergency", "emerg", "disaster", "page", "p1", "sev1"),
        Severity.CRITICAL,
    ),
    **dict.fromkeys(("high", "error", "err", "major", "severe", "p2", "sev2"), Severity.HIGH),
    **dict.fromkeys(
        ("medium", "warning", "warn", "moderate", "average", "p3", "sev3"), Severity.MEDIUM
    ),
    **dict.fromkeys(("low", "minor", "notice", "p4", "sev4"), Severity.LOW),
    **dict.fromkeys(
        ("info", "informational", "information", "debug", "ok", "success", "p5", "sev5"),
        Severity.INFO,
    ),
}


def normalise_severity(value: Any) -> Severity:
    """Map a provider's severity word to ours; anything unknown (or missing) is MEDIUM."""
    if not isinstance(value, str | int):
        return Severity.MEDIUM
    word = re.sub(r"[\s_\-]", "", str(value)).lower()
    if word.isdigit():
        word = f"sev{word}"
    return _SEVERITY_WORDS.get(word, Severity.MEDIUM)


_ALIAS_NOISE = re.compile(r"[_\-\s]")


# Cached: each alert's parser asks ``pick`` about a dozen names, and each ask keyed every field
# of the payload afresh (about 50 regex substitutions per alert, a fifth of the ingest thread's
# CPU). Field names repeat from one alert to the next; the bound keeps odd payloads from growing
# it without limit.
@functools.lru_cache(maxsize=4096)
def _alias_key(name: str) -> str:
    return _ALIAS_NOISE.sub("", name).lower()


def pick(data: Mapping[str, Any], *names: str) -> Any:
    """The first present, non-empty value among ``names``, matching snake/camel/kebab case."""
    index = {_alias_key(str(k)): v for k, v in data.items()}
    for name in names:
        value = index.get(_alias_key(name))
        if value not in (None, "", [], {}):
            return value
    return None


# NUL (PostgreSQL text refuses it) and lone surrogates (JSON's "\ud800" decodes to one; it
# cannot be encoded as UTF-8, so no database driver can send it).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def storable(value: str) -> str:
    """``value`` with the characters no database column can hold replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", value)


def text(value: Any, limit: int) -> str:
    """A string of at most ``limit`` characters from a scalar (other types become "")."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, str | int | float):
        return storable(str(value)).strip()[:limit]
    return ""


def labels_from(value: Any) -> dict[str, str]:
    """Labels from an object, or from Datadog-style ``["key:value", "flag"]`` tag lists."""
    pairs: Iterable[tuple[str, Any]]
    if isinstance(value, Mapping):
        pairs = value.items()
    elif isinstance(value, list):
        pairs = [(str(t).partition(":")[0], str(t).partition(":")[2]) for t in value]
    elif isinstance(value, str) and value:
        pairs = [
            (t.strip().partition(":")[0], t.strip().partition(":")[2]) for t in value.split(",")
        ]
    else:
        return {}
    labels: dict[str, str] = {}
    for key, raw in pairs:
        name = storable(str(key)).strip()[:128]
        if name and len(labels) < MAX_LABELS:
            value = raw if isinstance(raw, str) else json.dumps(raw, default=str)
            labels[name] = storable(value)[:MAX_LABEL_VALUE]
    return labels


def links_from(value: Any) -> list[dict[str, str]]:
    """Links as ``[{"href", "text"}]`` from URLs or ``{href|url, text|title|name}`` objects."""
    items = value if isinstance(value, list) else [value]
    links: list[dict[str, str]] = []
    for item in items:
        if isinstance(item, str) and item.startswith(("http://", "https://")):
            links.append({"href": storable(item)[:2000], "text": ""})
        elif isinstance(item, Mapping):
            href = pick(item, "href", "url", "link")
            if isinstance(href, str) and href.startswith(("http://", "https://")):
                label = text(pick(item, "text", "title", "name", "alt"), 200)
                links.append({"href": storable(href)[:2000], "text": label})
    return links[:MAX_LINKS]


_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from unix seconds or milliseconds, or an ISO 8601 string.

    Placeholders such as Alertmanager's ``0001-01-01T00:00:00Z`` and anything before 2000
    give None, so the next candidate of the fallback chain is used.
    """
    parsed: datetime | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value) / 1000 if value > 1e11 else float(value)
        try:
            parsed = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str) and value.strip():
        raw = value.strip()
        if re.fullmatch(r"\d+(\.\d+)?", raw):
            return parse_timestamp(float(raw))
        # Go writes nanoseconds; Python 3.11 accepts at most microseconds.
        raw = re.sub(r"(\.\d{6})\d+", r"\1", raw.replace("Z", "+00:00"))
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
    if parsed is None or parsed < _EARLIEST:
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 9999 with a negative offset is past datetime.max in UTC
        return None


def first_timestamp(
    candidates: Iterable[Any], *, received_at: datetime, max_future: timedelta = timedelta(days=1)
) -> datetime:
    """The timestamp fallback chain: the first candidate that parses and is not absurdly in
    the future, else the time we received the delivery."""
    for candidate in candidates:
        parsed = parse_timestamp(candidate)
        if parsed is not None and parsed <= received_at + max_future:
            return parsed
    return received_at


def digest(*parts: Any) -> str:
    """A stable hex digest of JSON-serialisable parts (dict keys sorted)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def dedup_key_for(given: Any, *, title: str, source: str, labels: Mapping[str, str]) -> str:
    """The caller's dedup key, or a fingerprint of what identifies the alert.

    Over-long keys are hashed rather than cut, so two long keys never collide by truncation.
    """
    key = text(given, 10_000)
    if key:
        return key if len(key) <= MAX_DEDUP_KEY else f"sha256:{digest(key)}"
    return f"fp:{digest(title, source, dict(labels))[:40]}"


def build_alert(
    *,
    title: Any,
    action: EventAction,
    severity: Any,
    description: Any,
    source: Any,
    dedup_key: Any,
    labels: dict[str, str],
    links: list[dict[str, str]],
    occurred_at: datetime,
    raw: Mapping[str, Any],
) -> NormalisedAlert:
    """Assemble a :class:`NormalisedAlert`, clipping every field to its column size."""
    clean_title = text(title, MAX_TITLE) or "(untitled alert)"
    clean_source = text(source, MAX_SOURCE)
    return NormalisedAlert(
        title=clean_title,
        action=action,
        severity=severity if isinstance(severity, Severity) else normalise_severity(severity),
        description=storable(description)[:MAX_DESCRIPTION] if isinstance(description, str) else "",
        source=clean_source,
        dedup_key=dedup_key_for(dedup_key, title=clean_title, source=clean_source, labels=labels),
        labels=labels,
        links=links,
        occurred_at=occurred_at,
        raw=dict(raw),
    )
