"""Reading a command's arguments: quoted words, an optional leading #conv, flags, the rest as text."""

from __future__ import annotations

import re
import shlex

from bot.errors import UserError

CONV_REF = re.compile(r"^#?c\d+$", re.IGNORECASE)


class Args:
    def __init__(self, text: str, usage: str) -> None:
        self.usage = usage
        self.flags = {word for word in text.split() if word.startswith("--")}
        cleaned = " ".join(word for word in text.split() if not word.startswith("--"))
        self._rest = cleaned.strip()

    def _split_first(self) -> tuple[str, str]:
        text = self._rest
        if not text:
            return "", ""
        if text[0] in "\"'“”":
            try:
                lexer = shlex.shlex(text.replace("“", '"').replace("”", '"'), posix=True)
                lexer.whitespace_split = True
                first = next(iter(lexer))
                consumed = len(text) - len(lexer.instream.read())
                return first, text[consumed:].strip()
            except (ValueError, StopIteration):
                raise UserError(f"Unbalanced quote. Usage: {self.usage}") from None
        first, _, rest = text.partition(" ")
        return first, rest.strip()

    def conversation(self) -> str | None:
        """An optional leading `#c12`."""
        first, rest = self._split_first()
        if first and first.startswith("#") and CONV_REF.match(first):
            self._rest = rest
            return first
        return None

    def word(self, name: str, *, required: bool = True) -> str | None:
        first, rest = self._split_first()
        if not first:
            if required:
                raise UserError(f"Missing {name}. Usage: {self.usage}")
            return None
        self._rest = rest
        return first

    def peek(self) -> str | None:
        first, _ = self._split_first()
        return first or None

    def rest(self, name: str, *, required: bool = True) -> str:
        text, self._rest = self._rest, ""
        if required and not text:
            raise UserError(f"Missing {name}. Usage: {self.usage}")
        return text

    def flag(self, name: str) -> bool:
        return name in self.flags

    def done(self) -> None:
        if self._rest:
            raise UserError(f"Unexpected “{self._rest}”. Usage: {self.usage}")
