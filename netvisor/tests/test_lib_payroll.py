"""Voucher (accounting.nv) and purchase invoice import (purchaseinvoice.nv) builders (no Odoo)."""

import base64
import datetime
import io
import os
import re
from decimal import Decimal

import pytest
from lxml import etree

from netvisor import errors, signing, xmlutil
from netvisor.envelope import Envelope
from netvisor.resources import accounting, purchase_invoice_import
from netvisor.resources.accounting import UnbalancedVoucherError, Voucher, VoucherError, VoucherLine
from netvisor.resources.purchase_invoice_import import (
    PurchaseInvoiceAttachment,
    PurchaseInvoiceError,
    PurchaseInvoiceImport,
    PurchaseInvoiceLine,
    Vendor,
)
from netvisor.transport import Client
from netvisor_sandbox import start_sandbox

DTD_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "netvisor", "xsd", "dtd")
ORG = "0737546-2"
SEED = {
    "partners": [{"partner_id": "PID", "partner_key": "partner-key-1"}],
    "organisations": [{"organisation_id": ORG,
                       "customers": [{"customer_id": "CID", "customer_key": "customer-key-1"}],
                       "data": {"accounts": [{"number": n} for n in ("5000", "2930", "2940", "7800")]}}],
}
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def load_dtd(name):
    path = os.path.join(DTD_DIR, name)
    if not os.path.exists(path):
        pytest.skip(f"../shared/netvisor/xsd/dtd/{name} not present")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    inner = re.sub(r"^\s*<!DOCTYPE\s+root\s*\[", "", text)
    inner = inner[:inner.rindex("]>")]
    return etree.DTD(io.StringIO(inner))


def payroll_voucher(**kwargs):
    values = dict(
        date=datetime.date(2026, 1, 31),
        voucher_class="Palkka",
        description="Palkka 1/2026 Maija Meikäläinen",
        lines=[
            VoucherLine(Decimal("5000.00"), "5000", "Peruspalkka", dimensions=[("Henkilöstö", "Maija")]),
            VoucherLine(Decimal("-1200.00"), "2930", "Ennakonpidätys"),
            VoucherLine(Decimal("-3800.00"), "2940", "Nettopalkka"),
        ],
    )
    values.update(kwargs)
    return Voucher(**values)


class RecordingClient:
    """Stands in for netvisor.Client: records posts, answers with a fixed envelope."""

    def __init__(self, key="42"):
        self.posts = []
        self.key = key

    def post(self, resource, root, params=None):
        self.posts.append((resource, xmlutil.to_bytes(root)))
        replies = f"<Replies><InsertedDataIdentifier>{self.key}</InsertedDataIdentifier></Replies>" if self.key else ""
        return Envelope(root=etree.fromstring(f"<Root><ResponseStatus><Status>OK</Status></ResponseStatus>{replies}"
                                             "</Root>"))


@pytest.fixture()
def sandbox():
    server = start_sandbox(SEED)
    yield server
    server.stop()


def client_for(server, **kwargs):
    credentials = signing.Credentials(sender="Test", customer_id="CID", partner_id="PID", organisation_id=ORG,
                                      customer_key="customer-key-1", partner_key="partner-key-1")
    return Client(credentials, base_url=server.base_url, backoff=0, read_timeout=3, connect_timeout=3, **kwargs)


# ------------------------------------------------------------------ vouchers


def test_voucher_order_and_values():
    root = accounting.build_voucher(payroll_voucher())
    voucher = root.find("voucher")
    assert [c.tag for c in voucher] == ["calculationmode", "voucherdate", "description", "voucherclass",
                                        "voucherline", "voucherline", "voucherline"]
    assert voucher.findtext("calculationmode") == "net"
    assert voucher.find("voucherdate").get("format") == "ansi"
    assert voucher.findtext("voucherdate") == "2026-01-31"
    assert voucher.findtext("voucherclass") == "Palkka"
    first = voucher.findall("voucherline")[0]
    assert [c.tag for c in first] == ["linesum", "description", "accountnumber", "vatpercent", "dimension"]
    assert first.findtext("linesum") == "5000,00"
    assert first.find("linesum").get("type") == "net"
    assert first.find("vatpercent").get("vatcode") == "NONE"
    assert first.findtext("vatpercent") == "0"
    assert first.findtext("dimension/dimensionname") == "Henkilöstö"
    assert voucher.findall("voucherline")[1].findtext("linesum") == "-1200,00"
    assert voucher.find("number") is None, "no number: Netvisor numbers the voucher in its class"


def test_voucher_valid_against_dtd():
    dtd = load_dtd("accounting.dtd")
    voucher = payroll_voucher(number="12", attachments=[accounting.VoucherAttachment("slip.pdf", PDF)])
    root = accounting.build_voucher(voucher)
    assert dtd.validate(root), dtd.error_log.filter_from_errors()


