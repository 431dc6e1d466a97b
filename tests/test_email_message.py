"""A raw message as an InboundEmail: sender, threading ids, the new text, HTML as text, attachments,
robots, and the broken mail strangers send."""

from __future__ import annotations

import pytest

from bot.email.html_text import html_to_text
from bot.email.message import parse_email
from bot.errors import ApiError
from tests.email_messages import CUSTOMER, SUPPORT, make_email

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def test_a_reply_is_read_with_its_sender_recipients_subject_and_thread():
    mail = parse_email(make_email())

    assert mail.from_address == CUSTOMER
    assert mail.from_name == "Dana Whitfield"
    assert mail.reply_to == CUSTOMER
    assert mail.to == (SUPPORT,)
    assert mail.subject == "Re: My order #1042"
    assert mail.message_id == "<CAF=mail-1@mail.example.com>"
    assert mail.in_reply_to == "<reply-1@acme.example>"
    assert mail.references == ("<first@mail.example.com>", "<reply-1@acme.example>")
    assert mail.thread_ids == ("<reply-1@acme.example>", "<first@mail.example.com>")
    assert mail.date.isoformat() == "2026-03-03T10:00:00+00:00"
    assert mail.automated is None


def test_the_new_text_drops_the_quoted_history_and_the_signature_and_the_full_text_keeps_them():
    mail = parse_email(make_email())

    assert mail.new_text == "Yes, it arrived broken. The box was crushed."
    assert "did your parcel arrive?" in mail.text
    assert "Whitfield Design" in mail.text


def test_outlook_style_and_german_quoted_history_are_dropped_too():
    outlook = "Please cancel it.\n\n-----Original Message-----\nFrom: Acme\nSent: Monday\nTo: Dana\nSubject: x\n\nold"
    german = "Ja, bitte.\n\nAm 03.03.2026 um 09:00 schrieb Acme Support <support@acme.example>:\n> Alt"
    assert parse_email(make_email(outlook)).new_text == "Please cancel it."
    assert parse_email(make_email(german)).new_text == "Ja, bitte."


def test_a_message_that_is_only_a_signature_shows_its_whole_text_rather_than_nothing():
    mail = parse_email(make_email("Sent from my iPhone"))
    assert mail.new_text == "Sent from my iPhone"


def test_reply_to_is_where_answers_go_and_from_stays_the_identity():
    mail = parse_email(make_email(headers={"Reply-To": "Dana <Dana.Home@Example.org>"}))
    assert mail.from_address == CUSTOMER
    assert mail.reply_to == "dana.home@example.org"


def test_unicode_and_emoji_subjects_names_and_bodies_survive_encoding():
    text = "Mon colis est abîmé 📦 — ¿y ahora? 你好 👨‍👩‍👧"
    raw = make_email(text, subject="Colis abîmé 📦", sender=f"Zoë Ünal 🙂 <{CUSTOMER}>")
    assert b"=?utf-8?" in raw  # RFC 2047 on the wire
    mail = parse_email(raw)

    assert mail.subject == "Colis abîmé 📦"
    assert mail.from_name == "Zoë Ünal 🙂"
    assert mail.new_text == text


def test_a_ten_thousand_character_body_is_kept_whole():
    text = ("All of this matters to me and I want it on record. " * 200)[:10_000].strip()
    mail = parse_email(make_email(text))
    assert mail.text == text
    assert mail.new_text == text


def test_a_missing_message_id_is_none_and_the_rest_is_read():
    mail = parse_email(make_email("hello", message_id=None, in_reply_to=None, references=None))
    assert mail.message_id is None
    assert mail.thread_ids == ()
    assert mail.new_text == "hello"


def test_ids_without_angle_brackets_are_still_ids():
    raw = (b"From: dana@example.com\r\nMessage-ID: abc@host\r\nIn-Reply-To: reply-1@acme.example\r\n"
           b"Subject: x\r\n\r\nhi\r\n")
    mail = parse_email(raw)
    assert mail.message_id == "<abc@host>"
    assert mail.in_reply_to == "<reply-1@acme.example>"


# --- HTML ------------------------------------------------------------------------------------------


def test_html_only_mail_becomes_plain_text_without_its_script_or_style():
    html = ("<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>"
            "<p>Hello <b>team</b>,</p><p>The blender&nbsp;is broken &amp; leaking.<br>Order 1042</p>"
            "<script>document.write('<p>injected</p>')</script>"
            "<ul><li>photo attached</li><li>receipt too</li></ul>"
            "<p>Track: <a href=\"https://carrier.example/t/1\">here</a> <a href=\"javascript:evil()\">x</a></p>"
            "</body></html>")
    mail = parse_email(make_email(None, html=html))

    assert mail.text == ("Hello team,\n\nThe blender is broken & leaking.\nOrder 1042\n\n- photo attached\n"
                         "- receipt too\n\nTrack: here (https://carrier.example/t/1) x")
    assert "alert" not in mail.text and "injected" not in mail.text and "color" not in mail.text
    assert "javascript" not in mail.text


