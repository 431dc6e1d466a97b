"""An agent's file reaches the customer as a Baton link they can open (SPEC 5: files go both ways).

Slack keeps shared files behind a login (`url_private`); the customer gets `BATON_PUBLIC_URL/files/<token>`
instead, and Baton streams the file from Slack with its bot token. Tokens are signed and expire.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from urllib.parse import urlparse

import pytest

from bot.core import actions
from bot.delivery.files import fetchable
from bot.domain import Actor
from bot.errors import ApiError
from bot.links import seal, unseal
from bot.settings import Settings
from bot.web.app import services_of
from storage.customers import create_customer
from tests.slack_signing import HANDOFF_CHANNEL, slack_baton, thread_message
from tests.teams_activities import bf_thread, card_action, channel_message, install_and_route, post_activity, teams_baton
from tests.test_slack_transport import claimed_thread

PUBLIC_URL = "https://baton.example.com"
LINK_SECRET = "link-secret-for-tests"
FILE_LINKS = {"public_url": PUBLIC_URL, "link_secret": LINK_SECRET}
PDF = b"%PDF-1.7 return label \x00\x01\x02" * 100
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def test_a_link_token_opens_with_its_secret_until_it_expires():
    token = seal("s3cret", {"u": "https://files.example/x", "n": "label.pdf"}, expires_at=2_000)

    assert unseal("s3cret", token, now=1_999)["u"] == "https://files.example/x"
    with pytest.raises(ApiError) as expired:
        unseal("s3cret", token, now=2_001)
    assert (expired.value.status, expired.value.code) == (401, "link_expired")
    with pytest.raises(ApiError, match="not one Baton made"):
        unseal("other-secret", token, now=1_000)


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
    lambda t: "e30" + t[t.index("."):],  # claims swapped for {}
    lambda t: t.split(".")[0],  # no signature
    lambda t: "not-a-token",
])
def test_a_tampered_link_token_is_refused(mangle):
    token = seal("s3cret", {"u": "https://files.example/x"}, expires_at=2_000)

    with pytest.raises(ApiError) as refused:
        unseal("s3cret", mangle(token), now=1_000)
    assert refused.value.status == 401


async def _reply_with_file(world, conversation_card: str, *files: dict) -> dict:
    status, _ = await world.event(thread_message("Here is your return label", user="W111", channel=HANDOFF_CHANNEL,
                                                 thread_ts=conversation_card, ts=world.next_ts(), subtype="file_share",
                                                 files=list(files)))
    assert status == 200
    _, body, _ = (await world.slack.wait_for(lambda s: s.relayed))[0]
    return body


async def _download(world, url: str):
    baton = getattr(world, "baton", world)
    async with baton.session.get(baton.base_url + urlparse(url).path) as response:
        return response.status, dict(response.headers), await response.read()


async def test_the_customer_gets_a_baton_link_that_streams_the_agents_slack_file(database_url):
    async with slack_baton(database_url, **FILE_LINKS) as world:
        _, card_ts = await claimed_thread(world)
        shared = world.slack.share_file("return label.pdf", PDF, "application/pdf")

        body = await _reply_with_file(world, card_ts, shared)
        [attachment] = body["attachments"]
        status, headers, content = await _download(world, attachment["url"])

        assert attachment["url"].startswith(PUBLIC_URL + "/files/")
        claims = json.loads(base64.urlsafe_b64decode(urlparse(attachment["url"]).path.split("/")[-1].split(".")[0] + "=="))
        assert set(claims) == {"k", "m", "i", "exp"}, "the link names the message, not Slack's login-only URL"
        assert shared["url_private"] not in json.dumps(body)
        assert (attachment["name"], attachment["content_type"]) == ("return label.pdf", "application/pdf")
        assert status == 200 and content == PDF
        assert headers["Content-Disposition"].startswith("attachment;") and "return%20label.pdf" in headers["Content-Disposition"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert world.slack.file_requests[-1] == "Bearer xoxb-test-baton"


async def test_a_shared_html_file_is_downloaded_never_rendered_on_batons_origin(database_url):
    async with slack_baton(database_url, **FILE_LINKS) as world:
        _, card_ts = await claimed_thread(world)
        shared = world.slack.share_file("page.html", b"<script>alert(document.cookie)</script>", "text/html")

        body = await _reply_with_file(world, card_ts, shared)
        status, headers, _ = await _download(world, body["attachments"][0]["url"])

        assert status == 200
        assert headers["Content-Type"].startswith("application/octet-stream")
        assert headers["Content-Disposition"].startswith("attachment;")
        assert "sandbox" in headers["Content-Security-Policy"]


async def test_a_forged_or_vanished_file_link_gets_a_json_error(database_url):
    async with slack_baton(database_url, **FILE_LINKS) as world:
        _, card_ts = await claimed_thread(world)
        shared = world.slack.share_file("label.png", b"\x89PNG....", "image/png")
        link = (await _reply_with_file(world, card_ts, shared))["attachments"][0]["url"]
        token = urlparse(link).path.rsplit("/", 1)[1]
        claims = token.split(".")[0]

        forged = await _download(world, f"/files/{claims}.{'A' * 43}")
        signed_elsewhere = seal("some-other-secret", json.loads(base64.urlsafe_b64decode(claims + "==")), expires_at=4_000_000_000)
        outside = await _download(world, f"/files/{signed_elsewhere}")
        world.slack.files.clear()  # deleted in Slack since
        vanished = await _download(world, link)

        assert forged[0] == 401 and json.loads(forged[2])["error"] == "bad_signature"
        assert outside[0] == 401
        assert vanished[0] == 404 and json.loads(vanished[2])["detail"] == "The file is no longer available."


@pytest.mark.parametrize("settings", [{"link_secret": LINK_SECRET}, {"public_url": PUBLIC_URL}],
                         ids=["no public url", "no link secret"])
async def test_without_file_links_configured_the_file_goes_out_as_the_platform_link(database_url, settings):
    """The webhook secret (which every integrator holds) never signs file links."""
    async with slack_baton(database_url, **settings) as world:
        _, card_ts = await claimed_thread(world)
        shared = world.slack.share_file("label.pdf", PDF, "application/pdf")

        body = await _reply_with_file(world, card_ts, shared)

        assert body["attachments"][0]["url"] == shared["url_private"]
        status, _, content = await _download(world, "/files/anything")
        assert status == 404 and json.loads(content)["error"] == "not_found"


async def _claimed_teams_thread(baton, connector, origin_conversation: str) -> str:
    """A Bot Framework handoff's Teams thread, claimed by Ana; returns the thread id."""
    await install_and_route(baton, connector)
    conv, thread, _ = await bf_thread(baton, connector, origin_conversation)
    await post_activity(baton, card_action(connector.url, "claim", {"action": "claim", "conversation": conv},
                                           conversation=thread))
    return thread


