"""Agents' files on their way to the customer: a Baton link instead of the platform's own URL.

A file an agent drops into a Slack or Teams thread lives behind that platform's login (Slack's
`url_private`, a Teams attachment `contentUrl`), which the customer does not have. When
`BATON_PUBLIC_URL` and `BATON_LINK_SECRET` are set, the customer gets `<public url>/files/<signed token>`
instead: the files route (`bot/web/files_routes.py`) checks the token, looks the attachment up in the
stored message and streams it from the platform with Baton's own credentials.

Baton sends those credentials only to the platform's own file hosts (`fetchable`): a URL anywhere else
(a Slack permalink or remote file, a SharePoint link from Teams, anything an agent could point at their
own server) is passed on as it is and never fetched with a token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

from bot.links import seal
from bot.settings import Settings
from storage import customer_files, relay

FILES_PATH = "/files/"
FILE_CLAIM = "file"  # the `k` claim of a file link, so no other kind of Baton link can pass as one
CUSTOMER_FILE_CLAIM = "cfile"  # a customer's file (web chat upload, MMS), for platforms that take links only
SLACK_FILE_HOSTS = frozenset({"files.slack.com", "files.slack-gov.com"})
# Teams keeps message attachments on the Bot Framework service (…/v3/attachments/…) and on ASM.
TEAMS_ATTACHMENT_HOST_SUFFIXES = (".trafficmanager.net", ".botframework.com", ".asm.skype.com")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
PLATFORM_ONLY_TYPES = ("application/vnd.microsoft.",)  # Teams' own attachment kinds mean nothing elsewhere


def fetchable(platform: str | None, url: str | None, settings: Settings) -> bool:
    """Whether `url` is a file host of `platform` that Baton may send its token to."""
    if not url:
        return False
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if platform == "slack":
        api = urlsplit(settings.slack_api_url)
        if parts.scheme == "https" and host in SLACK_FILE_HOSTS:
            return True
        # A Slack Web API stand-in (tests, an enterprise proxy) serves its files from its own origin.
        return (parts.scheme, parts.netloc) == (api.scheme, api.netloc) and api.hostname not in (None, "slack.com")
    if platform == "teams":
        if parts.scheme == "https" and host.endswith(TEAMS_ATTACHMENT_HOST_SUFFIXES):
            return host.endswith(".asm.skype.com") or "/v3/attachments/" in parts.path
        # BATON_TEAMS_DEV talks to a local Bot Connector (the Emulator, tests) on loopback only.
        return settings.teams_dev and host in LOOPBACK_HOSTS and "/v3/attachments/" in parts.path
    return False


def for_customer(
    message_id: int,
    attachments: Sequence[Mapping[str, Any]],
    *,
    platform: str | None,
    settings: Settings,
    now: datetime,
) -> list[dict[str, Any]]:
    """The attachments of agent message `message_id` as the customer's side receives them: name,
    content type and a URL they can open. The link names the message and the attachment's place in
    it, not the platform URL, so nothing of Slack's or Teams' addresses leaks to the customer."""
    shared = []
    for index, attachment in enumerate(attachments):
        content_type = attachment.get("content_type")
        if isinstance(content_type, str) and content_type.startswith(PLATFORM_ONLY_TYPES):
            content_type = None
        item = {"name": attachment.get("name") or "file", "content_type": content_type, "url": attachment.get("url")}
        if settings.file_links_on and fetchable(platform, item["url"], settings):
            expires_at = int(now.timestamp() + settings.file_link_hours * 3600)
            token = seal(settings.link_secret, {"k": FILE_CLAIM, "m": message_id, "i": index}, expires_at=expires_at)
            item["url"] = f"{settings.public_url.rstrip('/')}{FILES_PATH}{token}"
        shared.append(item)
    return shared


async def shared_file(message_id: int, index: int) -> tuple[str, dict[str, Any]] | None:
    """(platform, attachment) of a file an agent shared with the customer, or None when there is no such
    file any more (the message was internal, or the customer was anonymized)."""
    return await relay.shared_file(message_id, index)


def customer_file_link(settings: Settings, conversation_id: int, file_id: int, *, now: datetime) -> str | None:
    """A signed, expiring Baton link to a customer's stored file (for a platform that shows files as links,
    such as a Teams channel for anything but images); None when file links are off."""
    if not settings.file_links_on:
        return None
    expires_at = int(now.timestamp() + settings.file_link_hours * 3600)
    token = seal(settings.link_secret, {"k": CUSTOMER_FILE_CLAIM, "c": conversation_id, "f": file_id}, expires_at=expires_at)
    return f"{settings.public_url.rstrip('/')}{FILES_PATH}{token}"


async def customer_file(conversation_id: int, file_id: int):
    """The stored customer file a link names, or None (gone, or not of that conversation)."""
    return await customer_files.of_conversation(file_id, conversation_id)
