"""A `proxy.py` plugin for tests/test_proxy.py: every request the proxy forwards (each one on a
kept-alive connection too, which the access log would show once) as a line in the file
``$VANDRA_TEST_PROXY_LOG``: ``METHOD host:port path``. Loaded by the proxy's own process."""

from __future__ import annotations

import os

from proxy.http.parser import HttpParser
from proxy.http.proxy import HttpProxyBasePlugin


def _text(value: bytes | None) -> str:
    return value.decode("latin-1") if value else "-"


class CountingPlugin(HttpProxyBasePlugin):
    def handle_client_request(self, request: HttpParser) -> HttpParser | None:
        line = f"{_text(request.method)} {_text(request.host)}:{request.port} {_text(request.path)}"
        with open(os.environ["VANDRA_TEST_PROXY_LOG"], "a", encoding="utf-8") as log:
            log.write(line + "\n")
        return request
