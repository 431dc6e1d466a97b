"""Settings from the environment (12-factor), with structured extras from `baton.toml` (SPEC §1).

`bot.config` validates both (pydantic); this module turns them into the one frozen `Settings` the
whole code base reads. A bad value stops `load_settings` with a one-line `ConfigError`.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from bot import config
from bot.config import (  # noqa: F401  (re-exported: the names the code base already imports from here)
    DEFAULT_DISPOSITIONS,
    DEFAULT_QUEUE,
    DEFAULT_TOPIC_PHRASES,
    Card,
    ConfigError,
    QueueRoute,
    Webchat,
)

PLATFORMS = ("slack", "teams")


def _frozen_roles(roles: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    return MappingProxyType({name: MappingProxyType({k: tuple(v) for k, v in values.items()}) for name, values in roles.items()})


# Which card sections and fields each role sees, and which guarded actions it may take (SPEC 5 Roles).
DEFAULT_ROLES: Mapping[str, Mapping[str, tuple[str, ...]]] = _frozen_roles(config.DEFAULT_ROLE_VALUES)


@dataclass(frozen=True)
class Timers:
    reminder_minutes: float = 5
    escalate_minutes: float = 15
    auto_wrapup_minutes: float = 30
    retention_days: int = 730


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite://baton.sqlite3"
    host: str = "127.0.0.1"
    port: int = 3978
    public_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_token: str | None = field(default=None, repr=False)
    max_body_bytes: int = 1024 * 1024
    link_secret: str | None = field(default=None, repr=False)  # signs links to agents' files for customers
    file_link_hours: float = 168
    # How long the browser session a customer-page link opens lasts (the link itself works 15 minutes).
    page_session_minutes: float = 60
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto Baton believes (BATON_TRUSTED_PROXIES).
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_client_id: str | None = None
    slack_client_secret: str | None = field(default=None, repr=False)
    slack_api_url: str = "https://slack.com/api/"
    slack_channel: str | None = None

    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = field(default=None, repr=False)
    microsoft_app_type: str = "MultiTenant"
    microsoft_app_tenant_id: str | None = None
    teams_channel: str | None = None
    teams_dev: bool = False

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_api_url: str = "https://api.twilio.com"
    twilio_from: str | None = None  # the sender of replies when the customer's message names none
    twilio_messaging_service_sid: str | None = None
    smtp_url: str | None = field(default=None, repr=False)  # may hold a password
    email_from: str | None = None  # "Acme Support <support@acme.example>"
    mailgun_signing_key: str | None = field(default=None, repr=False)

    dispositions: tuple[tuple[str, str], ...] = DEFAULT_DISPOSITIONS
    topic_phrases: tuple[str, ...] = DEFAULT_TOPIC_PHRASES
    roles: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: DEFAULT_ROLES)
    # Agents (platform user ids) with a role other than `agent`: {"slack:U123": "admin"} or {"U123": "admin"}.
    role_assignments: Mapping[str, str] = field(default_factory=dict)
    # Queue -> its `[routing.<queue>]` table; DEFAULT_QUEUE ("*") holds `[routing.default]`.
    routing: Mapping[str, QueueRoute] = field(default_factory=dict)
    timers: Timers = field(default_factory=Timers)
    card: Card = field(default_factory=Card)
    webchat: Webchat = field(default_factory=Webchat)
    config_path: str | None = None  # the baton.toml read (BATON_CONFIG), if any
    # How often an idle outbox worker looks for work other processes queued.
    outbox_poll_seconds: float = 0.25

    # --- roles

    def _role(self, role: str) -> Mapping[str, Any]:
        """A role's settings; an unknown role gets what `agent` gets."""
        return self.roles.get(role) or self.roles.get("agent", {})

    def sections_for(self, role: str) -> frozenset[str]:
        """Card sections a role may see; an unknown role sees what `agent` sees."""
        return frozenset(self._role(role).get("sections", ()))

    def hidden_fields_for(self, role: str) -> frozenset[str]:
        """Values a role never sees (config.HIDDEN_FIELDS); an unknown role is kept from what `agent` is."""
        return frozenset(self._role(role).get("hidden_fields", ()))

    def permissions_for(self, role: str) -> frozenset[str]:
        """Guarded actions a role may take; an unknown role may take none."""
        return frozenset(self.roles.get(role, {}).get("may", ()))

    # --- routing (SPEC 5: `[routing.<queue>]`; `route here` overrides)

    def channel_for(self, target: str, queue: str | None, routed: Mapping[str, str] | None = None) -> str | None:
        """The channel of `queue`'s handoff threads on `target` ("slack" or "teams"), or None.

        `routed` holds what `route here` stored for this target: {queue or "*": channel}. The first
        that names a channel wins: the queue's `route here`, its `[routing.<queue>]`, `route here`
        without a queue, `[routing.default]`, then BATON_SLACK_CHANNEL / BATON_TEAMS_CHANNEL."""
        if target not in PLATFORMS:
            return None
        routed = routed or {}
        own = [queue] if queue and queue not in config.DEFAULT_QUEUE_NAMES else []
        for key in own + [DEFAULT_QUEUE]:
            for candidate in (routed.get(key), getattr(self.routing.get(key), target, None)):
                if candidate:
                    return candidate
        return self.slack_channel if target == "slack" else self.teams_channel

    def _route_value(self, queue: str | None, key: str) -> str | None:
        for name in ([queue] if queue else []) + [DEFAULT_QUEUE]:
            value = getattr(self.routing.get(name), key, None)
            if value:
                return value
        return None

    def notify_for(self, queue: str | None) -> str | None:
        """Who a reminder about `queue` mentions (a Slack user group id or a Teams tag); None: the channel."""
        return self._route_value(queue, "notify")

    def escalate_to_for(self, queue: str | None) -> str | None:
        """Where an escalation of `queue` goes (a supervisor channel or user group); None: its own thread."""
        return self._route_value(queue, "escalate_to")

    # --- surfaces

    @property
    def file_links_on(self) -> bool:
        """Agents' files reach customers as Baton links (the platforms' own URLs need a login).

        Its own secret, never the webhook secret: every integrator knows that one and could sign links."""
        return bool(self.public_url and self.link_secret)

    @property
    def customer_page_on(self) -> bool:
        """Cards offer *Open full profile*: the page's links are signed with the link secret (SPEC 4.4)."""
        return bool(self.public_url and self.link_secret)

    @property
    def handoff_auth_configured(self) -> bool:
        return bool(self.webhook_secret or self.webhook_token)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_signing_secret and (self.slack_bot_token or self.slack_client_id)) or bool(
            self.slack_app_token and self.slack_bot_token
        )

    @property
    def teams_enabled(self) -> bool:
        return bool(self.microsoft_app_id and self.microsoft_app_password) or self.teams_dev

    @property
    def sms_enabled(self) -> bool:
        """Twilio's webhook can be verified and replies sent (SPEC 3.6)."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def email_inbound_enabled(self) -> bool:
        """`/inbound/email` can authenticate its senders: signed raw messages or Basic with the token
        (the webhook secret or token), Mailgun's own signature (MAILGUN_SIGNING_KEY)."""
        return self.handoff_auth_configured or bool(self.mailgun_signing_key)

    @property
    def email_outbound_enabled(self) -> bool:
        """Replies can go out by SMTP from the support address."""
        return bool(self.smtp_url and self.email_from)

    @property
    def email_enabled(self) -> bool:
        """The email channel takes messages in; replies also need `email_outbound_enabled`."""
        return self.email_inbound_enabled

    @property
    def webchat_enabled(self) -> bool:
        return self.webchat.enabled


def settings_from(configuration: config.Configuration) -> Settings:
    env, toml = configuration.environment, configuration.toml
    values = {name: getattr(env, name) for name in config.Environment.model_fields if name != "config_path"}
    return Settings(
        **values,
        dispositions=tuple((d.code, d.text) for d in toml.dispositions),
        topic_phrases=tuple(toml.topics.phrases),
        roles=_frozen_roles(toml.effective_roles()),
        role_assignments=MappingProxyType(dict(toml.role_assignments)),
        routing=MappingProxyType(toml.effective_routing()),
        timers=Timers(
            reminder_minutes=toml.timers.reminder,
            escalate_minutes=toml.timers.escalate,
            auto_wrapup_minutes=toml.timers.auto_wrapup,
            retention_days=toml.timers.retention_days,
        ),
        card=toml.card,
        webchat=toml.webchat,
        config_path=configuration.path,
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: the process environment) and the `BATON_CONFIG` file.

    Raises `ConfigError` (a ValueError) whose text is the one line to show."""
    return settings_from(config.read(os.environ if environ is None else environ))
