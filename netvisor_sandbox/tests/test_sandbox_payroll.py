"""accounting.nv and purchaseinvoice.nv in the sandbox, spoken to over raw HTTP (no client library)."""

import base64
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
OTHER_ORG = "1572860-0"
PDF = b"%PDF-1.4\n% receipt\n%%EOF\n"


def seed():
    return {
        "partners": [{"partner_id": PARTNER[0], "partner_key": PARTNER[1]}],
        "organisations": [
            {"organisation_id": ORG, "customers": [{"customer_id": CUSTOMER[0], "customer_key": CUSTOMER[1]}],
             "data": {}},
            {"organisation_id": OTHER_ORG, "customers": [{"customer_id": CUSTOMER[0], "customer_key": CUSTOMER[1]}],
             "data": {"voucher_classes": [{"name": "Palkat", "abbreviation": "PA"}],
                      "accounts": [{"number": "5000", "name": "Palkat"}, {"number": "2940", "name": "Palkkavelat"}]}},
        ],
    }


@pytest.fixture()
def sandbox():
    server = start_sandbox(seed())
    yield server
    server.stop()


def post(server, resource, body, org=ORG):
    url = f"{server.base_url}{resource}"
    now = datetime.datetime.now(datetime.timezone.utc)
    timestamp = now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d}"
    unix = str(int(now.timestamp()))
    transaction_id = uuid.uuid4().hex
    message = "&".join([url, "Test", CUSTOMER[0], timestamp, "EN", org, transaction_id, unix, CUSTOMER[1], PARTNER[1]])
    mac = hmac.new(f"{CUSTOMER[1]}&{PARTNER[1]}".encode("latin-1"), message.encode("latin-1"),
                   hashlib.sha256).hexdigest()
    headers = {
        "X-Netvisor-Authentication-Sender": "Test",
        "X-Netvisor-Authentication-CustomerId": CUSTOMER[0],
        "X-Netvisor-Authentication-PartnerId": PARTNER[0],
        "X-Netvisor-Authentication-Timestamp": timestamp,
        "X-Netvisor-Authentication-TimestampUnix": unix,
        "X-Netvisor-Authentication-TransactionId": transaction_id,
        "X-Netvisor-Interface-Language": "EN",
        "X-Netvisor-Organisation-ID": org,
        "X-Netvisor-Authentication-MACHashCalculationAlgorithm": "HMACSHA256",
        "X-Netvisor-Authentication-MAC": mac,
        "X-Netvisor-Authentication-UseHTTPResponseStatusCodes": "1",
    }
    method = "POST" if body is not None else "GET"
    response = requests.request(method, url, data=body.encode("utf-8") if body else None, headers=headers, timeout=10)
    root = etree.fromstring(response.content)
    statuses = [s.text for s in root.findall("ResponseStatus/Status")]
    return response.status_code, statuses, root


def get(server, resource, org=ORG):
    return post(server, resource, None, org=org)


def voucher_xml(lines, voucher_class="Palkka", extra="", date="2026-01-31", mode="net"):
    body = "".join(
        f'<voucherline><linesum type="net">{amount}</linesum><description>rivi</description>'
        f'<accountnumber>{account}</accountnumber><vatpercent vatcode="{code}">{percent}</vatpercent>{tail}'
        f"</voucherline>"
        for amount, account, code, percent, tail in lines)
    return (f"<root><voucher><calculationmode>{mode}</calculationmode><voucherdate format=\"ansi\">{date}"
            f"</voucherdate>{extra}<voucherclass>{voucher_class}</voucherclass>{body}</voucher></root>")


PAYROLL = [
    ("5000,00", "5000", "NONE", "0",
     "<dimension><dimensionname>Henkilöstö</dimensionname><dimensionitem>Maija</dimensionitem></dimension>"),
    ("-1200,00", "2930", "NONE", "0", ""),
    ("-3800,00", "2940", "NONE", "0", ""),
]


# ------------------------------------------------------------------ accounting.nv


def test_balanced_voucher_is_stored_and_numbered(sandbox):
    status, statuses, root = post(sandbox, "accounting.nv", voucher_xml(PAYROLL))
    assert status == 200 and statuses == ["OK"], statuses
    key = int(root.findtext("Replies/InsertedDataIdentifier"))
    stored = sandbox.org(ORG).collections["vouchers"][key]
    assert stored["voucher_class"] == "Palkka"
    assert stored["number"] == "1"
    assert stored["date"] == "2026-01-31"
    assert [line["amount"] for line in stored["lines"]] == ["5000.00", "-1200.00", "-3800.00"]
    assert stored["lines"][0]["dimensions"] == [{"name": "Henkilöstö", "item": "Maija"}]
    # defaults are stored on first use and visible in the state dump
    assert "Muu tosite" in {c["name"] for c in sandbox.org(ORG).collections["voucher_classes"].values()}
    _s, statuses, root = post(sandbox, "accounting.nv", voucher_xml(PAYROLL, voucher_class="others"))
    assert statuses == ["OK"], "class names match case-insensitively"
    _s, statuses, root = post(sandbox, "accounting.nv", voucher_xml(PAYROLL))
    assert sandbox.org(ORG).collections["vouchers"][int(root.findtext("Replies/InsertedDataIdentifier"))][
        "number"] == "2"


