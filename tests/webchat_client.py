"""A web chat visitor over real HTTP: start, messages, files, end, CSAT, and the Server-Sent Events stream."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import aiohttp

PRECHAT = [{"question": "Your name", "answer": "Dana Whitfield"},
           {"question": "Your email", "answer": "dana.w@example.com"},
           {"question": "How can we help?", "answer": "My parcel arrived damaged"}]


@dataclass
class Visitor:
    base_url: str
    session: aiohttp.ClientSession
    token: str | None = None
    conversation: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # e.g. X-Forwarded-For

    def _auth(self) -> dict[str, str]:
        return {**self.headers, **({"Authorization": f"Bearer {self.token}"} if self.token else {})}

    async def post(self, body: Any, *, raw: bytes | None = None, path: str = "/inbound/webchat") -> tuple[int, Any, dict]:
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.session.post(self.base_url + path, data=data,
                                     headers={"Content-Type": "application/json", **self._auth()}) as response:
            text = await response.text()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
            return response.status, parsed, dict(response.headers)

    async def start(self, prechat: list | None = None, **extra: Any) -> tuple[int, Any]:
        body = {"type": "start", "prechat": PRECHAT if prechat is None else prechat,
                "visitor": {"locale": "en-US", "time_zone": "America/Chicago",
                            "page_url": "https://shop.example.com/orders", "referrer": None}, **extra}
        status, answer, _ = await self.post(body)
        if status == 201:
            self.token, self.conversation = answer["token"], answer["conversation"]
        return status, answer

    async def say(self, text: str, client_id: str | None = None) -> tuple[int, Any]:
        status, answer, _ = await self.post({"type": "message", "text": text, "client_id": client_id or str(uuid.uuid4())})
        return status, answer

    async def upload(self, name: str, content: bytes, content_type: str, *, text: str = "",
                     client_id: str | None = None) -> tuple[int, Any]:
        form = aiohttp.FormData()
        form.add_field("client_id", client_id or str(uuid.uuid4()))
        if text:
            form.add_field("text", text)
        form.add_field("file", content, filename=name, content_type=content_type)
        async with self.session.post(self.base_url + "/inbound/webchat/files", data=form, headers=self._auth()) as response:
            return response.status, await response.json()

    async def end(self) -> tuple[int, Any]:
        status, answer, _ = await self.post({"type": "end"})
        return status, answer

    async def rate(self, score: Any, comment: str | None = None) -> tuple[int, Any]:
        status, answer, _ = await self.post({"type": "csat", "score": score, "comment": comment})
        return status, answer

    async def events(self, until: Callable[[list[dict]], bool], *, after: int | None = None,
                     timeout: float = 10.0) -> list[dict]:
        """Read the stream (from `after`, as Last-Event-ID) until `until(events)` holds; each event is its
        JSON data with `event` (the SSE type) and `sse_id` (the SSE id line)."""
        headers = self._auth()
        if after is not None:
            headers["Last-Event-ID"] = str(after)
        seen: list[dict] = []

        async def read() -> list[dict]:
            async with self.session.get(self.base_url + "/inbound/webchat/events", headers=headers) as response:
                assert response.status == 200, await response.text()
                assert response.headers["Content-Type"].startswith("text/event-stream")
                block: dict[str, str] = {}
                async for raw in response.content:
                    line = raw.decode().rstrip("\r\n")
                    if line:
                        key, _, value = line.partition(":")
                        block[key] = value[1:] if value.startswith(" ") else value
                        continue
                    if "data" in block:
                        seen.append({**json.loads(block["data"]), "event": block.get("event"), "sse_id": int(block["id"])})
                        if until(seen):
                            return seen
                    block = {}
            return seen

        try:
            return await asyncio.wait_for(read(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"web chat stream: condition not met within {timeout}s; events: {seen}") from None


def messages(events: list[dict], sender: str | None = None) -> list[dict]:
    return [e for e in events if e["event"] == "message" and (sender is None or e["from"] == sender)]


def statuses(events: list[dict]) -> list[str]:
    return [e["status"] for e in events if e["event"] == "status"]
