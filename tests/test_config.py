"""SPEC §1: `baton.toml` and the environment are validated when Baton starts. A problem stops every
command with ONE line naming the file, the key and what was expected; a table changes only what it names."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot import config
from bot.settings import DEFAULT_ROLES, ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def _settings(tmp_path: Path, toml: str, monkeypatch=None, **env: str) -> Settings:
    """Settings from a baton.toml named relatively, the way an operator runs Baton beside it."""
    (tmp_path / "baton.toml").write_text(toml, encoding="utf-8")
    if monkeypatch is not None:
        monkeypatch.chdir(tmp_path)
        return load_settings({"BATON_CONFIG": "baton.toml", **env})
    return load_settings({"BATON_CONFIG": str(tmp_path / "baton.toml"), **env})


def _problem(tmp_path: Path, toml: str, monkeypatch) -> str:
    with pytest.raises(ConfigError) as raised:
        _settings(tmp_path, toml, monkeypatch)
    line = str(raised.value)
    assert "\n" not in line
    return line


# --------------------------------------------------------------------------- unknown keys, wrong types, impossible values


def test_an_unknown_key_is_named_with_its_table_and_a_suggestion(tmp_path, monkeypatch):
    line = _problem(tmp_path, '[roles.supervisor]\nsectons = ["profile"]\n', monkeypatch)

    assert line == "baton.toml: [roles.supervisor] unknown key 'sectons' (did you mean 'sections'?)"


@pytest.mark.parametrize("toml,expected", [
    ("[timer]\nreminder = 5\n", "baton.toml: unknown table [timer] (did you mean [timers]?)"),
    ("[webchat]\ncsta = false\n", "baton.toml: [webchat] unknown key 'csta' (did you mean 'csat'?)"),
    ('[[webchat.prechat]]\nlable = "Name"\n',
     "baton.toml: [[webchat.prechat]] #1 unknown key 'lable' (did you mean 'label'?) (and 1 more problem)"),
    ('[routing.billing]\nslak = "C0123BILLING"\n', "baton.toml: [routing.billing] unknown key 'slak' (did you mean 'slack'?)"),
    ("[card]\nglimpse = []\n", "baton.toml: [card] unknown key 'glimpse'"),
])
def test_unknown_keys_and_tables_everywhere(tmp_path, monkeypatch, toml, expected):
    assert _problem(tmp_path, toml, monkeypatch) == expected


@pytest.mark.parametrize("toml,expected", [
    ('[timers]\nreminder = "5"\n', "baton.toml: [timers] reminder: expected a number, got '5'"),
    ("[timers]\nretention_days = 1.5\n", "baton.toml: [timers] retention_days: expected a whole number, got 1.5"),
    ('[topics]\nphrases = "damaged"\n', "baton.toml: [topics] phrases: expected a list, like [\"a\", \"b\"], got 'damaged'"),
    ('[webchat]\nenabled = "yes"\n', "baton.toml: [webchat] enabled: expected true or false, got 'yes'"),
    ("timers = 5\n", "baton.toml: [timers] expected a table, got 5"),
    ('[role_assignments]\n"slack:U1" = 5\n', "baton.toml: [role_assignments] \"slack:U1\": expected text in quotes, got 5"),
])
def test_a_wrong_type_says_what_was_expected(tmp_path, monkeypatch, toml, expected):
    assert _problem(tmp_path, toml, monkeypatch) == expected


@pytest.mark.parametrize("toml,expected", [
    ("[timers]\nretention_days = 0\n", "[timers] retention_days: expected a positive number, got 0"),
    ("[timers]\nreminder = 20\nescalate = 10\n", "[timers] escalate (10 minutes) must come after reminder (20 minutes)"),
    ('[roles.agent]\nsections = ["profile", "timelin"]\n',
     "[roles.agent] sections[2]: 'timelin' is not a card section (did you mean 'timeline'?)"),
    ('[roles.agent]\nhidden_fields = ["phone_number"]\n', "[roles.agent] hidden_fields[1]: 'phone_number' is not a field"),
    ('[roles.supervisor]\nmay = ["merge", "merge"]\n', "[roles.supervisor] may: 'merge' is listed twice"),
    ('[roles.supervsor]\nmay = ["merge"]\n', "[roles.supervsor] is not a role Baton knows (did you mean [roles.supervisor]?)"),
    ('[role_assignments]\n"slack:U1" = "supervsor"\n',
     "[role_assignments] \"slack:U1\" = 'supervsor': no such role (did you mean 'supervisor'?)"),
    ('[routing.billing]\nslack = "#billing"\n', "[routing.billing] slack: expected a Slack channel id like \"C0123ABCD\""),
    ('[routing.billing]\nteams = "Billing"\n', "[routing.billing] teams: expected a Teams channel id like \"19:"),
    ('[routing.slack]\nbilling = "C0123BILLING"\n',
     "[routing.slack] is the old shape of routing: write [routing.billing] slack = \"C0123BILLING\""),
    ('[webchat]\nallowed_origins = ["https://shop.example.com/help"]\n',
     "[webchat] allowed_origins[1]: expected an origin like \"https://www.example.com\""),
    ('[[webchat.prechat]]\nlabel = "Email"\nfield = "email"\nchoices = ["a@b.c"]\n',
     "[[webchat.prechat]] #1 choices cannot go with field = 'email'"),
    ('[[dispositions]]\ncode = "done"\n[[dispositions]]\ncode = "done"\n', "[[dispositions]] code 'done' is listed twice"),
    ('[card]\nglance = []\n', "[card] glance: expected at least one item"),
])
def test_an_impossible_value_is_refused(tmp_path, monkeypatch, toml, expected):
    line = _problem(tmp_path, toml, monkeypatch)

    assert line.startswith("baton.toml: " + expected), line


def test_a_file_that_is_not_toml_or_is_missing_is_one_line_too(tmp_path, monkeypatch):
    assert _problem(tmp_path, "[timers\n", monkeypatch).startswith("baton.toml: not valid TOML: ")
    with pytest.raises(ConfigError, match=r"^missing\.toml: cannot read it \(No such file or directory\)"):
        load_settings({"BATON_CONFIG": "missing.toml"})


# --------------------------------------------------------------------------- partial tables


def test_a_role_table_with_one_key_leaves_every_other_role_and_key_at_its_default(tmp_path):
    settings = _settings(tmp_path, '[roles.supervisor]\nmay = ["merge"]\n')

    assert settings.permissions_for("supervisor") == {"merge"}
    assert settings.roles["supervisor"]["sections"] == DEFAULT_ROLES["supervisor"]["sections"]
    assert settings.hidden_fields_for("supervisor") == frozenset()
    assert settings.roles["agent"] == DEFAULT_ROLES["agent"] and settings.roles["admin"] == DEFAULT_ROLES["admin"]


def test_a_partial_agent_table_keeps_the_defaults_of_the_other_roles(tmp_path):
    settings = _settings(tmp_path, '[roles.agent]\nhidden_fields = ["email", "phone"]\n')

    assert settings.hidden_fields_for("agent") == {"email", "phone"}
    assert settings.sections_for("agent") == frozenset(config.SECTIONS)
    assert settings.permissions_for("supervisor") == {"merge", "export", "lock", "route", "audit"}
    assert settings.permissions_for("admin") == set(config.PERMISSIONS)


def test_the_default_roles(tmp_path):
    settings = load_settings({})

    assert settings.hidden_fields_for("agent") == {"phone", "lifetime_value"}
    assert settings.permissions_for("agent") == frozenset()
    assert settings.sections_for("agent") == frozenset(config.SECTIONS)
    assert settings.permissions_for("supervisor") == {"merge", "export", "lock", "route", "audit"}
    assert settings.permissions_for("admin") == {"merge", "export", "lock", "anonymize", "route", "audit", "transfer_any"}
    assert settings.roles == Settings().roles  # a Settings built in code has the same defaults


def test_a_custom_role_starts_from_the_agent_defaults_and_can_be_assigned(tmp_path):
    settings = _settings(tmp_path, '[roles.billing_lead]\nmay = ["export"]\n\n[role_assignments]\n"slack:U0BILL" = "billing_lead"\n')

    assert settings.permissions_for("billing_lead") == {"export"}
    assert settings.hidden_fields_for("billing_lead") == {"phone", "lifetime_value"}
    assert settings.role_assignments == {"slack:U0BILL": "billing_lead"}


def test_other_partial_tables_merge_onto_their_defaults(tmp_path):
    settings = _settings(tmp_path, "[timers]\nreminder = 2\n\n[webchat]\ncsat = false\n\n[card]\nglance = [\"who\", \"state\"]\n")

    assert (settings.timers.reminder_minutes, settings.timers.escalate_minutes) == (2, 15)
    assert settings.timers.auto_wrapup_minutes == 30 and settings.timers.retention_days == 730
    assert settings.webchat.csat is False and settings.webchat.enabled is True
    assert [q.field for q in settings.webchat.prechat] == ["name", "email", None]
    assert settings.card.glance == ["who", "state"] and settings.card.sections == list(config.SECTIONS)
    assert dict(settings.dispositions)["resolved"] == "Resolved" and settings.topic_phrases[0] == "damaged"


def test_the_whole_file_is_read(tmp_path):
    settings = _settings(tmp_path, """
