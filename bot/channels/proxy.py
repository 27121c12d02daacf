"""The forward proxy for vandra's outgoing API requests (Telegram, Twilio), from the environment.

Most municipal networks let a server out only through a proxy. vandra reads the variables
curl and Python's urllib read: ``HTTPS_PROXY`` for ``https://`` URLs and ``HTTP_PROXY`` for
``http://`` ones (lower case wins over upper case, as in urllib), and ``NO_PROXY``, a comma-
separated list of what is reached directly: host names and domains (``example.org`` or
``.example.org`` matches it and its subdomains), IP addresses and networks (``10.0.0.0/8``), any
of them with ``:port``, or ``*`` for everything. A proxy given
without a scheme is taken as ``http://``; credentials may be in it
(``http://user:password@proxy:3128``). HTTPS goes through the proxy as a CONNECT tunnel, so
the proxy sees only the host name, never the requests or the tokens in them.

The environment is read when a channel's HTTP session is made (at start-up), not per request.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit


def _variable(name: str, environ: Mapping[str, str]) -> str | None:
    value = environ.get(name.lower()) or environ.get(name.upper())
    return value.strip() if value and value.strip() else None


def proxy_for(url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The proxy URL to send a request for ``url`` through, or None to connect directly."""
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    proxy = _variable(f"{parts.scheme}_proxy", env)
    if proxy is None or not parts.hostname:
        return None
    no_proxy = _variable("no_proxy", env)
    if no_proxy and _bypassed(parts.hostname, parts.port, no_proxy):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` names this host (and port): see the top."""
    host = host.lower().strip("[]")
    for entry in (item.strip().lower() for item in no_proxy.split(",")):
        if entry == "*":
            return True
        with_port = re.fullmatch(r"(.*[^:]):(\d+)", entry)  # not an IPv6 address's colons
        name, wanted = (with_port[1], int(with_port[2])) if with_port else (entry, None)
        name = name.strip("[]").lstrip(".")
        if not name or (wanted is not None and wanted != port):
            continue
        if host == name or host.endswith("." + name) or _in_network(host, name):
            return True
    return False


def _in_network(host: str, network: str) -> bool:
    if "/" not in network:
        return False
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False
