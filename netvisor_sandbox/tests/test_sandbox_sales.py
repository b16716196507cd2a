"""The sandbox's sales invoice resources: salesinvoice.nv, salesinvoicelist.nv,
getsalesinvoice.nv, matchcreditnote.nv (API.md 5.2, 5.3)."""

import datetime

import pytest

from netvisor import Client, Credentials
from netvisor.errors import NetvisorError, NetvisorInvalidDataError
from netvisor_sandbox import start_sandbox
from netvisor_sandbox.resources import sales_invoices as sandbox_sales

ORG = "1572860-0"
SEED = {
    "partners": [{"partner_id": "P", "partner_key": "partner-key-1"}],
    "organisations": [{
        "organisation_id": ORG,
        "customers": [{"customer_id": "C", "customer_key": "customer-key-1"}],
        "data": {
            "customers": [
                {"netvisor_key": 501, "code": "ASIAKAS1", "name": "Asiakas Oy", "business_id": "1572860-0"},
                {"netvisor_key": 502, "code": "ASIAKAS2", "name": "Toinen Oy"},
            ],
            "products": [
                {"netvisor_key": 301, "code": "TUOTE1", "name": "Tuote", "unit_price": "10"},
                {"netvisor_key": 302, "code": "PALVELU", "name": "Palvelu"},
            ],
        },
    }],
}


@pytest.fixture
def sandbox():
    server = start_sandbox(SEED)
    yield server
    server.stop()


@pytest.fixture
def client(sandbox):
    creds = Credentials(sender="pytest", customer_id="C", partner_id="P", organisation_id=ORG,
                        customer_key="customer-key-1", partner_key="partner-key-1")
    return Client(creds, base_url=sandbox.base_url, backoff=0, read_timeout=5)


def product_line(code="TUOTE1", name="Tuote", price="10", vat="24", vatcode="KOMY", qty="1", discount=None,
                 vat_sum=None, line_sum=None, price_type="net", id_type="customer", extra=""):
    parts = [
        f'<productidentifier type="{id_type}">{code}</productidentifier>',
        f"<productname>{name}</productname>",
        f'<productunitprice type="{price_type}">{price}</productunitprice>',
        f'<productvatpercentage vatcode="{vatcode}">{vat}</productvatpercentage>',
        f"<salesinvoiceproductlinequantity>{qty}</salesinvoiceproductlinequantity>",
    ]
    if discount is not None:
        parts.append(f"<salesinvoiceproductlinediscountpercentage>{discount}</salesinvoiceproductlinediscountpercentage>")
    if vat_sum is not None:
        parts.append(f"<salesinvoiceproductlinevatsum>{vat_sum}</salesinvoiceproductlinevatsum>")
    if line_sum is not None:
        parts.append(f"<salesinvoiceproductlinesum>{line_sum}</salesinvoiceproductlinesum>")
    parts.append(extra)
    return "<invoiceline><salesinvoiceproductline>" + "".join(parts) + "</salesinvoiceproductline></invoiceline>"


def comment_line(text):
    return f"<invoiceline><salesinvoicecommentline><comment>{text}</comment></salesinvoicecommentline></invoiceline>"


def invoice_xml(amount="12,40", lines=None, number="1001", customer="501", customer_type="netvisor",
                status="open", date="2026-05-04", due="2026-05-18", currency="EUR", reference=None,
                before_amount="", after_customer="", head=""):
    lines = lines if lines is not None else [product_line()]
    return (
        "<root><salesinvoice>"
        + head
        + (f"<salesinvoicenumber>{number}</salesinvoicenumber>" if number else "")
        + f'<salesinvoicedate format="ansi">{date}</salesinvoicedate>'
        + (f'<salesinvoiceduedate format="ansi">{due}</salesinvoiceduedate>' if due else "")
        + (f"<salesinvoicereferencenumber>{reference}</salesinvoicereferencenumber>" if reference else "")
        + before_amount
        + (f'<salesinvoiceamount iso4217currencycode="{currency}">{amount}</salesinvoiceamount>'
           if amount is not None else "")
        + f'<salesinvoicestatus type="netvisor">{status}</salesinvoicestatus>'
        + (f'<invoicingcustomeridentifier type="{customer_type}">{customer}</invoicingcustomeridentifier>'
           if customer is not None else "")
        + after_customer
        + ("<invoicelines>" + "".join(lines) + "</invoicelines>" if lines is not False else "")
        + "</salesinvoice></root>"
    ).encode("utf-8")


