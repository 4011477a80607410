"""Ingest hot path on PostgreSQL (ADR 0010): one function stores a delivery of one firing alert
in a single statement — delivery log row, idempotency claim, grouping (join or open), the
alert, the timeline lines and the escalation start — the same steps, in the same order and
with the same race handling, as the Python path (backend/ingest/persist.py, grouping.py,
backend/incidents/ingest_hooks.py, backend/escalation/engine.start) that SQLite still uses.
Nothing on SQLite.

Revision ID: 0009_ingest_hot_path
Revises: 0008_web_push
Create Date: 2026-12-03 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009_ingest_hot_path"
down_revision: str | Sequence[str] | None = "0008_web_push"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Returns one row per alert it reports: (delivery id, the earlier delivery's id when this one
# repeats it, alert id, outcome new|grouped|stale|repeated, incident id, dedup key, the
# escalation token armed for a new incident). A repeat of a delivery without alerts returns one
# row with a NULL alert id.
FUNCTION = r"""
CREATE OR REPLACE FUNCTION oncall_ingest_trigger(
    p_integration_id integer,
    p_received_at timestamptz,
    p_now timestamptz,
    p_headers json,
    p_remote_ip text,
    p_idempotency_key text,
    p_fingerprint text,
    p_body text,
    p_body_truncated boolean,
    p_claim_key text,
    p_claim_expires timestamptz,
    p_service_id integer,
    p_in_maintenance boolean,
    p_window_seconds integer,
    p_label text,
    p_token text,
    p_severity text,
    p_dedup_key text,
    p_title text,
    p_description text,
    p_source text,
    p_labels json,
    p_links json,
    p_raw json,
    p_occurred_at timestamptz
) RETURNS TABLE (
    r_delivery_id bigint,
    r_prior_id bigint,
    r_alert_id bigint,
    r_outcome text,
    r_incident_id integer,
    r_dedup_key text,
    r_token text
)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
    v_delivery bigint;
    v_claimed boolean := false;
    v_held_delivery bigint;
    v_held_expires timestamptz;
    v_alert bigint;
    v_incident integer;
    v_severity text;
    v_raise boolean;
    v_label text := left(p_label, 320);
    v_policy integer;
    v_policy_name text;
    v_repeat integer;
    v_why text;
    v_team integer;
    v_service_policy integer;
    v_is_triage boolean;
    v_levels json;
    v_level_count integer;
