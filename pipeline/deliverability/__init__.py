"""Deliverability: how filters score the issue, DKIM signatures, and the sending domain's DNS."""
