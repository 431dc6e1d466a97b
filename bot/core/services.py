"""What the core needs from the running app, built once by `create_app` and handed to every edge."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from bot.clock import Clock, utc_now
from bot.metrics import Metrics
from bot.settings import Settings


@dataclass
class Services:
    settings: Settings
    clock: Clock = utc_now
    # Delivery targets of this process (slack, teams, record, source): every card change queues work for each.
    targets: list[str] = field(default_factory=list)
    # Wakes the outbox worker after a commit that queued work, so the card moves within a second.
    wake: Callable[[], None] = lambda: None
    metrics: Metrics | None = None
    # Group commit for the webhook intakes (bot.core.intake.IntakeBatcher); None stores one by one.
    intake: Any = None
    # Platforms that can fetch an agent's shared file with their own credentials (`open_file`).
    file_sources: Mapping[str, Any] = field(default_factory=dict)
    # The ways back to customers (bot.delivery.source.CustomerChannel); each inbound channel's edge adds its own.
    customer_channels: list[Any] = field(default_factory=list)

    @property
    def thread_targets(self) -> list[str]:
        """The targets that hold handoff threads (everything but the customer-bound `source`)."""
        return [target for target in self.targets if target != "source"]
