"""Agents' files on their way to the customer: a Baton link instead of the platform's own URL.

A file an agent drops into a Slack or Teams thread lives behind that platform's login (Slack's
`url_private`, a Teams `contentUrl`), which the customer does not have. When `BATON_PUBLIC_URL` and a
link secret are set, the customer gets `<public url>/files/<signed token>` instead: the files route
(`bot/web/files_routes.py`) checks the token, looks the attachment up in the stored message and streams
it from the platform with Baton's own credentials. Without them the platform URL is passed on as it is, and the docs say so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Sequence

from bot.links import seal
from bot.settings import Settings

FILES_PATH = "/files/"
PLATFORMS_WITH_LOGINS = ("slack", "teams")


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
        item = {"name": attachment.get("name") or "file", "content_type": attachment.get("content_type"),
                "url": attachment.get("url")}
        secret = settings.link_signing_secret
        if item["url"] and platform in PLATFORMS_WITH_LOGINS and settings.file_links_on and secret:
            expires_at = int(now.timestamp() + settings.file_link_hours * 3600)
            token = seal(secret, {"m": message_id, "i": index}, expires_at=expires_at)
            item["url"] = f"{settings.public_url.rstrip('/')}{FILES_PATH}{token}"
        shared.append(item)
    return shared
