"""A real DNS server on loopback (dnslib), serving a zone given as text, for ``pulse doctor``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dnslib.server import DNSLogger, DNSServer
from dnslib.zoneresolver import ZoneResolver

_QUIET = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)


@contextmanager
def dns_server(zone: str) -> Iterator[str]:
    """Serve ``zone`` (master-file syntax) over UDP; yields ``127.0.0.1:<port>``."""
    server = DNSServer(ZoneResolver(zone), address="127.0.0.1", port=0, logger=_QUIET)
    server.start_thread()
    try:
        yield f"127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.stop()
        server.server.server_close()
