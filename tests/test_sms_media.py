"""MMS media the customer sent, fetched from the fake Twilio with Basic auth and a 10 MB cap."""

from __future__ import annotations

import aiohttp
import pytest

from bot.delivery.poster import GiveUp, RetryLater
from bot.sms.media import MAX_MEDIA_BYTES, fetch_media, is_twilio_media
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


@pytest.fixture
async def twilio():
    async with FakeTwilio() as fake:
        yield fake


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def _fetch(http, twilio, url, **options):
    return await fetch_media(http, url, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, api_url=twilio.url, **options)


async def test_a_photo_is_fetched_with_basic_auth_as_name_type_and_bytes(twilio, http):
    url = twilio.add_media(PNG, "image/png")
    media = await _fetch(http, twilio, url)

    assert media.data == PNG
    assert media.content_type == "image/png"
    assert media.name.startswith("ME") and media.name.endswith(".png")
    assert twilio.media_requests[0][1].startswith("Basic ")


async def test_a_redirect_to_the_media_store_is_followed_without_baton_credentials(twilio, http):
    url = twilio.add_media(b"%PDF-1.7 label", "application/pdf", redirect=True)
    media = await _fetch(http, twilio, url)

    assert media.data == b"%PDF-1.7 label"
    assert media.name.endswith(".pdf")
    assert twilio.cdn_requests == [(twilio.cdn_requests[0][0], None)]  # no Authorization reached the other origin


async def test_a_file_over_10_mb_is_refused_by_its_content_length(twilio, http):
    url = twilio.add_media(b"\0" * (MAX_MEDIA_BYTES + 1), "video/mp4")
    with pytest.raises(GiveUp) as refused:
        await _fetch(http, twilio, url)
    assert "10 MB" in refused.value.reason


async def test_a_file_over_the_cap_without_content_length_is_stopped_while_streaming(twilio, http):
    url = twilio.add_media(b"\0" * (3 * 1024 * 1024), "video/mp4", chunked=True)
    with pytest.raises(GiveUp):
        await _fetch(http, twilio, url, max_bytes=1024 * 1024)


async def test_a_chunked_file_within_the_cap_arrives_whole(twilio, http):
    content = bytes(range(256)) * 4096  # 1 MiB
    url = twilio.add_media(content, "image/jpeg", chunked=True)
    media = await _fetch(http, twilio, url)
    assert media.data == content
    assert media.name.endswith(".jpg")


async def test_wrong_credentials_are_a_refusal(twilio, http):
    url = twilio.add_media(PNG, "image/png")
    with pytest.raises(GiveUp) as refused:
        await fetch_media(http, url, account_sid=ACCOUNT_SID, auth_token="wrong", api_url=twilio.url)
    assert "401" in refused.value.reason


async def test_a_url_that_is_not_twilios_is_never_sent_credentials(twilio, http):
    with pytest.raises(GiveUp):
        await _fetch(http, twilio, "http://127.0.0.1:9/steal")
    with pytest.raises(GiveUp):
        await _fetch(http, twilio, "www.contoso.com")  # the MMS fixture's MediaUrl0
    assert twilio.media_requests == []


async def test_twilio_unreachable_is_retried_later(twilio, http):
    url = twilio.add_media(PNG, "image/png")
    await twilio.refuse_connections()
    with pytest.raises(RetryLater):
        await _fetch(http, twilio, url)


def test_only_twilios_api_origin_or_the_configured_stand_in_gets_credentials():
    assert is_twilio_media("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "https://api.twilio.com")
    assert not is_twilio_media("http://api.twilio.com/x", "https://api.twilio.com")
    assert not is_twilio_media("https://api.twilio.com.evil.example/x", "https://api.twilio.com")
    assert is_twilio_media("http://127.0.0.1:8080/x", "http://127.0.0.1:8080")
    assert not is_twilio_media("http://127.0.0.1:8081/x", "http://127.0.0.1:8080")
