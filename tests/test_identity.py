"""Identity normalization (SPEC 5): emails without case, phones in E.164, other ids as given."""

from __future__ import annotations

import pytest

from bot.domain import CustomerInput
from bot.identity import identities_of, normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Dana.W@Example.com", "dana.w@example.com"),
        ("  dana.w@example.com\n", "dana.w@example.com"),
        ("Dana Whitfield <Dana.W@Example.com>", "dana.w@example.com"),
        ("mailto:Dana.W@Example.com", "dana.w@example.com"),
        ("zoë@bücher.example", "zoë@bücher.example"),
    ],
)
def test_an_email_is_stripped_and_lower_cased(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", ["dana", "dana@", "@example.com", "dana@example", "da na@example.com", "a@@b.com", "", None, 42])
def test_something_that_is_not_an_email_address_normalizes_to_none(raw):
    assert normalize_email(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 415 555 0123", "+14155550123"),
        ("(415) 555-0123", "+14155550123"),
        ("415.555.0123", "+14155550123"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_a_phone_number_becomes_e164(raw, expected):
    assert normalize_phone(raw) == expected


def test_a_national_number_is_read_in_the_default_region():
    assert normalize_phone("020 7946 0958") is None  # not a US number
    assert normalize_phone("020 7946 0958", default_region="GB") == "+442079460958"


@pytest.mark.parametrize("raw", ["call me maybe", "555", "+1 415", "", "   ", None, 4155550123])
def test_garbage_or_an_impossible_number_normalizes_to_none(raw):
    assert normalize_phone(raw) is None


def test_identities_come_normalized_in_a_stable_order():
    customer = CustomerInput(
        name="Dana Whitfield",
        email="Dana.W@Example.com",
        phone="(415) 555-0123",
        external_ids={"CRM ": " C-1042", "shop": "U-77"},
        channel_ids=(("msteams", "29:1AbC"), ("sms", "+14155550123")),
    )

    assert identities_of(customer) == [
        ("email", "dana.w@example.com"),
        ("phone", "+14155550123"),
        ("crm", "C-1042"),
        ("shop", "U-77"),
        ("msteams", "29:1AbC"),
        ("sms", "+14155550123"),
    ]


def test_invalid_or_blank_identities_are_left_out_and_repeats_dropped():
    customer = CustomerInput(
        email="not an email",
        phone="garbage",
        external_ids={"crm": "  "},
        channel_ids=(("sms", "+14155550123"), ("sms", "+14155550123")),
    )

    assert identities_of(customer) == [("sms", "+14155550123")]


def test_a_customer_nobody_knows_has_no_identities():
    assert identities_of(CustomerInput(name="Dana")) == []