async def test_a_teams_agents_image_reaches_a_bot_framework_customer_as_a_baton_link(database_url):
    async with teams_baton(database_url, **FILE_LINKS) as (baton, connector):
        thread = await _claimed_teams_thread(baton, connector, "dl-conv-files")
        image = connector.share_attachment("img-1", PNG, "image/png", "damage.png")

        await post_activity(baton, channel_message(connector.url, "Is this the damage?", thread=thread, mention=False,
                                                   attachments=[image]))
        relayed = await connector.wait_for(lambda c: [x for x in c.ok("send", conversation_id="dl-conv-files")
                                                      if x.body.get("type") == "message"])
        [attachment] = relayed[0].body["attachments"]
        status, headers, content = await _download(baton, attachment["contentUrl"])

        assert attachment["contentUrl"].startswith(PUBLIC_URL + "/files/") and attachment["name"] == "damage.png"
        assert status == 200 and content == PNG
        assert headers["Content-Type"] == "image/png" and headers["Content-Disposition"].startswith("inline;")


SETTINGS = Settings(slack_api_url="https://slack.com/api/")


@pytest.mark.parametrize("platform,url,allowed", [
    ("slack", "https://files.slack.com/files-pri/T1-F1/label.pdf", True),
    ("slack", "http://files.slack.com/files-pri/T1-F1/label.pdf", False),  # the token never travels in clear
    ("slack", "https://acme.slack.com/files/U1/F1/label.pdf", False),  # a permalink: a page, not the file
    ("slack", "https://attacker.example/files-pri/T1-F1/label.pdf", False),  # a remote file's own host
    ("slack", "https://files.slack.com.attacker.example/x", False),
    ("teams", "https://smba.trafficmanager.net/amer/v3/attachments/0-x/views/original", True),
    ("teams", "https://us-api.asm.skype.com/v1/objects/0-x/views/imgo", True),
    ("teams", "https://contoso.sharepoint.com/sites/x/label.pdf", False),  # needs Graph, passed on as is
    ("teams", "https://attacker.example/v3/attachments/0-x/views/original", False),
    ("teams", "http://127.0.0.1:3978/v3/attachments/0-x/views/original", False),  # loopback only in dev mode
    ("record", "https://files.slack.com/x", False),
])
def test_baton_sends_its_token_only_to_the_platforms_file_hosts(platform, url, allowed):
    assert fetchable(platform, url, SETTINGS) is allowed


