"""``pulse doctor``: is the sending domain set up the way receivers (and the provider) expect?

Since 2024 Gmail and Yahoo reject bulk mail that is not authenticated (SPF, DKIM and DMARC
aligned with the From domain) and easy to leave (RFC 8058 one-click unsubscribe); Outlook.com
followed in 2025. Each check here gives pass, warn or fail, and the fix. DNS goes through
dnspython, to ``PULSE_DNS_NAMESERVERS`` when set (tests run a DNS server on loopback).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.nameserver
import dns.resolver
import requests

from pipeline.deliverability.dkim import load_key
from pipeline.deliverability.records import PROVIDERS, ProviderDns
from pipeline.errors import ConfigError

_TIMEOUT = 5.0
ONE_CLICK_PROBE = "pulse-doctor-check"  # not a token: the endpoint answers 400 for it


class Level(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - a check result, not a password
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, how it went, what was seen, and what to do."""

    name: str
    level: Level
    detail: str
    fix: str = ""
    dns_unanswered: bool = False  # the resolver did not answer (not: the record is missing)


@dataclass(frozen=True)
class DomainSetup:
    """What the checks compare the DNS with, as the wiring reads it from the settings."""

    provider: str
    sender_domain: str
    base_url: str
    postal_address: str  # empty when PULSE_POSTAL_ADDRESS is still the placeholder
    bounce_domain: str | None = None
    dkim_domain: str | None = None
    dkim_selector: str | None = None
    dkim_private_key_file: Path | None = None


Fetch = Callable[[str], int]  # POSTs a one-click unsubscribe to the URL, returns the status


def make_resolver(nameservers: list[tuple[str, int]]) -> dns.resolver.Resolver:
    """The system resolver, or exactly the given ``host:port`` servers."""
    if not nameservers:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(h, p) for h, p in nameservers]
    resolver.lifetime = _TIMEOUT
    resolver.timeout = _TIMEOUT / 2
    return resolver


def post_one_click(url: str, verify: bool | str = True) -> int:
    """What the endpoint answers to a one-click POST (RFC 8058), without following redirects."""
    answer = requests.post(
        url,
        data={"List-Unsubscribe": "One-Click"},
        timeout=_TIMEOUT,
        allow_redirects=False,
        verify=verify,
    )
    return answer.status_code


class _Dns:
    """TXT and MX lookups where "no such record" is an answer, not an error."""

    def __init__(self, resolver: dns.resolver.Resolver) -> None:
        self.resolver = resolver

    def txt(self, name: str) -> list[str] | None:
        """The TXT strings at ``name``; [] when there are none; None when DNS failed."""
        try:
            answer = self.resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException:
            return None
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]

    def mx(self, name: str) -> list[str] | None:
        try:
            answer = self.resolver.resolve(name, "MX")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException:
            return None
        return [str(r.exchange).rstrip(".") for r in answer]


def run_checks(config: DomainSetup, resolver: dns.resolver.Resolver, fetch: Fetch) -> list[Check]:
    """Every check, in the order an operator would fix them."""
    lookups = _Dns(resolver)
    provider = PROVIDERS[config.provider]
    domain = config.sender_domain.lower()
    checks = [_from_domain(domain)]
    if checks[0].level is not Level.FAIL:
        dns_checks: tuple[Callable[[], Check], ...] = (
            lambda: _spf(lookups, config, provider, domain),
            lambda: _dkim(lookups, config, provider, domain),
            lambda: _dmarc(lookups, config, domain),
            lambda: _return_path(lookups, config, provider),
        )
        for run in dns_checks:
            checks.append(run())
            if checks[-1].dns_unanswered:
                break  # a dead resolver: one timeout is enough to say so
    checks += [_one_click(config, fetch), _postal_address(config)]
    return checks


def _from_domain(domain: str) -> Check:
    if not domain or domain == "localhost" or "." not in domain:
        return Check(
            "sending domain",
            Level.FAIL,
            f"PULSE_FROM uses {domain or 'no domain'!r}",
            "set PULSE_FROM to an address at a domain you control, e.g. news@example.com",
        )
    return Check("sending domain", Level.PASS, domain)


def _dns_failed(name: str, record: str) -> Check:
    return Check(
        name,
        Level.FAIL,
        f"DNS lookup of {record} failed (timeout or server error)",
        "check PULSE_DNS_NAMESERVERS / the resolver, then run again",
        dns_unanswered=True,
    )


