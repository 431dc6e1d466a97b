"""The Microsoft Teams / Bot Framework edge: `POST /api/messages`, the handoff-thread poster, the
Bot Framework channel back to customers (handoff.status and relayed replies), and the app package.

Only this package imports botbuilder. `setup(app, services)` is called by create_app when Teams is enabled.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.core.services import Services
from bot.teams.auth import OutboundToken, has_credentials, make_adapter
from bot.teams.bot import TeamsBot
from bot.teams.botframework_sender import BotFrameworkChannel
from bot.teams.connector import BotConnector
from bot.teams.endpoint import messages_handler
from bot.teams.poster import TeamsPoster

log = logging.getLogger(__name__)

BOT = web.AppKey("teams_bot", TeamsBot)

__all__ = ["setup", "TeamsPoster", "BOT"]


def setup(app: web.Application, services: Services, poster=None) -> None:
    settings = services.settings
    if isinstance(poster, TeamsPoster):
        connector = poster.connector
    else:  # a test or the demo injected other posters: Teams still answers and relays on its own client
        connector = BotConnector(OutboundToken(settings))
        app.on_cleanup.append(lambda _app: connector.close())

    if not has_credentials(settings):
        log.warning("BATON_TEAMS_DEV is on and MicrosoftAppId/MicrosoftAppPassword are not set: /api/messages accepts "
                    "unauthenticated requests from loopback peers only. Never run this way in production.")

    bot = TeamsBot(services, connector)
    app[BOT] = bot
    adapter = make_adapter(settings)
    app.router.add_post("/api/messages", messages_handler(adapter, bot, dev=not has_credentials(settings),
                                                         max_body=settings.max_body_bytes))
    # Handoffs that came as handoff.initiate hear their status and the agent's replies this way.
    services.customer_channels.append(BotFrameworkChannel(connector))

    async def finish_turns(_app: web.Application) -> None:
        await bot.drain()

    app.on_shutdown.append(finish_turns)
