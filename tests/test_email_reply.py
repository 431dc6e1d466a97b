"""Agents' replies as email, sent to a real SMTP server (aiosmtpd): what arrives on the wire — sender,
threading, attachments, the Auto-Submitted header — and every SMTP failure as RetryLater or GiveUp."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from bot.delivery.poster import GiveUp, RetryLater
from bot.email.message import parse_email
from bot.email.reply import OutgoingFile, compose_reply, references_for, reply_subject, sender_address
from bot.email.smtp import SmtpSender, SmtpUrl
from bot.settings import load_settings
from tests.email_messages import CUSTOMER, make_email
from tests.smtp_server import SMTP_PASSWORD, SMTP_USER, Recorder, free_port, make_tls, smtp_server

NOW = datetime(2026, 3, 3, 11, 0, tzinfo=timezone.utc)
EMAIL_FROM = "Acme Support <support@acme.example>"


def reply_to_customer(text="Sorry about that — a new blender ships today. 📦", *, files=(), **overrides):
    """The reply to tests.email_messages' default customer message, as compose_reply builds it."""
    customer = parse_email(make_email())
    options = dict(
        email_from=EMAIL_FROM, agent_name="Dana Agent", to_address=customer.reply_to, to_name=customer.from_name,
        subject=customer.subject, parent_id=customer.message_id, parent_references=customer.references,
        parent_in_reply_to=customer.in_reply_to, text=text, files=files, now=NOW,
    )
    options.update(overrides)
    return compose_reply(**options)


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls(tmp_path_factory.mktemp("tls"))


async def _send(message, url: str, **options) -> None:
    sender = SmtpSender(url, **options)
    await sender.send(message)


# --- composing -------------------------------------------------------------------------------------


def test_the_agent_speaks_for_the_team_from_the_support_address():
    assert str(sender_address(EMAIL_FROM, "Dana")) == "Dana at Acme Support <support@acme.example>"
    # Quoted only when the name needs it (RFC 5322 phrase): a comma, a dot, brackets.
    assert str(sender_address('"Acme, Inc." <support@acme.example>', "Dana")) == '"Dana at Acme, Inc." <support@acme.example>'
    assert str(sender_address("support@acme.example", "Dana")) == "Dana <support@acme.example>"
    assert str(sender_address(EMAIL_FROM, None)) == "Acme Support <support@acme.example>"


def test_a_from_setting_that_is_no_address_is_given_up():
    with pytest.raises(GiveUp):
        sender_address("Acme Support", "Dana")


@pytest.mark.parametrize("subject, expected", [
    ("My order #1042", "Re: My order #1042"),
    ("Re: My order", "Re: My order"),
    ("RE: Re: re:My order", "Re: My order"),
    ("Re[2]: AW: SV: My order", "Re: My order"),
    ("Fwd: My order", "Re: Fwd: My order"),
    ("Reward points", "Re: Reward points"),
    ("", "Re: your message"),
    ("Colis abîmé 📦", "Re: Colis abîmé 📦"),
])
def test_the_subject_is_re_once(subject, expected):
    assert reply_subject(subject) == expected


def test_references_keep_the_first_and_the_latest_nineteen():
    chain = [f"<m{i}@x>" for i in range(30)]
    kept = references_for("<parent@x>", chain)
    assert len(kept) == 20
    assert kept[0] == "<m0@x>" and kept[-1] == "<parent@x>"


def test_without_references_the_parents_in_reply_to_starts_the_chain():
    assert references_for("<p@x>", (), "<grand@x>") == ["<grand@x>", "<p@x>"]


def test_a_reply_to_a_message_without_message_id_has_no_in_reply_to_but_is_still_a_reply():
    message = reply_to_customer(parent_id=None, parent_references=(), parent_in_reply_to=None)
    assert message["In-Reply-To"] is None
    assert message["References"] is None
    assert message["Subject"] == "Re: My order #1042"


def test_header_injection_through_names_and_subjects_goes_nowhere():
    message = reply_to_customer(agent_name="Dana\r\nBcc: victim@example.com", to_name="X\nBcc: y@example.com",
                                subject="Hi\r\nBcc: z@example.com")
    raw = message.as_bytes()
    assert b"\nBcc:" not in raw and b"\rBcc:" not in raw
    assert message["Bcc"] is None


def test_an_invalid_customer_address_is_given_up():
    with pytest.raises(GiveUp):
        reply_to_customer(to_address="not an address")


# --- on the wire -----------------------------------------------------------------------------------