def test_an_unclosed_script_swallows_nothing_but_itself():
    assert html_to_text("<p>before</p><script>var a = '<p>'; ") == "before"


def test_broken_markup_never_raises():
    assert html_to_text("<div><<<>>> &bogus; &#x1F600; <p</div></td></tr>") .startswith("<<<>>> &bogus; 😀")


def test_when_there_is_plain_text_it_wins_over_html():
    mail = parse_email(make_email("plain words", html="<p>html words</p>"))
    assert mail.text == "plain words"
    assert mail.attachments == ()  # the HTML alternative is not a file


# --- attachments -----------------------------------------------------------------------------------


def test_attachments_and_inline_images_come_with_name_type_and_bytes():
    raw = make_email(None, html='<p>See <img src="cid:shot1"></p>',
                     inline=[("shot.png", "image/png", PNG, "shot1")],
                     attachments=[("receipt.pdf", "application/pdf", b"%PDF-1.7 receipt")])
    mail = parse_email(raw)

    assert [(a.name, a.content_type, a.data, a.inline) for a in mail.attachments] == [
        ("shot.png", "image/png", PNG, True),
        ("receipt.pdf", "application/pdf", b"%PDF-1.7 receipt", False),
    ]
    assert mail.attachments[0].content_id == "shot1"


def test_a_path_in_an_attachment_name_keeps_only_its_last_part():
    mail = parse_email(make_email("x", attachments=[("../../etc/passwd", "text/plain", b"root")]))
    assert mail.attachments[0].name == "passwd"
    assert mail.attachments[0].data == b"root"


def test_a_huge_attachment_is_read_whole_for_the_caller_to_judge():
    big = bytes(range(256)) * (12 * 4096)  # 12 MiB
    mail = parse_email(make_email("big file", attachments=[("video.mp4", "video/mp4", big)]))
    assert mail.attachments[0].data == big


def test_a_forwarded_message_is_one_attachment_not_its_parts():
    inner = make_email("the original", subject="Original")
    raw = (b"From: dana@example.com\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
           b"--B\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--B--\r\n")
    mail = parse_email(raw)
    assert mail.new_text == "see below"
    assert [a.name for a in mail.attachments] == ["message.eml"]
    assert b"the original" in mail.attachments[0].data


# --- robots ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers, reason", [
    ({"Auto-Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
    ({"Auto-Submitted": "auto-generated; owner-email=x@y"}, "Auto-Submitted: auto-generated"),
    ({"Precedence": "bulk"}, "Precedence: bulk"),
    ({"Precedence": "List"}, "Precedence: list"),
    ({"Precedence": "junk"}, "Precedence: junk"),
    ({"List-Id": "Acme customers <customers.acme.example>"}, "a mailing list (List-Id)"),
    ({"Return-Path": "<>"}, "an empty return path (a bounce)"),
    ({"X-Autoreply": "yes"}, "X-Autoreply"),
])
def test_robot_mail_says_why(headers, reason):
    assert parse_email(make_email("I am out of office", headers=headers)).automated == reason


def test_auto_submitted_no_is_a_person():
    assert parse_email(make_email("hi", headers={"Auto-Submitted": "no"})).automated is None


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.com", "Mail Delivery <postmaster@example.com>"])
def test_mailer_daemon_and_postmaster_are_robots(sender):
    assert parse_email(make_email("undeliverable", sender=sender)).automated.startswith("sent by ")


def test_a_delivery_status_report_is_a_robot_and_still_reads():
    raw = (b"From: Mail Delivery System <mailer@mx.example.com>\r\nTo: support@acme.example\r\n"
           b"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n"
           b"--R\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
           b"--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
           b"Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
           b"--R\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: Re: your order\r\n--R--\r\n")
    mail = parse_email(raw)
    assert mail.automated == "a delivery-status report"
    assert mail.new_text == "Your message could not be delivered."


# --- broken mail -----------------------------------------------------------------------------------


def test_bytes_that_are_no_message_are_a_400():
    for raw in (b"", b"   \r\n", b"\x00\xff\xfe not a message at all"):
        with pytest.raises(ApiError) as refused:
            parse_email(raw)
        assert refused.value.status == 400


def test_a_message_without_a_sender_is_a_422_naming_from():
    with pytest.raises(ApiError) as refused:
        parse_email(b"To: support@acme.example\r\nSubject: who am I\r\n\r\nhello\r\n")
    assert (refused.value.status, refused.value.field) == (422, "from")