BEGIN
    -- persist._insert_delivery
    INSERT INTO ingest_delivery (integration_id, received_at, outcome, reason, detail,
        http_status, headers, remote_ip, idempotency_key, fingerprint, body, body_truncated,
        alert_count)
    VALUES (p_integration_id, p_received_at, 'accepted', '', '', 202, p_headers,
        left(p_remote_ip, 64), p_idempotency_key, p_fingerprint, p_body, p_body_truncated, 1)
    RETURNING id INTO v_delivery;

    -- persist._claim: claim the key; a held claim means a repeat; take over an expired one
    -- with a compare-and-set on the expiry read.
    FOR attempt IN 1..3 LOOP
        INSERT INTO ingest_idempotency (integration_id, key, delivery_id, expires_at)
        VALUES (p_integration_id, p_claim_key, v_delivery, p_claim_expires)
        ON CONFLICT (integration_id, key) DO NOTHING;
        IF FOUND THEN
            v_claimed := true;
            EXIT;
        END IF;
        SELECT c.delivery_id, c.expires_at INTO v_held_delivery, v_held_expires
        FROM ingest_idempotency c
        WHERE c.integration_id = p_integration_id AND c.key = p_claim_key;
        IF NOT FOUND THEN
            CONTINUE;  -- purged in between: claim again
        END IF;
        IF v_held_expires > p_received_at THEN
            UPDATE ingest_delivery d
            SET outcome = 'duplicate', reason = 'repeated',
                detail = left('repeat of delivery ' || v_held_delivery, 1000), alert_count = 0
            WHERE d.id = v_delivery;
            RETURN QUERY
                SELECT v_delivery, v_held_delivery, a.id, 'repeated'::text, a.incident_id,
                    a.dedup_key::text, NULL::text
                FROM alert a WHERE a.delivery_id = v_held_delivery ORDER BY a.id;
            IF NOT FOUND THEN
                RETURN QUERY SELECT v_delivery, v_held_delivery, NULL::bigint, 'repeated'::text,
                    NULL::integer, NULL::text, NULL::text;
            END IF;
            RETURN;
        END IF;
        UPDATE ingest_idempotency c SET delivery_id = v_delivery, expires_at = p_claim_expires
        WHERE c.integration_id = p_integration_id AND c.key = p_claim_key
            AND c.expires_at = v_held_expires;
        IF FOUND THEN
            v_claimed := true;
            EXIT;
        END IF;
    END LOOP;
    IF NOT v_claimed THEN
        RAISE EXCEPTION 'idempotency claim did not settle';
    END IF;

    -- grouping.trigger: join the active incident (alert first, incident row lock last) or
    -- open one through the unique partial index; a lost race re-reads the winner.
    FOR attempt IN 1..5 LOOP
        SELECT i.id, i.severity INTO v_incident, v_severity
        FROM incident i
        WHERE i.service_id = p_service_id AND i.dedup_key = p_dedup_key
            AND i.status IN ('OPEN', 'ACKNOWLEDGED');
        IF FOUND THEN
            IF v_alert IS NULL THEN
                INSERT INTO alert (integration_id, delivery_id, service_id, severity, dedup_key,
                    title, description, source, labels, links, raw, occurred_at, received_at,
                    kind, status, incident_id)
                VALUES (p_integration_id, v_delivery, p_service_id, p_severity, p_dedup_key,
                    p_title, p_description, p_source, p_labels, p_links, p_raw, p_occurred_at,
                    p_received_at, 'trigger', 'firing', v_incident)
                RETURNING id INTO v_alert;
            ELSE
                UPDATE alert a SET incident_id = v_incident WHERE a.id = v_alert;
            END IF;
            -- SEVERITY_RANK (backend/incidents/models.py); unknown severities rank 0.
            v_raise := (CASE p_severity WHEN 'CRITICAL' THEN 5 WHEN 'HIGH' THEN 4
                        WHEN 'MEDIUM' THEN 3 WHEN 'LOW' THEN 2 WHEN 'INFO' THEN 1 ELSE 0 END)
                     > (CASE v_severity WHEN 'CRITICAL' THEN 5 WHEN 'HIGH' THEN 4
                        WHEN 'MEDIUM' THEN 3 WHEN 'LOW' THEN 2 WHEN 'INFO' THEN 1 ELSE 0 END);
            UPDATE incident i
            SET alert_count = i.alert_count + 1, last_alert_at = p_received_at,
                severity = CASE WHEN v_raise THEN p_severity ELSE i.severity END
            WHERE i.id = v_incident AND i.status IN ('OPEN', 'ACKNOWLEDGED');
            IF FOUND THEN
                INSERT INTO incident_event (incident_id, at, kind, actor_label, summary, data)
                VALUES (v_incident, p_now, 'alert', v_label,
                    left('Alert grouped from ' || p_label || '.', 500),
                    json_build_object('alert_id', v_alert));
                RETURN QUERY SELECT v_delivery, NULL::bigint, v_alert, 'grouped'::text,
                    v_incident, p_dedup_key, NULL::text;
                RETURN;
            END IF;
            CONTINUE;  -- resolved in between: open a fresh one
        END IF;
        IF v_alert IS NULL AND EXISTS (
            SELECT 1 FROM alert a
            WHERE a.service_id = p_service_id AND a.dedup_key = p_dedup_key
                AND a.status = 'resolved' AND a.kind = 'resolve'
                AND a.received_at >= p_received_at - make_interval(secs => p_window_seconds)
                AND a.occurred_at >= p_occurred_at
            LIMIT 1
        ) THEN
            -- A newer resolve already arrived: store this firing event as stale.
            INSERT INTO alert (integration_id, delivery_id, service_id, severity, dedup_key,
                title, description, source, labels, links, raw, occurred_at, received_at,
                kind, status, resolved_at)
            VALUES (p_integration_id, v_delivery, p_service_id, p_severity, p_dedup_key,
                p_title, p_description, p_source, p_labels, p_links, p_raw, p_occurred_at,
                p_received_at, 'trigger', 'resolved', p_received_at)
            RETURNING id INTO v_alert;
            RETURN QUERY SELECT v_delivery, NULL::bigint, v_alert, 'stale'::text,
                NULL::integer, p_dedup_key, NULL::text;
            RETURN;
        END IF;
        INSERT INTO incident (title, severity, status, service_id, dedup_key, alert_count,
            in_maintenance, opened_at, last_alert_at, details, acknowledged_by, resolved_by,
            resolution_note, escalation_state, escalation_step)
        VALUES (p_title, p_severity, 'OPEN', p_service_id, p_dedup_key, 1, p_in_maintenance,
            p_received_at, p_received_at, '{}', '', '', '', 'none', 0)
        ON CONFLICT (service_id, dedup_key) WHERE status IN ('OPEN', 'ACKNOWLEDGED')
        DO NOTHING
        RETURNING id INTO v_incident;
        IF NOT FOUND THEN
            CONTINUE;  -- another transaction opened it first: join theirs
        END IF;
        IF v_alert IS NULL THEN
            INSERT INTO alert (integration_id, delivery_id, service_id, severity, dedup_key,
                title, description, source, labels, links, raw, occurred_at, received_at,
                kind, status, incident_id)
            VALUES (p_integration_id, v_delivery, p_service_id, p_severity, p_dedup_key,
                p_title, p_description, p_source, p_labels, p_links, p_raw, p_occurred_at,
                p_received_at, 'trigger', 'firing', v_incident)
            RETURNING id INTO v_alert;
        ELSE
            UPDATE alert a SET incident_id = v_incident WHERE a.id = v_alert;
        END IF;

        -- incidents.ingest_hooks.after_grouping: the timeline lines of a new incident
        INSERT INTO incident_event (incident_id, at, kind, actor_label, summary, data)
        VALUES (v_incident, p_now, 'opened', v_label, left('Opened by ' || p_label || '.', 500),
                '{}'),
               (v_incident, p_now, 'alert', v_label,
                left('Opening alert from ' || p_label || '.', 500),
                json_build_object('alert_id', v_alert));

        -- escalation.engine.start (the incident is OPEN: it was opened just above)
        IF p_in_maintenance THEN
            INSERT INTO incident_event (incident_id, at, kind, actor_label, summary, data)
            VALUES (v_incident, p_now, 'not_escalated', v_label,
                'Opened during a maintenance window: nobody is paged.', '{}');
            RETURN QUERY SELECT v_delivery, NULL::bigint, v_alert, 'new'::text, v_incident,
                p_dedup_key, NULL::text;
            RETURN;
        END IF;
        -- escalation.targets.policy_for: the service's, its team's default, the triage
        -- service's (unless this is the triage service), else none.
        SELECT s.escalation_policy_id, s.team_id, s.is_triage
        INTO v_service_policy, v_team, v_is_triage
        FROM service s WHERE s.id = p_service_id;
        IF v_service_policy IS NOT NULL THEN
            SELECT p.id, p.name, p.repeat INTO v_policy, v_policy_name, v_repeat
            FROM escalation_policy p WHERE p.id = v_service_policy;
            v_why := 'the service''s policy';
        END IF;
        IF v_policy IS NULL AND v_team IS NOT NULL THEN
            SELECT p.id, p.name, p.repeat INTO v_policy, v_policy_name, v_repeat
            FROM escalation_policy p WHERE p.team_id = v_team AND p.is_default LIMIT 1;
            v_why := 'the team''s default policy';
        END IF;
        IF v_policy IS NULL AND NOT v_is_triage THEN
            SELECT p.id, p.name, p.repeat INTO v_policy, v_policy_name, v_repeat
            FROM service t JOIN escalation_policy p ON p.id = t.escalation_policy_id
            WHERE t.is_triage LIMIT 1;
            v_why := 'the triage service''s policy (no team policy applies)';
        END IF;
        IF v_policy IS NULL THEN
            INSERT INTO incident_event (incident_id, at, kind, actor_label, summary, data)
            VALUES (v_incident, p_now, 'not_escalated', v_label,
                'No escalation policy applies (service, team default or triage): nobody is paged.',
                '{}');
            RETURN QUERY SELECT v_delivery, NULL::bigint, v_alert, 'new'::text, v_incident,
                p_dedup_key, NULL::text;
            RETURN;
        END IF;
        -- escalation.policy.to_snapshot of targets.chain_of: levels in position order
        SELECT coalesce(json_agg(json_build_object(
                   'timeout_minutes', l.timeout_minutes,
                   'targets', (SELECT coalesce(json_agg(json_build_object(
                                   'type', t ->> 'type', 'id', (t ->> 'id')::integer)),
                                   '[]'::json)
                               FROM json_array_elements(l.targets) t))
               ORDER BY l.position), '[]'::json),
               count(*)
        INTO v_levels, v_level_count
        FROM escalation_level l WHERE l.policy_id = v_policy;
        UPDATE incident i
        SET escalation_policy_id = v_policy,
            escalation_snapshot = json_build_object('policy_id', v_policy,
                'policy_name', v_policy_name, 'repeat', v_repeat, 'levels', v_levels),
            escalation_state = 'active', escalation_token = p_token, escalation_step = 0,
            next_escalation_at = p_now
        WHERE i.id = v_incident AND i.status = 'OPEN';
        INSERT INTO incident_event (incident_id, at, kind, actor_label, summary, data)
        VALUES (v_incident, p_now, 'escalation_started', v_label,
            left('Escalating with ''' || v_policy_name || ''' (' || v_why || ').', 500),
            json_build_object('policy_id', v_policy, 'levels', v_level_count,
                'repeat', v_repeat));
        RETURN QUERY SELECT v_delivery, NULL::bigint, v_alert, 'new'::text, v_incident,
            p_dedup_key, p_token;
        RETURN;
    END LOOP;
    RAISE EXCEPTION 'incident grouping did not settle; the transaction is retried by the sender';
END
$fn$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS oncall_ingest_trigger(integer, timestamptz, timestamptz,"
            " json, text, text, text, text, boolean, text, timestamptz, integer, boolean,"
            " integer, text, text, text, text, text, text, text, json, json, json, timestamptz)"
        )
