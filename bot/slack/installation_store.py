"""slack_sdk's async installation and OAuth-state stores, kept in Baton's database (through bot.core.installs)."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any, Optional

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.clock import Clock, utc_now
from bot.core import installs

log = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=10)


def _jsonable(installation: Installation) -> dict[str, Any]:
    """What `Installation(**data)` takes back: its own attributes, JSON-safe."""
    data = dict(vars(installation))
    for key in ("bot_scopes", "user_scopes"):
        if data.get(key) is not None:
            data[key] = list(data[key])
    return data


def _installation(data: dict[str, Any]) -> Installation:
    known = {k: v for k, v in data.items() if k not in {"bot_token_expires_in", "user_token_expires_in"}}
    return Installation(**known)


class DatabaseInstallationStore(AsyncInstallationStore):
    """One row per installation; lookups take the newest (slack_sdk's SQL stores behave the same)."""

    def __init__(self, client_id: str | None, *, clock: Clock = utc_now) -> None:
        self.client_id = client_id
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await installs.save_slack_installation(_jsonable(installation), client_id=self.client_id, now=self.clock())

    async def async_save_bot(self, bot: Bot) -> None:  # bots are saved as part of their installation
        return None

    async def async_find_installation(
        self,
        *,
        enterprise_id: Optional[str],
        team_id: Optional[str],
        user_id: Optional[str] = None,
        is_enterprise_install: Optional[bool] = False,
    ) -> Optional[Installation]:
        data = await installs.find_slack_installation(
            client_id=self.client_id, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        if data is None:
            return None
        installation = _installation(data)
        if user_id is not None:
            # The user's own row may predate a re-install; the bot token is always the newest one.
            newest = await installs.find_slack_installation(
                client_id=self.client_id, enterprise_id=enterprise_id, team_id=team_id,
                is_enterprise_install=is_enterprise_install, with_bot_token=True,
            )
            if newest and newest.get("bot_token") and newest.get("bot_token") != installation.bot_token:
                merged = {**data, **{k: newest.get(k) for k in ("bot_token", "bot_id", "bot_user_id", "bot_scopes",
                                                                   "bot_refresh_token", "bot_token_expires_at")}}
                installation = _installation(merged)
        return installation

    async def async_find_bot(
        self,
        *,
        enterprise_id: Optional[str],
        team_id: Optional[str],
        is_enterprise_install: Optional[bool] = False,
    ) -> Optional[Bot]:
        data = await installs.find_slack_installation(
            client_id=self.client_id, enterprise_id=enterprise_id, team_id=team_id,
            is_enterprise_install=is_enterprise_install, with_bot_token=True,
        )
        return _installation(data).to_bot() if data else None

    async def async_delete_bot(self, *, enterprise_id: Optional[str], team_id: Optional[str]) -> None:
        await installs.delete_slack_installations(
            client_id=self.client_id, enterprise_id=enterprise_id, team_id=team_id, bot_only=True
        )

    async def async_delete_installation(
        self, *, enterprise_id: Optional[str], team_id: Optional[str], user_id: Optional[str] = None
    ) -> None:
        await installs.delete_slack_installations(
            client_id=self.client_id, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )


class DatabaseOAuthStateStore(AsyncOAuthStateStore):
    """A state is random, stored until used once or for ten minutes."""

    def __init__(self, *, clock: Clock = utc_now, lifetime: timedelta = STATE_LIFETIME) -> None:
        self.clock = clock
        self.lifetime = lifetime

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        await installs.issue_oauth_state(state, expires_at=self.clock() + self.lifetime)
        return state

    async def async_consume(self, state: str) -> bool:
        return await installs.consume_oauth_state(state, now=self.clock())
