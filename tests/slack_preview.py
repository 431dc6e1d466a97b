"""A small, honest Block Kit → HTML preview, for screenshots of Baton's Slack card and details modal.

Slack has no offline renderer, so this draws the block types Baton emits (header, section with text,
fields and accessory, context, actions with buttons and selects, divider, rich_text with dates) roughly as
Slack's desktop client does: it is an approximation, and every page says so. Every text is HTML-escaped;
Baton's own mrkdwn gets *bold* and `code` only. A date element shows its fallback (Slack would draw it in
the reader's time zone).
"""

from __future__ import annotations

import html
import re
from typing import Any

CAPTION = "Approximate Block Kit preview drawn by Baton's tests, not Slack's renderer"

STYLE = """
body { margin: 0; padding: 24px; background: #f8f8f8; font: 15px/1.47 Lato, 'Helvetica Neue', Arial, sans-serif;
       color: #1d1c1d; }
.caption { font-size: 11px; color: #616061; margin: 0 0 8px; font-style: italic; }
.message { width: 560px; background: #fff; padding: 8px 20px 12px; border: 1px solid #e8e8e8; border-radius: 6px;
           display: flex; gap: 8px; }
.avatar { width: 36px; height: 36px; border-radius: 6px; background: #4a154b; color: #fff; font-weight: 900;
          display: flex; align-items: center; justify-content: center; flex: none; margin-top: 4px; }
.who { font-weight: 900; } .who small { font-weight: 400; color: #616061; margin-left: 6px; font-size: 12px; }
.app { font-size: 10px; background: #e8e8e8; color: #616061; padding: 0 3px; border-radius: 2px; margin-left: 4px; }
.blocks { flex: 1; min-width: 0; }
.modal { width: 520px; background: #fff; border-radius: 8px; box-shadow: 0 0 0 1px #ddd, 0 4px 12px rgba(0,0,0,.12); }
.modal .title { display: flex; justify-content: space-between; padding: 18px 24px; font-size: 22px; font-weight: 900;
                border-bottom: 1px solid #e8e8e8; }
.modal .body { padding: 8px 24px 16px; }
.modal .foot { padding: 12px 24px; border-top: 1px solid #e8e8e8; text-align: right; }
.header { font-size: 18px; font-weight: 900; margin: 6px 0 2px; }
.section { margin: 6px 0; white-space: pre-wrap; overflow-wrap: anywhere; display: flex; gap: 8px; }
.section .main { flex: 1; min-width: 0; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; margin-top: 4px; }
.context { font-size: 12px; color: #616061; margin: 4px 0; display: flex; flex-wrap: wrap; gap: 0 10px; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0 4px; }
.button, .select { font: 700 13px Lato, 'Helvetica Neue', Arial, sans-serif; height: 28px; padding: 0 12px;
                   border: 1px solid #c4c4c4; border-radius: 4px; background: #fff; color: #1d1c1d;
                   display: inline-flex; align-items: center; }
.button.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.select { font-weight: 400; color: #616061; }
.divider { border: 0; border-top: 1px solid #e8e8e8; margin: 10px 0; }
.rich { margin: 4px 0; }
code { font: 12px Monaco, Menlo, monospace; background: #f6f6f6; border: 1px solid #e8e8e8; padding: 0 3px;
       border-radius: 3px; color: #c01343; }
"""


def _unslack(text: str) -> str:
    """Slack's three entities back to characters (Baton escapes &, <, > in every text it sends)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: dict[str, Any] | None) -> str:
    if not obj:
        return ""
    escaped = html.escape(_unslack(obj.get("text", "")))
    if obj.get("type") == "mrkdwn":  # Baton's own words only
        escaped = re.sub(r"\*([^*\n]+)\*", r"<b>\1</b>", escaped)
        escaped = re.sub(r"`([^`\n]+)`", r"<code>\1</code>", escaped)
    return escaped


def _element(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        style = " primary" if element.get("style") == "primary" else ""
        return f'<span class="button{style}">{_text(element.get("text"))}</span>'
    if kind in ("static_select", "external_select", "users_select"):
        return f'<span class="select">{_text(element.get("placeholder"))} ▾</span>'
    if kind == "overflow":
        return '<span class="button">⋯</span>'
    if kind in ("plain_text", "mrkdwn"):
        return f"<span>{_text(element)}</span>"
    return ""


def _rich(block: dict[str, Any]) -> str:
    out = []
    for section in block.get("elements", []):
        for element in section.get("elements", []):
            if element.get("type") == "text":
                text = html.escape(element.get("text", ""))
                out.append(f"<b>{text}</b>" if element.get("style", {}).get("bold") else text)
            elif element.get("type") == "date":
                out.append(f'<span title="drawn by Slack in the reader\'s time zone">{html.escape(element.get("fallback", ""))}</span>')
    return f'<div class="rich">{"".join(out)}</div>'


def blocks_html(blocks: list[dict[str, Any]]) -> str:
    parts = []
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            parts.append(f'<div class="header">{_text(block["text"])}</div>')
        elif kind == "section":
            inner = f"<div>{_text(block.get('text'))}</div>" if block.get("text") else ""
            if block.get("fields"):
                inner += '<div class="fields">' + "".join(f"<div>{_field(f)}</div>" for f in block["fields"]) + "</div>"
            accessory = _element(block["accessory"]) if block.get("accessory") else ""
            parts.append(f'<div class="section"><div class="main">{inner}</div>{accessory}</div>')
        elif kind == "context":
            parts.append('<div class="context">' + "".join(_element(e) for e in block["elements"]) + "</div>")
        elif kind == "actions":
            parts.append('<div class="actions">' + "".join(_element(e) for e in block["elements"]) + "</div>")
        elif kind == "divider":
            parts.append('<hr class="divider">')
        elif kind == "rich_text":
            parts.append(_rich(block))
    return "\n".join(parts)


def _field(field: dict[str, Any]) -> str:
    """A plain_text field is Baton's "label\\nvalue": the label is drawn bold, as Slack users expect."""
    label, _, value = _unslack(field.get("text", "")).partition("\n")
    return f"<b>{html.escape(label)}</b>\n{html.escape(value)}" if value else html.escape(label)


def message_page(blocks: list[dict[str, Any]]) -> str:
    body = (f'<div class="message"><div class="avatar">B</div><div class="blocks">'
            f'<div class="who">Baton<span class="app">APP</span><small>10:02 AM</small></div>'
            f"{blocks_html(blocks)}</div></div>")
    return _page(body)


def modal_page(view: dict[str, Any]) -> str:
    body = (f'<div class="modal"><div class="title">{_text(view["title"])}<span>✕</span></div>'
            f'<div class="body">{blocks_html(view["blocks"])}</div>'
            f'<div class="foot"><span class="button">{_text(view.get("close"))}</span></div></div>')
    return _page(body)


def _page(body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><style>{STYLE}</style></head>'
            f'<body><p class="caption">{html.escape(CAPTION)}</p><div id="host">{body}</div></body></html>')
