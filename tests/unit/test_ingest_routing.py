"""Routing: integration → service, label rules in order, triage for the rest (SVC-03)."""

from __future__ import annotations

from backend.ingest.routing import Matcher, MatchOp, Rule, matches, route

TRIAGE = 99


def rule(
    rule_id: int, position: int, target: int, *matchers: Matcher, integration: int | None = None
) -> Rule:
    return Rule(
        id=rule_id,
        position=position,
        target_service_id=target,
        matchers=matchers,
        integration_id=integration,
    )


def test_integration_service_when_no_rule_matches() -> None:
    rules = [rule(1, 1, 5, Matcher("team", MatchOp.EQ, "payments"))]
    assert (
        route(
            integration_id=1,
            integration_service_id=2,
            labels={"team": "x"},
            rules=rules,
            triage_service_id=TRIAGE,
        )
        == 2
    )


def test_first_matching_rule_by_position_wins() -> None:
    rules = [
        rule(1, 20, 6, Matcher("team", MatchOp.RE, "pay.*")),
        rule(2, 10, 5, Matcher("team", MatchOp.EQ, "payments"), Matcher("env", MatchOp.NE, "dev")),
    ]
    labels = {"team": "payments", "env": "prod"}
    assert (
        route(
            integration_id=1,
            integration_service_id=2,
            labels=labels,
            rules=rules,
            triage_service_id=TRIAGE,
        )
        == 5
    )
    labels["env"] = "dev"
    assert (
        route(
            integration_id=1,
            integration_service_id=2,
            labels=labels,
            rules=rules,
            triage_service_id=TRIAGE,
        )
        == 6
    )


def test_rules_of_other_integrations_do_not_apply() -> None:
    rules = [rule(1, 1, 5, Matcher("a", MatchOp.EQ, "1"), integration=7)]
    assert (
        route(
            integration_id=1,
            integration_service_id=2,
            labels={"a": "1"},
            rules=rules,
            triage_service_id=TRIAGE,
        )
        == 2
    )
    assert (
        route(
            integration_id=7,
            integration_service_id=2,
            labels={"a": "1"},
            rules=rules,
            triage_service_id=TRIAGE,
        )
        == 5
    )


def test_unroutable_goes_to_triage() -> None:
    assert (
        route(
            integration_id=1,
            integration_service_id=None,
            labels={},
            rules=[],
            triage_service_id=TRIAGE,
        )
        == TRIAGE
    )


def test_matcher_semantics() -> None:
    assert matches(Matcher("missing", MatchOp.EQ, ""), {})
    assert matches(Matcher("a", MatchOp.RE, "b|c"), {"a": "c"})
    assert not matches(Matcher("a", MatchOp.RE, "b"), {"a": "abc"})  # anchored
    assert matches(Matcher("a", MatchOp.NRE, "b"), {"a": "abc"})
    assert not matches(Matcher("a", MatchOp.RE, "("), {"a": "("})  # invalid regex never matches
