"""Prometheus metrics, one registry per app (no module-level globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.handoffs = Counter(
            "baton_handoffs_total", "Handoffs received", ["source_format", "outcome"], registry=self.registry
        )
        self.deliveries = Counter(
            "baton_deliveries_total", "Outbox syncs by target and outcome", ["target", "outcome"], registry=self.registry
        )
        self.outbox_pending = Gauge(
            "baton_outbox_pending", "Conversations waiting for delivery", ["target"], registry=self.registry
        )
        self.outbox_dead = Gauge("baton_outbox_dead", "Outbox jobs that failed too often", registry=self.registry)
        self.request_seconds = Histogram(
            "baton_http_request_seconds", "HTTP request latency", ["route"], registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
