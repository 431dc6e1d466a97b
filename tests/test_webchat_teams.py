"""The web chat with Teams as the agents' side (fake Bot Connector, BATON_TEAMS_DEV on loopback): the card
opens a channel thread, the visitor's lines and files become thread messages (a file as an attachment), a
claim and the claiming agent's channel reply reach the visitor."""

from __future__ import annotations

from urllib.parse import urlparse

from tests.teams_activities import card_action, channel_message, install_and_route, post_activity, settle, teams_baton
from tests.webchat_client import Visitor, messages, statuses

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
PDF = b"%PDF-1.7 return label"
FILE_LINKS = {"public_url": "https://baton.example.com", "link_secret": "link-secret-for-tests"}


async def _chat(baton, connector) -> tuple[Visitor, str, str]:
    await install_and_route(baton, connector)
    visitor = Visitor(baton.base_url, baton.session)
    status, answer = await visitor.start()
    assert status == 201
    created = await connector.wait_for(lambda c: c.ok("create_conversation"))
    return visitor, answer["conversation"], created[-1].response["id"]


async def test_visitor_lines_and_files_reach_the_teams_thread_and_the_agents_reply_comes_back(database_url):
    async with teams_baton(database_url, **FILE_LINKS) as (baton, connector):
        visitor, conversation, thread = await _chat(baton, connector)

        await visitor.say("Hello from the web")
        await visitor.upload("photo.png", PNG, "image/png")
        await visitor.upload("label.pdf", PDF, "application/pdf")
        sent = await connector.wait_for(lambda c: (f := [x for x in c.in_conversation(thread)
                                                         if x.activity.get("attachments") and "📎" in x.text]) and len(f) >= 2 and f)
        status, _ = await post_activity(baton, card_action(connector.url, "claim", {"action": "claim", "conversation": conversation},
                                                           conversation=thread))
        await post_activity(baton, channel_message(connector.url, "We will replace it", thread=thread, mention=False))
        await settle(baton)
        events = await visitor.events(lambda es: messages(es, "agent"))

        line = next(x for x in connector.in_conversation(thread) if "Hello from the web" in x.text)
        assert "Dana Whitfield" in line.text
        image, pdf = (x.activity["attachments"][0] for x in sent[:2])
        assert image["contentUrl"].startswith("data:image/png;base64,") and image["name"] == "photo.png"
        assert pdf["contentUrl"].startswith("https://baton.example.com/files/") and pdf["name"] == "label.pdf"
        async with baton.session.get(baton.base_url + urlparse(pdf["contentUrl"]).path) as response:
            assert response.status == 200 and await response.read() == PDF
            assert response.headers["Content-Disposition"].startswith("attachment;")
        assert status == 200
        assert "claimed" in statuses(events)
        assert messages(events, "agent")[0]["text"] == "We will replace it"
        assert messages(events, "agent")[0]["name"] == "Ana Agent"
