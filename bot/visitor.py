"""Visitor info for the summary card (SPEC 4.1 §2): browser, OS and device from the user agent, a readable
language from the locale, the rest as sent."""

from __future__ import annotations

import re

import ua_parser

from bot.domain import VisitorFacts, VisitorInput

# ua_parser.parse builds its parser lazily on first use (the slow part) and caches results per
# user agent; long strings only slow its regexes down without telling more.
_UA_MAX = 1000


def warm_up() -> None:
    """Build the user-agent parser now (about 0.6 s of CPU), so the first handoff with visitor info does not
    stall the event loop, and every card and open stream with it."""
    ua_parser.parse("Mozilla/5.0")
# The parser has no device for desktops; these systems only run on one.
_DESKTOP_SYSTEMS = {"Windows", "Mac OS X", "Linux", "Chrome OS", "Ubuntu", "Fedora", "Debian", "FreeBSD", "OpenBSD"}
_OS_NAMES = {"Mac OS X": "macOS"}

# Enough names for the languages and regions support teams meet most; other tags are shown as given.
_LANGUAGES = {
    "ar": "Arabic", "bg": "Bulgarian", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "et": "Estonian", "fa": "Persian", "fi": "Finnish", "fr": "French",
    "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "ms": "Malay", "nb": "Norwegian Bokmål",
    "nl": "Dutch", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sk": "Slovak", "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish", "th": "Thai", "tr": "Turkish",
    "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}
_REGIONS = {
    "AE": "United Arab Emirates", "AR": "Argentina", "AT": "Austria", "AU": "Australia", "BE": "Belgium",
    "BR": "Brazil", "CA": "Canada", "CH": "Switzerland", "CL": "Chile", "CN": "China", "CO": "Colombia",
    "DE": "Germany", "DK": "Denmark", "EG": "Egypt", "ES": "Spain", "FI": "Finland", "FR": "France",
    "GB": "United Kingdom", "HK": "Hong Kong", "IE": "Ireland", "IL": "Israel", "IN": "India", "IT": "Italy",
    "JP": "Japan", "KR": "South Korea", "MX": "Mexico", "NL": "Netherlands", "NO": "Norway", "NZ": "New Zealand",
    "PL": "Poland", "PT": "Portugal", "RU": "Russia", "SA": "Saudi Arabia", "SE": "Sweden", "SG": "Singapore",
    "TR": "Turkey", "TW": "Taiwan", "UA": "Ukraine", "US": "United States", "ZA": "South Africa",
    "419": "Latin America",
}


def describe_visitor(v: VisitorInput | None) -> VisitorFacts | None:
    if v is None:
        return None
    browser = os = device = None
    if v.user_agent and v.user_agent.strip():
        parsed = ua_parser.parse(v.user_agent.strip()[:_UA_MAX])
        browser = _named(parsed.user_agent)
        os = _os(parsed.os)
        device = _device(parsed.device, parsed.os)
    return VisitorFacts(
        browser=browser,
        os=os,
        device=device,
        location=v.location,
        language=language_name(v.locale),
        page_url=v.page_url,
        referrer=v.referrer,
        ip=v.ip,
    )


def _named(part: ua_parser.UserAgent | None) -> str | None:
    if part is None or part.family == "Other":
        return None
    return f"{part.family} {part.major}" if part.major else part.family


def _os(part: ua_parser.OS | None) -> str | None:
    if part is None or part.family == "Other":
        return None
    name = _OS_NAMES.get(part.family, part.family)
    # Safari and Chrome freeze macOS at 10.15 in the user agent; "10" alone would say nothing.
    frozen_mac = part.family == "Mac OS X" and part.major == "10" and part.minor
    version = f"{part.major}.{part.minor}" if frozen_mac else part.major
    return f"{name} {version}" if version else name


def _device(part: ua_parser.Device | None, os: ua_parser.OS | None) -> str | None:
    if part is not None and part.family not in ("Other", "", None):
        return part.family
    if os is not None and os.family in _DESKTOP_SYSTEMS:
        return "Desktop"
    return None


def language_name(locale: str | None) -> str | None:
    """"en-US" → "English (United States)"; a tag this table does not know is returned as given."""
    if not locale or not locale.strip():
        return None
    tag = locale.strip()
    parts = re.split(r"[-_]", tag)
    language = _LANGUAGES.get(parts[0].lower())
    # Skip a script subtag ("zh-Hant-TW"); the region is the 2-letter or 3-digit one.
    region_code = next((p.upper() for p in parts[1:] if re.fullmatch(r"[A-Za-z]{2}|\d{3}", p)), None)
    if language is None or (region_code and region_code not in _REGIONS):
        return tag
    return f"{language} ({_REGIONS[region_code]})" if region_code else language
