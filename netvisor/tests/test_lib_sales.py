"""netvisor.resources.sales_invoices: the salesinvoice.nv document, its checks, and the
calls against the sandbox."""

import datetime
import os
from decimal import Decimal

import pytest

from netvisor import Client, Credentials
from netvisor.errors import NetvisorInvalidDataError
from netvisor.resources import sales_invoices as nv_sales
from netvisor.xmlutil import to_bytes
from netvisor_sandbox import start_sandbox

D = Decimal
HERE = os.path.dirname(os.path.abspath(__file__))
DTD_DIR = os.path.join(HERE, "..", "..", "..", "shared", "netvisor", "xsd", "dtd")
ORG = "1572860-0"


def dtd(name):
    path = os.path.join(DTD_DIR, name)
    if not os.path.exists(path):
        pytest.skip(f"{name} not available")
    return nv_sales.load_request_dtd(path)


def line(**values):
    base = dict(product_identifier="TUOTE1", name="Tuote", unit_price=D("10"), vat_percent=D("24"),
                vat_code="KOMY", quantity=D("1"), vat_sum=D("2.40"), line_sum=D("12.40"))
    base.update(values)
    return nv_sales.ProductLine(**base)


def invoice(**values):
    base = dict(date=datetime.date(2026, 5, 4), due_date=datetime.date(2026, 5, 18), amount=D("12.40"),
                customer_identifier="501", lines=[line()], number="INV/2026/00001", currency="EUR")
    base.update(values)
    return nv_sales.SalesInvoice(**base)


def test_document_follows_dtd_order():
    doc = nv_sales.build_sales_invoice(invoice(
        reference="1232", customer_name="Asiakas Oy", customer_address="Katu 1", customer_post_number="00100",
        customer_town="Helsinki", customer_country="fi", your_reference="PO-1", delivery_date=datetime.date(2026, 5, 3),
        lines=[nv_sales.CommentLine("Otsikko"), line(discount=D("10"), free_text="lisätieto", vat_sum=D("2.16"),
                                                     line_sum=D("11.16"))],
        amount=D("11.16")))
    validator = dtd("salesinvoice.dtd")
    assert validator.validate(doc), validator.error_log.filter_from_errors()
    invoice_node = doc.find("salesinvoice")
    tags = [child.tag for child in invoice_node]
    assert tags == ["salesinvoicenumber", "salesinvoicedate", "salesinvoiceduedate", "salesinvoicedeliverydate",
                    "salesinvoicereferencenumber", "salesinvoiceamount", "invoicetype", "salesinvoicestatus",
                    "salesinvoiceyourreference", "invoicingcustomeridentifier", "invoicingcustomername",
                    "invoicingcustomeraddressline", "invoicingcustomerpostnumber", "invoicingcustomertown",
                    "invoicingcustomercountrycode", "invoicelines"]
    assert invoice_node.findtext("salesinvoiceamount") == "11,16"
    assert invoice_node.find("salesinvoicedate").get("format") == "ansi"
    assert invoice_node.findtext("invoicingcustomercountrycode") == "FI"
    product = invoice_node.find("invoicelines/invoiceline[2]/salesinvoiceproductline")
    assert [c.tag for c in product] == [
        "productidentifier", "productname", "productunitprice", "productvatpercentage",
        "salesinvoiceproductlinequantity", "salesinvoiceproductlinediscountpercentage",
        "salesinvoiceproductlinefreetext", "salesinvoiceproductlinevatsum", "salesinvoiceproductlinesum"]
    assert product.find("productvatpercentage").get("vatcode") == "KOMY"
    assert product.findtext("productunitprice") == "10"
    assert product.findtext("salesinvoiceproductlinesum") == "11,16"
    assert not to_bytes(doc).startswith(b"<?xml")


def test_new_vat_codes_and_rates_pass_the_relaxed_dtd():
    doc = nv_sales.build_sales_invoice(invoice(
        amount=D("10.00"), lines=[line(vat_code="KOMY0", vat_percent=D("0"), vat_sum=D("0"), line_sum=D("10"))]))
    assert dtd("salesinvoice.dtd").validate(doc)
    doc = nv_sales.build_sales_invoice(invoice(
        amount=D("12.55"), lines=[line(vat_percent=D("25.5"), vat_sum=D("2.55"), line_sum=D("12.55"))]))
    assert doc.findtext("salesinvoice/invoicelines/invoiceline/salesinvoiceproductline/productvatpercentage") == "25,5"


def test_payment_term_days_when_no_due_date():
    doc = nv_sales.build_sales_invoice(invoice(due_date=None, payment_term_days=14))
    assert doc.findtext("salesinvoice/paymenttermnetdays") == "14"
    assert doc.find("salesinvoice/salesinvoiceduedate") is None
    assert dtd("salesinvoice.dtd").validate(doc)


def test_special_characters_are_escaped():
    name = "Ääkköset & <merkit> \"lainaus\" 'heitto' å € \x01"
    doc = nv_sales.build_sales_invoice(invoice(customer_name=name, lines=[line(name=name)]))
    body = to_bytes(doc)
    assert b"&amp;" in body and b"&lt;merkit&gt;" in body and "€".encode() in body
    assert b"\x01" not in body
    assert doc.findtext("salesinvoice/invoicingcustomername") == name.replace("\x01", "").strip()


