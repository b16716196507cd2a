"""The sandbox speaks Netvisor's protocol strictly (no Odoo)."""

import datetime
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
import requests

from netvisor_sandbox import start_sandbox
from netvisor_sandbox.faults import Faults

PARTNER = ("PID", "partner-key")
CUSTOMER = ("CID", "customer-key")
ORG = "0737546-2"
SEED = {
    "partners": [{"partner_id": PARTNER[0], "partner_key": PARTNER[1]}],
    "organisations": [{"organisation_id": ORG, "customers": [{"customer_id": CUSTOMER[0], "customer_key": CUSTOMER[1]}],
                       "data": {"purchase_invoices": [{"netvisor_key": 7, "number": "A-1", "date": "2026-01-05",
                                                       "amount": "124.00", "vendor": {"name": "Toimittaja Oy"},
                                                       "lines": []}]}}],
}


@pytest.fixture()
def sandbox():
    server = start_sandbox(SEED)
    yield server
    server.stop()


def sign(url, now=None, transaction_id=None, customer=CUSTOMER, partner=PARTNER, org=ORG, language="FI",
         timestamp=None, unix=None, algorithm="HMACSHA256"):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    timestamp = timestamp or now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d}"
    unix = unix or str(int(now.timestamp()))
    transaction_id = transaction_id or uuid.uuid4().hex
    message = "&".join([url, "Test", customer[0], timestamp, language, org, transaction_id, unix,
                        customer[1], partner[1]])
    mac = hmac.new(f"{customer[1]}&{partner[1]}".encode("latin-1"), message.encode("latin-1"),
                   hashlib.sha256).hexdigest()
    return {
        "X-Netvisor-Authentication-Sender": "Test",
        "X-Netvisor-Authentication-CustomerId": customer[0],
        "X-Netvisor-Authentication-PartnerId": partner[0],
        "X-Netvisor-Authentication-Timestamp": timestamp,
        "X-Netvisor-Authentication-TimestampUnix": unix,
        "X-Netvisor-Authentication-TransactionId": transaction_id,
        "X-Netvisor-Interface-Language": language,
        "X-Netvisor-Organisation-ID": org,
        "X-Netvisor-Authentication-MACHashCalculationAlgorithm": algorithm,
        "X-Netvisor-Authentication-MAC": mac,
        "X-Netvisor-Authentication-UseHTTPResponseStatusCodes": "1",
    }


def get(sandbox, path="purchaseinvoicelist.nv", headers=None, **kw):
    url = sandbox.base_url + path
    return requests.get(url, headers=headers or sign(url, **kw), timeout=10)


def status_of(response):
    text = response.text
    statuses = text.split("<Status>")[1:]
    return [s.split("</Status>")[0] for s in statuses]


def test_valid_request(sandbox):
    response = get(sandbox)
    assert response.status_code == 200
    assert status_of(response) == ["OK"]
    assert "<NetvisorKey>7</NetvisorKey>" in response.text
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<Root>')


def test_bad_mac(sandbox):
    url = sandbox.base_url + "purchaseinvoicelist.nv"
    headers = sign(url)
    headers["X-Netvisor-Authentication-MAC"] = "0" * 64
    response = get(sandbox, headers=headers)
    assert response.status_code == 401
    assert status_of(response)[:2] == ["FAILED", status_of(response)[1]]
    assert status_of(response)[1].startswith("AUTHENTICATION_FAILED :: ")


def test_mac_covers_the_query_string(sandbox):
    url = sandbox.base_url + "purchaseinvoicelist.nv"
    headers = sign(url)  # signed without the query
    response = requests.get(url + "?invoicenumber=A-1", headers=headers, timeout=10)
    assert response.status_code == 401


@pytest.mark.parametrize("change", [
    {"customer": ("CID", "wrong")},
    {"partner": ("UNKNOWN", "partner-key")},
    {"org": "1572860-0"},
    {"customer": ("OTHER", "customer-key")},
])
def test_unknown_or_wrong_credentials(sandbox, change):
    response = get(sandbox, **change)
    assert response.status_code == 401
    assert "AUTHENTICATION_FAILED" in response.text


