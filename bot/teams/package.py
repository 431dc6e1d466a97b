"""`baton teams-package`: the Teams app package zip — manifest.json (v1.29) and the two icons.

The manifest comes from teams/manifest.template.json with the bot id, the command list (from the
command registry), the valid domains and the personal tab "Customers" (with BATON_PUBLIC_URL) filled in. Icons are read from teams/ or drawn here with a
tiny PNG writer (no Pillow).
"""

from __future__ import annotations

import json
import logging
import struct
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bot.commands.builtin import registry
from bot.settings import Settings

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2] / "teams"
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
MAX_COMMANDS = 12  # per command list in manifest v1.29
# The registry has more commands than a Teams command list holds: these are offered in the compose box
# (most used first); the rest (merge, identities, export, lock, anonymize — supervisor/admin actions)
# still work when typed and are listed by `@Baton help`.
MOST_USED = ("help", "lookup", "note", "wrapup", "sessions", "comment", "link", "case", "timeline", "profile",
             "new", "route", "identities", "merge", "export", "lock", "anonymize")
ACCENT = (0x2F, 0x5D, 0x8A)


def command_list() -> list[dict[str, str]]:
    known = {c.name: c for c in registry}
    names = [n for n in MOST_USED if n in known] + [n for n in known if n not in MOST_USED]
    return [{"title": name, "description": known[name].help[:4000]} for name in names[:MAX_COMMANDS]]


def _app_id(settings: Settings) -> str:
    app_id = (settings.microsoft_app_id or "").strip()
    try:
        return str(uuid.UUID(app_id))
    except ValueError:
        log.warning("MicrosoftAppId is not set (or not a GUID): the package uses the placeholder bot id %s; "
                    "set MicrosoftAppId before uploading it to Teams", PLACEHOLDER_ID)
        return PLACEHOLDER_ID


def build_manifest(settings: Settings) -> dict[str, Any]:
    manifest = json.loads((ROOT / "manifest.template.json").read_text("utf-8"))
    app_id = _app_id(settings)
    manifest["id"] = app_id
    manifest["webApplicationInfo"]["id"] = app_id
    bot = manifest["bots"][0]
    bot["botId"] = app_id
    bot["commandLists"] = [{"scopes": ["team", "personal", "groupChat"], "commands": command_list()}]
    host = urlparse(settings.public_url).hostname if settings.public_url else None
    manifest["validDomains"] = [host] if host else []
    if settings.public_url:
        manifest["staticTabs"] = [customers_tab(settings.public_url)]
    return manifest


def customers_tab(public_url: str) -> dict[str, Any]:
    """The personal tab "Customers" (SPEC 4.4): the customer search, then each customer's page, all served by
    Baton under BATON_PUBLIC_URL (so `validDomains` covers it)."""
    base = public_url.rstrip("/")
    return {"entityId": "customers", "name": "Customers", "contentUrl": f"{base}/customers?in=teams",
            "websiteUrl": f"{base}/customers", "scopes": ["personal"]}


# --- icons ---------------------------------------------------------------------------------------


def png(width: int, height: int, pixel) -> bytes:
    """A minimal RGBA PNG; `pixel(x, y)` returns (r, g, b, a)."""
    rows = b"".join(b"\x00" + b"".join(struct.pack("4B", *pixel(x, y)) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def _baton_shape(x: float, y: float) -> bool:
    """A relay baton: a diagonal bar with rounded ends, in a unit square."""
    # distance from the segment (0.25, 0.75) → (0.75, 0.25)
    ax, ay, bx, by = 0.25, 0.75, 0.75, 0.25
    t = max(0.0, min(1.0, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)))
    px, py = ax + t * (bx - ax), ay + t * (by - ay)
    return (x - px) ** 2 + (y - py) ** 2 <= 0.11 ** 2


def color_icon() -> bytes:
    size = 192
    return png(size, size, lambda x, y: (255, 255, 255, 255) if _baton_shape((x + 0.5) / size, (y + 0.5) / size)
               else (*ACCENT, 255))


def outline_icon() -> bytes:
    size = 32
    return png(size, size, lambda x, y: (255, 255, 255, 255) if _baton_shape((x + 0.5) / size, (y + 0.5) / size)
               else (0, 0, 0, 0))


def _icon(name: str, draw) -> bytes:
    path = ROOT / name
    return path.read_bytes() if path.exists() else draw()


def build_package(settings: Settings, output: str | Path) -> Path:
    """Write the zip (manifest.json, color.png, outline.png) and return its path."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    manifest = build_manifest(settings)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        package.writestr(manifest["icons"]["color"], _icon("color.png", color_icon))
        package.writestr(manifest["icons"]["outline"], _icon("outline.png", outline_icon))
    return output
