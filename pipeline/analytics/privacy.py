"""What a click may keep about the reader's request: a truncated network and an agent family.

The raw IP address and the full user agent are read once, to classify, and then dropped.
"""

from __future__ import annotations

import ipaddress
import re

# Apple Mail Privacy Protection fetches images through Apple's own network (17.0.0.0/8,
# Apple's registered block) with a bare "Mozilla/5.0" user agent; see Apple's "Mail
# Privacy Protection" support note and the MPP write-ups by Litmus and SparkPost.
APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")
APPLE_MPP_AGENT = "Mozilla/5.0"

# Security scanners and link checkers that follow every link of a message on arrival.
# Names as they appear in their user agents (matched case-insensitively).
SCANNERS = (
    "proofpoint",
    "mimecast",
    "barracuda",
    "safelinks",
    "trendmicro",
    "trend micro",
    "sophos",
    "forcepoint",
    "fireeye",
    "ironport",
    "cisco",
    "zscaler",
    "symantec",
    "messagelabs",
    "urldefense",
    "bitdefender",
    "checkpoint",
    "paloalto",
)
# Programs, not people: HTTP libraries, headless browsers, crawlers, link previewers.
_MACHINE = re.compile(
    r"bot\b|bot/|spider|crawl|slurp|headless|python-requests|python-urllib|aiohttp|httpx|"
    r"curl/|wget/|go-http-client|okhttp|java/|libwww|apache-httpclient|node-fetch|axios/|"
    r"scrapy|phantomjs|preview|monitor|scanner|checker",
    re.IGNORECASE,
)
_BROWSER = re.compile(r"mozilla/5\.0 \(|opera/", re.IGNORECASE)
# Image proxies that fetch on a real open (Gmail, Yahoo): a human behind them.
_MAIL_PROXIES = (("googleimageproxy", "proxy:gmail"), ("yahoomailproxy", "proxy:yahoo"))


def network_of(address: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) the address belongs to; None when it is not an address."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def from_apple(address: str | None) -> bool:
    if not address:
        return False
    try:
        return ipaddress.ip_address(address.strip()) in APPLE_NETWORK
    except ValueError:
        return False


def agent_family(user_agent: str | None, address: str | None = None) -> str:
    """A short name for who is asking: enough to classify, too little to identify anyone."""
    agent = (user_agent or "").strip()
    if not agent:
        return "empty"
    lowered = agent.lower()
    for name in SCANNERS:
        if name in lowered:
            return f"scanner:{name.replace(' ', '')}"
    for needle, family in _MAIL_PROXIES:
        if needle in lowered:
            return family
    if agent == APPLE_MPP_AGENT and from_apple(address):
        return "apple-mpp"
    if _MACHINE.search(agent):
        return "program"
    if _BROWSER.search(agent):
        return "browser"
    return "other"
