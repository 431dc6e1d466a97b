"""What an edge asks about a handoff thread it received a message or a click in."""

from __future__ import annotations

from storage import cases, conversations, lanes, posts


async def conversation_of_thread(platform: str, thread_ref: str | None, channel: str | None = None) -> int | None:
    """The conversation whose handoff thread is `thread_ref` on `platform` (a Slack ts, a Teams thread id);
    `channel`, the channel id the message came from, tells apart threads that share a ts (Slack's are unique
    only within a channel)."""
    if not thread_ref:
        return None
    with lanes.urgent():  # an agent typed in the thread and waits for Baton (storage.lanes)
        return await posts.find_conversation_by_thread(platform, thread_ref, channel)


async def case_number_of(conversation_id: int) -> str | None:
    """The case the conversation is about, if any."""
    return await cases.case_number_of_conversation(conversation_id)


async def open_conversation_of(source: str, external_id: str) -> int | None:
    """The open conversation a source's own conversation id was handed off as (e.g. a Bot Framework chat)."""
    return await conversations.open_conversation_of(source, external_id)