[[dispositions]]
code = "resolved"
label = "Resolved"

[[dispositions]]
code = "refunded"

[topics]
phrases = ["damaged", "where is my order"]

[timers]
reminder = 2.5
escalate = 10
auto_wrapup = 60
retention_days = 365

[roles.agent]
hidden_fields = ["phone", "lifetime_value", "visitor_ip"]

[role_assignments]
"slack:U0123ABCD" = "admin"
"teams:29:1a2b3c" = "supervisor"

[routing.billing]
slack = "C0123BILLING"
teams = "19:billing@thread.tacv2"
notify = "S0123BILLING"
escalate_to = "C0SUPERVISORS"

[routing.default]
slack = "C0123SUPPORT"

[card]
glance = ["who", "why", "state"]
sections = ["issue", "profile"]

[webchat]
title = "Acme help"
allowed_origins = ["https://www.acme.example", "http://localhost:8080"]

[[webchat.prechat]]
label = "Order number"
required = false

[[webchat.prechat]]
label = "Topic"
choices = ["Billing", "Delivery"]
""")

    assert settings.dispositions == (("resolved", "Resolved"), ("refunded", "refunded"))
    assert settings.topic_phrases == ("damaged", "where is my order")
    assert (settings.timers.reminder_minutes, settings.timers.retention_days) == (2.5, 365)
    assert settings.hidden_fields_for("agent") == {"phone", "lifetime_value", "visitor_ip"}
    assert settings.role_assignments["teams:29:1a2b3c"] == "supervisor"
    assert settings.notify_for("billing") == "S0123BILLING" and settings.escalate_to_for("billing") == "C0SUPERVISORS"
    assert settings.notify_for("returns") is None
    assert settings.card.sections == ["issue", "profile"]
    assert settings.webchat.allowed_origins == ["https://www.acme.example", "http://localhost:8080"]
    assert [(q.label, q.choices) for q in settings.webchat.prechat] == [("Order number", []), ("Topic", ["Billing", "Delivery"])]


# --------------------------------------------------------------------------- [routing.<queue>]


def test_channel_for_takes_the_queues_own_entry_then_the_default_then_the_environment(tmp_path):
    settings = _settings(
        tmp_path,
        '[routing.billing]\nslack = "C0BILLING"\n\n[routing.returns]\nteams = "19:returns@thread.tacv2"\n\n'
        '[routing.default]\nslack = "C0SUPPORT"\n',
        BATON_TEAMS_CHANNEL="19:fallback@thread.tacv2",
    )

    assert settings.channel_for("slack", "billing") == "C0BILLING"
    assert settings.channel_for("slack", "returns") == "C0SUPPORT"  # its table names only teams
    assert settings.channel_for("slack", None) == "C0SUPPORT"
    assert settings.channel_for("teams", "returns") == "19:returns@thread.tacv2"
    assert settings.channel_for("teams", "billing") == "19:fallback@thread.tacv2"  # BATON_TEAMS_CHANNEL
    assert settings.channel_for("record", "billing") is None


def test_route_here_overrides_the_file_and_a_queue_keeps_its_own_channel_over_a_routed_default(tmp_path):
    settings = _settings(tmp_path, '[routing.billing]\nslack = "C0BILLING"\n\n[routing."*"]\nslack = "C0SUPPORT"\n')

    assert settings.channel_for("slack", "billing", routed={"billing": "C0HERE"}) == "C0HERE"
    # `route here` without a queue is for every queue without its own channel: billing has one.
    assert settings.channel_for("slack", "billing", routed={"*": "C0HERE"}) == "C0BILLING"
    assert settings.channel_for("slack", "returns", routed={"*": "C0HERE"}) == "C0HERE"
    assert settings.channel_for("slack", "returns") == "C0SUPPORT"


def test_without_any_route_there_is_no_channel():
    assert Settings().channel_for("slack", "billing") is None


def test_default_and_star_are_the_same_queue(tmp_path, monkeypatch):
    line = _problem(tmp_path, '[routing.default]\nslack = "C0A1"\n\n[routing."*"]\nslack = "C0B2"\n', monkeypatch)

    assert line.startswith('baton.toml: [routing] has both [routing.default] and [routing."*"]')


# --------------------------------------------------------------------------- the environment


@pytest.mark.parametrize("name,value,expected", [
    ("BATON_PORT", "abc", "environment: BATON_PORT: expected a port number from 1 to 65535, got 'abc'"),
    ("BATON_PORT", "70000", "environment: BATON_PORT: expected a port number from 1 to 65535, got 70000"),
    ("BATON_FILE_LINK_HOURS", "0", "environment: BATON_FILE_LINK_HOURS: expected a positive, finite number of hours, got '0'"),
    ("BATON_TEAMS_DEV", "maybe", "environment: BATON_TEAMS_DEV: expected 1/true/yes/on or 0/false/no/off, got 'maybe'"),
    ("BATON_TRUSTED_PROXIES", "10.0.0.1, proxy.local", "environment: BATON_TRUSTED_PROXIES: expected IP addresses or networks"),
    ("BATON_EMAIL_FROM", "support", "environment: BATON_EMAIL_FROM: expected an address like"),
    ("BATON_SMTP_URL", "mail.example.com", "environment: BATON_SMTP_URL: expected smtp://"),
    ("BATON_DATABASE_URL", "mysql://root@db/baton", "environment: BATON_DATABASE_URL: expected sqlite://<file> or postgres://"),
    ("BATON_PUBLIC_URL", "baton.example.com", "environment: BATON_PUBLIC_URL: expected an http(s):// URL"),
    ("MicrosoftAppType", "Multitenant", "environment: MicrosoftAppType: expected one of MultiTenant, SingleTenant"),
    ("TWILIO_MESSAGING_SERVICE_SID", "MG123", "environment: TWILIO_MESSAGING_SERVICE_SID: expected a Twilio Messaging"),
    ("BATON_SLACK_CHANNEL", "#support", "environment: BATON_SLACK_CHANNEL: expected a Slack channel id"),
])
def test_a_bad_environment_variable_is_one_line(name, value, expected):
    with pytest.raises(ConfigError) as raised:
        load_settings({name: value})

    assert str(raised.value).startswith(expected) and "\n" not in str(raised.value)


def test_a_secrets_value_never_appears_in_its_error():
    with pytest.raises(ConfigError) as raised:
        load_settings({"SLACK_APP_TOKEN": "xoxb-5555-topsecret"})  # the bot token pasted in the wrong place

    assert "SLACK_APP_TOKEN" in str(raised.value) and "xapp-" in str(raised.value)
    assert "topsecret" not in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        load_settings({"BATON_DATABASE_URL": "mysql://root:hunter2@db/baton"})
    assert "hunter2" not in str(raised.value)


def test_an_empty_variable_is_unset_and_values_are_trimmed():
    settings = load_settings({"BATON_PORT": "", "BATON_HOST": " 0.0.0.0 \n", "SLACK_BOT_TOKEN": ""})

    assert (settings.port, settings.host, settings.slack_bot_token) == (3978, "0.0.0.0", None)


def test_the_new_channel_settings_are_read():
    settings = load_settings({
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+14155550100",
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "a" * 32, "BATON_EMAIL_FROM": "Acme Support <support@acme.example>",
        "BATON_SMTP_URL": "smtp://u:p@smtp.example.com:587?starttls=true", "MAILGUN_SIGNING_KEY": "key-1",
        "BATON_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16,2001:db8::/32",
    })

    assert settings.sms_enabled and settings.email_enabled and settings.email_outbound_enabled
    assert settings.twilio_from == "+14155550100" and settings.email_from.endswith("<support@acme.example>")
    assert ipaddress.ip_address("10.1.2.3") in settings.trusted_proxies[1]
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.5/32", "10.1.0.0/16", "2001:db8::/32"]
    assert settings.webchat_enabled


def test_surfaces_without_credentials_are_off():
    settings = load_settings({"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "BATON_SMTP_URL": "smtp://smtp.example.com"})

    assert not settings.sms_enabled  # no auth token
    assert not settings.email_enabled and not settings.email_outbound_enabled  # no webhook auth, no sender
    assert load_settings({"BATON_WEBHOOK_TOKEN": "t"}).email_inbound_enabled


# --------------------------------------------------------------------------- the `baton` command


def _baton(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "SLACK_", "Microsoft", "TWILIO_", "MAILGUN_"))}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [["serve"], ["demo"], ["migrate"], ["config", "check"]])
def test_every_command_refuses_a_bad_baton_toml_with_one_line_and_exit_code_2(tmp_path, command):
    (tmp_path / "baton.toml").write_text('[roles.supervisor]\nsectons = ["profile"]\n', encoding="utf-8")

    done = _baton(*command, cwd=tmp_path, BATON_CONFIG="baton.toml")

    assert done.returncode == 2
    assert done.stderr == "baton.toml: [roles.supervisor] unknown key 'sectons' (did you mean 'sections'?)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baton.toml"]  # no database, no demo output


def test_serve_refuses_a_bad_environment_variable(tmp_path):
    done = _baton("serve", cwd=tmp_path, BATON_PORT="abc")

    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr == "environment: BATON_PORT: expected a port number from 1 to 65535, got 'abc'\n"


SECRETS = {
    "BATON_WEBHOOK_SECRET": "whsec-sekrit-1", "BATON_WEBHOOK_TOKEN": "tok-sekrit-2", "BATON_LINK_SECRET": "link-sekrit-3",
    "SLACK_BOT_TOKEN": "xoxb-sekrit-4", "SLACK_SIGNING_SECRET": "sign-sekrit-5", "SLACK_APP_TOKEN": "xapp-sekrit-6",
    "SLACK_CLIENT_SECRET": "client-sekrit-7", "MicrosoftAppPassword": "ms-sekrit-8", "TWILIO_AUTH_TOKEN": "tw-sekrit-9",
    "MAILGUN_SIGNING_KEY": "mg-sekrit-10",
    "BATON_DATABASE_URL": "postgres://baton:db-sekrit-11@db.internal:5432/baton",
    "BATON_SMTP_URL": "smtp://mailer:smtp-sekrit-12@smtp.example.com:587?starttls=true",
}


def test_config_check_prints_the_effective_settings_with_every_secret_masked(tmp_path):
    (tmp_path / "baton.toml").write_text('[roles.supervisor]\nmay = ["merge"]\n\n[routing.billing]\nslack = "C0BILLING"\n',
                                         encoding="utf-8")

    done = _baton("config", "check", cwd=tmp_path, BATON_CONFIG="baton.toml", BATON_PORT="8080",
                  BATON_EMAIL_FROM="Acme Support <support@acme.example>", **SECRETS)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "sekrit" not in out
    assert "SLACK_BOT_TOKEN=********" in out and "MicrosoftAppPassword=********" in out
    assert "BATON_DATABASE_URL=postgres://baton:********@db.internal:5432/baton" in out
    assert "BATON_SMTP_URL=smtp://mailer:********@smtp.example.com:587?starttls=true" in out
    assert "BATON_PORT=8080" in out and "# BATON_PUBLIC_URL is not set" in out
    assert "# Slack: on" in out and "# email replies: on" in out
    # The baton.toml part is a valid file with every key: read back, it gives the same settings.
    toml_part = out[out.index("# --- baton.toml"):]
    reread = config.parse_toml(tomllib.loads(toml_part))
    assert reread.effective_roles()["supervisor"]["may"] == ("merge",)
    assert reread.effective_roles()["agent"]["hidden_fields"] == ("phone", "lifetime_value")
    assert reread.routing["billing"].slack == "C0BILLING" and reread.timers.retention_days == 730


def test_config_check_with_no_file_shows_the_defaults(tmp_path):
    done = _baton("config", "check", cwd=tmp_path)

    assert done.returncode == 0
    assert "BATON_CONFIG is not set" in done.stdout and 'glance = [' in done.stdout