def add(client, body):
    return client.post("salesinvoice.nv", body, {"method": "add"}).inserted_identifier()


def invoices(sandbox):
    return sandbox.org(ORG).collections["sales_invoices"]


def test_add_stores_invoice_and_recomputes_lines(client, sandbox):
    body = invoice_xml(amount="31,24", lines=[
        product_line(qty="2", price="10", discount="10"),  # 18.00 + 4.32 = 22.32
        comment_line("Väliotsikko"),
        product_line(code="PALVELU", name="Palvelu", price="8,92", vat="0", vatcode="EUMY"),
    ], reference="1232")
    key = add(client, body)
    record = invoices(sandbox)[int(key)]
    assert record["number"] == "1001"
    assert record["amount"] == "31.24"
    assert record["customer_key"] == 501 and record["customer_name"] == "Asiakas Oy"
    assert record["customer_code"] == "ASIAKAS1"
    assert [line["type"] for line in record["lines"]] == ["product", "comment", "product"]
    assert record["lines"][0]["line_sum"] == "22.32" and record["lines"][0]["vat_sum"] == "4.32"
    assert record["lines"][1]["comment"] == "Väliotsikko"
    assert record["status"] == "open" and record["reference"] == "1232"


def test_rounding_mismatch_is_refused(client, sandbox):
    # 3 x 0.333 at 24 %: Netvisor's line sum is 1.24 (0.999 + 0.23976 rounded), not 1.23
    lines = [product_line(price="0,333", qty="3")]
    with pytest.raises(NetvisorInvalidDataError, match="does not match"):
        add(client, invoice_xml(amount="1,23", lines=lines))
    assert add(client, invoice_xml(amount="1,24", lines=lines))
    # per-line rounding: two lines of 0.125 VAT each round up separately
    lines = [product_line(price="0,5208", vat="24"), product_line(price="0,5208", vat="24")]
    with pytest.raises(NetvisorInvalidDataError, match="does not match"):
        add(client, invoice_xml(amount="1,29", lines=lines))
    assert add(client, invoice_xml(amount="1,30", lines=lines))


def test_given_line_sums_are_kept_and_checked(client, sandbox):
    key = add(client, invoice_xml(amount="12,41", lines=[product_line(vat_sum="2,41", line_sum="12,41")]))
    assert invoices(sandbox)[int(key)]["lines"][0]["vat_sum"] == "2.41"
    with pytest.raises(NetvisorInvalidDataError, match="both"):
        add(client, invoice_xml(amount="12,40", lines=[product_line(vat_sum="2,40")]))
    with pytest.raises(NetvisorInvalidDataError, match="line sums do not agree"):
        add(client, invoice_xml(amount="13,40", lines=[product_line(vat_sum="2,40", line_sum="13,40")]))
    with pytest.raises(NetvisorInvalidDataError, match="does not match"):
        add(client, invoice_xml(amount="12,40", lines=[product_line(vat_sum="2,41", line_sum="12,41")]))


def test_gross_prices_and_credit_note(client, sandbox):
    key = add(client, invoice_xml(amount="-24,80", lines=[product_line(price="12,40", price_type="gross", qty="-2")]))
    record = invoices(sandbox)[int(key)]
    assert record["amount"] == "-24.80"
    assert record["lines"][0]["vat_sum"] == "-4.80"