def test_unbalanced_voucher_rejected(sandbox):
    lines = PAYROLL[:2] + [("-3799,99", "2940", "NONE", "0", "")]
    status, statuses, _root = post(sandbox, "accounting.nv", voucher_xml(lines))
    assert status == 400
    assert statuses[0] == "FAILED" and statuses[1].startswith("INVALID_DATA ::")
    assert "does not balance" in statuses[1] and "0.01" in statuses[1]
    assert not sandbox.org(ORG).collections["vouchers"]


def test_unknown_voucher_class_rejected(sandbox):
    _status, statuses, _root = post(sandbox, "accounting.nv", voucher_xml(PAYROLL, voucher_class="Palkat"))
    assert "unknown voucher class" in statuses[1]
    # an organisation with its own classes: the defaults do not apply
    lines = [("100", "5000", "NONE", "0", ""), ("-100", "2940", "NONE", "0", "")]
    _status, statuses, _root = post(sandbox, "accounting.nv", voucher_xml(lines, voucher_class="Palkka"), org=OTHER_ORG)
    assert "unknown voucher class" in statuses[1] and "Palkat" in statuses[1]
    _status, statuses, _root = post(sandbox, "accounting.nv", voucher_xml(lines, voucher_class="Palkat"), org=OTHER_ORG)
    assert statuses == ["OK"]


def test_unknown_account_rejected_when_accounts_are_seeded(sandbox):
    lines = [("100", "5000", "NONE", "0", ""), ("-100", "2930", "NONE", "0", "")]
    _status, statuses, _root = post(sandbox, "accounting.nv", voucher_xml(lines, voucher_class="Palkat"), org=OTHER_ORG)
    assert "account not found" in statuses[1] and "2930" in statuses[1]
    _status, statuses, _root = post(sandbox, "accounting.nv", voucher_xml(lines))
    assert statuses == ["OK"], "without an accounts list any account is accepted"


def test_element_order_and_vat_checked(sandbox):
    out_of_order = voucher_xml(PAYROLL).replace(
        "<calculationmode>net</calculationmode><voucherdate format=\"ansi\">2026-01-31</voucherdate>",
        "<voucherdate format=\"ansi\">2026-01-31</voucherdate><calculationmode>net</calculationmode>")
    _status, statuses, _root = post(sandbox, "accounting.nv", out_of_order)
    assert "out of order" in statuses[1]
    line_order = voucher_xml(PAYROLL).replace("<description>rivi</description><accountnumber>5000</accountnumber>",
                                              "<accountnumber>5000</accountnumber><description>rivi</description>")
    _status, statuses, _root = post(sandbox, "accounting.nv", line_order)
    assert "out of order" in statuses[1]
    lines = [("100", "5000", "NONE", "24", ""), ("-100", "2940", "NONE", "0", "")]
    _status, statuses, _root = post(sandbox, "accounting.nv", voucher_xml(lines))
    assert "VAT code NONE does not accept 24" in statuses[1]
    _status, statuses, _root = post(sandbox, "accounting.nv", voucher_xml(PAYROLL, mode="brutto"))
    assert "calculationmode" in statuses[1]
    assert not sandbox.org(ORG).collections["vouchers"]


# ------------------------------------------------------------------ purchaseinvoice.nv


def invoice_xml(number="EXP-1", source="finvoice", attachments=((PDF, "invoiceimage"), (PDF, "otherattachment")),
                amount="84,38", linesum_type="brutto", vendor_code="EMP-3", mimetype="application/pdf", swap=False):
    parts = "".join(
        f"<purchaseinvoiceattachment><mimetype>{mimetype}</mimetype><attachmentdescription>Kuitti {i}"
        f"</attachmentdescription><filename>kuitti{i}.pdf</filename><documentdata documenttype=\"{kind}\">"
        f"{base64.b64encode(content).decode()}</documentdata></purchaseinvoiceattachment>"
        for i, (content, kind) in enumerate(attachments, 1))
    attachments_xml = f"<purchaseinvoiceattachments>{parts}</purchaseinvoiceattachments>" if parts else ""
    head = (f"<invoicenumber>{number}</invoicenumber><invoicedate format=\"ansi\">2026-02-03</invoicedate>")
    source_xml = f"<invoicesource>{source}</invoicesource>"
    head = source_xml + head if swap else head + source_xml
    return (
        f"<root><purchaseinvoice>{head}"
        "<valuedate format=\"ansi\">2026-02-03</valuedate><duedate format=\"ansi\">2026-02-17</duedate>"
        f"<vendorcode>{vendor_code}</vendorcode><vendorname>Maija Meikäläinen</vendorname>"
        f"<vendorcountry>FI</vendorcountry><amount>{amount}</amount><accountnumber>FI2112345600000785</accountnumber>"
        "<ourreference>Matka</ourreference><currencycode>EUR</currencycode>"
        "<primaryvendormatchtype>code</primaryvendormatchtype><purchaseinvoicelines>"
        "<purchaseinvoiceline><productcode>TAXI</productcode><productname>Taksi</productname>"
        "<deliveredamount>1</deliveredamount><unitprice>25</unitprice><vatpercent>25,5</vatpercent>"
        f"<linesum type=\"{linesum_type}\">31,38</linesum><sort>1</sort>"
        "<accountingsuggestion>7800</accountingsuggestion></purchaseinvoiceline>"
        "<purchaseinvoiceline><productname>Päiväraha</productname><deliveredamount>2</deliveredamount>"
        "<unitprice>26,5</unitprice><vatpercent>0</vatpercent><linesum type=\"brutto\">53,00</linesum>"
        "<description>2 päivää</description><sort>2</sort><accountingsuggestion>7800</accountingsuggestion>"
        f"</purchaseinvoiceline></purchaseinvoicelines>{attachments_xml}</purchaseinvoice></root>"
    )


