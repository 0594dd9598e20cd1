"""`GET /metrics` of `syndicate serve`, in the Prometheus text format (prometheus_client).

Everything is read at scrape time: the deliveries this server answered (by
host and result), its connections and unverified bodies, the connections it
closed (by reason: timeouts, evictions, refusals), and from the ledger, which every server and worker share,
the pushes requested and synced, the pushes waiting, the queue's depth and
the (post, target) rows by target and state: the publish outcomes.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from syndicate.triggers.webhook.app import Service


class Collected(Collector):
    """One scrape of the service's counters and the ledger."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        service = self.service
        deliveries = CounterMetricFamily("syndicate_webhook_deliveries", "Deliveries answered, by host and result",
                                         labels=["host", "result"])
        for (host, result), n in sorted(service.counts.items()):
            deliveries.add_metric([host, result], n)
        yield deliveries
        yield from _defences(service)
        row = service.syncs.get(service.repo)
        requested = CounterMetricFamily("syndicate_sync_pushes", "Pushes accepted for syncing", labels=["repository"])
        synced = CounterMetricFamily("syndicate_sync_pushes_synced", "Pushes a finished sync covered",
                                     labels=["repository"])
        pending = GaugeMetricFamily("syndicate_sync_pending", "Pushes waiting for a sync", labels=["repository"])
        last = GaugeMetricFamily("syndicate_sync_last_timestamp_seconds", "When the last sync finished",
                                 labels=["repository"])
        failing = GaugeMetricFamily("syndicate_sync_failing", "1 when the last sync failed", labels=["repository"])
        if row is not None:
            requested.add_metric([service.repo], row.requested)
            synced.add_metric([service.repo], row.done)
            pending.add_metric([service.repo], row.requested - row.done)
            if row.synced_at is not None:
                last.add_metric([service.repo], row.synced_at.timestamp())
            failing.add_metric([service.repo], 1.0 if row.error else 0.0)
        yield from (requested, synced, pending, last, failing)
        depth = GaugeMetricFamily("syndicate_queue_depth", "Tasks waiting in the broker's queue")
        queued = _queue_depth(service)
        if queued is not None:
            depth.add_metric([], queued)
        yield depth
        outcomes = GaugeMetricFamily("syndicate_publish_rows", "(post, target) rows by target and state",
                                     labels=["target", "state"])
        for target, state, n in service.ledger.counts():
            outcomes.add_metric([target, state], n)
        yield outcomes


def _defences(service: Service) -> Iterator[Metric]:
    """The server's connections and unverified bodies now, and the connections it closed, by reason."""
    guard = service.guard
    for name, text, value in (
            ("syndicate_webhook_connections", "Connections open", len(guard.conns)),
            ("syndicate_webhook_connections_max", "Connections kept at most (the open-file limit less a reserve)",
             guard.max_connections),
            ("syndicate_webhook_unverified_bodies", "Bodies being read before their signature is checked",
             len(service.slots.held))):
        gauge = GaugeMetricFamily(name, text)
        gauge.add_metric([], value)
        yield gauge
    dropped = CounterMetricFamily("syndicate_webhook_dropped", "Connections the server closed, by reason",
                                  labels=["reason"])
    for reason, n in sorted(dict(guard.dropped).items()):
        dropped.add_metric([reason], n)
    yield dropped


def _queue_depth(service: Service) -> int | None:
    broker = service.config.broker
    if not broker or not broker.startswith("redis"):
        return None
    import redis

    try:
        depth: Any = redis.Redis.from_url(broker).llen(service.config.queue.name)
        return int(depth)
    except redis.RedisError:
        return None


def render(service: Service) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collected(service))
    return generate_latest(registry), CONTENT_TYPE_LATEST
