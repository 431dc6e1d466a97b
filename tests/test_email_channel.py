"""Email end to end (SPEC 3.7): raw mail, SendGrid's and Mailgun's posts into the real app, the card and thread in a
fake Slack, the claiming agent's reply out to a real SMTP server (aiosmtpd) — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone

from storage.models import Conversation, CustomerFile, EmailId, Message
from tests.channel_worlds import email_world
from tests.slack_signing import HANDOFF_CHANNEL, click, thread_message
from tests.email_messages import CUSTOMER, make_email
from tests.harness import WEBHOOK_SECRET
from bot.signing import signed_headers
from storage.customers import create_customer

SOURCE = "baton:email"
MAILGUN_KEY = "key-mailgun-test-1234"


def first_mail(**overrides) -> bytes:
    overrides.setdefault("in_reply_to", None)
    overrides.setdefault("references", None)
    overrides.setdefault("subject", "My order #1042")
    return make_email(**overrides)


def mailgun_fields(raw: bytes, *, timestamp: int | None = None, key: str = MAILGUN_KEY) -> dict:
    timestamp = timestamp or int(time.time())
    token = "a" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": str(timestamp), "token": token, "signature": signature, "body-mime": raw}


async def test_a_mail_opens_a_card_showing_only_the_new_text_and_the_agents_reply_is_threaded_by_smtp(database_url):
    async with email_world(database_url) as mail:
        status, answer = await mail.mail(first_mail())
        assert status == 202, answer
        conversation_id = int(answer["conversation"][1:])
        card = await mail.card_of(conversation_id)
        card_ts = card.response["ts"]
        assert "My order #1042" in json.dumps(card.args["blocks"])  # the subject is the topic
        line = await mail.thread_with(card_ts, "Yes, it arrived broken. The box was crushed.")
        shown = json.dumps(line.args)
        assert "did your parcel arrive" not in shown and "Whitfield Design" not in shown  # no quote, no signature
        stored = await EmailId.get(conversation_id=conversation_id, outbound=False)
        assert "did your parcel arrive" in stored.full_text  # the whole text is kept

        await mail.claim(conversation_id, card_ts)
        await mail.agent_says(card_ts, "A new one is on its way.")

        [sent] = await mail.received(1)
        message = sent.message
        assert sent.rcpt_tos == [CUSTOMER]
        assert message["From"] == "Ana Agent at Acme Support <support@acme.example>"
        assert message["Subject"] == "Re: My order #1042"
        assert message["In-Reply-To"] == "<CAF=mail-1@mail.example.com>"
        assert "<CAF=mail-1@mail.example.com>" in message["References"]
        assert message["Auto-Submitted"] == "auto-replied"
        assert message.get_content().strip() == "A new one is on its way."
        assert await EmailId.filter(conversation_id=conversation_id, outbound=True, mail_id=message["Message-ID"]).exists()


async def test_a_reply_to_batons_mail_joins_its_conversation_and_anything_else_opens_a_new_one(database_url):
    async with email_world(database_url) as mail:
        _, answer = await mail.mail(first_mail())
        conversation_id = int(answer["conversation"][1:])
        card_ts = (await mail.card_of(conversation_id)).response["ts"]
        await mail.claim(conversation_id, card_ts)
        await mail.agent_says(card_ts, "Could you send a photo?")
        [sent] = await mail.received(1)
        ours = sent.message["Message-ID"]

        status, answer = await mail.mail(make_email("Here it is.", message_id="<CAF=mail-2@mail.example.com>",
                                                    in_reply_to=ours, references=f"<CAF=mail-1@mail.example.com> {ours}"))
        assert status == 200 and answer["conversation"] == f"c{conversation_id}"
        await mail.thread_with(card_ts, "Here it is.")

        status, answer = await mail.mail(first_mail(text="Another question entirely", message_id="<other@mail.example.com>"))
        assert status == 202 and answer["conversation"] != f"c{conversation_id}"
        assert await Conversation.filter(source=SOURCE).count() == 2


async def test_mail_arriving_together_each_finds_its_own_thread_in_the_one_group_commit(database_url):
    """The thread lookup and the duplicate check run in the intake batch, for all its mail at once: replies to
    four conversations, a new mail and a repeat of an earlier one, posted together, each get their own answer."""
    async with email_world(database_url) as mail:
        opened = []
        for n in range(4):
            status, answer = await mail.mail(first_mail(text=f"Question {n}", message_id=f"<q{n}@mail.example.com>"))
            assert status == 202, answer
            opened.append(answer["conversation"])
        replies = [make_email(f"More about {n}", message_id=f"<r{n}@mail.example.com>", in_reply_to=f"<q{n}@mail.example.com>",
                              references=f"<q{n}@mail.example.com>") for n in range(4)]
        new = first_mail(text="Something else", message_id="<new@mail.example.com>")
        again = first_mail(text="Question 2", message_id="<q2@mail.example.com>")
        answers = await asyncio.gather(*(mail.mail(raw) for raw in [*replies, new, again]))
        assert [answer.get("conversation") for _, answer in answers[:4]] == opened, answers
        assert all(status == 200 and answer["status"] == "appended" for status, answer in answers[:4]), answers
        assert answers[4][0] == 202 and answers[4][1]["conversation"] not in opened
        assert answers[5] == (200, {"status": "duplicate"})
        for n, conversation in enumerate(opened):
            texts = await Message.filter(conversation_id=int(conversation[1:]), sender="customer").values_list("text", flat=True)
            assert sorted(texts) == sorted([f"Question {n}", f"More about {n}"]), texts
        assert await Conversation.filter(source=SOURCE).count() == 5


async def test_the_same_mail_posted_twice_is_stored_once(database_url):
    async with email_world(database_url) as mail:
        raw = first_mail()
        first = await mail.mail(raw)
        again = await mail.mail(raw)
        assert first[0] == 202 and again == (200, {"status": "duplicate"})
        assert await Message.filter(sender="customer").count() == 1


async def test_copies_of_one_mail_posted_at_the_same_moment_store_one_conversation_and_one_message(database_url):
    """A provider's retries racing each other: the received Message-ID is unique (per source), so whichever copy
    commits first is the mail and every other one is answered as a duplicate — for a mail that opens a
    conversation and for one that joins it, with its attachment."""
    async with email_world(database_url) as mail:
        raw = first_mail(attachments=[("invoice 1042.pdf", "application/pdf", PDF)])
        answers = await asyncio.gather(*(mail.mail(raw) for _ in range(6)))
        assert sorted(status for status, _ in answers) == [200] * 5 + [202], answers
        assert [answer for status, answer in answers if status == 200] == [{"status": "duplicate"}] * 5
        assert await Conversation.filter(source=SOURCE).count() == 1
        assert await Message.filter(sender="customer").count() == 2  # the text, then its file
        assert await CustomerFile.filter().count() == 1
        assert await EmailId.filter(outbound=False).count() == 1

        later = make_email("Here is the label too.", subject="Re: My order #1042", message_id="<CAF=mail-2@mail.example.com>",
                           in_reply_to="<CAF=mail-1@mail.example.com>", references="<CAF=mail-1@mail.example.com>",
                           attachments=[("label.pdf", "application/pdf", b"%PDF-1.7 label")])
        answers = await asyncio.gather(*(mail.mail(later) for _ in range(6)))
        assert sorted(answer.get("status") for _, answer in answers) == ["appended"] + ["duplicate"] * 5, answers
        assert await Message.filter(sender="customer").count() == 3
        assert await CustomerFile.filter().count() == 2
        assert await EmailId.filter(outbound=False).count() == 2


async def test_a_reply_after_wrap_up_opens_a_new_conversation_that_names_the_previous_one(database_url):
    async with email_world(database_url) as mail:
        _, answer = await mail.mail(first_mail())
        conversation_id = int(answer["conversation"][1:])
        card_ts = (await mail.card_of(conversation_id)).response["ts"]
        await mail.world.command(f"wrapup #c{conversation_id} resolved")
        await mail.slack.wait_for(lambda s: any("Wrapped up" in json.dumps(c.args) for c in s.of("chat.update", ts=card_ts)))

        status, answer = await mail.mail(make_email("It broke again", message_id="<again@mail.example.com>",
                                                    in_reply_to="<CAF=mail-1@mail.example.com>", references=None))
        assert status == 202
        card = await mail.card_of(int(answer["conversation"][1:]))
        assert f"previous conversation #c{conversation_id}" in json.dumps(card.args["blocks"])


async def test_sendgrid_with_basic_credentials_and_mailgun_signed_at_the_mime_url_are_accepted(database_url):
    async with email_world(database_url, mailgun_signing_key=MAILGUN_KEY) as mail:
        import base64

        from tests.harness import WEBHOOK_TOKEN

        basic = {"Authorization": "Basic " + base64.b64encode(f"baton:{WEBHOOK_TOKEN}".encode()).decode()}
        status, answer = await mail.form("/inbound/email", {"email": first_mail(message_id="<sg@x.example>"),
                                                            "envelope": "{}"}, basic)
        assert status == 202, answer
        status, answer = await mail.form("/inbound/email/mime", mailgun_fields(first_mail(message_id="<mg@x.example>")))
        assert status == 202, answer
        assert await Conversation.filter(source=SOURCE).count() == 2


async def test_a_raw_message_signed_as_for_handoffs_is_accepted(database_url):
    async with email_world(database_url) as mail:
        raw = first_mail()
        headers = {"Content-Type": "message/rfc822", **signed_headers(WEBHOOK_SECRET, int(time.time()), raw)}
        status, _ = await mail.baton.post_raw("/inbound/email", raw, headers)
        assert status == 202


async def test_bad_credentials_a_stale_mailgun_timestamp_and_no_credentials_get_401_and_store_nothing(database_url):
    async with email_world(database_url, mailgun_signing_key=MAILGUN_KEY) as mail:
        assert (await mail.mail(first_mail(), token="wrong"))[0] == 401
        stale = mailgun_fields(first_mail(), timestamp=int(time.time()) - 600)
        status, body = await mail.form("/inbound/email/mime", stale)
        assert status == 401 and "window" in body["detail"]
        forged = mailgun_fields(first_mail(), key="not-the-key")
        assert (await mail.form("/inbound/email/mime", forged))[0] == 401
        status, body = await mail.baton.post_raw("/inbound/email", first_mail(), {"Content-Type": "message/rfc822"})
        assert status == 401 and body["error"] == "bad_signature"
        assert await Conversation.all().count() == 0 and await Message.all().count() == 0


async def test_mailguns_parsed_format_is_refused_saying_to_use_the_mime_url(database_url):
    async with email_world(database_url, mailgun_signing_key=MAILGUN_KEY) as mail:
        fields = mailgun_fields(b"")
        del fields["body-mime"]
        fields["body-plain"] = "hello"
        status, body = await mail.form("/inbound/email", fields)
        assert status == 422 and "mime" in body["detail"]


async def test_auto_replies_bounces_and_list_mail_open_nothing_and_get_no_answer(database_url):
    async with email_world(database_url) as mail:
        robots = [
            first_mail(headers={"Auto-Submitted": "auto-replied"}, message_id="<oof@x.example>"),
            first_mail(headers={"Return-Path": "<>"}, message_id="<bounce@x.example>"),
            first_mail(headers={"List-Id": "<news.example.com>"}, message_id="<list@x.example>"),
            first_mail(headers={"Precedence": "bulk"}, message_id="<bulk@x.example>"),
        ]
        for raw in robots:
            status, body = await mail.mail(raw)
            assert status == 200 and body["status"] == "ignored"
        assert await Conversation.all().count() == 0
        assert mail.smtp.received == []


async def test_html_only_mail_reaches_the_thread_as_text_never_as_markup(database_url):
    async with email_world(database_url) as mail:
        html = "<html><head><style>p{color:red}</style></head><body><p>The <b>lid</b> is cracked</p><script>alert(1)</script></body></html>"
        status, answer = await mail.mail(first_mail(text=None, html=html))
        assert status == 202
        card_ts = (await mail.card_of(int(answer["conversation"][1:]))).response["ts"]
        line = await mail.thread_with(card_ts, "is cracked")
        shown = json.dumps(line.args)
        assert "<b>" not in shown and "alert(1)" not in shown and "color:red" not in shown


async def test_a_mail_server_refusal_is_given_up_and_the_thread_says_why(database_url):
    async with email_world(database_url) as mail:
        _, answer = await mail.mail(first_mail())
        conversation_id = int(answer["conversation"][1:])
        card_ts = (await mail.card_of(conversation_id)).response["ts"]
        await mail.claim(conversation_id, card_ts)
        mail.smtp.rcpt_answer = "550 5.1.1 <dana.whitfield@example.com>: no such user"
        await mail.agent_says(card_ts, "Hello?")

        note = await mail.thread_with(card_ts, "Not sent to the customer: the mail server refused the recipient: 550")
        assert CUSTOMER not in json.dumps(note.args)


PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40
LOGO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 600


async def test_attachments_become_real_files_in_the_slack_thread_and_the_rest_are_named(database_url):
    async with email_world(database_url) as mail:
        raw = first_mail(html="<p>Photo attached</p><img src='cid:logo@acme'>",
                         inline=[("logo.png", "image/png", LOGO, "logo@acme")],
                         attachments=[("invoice 1042.pdf", "application/pdf", PDF),
                                      ("box.jpg", "application/octet-stream", b"\xff\xd8\xff" + b"1" * 3000),
                                      ("setup.exe", "application/x-msdownload", b"MZ" + b"0" * 100)])
        status, answer = await mail.mail(raw)
        assert status == 202, answer
        conversation_id = int(answer["conversation"][1:])
        card_ts = (await mail.card_of(conversation_id)).response["ts"]

        shared = await mail.slack.wait_for(lambda s: s.shared_files if len(s.shared_files) >= 2 else None, timeout=20)
        assert sorted((f["name"], f["thread_ts"]) for f in shared) == [("box.jpg", card_ts), ("invoice 1042.pdf", card_ts)]
        assert next(f["content"] for f in shared if f["name"] == "invoice 1042.pdf") == PDF
        line = await mail.thread_with(card_ts, "setup.exe")
        assert "not passed on" in json.dumps(line.args)
        assert not any(f["name"] == "logo.png" for f in mail.slack.shared_files)  # the signature's picture

        # A later mail of the thread brings its file along with its text.
        later = make_email("Here is the label too.", subject="Re: My order #1042", message_id="<CAF=mail-2@mail.example.com>",
                           in_reply_to="<CAF=mail-1@mail.example.com>", references="<CAF=mail-1@mail.example.com>",
                           attachments=[("label.pdf", "application/pdf", b"%PDF-1.7 label")])
        status, _ = await mail.mail(later)
        assert status == 200
        await mail.slack.wait_for(lambda s: any(f["name"] == "label.pdf" and f["thread_ts"] == card_ts
                                                for f in s.shared_files), timeout=20)
        assert len(mail.slack.shared_files) == 3, "nothing uploaded twice"
        assert await Conversation.filter(source=SOURCE).count() == 1


async def test_an_attachment_over_10_mb_is_named_and_not_stored(database_url):
    async with email_world(database_url) as mail:
        raw = first_mail(attachments=[("scan.pdf", "application/pdf", b"%PDF" + b"0" * (10 * 1024 * 1024))])
        status, answer = await mail.mail(raw)
        assert status == 202, answer
        card_ts = (await mail.card_of(int(answer["conversation"][1:]))).response["ts"]
        line = await mail.thread_with(card_ts, "scan.pdf")
        assert "over 10 MB" in json.dumps(line.args)
        assert await CustomerFile.filter().count() == 0 and mail.slack.shared_files == []


async def test_an_email_no_agent_has_claimed_shows_as_queued_on_the_customers_timeline_until_claimed(database_url):
    async with email_world(database_url) as mail:
        dana = await create_customer(display_name="Dana Whitfield", identities=[("email", CUSTOMER)], email=CUSTOMER,
                                     now=datetime.now(timezone.utc))
        status, answer = await mail.mail(first_mail())
        assert status == 202, answer
        conversation_id = int(answer["conversation"][1:])
        card_ts = (await mail.card_of(conversation_id)).response["ts"]
        queued = "Conversation via email (queued: no agent has claimed it yet)"

        await click(mail.world, f"c{conversation_id}", "details", user="W222", card_ts=card_ts, customer=dana)
        assert queued in json.dumps(await mail.world.opened_view("baton_details"))

        await mail.claim(conversation_id, card_ts)
        await click(mail.world, f"c{conversation_id}", "details", user="W222", card_ts=card_ts, customer=dana)
        after = json.dumps(await mail.world.opened_view("baton_details", nth=1))
        assert "Conversation via email" in after and queued not in after


async def test_the_agents_file_is_attached_to_the_reply_and_one_over_the_cap_goes_as_its_signed_link(database_url):
    async with email_world(database_url, link_secret="link-secret-for-files") as mail:
        status, answer = await mail.mail(first_mail())
        assert status == 202, answer
        conversation_id = int(answer["conversation"][1:])
        card_ts = (await mail.card_of(conversation_id)).response["ts"]
        await mail.claim(conversation_id, card_ts)
        label = mail.slack.share_file("return label.pdf", b"%PDF-1.7 the label", "application/pdf")
        big = mail.slack.share_file("manual.pdf", b"%PDF" + b"0" * (10 * 1024 * 1024), "application/pdf")

        status, _ = await mail.world.event(thread_message("Here is your label", user="W111", channel=HANDOFF_CHANNEL,
                                                          thread_ts=card_ts, ts=mail.world.next_ts(), subtype="file_share",
                                                          files=[label, big]))
        assert status == 200
        [sent] = await mail.received(1, timeout=30)
        message = sent.message
        [attached] = list(message.iter_attachments())
        assert attached.get_filename() == "return label.pdf" and attached.get_content() == b"%PDF-1.7 the label"
        text = message.get_body(("plain",)).get_content()
        assert "manual.pdf: https://baton.example.com/files/" in text
        assert label["url_private"] not in message.as_string() and big["url_private"] not in message.as_string()
