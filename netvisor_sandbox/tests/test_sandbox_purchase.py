"""Purchase invoice resources of the sandbox (list filters, batched detail, attachments), spoken
to with raw signed HTTP requests (no netvisor library)."""

import datetime
import hashlib
import hmac
import uuid

import pytest
import requests
from lxml import etree

from netvisor_sandbox import start_sandbox

PARTNER = ("PID", "partner-key")
CUSTOMER = ("CID", "customer-key")
ORG = "0737546-2"


def invoice(key, **values):
    record = {
        "netvisor_key": key, "number": f"A-{key}", "date": "2026-05-20", "amount": "124.00",
        "vendor": {"name": "Toimittaja Oy", "business_id": "1572860-0", "code": "V1"},
        "lines": [{"description": "Rivi", "quantity": "2", "unit_price": "50", "vat_percent": "24",
                   "vat_code": "KOOS", "line_sum": "124.00", "line_net_sum": "100.00", "account": "4000 Ostot",
                   "dimensions": [{"name": "Projektit", "item": "P1", "name_key": 3, "item_key": 31}]}],
    }
    record.update(values)
    return record


SEED = {
    "partners": [{"partner_id": PARTNER[0], "partner_key": PARTNER[1]}],
    "organisations": [{"organisation_id": ORG, "customers": [{"customer_id": CUSTOMER[0], "customer_key": CUSTOMER[1]}],
                       "data": {"purchase_invoices": [
                           invoice(1, modified="2026-05-20T08:00:00"),
                           invoice(2, date="2026-05-21", modified="2026-05-21T09:30:00", paid_amount="124.00",
                                   approval_status="approved",
                                   attachments=[{"filename": "lasku.pdf", "base64": "JVBERi0xLjQK"}]),
                           invoice(3, date="2026-05-22", number="CN-3", amount="-62.00", modified="2026-05-22T07:00:00",
                                   lines=[]),
                           invoice(4, date="2026-04-30", currency="USD", foreign_amount="140.50",
                                   modified="2026-05-22T18:00:00"),
                       ]}}],
}


@pytest.fixture()
def sandbox():
    server = start_sandbox(SEED)
    yield server
    server.stop()


def sign(url):
    now = datetime.datetime.now(datetime.timezone.utc)
    timestamp = now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d}"
    unix = str(int(now.timestamp()))
    transaction_id = uuid.uuid4().hex
    message = "&".join([url, "Test", CUSTOMER[0], timestamp, "FI", ORG, transaction_id, unix,
                        CUSTOMER[1], PARTNER[1]])
    mac = hmac.new(f"{CUSTOMER[1]}&{PARTNER[1]}".encode("latin-1"), message.encode("latin-1"),
                   hashlib.sha256).hexdigest()
    return {
        "X-Netvisor-Authentication-Sender": "Test",
        "X-Netvisor-Authentication-CustomerId": CUSTOMER[0],
        "X-Netvisor-Authentication-PartnerId": PARTNER[0],
        "X-Netvisor-Authentication-Timestamp": timestamp,
        "X-Netvisor-Authentication-TimestampUnix": unix,
        "X-Netvisor-Authentication-TransactionId": transaction_id,
        "X-Netvisor-Interface-Language": "FI",
        "X-Netvisor-Organisation-ID": ORG,
        "X-Netvisor-Authentication-MACHashCalculationAlgorithm": "HMACSHA256",
        "X-Netvisor-Authentication-MAC": mac,
        "X-Netvisor-Authentication-UseHTTPResponseStatusCodes": "1",
    }


def call(sandbox, resource, query=""):
    url = sandbox.base_url + resource + (f"?{query}" if query else "")
    response = requests.get(url, headers=sign(url), timeout=10)
    return response, etree.fromstring(response.content)


def ok(sandbox, resource, query=""):
    response, root = call(sandbox, resource, query)
    assert root.findtext("ResponseStatus/Status") == "OK", response.text
    return root