def _spf(lookups: _Dns, config: DomainSetup, provider: ProviderDns, domain: str) -> Check:
    name = "SPF"
    host = config.bounce_domain or (
        f"{provider.return_path_label}.{domain}" if provider.return_path_label else domain
    )
    records = lookups.txt(host)
    if records is None:
        return _dns_failed(name, host)
    spf = [r for r in records if r.lower().startswith("v=spf1")]
    include = provider.spf_include
    wanted = f"v=spf1 include:{include} ~all" if include else "v=spf1 include:<relay> ~all"
    if not spf:
        return Check(name, Level.FAIL, f"no SPF record at {host}", f'TXT {host} "{wanted}"')
    if len(spf) > 1:
        return Check(
            name,
            Level.FAIL,
            f"{len(spf)} SPF records at {host} (RFC 7208: a permanent error)",
            "merge them into one v=spf1 record",
        )
    terms = spf[0].lower().split()
    if "+all" in terms or "all" in terms:
        return Check(name, Level.FAIL, f"{host}: {spf[0]}", "end with ~all or -all, not +all")
    if include and f"include:{include}" not in terms:
        return Check(
            name,
            Level.FAIL,
            f"{host}: {spf[0]} does not include {include} ({config.provider})",
            f"add include:{include} to it",
        )
    if include is None and config.provider == "smtp":
        return Check(
            name,
            Level.WARN,
            f"{host}: {spf[0]}",
            "make sure it covers your SMTP relay's sending hosts",
        )
    return Check(name, Level.PASS, f"{host}: {spf[0]}")


def _dkim(lookups: _Dns, config: DomainSetup, provider: ProviderDns, domain: str) -> Check:
    name = "DKIM"
    dkim_domain = config.dkim_domain or domain
    selectors = (config.dkim_selector,) if config.dkim_selector else provider.dkim_selectors
    if not selectors:
        level = Level.FAIL if config.provider == "smtp" else Level.WARN
        fix = (
            "set PULSE_DKIM_SELECTOR, _DOMAIN and _PRIVATE_KEY_FILE (smtp is signed by Pulse)"
            if config.provider == "smtp"
            else f"set PULSE_DKIM_SELECTOR to the selector {config.provider} gave you"
        )
        return Check(name, level, f"no selector known for {config.provider}", fix)
    published: dict[str, str] = {}
    for selector in selectors:
        host = f"{selector}._domainkey.{dkim_domain}"
        records = lookups.txt(host)
        if records is None:
            return _dns_failed(name, host)
        keys = [r for r in records if "p=" in r.replace(" ", "")]
        if keys:
            published[host] = keys[0]
    if not published:
        hosts = ", ".join(f"{s}._domainkey.{dkim_domain}" for s in selectors)
        return Check(name, Level.FAIL, f"no DKIM key at {hosts}", _dkim_fix(config, provider))
    host, record = next(iter(published.items()))
    tags = _tags(record)
    if not tags.get("p"):
        return Check(name, Level.FAIL, f"{host}: the key is revoked (empty p=)", "publish the key")
    if config.dkim_private_key_file is not None:
        try:
            ours = _tags(load_key(config.dkim_private_key_file).public_record)
        except ConfigError as err:
            return Check(name, Level.FAIL, str(err), "fix PULSE_DKIM_PRIVATE_KEY_FILE")
        if ours["p"] != tags["p"]:
            return Check(
                name,
                Level.FAIL,
                f"{host} publishes a different key than PULSE_DKIM_PRIVATE_KEY_FILE",
                _dkim_fix(config, provider),
            )
    return Check(name, Level.PASS, f"{host}: k={tags.get('k', 'rsa')}")


def _dkim_fix(config: DomainSetup, provider: ProviderDns) -> str:
    if config.dkim_private_key_file is not None and config.dkim_selector:
        try:
            record = load_key(config.dkim_private_key_file).public_record
        except ConfigError:
            return "fix PULSE_DKIM_PRIVATE_KEY_FILE"
        host = f"{config.dkim_selector}._domainkey.{config.dkim_domain}"
        return f'TXT {host} "{record}"'
    return provider.note or "publish the DKIM record your provider shows"


def _tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        key, _, value = part.strip().partition("=")
        if key:
            tags[key.strip().lower()] = "".join(value.split())
    return tags


def _organisational(domain: str) -> str:
    """The last two labels: enough for alignment between a domain and its subdomains."""
    return ".".join(domain.split(".")[-2:])