def test_a_multipart_without_its_closing_boundary_still_reads():
    raw = (b"From: dana@example.com\r\nSubject: cut\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=\"NEVER\"\r\n\r\n--NEVER\r\nContent-Type: text/plain\r\n\r\n"
           b"my text survives\r\n--NEVER\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"JVBERi0x!!!not base64")
    mail = parse_email(raw)
    assert mail.new_text == "my text survives"
    assert mail.attachments[0].content_type == "application/pdf"


def test_an_unknown_charset_and_8bit_garbage_are_decoded_with_replacements():
    raw = (b"From: =?x-unknown?q?Dana?= <dana@example.com>\r\nSubject: =?utf-8?b?!!!broken?=\r\n"
           b"Content-Type: text/plain; charset=x-klingon\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           b"caf\xc3\xa9 and \xff\xfe bytes\r\n")
    mail = parse_email(raw)
    assert mail.from_address == "dana@example.com"
    assert mail.text.startswith("café and ")


def test_a_garbled_from_header_falls_back_to_the_raw_address():
    raw = b"From: \"unterminated <dana@example.com>\r\nSubject: x\r\n\r\nhi\r\n"
    assert parse_email(raw).from_address == "dana@example.com"


def test_a_latin1_body_declared_as_such_is_read_right():
    raw = (b"From: dana@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\nJ'ai re\xe7u un colis ab\xeem\xe9.\r\n")
    assert parse_email(raw).text == "J'ai reçu un colis abîmé."


# --------------------------------------------------------------------------- the header pattern's faster scan

def _fragments() -> list[str]:
    """Lines that set off mail-parser-reply's header alternatives in every language it knows, and near misses."""
    import random
    import re

    from mailparser_reply.constants import MAIL_LANGUAGES

    words: set[str] = set()
    for language in MAIL_LANGUAGES.values():
        for key in ("wrote_header", "from_header"):
            for pattern in (language.get(key) or []) if isinstance(language.get(key), list) else [language.get(key) or ""]:
                words.update(re.findall(r"[^\W\d_]{2,}", pattern.replace("\\s", " ").replace("\\n", " ")))
    words -= {"n", "s"}
    rng = random.Random(11)
    ordered = sorted(words)
    lines = ["-----Original Message-----", "----- Original Message -----", "-----Oprindelig meddelelse-----",
             "> On Tue, 3 Mar 2026 at 09:00, Acme <s@acme.example> wrote:", "On Tue, 3 Mar 2026, Dana wrote:",
             "Am 03.03.2026 um 09:00 schrieb Dana <d@x.de>:", "--", "-- ", "Thanks,", "Dana", "> quoted", ">", ""]
    for word in ordered:
        lines += [f"{word}: Dana <d@example.com>", f"*{word}:* 3 March 2026", f"> {word}: x",
                  f"{word} Tue, 3 Mar 2026 {rng.choice(ordered)} Dana <d@x>:"]
    return lines


def test_the_header_patterns_faster_scan_finds_what_its_own_scan_finds_and_the_new_text_is_the_librarys():
    """mail-parser-reply's header pattern is tried only where a match can start (bot.email.message
    `_TriedWhereItCanStart`): on the fixture mails and on thousands of texts built from every language's header
    words (the matches, the mid-line "-----Oprindelig meddelelse-----", near misses), the same matches as the
    pattern's findall, and the same new text as the library reading the mail itself."""
    import random

    from mailparser_reply import EmailReplyParser
    from mailparser_reply.constants import MAIL_LANGUAGES

    from bot.email import message as module
    from tests import email_messages

    fast = module._PATTERNS["_header_regex"]
    assert isinstance(fast, module._TriedWhereItCanStart), "the faster scan is in use with this mail-parser-reply"
    library = EmailReplyParser(languages=list(MAIL_LANGUAGES))
    fragments = _fragments()
    rng = random.Random(7)
    texts = [email_messages.QUOTED_REPLY, "Only one line.", "", "\n\n", "-----", "x -----Oprindelig meddelelse-----\n"
             "Fra: a\nSendt: b\nTil: c"]
    for _ in range(3000):
        lines = [rng.choice(fragments) for _ in range(rng.randint(1, 12))]
        glue = rng.choice(["\n", "\r\n", "\n\n", " "])
        texts.append(("Hello, my order is late.\n" if rng.random() < 0.7 else "") + glue.join(lines))
    matched = 0
    for text in texts:
        expected = fast.pattern.findall(text)
        assert fast.findall(text) == expected, text
        matched += bool(expected)
        if text.strip():
            replies = library.read(text).replies
            assert module.new_text_of(text) == ((replies[0].body.strip() if replies else "") or text.strip()), text
    assert matched > 400, "the texts set the pattern off often enough to tell"