def test_element_order_and_required_elements(client):
    # due date before the invoice date element
    body = invoice_xml(head='<salesinvoiceduedate format="ansi">2026-05-18</salesinvoiceduedate>', due=None)
    with pytest.raises(NetvisorInvalidDataError, match="out of order"):
        add(client, body)
    with pytest.raises(NetvisorInvalidDataError, match="salesinvoiceamount puuttuu"):
        add(client, invoice_xml(amount=None))
    with pytest.raises(NetvisorInvalidDataError, match="invoicingcustomeridentifier puuttuu"):
        add(client, invoice_xml(customer=None))
    with pytest.raises(NetvisorInvalidDataError, match="invoicelines puuttuu"):
        add(client, invoice_xml(lines=False))
    with pytest.raises(NetvisorInvalidDataError, match="at least one invoiceline"):
        add(client, invoice_xml(lines=[]))
    with pytest.raises(NetvisorInvalidDataError, match="no product line"):
        add(client, invoice_xml(lines=[comment_line("x")]))
    with pytest.raises(NetvisorInvalidDataError, match="salesinvoiceduedate or paymenttermnetdays"):
        add(client, invoice_xml(due=None))
    with pytest.raises(NetvisorInvalidDataError, match="Unknown element"):
        add(client, invoice_xml(after_customer="<bogus>1</bogus>"))
    # a line with its elements out of order
    line = ("<invoiceline><salesinvoiceproductline><productname>Tuote</productname>"
            '<productidentifier type="customer">TUOTE1</productidentifier>'
            '<productunitprice type="net">10</productunitprice>'
            '<productvatpercentage vatcode="KOMY">24</productvatpercentage>'
            "<salesinvoiceproductlinequantity>1</salesinvoiceproductlinequantity>"
            "</salesinvoiceproductline></invoiceline>")
    with pytest.raises(NetvisorInvalidDataError, match="out of order"):
        add(client, invoice_xml(lines=[line]))
    with pytest.raises(NetvisorInvalidDataError, match="productname puuttuu"):
        add(client, invoice_xml(lines=[product_line().replace("<productname>Tuote</productname>", "")]))
    # element names are matched case-insensitively, as Netvisor does
    assert add(client, invoice_xml().replace(b"salesinvoicedate", b"SalesInvoiceDate"))


def test_payment_term_days_instead_of_due_date(client, sandbox):
    key = add(client, invoice_xml(due=None, after_customer="<paymenttermnetdays>14</paymenttermnetdays>"))
    assert invoices(sandbox)[int(key)]["due_date"] == "2026-05-18"


def test_customer_product_vat_and_currency_checks(client):
    with pytest.raises(NetvisorInvalidDataError, match="Customer not found"):
        add(client, invoice_xml(customer="999"))
    assert add(client, invoice_xml(customer="ASIAKAS2", customer_type="customer"))
    with pytest.raises(NetvisorInvalidDataError, match="product not found"):
        add(client, invoice_xml(lines=[product_line(code="EIOLE")]))
    with pytest.raises(NetvisorInvalidDataError, match="VAT percent not allowed"):
        add(client, invoice_xml(amount="12,40", lines=[product_line(vatcode="EUMY")]))
    with pytest.raises(NetvisorInvalidDataError, match="unknown VAT code"):
        add(client, invoice_xml(lines=[product_line(vatcode="XXXX")]))
    # KOMY0, MAAL and EVMA are valid even though old DTDs lack them (API.md 5.8)
    assert add(client, invoice_xml(amount="10,00", lines=[product_line(vat="0", vatcode="KOMY0")]))
    assert add(client, invoice_xml(amount="11,35", lines=[product_line(vat="13,5")]))
    with pytest.raises(NetvisorInvalidDataError, match="unknown currency"):
        add(client, invoice_xml(currency="XYZ"))
    assert add(client, invoice_xml(currency="SEK"))


def test_reference_number_is_validated(client):
    assert sandbox_sales.valid_reference("1232")
    assert sandbox_sales.valid_reference("RF18 5390 0754 7034")
    assert not sandbox_sales.valid_reference("1233")
    assert not sandbox_sales.valid_reference("INV/2026/00001")
    with pytest.raises(NetvisorInvalidDataError, match="reference number"):
        add(client, invoice_xml(reference="1233"))


