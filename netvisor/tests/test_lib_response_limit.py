"""The client stops reading an answer at its size bound (a huge answer is never held whole)."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from netvisor import Client, Credentials
from netvisor.errors import NetvisorXMLSecurityError


class _Endless(BaseHTTPRequestHandler):
    sent = 0

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.end_headers()
        try:
            self.wfile.write(b"<?xml version='1.0'?><Root>")
            for _ in range(100_000):  # up to ~6.5 GB if nobody stops reading
                self.wfile.write(b" " * 65536)
                type(self).sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def endless_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_huge_answer_refused_without_reading_it_all(endless_server):
    credentials = Credentials(sender="t", customer_id="C", partner_id="P", organisation_id="1572860-0",
                              customer_key="ck-limit-test", partner_key="pk-limit-test", language="FI")
    client = Client(credentials, base_url=endless_server, max_attempts=1, backoff=0, max_response_bytes=1_000_000)
    exchanges = []
    client.on_exchange = exchanges.append
    started = time.monotonic()
    with pytest.raises(NetvisorXMLSecurityError) as raised:
        client.get("purchaseinvoicelist.nv")
    assert "byte limit" in raised.value.text
    assert raised.value.category == "XML_SECURITY"
    assert time.monotonic() - started < 10
    assert _Endless.sent < 50_000_000, "the client stopped reading near its bound"
    assert exchanges and exchanges[0].error is raised.value
