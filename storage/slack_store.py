"""Slack's bookkeeping in Baton's database: OAuth installations and OAuth states.

Plain dicts in and out; `bot.slack.installation_store` turns them into slack_sdk objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from storage.models import SlackInstallation, SlackOAuthState

# --------------------------------------------------------------------------- installations

_COLUMNS = ("client_id", "app_id", "enterprise_id", "team_id", "user_id", "bot_token", "bot_id", "bot_user_id")


async def save_installation(data: dict[str, Any], *, client_id: str | None, now: datetime) -> None:
    """Keep every installation (newest wins on lookup), as slack_sdk's own stores do."""
    columns = {name: data.get(name) for name in _COLUMNS if name != "client_id"}
    await SlackInstallation.create(
        client_id=client_id,
        is_enterprise_install=bool(data.get("is_enterprise_install")),
        data=data,
        installed_at=now,
        **columns,
    )


def _scope(client_id: str | None, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> Q:
    query = Q(client_id=client_id)
    if enterprise_id:
        query &= Q(enterprise_id=enterprise_id)
    else:
        query &= Q(enterprise_id__isnull=True) | Q(enterprise_id="")
    if not is_enterprise_install:
        query &= Q(team_id=team_id) if team_id else (Q(team_id__isnull=True) | Q(team_id=""))
    return query


async def find_installation(
    *,
    client_id: str | None,
    enterprise_id: str | None,
    team_id: str | None,
    user_id: str | None = None,
    is_enterprise_install: bool | None = False,
    with_bot_token: bool = False,
) -> dict[str, Any] | None:
    """The newest matching installation's data; with `with_bot_token`, the newest that has a bot token."""
    query = _scope(client_id, enterprise_id, team_id, is_enterprise_install)
    if user_id:
        query &= Q(user_id=user_id)
    if with_bot_token:
        query &= Q(bot_token__isnull=False)
    row = await SlackInstallation.filter(query).order_by("-installed_at", "-id").first()
    return dict(row.data) if row else None


async def delete_installations(
    *, client_id: str | None, enterprise_id: str | None, team_id: str | None, user_id: str | None = None, bot_only: bool = False
) -> int:
    query = _scope(client_id, enterprise_id, team_id, False)
    if user_id:
        query &= Q(user_id=user_id)
    if bot_only:
        return await SlackInstallation.filter(query).update(bot_token=None)
    return await SlackInstallation.filter(query).delete()


async def bot_token_for_team(client_id: str | None, team_id: str | None) -> str | None:
    """The bot token to post with in a workspace (or the newest install when the team is unknown)."""
    query = Q(client_id=client_id, bot_token__isnull=False)
    if team_id:
        query &= Q(team_id=team_id) | Q(enterprise_id=team_id)
    row = await SlackInstallation.filter(query).order_by("-installed_at", "-id").first()
    return row.bot_token if row else None


# --------------------------------------------------------------------------- OAuth state


async def issue_state(state: str, *, expires_at: datetime) -> None:
    await SlackOAuthState.create(state=state, expires_at=expires_at)


async def consume_state(state: str, *, now: datetime) -> bool:
    """True once for a state issued by us and not yet expired; it cannot be used again."""
    row = await SlackOAuthState.get_or_none(state=state)
    if row is None:
        return False
    deleted = await SlackOAuthState.filter(state=state).delete()
    return bool(deleted) and row.expires_at > now
