"""Signing, transport, envelope and safe XML of the netvisor library (no Odoo)."""

import datetime
import os
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from netvisor import errors, signing, xmlutil
from netvisor.envelope import parse_envelope
from netvisor.transport import Client, build_url, redact
from netvisor.validation import is_valid_business_id, normalize_business_id, url_problem

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "netvisor")

VECTOR = dict(
    url="https://isvapi.netvisor.fi/salesinvoicelist.nv?invoicestatus=open",
    sender="OdooTest", customer_id="customerid", timestamp="2025-01-02 03:04:05.678",
    language="FI", organisation_id="1234567-8", transaction_id="0123456789abcdef0123456789abcdef",
    timestamp_unix="1735787045", customer_key="customerkey", partner_key="partnerkey",
)
VECTOR_MAC = "f99e95df388eaae60128f144bc3c6da22723a21d81c12f093187082a55a80cc4"

CREDS = signing.Credentials(sender="OdooTest", customer_id="customerid", partner_id="partnerid",
                            organisation_id="1234567-8", customer_key="customerkey", partner_key="partnerkey")


# ------------------------------------------------------------------ signing


def test_mac_test_vector():
    assert signing.compute_mac(**VECTOR) == VECTOR_MAC


def test_mac_vector_from_api_md_when_available():
    path = os.path.join(SHARED, "API.md")
    if not os.path.exists(path):
        pytest.skip("../shared/netvisor/API.md not present")
    with open(path, encoding="utf-8") as handle:
        assert f"HMACSHA256 -> {VECTOR_MAC}" in handle.read()


def test_signed_headers_complete_and_consistent():
    now = datetime.datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)
    headers = signing.signed_headers(VECTOR["url"], CREDS, now=now, transaction_id=VECTOR["transaction_id"])
    assert set(headers) == {
        "X-Netvisor-Authentication-Sender", "X-Netvisor-Authentication-CustomerId",
        "X-Netvisor-Authentication-PartnerId", "X-Netvisor-Authentication-Timestamp",
        "X-Netvisor-Authentication-TimestampUnix", "X-Netvisor-Authentication-TransactionId",
        "X-Netvisor-Interface-Language", "X-Netvisor-Organisation-ID",
        "X-Netvisor-Authentication-MACHashCalculationAlgorithm", "X-Netvisor-Authentication-MAC",
        "X-Netvisor-Authentication-UseHTTPResponseStatusCodes", "Content-Type",
    }
    assert headers["X-Netvisor-Authentication-Timestamp"] == "2025-01-02 03:04:05.678"
    assert headers["X-Netvisor-Authentication-TimestampUnix"] == "1735787045"
    assert headers["X-Netvisor-Authentication-MACHashCalculationAlgorithm"] == "HMACSHA256"
    assert headers["X-Netvisor-Authentication-UseHTTPResponseStatusCodes"] == "1"
    assert headers["X-Netvisor-Authentication-MAC"] == VECTOR_MAC
    # the keys are never sent
    assert "customerkey" not in " ".join(headers.values())
    assert "partnerkey" not in " ".join(headers.values())


def test_timestamp_is_utc():
    helsinki = datetime.timezone(datetime.timedelta(hours=2))
    moment = datetime.datetime(2025, 1, 2, 5, 4, 5, 1000, tzinfo=helsinki)
    assert signing.format_timestamp(moment) == "2025-01-02 03:04:05.001"


