"""Visitor info from the user agent and the visitor fields (SPEC 4.1 §2)."""

from __future__ import annotations

import pytest

from bot.domain import VisitorFacts, VisitorInput
from bot.visitor import describe_visitor, language_name

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Mobile/15E148 Safari/604.1"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15"
)
CHROME_PIXEL = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 "
    "Mobile Safari/537.36"
)


def facts(user_agent: str) -> tuple[str | None, str | None, str | None]:
    described = describe_visitor(VisitorInput(user_agent=user_agent))
    return described.browser, described.os, described.device


def test_chrome_on_windows_is_a_desktop():
    assert facts(CHROME_WINDOWS) == ("Chrome 120", "Windows 10", "Desktop")


def test_safari_on_an_iphone_names_the_phone():
    assert facts(SAFARI_IPHONE) == ("Mobile Safari 17", "iOS 17", "iPhone")


def test_firefox_on_linux_is_a_desktop():
    assert facts(FIREFOX_LINUX) == ("Firefox 121", "Linux", "Desktop")


def test_an_android_phone_is_named_by_model():
    assert facts(CHROME_PIXEL) == ("Chrome Mobile 120", "Android 14", "Pixel 7")


def test_a_mac_shows_the_frozen_macos_version_the_user_agent_carries():
    assert facts(SAFARI_MAC) == ("Safari 17", "macOS 10.15", "Mac")


def test_an_unrecognisable_user_agent_tells_nothing_rather_than_other():
    assert facts("zzz/?") == (None, None, None)


def test_the_other_visitor_fields_pass_through_and_the_locale_is_named():
    visitor = VisitorInput(
        user_agent=None,
        ip="203.0.113.7",
        locale="en-US",
        location="Austin, US",
        page_url="https://shop.example.com/orders",
        referrer="https://www.example.org/",
    )

    assert describe_visitor(visitor) == VisitorFacts(
        language="English (United States)",
        location="Austin, US",
        page_url="https://shop.example.com/orders",
        referrer="https://www.example.org/",
        ip="203.0.113.7",
    )


def test_no_visitor_means_no_visitor_facts():
    assert describe_visitor(None) is None


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en-US", "English (United States)"),
        ("en_gb", "English (United Kingdom)"),
        ("fr", "French"),
        ("pt-BR", "Portuguese (Brazil)"),
        ("zh-Hant-TW", "Chinese (Taiwan)"),
        ("es-419", "Spanish (Latin America)"),
        ("tlh-QO", "tlh-QO"),
        ("en-XY", "en-XY"),
        ("", None),
        (None, None),
    ],
)
def test_a_locale_is_named_when_known_and_shown_as_given_otherwise(locale, expected):
    assert language_name(locale) == expected
