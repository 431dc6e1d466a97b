"""`POST /api/messages` authentication: botbuilder's own JWT validation with credentials; loopback-only
without them (BATON_TEAMS_DEV)."""

from __future__ import annotations

import json

from storage.models import TeamsInstall
from tests.harness import running_baton
from tests.teams_activities import TEAM, bot_added_to_team, personal_message, post_activity, teams_baton
from tests.teams_activities import settle


async def test_with_credentials_an_unauthenticated_request_is_refused_with_401(database_url):
    overrides = {"microsoft_app_id": "6c3a4a6e-3b8e-4a39-9d0e-4a3f1b2c3d4e", "microsoft_app_password": "s3cret"}
    async with running_baton(database_url, posters={}, **overrides) as baton:
        status, body = await post_activity(baton, personal_message("https://smba.trafficmanager.net/amer/", "help"))

        assert status == 401
        assert body["error"] == "unauthorized"


async def test_with_credentials_a_forged_token_is_refused_too(database_url):
    overrides = {"microsoft_app_id": "6c3a4a6e-3b8e-4a39-9d0e-4a3f1b2c3d4e", "microsoft_app_password": "s3cret"}
    async with running_baton(database_url, posters={}, **overrides) as baton:
        status, body = await post_activity(baton, personal_message("https://smba.trafficmanager.net/amer/", "help"),
                                           {"Authorization": "Bearer not-a-jwt"})

        assert status == 401


async def test_in_dev_mode_a_loopback_peer_is_served_without_a_token(database_url):
    async with teams_baton(database_url) as (baton, connector):
        status, _ = await post_activity(baton, personal_message(connector.url, "help"))
        answer = await connector.wait_for(lambda c: c.ok("reply"))

        assert status == 200
        assert "lookup" in answer[0].text
        assert answer[0].authorization is None


async def test_without_credentials_and_without_dev_mode_there_is_no_endpoint(database_url):
    async with running_baton(database_url, posters={}) as baton:
        status, _ = await post_activity(baton, personal_message("http://127.0.0.1:1/", "help"))
        assert status == 404


async def test_a_body_that_is_not_an_activity_is_a_json_400(database_url):
    async with teams_baton(database_url) as (baton, connector):
        status, body = await baton.post_raw("/api/messages", json.dumps([1, 2]).encode(),
                                            {"Content-Type": "application/json"})
        assert status == 400
        assert body["error"] == "malformed"


async def test_adding_the_bot_to_a_team_stores_its_conversation_reference(database_url):
    async with teams_baton(database_url) as (baton, connector):
        status, _ = await post_activity(baton, bot_added_to_team(connector.url))
        await settle(baton)

        install = await TeamsInstall.get(conversation_id=TEAM)
        assert status == 200
        assert install.service_url == connector.url
        assert install.reference["serviceUrl"] == connector.url
        assert install.reference["tenantId"]


async def test_a_resent_message_is_handled_once(database_url):
    async with teams_baton(database_url) as (baton, connector):
        activity = personal_message(connector.url, "help")
        await post_activity(baton, activity)
        await post_activity(baton, activity)
        await settle(baton)
        assert len(connector.ok("reply")) == 1


async def test_a_malformed_handoff_initiate_is_a_json_422(database_url):
    from tests.teams_activities import bf_handoff

    async with teams_baton(database_url) as (baton, connector):
        activity = bf_handoff(connector.url)
        activity["conversation"] = {}
        activity["relatesTo"]["conversation"] = {}
        activity["value"].pop("va_ConversationId")
        status, body = await post_activity(baton, activity)
        assert status == 422
        assert body["field"] == "conversation.id"


def _non_loopback_address() -> str | None:
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent; this only picks the outgoing interface
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


async def test_in_dev_mode_a_peer_that_is_not_loopback_is_refused(database_url):
    import aiohttp
    import pytest
    from aiohttp import web

    from bot.settings import Settings
    from bot.web.app import create_app

    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to call from")
    app = create_app(Settings(database_url=database_url, teams_dev=True), posters={}, run_worker=False)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, address, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://{address}:{port}/api/messages",
                                    json=personal_message("http://127.0.0.1:1/", "help")) as response:
                body = await response.json()
        assert response.status == 401
        assert body["error"] == "unauthorized"
    finally:
        await runner.cleanup()
