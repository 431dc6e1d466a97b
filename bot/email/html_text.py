"""HTML-only mail as plain text, with the standard library's tolerant `html.parser`.

Never rendered, never trusted: scripts, styles and the document head are dropped with everything in
them, tags become line breaks where a reader sees them, entities are decoded, and a link keeps its
address beside its words ("our portal (https://…)"), since the agent sees no HTML. The stdlib parser
was chosen over lxml-based converters (inscriptis, html-text) and html2text (GPL, Markdown): it adds no
compiled dependency on a path fed by strangers, never raises on broken markup, and email HTML needs
only paragraphs, breaks, lists and tables read in order.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_DROPPED = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "math", "object", "iframe"})
_PARAGRAPH = frozenset({
    "p", "div", "section", "article", "header", "footer", "main", "nav", "aside", "table", "ul", "ol", "dl",
    "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "address", "figure", "form", "center",
})
_LINE = frozenset({"br", "tr", "dt", "dd", "figcaption", "caption"})
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_LINKABLE = ("http://", "https://", "mailto:")


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropped = 0
        self.pre = 0
        self.links: list[tuple[str | None, int]] = []  # (href, where its text starts in parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self.dropped += 1
            return
        if self.dropped:
            return
        if tag in _PARAGRAPH:
            self.parts.append("\n\n")
        elif tag in _LINE:
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and alt.strip():
                self.parts.append(f"[{alt.strip()}]")
        elif tag == "a":
            self.links.append((dict(attrs).get("href"), len(self.parts)))
        if tag == "pre":
            self.pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # <br/>, <img/>: nothing to close
        if tag in _DROPPED:
            self.dropped -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropped = max(0, self.dropped - 1)
            return
        if self.dropped:
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag in _PARAGRAPH:
            self.parts.append("\n\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            words = "".join(self.parts[start:]).strip()
            if href and href.strip().lower().startswith(_LINKABLE) and href.strip() not in words:
                address = href.strip()
                self.parts.append(f" ({address[len('mailto:'):] if address.lower().startswith('mailto:') else address})")

    def handle_data(self, data: str) -> None:
        if self.dropped:
            return
        self.parts.append(data if self.pre else _SPACES.sub(" ", data))


def html_to_text(html: str) -> str:
    """The words of `html` as a reader sees them, as plain text (at most one blank line in a row)."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    text = "\n".join(re.sub(r" {2,}", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()
