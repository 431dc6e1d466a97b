"""Where Baton is installed: Slack workspaces (OAuth installations and states) and Teams conversations
(the references proactive posts need). The edges keep their SDK objects; these are plain JSON records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage import slack_store, teams_store

# --------------------------------------------------------------------------- Slack

save_slack_installation = slack_store.save_installation
find_slack_installation = slack_store.find_installation
delete_slack_installations = slack_store.delete_installations
slack_bot_token = slack_store.bot_token_for_team
issue_oauth_state = slack_store.issue_state
consume_oauth_state = slack_store.consume_state

# --------------------------------------------------------------------------- Teams


async def remember_teams_install(
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
    await teams_store.save_install(
        conversation_id=conversation_id, conversation_type=conversation_type, team_id=team_id, channel_id=channel_id,
        tenant_id=tenant_id, service_url=service_url, reference=reference, now=now,
    )


teams_installed = teams_store.is_installed
forget_teams_install = teams_store.mark_removed


async def teams_reference(channel_id: str) -> dict[str, Any] | None:
    """How to reach a Teams channel: the reference `route here` stored, else its install's, else any team's
    (a default channel set by BATON_TEAMS_CHANNEL has no install of its own)."""
    return (
        await teams_store.route_reference_for_channel(channel_id)
        or await teams_store.reference_for_channel(channel_id)
        or await teams_store.any_team_reference()
    )


async def teams_install_reference(channel_id: str) -> dict[str, Any] | None:
    """The reference of the channel's own install, else any team's."""
    return await teams_store.reference_for_channel(channel_id) or await teams_store.any_team_reference()
