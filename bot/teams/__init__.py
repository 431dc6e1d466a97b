"""The Microsoft Teams / Bot Framework edge: `POST /api/messages`, the handoff-thread poster, the
Bot Framework sender for handoff.status and relayed replies, and the app package.

Only this package imports botbuilder. `setup(app)` is called by create_app when Teams is enabled.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.teams.auth import OutboundToken, has_credentials, make_adapter
from bot.teams.bot import TeamsBot
from bot.teams.botframework_sender import TeamsBotFrameworkSender
from bot.teams.connector import BotConnector
from bot.teams.endpoint import messages_handler
from bot.teams.poster import TeamsPoster

log = logging.getLogger(__name__)

BOT = web.AppKey("teams_bot", TeamsBot)

__all__ = ["setup", "TeamsPoster", "BOT"]


def setup(app: web.Application) -> None:
    from bot.web.app import POSTERS, SETTINGS, services_of

    settings = app[SETTINGS]
    posters = app[POSTERS]
    poster = posters.get("teams")
    if isinstance(poster, TeamsPoster):
        connector = poster.connector
    else:  # a test or the demo injected other posters: Teams still answers and relays on its own client
        connector = BotConnector(OutboundToken(settings))
        app.on_cleanup.append(lambda _app: connector.close())

    if not has_credentials(settings):
        log.warning("BATON_TEAMS_DEV is on and MicrosoftAppId/MicrosoftAppPassword are not set: /api/messages accepts "
                    "unauthenticated requests from loopback peers only. Never run this way in production.")

    bot = TeamsBot(app, connector)
    app[BOT] = bot
    adapter = make_adapter(settings)
    app.router.add_post("/api/messages", messages_handler(adapter, bot, dev=not has_credentials(settings)))

    source = posters.get("source")
    if source is not None and getattr(source, "botframework", None) is None and hasattr(source, "botframework"):
        source.botframework = TeamsBotFrameworkSender(connector)

    if isinstance(poster, TeamsPoster):
        thread_targets = set(posters) - {"source"}

        async def fail_if_nowhere(conversation_id: int) -> None:
            # Only when Teams is the one thread target: another platform may still take the handoff.
            if thread_targets == {"teams"}:
                services = services_of(app)
                if await _fail(conversation_id, services):
                    log.warning("conversation %s has no Teams channel: handoff.status failed sent", conversation_id)

        poster.on_unroutable = fail_if_nowhere

    async def finish_turns(_app: web.Application) -> None:
        await bot.drain()

    app.on_shutdown.append(finish_turns)


async def _fail(conversation_id: int, services) -> bool:
    from storage import teams_store

    changed = await teams_store.fail_unroutable(conversation_id, targets=services.targets, now=services.clock())
    if changed:
        services.wake()
    return changed
