"""Bot Framework authentication through botbuilder's own machinery, and outbound tokens.

Inbound: `CloudAdapter(ConfigurationBotFrameworkAuthentication(config))` validates the channel's JWT.
Outbound: the same credential factory gives the token; with no app id (BATON_TEAMS_DEV) botbuilder's
factory returns empty credentials and Baton sends no Authorization header, exactly as botbuilder would.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botframework.connector.auth import AuthenticationConstants

from bot.settings import Settings


@dataclass(frozen=True)
class BotConfig:
    """The configuration object botbuilder's aiohttp integration reads (attribute names are its own)."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> "BotConfig":
        return cls(
            APP_ID=settings.microsoft_app_id or "",
            APP_PASSWORD=settings.microsoft_app_password or "",
            APP_TYPE=settings.microsoft_app_type or "MultiTenant",
            APP_TENANTID=settings.microsoft_app_tenant_id,
        )


def has_credentials(settings: Settings) -> bool:
    return bool(settings.microsoft_app_id and settings.microsoft_app_password)


def make_adapter(settings: Settings) -> CloudAdapter:
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(BotConfig.from_settings(settings)))


class OutboundToken:
    """Bearer tokens for calls to the Bot Connector; None when authentication is disabled."""

    def __init__(self, settings: Settings) -> None:
        self._config = BotConfig.from_settings(settings)
        self._factory = ConfigurationServiceClientCredentialFactory(self._config)
        self._credentials = None

    async def __call__(self) -> str | None:
        if self._credentials is None:
            self._credentials = await self._factory.create_credentials(
                self._config.APP_ID,
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX,
                True,
            )
        if not getattr(self._credentials, "microsoft_app_id", None):
            return None  # MicrosoftAppCredentials.empty(): botbuilder sends no Authorization header either
        # msal is synchronous and caches the token; keep the event loop free while it fetches one.
        return await asyncio.get_running_loop().run_in_executor(None, self._credentials.get_access_token)
