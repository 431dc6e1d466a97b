"""OAuth install for several workspaces: /slack/install, /slack/oauth_redirect, installations in Baton's database."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager

from bot.slack.poster import SlackPoster
from storage.models import SlackInstallation, SlackOAuthState
from tests.fakes.slack_api import FakeSlack
from tests.harness import running_baton
from tests.slack_signing import SIGNING_SECRET, SlackWorld

CLIENT_ID = "111.222"
INSTALLED_TOKEN = "xoxb-oauth-installed"


@asynccontextmanager
async def oauth_baton(database_url):
    async with FakeSlack(tokens=(INSTALLED_TOKEN,)) as slack:
        settings = dict(slack_client_id=CLIENT_ID, slack_client_secret="client-secret", slack_signing_secret=SIGNING_SECRET,
                        slack_api_url=slack.api_url, public_url="https://baton.example.com", outbox_poll_seconds=0.05,
                        role_assignments={"W333": "supervisor"})
        poster = SlackPoster(api_url=slack.api_url, client_id=CLIENT_ID, rate=50.0)
        async with running_baton(database_url, posters={"slack": poster}, run_worker=True, **settings) as baton:
            yield SlackWorld(baton, slack)


async def start_install(world) -> str:
    async with world.baton.session.get(world.baton.base_url + "/slack/install", allow_redirects=False) as response:
        assert response.status == 200
        page = await response.text()
    state = re.search(r"state=([\w\-]+)", page).group(1)
    assert f"client_id={CLIENT_ID}" in page and "chat%3Awrite" in page.replace(":", "%3A")
    return state


async def finish_install(world, state: str, code: str = "good-code", cookie: str | None = None) -> tuple[int, str]:
    url = f"{world.baton.base_url}/slack/oauth_redirect?code={code}&state={state}"
    headers = {"Cookie": f"slack-app-oauth-state={cookie or state}"}
    async with world.baton.session.get(url, headers=headers, allow_redirects=False) as response:
        return response.status, await response.text()


async def test_installing_stores_the_workspace_and_its_bot_token(database_url):
    async with oauth_baton(database_url) as world:
        state = await start_install(world)
        assert await SlackOAuthState.filter(state=state).exists()

        status, page = await finish_install(world, state)

        assert status == 200, page
        installation = await SlackInstallation.get(team_id="T111")
        assert installation.bot_token == INSTALLED_TOKEN and installation.client_id == CLIENT_ID
        assert not await SlackOAuthState.filter(state=state).exists()


async def test_a_forged_state_installs_nothing(database_url):
    async with oauth_baton(database_url) as world:
        await start_install(world)

        status, _ = await finish_install(world, "forged-state")

        assert status >= 400
        assert await SlackInstallation.all().count() == 0


async def test_an_installed_workspace_can_use_baton_and_receives_handoffs_with_its_token(database_url):
    async with oauth_baton(database_url) as world:
        await finish_install(world, await start_install(world))

        await world.command("route here", channel="C0INSTALLED", user="W333")  # a supervisor
        await world.response_containing("every queue")
        conversation_id, card_ts = await world.handoff(conversation_id="va-oauth")

        root = next(c for c in world.slack.of("chat.postMessage") if c.args.get("channel") == "C0INSTALLED")
        assert root.token == INSTALLED_TOKEN


async def test_a_workspace_that_never_installed_is_refused(database_url):
    async with oauth_baton(database_url) as world:
        await world.command("help")

        answer = await world.response_containing("reinstall")
        assert "/baton lookup" not in str(answer)
        assert not [c for c in world.slack.calls if c.method.startswith("chat.")]
