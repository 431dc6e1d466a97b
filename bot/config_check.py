"""`baton config check`: the settings Baton runs with, every secret hidden.

The environment part reads like an env file; the `baton.toml` part is valid TOML with every key and
its effective value, so it can start a new file.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import tomli_w

from bot import config
from bot.settings import DEFAULT_QUEUE, Settings

HIDDEN = "********"
_SECRET_QUERY_KEYS = ("password", "pass", "secret", "token", "key")


def mask_url(url: str) -> str:
    """The URL with its password (in the user part or the query) replaced by asterisks."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hostinfo = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}:{HIDDEN}@{hostinfo}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, HIDDEN if any(s in k.lower() for s in _SECRET_QUERY_KEYS) else v) for k, v in pairs],
                          safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _env_value(name: str, value: Any) -> str:
    mark = config.env_mark(name)
    if mark == config.SECRET:
        return HIDDEN
    if mark == config.URL_WITH_PASSWORD:
        return mask_url(str(value))
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def environment_lines(settings: Settings) -> list[str]:
    lines = []
    for name, alias in config.env_names().items():
        if name == "config_path":
            value = settings.config_path
        else:
            value = getattr(settings, name)
        default = config.Environment.model_fields[name].default
        if value is None or value == ():
            lines.append(f"# {alias} is not set")
        elif value == default:
            lines.append(f"{alias}={_env_value(name, value)}  # default")
        else:
            lines.append(f"{alias}={_env_value(name, value)}")
    return lines


def surface_lines(settings: Settings) -> list[str]:
    def state(on: bool, off_hint: str) -> str:
        return "on" if on else f"off ({off_hint})"

    slack_mode = "Socket Mode" if settings.slack_app_token else ("OAuth" if settings.slack_client_id else "HTTP")
    return [
        f"# Slack: {state(settings.slack_enabled, 'SLACK_SIGNING_SECRET + SLACK_BOT_TOKEN, or SLACK_APP_TOKEN + SLACK_BOT_TOKEN')}"
        + (f", {slack_mode}" if settings.slack_enabled else ""),
        f"# Teams: {state(settings.teams_enabled, 'MicrosoftAppId + MicrosoftAppPassword')}"
        + (" (BATON_TEAMS_DEV: loopback only)" if settings.teams_dev else ""),
        f"# /handoff: {state(settings.handoff_auth_configured, 'BATON_WEBHOOK_SECRET or BATON_WEBHOOK_TOKEN')}",
        f"# web chat: {state(settings.webchat_enabled, '[webchat] enabled = false')}",
        f"# SMS: {state(settings.sms_enabled, 'TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN')}",
        f"# email in: {state(settings.email_inbound_enabled, 'BATON_WEBHOOK_SECRET, BATON_WEBHOOK_TOKEN or MAILGUN_SIGNING_KEY')}",
        f"# email replies: {state(settings.email_outbound_enabled, 'BATON_SMTP_URL + BATON_EMAIL_FROM')}",
        f"# file links for customers: {state(settings.file_links_on, 'BATON_PUBLIC_URL + BATON_LINK_SECRET')}",
    ]


def effective_toml(settings: Settings) -> dict[str, Any]:
    """Every baton.toml key with the value in force, in the file's own shape."""
    routing = {}
    for queue, route in settings.routing.items():
        values = {k: v for k, v in route.model_dump().items() if v is not None}
        routing["default" if queue == DEFAULT_QUEUE else queue] = values
    return {
        "dispositions": [{"code": code, "label": label} for code, label in settings.dispositions],
        "topics": {"phrases": list(settings.topic_phrases)},
        "timers": {
            "reminder": settings.timers.reminder_minutes,
            "escalate": settings.timers.escalate_minutes,
            "auto_wrapup": settings.timers.auto_wrapup_minutes,
            "retention_days": settings.timers.retention_days,
        },
        "roles": {
            name: {key: list(values.get(key, ())) for key in ("sections", "hidden_fields", "may")}
            for name, values in settings.roles.items()
        },
        "role_assignments": dict(settings.role_assignments),
        "routing": routing,
        "card": {"glance": list(settings.card.glance), "sections": list(settings.card.sections)},
        "webchat": {
            "enabled": settings.webchat.enabled,
            "title": settings.webchat.title,
            "csat": settings.webchat.csat,
            "allowed_origins": list(settings.webchat.allowed_origins),
            "prechat": [q.model_dump(exclude_none=True) for q in settings.webchat.prechat],
        },
    }


def render(settings: Settings) -> str:
    source = settings.config_path or "none (BATON_CONFIG is not set): the defaults"
    parts = [
        "# baton config check: the settings Baton runs with (secrets hidden)",
        "",
        "# --- environment",
        *environment_lines(settings),
        "",
        "# --- surfaces",
        *surface_lines(settings),
        "",
        f"# --- baton.toml: {source}; every key, defaults filled in",
        tomli_w.dumps(effective_toml(settings)).rstrip(),
    ]
    return "\n".join(parts) + "\n"