def _dmarc(lookups: _Dns, config: DomainSetup, domain: str) -> Check:
    name = "DMARC"
    host = f"_dmarc.{domain}"
    records = lookups.txt(host)
    if records is None:
        return _dns_failed(name, host)
    found = [r for r in records if r.lower().replace(" ", "").startswith("v=dmarc1")]
    if not found and _organisational(domain) != domain:
        host = f"_dmarc.{_organisational(domain)}"
        parent = lookups.txt(host)
        found = [r for r in parent or [] if r.lower().replace(" ", "").startswith("v=dmarc1")]
    fix = f'TXT _dmarc.{domain} "v=DMARC1; p=quarantine; rua=mailto:dmarc@{domain}"'
    if not found:
        return Check(name, Level.FAIL, f"no DMARC record at _dmarc.{domain}", fix)
    tags = _tags(found[0])
    policy = tags.get("p", "").lower()
    if policy not in ("none", "quarantine", "reject"):
        return Check(name, Level.FAIL, f"{host}: no valid p= policy", fix)
    dkim_domain = config.dkim_domain
    if dkim_domain and config.provider in ("smtp", "file"):
        strict = tags.get("adkim", "r").lower() == "s"
        aligned = dkim_domain == domain or (
            not strict and _organisational(dkim_domain) == _organisational(domain)
        )
        if not aligned:
            return Check(
                name,
                Level.FAIL,
                f"DKIM d={dkim_domain} is not aligned with From {domain}"
                + (" (adkim=s)" if strict else ""),
                f"set PULSE_DKIM_DOMAIN={domain}",
            )
    if policy == "none":
        return Check(
            name,
            Level.WARN,
            f"{host}: p=none (monitoring only)",
            "move to p=quarantine once reports show your mail aligned",
        )
    return Check(name, Level.PASS, f"{host}: p={policy}")


def _return_path(lookups: _Dns, config: DomainSetup, provider: ProviderDns) -> Check:
    name = "bounce domain MX"
    if config.bounce_domain is None:
        if provider.handles_bounces:
            return Check(name, Level.PASS, f"{config.provider}'s return path receives bounces")
        level = Level.WARN if config.provider == "smtp" else Level.PASS
        detail = "PULSE_BOUNCE_DOMAIN is not set" if level is Level.WARN else "nothing is sent"
        fix = "set PULSE_BOUNCE_DOMAIN so bounces name their delivery (VERP)"
        return Check(name, level, detail, fix if level is Level.WARN else "")
    exchanges = lookups.mx(config.bounce_domain)
    if exchanges is None:
        return _dns_failed(name, config.bounce_domain)
    if not exchanges:
        return Check(
            name,
            Level.FAIL,
            f"no MX for {config.bounce_domain}: bounces to bounces+…@ cannot arrive",
            f"MX {config.bounce_domain} → the host whose mailbox `pulse events mailbox` reads",
        )
    return Check(name, Level.PASS, f"{config.bounce_domain}: MX {', '.join(exchanges)}")


def _one_click(config: DomainSetup, fetch: Fetch) -> Check:
    name = "one-click unsubscribe"
    if not config.base_url.startswith("https://"):
        return Check(
            name,
            Level.FAIL,
            f"PULSE_BASE_URL is {config.base_url} (RFC 8058 needs https)",
            "serve `pulse serve` behind https and set PULSE_BASE_URL to that URL",
        )
    url = f"{config.base_url}/u/{ONE_CLICK_PROBE}"
    try:
        status = fetch(url)
    except requests.RequestException as err:
        reason = type(err).__name__
        return Check(name, Level.FAIL, f"POST {url}: {reason}", "make the web app reachable")
    # A made-up token: the endpoint must answer, with our "this link does not work" (400).
    if status in (200, 400):
        return Check(name, Level.PASS, f"POST {url} answers {status}")
    if 300 <= status < 400:
        fix = "point PULSE_BASE_URL at the final https URL; one-click POSTs are not redirected"
        return Check(name, Level.FAIL, f"POST {url} redirects ({status})", fix)
    return Check(
        name,
        Level.FAIL,
        f"POST {url} answers {status}",
        "PULSE_BASE_URL must reach `pulse serve` (its /u/ endpoint)",
    )


def _postal_address(config: DomainSetup) -> Check:
    name = "postal address"
    if not config.postal_address.strip():
        return Check(
            name,
            Level.FAIL,
            "PULSE_POSTAL_ADDRESS is not set (CAN-SPAM requires one in every issue)",
            "set PULSE_POSTAL_ADDRESS to your postal address",
        )
    return Check(name, Level.PASS, config.postal_address)
