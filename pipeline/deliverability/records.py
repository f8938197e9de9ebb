"""What each provider documents about the sending domain's DNS, in one table.

``pulse doctor`` checks these and the README lists them; a change here is a change to both.
Sources: each provider's domain-authentication guide (Postmark "DKIM and Return-Path",
SendGrid "How to set up domain authentication", Mailgun "Verifying your domain", Amazon SES
"Easy DKIM" and "custom MAIL FROM domain", Resend "Managing domains").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderDns:
    """The SPF include and DKIM selectors a provider uses (empty: chosen per account)."""

    spf_include: str | None
    dkim_selectors: tuple[str, ...]
    handles_bounces: bool  # the provider's own return path receives bounces
    note: str = ""
    return_path_label: str | None = None  # the MAIL FROM subdomain whose SPF counts


PROVIDERS: dict[str, ProviderDns] = {
    "postmark": ProviderDns(
        "spf.mtasv.net",
        (),
        True,
        "DKIM: the <date>pm._domainkey TXT record Postmark shows under Sender Signatures; "
        "Return-Path: CNAME pm-bounces.<domain> → pm.mtasv.net",
    ),
    "sendgrid": ProviderDns(
        "sendgrid.net",
        ("s1", "s2"),
        True,
        "DKIM: CNAMEs s1._domainkey and s2._domainkey → the targets SendGrid shows",
    ),
    "mailgun": ProviderDns(
        "mailgun.org",
        ("k1", "mx", "pic", "smtp"),
        True,
        "DKIM: the TXT record Mailgun shows (selector k1, mx, pic or smtp)",
    ),
    "ses": ProviderDns(
        "amazonses.com",
        (),
        True,
        "DKIM: three CNAMEs <token>._domainkey → <token>.dkim.amazonses.com (Easy DKIM); "
        "set PULSE_DKIM_SELECTOR to one token to have it checked",
    ),
    "resend": ProviderDns(
        "amazonses.com",
        ("resend",),
        True,
        "DKIM: TXT resend._domainkey; SPF and MX on the send.<domain> subdomain",
        return_path_label="send",
    ),
    "smtp": ProviderDns(
        None,
        (),
        False,
        "SPF: include your relay's hosts; DKIM: PULSE_DKIM_* and the TXT record "
        "`pulse doctor` prints",
    ),
    "file": ProviderDns(None, (), False, "writes files only: nothing is sent"),
}
