"""Conversation and case control (SPEC 4.2): transfer, unclaim, and a case's close, cancel and priority.

Decided here once for commands and card buttons. The card follows through `card_changed`; the customer's
side hears the change through the status stream (`queued` after an unclaim or a transfer to a queue,
`accepted` with the new agent after a transfer to an agent).
"""

from __future__ import annotations

import re

from bot.core import roles
from bot.core.services import Services
from bot.domain import Actor, public_id
from bot.errors import UserError
from storage import cases, conversations
from storage.changes import card_changed
from storage.summary import load_conversation

PRIORITIES = ("Low", "Normal", "High", "Urgent")
# A Slack user mention as Slack sends it in command text: <@U123> or <@U123|name>.
_SLACK_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|([^>]*))?>$")
_QUEUE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


async def _may_move(services: Services, actor: Actor, conversation_id: int) -> None:
    """The agent who holds the conversation may give it away; anyone else needs `transfer_any`."""
    holder = await conversations.claimed_by(conversation_id)
    if holder is None:
        raise UserError(f"#{public_id(conversation_id)} is not claimed; claim it from the card first.")
    if holder != (actor.platform, actor.user_id) and not roles.may(services.settings, actor, "transfer_any"):
        raise UserError(f"#{public_id(conversation_id)} is claimed by someone else; only they, or a supervisor "
                        "with `transfer_any`, can move it.")


async def unclaim(services: Services, actor: Actor, conversation_id: int) -> str:
    await _may_move(services, actor, conversation_id)
    if not await conversations.unclaim(conversation_id, by=actor.label, queue=None, targets=services.targets,
                                       now=services.clock()):
        raise UserError(f"#{public_id(conversation_id)} is no longer claimed.")
    services.wake()
    return f"#{public_id(conversation_id)} is back in the queue for the next agent."


def agent_of(actor: Actor, target: str) -> Actor | None:
    """`<@U123>` (Slack) as the agent it names, on the caller's platform; None when it is not a mention."""
    match = _SLACK_MENTION.match(target.strip())
    if not match:
        return None
    return Actor(platform=actor.platform, user_id=match.group(1), display_name=match.group(2) or None, role="agent")


async def transfer(services: Services, actor: Actor, conversation_id: int, target: str) -> str:
    """To `<@agent>` (claimed by them at once) or to a queue (unclaimed, in that queue)."""
    agent = agent_of(actor, target)
    if agent is not None:
        return await transfer_to_agent(services, actor, conversation_id, agent)
    return await transfer_to_queue(services, actor, conversation_id, target)


async def transfer_to_agent(services: Services, actor: Actor, conversation_id: int, agent: Actor, *,
                            field: str = "to") -> str:
    await _may_move(services, actor, conversation_id)
    ref = public_id(conversation_id)
    if (agent.platform, agent.user_id) == (actor.platform, actor.user_id):
        raise UserError(f"#{ref} is already yours.", field=field)
    await conversations.transfer(conversation_id, agent, targets=services.targets, now=services.clock())
    services.wake()
    return f"#{ref} is now claimed by {agent.label}; their thread replies go to the customer."


async def transfer_to_queue(services: Services, actor: Actor, conversation_id: int, target: str, *,
                            field: str = "to") -> str:
    await _may_move(services, actor, conversation_id)
    ref, now = public_id(conversation_id), services.clock()
    queue = target.strip().lstrip("#")
    if not _QUEUE.match(queue):
        raise UserError(f"Transfer to an agent (mention them) or a queue name, not “{target}”.", field=field)
    if not await conversations.unclaim(conversation_id, by=actor.label, queue=queue, targets=services.targets, now=now):
        raise UserError(f"#{ref} is no longer claimed.")
    services.wake()
    return f"#{ref} is now in the {queue} queue, waiting for an agent."


async def linked_case(conversation_id: int) -> cases.CaseRef:
    record = await load_conversation(conversation_id)
    if record is None or record.case_id is None:
        raise UserError(f"#{public_id(conversation_id)} has no case. Link one with `case <case>` or `case new <title>`.")
    found = await cases.find_case_by_id(record.case_id)
    if found is None:
        raise UserError(f"#{public_id(conversation_id)} has no case.")
    return found


async def _touch(services: Services, case: cases.CaseRef) -> None:
    for conversation_id in await conversations.open_conversations_of_case(case.id):
        await card_changed(conversation_id, services.targets, services.clock())
    services.wake()


async def close_case(services: Services, actor: Actor, conversation_id: int) -> str:
    case = await linked_case(conversation_id)
    if case.status in ("closed", "canceled"):
        raise UserError(f"Case {case.number} is already {case.status}.")
    await cases.set_status(case, "closed", by=actor.label, now=services.clock())
    await _touch(services, case)
    return f"Case {case.number} is closed."


async def cancel_case(services: Services, actor: Actor, conversation_id: int) -> str:
    case = await linked_case(conversation_id)
    if case.status == "canceled":
        raise UserError(f"Case {case.number} is already canceled.")
    removed = await cases.set_status(case, "canceled", by=actor.label, now=services.clock())
    await _touch(services, case)
    comments = f"{removed} internal comment{'s' if removed != 1 else ''}"
    return f"Case {case.number} is canceled; its {comments} {'were' if removed != 1 else 'was'} deleted."


async def set_priority(services: Services, actor: Actor, conversation_id: int, priority: str) -> str:
    chosen = next((p for p in PRIORITIES if p.lower() == priority.strip().lower()), None)
    if chosen is None:
        raise UserError(f"Priority is one of: {', '.join(PRIORITIES)}.", field="priority")
    case = await linked_case(conversation_id)
    await cases.set_priority(case, chosen, now=services.clock())
    await _touch(services, case)
    return f"Case {case.number} now has priority {chosen}."
