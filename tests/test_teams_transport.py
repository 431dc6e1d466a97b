"""`POST /api/messages` authentication: botbuilder's own JWT validation with credentials; loopback-only
without them (BATON_TEAMS_DEV)."""

from __future__ import annotations

import json

from storage.models import TeamsInstall
from tests.harness import running_baton
from tests.teams_activities import TEAM, bot_added_to_team, channel_message, personal_message, post_activity, teams_baton
from tests.teams_flow import settle


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
