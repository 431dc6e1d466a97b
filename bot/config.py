"""The typed model of Baton's configuration (SPEC §1): `baton.toml` and the environment.

pydantic checks both. A problem becomes ONE line naming the file (or `environment`), the table and
key, and what was expected, with a suggestion for a misspelt key or value:

    baton.toml: [roles.supervisor] unknown key 'sectons' (did you mean 'sections'?)

A table changes only what it names: every key has a default, and `[roles.<role>]` keeps the role's
defaults for the keys it leaves out. `bot.settings` turns the validated models into the frozen
`Settings` the rest of Baton reads; nothing else reads the TOML or the environment.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import re
import tomllib
import types
import typing
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Mapping, Sequence
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from bot.domain import GLANCE_ITEMS, SUMMARY_SECTIONS

# --------------------------------------------------------------------------- vocabularies

SECTIONS: tuple[str, ...] = SUMMARY_SECTIONS  # SPEC 4.1, in card order
# Values a role may be kept from seeing, wherever the summary shows them (bot.core.summary).
HIDDEN_FIELDS: tuple[str, ...] = ("email", "phone", "lifetime_value", "visitor_ip", "identities")
PERMISSIONS: tuple[str, ...] = ("merge", "export", "lock", "anonymize", "route", "audit", "transfer_any")
PRECHAT_FIELDS: tuple[str, ...] = ("name", "email", "phone")
BUILTIN_ROLES: tuple[str, ...] = ("agent", "supervisor", "admin")
DEFAULT_QUEUE = "*"  # the queue key of "every queue without its own" (the same key `route here` stores)
DEFAULT_QUEUE_NAMES = ("default", "*")

DEFAULT_DISPOSITIONS: tuple[tuple[str, str], ...] = (
    ("resolved", "Resolved"),
    ("follow_up", "Needs follow-up"),
    ("escalated", "Escalated to tier 2"),
    ("no_response", "Customer stopped responding"),
    ("duplicate", "Duplicate conversation"),
    ("timeout", "Timed out (automatic)"),
)
DEFAULT_TOPIC_PHRASES: tuple[str, ...] = ("damaged", "refund", "late", "cancel", "broken")

# SPEC 5 Roles. The whole channel sees a thread card, so it shows what `agent` may see.
DEFAULT_ROLE_VALUES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "agent": {"sections": SECTIONS, "hidden_fields": ("phone", "lifetime_value"), "may": ()},
    "supervisor": {"sections": SECTIONS, "hidden_fields": (), "may": ("merge", "export", "lock", "route", "audit")},
    "admin": {"sections": SECTIONS, "hidden_fields": (), "may": PERMISSIONS},
}
# A custom role starts from what the built-in `agent` role gets, and changes what its table names.
CUSTOM_ROLE_BASE = "agent"


# --------------------------------------------------------------------------- small validated types


def _problem(message: str, **context: Any) -> PydanticCustomError:
    """A validation error whose text is ours, word for word."""
    return PydanticCustomError("baton", "{message}", {"message": message, **context})


def _suggest(value: str, choices: Sequence[str], *, shape: str = "'{}'") -> str:
    """' (did you mean 'sections'?)' when one of `choices` is close to `value`, else ''."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {shape.format(close[0])}?)" if close else ""


def _one_of(kind: str, choices: Sequence[str]):
    def check(value: str) -> str:
        if value in choices:
            return value
        raise _problem(f"{_toml(value)} is not {kind}{_suggest(value, choices)}; expected one of: {', '.join(choices)}")

    return Annotated[str, AfterValidator(check)]