def test_lengths_and_special_characters(client, sandbox):
    name = "Ääkköset & <merkit> \"lainaus\" 'heittomerkki' å €"
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    key = add(client, invoice_xml(lines=[product_line(name=escaped)],
                                  after_customer=f"<invoicingcustomername>{escaped}</invoicingcustomername>"))
    record = invoices(sandbox)[int(key)]
    assert record["lines"][0]["name"] == name
    assert record["customer_name"] == name
    detail = client.get("getsalesinvoice.nv", {"netvisorkey": key}).root
    assert detail.findtext("SalesInvoice/InvoicingCustomerName") == name
    with pytest.raises(NetvisorError, match="at most 200") as info:
        add(client, invoice_xml(lines=[product_line(name="x" * 201)]))
    assert info.value.category == "INVALID_DATA_SIZE"
    with pytest.raises(NetvisorError, match="at most 250"):
        add(client, invoice_xml(after_customer=f"<invoicingcustomername>{'y' * 251}</invoicingcustomername>"))


def test_number_assigned_when_missing(client, sandbox):
    first = add(client, invoice_xml(number=None))
    second = add(client, invoice_xml(number=None))
    numbers = [invoices(sandbox)[int(k)]["number"] for k in (first, second)]
    assert numbers[0].isdigit() and int(numbers[1]) == int(numbers[0]) + 1
    assert sandbox_sales.valid_reference(invoices(sandbox)[int(first)]["reference"])


def test_edit(client, sandbox):
    key = add(client, invoice_xml())
    envelope = client.post("salesinvoice.nv", invoice_xml(amount="24,80", number=None, lines=[product_line(qty="2")]),
                           {"method": "edit", "id": key})
    assert envelope.inserted_identifier() == ""
    record = invoices(sandbox)[int(key)]
    assert record["amount"] == "24.80" and record["number"] == "1001" and record["edit_count"] == 1
    assert len(invoices(sandbox)) == 1
    with pytest.raises(NetvisorInvalidDataError, match="not found"):
        client.post("salesinvoice.nv", invoice_xml(), {"method": "edit", "id": "424242"})
    with pytest.raises(NetvisorInvalidDataError, match="id is required"):
        client.post("salesinvoice.nv", invoice_xml(), {"method": "edit"})
    with pytest.raises(NetvisorInvalidDataError, match="method"):
        client.post("salesinvoice.nv", invoice_xml(), {})


def _list(client, **params):
    root = client.get("salesinvoicelist.nv", params).root
    return root.findall("SalesInvoiceList/SalesInvoice")


def test_list_filters(client, sandbox):
    org = sandbox.org(ORG)
    a = add(client, invoice_xml(number="A1", date="2026-05-01", due="2026-05-10"))
    b = add(client, invoice_xml(number="B1", date="2026-05-20", due="2026-05-30", customer="502"))
    c = add(client, invoice_xml(number="C1", date="2026-06-01", due="2099-06-30", status="unsent"))
    assert [n.findtext("NetvisorKey") for n in _list(client)] == [a, b, c]
    assert [n.findtext("InvoiceNumber") for n in _list(client, invoicenumber="B1")] == ["B1"]
    dated = _list(client, begininvoicedate="2026-05-02", endinvoicedate="2026-05-31")
    assert [n.findtext("InvoiceNumber") for n in dated] == ["B1"]
    assert [n.findtext("NetvisorKey") for n in _list(client, invoicesabovenetvisorkey=a)] == [b, c]
    assert [n.findtext("InvoiceNumber") for n in _list(client, customercode="ASIAKAS2")] == ["B1"]
    assert [n.findtext("InvoiceNumber") for n in _list(client, invoicestatus="unsent")] == ["C1"]
    assert [n.findtext("InvoiceNumber") for n in _list(client, invoicestatus="open")] == ["A1", "B1"]
    assert [n.findtext("InvoiceNumber") for n in _list(client, invoicestatus="overdue")] == ["A1", "B1"]
    first = _list(client)[0]
    assert first.find("InvoiceStatus").get("substatus") == "overdue"
    assert first.findtext("InvoiceSum") == "12,40" and first.findtext("OpenSum") == "12,40"
    assert first.find("Invoicedate").get("format") == "ansi"
    assert first.findtext("Uri").endswith(f"getsalesinvoice.nv?netvisorkey={a}")
    # modification window
    org.collections["sales_invoices"][int(a)]["modified"] = "2026-01-01T08:00:00"
    recent = _list(client, lastmodifiedstart="2026-01-01T07:00:00", lastmodifiedend="2026-01-01T09:00:00")
    assert [n.findtext("NetvisorKey") for n in recent] == [a]
    with pytest.raises(NetvisorInvalidDataError, match="invoicestatus"):
        _list(client, invoicestatus="bogus")
    with pytest.raises(NetvisorInvalidDataError, match="lastmodifiedstart"):
        _list(client, lastmodifiedstart="1.1.2026 10:00")
    # Netvisor's own examples use plain dates too
    assert [n.findtext("NetvisorKey") for n in _list(client, lastmodifiedstart="2026-01-01",
                                                     lastmodifiedend="2026-01-02")] == [a]
    with pytest.raises(NetvisorInvalidDataError, match="includemodifiedpayments"):
        _list(client, includemodifiedpayments="1", lastmodifiedstart="2026-01-01T00:00:00")


