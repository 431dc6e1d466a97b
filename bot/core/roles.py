"""Who may do what, and what each role sees (SPEC 5 Roles)."""

from __future__ import annotations

from typing import Any

from bot.domain import Actor
from bot.errors import UserError
from bot.settings import Settings

# The thread card stands in a channel everyone in it can read, so it shows what this role may see.
CHANNEL_ROLE = "agent"


def role_for(settings: Settings, platform: str, user_id: str) -> str:
    return settings.role_assignments.get(f"{platform}:{user_id}") or settings.role_assignments.get(user_id) or "agent"


def may(settings: Settings, actor: Actor, action: str) -> bool:
    return action in settings.roles.get(actor.role, {}).get("may", ())


def require(settings: Settings, actor: Actor, action: str) -> None:
    if not may(settings, actor, action):
        raise UserError(f"Your role ({actor.role}) may not {action} customers. Ask a supervisor or admin.")


def visible_sections(settings: Settings, actor: Actor) -> frozenset[str]:
    """Sections of a private view (a lookup, a filtered timeline): the caller's role decides."""
    return settings.sections_for(actor.role)


def view_of(settings: Settings, role: str) -> dict[str, Any]:
    """Everything that shapes a summary for `role`, as the keyword arguments of bot.core.summary's builders:
    the one visibility rule (sections and hidden fields), the topic phrases and the card's order."""
    return {
        "topic_phrases": settings.topic_phrases,
        "visible_sections": settings.sections_for(role),
        "hidden_fields": settings.hidden_fields_for(role),
        "glance": tuple(settings.card.glance),
        "section_order": tuple(settings.card.sections),
        "full_page": settings.customer_page_on,
    }


def channel_view(settings: Settings) -> dict[str, Any]:
    """The thread card's view: it stands in a channel, so it is the `agent` role's."""
    return view_of(settings, CHANNEL_ROLE)


def channel_sections(settings: Settings) -> frozenset[str]:
    """Sections of the thread card and of every copy of it shown in place of the card."""
    return settings.sections_for(CHANNEL_ROLE)