def test_transaction_ids_are_unique_uuid4_hex():
    ids = {signing.new_transaction_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_credentials_repr_hides_keys():
    assert "customerkey" not in repr(CREDS) and "partnerkey" not in repr(CREDS)


# ------------------------------------------------------------------ URL


def test_build_url_is_exact_and_lowercase():
    url = build_url("https://x.fi/", "getpurchaseinvoice.nv",
                    {"NetvisorKeyList": "1,2,3", "version": 2, "skip": None, "flag": True, "q": "ä b&c"})
    assert url == "https://x.fi/getpurchaseinvoice.nv?netvisorkeylist=1,2,3&version=2&flag=1&q=%C3%A4%20b%26c"
    assert build_url("https://x.fi", "a.nv") == "https://x.fi/a.nv"


# ------------------------------------------------------------------ envelope


OK = (b'<?xml version="1.0"?><Root><ResponseStatus><Status>OK</Status><TimeStamp>1.1.2025 1:00:00</TimeStamp>'
      b"</ResponseStatus><Replies><InsertedDataIdentifier>8</InsertedDataIdentifier></Replies></Root>")


def failed(text):
    return (f"<Root><ResponseStatus><Status>FAILED</Status><Status>{text}</Status>"
            "<TimeStamp>1.1.2025</TimeStamp></ResponseStatus></Root>").encode()


def test_envelope_ok_and_inserted_identifier():
    env = parse_envelope(OK)
    assert env.inserted_identifier() == "8"
    assert env.timestamp == "1.1.2025 1:00:00"


@pytest.mark.parametrize("category,cls", [
    ("AUTHENTICATION_FAILED", errors.NetvisorAuthenticationError),
    ("INVALID_DATA", errors.NetvisorInvalidDataError),
    ("INVALID_DATA_SIZE", errors.NetvisorInvalidDataError),
    ("DUPLICATE_DATA", errors.NetvisorDuplicateDataError),
    ("REQUEST_NOT_UNIQUE", errors.NetvisorRequestNotUniqueError),
    ("PERIOD_LOCK", errors.NetvisorPeriodLockError),
    ("SERVICE_ACCESS_ERROR", errors.NetvisorServiceAccessError),
    ("SYSTEM_MAINTENANCE", errors.NetvisorMaintenanceError),
    ("SYSTEM_MAINTANANCE", errors.NetvisorMaintenanceError),
    ("TECHNICAL_ERROR", errors.NetvisorTechnicalError),
    ("SOMETHING_NEW", errors.NetvisorError),
])
def test_error_categories_mapped(category, cls):
    with pytest.raises(cls) as info:
        parse_envelope(failed(f"{category} :: Viesti :: with colons"), http_status=400)
    assert type(info.value) is cls
    assert info.value.category == category
    assert info.value.text == "Viesti :: with colons"
    assert info.value.http_status == 400


def test_status_200_with_failed_is_an_error():
    with pytest.raises(errors.NetvisorInvalidDataError):
        parse_envelope(failed("INVALID_DATA :: bad"), http_status=200)


def test_ok_envelope_with_error_status_is_not_trusted():
    with pytest.raises(errors.NetvisorBadResponseError):
        parse_envelope(OK, http_status=500)


@pytest.mark.parametrize("body", [b"", b"<html>502 Bad Gateway</html>", b"not xml", b"<Root><Foo/></Root>",
                                  b'<Root><ResponseStatus><Status>OK</Sta'])
def test_non_netvisor_bodies_are_bad_responses(body):
    with pytest.raises(errors.NetvisorBadResponseError) as info:
        parse_envelope(body, http_status=502)
    assert info.value.retryable


def test_error_fixture_from_shared_examples():
    path = os.path.join(SHARED, "examples", "response_error_authentication_failed.xml")
    if not os.path.exists(path):
        pytest.skip("../shared examples not present")
    with open(path, "rb") as handle, pytest.raises(errors.NetvisorAuthenticationError) as info:
        parse_envelope(handle.read())
    assert "Integraatiokumppania" in info.value.text


# ------------------------------------------------------------------ safe XML

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Root [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Root><ResponseStatus><Status>OK</Status></ResponseStatus><Data>&xxe;</Data></Root>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Root><ResponseStatus><Status>OK</Status></ResponseStatus><Data>&lol3;</Data></Root>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE Root SYSTEM "http://127.0.0.1:9/evil.dtd">
<Root><ResponseStatus><Status>OK</Status></ResponseStatus></Root>"""


@pytest.mark.parametrize("payload", [XXE, BILLION_LAUGHS, EXTERNAL_DTD, XXE.replace(b"DOCTYPE", b"doctype")])
def test_hostile_xml_refused(payload):
    with pytest.raises(errors.NetvisorXMLSecurityError):
        parse_envelope(payload)
    with pytest.raises(errors.NetvisorXMLSecurityError):
        xmlutil.parse_xml(payload)


def test_size_bound():
    big = b"<Root><ResponseStatus><Status>OK</Status></ResponseStatus>" + b"<A>x</A>" * 2000 + b"</Root>"
    with pytest.raises(errors.NetvisorXMLSecurityError):
        xmlutil.parse_xml(big, max_bytes=1000)
    assert xmlutil.parse_xml(big) is not None


def test_utf16_doctype_is_not_a_bypass():
    payload = XXE.decode().replace('<?xml version="1.0"?>', "").encode("utf-16")
    with pytest.raises((errors.NetvisorXMLSecurityError, errors.NetvisorBadResponseError)):
        xmlutil.parse_xml(payload)


# ------------------------------------------------------------------ values


@pytest.mark.parametrize("raw,expected", [
    ("100,00", "100.00"), ("5,480000000000", "5.480000000000"), ("244.12", "244.12"),
    ("-1 234,50", "-1234.50"), ("1.234,50", "1234.50"), ("0", "0"),
])
def test_parse_decimal(raw, expected):
    assert xmlutil.parse_decimal(raw) == Decimal(expected)


def test_parse_decimal_rejects_garbage():
    with pytest.raises(ValueError):
        xmlutil.parse_decimal("12x")
    assert xmlutil.parse_decimal("", Decimal(0)) == Decimal(0)


def test_format_decimal_never_floats():
    assert xmlutil.format_decimal(Decimal("1.005")) == "1,01"
    assert xmlutil.format_decimal(0.1 + 0.2) == "0,30"
    assert xmlutil.format_decimal(2.675) == "2,68"  # a float through repr, not binary
    assert xmlutil.format_decimal(Decimal("-0.001")) == "0,00"
    assert xmlutil.format_quantity(Decimal("1.500")) == "1,5"
    assert xmlutil.format_quantity(3) == "3"


def test_dates():
    assert xmlutil.parse_date("2025-03-04") == datetime.date(2025, 3, 4)
    assert xmlutil.parse_date("7.2.2014") == datetime.date(2014, 2, 7)
    assert xmlutil.format_date(datetime.date(2025, 3, 4)) == "2025-03-04"
    assert xmlutil.format_datetime(datetime.datetime(2025, 3, 4, 5, 6, 7)) == "2025-03-04T05:06:07"


def test_builder_escapes_and_skips_none():
    root = xmlutil.E("root", None, xmlutil.E("name", 'A & B <"ä€">'), None, xmlutil.E("x", "1", type="net"))
    out = xmlutil.to_bytes(root)
    assert out.startswith(b"<root>")
    assert b"&amp; B &lt;" in out and 'ä€'.encode() in out and b'type="net"' in out
    assert xmlutil.parse_xml(out) is not None
    assert xmlutil.clean_text("a\x00b\x1fc") == "abc"


def test_redact():
    assert redact(b"key=secret123", ("secret123",)) == "key=***"
    assert redact(None, ("x",)) == ""


# ------------------------------------------------------------------ validation


def test_business_id():
    assert is_valid_business_id("0737546-2")
    assert not is_valid_business_id("1234567-8")  # the API.md vector is not a real Y-tunnus
    assert is_valid_business_id("1234567-1")
    assert not is_valid_business_id("123456-7")
    assert normalize_business_id("FI07375462") == "0737546-2"
    assert normalize_business_id(" 0737546-2 ") == "0737546-2"


def test_url_problem():
    assert url_problem("https://integration.netvisor.fi/") is None
    assert url_problem("http://localhost:8765/") is None
    assert url_problem("http://integration.netvisor.fi/") == "https"
    assert url_problem("integration.netvisor.fi") == "format"
    assert url_problem("https://x.fi/?a=1") == "format"


# ------------------------------------------------------------------ transport against a scripted server


class Scripted(BaseHTTPRequestHandler):
    """Answers from ``server.script`` (a list of callables), records headers."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        action = self.server.script.pop(0) if self.server.script else ("ok", OK)
        kind, payload = action
        if kind == "drop":
            self.close_connection = True
            self.connection.close()
            return
        if kind == "sleep":
            import time

            time.sleep(payload)
            self.close_connection = True
            return
        status = payload[0] if isinstance(payload, tuple) else 200
        data = payload[1] if isinstance(payload, tuple) else payload
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve


@pytest.fixture()
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    srv.daemon_threads = True
    srv.script = []
    srv.seen = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def client_for(srv, **kw):
    kw.setdefault("backoff", 0)
    kw.setdefault("read_timeout", 1)
    exchanges = []
    client = Client(CREDS, base_url=f"http://127.0.0.1:{srv.server_address[1]}/", on_exchange=exchanges.append, **kw)
    return client, exchanges


def test_signed_url_is_the_url_sent(server):
    client, _ex = client_for(server)
    client.get("purchaseinvoicelist.nv", {"begininvoicedate": "2025-01-01", "keyword": "a b"})
    seen = server.seen[0]
    headers = seen["headers"]
    url = f"http://127.0.0.1:{server.server_address[1]}{seen['path']}"
    expected = signing.compute_mac(
        url, headers["X-Netvisor-Authentication-Sender"], headers["X-Netvisor-Authentication-CustomerId"],
        headers["X-Netvisor-Authentication-Timestamp"], headers["X-Netvisor-Interface-Language"],
        headers["X-Netvisor-Organisation-ID"], headers["X-Netvisor-Authentication-TransactionId"],
        headers["X-Netvisor-Authentication-TimestampUnix"], "customerkey", "partnerkey")
    assert headers["X-Netvisor-Authentication-MAC"] == expected
    assert seen["path"] == "/purchaseinvoicelist.nv?begininvoicedate=2025-01-01&keyword=a%20b"


@pytest.mark.parametrize("fault", [
    ("ok", (500, failed("TECHNICAL_ERROR :: boom"))),
    ("ok", (503, failed("SYSTEM_MAINTENANCE :: huolto"))),
    ("ok", (502, b"<html>bad gateway</html>")),
    ("ok", (200, b"<Root><Resp")),
    ("drop", None),
    ("sleep", 1.5),
    ("ok", (400, failed("REQUEST_NOT_UNIQUE :: used"))),
])
def test_get_retries_transient_with_fresh_transaction_ids(server, fault):
    server.script = [fault, ("ok", OK)]
    client, exchanges = client_for(server)
    envelope = client.get("purchaseinvoicelist.nv")
    assert envelope.inserted_identifier() == "8"
    assert len(server.seen) == 2 if fault[0] != "sleep" else len(server.seen) >= 2
    ids = [s["headers"]["X-Netvisor-Authentication-TransactionId"] for s in server.seen]
    macs = [s["headers"]["X-Netvisor-Authentication-MAC"] for s in server.seen]
    assert len(set(ids)) == len(ids) and len(set(macs)) == len(macs)
    assert [e.attempt for e in exchanges] == [1, 2]
    assert not exchanges[0].ok and exchanges[1].ok


def test_retries_are_bounded_with_backoff(server):
    server.script = [("ok", (500, failed("TECHNICAL_ERROR :: boom")))] * 5
    sleeps = []
    client, exchanges = client_for(server, max_attempts=3, backoff=1.5, sleep=sleeps.append)
    with pytest.raises(errors.NetvisorTechnicalError):
        client.get("purchaseinvoicelist.nv")
    assert len(server.seen) == 3
    assert sleeps == [1.5, 3.0]


@pytest.mark.parametrize("category,cls", [
    ("AUTHENTICATION_FAILED", errors.NetvisorAuthenticationError),
    ("INVALID_DATA", errors.NetvisorInvalidDataError),
    ("SERVICE_ACCESS_ERROR", errors.NetvisorServiceAccessError),
    ("PERIOD_LOCK", errors.NetvisorPeriodLockError),
])
def test_permanent_errors_not_retried(server, category, cls):
    server.script = [("ok", (400, failed(f"{category} :: no")))]
    client, _ex = client_for(server)
    with pytest.raises(cls):
        client.get("customerlist.nv")
    assert len(server.seen) == 1


@pytest.mark.parametrize("fault", [("drop", None), ("sleep", 1.5), ("ok", (502, b"<html>proxy</html>")),
                                   ("ok", (200, b"garbage"))])
def test_post_with_unknown_outcome_is_never_resent(server, fault):
    server.script = [fault, ("ok", OK)]
    client, exchanges = client_for(server)
    with pytest.raises(errors.NetvisorOutcomeUnknownError):
        client.post("salesinvoice.nv", b"<root><salesinvoice/></root>", {"method": "add"})
    assert len(server.seen) == 1
    assert exchanges[0].error.category == "OUTCOME_UNKNOWN"


@pytest.mark.parametrize("fault", [
    ("ok", (500, failed("TECHNICAL_ERROR :: boom"))),
    ("ok", (503, failed("SYSTEM_MAINTENANCE :: huolto"))),
    ("ok", (400, failed("REQUEST_NOT_UNIQUE :: used"))),
])
def test_post_retried_when_netvisor_says_it_stored_nothing(server, fault):
    server.script = [fault, ("ok", OK)]
    client, _ex = client_for(server)
    assert client.post("salesinvoice.nv", b"<root/>").inserted_identifier() == "8"
    assert len(server.seen) == 2
    assert server.seen[0]["body"] == server.seen[1]["body"] == b"<root/>"


def test_connection_refused_is_connection_error_and_retried():
    client = Client(CREDS, base_url="http://127.0.0.1:9/", backoff=0, max_attempts=2)
    with pytest.raises(errors.NetvisorConnectionError):
        client.post("salesinvoice.nv", b"<root/>")
    assert client.request_count == 2  # nothing left the machine, so a POST may be retried


def test_lock_held_around_each_attempt(server):
    server.script = [("ok", (500, failed("TECHNICAL_ERROR :: x"))), ("ok", OK)]
    events = []

    class Lock:
        def __enter__(self):
            events.append("acquire")

        def __exit__(self, *exc):
            events.append("release")

    client, _ex = client_for(server, lock=Lock)
    client.get("a.nv")
    assert events == ["acquire", "release", "acquire", "release"]


def test_exchange_bodies_redacted(server):
    server.script = [("ok", OK.replace(b"8", b"customerkey"))]
    client, exchanges = client_for(server)
    client.post("a.nv", b"<root>partnerkey</root>")
    assert "partnerkey" not in exchanges[0].request_body
    assert "customerkey" not in exchanges[0].response_body