def test_status_and_open_sum_from_payments(client, sandbox):
    org = sandbox.org(ORG)
    key = int(add(client, invoice_xml(number="P1", due="2099-01-01")))
    org.collections["sales_invoices"][key]["modified"] = "2026-01-01T00:00:00"
    org.add("sales_payments", {"invoice_key": key, "invoice_number": "P1", "date": "2026-05-05", "sum": "5.00",
                               "reference": "", "name": "Asiakas Oy", "modified": "2026-03-03T10:00:00"})
    item = _list(client, invoicenumber="P1")[0]
    assert item.findtext("InvoiceStatus") == "open" and item.findtext("OpenSum") == "7,40"
    window = dict(lastmodifiedstart="2026-03-03T09:00:00", lastmodifiedend="2026-03-03T11:00:00")
    assert _list(client, **window) == []
    assert [n.findtext("InvoiceNumber") for n in _list(client, includemodifiedpayments="1", **window)] == ["P1"]
    # the rest paid, linked by invoice number only
    org.add("sales_payments", {"invoice_number": "P1", "date": "2026-05-06", "sum": "7.40",
                               "modified": "2026-03-04T10:00:00"})
    item = _list(client, invoicenumber="P1")[0]
    assert item.findtext("InvoiceStatus") == "paid" and item.findtext("OpenSum") == "0,00"
    assert [n.findtext("InvoiceNumber") for n in _list(client, invoicestatus="paid")] == ["P1"]
    detail = client.get("getsalesinvoice.nv", {"netvisorkey": key}).root.find("SalesInvoice")
    assert detail.find("InvoiceStatus").get("status") == "paid"
    assert detail.findtext("OpenSum") == "0,00"
    # a credit note refunded: negative on both sides
    credit = int(add(client, invoice_xml(number="P2", amount="-12,40", lines=[product_line(qty="-1")])))
    assert _list(client, invoicenumber="P2")[0].findtext("InvoiceStatus") == "open"
    org.add("sales_payments", {"invoice_key": credit, "date": "2026-05-06", "sum": "-12.40",
                               "modified": "2026-03-04T10:00:00"})
    assert _list(client, invoicenumber="P2")[0].findtext("InvoiceStatus") == "paid"


def test_get_sales_invoice(client, sandbox):
    key = add(client, invoice_xml(lines=[comment_line("Huom"), product_line()], reference="1232"))
    root = client.get("getsalesinvoice.nv", {"netvisorkey": key}).root
    invoice = root.find("SalesInvoice")
    assert invoice.findtext("SalesInvoiceNetvisorKey") == key
    assert invoice.findtext("SalesInvoiceNumber") == "1001"
    assert invoice.find("SalesInvoiceAmount").get("iso4217currencycode") == "EUR"
    assert invoice.findtext("SalesInvoiceAmount") == "12.40"
    assert invoice.find("InvoiceStatus").get("status") == "open"
    assert invoice.findtext("InvoicingCustomerNetvisorKey") == "501"
    lines = invoice.findall("InvoiceLines/InvoiceLine/SalesInvoiceProductLine")
    assert len(lines) == 1 and lines[0].findtext("SalesInvoiceProductLineSum") == "12,40"
    assert lines[0].find("ProductVatPercentage").get("vatcode") == "KOMY"
    assert not invoice.findall("InvoiceLines/InvoiceLine/SalesInvoiceCommentLine")
    with_comments = client.get("getsalesinvoice.nv", {"netvisorkey": key, "showcommentlines": "1"}).root
    assert with_comments.findtext("SalesInvoice/InvoiceLines/InvoiceLine/SalesInvoiceCommentLine/Comment") == "Huom"
    # unknown key: OK with an empty element
    empty = client.get("getsalesinvoice.nv", {"netvisorkey": "999999"}).root.find("SalesInvoice")
    assert empty is not None and len(empty) == 0
    other = add(client, invoice_xml(number="1002"))
    many = client.get("getsalesinvoice.nv", {"netvisorkeylist": f"{key},{other},999999"}).root
    assert [n.findtext("SalesInvoiceNumber") for n in many.findall("SalesInvoices/SalesInvoice")] == ["1001", "1002"]
    with pytest.raises(NetvisorError, match="at most 500") as info:
        client.get("getsalesinvoice.nv", {"netvisorkeylist": ",".join(str(i) for i in range(1, 502))})
    assert info.value.category == "INVALID_DATA_SIZE"
    with pytest.raises(NetvisorInvalidDataError, match="required"):
        client.get("getsalesinvoice.nv", {})


