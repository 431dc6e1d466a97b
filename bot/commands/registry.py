"""Declaring commands once: name, usage, a typed async handler whose docstring is its help line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from bot.commands.args import Args
from bot.core.services import Services
from bot.domain import CommandRequest, Outcome
from bot.errors import UserError

Handler = Callable[[Services, CommandRequest, Args], Awaitable[Outcome]]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    handler: Handler

    @property
    def help(self) -> str:
        return (self.handler.__doc__ or "").strip().splitlines()[0]


class Registry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def command(self, usage: str) -> Callable[[Handler], Handler]:
        name = usage.split()[0]

        def register(handler: Handler) -> Handler:
            if name in self._commands:
                raise ValueError(f"command {name} declared twice")
            self._commands[name] = Command(name, usage, handler)
            return handler

        return register

    def __iter__(self):
        return iter(self._commands.values())

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def help_text(self, prefix: str = "/baton") -> str:
        lines = [f"`{prefix} {c.usage}` — {c.help}" for c in self]
        return "\n".join(lines)

    async def dispatch(self, services: Services, request: CommandRequest) -> Outcome:
        words = request.text.strip().split(maxsplit=1)
        if not words:
            return await self._commands["help"].handler(services, request, Args("", "help"))
        name = words[0].lower()
        command = self._commands.get(name)
        if command is None:
            raise UserError(f"Unknown command “{words[0]}”. Try `help`.")
        return await command.handler(services, request, Args(words[1] if len(words) > 1 else "", command.usage))