def failed(sandbox, resource, query=""):
    response, root = call(sandbox, resource, query)
    statuses = [s.text for s in root.findall("ResponseStatus/Status")]
    assert statuses[0] == "FAILED", response.text
    return response.status_code, statuses[1]


def keys_of_list(root):
    return [int(k.text) for k in root.findall("PurchaseInvoiceList/PurchaseInvoice/NetvisorKey")]


# ------------------------------------------------------------------ list


def test_list_all_and_fields(sandbox):
    root = ok(sandbox, "purchaseinvoicelist.nv")
    assert keys_of_list(root) == [1, 2, 3, 4]
    first = root.find("PurchaseInvoiceList/PurchaseInvoice")
    assert first.findtext("InvoiceNumber") == "A-1"
    assert first.find("InvoiceDate").get("format") == "ansi"
    assert first.findtext("VendorOrganizationIdentifier") == "1572860-0"
    assert first.findtext("Sum") == "124,00"
    assert first.findtext("OpenSum") == "124,00"
    assert first.findtext("Uri").endswith("getpurchaseinvoice.nv?netvisorkey=1")


@pytest.mark.parametrize("query,expected", [
    ("begininvoicedate=2026-05-21", [2, 3]),
    ("endinvoicedate=2026-05-20", [1, 4]),
    ("begininvoicedate=2026-05-21&endinvoicedate=2026-05-21", [2]),
    ("lastmodifiedstart=2026-05-21T00:00:00", [2, 3, 4]),
    ("lastmodifiedstart=2026-05-21T09:30:00&lastmodifiedend=2026-05-22T07:00:00", [2, 3]),
    ("lastmodifiedend=2026-05-20T23:59:59", [1]),
    ("invoicestatus=approved", [2]),
    ("invoicestatus=open", [1, 3, 4]),
    ("paymentstatus=paid", [2]),
    ("paymentstatus=unpaid", [1, 3, 4]),  # an unpaid credit note is not "paid"
    ("invoicenumber=CN-3", [3]),
    ("invoicenumber=nope", []),
])
def test_list_filters(sandbox, query, expected):
    assert keys_of_list(ok(sandbox, "purchaseinvoicelist.nv", query)) == expected


@pytest.mark.parametrize("query", [
    "begininvoicedate=20.5.2026", "lastmodifiedstart=yesterday", "invoicestatus=paid", "paymentstatus=open",
])
def test_list_invalid_filters(sandbox, query):
    status, text = failed(sandbox, "purchaseinvoicelist.nv", query)
    assert status == 400 and text.startswith("INVALID_DATA :: ")


def test_list_sees_records_added_later(sandbox):
    org = sandbox.org(ORG)
    stored = org.add("purchase_invoices", invoice(None, number="NEW", modified="2026-05-23T06:00:00"))
    assert stored["netvisor_key"] > 4, "new keys stay above seeded ones"
    assert stored["lines"][0]["netvisor_key"], "normaliser fills line keys"
    assert keys_of_list(ok(sandbox, "purchaseinvoicelist.nv", "lastmodifiedstart=2026-05-23T00:00:00")) == [
        stored["netvisor_key"]]


# ------------------------------------------------------------------ detail


def test_detail_version2_dimensions_in_lines(sandbox):
    root = ok(sandbox, "getpurchaseinvoice.nv", "netvisorkey=1&version=2")
    inv = root.find("PurchaseInvoice")
    assert inv.findtext("PurchaseInvoiceNetvisorKey") == "1"
    assert inv.findtext("PurchaseInvoiceAmount") == "124,00"
    assert inv.findtext("VendorCode") == "V1"
    line = inv.find("InvoiceLines/PurchaseInvoiceLine")
    assert line.findtext("LineSum") == "124,00"
    assert line.findtext("VatCode") == "KOOS"
    assert line.findtext("AccountingSuggestionBookkeepingAccount") == "4000 Ostot"
    assert line.findtext("PurchaseInvoiceLineDimensions/Dimension/DimensionDetailName") == "P1"
    assert line.findtext("PurchaseInvoiceLineDimensions/Dimension/DimensionDetailNetvisorKey") == "31"
    assert inv.find("InvoiceLines/PurchaseInvoiceLineDimensions") is None