@pytest.mark.parametrize("values, message", [
    (dict(amount=D("12.41")), "not the sum of the line sums"),
    (dict(amount=D("0"), lines=[line(vat_sum=D("0"), line_sum=D("0"))]), "total is zero"),
    (dict(lines=[nv_sales.CommentLine("x")]), "no product line"),
    (dict(lines=[line(name="x" * 201)]), "productname has 201 characters"),
    (dict(customer_name="y" * 251), "invoicingcustomername has 251"),
    (dict(currency="XYZ"), "not an ISO 4217"),
    (dict(reference="INV/2026/1"), "not a valid reference"),
    (dict(due_date=None), "due date"),
    (dict(lines=[line(line_sum=D("12.405"))], amount=D("12.405")), "at most 2 decimals"),
    (dict(customer_identifier=""), "customer identifier"),
])
def test_refused_before_sending(values, message):
    with pytest.raises(nv_sales.SalesInvoiceDataError, match=message):
        nv_sales.build_sales_invoice(invoice(**values))


def test_length_problems_name_the_line():
    problems = nv_sales.length_problems(invoice(lines=[line(), line(free_text="z" * 501)]))
    assert problems == [("salesinvoiceproductlinefreetext", 2, 501, 500)]


def test_reference_numbers():
    assert nv_sales.is_valid_reference("1232")
    assert nv_sales.is_valid_reference("12 344")
    assert nv_sales.is_valid_reference("RF18539007547034")
    assert not nv_sales.is_valid_reference("1234")
    assert not nv_sales.is_valid_reference("RF19539007547034")
    assert not nv_sales.is_valid_reference("")


def test_match_credit_note_document():
    doc = nv_sales.build_match_credit_note(12, 10)
    assert [c.tag for c in doc.find("matchcreditnote")] == ["creditnotenetvisorkey", "invoicenetvisorkey"]
    validator = dtd("matchcreditnote.dtd")
    assert validator.validate(doc), validator.error_log.filter_from_errors()


# ------------------------------------------------------------------ against the sandbox


@pytest.fixture
def client():
    server = start_sandbox({
        "partners": [{"partner_id": "P", "partner_key": "partner-key-1"}],
        "organisations": [{"organisation_id": ORG, "customers": [{"customer_id": "C", "customer_key": "ck-1"}],
                           "data": {"customers": [{"netvisor_key": 501, "code": "A1", "name": "Asiakas Oy"}],
                                    "products": [{"netvisor_key": 301, "code": "TUOTE1", "name": "Tuote"}]}}],
    })
    creds = Credentials(sender="pytest", customer_id="C", partner_id="P", organisation_id=ORG,
                        customer_key="ck-1", partner_key="partner-key-1")
    yield Client(creds, base_url=server.base_url, backoff=0, read_timeout=5), server
    server.stop()


def test_round_trip(client):
    client, server = client
    key = nv_sales.add_sales_invoice(client, nv_sales.build_sales_invoice(invoice(reference="1232")))
    credit = nv_sales.add_sales_invoice(client, nv_sales.build_sales_invoice(invoice(
        number="RINV/2026/00001", amount=D("-12.40"),
        lines=[line(quantity=D("-1"), vat_sum=D("-2.40"), line_sum=D("-12.40"))])))
    nv_sales.match_credit_note(client, credit, key)
    summaries = nv_sales.list_sales_invoices(client, invoice_number="INV/2026/00001")
    assert len(summaries) == 1
    summary = summaries[0]
    assert summary.netvisor_key == key and summary.amount == D("12.40") and summary.open_amount == D("12.40")
    assert summary.status == "open" and summary.customer_key == "501" and summary.customer_code == "A1"
    assert summary.date == datetime.date(2026, 5, 4) and summary.reference == "1232"
    detail = nv_sales.get_sales_invoice(client, credit)
    assert detail.amount == D("-12.40") and detail.status == "open" and detail.currency == "EUR"
    assert detail.lines[0]["quantity"] == D("-1") and detail.lines[0]["vat_code"] == "KOMY"
    assert nv_sales.get_sales_invoice(client, "999999") is None
    both = nv_sales.get_sales_invoices(client, [key, credit, "999999"])
    assert [d.number for d in both] == ["INV/2026/00001", "RINV/2026/00001"]
    nv_sales.edit_sales_invoice(client, key, nv_sales.build_sales_invoice(invoice(
        amount=D("24.80"), lines=[line(quantity=D("2"), vat_sum=D("4.80"), line_sum=D("24.80"))])))
    assert nv_sales.get_sales_invoice(client, key).amount == D("24.80")
    assert len(server.org(ORG).collections["sales_invoices"]) == 2
    with pytest.raises(NetvisorInvalidDataError):
        nv_sales.match_credit_note(client, key, credit)
    with pytest.raises(ValueError):
        nv_sales.list_sales_invoices(client, include_modified_payments=True)
    window = nv_sales.list_sales_invoices(
        client, modified_start=datetime.datetime(2000, 1, 1), modified_end=datetime.datetime(2100, 1, 1),
        include_modified_payments=True)
    assert len(window) == 2