def test_missing_header(sandbox):
    url = sandbox.base_url + "purchaseinvoicelist.nv"
    for name in list(sign(url)):
        if name == "X-Netvisor-Authentication-UseHTTPResponseStatusCodes":
            continue
        headers = sign(url)
        del headers[name]
        response = requests.get(url, headers=headers, timeout=10)
        assert "AUTHENTICATION_FAILED" in response.text, name


@pytest.mark.parametrize("change", [
    {"algorithm": "MD5"}, {"language": "DE"}, {"org": "1234567"},
    {"timestamp": "2026-01-01T10:00:00.000Z"}, {"unix": "abc"},
])
def test_header_formats(sandbox, change):
    assert "AUTHENTICATION_FAILED" in get(sandbox, **change).text


def test_local_time_timestamp_rejected(sandbox):
    now = datetime.datetime.now(datetime.timezone.utc)
    local = now + datetime.timedelta(hours=2)
    timestamp = local.strftime("%Y-%m-%d %H:%M:%S.000")
    response = get(sandbox, timestamp=timestamp, unix=str(int(now.timestamp())))
    assert "disagree" in response.text


def test_replayed_transaction_id(sandbox):
    transaction_id = uuid.uuid4().hex
    assert get(sandbox, transaction_id=transaction_id).status_code == 200
    again = get(sandbox, transaction_id=transaction_id)
    assert again.status_code == 400
    assert "REQUEST_NOT_UNIQUE" in again.text


def test_clock_skew(sandbox):
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    response = get(sandbox, now=old)
    assert response.status_code == 401
    assert "timestamp" in response.text.lower()
    sandbox.clock_offset = -600
    assert get(sandbox, now=old).status_code == 200


def test_overlapping_requests_refused(sandbox):
    sandbox.faults.configure(latency_ms=400)
    results = []

    def worker():
        results.append(get(sandbox))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    texts = sorted(r.text for r in results)
    assert sum("overlapping" in t for t in texts) == 1
    assert sandbox.org(ORG).overlaps == 1
    assert sandbox.state.stats["overlaps"] == 1


def test_sequential_requests_never_overlap(sandbox):
    for _ in range(5):
        assert get(sandbox).status_code == 200
    assert sandbox.org(ORG).max_active == 1


def test_resource_not_enabled(sandbox):
    sandbox.org(ORG).disabled_resources.add("purchaseinvoicelist.nv")
    response = get(sandbox)
    assert response.status_code == 403
    assert "SERVICE_ACCESS_ERROR" in response.text


def test_unknown_resource_and_method(sandbox):
    assert "Unknown resource" in get(sandbox, path="nosuch.nv").text
    url = sandbox.base_url + "purchaseinvoicelist.nv"
    response = requests.post(url, data=b"<root/>", headers=sign(url), timeout=10)
    assert "not allowed" in response.text


def test_without_status_codes_header_everything_is_200(sandbox):
    url = sandbox.base_url + "purchaseinvoicelist.nv"
    headers = sign(url, customer=("CID", "wrong"))
    del headers["X-Netvisor-Authentication-UseHTTPResponseStatusCodes"]
    response = requests.get(url, headers=headers, timeout=10)
    assert response.status_code == 200 and "AUTHENTICATION_FAILED" in response.text


def test_post_body_doctype_refused(sandbox):
    from netvisor_sandbox.xmlio import SandboxFault, parse_request_xml

    with pytest.raises(SandboxFault):
        parse_request_xml(b'<!DOCTYPE root [<!ENTITY a "b">]><root>&a;</root>')
    root = parse_request_xml(b"<Root><SalesInvoice><A>1</A></SalesInvoice></Root>")
    assert root.find("salesinvoice/a").text == "1"