async def test_a_reply_arrives_threaded_signed_by_the_agent_and_marked_auto_replied():
    with smtp_server() as (server, port):
        await _send(reply_to_customer(), f"smtp://127.0.0.1:{port}")

    received = server.received[0]
    message = received.message
    assert received.mail_from == "support@acme.example"
    assert received.rcpt_tos == [CUSTOMER]
    assert message["From"] == "Dana Agent at Acme Support <support@acme.example>"
    assert message["To"] == f"Dana Whitfield <{CUSTOMER}>"
    assert message["Subject"] == "Re: My order #1042"
    assert message["In-Reply-To"] == "<CAF=mail-1@mail.example.com>"
    assert message["References"].split() == ["<first@mail.example.com>", "<reply-1@acme.example>",
                                             "<CAF=mail-1@mail.example.com>"]
    assert message["Message-ID"].endswith("@acme.example>")
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert message.get_body(("plain",)).get_content().strip() == "Sorry about that — a new blender ships today. 📦"


async def test_our_own_reply_read_back_is_a_robots_and_never_opens_a_conversation():
    with smtp_server() as (server, port):
        await _send(reply_to_customer(), f"smtp://127.0.0.1:{port}")
    assert parse_email(server.received[0].content).automated == "Auto-Submitted: auto-replied"


async def test_a_customers_answer_to_our_reply_names_it_in_its_thread_ids():
    with smtp_server() as (server, port):
        await _send(reply_to_customer(), f"smtp://127.0.0.1:{port}")
    ours = server.received[0].message["Message-ID"]
    answer = parse_email(make_email("Thanks!", in_reply_to=ours, references=server.received[0].message["References"] + " " + ours))
    assert answer.thread_ids[0] == ours


async def test_files_are_attached_as_real_parts_and_those_over_the_cap_become_links():
    photo = bytes(range(256)) * 4096  # 1 MiB
    video = b"\0" * (11 * 1024 * 1024)
    files = [
        OutgoingFile("label.pdf", "application/pdf", b"%PDF-1.7 label"),
        OutgoingFile("photo.jpg", "image/jpeg", photo),
        OutgoingFile("unboxing.mp4", "video/mp4", video, url="https://baton.example.com/files/tok1"),
        OutgoingFile("huge.zip", "application/zip", video),
        OutgoingFile("manual", None, None, url="https://baton.example.com/files/tok2"),
        OutgoingFile("../notes.txt", "text/plain", "héllo\n".encode()),
    ]
    with smtp_server() as (server, port):
        await _send(reply_to_customer("See attached.", files=files), f"smtp://127.0.0.1:{port}")

    message = server.received[0].message
    parts = [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True)) for p in message.iter_attachments()]
    assert parts == [("label.pdf", "application/pdf", b"%PDF-1.7 label"), ("photo.jpg", "image/jpeg", photo),
                     ("notes.txt", "text/plain", "héllo\n".encode())]
    text = message.get_body(("plain",)).get_content()
    assert "- unboxing.mp4: https://baton.example.com/files/tok1" in text
    assert "- manual: https://baton.example.com/files/tok2" in text
    assert "- huge.zip (not attached: over 10.0 MB together, 11.0 MB)" in text


async def test_a_ten_thousand_character_unicode_reply_arrives_unchanged():
    text = ("Voilà 🙂 — ваш заказ отправлен. 你好。 " * 400)[:10_000].strip()
    with smtp_server() as (server, port):
        await _send(reply_to_customer(text, agent_name="Zoë Ünal"), f"smtp://127.0.0.1:{port}")
    message = server.received[0].message
    assert message.get_body(("plain",)).get_content().strip() == text
    assert message["From"].addresses[0].display_name == "Zoë Ünal at Acme Support"


async def test_login_over_starttls_with_a_percent_encoded_password(tls):
    url = f"smtp://{SMTP_USER.replace('@', '%40')}:{SMTP_PASSWORD.replace('@', '%40').replace('/', '%2F').replace(':', '%3A')}@127.0.0.1:{{port}}?starttls=true"
    with smtp_server(tls=tls, starttls=True, require_starttls=True, auth=True) as (server, port):
        await _send(reply_to_customer(), url.format(port=port), tls_context=tls.client)
    assert server.logins == [(SMTP_USER, SMTP_PASSWORD)]
    assert len(server.received) == 1


async def test_smtps_speaks_tls_from_the_first_byte(tls):
    with smtp_server(tls=tls, implicit_tls=True) as (server, port):
        await _send(reply_to_customer(), f"smtps://127.0.0.1:{port}", tls_context=tls.client)
    assert len(server.received) == 1


async def test_an_untrusted_certificate_is_retried_later_and_nothing_is_sent(tls):
    with smtp_server(tls=tls, implicit_tls=True) as (server, port):
        with pytest.raises(RetryLater) as wait:
            await _send(reply_to_customer(), f"smtps://127.0.0.1:{port}")  # the system CAs do not know it
    assert "TLS" in wait.value.reason or "unreachable" in wait.value.reason
    assert server.received == []


# --- failures --------------------------------------------------------------------------------------