def _no_repeats(values: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise _problem(f"{_toml(value)} is listed twice")
        seen.add(value)
    return values


def _text(max_length: int):
    def check(value: str) -> str:
        value = value.strip()
        if not value:
            raise _problem("expected some text, got an empty string")
        if len(value) > max_length:
            raise _problem(f"expected at most {max_length} characters, got {len(value)}")
        return value

    return Annotated[str, AfterValidator(check)]


Section = _one_of("a card section", SECTIONS)
HiddenField = _one_of("a field that can be hidden", HIDDEN_FIELDS)
Permission = _one_of("a permission", PERMISSIONS)
GlanceItem = _one_of("a glance item", GLANCE_ITEMS)
PrechatField = _one_of("a customer field", PRECHAT_FIELDS)
Label = _text(200)
Phrase = _text(100)

SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
SLACK_USER_GROUP = re.compile(r"^S[A-Z0-9]{2,}$")


def _slack_channel(value: str) -> str:
    value = value.strip()
    if not SLACK_CHANNEL.match(value):
        raise _problem(f"expected a Slack channel id like \"C0123ABCD\" (channel details, bottom), got {_toml(value)}")
    return value


def _teams_channel(value: str) -> str:
    value = value.strip()
    if not value.startswith("19:") or len(value) < 5 or any(c.isspace() for c in value):
        raise _problem(f"expected a Teams channel id like \"19:…@thread.tacv2\" (Get link to channel), got {_toml(value)}")
    return value


def _audience(value: str) -> str:
    """Who a reminder mentions or an escalation reaches: a Slack channel or user group id, a Teams
    channel id or tag name."""
    value = value.strip()
    if not value:
        raise _problem("expected a Slack user group or channel id (S…, C…), a Teams channel id (19:…) or tag name")
    if value[0] in "@#":
        raise _problem(f"expected the id itself, not a mention: {_toml(value)} (a Slack user group id is S…)")
    return value


SlackChannel = Annotated[str, AfterValidator(_slack_channel)]
TeamsChannel = Annotated[str, AfterValidator(_teams_channel)]
Audience = Annotated[str, AfterValidator(_audience)]


def _origin(value: str) -> str:
    parts = urlsplit(value.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or port == -1
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise _problem(f"expected an origin like \"https://www.example.com\" (scheme://host[:port], no path), got {_toml(value)}")
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")


Origin = Annotated[str, AfterValidator(_origin)]

MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


def _media_type(value: str) -> str:
    value = value.strip().lower()
    if not MEDIA_TYPE.match(value) or "*" in value:
        raise _problem(f"expected a media type like \"image/png\", got {_toml(value)}")
    return value


MediaType = Annotated[str, AfterValidator(_media_type)]
DEFAULT_FILE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain")


# --------------------------------------------------------------------------- baton.toml


class Table(BaseModel):
    """A TOML table: its keys are exactly these (unknown ones are refused), values of TOML's own type."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _disposition_code(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,49}", value):
        raise _problem(f"expected a code of lower-case letters, digits, _ or - (at most 50), got {_toml(value)}")
    return value


class Disposition(Table):
    code: Annotated[str, AfterValidator(_disposition_code)] = Field(description="what agents type: `wrapup resolved`")
    label: Label | None = Field(None, description="what the form and the card show (default: the code)")

    @property
    def text(self) -> str:
        return self.label or self.code


class Topics(Table):
    phrases: Annotated[list[Phrase], AfterValidator(_no_repeats)] = Field(
        default_factory=lambda: list(DEFAULT_TOPIC_PHRASES),
        description="phrases whose share of the last interactions the card shows (SPEC 4.1 Sentiment and topics)",
    )


Minutes = Annotated[float, Field(gt=0, le=525_600, allow_inf_nan=False)]


class Timers(Table):
    reminder: Minutes = Field(5, description="minutes before an unclaimed handoff is re-announced")
    escalate: Minutes = Field(15, description="minutes before an unclaimed handoff is escalated")
    auto_wrapup: Minutes = Field(30, description="minutes a claimed conversation may stay idle before it is wrapped up with `timeout`")
    retention_days: Annotated[int, Field(gt=0, le=36_500)] = Field(
        730, description="days without any contact before a customer is anonymized"
    )

    @model_validator(mode="after")
    def _escalation_after_reminder(self) -> "Timers":
        if self.escalate <= self.reminder:
            raise _problem(
                f"escalate ({self.escalate:g} minutes) must come after reminder ({self.reminder:g} minutes)"
            )
        return self


class Role(Table):
    sections: Annotated[list[Section], AfterValidator(_no_repeats)] = Field(
        default_factory=lambda: list(SECTIONS), description="card sections the role sees"
    )
    hidden_fields: Annotated[list[HiddenField], AfterValidator(_no_repeats)] = Field(
        default_factory=list, description="values the role never sees, in any section"
    )
    may: Annotated[list[Permission], AfterValidator(_no_repeats)] = Field(
        default_factory=list, description="guarded actions the role may take"
    )


class QueueRoute(Table):
    slack: SlackChannel | None = Field(None, description="the Slack channel id of the queue's handoff threads")
    teams: TeamsChannel | None = Field(None, description="the Teams channel id of the queue's handoff threads")
    notify: Audience | None = Field(None, description="who a reminder mentions: a Slack user group id (S…) or a Teams tag")
    escalate_to: Audience | None = Field(None, description="where escalations go: a supervisor channel or user group")


class Card(Table):
    glance: Annotated[list[GlanceItem], AfterValidator(_no_repeats), Field(min_length=1)] = Field(
        default_factory=lambda: list(GLANCE_ITEMS), description="what the card's first view shows, in order"
    )
    sections: Annotated[list[Section], AfterValidator(_no_repeats)] = Field(
        default_factory=lambda: list(SECTIONS), description="the sections one click away, in order"
    )


class PrechatQuestion(Table):
    label: Label
    field: PrechatField | None = None
    required: bool = False
    choices: Annotated[list[Label], AfterValidator(_no_repeats)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _choices_fit_the_field(self) -> "PrechatQuestion":
        if self.choices and self.field in ("email", "phone"):
            raise _problem(f"choices cannot go with field = {_toml(self.field)}: the visitor types their own")
        return self


DEFAULT_PRECHAT: tuple[dict[str, Any], ...] = (
    {"label": "Your name", "field": "name", "required": True},
    {"label": "Your email", "field": "email", "required": True},
    {"label": "How can we help?", "required": True},
)


class Webchat(Table):
    enabled: bool = Field(True, description="serve /chat, /chat/widget.js and /inbound/webchat")
    title: Label = Field("Chat with us", description="the chat window's title")
    csat: bool = Field(True, description="ask the visitor for a 1–5 rating and a comment when the chat ends")
    allowed_origins: Annotated[list[Origin], AfterValidator(_no_repeats)] = Field(
        default_factory=list, description="sites that may embed the chat (scheme://host[:port]); none: only Baton's own page"
    )
    prechat: list[PrechatQuestion] = Field(
        default_factory=lambda: [PrechatQuestion(**q) for q in DEFAULT_PRECHAT],
        description="the pre-chat survey, in order",
    )
    file_types: Annotated[list[MediaType], AfterValidator(_no_repeats)] = Field(
        default_factory=lambda: list(DEFAULT_FILE_TYPES),
        description="the media types a visitor may upload (at most 10 MB each); empty: no uploads",
    )
    starts_per_minute: Annotated[int, Field(ge=1, le=10_000)] = Field(
        10, description="chats one IP address may start per minute (429 with Retry-After past it)"
    )
    messages_per_minute: Annotated[int, Field(ge=1, le=10_000)] = Field(
        60, description="messages and files one chat (and, five times that, one IP address) may send per minute"
    )

    @model_validator(mode="after")
    def _one_question_per_field(self) -> "Webchat":
        fields = [q.field for q in self.prechat if q.field]
        for name in fields:
            if fields.count(name) > 1:
                raise _problem(f"two prechat questions fill field = {_toml(name)}; keep one")
        return self


class BatonToml(Table):
    dispositions: list[Disposition] = Field(
        default_factory=lambda: [Disposition(code=c, label=label) for c, label in DEFAULT_DISPOSITIONS],
        description="wrap-up codes; `timeout` always exists for the auto wrap-up",
    )
    topics: Topics = Field(default_factory=Topics)
    timers: Timers = Field(default_factory=Timers)
    roles: dict[str, Role] = Field(default_factory=dict)
    role_assignments: dict[str, str] = Field(default_factory=dict)
    routing: dict[str, QueueRoute] = Field(default_factory=dict)
    card: Card = Field(default_factory=Card)
    webchat: Webchat = Field(default_factory=Webchat)

    @model_validator(mode="before")
    @classmethod
    def _old_routing_shape(cls, data: Any) -> Any:
        routing = data.get("routing") if isinstance(data, dict) else None
        if isinstance(routing, dict):
            for platform in ("slack", "teams"):
                table = routing.get(platform)
                if isinstance(table, dict) and table and not set(table) & set(QueueRoute.model_fields):
                    queue, channel = next(iter(table.items()))
                    raise _problem(
                        f"is the old shape of routing: write [routing.{_key(queue)}] {platform} = {json.dumps(channel)} "
                        f"(a table per queue; [routing.default] for every queue without its own)",
                        table=f"routing.{platform}",
                    )
        return data

    @model_validator(mode="after")
    def _consistent(self) -> "BatonToml":
        codes = [d.code for d in self.dispositions]
        for code in codes:
            if codes.count(code) > 1:
                raise _problem(f"code {_toml(code)} is listed twice", table="[[dispositions]]")
        for name in self.roles:
            if not re.fullmatch(r"[a-z][a-z0-9_-]{0,29}", name):
                raise _problem("a role name is lower-case letters, digits, _ or - (at most 30)", table=f"roles.{_key(name)}")
            if name not in BUILTIN_ROLES:
                close = difflib.get_close_matches(name, BUILTIN_ROLES, n=1, cutoff=0.8)
                if close:
                    raise _problem(
                        f"is not a role Baton knows (did you mean [roles.{close[0]}]?); "
                        "a custom role needs a name unlike the built-in agent, supervisor and admin",
                        table=f"roles.{_key(name)}",
                    )
        roles = set(BUILTIN_ROLES) | set(self.roles)
        for user, role in self.role_assignments.items():
            if not user.strip() or any(c.isspace() for c in user):
                raise _problem(f"{_key(user)} is not a user id (\"slack:U0123ABCD\", \"teams:29:…\" or the bare id)",
                               table="role_assignments")
            if role not in roles:
                raise _problem(
                    f"{_key(user)} = {_toml(role)}: no such role{_suggest(role, sorted(roles))}; "
                    f"roles: {', '.join(sorted(roles))}",
                    table="role_assignments",
                )
        if all(name in self.routing for name in DEFAULT_QUEUE_NAMES):
            raise _problem('has both [routing.default] and [routing."*"], which mean the same (every queue '
                           "without its own); keep one", table="routing")
        for queue in self.routing:
            if not queue.strip() or len(queue) > 100:
                raise _problem("a queue name is 1 to 100 characters", table=f"routing.{_key(queue)}")
        return self

    # -- what the rest of Baton reads

    def effective_roles(self) -> dict[str, dict[str, tuple[str, ...]]]:
        """Every role with every key: a role's table overrides only the keys it names."""
        roles = {name: dict(values) for name, values in DEFAULT_ROLE_VALUES.items()}
        for name, table in self.roles.items():
            values = roles.setdefault(name, dict(DEFAULT_ROLE_VALUES[CUSTOM_ROLE_BASE]))
            for key in table.model_fields_set:
                values[key] = tuple(getattr(table, key))
        return roles

    def effective_routing(self) -> dict[str, QueueRoute]:
        """Queue name -> its route; the default (`default` or `*`) under DEFAULT_QUEUE."""
        return {(DEFAULT_QUEUE if queue in DEFAULT_QUEUE_NAMES else queue): route for queue, route in self.routing.items()}


# --------------------------------------------------------------------------- the environment

SECRET = "secret"  # marks an environment variable whose value is never shown
URL_WITH_PASSWORD = "url-with-password"  # shown with the password masked


def _env(alias: str, default: Any = None, *, mark: str | None = None, description: str = ""):
    return Field(default, validation_alias=alias, description=description, repr=mark is None,
                 json_schema_extra={"mark": mark} if mark else None)


def _secret_hint(prefix: str, what: str):
    def check(value: str) -> str:
        if not value.startswith(prefix):
            raise _problem(f"expected {what} starting with {prefix} (the value is not shown)")
        return value

    return Annotated[str, AfterValidator(check)]


def _port(value: Any) -> int:
    try:
        port = int(str(value), 10)
    except ValueError:
        raise _problem(f"expected a port number from 1 to 65535, got {_toml(value)}") from None
    if not 1 <= port <= 65535:
        raise _problem(f"expected a port number from 1 to 65535, got {port}")
    return port


def _positive(unit: str):
    def check(value: Any) -> float:
        try:
            number = float(str(value))
        except ValueError:
            raise _problem(f"expected a number of {unit}, got {_toml(value)}") from None
        if not math.isfinite(number) or number <= 0:
            raise _problem(f"expected a positive, finite number of {unit}, got {_toml(value)}")
        return number

    return check


_positive_hours = _positive("hours")
_positive_minutes = _positive("minutes")


FLAG_WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word not in FLAG_WORDS:
        raise _problem(f"expected 1/true/yes/on or 0/false/no/off, got {_toml(value)}")
    return FLAG_WORDS[word]


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _problem(f"expected an http(s):// URL, got {_toml(value)}")
    return value


DATABASE_SCHEMES = ("sqlite", "postgres", "asyncpg", "psycopg")


def _database_url(value: str) -> str:
    scheme = value.partition("://")[0]
    if "://" not in value or scheme not in DATABASE_SCHEMES:
        raise _problem(f"expected sqlite://<file> or postgres://user@host:5432/db, got a URL starting {_toml(scheme + '://')}")
    if scheme != "sqlite" and not urlsplit(value).hostname:
        raise _problem("expected postgres://user@host:5432/db: the host is missing")
    return value


def _smtp_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise _problem("expected smtp://user:pass@host:587?starttls=true or smtps://user:pass@host:465")
    try:
        parts.port
    except ValueError:
        raise _problem("expected smtp://user:pass@host:587: the port is not a number") from None
    return value


def _email_from(value: str) -> str:
    name, address = parseaddr(value)
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise _problem(f"expected an address like \"Acme Support <support@acme.example>\", got {_toml(value)}")
    return value


def _sender(value: str) -> str:
    """An E.164 number or an alphanumeric sender id (Twilio: at most 11 characters, one letter)."""
    if re.fullmatch(r"\+[1-9]\d{6,14}", value):
        return value
    if re.fullmatch(r"[A-Za-z0-9 ]{1,11}", value) and re.search(r"[A-Za-z]", value):
        return value
    raise _problem(f"expected a number in E.164 like \"+14155550100\" or an alphanumeric sender id, got {_toml(value)}")


def _sid(prefix: str, what: str):
    def check(value: str) -> str:
        if not re.fullmatch(prefix + r"[0-9a-fA-F]{32}", value):
            raise _problem(f"expected {what} ({prefix} and 32 hex digits), got {_toml(value)}")
        return value

    return Annotated[str, AfterValidator(check)]


def _networks(value: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    if isinstance(value, tuple):
        return value
    networks = []
    for item in str(value).split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise _problem(f"expected IP addresses or networks separated by commas (10.0.0.5, 10.1.0.0/16), "
                           f"got {_toml(item)}") from None
    return tuple(networks)


def _app_type(value: str) -> str:
    kinds = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
    if value not in kinds:
        raise _problem(f"expected one of {', '.join(kinds)}, got {_toml(value)}{_suggest(value, kinds)}")
    return value


def _with(check):
    return Annotated[str, AfterValidator(check)]


class Environment(BaseModel):
    """Every environment variable Baton reads (SPEC §1). Unset or empty means the default."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    database_url: _with(_database_url) = _env("BATON_DATABASE_URL", "sqlite://baton.sqlite3", mark=URL_WITH_PASSWORD)
    host: str = _env("BATON_HOST", "127.0.0.1")
    port: Annotated[int, BeforeValidator(_port)] = _env("BATON_PORT", 3978)
    public_url: _with(_http_url) | None = _env("BATON_PUBLIC_URL")
    webhook_secret: str | None = _env("BATON_WEBHOOK_SECRET", mark=SECRET)
    webhook_token: str | None = _env("BATON_WEBHOOK_TOKEN", mark=SECRET)
    link_secret: str | None = _env("BATON_LINK_SECRET", mark=SECRET)
    file_link_hours: Annotated[float, BeforeValidator(_positive_hours)] = _env("BATON_FILE_LINK_HOURS", 168.0)
    page_session_minutes: Annotated[float, BeforeValidator(_positive_minutes)] = _env("BATON_PAGE_SESSION_MINUTES", 60.0)
    config_path: str | None = _env("BATON_CONFIG")

    slack_bot_token: _secret_hint("xox", "a Slack bot token (xoxb-…)") | None = _env("SLACK_BOT_TOKEN", mark=SECRET)
    slack_signing_secret: str | None = _env("SLACK_SIGNING_SECRET", mark=SECRET)
    slack_app_token: _secret_hint("xapp-", "an app-level token") | None = _env("SLACK_APP_TOKEN", mark=SECRET)
    slack_client_id: str | None = _env("SLACK_CLIENT_ID")
    slack_client_secret: str | None = _env("SLACK_CLIENT_SECRET", mark=SECRET)
    slack_api_url: _with(_http_url) = _env("SLACK_API_URL", "https://slack.com/api/")
    slack_channel: SlackChannel | None = _env("BATON_SLACK_CHANNEL")

    microsoft_app_id: str | None = _env("MicrosoftAppId")
    microsoft_app_password: str | None = _env("MicrosoftAppPassword", mark=SECRET)
    microsoft_app_type: _with(_app_type) = _env("MicrosoftAppType", "MultiTenant")
    microsoft_app_tenant_id: str | None = _env("MicrosoftAppTenantId")
    teams_channel: TeamsChannel | None = _env("BATON_TEAMS_CHANNEL")
    teams_dev: Annotated[bool, BeforeValidator(_flag)] = _env("BATON_TEAMS_DEV", False)

    twilio_account_sid: _sid("AC", "a Twilio account SID") | None = _env("TWILIO_ACCOUNT_SID")
    twilio_auth_token: str | None = _env("TWILIO_AUTH_TOKEN", mark=SECRET)
    twilio_api_url: _with(_http_url) = _env("TWILIO_API_URL", "https://api.twilio.com")
    twilio_from: _with(_sender) | None = _env("TWILIO_FROM")
    twilio_messaging_service_sid: _sid("MG", "a Twilio Messaging Service SID") | None = _env("TWILIO_MESSAGING_SERVICE_SID")

    smtp_url: _with(_smtp_url) | None = _env("BATON_SMTP_URL", mark=URL_WITH_PASSWORD)
    email_from: _with(_email_from) | None = _env("BATON_EMAIL_FROM")
    mailgun_signing_key: str | None = _env("MAILGUN_SIGNING_KEY", mark=SECRET)
    trusted_proxies: Annotated[tuple[Any, ...], BeforeValidator(_networks)] = _env("BATON_TRUSTED_PROXIES", ())

    @model_validator(mode="before")
    @classmethod
    def _unset_when_empty(cls, data: Any) -> Any:
        """12-factor: `X=` is the same as not setting X; surrounding spaces and newlines are dropped."""
        if not isinstance(data, Mapping):
            return data
        names = {field.validation_alias for field in cls.model_fields.values()}
        return {k: v.strip() for k, v in data.items() if k in names and isinstance(v, str) and v.strip()}


def env_names() -> dict[str, str]:
    """Settings attribute -> environment variable."""
    return {name: str(field.validation_alias) for name, field in Environment.model_fields.items()}


def env_mark(name: str) -> str | None:
    extra = Environment.model_fields[name].json_schema_extra
    return extra.get("mark") if isinstance(extra, dict) else None


# --------------------------------------------------------------------------- reading and one-line errors


class ConfigError(ValueError):
    """A configuration Baton refuses to start with; `str()` is the one line to show."""


@dataclass(frozen=True)
class Configuration:
    environment: Environment
    toml: BatonToml
    path: str | None


def read(environ: Mapping[str, str]) -> Configuration:
    """Validate the environment and the `baton.toml` it names; ConfigError on the first problem."""
    try:
        environment = Environment.model_validate(dict(environ))
    except ValidationError as error:
        raise ConfigError(_one_line("environment", error, Environment)) from None
    path = environment.config_path
    return Configuration(environment, read_toml(path) if path else BatonToml(), path)


def read_toml(path: str) -> BatonToml:
    try:
        with Path(path).open("rb") as handle:
            raw = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read it ({error.strerror or error}); BATON_CONFIG names it") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return parse_toml(raw, source=path)


def parse_toml(raw: Mapping[str, Any], *, source: str = "baton.toml") -> BatonToml:
    try:
        return BatonToml.model_validate(dict(raw))
    except ValidationError as error:
        raise ConfigError(_one_line(source, error, BatonToml)) from None


def _one_line(source: str, error: ValidationError, model: type[BaseModel]) -> str:
    # An unknown key first: it is usually the cause of the others (a misspelt key is also a missing one).
    problems = sorted(error.errors(include_url=False), key=lambda p: p["type"] != "extra_forbidden")
    line = f"{source}: {_describe(problems[0], model, env=model is Environment)}"
    if len(problems) > 1:
        line += f" (and {len(problems) - 1} more {'problem' if len(problems) == 2 else 'problems'})"
    return line


def _describe(problem: Mapping[str, Any], model: type[BaseModel], *, env: bool) -> str:
    loc = tuple(problem["loc"])
    kind = problem["type"]
    ctx = problem.get("ctx") or {}
    given = problem.get("input")
    if env:
        name = str(loc[0]) if loc else "environment"
        hidden = bool(loc) and _env_is_hidden(name)  # a secret's value never reaches a log or a terminal
        return f"{name}: {_expected(kind, ctx, None if hidden else given, problem['msg'])}"
    if kind == "baton" and "table" in ctx:  # a rule across keys, which names its own table
        table = ctx["table"]
        return f"{table if table.startswith('[') else '[' + table + ']'} {ctx['message']}"
    if loc and _is_table(model, loc):  # the table itself: a wrong type, or a rule between its keys
        return f"{_table_name(loc)} {_expected(kind, ctx, given, problem['msg'])}"
    *parents, last = loc or ("",)
    if parents and isinstance(last, int):  # an item of a list: name the key that holds the list
        last, parents = f"{_key(parents[-1])}[{last + 1}]", parents[:-1]
    else:
        last = _key(last)
    table = _table_name(parents)
    if kind == "extra_forbidden":
        allowed = _keys_at(model, parents)
        if not parents and isinstance(given, dict):
            return f"unknown table [{last}]{_suggest(str(loc[-1]), allowed, shape='[{}]')}"
        where = f"{table} " if parents else ""
        return f"{where}unknown key '{loc[-1]}'{_suggest(str(loc[-1]), allowed)}"
    if kind == "missing":
        return f"{table} missing key '{loc[-1]}'".lstrip()
    where = f"{table} {last}" if parents else last
    return f"{where}: {_expected(kind, ctx, given, problem['msg'])}"


def _env_is_hidden(alias: str) -> bool:
    for name, field in Environment.model_fields.items():
        if field.validation_alias == alias:
            return env_mark(name) in (SECRET, URL_WITH_PASSWORD)
    return False


def _expected(kind: str, ctx: Mapping[str, Any], given: Any, message: str) -> str:
    got = "" if given is None else f", got {_toml(given)}"
    if kind == "baton":
        return ctx["message"]
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", message))
    simple = {
        "string_type": "expected text in quotes",
        "int_type": "expected a whole number",
        "int_from_float": "expected a whole number",
        "int_parsing": "expected a whole number",
        "float_type": "expected a number",
        "float_parsing": "expected a number",
        "finite_number": "expected a finite number",
        "bool_type": "expected true or false",
        "bool_parsing": "expected true or false",
        "list_type": "expected a list, like [\"a\", \"b\"]",
        "dict_type": "expected a table",
        "model_type": "expected a table",
        "model_attributes_type": "expected a table",
    }
    if kind in simple:
        return simple[kind] + got
    if kind in ("greater_than", "greater_than_equal"):
        bound = ctx.get("gt", ctx.get("ge"))
        return ("expected a positive number" if bound == 0 else f"expected more than {bound:g}") + got
    if kind in ("less_than", "less_than_equal"):
        return f"expected at most {ctx.get('lt', ctx.get('le')):g}" + got
    if kind == "too_short":
        return "expected at least one item" + got
    if kind == "too_long":
        return f"expected at most {ctx.get('max_length')} item(s)" + got
    return message[:1].lower() + message[1:] + got


def _table_name(parents: Sequence[Any]) -> str:
    """('roles', 'supervisor') -> "[roles.supervisor]"; ('webchat', 'prechat', 2) -> "[[webchat.prechat]] #3"."""
    if not parents:
        return ""
    if isinstance(parents[-1], int):
        return f"[[{_dotted(parents[:-1])}]] #{parents[-1] + 1}"
    return f"[{_dotted(parents)}]"


def _dotted(parts: Sequence[Any]) -> str:
    return ".".join(_key(p) if not isinstance(p, int) else f"#{p + 1}" for p in parts)


def _key(key: Any) -> str:
    text = str(key)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text, ensure_ascii=False)


def _toml(value: Any) -> str:
    """A value the way it was (or should be) written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 80 else f"'{value[:77]}…'"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value[:5]) + (", …" if len(value) > 5 else "") + "]"
    return str(value)


# --- walking the models, for suggestions and for the settings reference


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def _child(annotation: Any, part: Any) -> Any:
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field else None
    if origin in (list, tuple):
        return typing.get_args(annotation)[0]
    if origin is dict:
        return typing.get_args(annotation)[1]
    return None


def _at(model: type[BaseModel], path: Sequence[Any]) -> Any:
    annotation: Any = model
    for part in path:
        annotation = _child(annotation, part)
        if annotation is None:
            return None
    return _unwrap(annotation)


def _keys_at(model: type[BaseModel], path: Sequence[Any]) -> list[str]:
    target = _at(model, path)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return list(target.model_fields)
    return []


def _is_table(model: type[BaseModel], path: Sequence[Any]) -> bool:
    target = _at(model, path)
    return (isinstance(target, type) and issubclass(target, BaseModel)) or typing.get_origin(target) is dict


PLACEHOLDERS = {"roles": "<role>", "routing": "<queue>", "role_assignments": "<user>"}


def toml_keys(model: type[BaseModel] = BatonToml, prefix: str = "") -> list[str]:
    """Every key of baton.toml as the settings reference writes it: `timers.reminder`,
    `roles.<role>.sections`, `webchat.prechat[].label`, `role_assignments.<user>`."""
    keys = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = _unwrap(field.annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += toml_keys(annotation, path + ".")
        elif origin is dict:
            value = _unwrap(typing.get_args(annotation)[1])
            placeholder = f"{path}.{PLACEHOLDERS.get(name, '<name>')}"
            keys += toml_keys(value, placeholder + ".") if isinstance(value, type) and issubclass(value, BaseModel) else [placeholder]
        elif origin is list and isinstance(item := _unwrap(typing.get_args(annotation)[0]), type) and issubclass(item, BaseModel):
            keys += toml_keys(item, path + "[].")
        else:
            keys.append(path)
    return keys