@pytest.mark.parametrize("kind,status,marker", [
    ("http500", 500, "TECHNICAL_ERROR"),
    ("maintenance", 503, "SYSTEM_MAINTENANCE"),
    ("http502", 502, "Bad Gateway"),
    ("malformed", 200, "<Sta"),
])
def test_faults(sandbox, kind, status, marker):
    sandbox.faults.configure(queue=[kind])
    response = get(sandbox)
    assert response.status_code == status
    assert marker in response.text
    assert get(sandbox).status_code == 200
    assert sandbox.faults.injected[kind] == 1


def test_timeout_fault_hangs_then_drops(sandbox):
    sandbox.faults.configure(queue=["timeout"], hang_seconds=1.0)
    with pytest.raises(requests.exceptions.RequestException):
        url = sandbox.base_url + "purchaseinvoicelist.nv"
        requests.get(url, headers=sign(url), timeout=0.5)
    # the org is not left busy
    assert get(sandbox).status_code == 200


def test_drop_after_process(sandbox):
    sandbox.faults.configure(queue=[("drop_after_process", "purchaseinvoicelist.nv")])
    with pytest.raises(requests.exceptions.ConnectionError):
        get(sandbox)
    deadline = time.time() + 5  # the server thread records the outcome after dropping
    while not sandbox.state.stats["outcome:fault:drop_after_process"] and time.time() < deadline:
        time.sleep(0.01)
    assert sandbox.state.stats["outcome:fault:drop_after_process"] == 1


def test_failure_rate_is_seeded_and_bounded():
    faults = Faults()
    faults.configure(failure_rate=0.1, seed=42)
    picks = [faults.pick("x.nv", "POST") for _ in range(1000)]
    assert 50 < sum(p is not None for p in picks) < 150
    faults2 = Faults()
    faults2.configure(failure_rate=0.1, seed=42)
    assert picks == [faults2.pick("x.nv", "POST") for _ in range(1000)]
    assert "drop_after_process" not in {faults2.pick("x.nv", "GET") for _ in range(500)}


def test_control_api(sandbox):
    def control(method, action, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(sandbox.base_url + "_sandbox/" + action, data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    control("POST", "faults", {"queue": ["http500"]})
    assert control("GET", "stats")["faults"]["queue"] == [["http500", None]]
    get(sandbox)
    state = control("GET", "state")
    assert state["organisations"][0]["data"]["purchase_invoices"][0]["number"] == "A-1"
    control("POST", "reset", {})
    assert get(sandbox).status_code == 401  # partners are gone


def test_keys_above_seeded_ones(sandbox):
    org = sandbox.org(ORG)
    record = org.add("purchase_invoices", {"number": "B", "date": "2026-01-06", "amount": "1", "lines": []})
    assert record["netvisor_key"] > 7
    assert record["modified"].startswith("2026-01-06")


def test_snapshot_round_trip(sandbox):
    from netvisor_sandbox.state import SandboxState

    org = sandbox.org(ORG)
    added = org.add("purchase_invoices", {"number": "C", "date": "2026-01-07", "amount": "2", "lines": []})
    copy = SandboxState()
    copy.load_seed(json.loads(json.dumps(sandbox.state.snapshot())))
    restored = copy.organisations[ORG]
    assert restored.collections["purchase_invoices"][added["netvisor_key"]]["number"] == "C"
    assert restored.next_key() > added["netvisor_key"]
    assert copy.partners == sandbox.state.partners


def test_control_pay(sandbox):
    org = sandbox.org(ORG)
    org.add("sales_invoices", {"number": "1001", "date": "2026-01-05", "amount": "100.00", "status": "open",
                               "customer_name": "Asiakas Oy", "lines": []})
    request = urllib.request.Request(sandbox.base_url + "_sandbox/pay", method="POST", data=json.dumps(
        {"type": "sales", "invoice_number": "1001", "sum": "40.00", "date": "2026-01-20"}).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        payment = json.loads(response.read())
    assert payment["sum"] in ("40.00", "40")
    assert [p["invoice_number"] for p in org.collections["sales_payments"].values()] == ["1001"]
    bad = urllib.request.Request(sandbox.base_url + "_sandbox/pay", method="POST",
                                 data=json.dumps({"type": "sales", "invoice_number": "nope", "sum": "1"}).encode())
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(bad, timeout=10)