async def test_an_outside_url_in_an_agents_teams_message_is_passed_on_as_is_never_fetched(database_url):
    async with teams_baton(database_url, **FILE_LINKS) as (baton, connector):
        thread = await _claimed_teams_thread(baton, connector, "dl-conv-outside")
        outside = {"contentType": "image/png", "contentUrl": "https://attacker.example/v3/attachments/x", "name": "x.png"}

        await post_activity(baton, channel_message(connector.url, "look", thread=thread, mention=False, attachments=[outside]))
        relayed = await connector.wait_for(lambda c: [x for x in c.ok("send", conversation_id="dl-conv-outside")
                                                      if x.body.get("type") == "message"])

        assert relayed[0].body["attachments"][0]["contentUrl"] == "https://attacker.example/v3/attachments/x"


async def test_a_redirect_or_a_sign_in_page_from_slack_is_not_passed_on(database_url):
    async with slack_baton(database_url, **FILE_LINKS) as world:
        _, card_ts = await claimed_thread(world)
        moved = world.slack.share_file("moved.pdf", PDF, "application/pdf")
        elsewhere = world.slack.share_file("elsewhere.pdf", b"not for the customer", "application/pdf")
        world.slack.file_redirects[moved["url_private"].split("/files-pri/")[1]] = elsewhere["url_private"]
        login = world.slack.share_file("label.pdf", b"<html>Sign in to Slack</html>", "text/html")
        login["mimetype"] = "application/pdf"  # what the file is; Slack answers with its sign-in page

        body = await _reply_with_file(world, card_ts, moved, login)
        redirected = await _download(world, body["attachments"][0]["url"])
        sign_in = await _download(world, body["attachments"][1]["url"])

        assert redirected[0] == 503 and b"not for the customer" not in redirected[2]
        assert sign_in[0] == 503
        assert json.loads(sign_in[2])["error"] == "unavailable"


async def test_a_signed_link_with_claims_of_the_wrong_shape_is_refused_not_a_crash(database_url):
    async with slack_baton(database_url, **FILE_LINKS) as world:
        for claims in ({"k": "file", "m": "12", "i": 0}, {"k": "file", "m": 2**40, "i": 0}, {"m": 1, "i": 0},
                       {"k": "file", "m": True, "i": 0}, {"k": "file", "m": [1], "i": 0}):
            status, _, content = await _download(world, "/files/" + seal(LINK_SECRET, claims, expires_at=4_000_000_000))
            assert status == 401 and json.loads(content)["error"] == "bad_signature", claims


async def test_an_anonymized_customers_file_links_stop_working(database_url):
    async with slack_baton(database_url, **FILE_LINKS) as world:
        dana = await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")],
                                     now=datetime.now(timezone.utc))
        _, card_ts = await claimed_thread(world)
        link = (await _reply_with_file(world, card_ts, world.slack.share_file("label.pdf", PDF, "application/pdf")))[
            "attachments"][0]["url"]
        assert (await _download(world, link))[0] == 200

        await actions.anonymize(services_of(world.baton.app), Actor("slack", "W333", "Sam", role="admin"), dana)

        assert (await _download(world, link))[0] == 404