def test_detail_version1_dimensions_beside_lines(sandbox):
    root = ok(sandbox, "getpurchaseinvoice.nv", "netvisorkey=1")
    lines = root.find("PurchaseInvoice/InvoiceLines")
    assert lines.find("PurchaseInvoiceLine/PurchaseInvoiceLineDimensions") is None
    assert lines.findtext("PurchaseInvoiceLineDimensions/Dimension/DimensionName") == "Projektit"


def test_detail_batch(sandbox):
    root = ok(sandbox, "getpurchaseinvoice.nv", "netvisorkeylist=4,2,999,2&version=2")
    keys = [e.text for e in root.findall("PurchaseInvoices/PurchaseInvoice/PurchaseInvoiceNetvisorKey")]
    assert keys == ["4", "2"], "requested order, unknown keys absent, duplicates once"
    usd = root.find("PurchaseInvoices/PurchaseInvoice")
    assert usd.findtext("ForeignCurrencyNameID") == "USD"
    assert usd.findtext("ForeignCurrencyAmount") == "140,50"


def test_detail_batch_limit(sandbox):
    status, text = failed(sandbox, "getpurchaseinvoice.nv",
                          "netvisorkeylist=" + ",".join(str(n) for n in range(1, 502)))
    assert status == 400 and text.startswith("INVALID_DATA_SIZE :: ")
    ok(sandbox, "getpurchaseinvoice.nv", "netvisorkeylist=" + ",".join(str(n) for n in range(1, 501)))


@pytest.mark.parametrize("query", [
    "", "netvisorkey=abc", "netvisorkeylist=1,x", "netvisorkeylist=", "netvisorkey=1&version=3",
    "netvisorkey=1&omitattachments=maybe", "netvisorkey=1&include=everything",
])
def test_detail_invalid(sandbox, query):
    status, text = failed(sandbox, "getpurchaseinvoice.nv", query)
    assert status == 400 and text.startswith("INVALID_DATA :: ")


def test_detail_unknown_key_is_empty_ok(sandbox):
    root = ok(sandbox, "getpurchaseinvoice.nv", "netvisorkey=999")
    assert len(root.find("PurchaseInvoice")) == 0


def test_attachments_and_preview(sandbox):
    inv = ok(sandbox, "getpurchaseinvoice.nv", "netvisorkey=2&version=2&include=previewimage").find("PurchaseInvoice")
    attachment = inv.find("Attachments/Attachment")
    assert attachment.findtext("AttachmentBase64Data") == "JVBERi0xLjQK"
    assert attachment.findtext("FileName") == "lasku.pdf"
    assert attachment.findtext("ContentType") == "application/pdf"
    assert inv.find("PreviewImage").get("attachmentnetvisorkey")
    inv = ok(sandbox, "getpurchaseinvoice.nv", "netvisorkey=2&version=2&omitattachments=true").find(
        "PurchaseInvoice")
    assert inv.find("Attachments") is None and inv.find("PreviewImage") is None
    assert inv.findtext("InvoiceStatus") == "Maksettu"


def test_credit_note_detail(sandbox):
    inv = ok(sandbox, "getpurchaseinvoice.nv", "netvisorkey=3&version=2").find("PurchaseInvoice")
    assert inv.findtext("PurchaseInvoiceAmount") == "-62,00"
    assert inv.findtext("InvoiceStatus") == "Avoin"


def test_faults_apply_to_the_detail(sandbox):
    sandbox.faults.configure(queue=[("http500", "getpurchaseinvoice.nv")])
    ok(sandbox, "purchaseinvoicelist.nv")  # the queued fault waits for its resource
    status, text = failed(sandbox, "getpurchaseinvoice.nv", "netvisorkey=1")
    assert status == 500 and text.startswith("TECHNICAL_ERROR")
    ok(sandbox, "getpurchaseinvoice.nv", "netvisorkey=1")
    assert sandbox.faults.dump()["injected"] == {"http500": 1}
