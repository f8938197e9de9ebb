"""Database gauges for Prometheus, read at scrape time, and the ``/metrics`` exposition.

Apart from :mod:`pipeline.metrics` (the process counters, which the stages import) because
these read the tables of several stages: delivery, issues, events and subscribers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.delivery.outbox import counts_by_status
from pipeline.delivery.sql_store import measure_health
from pipeline.events.send_health import event_figures
from pipeline.issues.models import Issue, IssueStatus
from subscribers.history import SubscriberChange
from subscribers.models import SubscriberStatus
from subscribers.service import count_by_status

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class DatabaseCollector(Collector):
    """Reads the current issue's progress and the list's changes at scrape time."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("pulse_database_up", "The database answered this scrape.")
        try:
            with self.sessions() as session:
                families = list(_database_families(session))
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def _database_families(session: Session) -> Iterator[Any]:
    subscribers = GaugeMetricFamily(
        "pulse_subscribers", "Subscribers by status.", labels=["status"]
    )
    for status, count in sorted(count_by_status(session).items()):
        subscribers.add_metric([status.value], count)
    yield subscribers

    changes = session.execute(
        select(
            SubscriberChange.from_status,
            SubscriberChange.to_status,
            SubscriberChange.cause,
            func.count(),
        ).group_by(SubscriberChange.from_status, SubscriberChange.to_status, SubscriberChange.cause)
    ).all()
    signups = CounterMetricFamily("pulse_signups", "Subscribers who joined.", labels=["cause"])
    confirmations = CounterMetricFamily(
        "pulse_confirmations", "Double opt-in confirmations.", labels=["cause"]
    )
    unsubscribes = CounterMetricFamily(
        "pulse_unsubscribes", "Subscribers who left (any path).", labels=["cause"]
    )
    totals: dict[str, dict[str, int]] = {"signup": {}, "confirm": {}, "unsubscribe": {}}
    for from_status, to_status, cause, count in changes:
        if from_status is None:
            kind = "signup"
        elif to_status is SubscriberStatus.ACTIVE and from_status is SubscriberStatus.PENDING:
            kind = "confirm"
        elif to_status is SubscriberStatus.UNSUBSCRIBED:
            kind = "unsubscribe"
        else:
            continue
        totals[kind][cause] = totals[kind].get(cause, 0) + int(count)
    for family, kind in (
        (signups, "signup"),
        (confirmations, "confirm"),
        (unsubscribes, "unsubscribe"),
    ):
        for cause, count in sorted(totals[kind].items()):
            family.add_metric([cause], count)
        yield family

    issue = session.scalar(select(Issue).order_by(Issue.number.desc()).limit(1))
    if issue is None:
        return
    week = [issue.week_key]
    state = GaugeMetricFamily(
        "pulse_issue_state",
        "The current issue's state (1 for its state).",
        labels=["week", "state"],
    )
    for candidate in IssueStatus:
        state.add_metric([issue.week_key, candidate.value], int(issue.status is candidate))
    yield state
    paused = GaugeMetricFamily(
        "pulse_issue_send_paused", "1 while the send is paused.", labels=["week"]
    )
    paused.add_metric(week, int(issue.status is IssueStatus.PAUSED))
    yield paused
    counts = counts_by_status(session, issue.id)
    deliveries = GaugeMetricFamily(
        "pulse_issue_deliveries",
        "The current issue's deliveries by state.",
        labels=["week", "status"],
    )
    for delivery_status, count in sorted(counts.items()):
        deliveries.add_metric([issue.week_key, delivery_status.value], count)
    yield deliveries
    total = sum(counts.values())
    done = sum(
        count for key, count in counts.items() if key.value in ("sent", "failed", "skipped")
    )
    progress = GaugeMetricFamily(
        "pulse_issue_progress_ratio",
        "Share of the current issue's deliveries finished.",
        labels=["week"],
    )
    progress.add_metric(week, done / total if total else 0.0)
    yield progress
    health = measure_health(session, issue.id, event_figures)
    bounce = GaugeMetricFamily(
        "pulse_issue_hard_bounce_ratio",
        "Hard bounces per message sent, current issue.",
        labels=["week"],
    )
    bounce.add_metric(week, health.hard_bounces / health.sent if health.sent else 0.0)
    yield bounce
    complaint = GaugeMetricFamily(
        "pulse_issue_complaint_ratio",
        "Complaints per message sent, current issue.",
        labels=["week"],
    )
    complaint.add_metric(week, health.complaints / health.sent if health.sent else 0.0)
    yield complaint


class _Everything(Collector):
    """The process counters and the database gauges as one registry."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.database = DatabaseCollector(sessions)

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()  # the process counters of pipeline.metrics
        yield from self.database.collect()


def registry_for(sessions: sessionmaker[Session]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Everything(sessions))
    return registry


def exposition(sessions: sessionmaker[Session]) -> bytes:
    """The text exposition of every metric, for ``GET /metrics``."""
    return generate_latest(registry_for(sessions))


def serve_metrics(port: int, host: str, sessions: sessionmaker[Session]) -> int:
    """``--metrics-port``: serve ``/metrics`` from a background thread; returns the port."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=registry_for(sessions))
    return int(server.server_port)
