"""Teams bookkeeping: where the bot is installed (conversation references for proactive posts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.models import Route, TeamsInstall


async def save_install(
    *,
    conversation_id: str,
    conversation_type: str | None,
    team_id: str | None,
    channel_id: str | None,
    tenant_id: str | None,
    service_url: str,
    reference: dict[str, Any],
    now: datetime,
) -> None:
    """Remember (or refresh) where the bot was added; a removed install comes back on re-add."""
    await TeamsInstall.update_or_create(
        conversation_id=conversation_id,
        defaults={
            "conversation_type": conversation_type,
            "team_id": team_id,
            "channel_id": channel_id,
            "tenant_id": tenant_id,
            "service_url": service_url,
            "reference": reference,
            "installed_at": now,
            "removed_at": None,
        },
    )


async def is_installed(conversation_id: str) -> bool:
    return await TeamsInstall.filter(conversation_id=conversation_id, removed_at__isnull=True).exists()


async def mark_removed(*, conversation_id: str | None = None, team_id: str | None = None, now: datetime) -> int:
    query = TeamsInstall.filter(removed_at__isnull=True)
    if team_id:
        query = query.filter(team_id=team_id)
    elif conversation_id:
        query = query.filter(conversation_id=conversation_id)
    else:
        return 0
    return await query.update(removed_at=now)


async def reference_for_channel(channel_id: str) -> dict[str, Any] | None:
    """The stored reference of a channel (or of its team: a team's General channel id is the team id)."""
    row = (
        await TeamsInstall.filter(removed_at__isnull=True, channel_id=channel_id).order_by("-installed_at").first()
        or await TeamsInstall.filter(removed_at__isnull=True, conversation_id=channel_id).first()
        or await TeamsInstall.filter(removed_at__isnull=True, team_id=channel_id).order_by("-installed_at").first()
    )
    return dict(row.reference) if row else None


async def any_team_reference() -> dict[str, Any] | None:
    """Any team install: its serviceUrl and tenant serve a default channel with no reference of its own."""
    row = await TeamsInstall.filter(removed_at__isnull=True, team_id__isnull=False).order_by("-installed_at").first()
    return dict(row.reference) if row else None


async def route_reference_for_channel(channel_id: str) -> dict[str, Any] | None:
    row = await Route.filter(target="teams", channel=channel_id, reference__isnull=False).first()
    return dict(row.reference) if row and row.reference else None