def _match(client, credit, invoice, order=("creditnotenetvisorkey", "invoicenetvisorkey")):
    values = {"creditnotenetvisorkey": credit, "invoicenetvisorkey": invoice}
    inner = "".join(f"<{tag}>{values[tag]}</{tag}>" for tag in order)
    return client.post("matchcreditnote.nv", f"<root><matchcreditnote>{inner}</matchcreditnote></root>".encode())


def test_match_credit_note(client, sandbox):
    invoice = add(client, invoice_xml(number="M1"))
    credit = add(client, invoice_xml(number="M2", amount="-12,40", lines=[product_line(qty="-1")]))
    other_customer = add(client, invoice_xml(number="M3", customer="502"))
    with pytest.raises(NetvisorInvalidDataError, match="out of order"):
        _match(client, credit, invoice, order=("invoicenetvisorkey", "creditnotenetvisorkey"))
    with pytest.raises(NetvisorInvalidDataError, match="not a credit note"):
        _match(client, invoice, credit)
    with pytest.raises(NetvisorInvalidDataError, match="different customers"):
        _match(client, credit, other_customer)
    with pytest.raises(NetvisorInvalidDataError, match="not found"):
        _match(client, credit, "999999")
    _match(client, credit, invoice)
    assert invoices(sandbox)[int(credit)]["credited_invoice_key"] == int(invoice)
    _match(client, credit, invoice)  # the same match again is harmless
    second = add(client, invoice_xml(number="M4"))
    with pytest.raises(NetvisorInvalidDataError, match="already matched"):
        _match(client, credit, second)
    detail = client.get("getsalesinvoice.nv", {"netvisorkey": credit, "replyoption": "16"}).root
    assert detail.findtext("SalesInvoice/CreditedInvoiceNetvisorKey") == invoice


def test_seeded_records_are_normalised():
    server = start_sandbox({**SEED, "organisations": [{
        **SEED["organisations"][0],
        "data": {"sales_invoices": [{"netvisor_key": 77, "number": "5", "date": "2026-01-02", "amount": "10",
                                     "lines": [{"name": "x"}]}]},
    }]})
    try:
        record = server.org(ORG).collections["sales_invoices"][77]
        assert record["status"] == "open" and record["currency"] == "EUR" and record["due_date"] == "2026-01-02"
        assert record["lines"][0]["type"] == "product" and record["lines"][0]["netvisor_key"]
        assert datetime.datetime.fromisoformat(record["modified"])
    finally:
        server.stop()


def test_dtd_order_matches_shared_dtd():
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "netvisor", "xsd", "dtd",
                        "salesinvoice.dtd")
    if not os.path.exists(path):
        pytest.skip("shared DTD not available")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    import re

    def content(name):
        model = re.search(r"<!ELEMENT %s \(([^)]*)\)>" % name, text).group(1)
        return tuple(part.strip().rstrip("?*+") for part in model.split(","))

    assert content("salesinvoice") == sandbox_sales.SALESINVOICE_ORDER
    assert content("salesinvoiceproductline") == sandbox_sales.PRODUCTLINE_ORDER