def test_purchase_invoice_import_with_attachments(sandbox):
    status, statuses, root = post(sandbox, "purchaseinvoice.nv", invoice_xml())
    assert status == 200 and statuses == ["OK"], statuses
    key = int(root.findtext("Replies/InsertedDataIdentifier"))
    org = sandbox.org(ORG)
    stored = org.collections["purchase_invoices"][key]
    # the record schema of purchase_invoices.py
    assert stored["number"] == "EXP-1"
    assert stored["date"] == "2026-02-03" and stored["due_date"] == "2026-02-17"
    assert stored["amount"] == "84.38" and stored["paid_amount"] == "0"
    assert stored["approval_status"] == "open"
    assert stored["vendor"]["code"] == "EMP-3" and stored["vendor"]["bank_account"] == "FI2112345600000785"
    assert [line["line_sum"] for line in stored["lines"]] == ["31.38", "53.00"]
    assert [line["vat_code"] for line in stored["lines"]] == ["KOOS", "NONE"]
    assert stored["lines"][0]["line_net_sum"] == "25.00"
    assert all("netvisor_key" in line for line in stored["lines"])
    assert [a["document_type"] for a in stored["attachments"]] == ["invoiceimage", "otherattachment"]
    assert base64.b64decode(stored["attachments"][0]["base64"]) == PDF
    # visible through the read resources
    _s, statuses, root = get(sandbox, "purchaseinvoicelist.nv?invoicenumber=EXP-1")
    assert root.findtext("PurchaseInvoiceList/PurchaseInvoice/NetvisorKey") == str(key)
    assert root.findtext("PurchaseInvoiceList/PurchaseInvoice/Sum") == "84,38"
    _s, statuses, root = get(sandbox, f"getpurchaseinvoice.nv?netvisorkey={key}&version=2")
    assert root.findtext("PurchaseInvoice/VendorCode") == "EMP-3"
    assert len(root.findall("PurchaseInvoice/Attachments/Attachment")) == 2
    assert root.findtext("PurchaseInvoice/InvoiceLines/PurchaseInvoiceLine/AccountingSuggestionBookkeepingAccount") \
        == "7800"


def test_vendor_created_once_then_matched_by_code(sandbox):
    post(sandbox, "purchaseinvoice.nv", invoice_xml(number="EXP-1"))
    post(sandbox, "purchaseinvoice.nv", invoice_xml(number="EXP-2"))
    org = sandbox.org(ORG)
    assert len(org.collections["vendors"]) == 1
    vendor = next(iter(org.collections["vendors"].values()))
    assert vendor["code"] == "EMP-3" and vendor["name"] == "Maija Meikäläinen"
    post(sandbox, "purchaseinvoice.nv", invoice_xml(number="EXP-3", vendor_code="EMP-4"))
    assert len(org.collections["vendors"]) == 2
    keys = {inv["vendor"]["netvisor_key"] for inv in org.collections["purchase_invoices"].values()}
    assert len(keys) == 2


@pytest.mark.parametrize("kwargs, text", [
    (dict(source="manual"), "invoicesource finvoice"),
    (dict(mimetype="image/jpeg"), "must be PDF"),
    (dict(attachments=((b"\xff\xd8\xff\xe0 not a pdf", "invoiceimage"),)), "not a PDF document"),
    (dict(amount="84,39"), "line sums do not add up"),
    (dict(linesum_type="netto"), 'type="brutto"'),
    (dict(swap=True), "out of order"),
])
def test_purchase_invoice_rejections(sandbox, kwargs, text):
    status, statuses, _root = post(sandbox, "purchaseinvoice.nv", invoice_xml(**kwargs))
    assert status == 400 and statuses[0] == "FAILED"
    assert text in statuses[1], statuses[1]
    assert not sandbox.org(ORG).collections["purchase_invoices"]


def test_purchase_invoice_without_attachments(sandbox):
    _status, statuses, root = post(sandbox, "purchaseinvoice.nv", invoice_xml(source="manual", attachments=()))
    assert statuses == ["OK"]
    stored = sandbox.org(ORG).collections["purchase_invoices"][int(root.findtext("Replies/InsertedDataIdentifier"))]
    assert stored["source"] == "manual" and stored["attachments"] == []