def test_unbalanced_voucher_is_never_sent():
    client = RecordingClient()
    voucher = payroll_voucher(lines=[VoucherLine(Decimal("100.00"), "5000"), VoucherLine(Decimal("-99.99"), "2940")])
    with pytest.raises(UnbalancedVoucherError) as info:
        accounting.send_voucher(client, voucher)
    assert info.value.difference == Decimal("0.01")
    assert info.value.debit == Decimal("100.00") and info.value.credit == Decimal("99.99")
    assert client.posts == []


def test_balance_is_checked_in_decimal():
    # 0.1 + 0.2 - 0.3 is not 0 in binary floating point; in Decimal at the cent it is
    lines = [VoucherLine(0.1, "5000"), VoucherLine(0.2, "5000"), VoucherLine(-0.3, "2940")]
    assert 0.1 + 0.2 - 0.3 != 0
    assert accounting.totals(lines) == (Decimal("0.30"), Decimal("0.30"), Decimal("0.00"))
    accounting.build_voucher(payroll_voucher(lines=lines))


def test_zero_lines_are_skipped():
    lines = payroll_voucher().lines + [VoucherLine(Decimal("0.004"), "5000", "rounds to zero"),
                                       VoucherLine(Decimal("0"), "2940")]
    root = accounting.build_voucher(payroll_voucher(lines=lines))
    assert len(root.findall("voucher/voucherline")) == 3
    with pytest.raises(VoucherError, match="no line"):
        accounting.build_voucher(payroll_voucher(lines=[VoucherLine(Decimal(0), "5000")]))


def test_voucher_checks():
    with pytest.raises(VoucherError, match="class"):
        accounting.build_voucher(payroll_voucher(voucher_class=" "))
    with pytest.raises(VoucherError, match="calculation mode"):
        accounting.build_voucher(payroll_voucher(calculation_mode="brutto"))
    with pytest.raises(VoucherError, match="account"):
        accounting.build_voucher(payroll_voucher(lines=[VoucherLine(Decimal(1), ""), VoucherLine(Decimal(-1), "1")]))
    with pytest.raises(VoucherError, match="NONE only accepts 0"):
        accounting.build_voucher(payroll_voucher(lines=[
            VoucherLine(Decimal(1), "5000", vat_percent=Decimal(24)), VoucherLine(Decimal(-1), "2940")]))


def test_ok_without_key_is_outcome_unknown():
    with pytest.raises(errors.NetvisorOutcomeUnknownError):
        accounting.send_voucher(RecordingClient(key=None), payroll_voucher())


def test_send_voucher_to_sandbox(sandbox):
    key = accounting.send_voucher(client_for(sandbox), payroll_voucher())
    stored = sandbox.org(ORG).collections["vouchers"][int(key)]
    assert stored["voucher_class"] == "Palkka"
    assert stored["number"] == "1"
    assert [line["amount"] for line in stored["lines"]] == ["5000.00", "-1200.00", "-3800.00"]
    assert {line["vat_code"] for line in stored["lines"]} == {"NONE"}
    assert stored["lines"][0]["dimensions"] == [{"name": "Henkilöstö", "item": "Maija"}]
    second = accounting.send_voucher(client_for(sandbox), payroll_voucher())
    assert sandbox.org(ORG).collections["vouchers"][int(second)]["number"] == "2"


def test_sandbox_refuses_unknown_class_and_account(sandbox):
    client = client_for(sandbox)
    with pytest.raises(errors.NetvisorInvalidDataError, match="voucher class"):
        accounting.send_voucher(client, payroll_voucher(voucher_class="Palkat ja muut"))
    with pytest.raises(errors.NetvisorInvalidDataError, match="account not found"):
        accounting.send_voucher(client, payroll_voucher(lines=[VoucherLine(Decimal(1), "9999"),
                                                               VoucherLine(Decimal(-1), "2940")]))
    assert not sandbox.org(ORG).collections["vouchers"]


# ------------------------------------------------------------------ purchase invoices


def expense_invoice(**kwargs):
    values = dict(
        number="EXP-7",
        date=datetime.date(2026, 2, 3),
        due_date=datetime.date(2026, 2, 17),
        vendor=Vendor(code="EMP-3", name="Maija Meikäläinen", country="FI", bank_account="FI21 1234 5600 0007 85"),
        lines=[
            PurchaseInvoiceLine("Taksi", Decimal("31.38"), vat_percent=Decimal("25.5"), account="7800",
                                product_code="TAXI"),
            PurchaseInvoiceLine("Päiväraha", Decimal("53.00"), account="7800", quantity=Decimal(2),
                                description="2 päivää"),
        ],
        currency="EUR",
        our_reference="Matka Tampereelle",
        attachments=[
            PurchaseInvoiceAttachment("kuitti1.pdf", PDF, document_type="invoiceimage"),
            PurchaseInvoiceAttachment("kuitti2.pdf", PDF + b"2"),
        ],
    )
    values.update(kwargs)
    return PurchaseInvoiceImport(**values)


