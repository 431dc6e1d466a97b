"""Reading Teams / Bot Framework activities (raw dicts) into what the turn logic needs.

Pure functions: who is acting, where (personal chat, channel, handoff thread), the command text with
the bot's mention removed, and the serialized conversation reference kept for proactive posts.
"""

from __future__ import annotations

import html
import re
from typing import Any, Mapping

from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

THREAD_MARK = ";messageid="
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/p|/div)\s*/?>", re.IGNORECASE)


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def text_of(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def conversation_id(activity: Mapping[str, Any]) -> str:
    return text_of(mapping(activity.get("conversation")).get("id")) or ""


def base_conversation_id(conversation: str) -> str:
    """`19:…@thread.tacv2;messageid=123` → `19:…@thread.tacv2` (the channel the thread lives in)."""
    return conversation.split(THREAD_MARK, 1)[0]


def is_thread(conversation: str) -> bool:
    return THREAD_MARK in conversation


def channel_data(activity: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(activity.get("channelData"))


def tenant_id(activity: Mapping[str, Any]) -> str | None:
    return text_of(mapping(channel_data(activity).get("tenant")).get("id")) or text_of(
        mapping(activity.get("conversation")).get("tenantId")
    )


def team_id(activity: Mapping[str, Any]) -> str | None:
    return text_of(mapping(channel_data(activity).get("team")).get("id"))


def teams_channel_id(activity: Mapping[str, Any]) -> str | None:
    """The channel's id: channelData.channel.id, else the conversation id without its thread part."""
    explicit = text_of(mapping(channel_data(activity).get("channel")).get("id"))
    if explicit:
        return explicit
    if conversation_type(activity) == "channel":
        return base_conversation_id(conversation_id(activity)) or None
    return None


def conversation_type(activity: Mapping[str, Any]) -> str:
    """personal | channel | groupChat."""
    conversation = mapping(activity.get("conversation"))
    declared = text_of(conversation.get("conversationType"))
    if declared:
        return declared
    if mapping(channel_data(activity).get("channel")) or is_thread(conversation_id(activity)):
        return "channel"
    if conversation.get("isGroup"):
        return "groupChat"
    return "personal"


def bot_account(activity: Mapping[str, Any]) -> dict[str, Any]:
    recipient = mapping(activity.get("recipient"))
    return {k: recipient[k] for k in ("id", "name") if recipient.get(k)}


def sender(activity: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(activity.get("from"))


def mentions_bot(activity: Mapping[str, Any]) -> bool:
    bot_id = bot_account(activity).get("id")
    for entity in activity.get("entities") or ():
        entity = mapping(entity)
        if entity.get("type") == "mention" and bot_id and mapping(entity.get("mentioned")).get("id") == bot_id:
            return True
    return False


def plain_text(text: str) -> str:
    """Teams sends message text as light HTML: drop tags, decode entities, keep line breaks."""
    text = _BREAK.sub("\n", text)
    text = _TAG.sub("", text)
    return html.unescape(text).replace("\xa0", " ").strip()


def command_text(activity: Mapping[str, Any]) -> str:
    """The text after the bot's @mention (each mention entity's own text is removed, then any <at>)."""
    text = activity.get("text") if isinstance(activity.get("text"), str) else ""
    bot_id = bot_account(activity).get("id")
    for entity in activity.get("entities") or ():
        entity = mapping(entity)
        if entity.get("type") == "mention" and mapping(entity.get("mentioned")).get("id") == bot_id:
            mention = entity.get("text")
            if isinstance(mention, str) and mention:
                text = text.replace(mention, " ")
    name = bot_account(activity).get("name")
    if name:
        text = re.sub(rf"<at[^>]*>\s*@?{re.escape(name)}\s*</at>", " ", text, flags=re.IGNORECASE)
    return " ".join(plain_text(text).split())


def reference_of(activity: Mapping[str, Any], *, conversation: str | None = None) -> dict[str, Any]:
    """The serialized ConversationReference (botbuilder's shape) plus Teams' tenant, team and channel."""
    account = mapping(activity.get("conversation"))
    user = sender(activity)
    reference = ConversationReference(
        activity_id=text_of(activity.get("id")),
        user=ChannelAccount(id=user.get("id"), name=user.get("name")) if user.get("id") else None,
        bot=ChannelAccount(**bot_account(activity)) if bot_account(activity) else None,
        conversation=ConversationAccount(
            id=conversation or conversation_id(activity),
            is_group=conversation_type(activity) != "personal",
            conversation_type=conversation_type(activity),
            tenant_id=tenant_id(activity),
            name=account.get("name"),
        ),
        channel_id=text_of(activity.get("channelId")) or "msteams",
        locale=text_of(activity.get("locale")),
        service_url=text_of(activity.get("serviceUrl")),
    ).serialize()
    reference.update(tenantId=tenant_id(activity), teamId=team_id(activity), teamsChannelId=teams_channel_id(activity))
    return {k: v for k, v in reference.items() if v is not None}
