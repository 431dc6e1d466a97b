"""Handoff payload factories with defaults and overrides: one customer, Dana Whitfield, in each format."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "data" / "fixtures"

OMIT: Any = object()
"""Pass as an override to leave a key out, e.g. `make_generic_payload(source=OMIT)`."""

DANA = {"name": "Dana Whitfield", "email": "Dana.W@Example.com", "phone": "+1 415 555 0123"}
CUSTOMER_SAYS = "my parcel arrived damaged"
BOT_SAYS = "I'm sorry to hear that. Let me get a person."


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


def _apply(payload: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if value is OMIT:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def make_generic_payload(**overrides: Any) -> dict[str, Any]:
    """The SPEC 3.1 example body."""
    payload = {
        "source": "acme-virtual-agent",
        "conversation_id": "va-7f3a",
        "channel": "webchat",
        "kind": "customer",
        "queue": "billing",
        "customer": {**DANA, "external_ids": {"crm": "C-1042"}},
        "prechat": [{"question": "What is your order number?", "answer": "SO-99812"}],
        "visitor": {
            "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36",
            "ip": "203.0.113.7",
            "locale": "en-US",
            "location": "Austin, US",
            "page_url": "https://shop.example.com/orders",
            "referrer": None,
        },
        "bot": {
            "name": "Acme Assistant",
            "last_topic": "Order status",
            "topics": ["Greeting", "Order status"],
            "reason": "customer asked for a human",
            "agent_message": "Customer says the parcel arrived damaged.",
        },
        "transcript": [
            {"from": "customer", "text": CUSTOMER_SAYS, "at": "2026-11-22T10:01:00Z"},
            {"from": "bot", "text": BOT_SAYS, "at": "2026-11-22T10:01:02Z"},
        ],
        "case": {"number": "CAS-01234"},
        "reply_url": "https://va.example.com/agent-replies",
    }
    return _apply(copy.deepcopy(payload), overrides)


def make_botframework_activity(**overrides: Any) -> dict[str, Any]:
    """A Copilot Studio style handoff.initiate event about Dana, with a Transcript attachment."""
    user = {"id": "dl_dana-1", "name": "Dana Whitfield", "role": "user"}
    bot = {"id": "bot-acme", "name": "Acme Assistant", "role": "bot"}
    conversation = {"id": "dl-conv-7f3a"}
    activity = {
        "type": "event",
        "name": "handoff.initiate",
        "id": "dl-conv-7f3a|0000005",
        "timestamp": "2026-11-22T10:01:03.1234567Z",
        "channelId": "directline",
        "serviceUrl": "https://directline.botframework.com/",
        "from": bot,
        "conversation": conversation,
        "value": {
            "va_Scope": "bot",
            "va_BotName": "Acme Assistant",
            "va_LastTopic": "Order status",
            "va_Topics": ["Greeting", "Order status"],
            "va_LastPhrases": CUSTOMER_SAYS,
            "va_AgentMessage": "Customer says the parcel arrived damaged.",
            "va_Language": "en-us",
            "va_ConversationId": "dl-conv-7f3a",
            "Skill": "billing",
            "reason": "customer asked for a human",
            "customer": {**DANA, "external_ids": {"crm": "C-1042"}},
            "case": {"number": "CAS-01234"},
        },
        "attachments": [
            {
                "contentType": "application/json",
                "name": "Transcript",
                "content": {
                    "activities": [
                        {"type": "message", "from": user, "recipient": bot, "text": CUSTOMER_SAYS,
                         "timestamp": "2026-11-22T10:01:00Z", "locale": "en-US"},
                        {"type": "typing", "from": bot},
                        {"type": "message", "from": bot, "recipient": user, "text": BOT_SAYS,
                         "timestamp": "2026-11-22T10:01:02Z"},
                    ]
                },
            }
        ],
        "relatesTo": {
            "activityId": "dl-conv-7f3a|0000004",
            "user": user,
            "bot": bot,
            "conversation": conversation,
            "channelId": "directline",
            "serviceUrl": "https://directline.botframework.com/",
        },
    }
    return _apply(copy.deepcopy(activity), overrides)


def make_dialogflow_request(**overrides: Any) -> dict[str, Any]:
    """A Dialogflow CX WebhookRequest about Dana, as an integrator forwards it (with a transcript)."""
    body = {
        "detectIntentResponseId": "6b0f7c1e-0000-4000-8000-000000000001",
        "text": "I want to talk to a human",
        "languageCode": "en",
        "fulfillmentInfo": {"tag": "handoff"},
        "pageInfo": {
            "currentPage": "projects/acme/locations/global/agents/agent-1/flows/00000000-0000-0000-0000-000000000000/pages/live",
            "displayName": "Live agent",
        },
        "sessionInfo": {
            "session": "projects/acme/locations/global/agents/agent-1/sessions/sess-7f3a",
            "parameters": {
                "customer_name": DANA["name"],
                "email": DANA["email"],
                "phone_number": DANA["phone"],
                "order_number": "SO-99812",
                "case_number": "CAS-01234",
            },
        },
        "messages": [
            {"text": {"text": [BOT_SAYS]}},
            {"liveAgentHandoff": {"metadata": {"queue": "billing", "reason": "customer asked for a human"}}},
        ],
        "transcript": [
            {"from": "customer", "text": CUSTOMER_SAYS, "at": "2026-11-22T10:01:00Z"},
            {"from": "bot", "text": BOT_SAYS, "at": "2026-11-22T10:01:02Z"},
        ],
    }
    return _apply(copy.deepcopy(body), overrides)