def test_purchase_invoice_document():
    root = purchase_invoice_import.build_purchase_invoice(expense_invoice())
    invoice = root.find("purchaseinvoice")
    assert invoice.findtext("invoicesource") == "finvoice", "attachments need invoicesource finvoice"
    assert invoice.findtext("amount") == "84,38"
    assert invoice.findtext("vendorcode") == "EMP-3"
    assert invoice.findtext("primaryvendormatchtype") == "code"
    assert invoice.findtext("accountnumber") == "FI2112345600000785"
    assert invoice.findtext("valuedate") == "2026-02-03"
    first, second = invoice.findall("purchaseinvoicelines/purchaseinvoiceline")
    assert first.find("linesum").get("type") == "brutto"
    assert first.findtext("linesum") == "31,38"
    assert first.findtext("vatpercent") == "25,5"
    assert first.findtext("unitprice") == "25", "net unit price: 31.38 / 1.255"
    assert first.findtext("accountingsuggestion") == "7800"
    assert second.findtext("deliveredamount") == "2"
    assert second.findtext("unitprice") == "26,5"
    attachments = invoice.findall("purchaseinvoiceattachments/purchaseinvoiceattachment")
    assert [a.find("documentdata").get("documenttype") for a in attachments] == ["invoiceimage", "otherattachment"]
    assert base64.b64decode(attachments[0].findtext("documentdata")) == PDF
    assert attachments[0].findtext("mimetype") == "application/pdf"


def test_purchase_invoice_valid_against_dtd():
    dtd = load_dtd("purchaseinvoice.dtd")
    root = purchase_invoice_import.build_purchase_invoice(expense_invoice())
    assert dtd.validate(root), dtd.error_log.filter_from_errors()
    root = purchase_invoice_import.build_purchase_invoice(expense_invoice(attachments=[]))
    assert dtd.validate(root), dtd.error_log.filter_from_errors()
    assert root.findtext("purchaseinvoice/invoicesource") == "manual"


def test_purchase_invoice_checks():
    with pytest.raises(PurchaseInvoiceError, match="not a PDF"):
        purchase_invoice_import.build_purchase_invoice(expense_invoice(
            attachments=[PurchaseInvoiceAttachment("kuitti.jpg", b"\xff\xd8", mimetype="image/jpeg")]))
    with pytest.raises(PurchaseInvoiceError, match="finvoice"):
        purchase_invoice_import.build_purchase_invoice(expense_invoice(source="manual"))
    with pytest.raises(PurchaseInvoiceError, match="sum of its lines"):
        purchase_invoice_import.build_purchase_invoice(expense_invoice(amount=Decimal("84.39")))
    with pytest.raises(PurchaseInvoiceError, match="no line"):
        purchase_invoice_import.build_purchase_invoice(expense_invoice(lines=[]))


def test_send_purchase_invoice_to_sandbox(sandbox):
    client = client_for(sandbox)
    key = purchase_invoice_import.send_purchase_invoice(client, expense_invoice())
    org = sandbox.org(ORG)
    stored = org.collections["purchase_invoices"][int(key)]
    assert stored["number"] == "EXP-7"
    assert stored["amount"] == "84.38"
    assert stored["source"] == "finvoice"
    assert stored["vendor"]["code"] == "EMP-3"
    assert [line["vat_code"] for line in stored["lines"]] == ["KOOS", "NONE"]
    assert len(stored["attachments"]) == 2
    # the vendor was created once and is matched by code the next time
    purchase_invoice_import.send_purchase_invoice(client, expense_invoice(number="EXP-8"))
    assert len(org.collections["vendors"]) == 1
    # readable like any purchase invoice
    envelope = client.get("getpurchaseinvoice.nv", {"netvisorkey": key, "version": "2"})
    detail = envelope.payload("PurchaseInvoice")
    assert xmlutil.text(detail, "VendorCode") == "EMP-3"
    assert len(xmlutil.children(xmlutil.child(detail, "Attachments"), "Attachment")) == 2
    assert purchase_invoice_import.find_purchase_invoice(client, "EXP-7", "EMP-3") == key
    assert purchase_invoice_import.find_purchase_invoice(client, "EXP-7", "EMP-4") is None
    assert purchase_invoice_import.find_purchase_invoice(client, "EXP-9", "EMP-3") is None


def test_dropped_answer_then_lookup_finds_the_invoice(sandbox):
    client = client_for(sandbox)
    sandbox.faults.configure(queue=[("drop_after_process", "purchaseinvoice.nv")])
    with pytest.raises(errors.NetvisorOutcomeUnknownError):
        purchase_invoice_import.send_purchase_invoice(client, expense_invoice())
    assert len(sandbox.org(ORG).collections["purchase_invoices"]) == 1, "the POST was not resent blindly"
    key = purchase_invoice_import.find_purchase_invoice(client, "EXP-7", "EMP-3", amount=Decimal("84.38"))
    assert key and int(key) in sandbox.org(ORG).collections["purchase_invoices"]
