"""Settings from the environment (12-factor), with structured extras from `baton.toml` (SPEC §1)."""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

DEFAULT_DISPOSITIONS: tuple[tuple[str, str], ...] = (
    ("resolved", "Resolved"),
    ("follow_up", "Needs follow-up"),
    ("escalated", "Escalated to tier 2"),
    ("no_response", "Customer stopped responding"),
    ("duplicate", "Duplicate conversation"),
    ("timeout", "Timed out (automatic)"),
)

DEFAULT_TOPIC_PHRASES: tuple[str, ...] = ("damaged", "refund", "late", "cancel", "broken")

# Which card sections each role sees, and which guarded actions it may take (SPEC 5 Roles).
DEFAULT_ROLES: Mapping[str, Mapping[str, Any]] = {
    "agent": {
        "sections": ["profile", "conversation", "issue", "recent_cases", "timeline", "sentiment", "engagement"],
        "may": [],
    },
    "supervisor": {
        "sections": ["profile", "conversation", "issue", "recent_cases", "timeline", "sentiment", "engagement"],
        "may": ["merge", "export", "lock"],
    },
    "admin": {
        "sections": ["profile", "conversation", "issue", "recent_cases", "timeline", "sentiment", "engagement"],
        "may": ["merge", "export", "lock", "anonymize"],
    },
}


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
    webhook_secret: str | None = None
    webhook_token: str | None = None
    max_body_bytes: int = 1024 * 1024
    link_secret: str | None = None  # signs links to agents' files for customers (BATON_LINK_SECRET)
    file_link_hours: float = 168

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_channel: str | None = None

    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = None
    microsoft_app_type: str = "MultiTenant"
    microsoft_app_tenant_id: str | None = None
    teams_channel: str | None = None
    teams_dev: bool = False

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    smtp_url: str | None = None
    email_from: str | None = None
    mailgun_signing_key: str | None = None

    dispositions: tuple[tuple[str, str], ...] = DEFAULT_DISPOSITIONS
    topic_phrases: tuple[str, ...] = DEFAULT_TOPIC_PHRASES
    roles: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: DEFAULT_ROLES)
    # Agents (platform user ids) with a role other than `agent`: {"U123": "admin"}.
    role_assignments: Mapping[str, str] = field(default_factory=dict)
    routing: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # {"slack": {"billing": "C1"}}
    timers: Timers = field(default_factory=Timers)
    # How often an idle outbox worker looks for work other processes queued.
    outbox_poll_seconds: float = 0.25

    def sections_for(self, role: str) -> frozenset[str]:
        """Card sections a role may see; an unknown role sees what `agent` sees."""
        return frozenset(self.roles.get(role, self.roles.get("agent", {})).get("sections", ()))

    @property
    def file_links_on(self) -> bool:
        """Agents' files reach customers as Baton links (the platforms' own URLs need a login).

        Its own secret, never the webhook secret: every integrator knows that one and could sign links."""
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


def _positive_hours(raw: str | None, name: str, *, default: float) -> float:
    if not raw:
        return default
    try:
        hours = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of hours, not {raw!r}") from None
    if not math.isfinite(hours) or hours <= 0:
        raise ValueError(f"{name} must be a positive, finite number of hours, not {raw!r}")
    return hours


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _load_toml(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    with Path(path).open("rb") as handle:
        return tomllib.load(handle)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: the process environment) and `BATON_CONFIG`."""
    env = os.environ if environ is None else environ
    structured = _load_toml(env.get("BATON_CONFIG"))

    dispositions = DEFAULT_DISPOSITIONS
    if "dispositions" in structured:
        dispositions = tuple((str(d["code"]), str(d.get("label", d["code"]))) for d in structured["dispositions"])
    timers_conf = structured.get("timers", {})

    return Settings(
        database_url=env.get("BATON_DATABASE_URL") or "sqlite://baton.sqlite3",
        host=env.get("BATON_HOST") or "127.0.0.1",
        port=int(env.get("BATON_PORT") or 3978),
        public_url=(env.get("BATON_PUBLIC_URL") or None),
        webhook_secret=env.get("BATON_WEBHOOK_SECRET") or None,
        webhook_token=env.get("BATON_WEBHOOK_TOKEN") or None,
        link_secret=env.get("BATON_LINK_SECRET") or None,
        file_link_hours=_positive_hours(env.get("BATON_FILE_LINK_HOURS"), "BATON_FILE_LINK_HOURS", default=168),
        slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=env.get("SLACK_APP_TOKEN") or None,
        slack_client_id=env.get("SLACK_CLIENT_ID") or None,
        slack_client_secret=env.get("SLACK_CLIENT_SECRET") or None,
        slack_api_url=env.get("SLACK_API_URL") or "https://slack.com/api/",
        slack_channel=env.get("BATON_SLACK_CHANNEL") or None,
        microsoft_app_id=env.get("MicrosoftAppId") or None,
        microsoft_app_password=env.get("MicrosoftAppPassword") or None,
        microsoft_app_type=env.get("MicrosoftAppType") or "MultiTenant",
        microsoft_app_tenant_id=env.get("MicrosoftAppTenantId") or None,
        teams_channel=env.get("BATON_TEAMS_CHANNEL") or None,
        teams_dev=_flag(env.get("BATON_TEAMS_DEV")),
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
        twilio_api_url=env.get("TWILIO_API_URL") or "https://api.twilio.com",
        twilio_from=env.get("TWILIO_FROM") or None,
        twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        smtp_url=env.get("BATON_SMTP_URL") or None,
        email_from=env.get("BATON_EMAIL_FROM") or None,
        mailgun_signing_key=env.get("MAILGUN_SIGNING_KEY") or None,
        dispositions=dispositions,
        topic_phrases=tuple(structured.get("topics", {}).get("phrases", DEFAULT_TOPIC_PHRASES)),
        roles=structured.get("roles", DEFAULT_ROLES),
        role_assignments=structured.get("role_assignments", {}),
        routing=structured.get("routing", {}),
        timers=Timers(
            reminder_minutes=float(timers_conf.get("reminder", Timers.reminder_minutes)),
            escalate_minutes=float(timers_conf.get("escalate", Timers.escalate_minutes)),
            auto_wrapup_minutes=float(timers_conf.get("auto_wrapup", Timers.auto_wrapup_minutes)),
            retention_days=int(timers_conf.get("retention_days", Timers.retention_days)),
        ),
    )