async def test_a_4xx_on_the_recipient_is_retried_later():
    with smtp_server(Recorder(rcpt_answer="451 4.7.1 Greylisted, try again later")) as (server, port):
        with pytest.raises(RetryLater) as wait:
            await _send(reply_to_customer(), f"smtp://127.0.0.1:{port}")
    assert "451" in wait.value.reason


async def test_a_5xx_on_the_recipient_is_given_up_without_the_address():
    answer = f"550 5.1.1 <{CUSTOMER}>: Recipient address rejected: User unknown"
    with smtp_server(Recorder(rcpt_answer=answer)) as (server, port):
        with pytest.raises(GiveUp) as given_up:
            await _send(reply_to_customer(), f"smtp://127.0.0.1:{port}")
    assert given_up.value.code == "550"
    assert "User unknown" in given_up.value.reason
    assert CUSTOMER not in given_up.value.reason


async def test_a_4xx_or_5xx_after_data_maps_the_same_way():
    with smtp_server(Recorder(data_answer="452 4.3.1 Insufficient system storage")) as (_, port):
        with pytest.raises(RetryLater):
            await _send(reply_to_customer(), f"smtp://127.0.0.1:{port}")
    with smtp_server(Recorder(data_answer="554 5.7.1 Message rejected as spam")) as (_, port):
        with pytest.raises(GiveUp) as given_up:
            await _send(reply_to_customer(), f"smtp://127.0.0.1:{port}")
    assert "spam" in given_up.value.reason


async def test_a_wrong_password_is_given_up_and_says_where_to_look(tls):
    with smtp_server(tls=tls, starttls=True, auth=True) as (server, port):
        with pytest.raises(GiveUp) as given_up:
            await _send(reply_to_customer(), f"smtp://{SMTP_USER}:wrong@127.0.0.1:{port}?starttls=true",
                        tls_context=tls.client)
    assert "535" in given_up.value.reason and "BATON_SMTP_URL" in given_up.value.reason
    assert server.received == []


async def test_starttls_asked_of_a_server_without_it_is_given_up():
    with smtp_server() as (server, port):
        with pytest.raises(GiveUp) as given_up:
            await _send(reply_to_customer(), f"smtp://127.0.0.1:{port}?starttls=true")
    assert "STARTTLS" in given_up.value.reason
    assert server.received == []


async def test_a_server_that_requires_starttls_refuses_a_plain_session_for_good(tls):
    with smtp_server(tls=tls, starttls=True, require_starttls=True) as (server, port):
        with pytest.raises(GiveUp) as given_up:
            await _send(reply_to_customer(), f"smtp://127.0.0.1:{port}?starttls=false")
    assert "530" in given_up.value.reason
    assert server.received == []


async def test_connection_refused_is_retried_later():
    with pytest.raises(RetryLater) as wait:
        await _send(reply_to_customer(), f"smtp://127.0.0.1:{free_port()}")
    assert "unreachable" in wait.value.reason


async def test_a_server_that_never_greets_is_retried_later():
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        with pytest.raises(RetryLater) as wait:
            await _send(reply_to_customer(), f"smtp://127.0.0.1:{port}", timeout=0.5)
    finally:
        silent.close()
    assert "in time" in wait.value.reason


# --- the URL ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, expected", [
    ("smtp://user:pass@smtp.example.com:587?starttls=true", SmtpUrl("smtp.example.com", 587, "user", "pass", False, True)),
    ("smtp://smtp.example.com?starttls=true", SmtpUrl("smtp.example.com", 587, None, None, False, True)),
    ("smtps://u%40x.com:p%2Fw@smtp.example.com", SmtpUrl("smtp.example.com", 465, "u@x.com", "p/w", True, False)),
    ("smtp://relay.internal:2525", SmtpUrl("relay.internal", 2525, None, None, False, None)),
    ("smtp://relay.internal", SmtpUrl("relay.internal", 25, None, None, False, None)),
    ("smtp://relay.internal?starttls=false", SmtpUrl("relay.internal", 25, None, None, False, False)),
])
def test_the_smtp_url_says_host_port_login_and_tls(url, expected):
    assert SmtpUrl.parse(url) == expected


@pytest.mark.parametrize("url", ["http://smtp.example.com", "smtp://", "smtp://host:port", "smtp://h?starttls=maybe",
                                 "smtps://h?starttls=true"])
def test_a_wrong_smtp_url_is_refused_with_a_reason(url):
    with pytest.raises(ValueError, match="BATON_SMTP_URL"):
        SmtpUrl.parse(url)


def test_the_settings_build_a_sender_and_none_without_a_url():
    assert SmtpSender.from_settings(load_settings({"BATON_SMTP_URL": "smtp://relay:25"})).url.hostname == "relay"
    assert SmtpSender.from_settings(load_settings({})) is None
    assert load_settings({"BATON_EMAIL_FROM": EMAIL_FROM, "MAILGUN_SIGNING_KEY": "k"}).email_from == EMAIL_FROM
