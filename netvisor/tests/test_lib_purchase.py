"""Purchase invoice parsers and batched detail requests of the netvisor library (no Odoo)."""

import base64
import datetime
import os
from decimal import Decimal

import pytest

from netvisor import Client, Credentials, errors
from netvisor.envelope import parse_envelope
from netvisor.resources import purchase_invoices as pi
from netvisor_sandbox import start_sandbox

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "netvisor")

PDF = b"%PDF-1.4\n% test\n"

DETAIL_V2 = f"""<?xml version="1.0" encoding="utf-8"?>
<Root>
  <ResponseStatus><Status>OK</Status><TimeStamp>23.5.2026 6:00:01</TimeStamp></ResponseStatus>
  <PurchaseInvoices>
    <PurchaseInvoice>
      <PurchaseInvoiceNetvisorKey>501</PurchaseInvoiceNetvisorKey>
      <PurchaseInvoiceNumber>INV-77</PurchaseInvoiceNumber>
      <PurchaseInvoiceDate format="ansi">2026-05-20</PurchaseInvoiceDate>
      <PurchaseInvoiceDueDate format="ansi">2026-06-19</PurchaseInvoiceDueDate>
      <PurchaseInvoiceValueDate format="ansi">2026-06-19</PurchaseInvoiceValueDate>
      <PurchaseInvoiceReferencenumber>1232</PurchaseInvoiceReferencenumber>
      <PurchaseInvoiceAmount>1 255,50</PurchaseInvoiceAmount>
      <PurchaseInvoicePaidAmount>0,00</PurchaseInvoicePaidAmount>
      <ForeignCurrencyAmount>1 400,25</ForeignCurrencyAmount>
      <ForeignCurrencyNameID>usd</ForeignCurrencyNameID>
      <InvoiceStatus>Avoin</InvoiceStatus>
      <ApprovalStatus>open</ApprovalStatus>
      <PurchaseInvoiceDescription>Toimitus</PurchaseInvoiceDescription>
      <VendorNetvisorKey>12</VendorNetvisorKey>
      <VendorOrganizationIdentifier>1572860-0</VendorOrganizationIdentifier>
      <VendorCode>V-1</VendorCode>
      <VendorName>Toimittaja Oy</VendorName>
      <VendorAddressline>Katu 1</VendorAddressline>
      <VendorPostnumber>00100</VendorPostnumber>
      <VendorTown>Helsinki</VendorTown>
      <VendorCountry>fi</VendorCountry>
      <VendorBankAccountNumber>FI2112345600000785</VendorBankAccountNumber>
      <IsAccounted>False</IsAccounted>
      <PreviewImage attachmentnetvisorkey="88">scan.pdf</PreviewImage>
      <InvoiceLines>
        <PurchaseInvoiceLine>
          <NetvisorKey>9001</NetvisorKey>
          <LineSum>1 004,00</LineSum>
          <LineNetSum>800,0000</LineNetSum>
          <UnitPrice>400,000000000000</UnitPrice>
          <VatPercent>25,5</VatPercent>
          <VatCode>koos</VatCode>
          <Description>Paperi</Description>
          <Unit>kpl</Unit>
          <OrderedAmount>3</OrderedAmount>
          <DeliveredAmount>2</DeliveredAmount>
          <ProductCode>P-1</ProductCode>
          <DiscountPercentage>0</DiscountPercentage>
          <ProductName>Paperi A4</ProductName>
          <AccountingSuggestionBookkeepingAccountNetvisorKey>643</AccountingSuggestionBookkeepingAccountNetvisorKey>
          <AccountingSuggestionBookkeepingAccount>4000 Ostot</AccountingSuggestionBookkeepingAccount>
          <PurchaseInvoiceLineDimensions>
            <Dimension>
              <DimensionName>Projektit</DimensionName>
              <DimensionNameNetvisorKey>3</DimensionNameNetvisorKey>
              <DimensionDetailName>Projekti 1</DimensionDetailName>
              <DimensionDetailNetvisorKey>31</DimensionDetailNetvisorKey>
            </Dimension>
          </PurchaseInvoiceLineDimensions>
        </PurchaseInvoiceLine>
        <PurchaseInvoiceLine>
          <NetvisorKey>9002</NetvisorKey>
          <LineSum>251,50</LineSum>
          <LineNetSum>220,6140</LineNetSum>
          <UnitPrice>220,614</UnitPrice>
          <VatPercent>14</VatPercent>
          <VatCode>KOOS</VatCode>
          <Description>Ruoka</Description>
          <OrderedAmount>1</OrderedAmount>
          <AccountingSuggestionBookkeepingAccount>Ostot ilman numeroa</AccountingSuggestionBookkeepingAccount>
          <PurchaseInvoiceLineDimensions>
            <Dimension>
              <DimensionName>Kustannuspaikka</DimensionName>
              <DimensionDetailName>Myynti</DimensionDetailName>
              <DimensionDetailNameNetvisorKey>44</DimensionDetailNameNetvisorKey>
            </Dimension>
          </PurchaseInvoiceLineDimensions>
        </PurchaseInvoiceLine>
      </InvoiceLines>
      <Attachments>
        <Attachment>
          <AttachmentBase64Data>{base64.b64encode(PDF).decode()[:8]}
            {base64.b64encode(PDF).decode()[8:]}</AttachmentBase64Data>
          <FileName>scan.pdf</FileName>
          <ContentType>application/pdf</ContentType>
          <Comment>Invoice image</Comment>
        </Attachment>
        <Attachment><AttachmentBase64Data></AttachmentBase64Data><FileName>empty.pdf</FileName></Attachment>
      </Attachments>
    </PurchaseInvoice>
    <PurchaseInvoice>
      <PurchaseInvoiceNetvisorKey>502</PurchaseInvoiceNetvisorKey>
      <PurchaseInvoiceNumber>CN-1</PurchaseInvoiceNumber>
      <PurchaseInvoiceDate format="ansi">2026-05-21</PurchaseInvoiceDate>
      <PurchaseInvoiceAmount>-124,00</PurchaseInvoiceAmount>
      <VendorName>Toimittaja Oy</VendorName>
      <InvoiceLines/>
    </PurchaseInvoice>
  </PurchaseInvoices>
</Root>""".encode()


def test_parse_detail_version2():
    invoices = pi.parse_purchase_invoices(parse_envelope(DETAIL_V2).root)
    assert [i.netvisor_key for i in invoices] == ["501", "502"]
    inv = invoices[0]
    assert inv.number == "INV-77"
    assert inv.date == datetime.date(2026, 5, 20)
    assert inv.due_date == datetime.date(2026, 6, 19)
    assert inv.reference == "1232"
    assert inv.amount == Decimal("1255.50") and isinstance(inv.amount, Decimal)
    assert inv.foreign_amount == Decimal("1400.25")
    assert inv.currency == "USD"
    assert inv.approval_status == "open"
    assert inv.description == "Toimitus"
    assert not inv.is_credit_note
    assert inv.vendor == pi.PurchaseInvoiceVendor(
        netvisor_key="12", business_id="1572860-0", code="V-1", name="Toimittaja Oy", address="Katu 1",
        postcode="00100", town="Helsinki", country="FI", bank_account="FI2112345600000785")
    assert inv.preview_image_key == "88"
    first, second = inv.lines
    assert first.quantity == Decimal(2), "delivered amount wins over ordered"
    assert first.line_sum == Decimal("1004.00") and first.line_net_sum == Decimal("800.0000")
    assert first.vat_percent == Decimal("25.5") and first.vat_code == "KOOS"
    assert first.product_code == "P-1" and first.product_name == "Paperi A4"
    assert (first.account_number, first.account_name, first.account_key) == ("4000", "Ostot", "643")
    assert first.dimensions == [pi.PurchaseInvoiceDimension("Projektit", "Projekti 1", "3", "31")]
    assert second.quantity == Decimal(1), "ordered amount when nothing delivered"
    assert second.account_number == "" and second.account_name == "Ostot ilman numeroa"
    assert second.dimensions[0].item_key == "44", "R2's DimensionDetailNameNetvisorKey spelling"
    assert inv.unassigned_dimensions == []
    assert len(inv.attachments) == 1, "empty attachments are dropped"
    attachment = inv.attachments[0]
    assert (attachment.filename, attachment.content_type, attachment.comment) == (
        "scan.pdf", "application/pdf", "Invoice image")
    assert attachment.content == PDF, "whitespace inside the Base64 data is ignored"
    credit = invoices[1]
    assert credit.is_credit_note and credit.amount == Decimal("-124.00")
    assert credit.lines == [] and credit.foreign_amount is None and credit.currency == ""


def test_corrupt_attachment_data():
    attachment = pi.PurchaseInvoiceAttachment("a.pdf", "application/pdf", "@@not-base64@@")
    with pytest.raises(ValueError, match="a.pdf"):
        attachment.content  # noqa: B018


def test_parse_version1_dimensions_beside_lines():
    xml = b"""<Root><ResponseStatus><Status>OK</Status></ResponseStatus><PurchaseInvoice>
      <PurchaseInvoiceNetvisorKey>1</PurchaseInvoiceNetvisorKey><PurchaseInvoiceAmount>10</PurchaseInvoiceAmount>
      <InvoiceLines><PurchaseInvoiceLine><NetvisorKey>2</NetvisorKey><LineSum>10</LineSum></PurchaseInvoiceLine>
      <PurchaseInvoiceLineDimensions><Dimension><DimensionName>P</DimensionName>
      <DimensionDetailName>X</DimensionDetailName></Dimension></PurchaseInvoiceLineDimensions>
      </InvoiceLines></PurchaseInvoice></Root>"""
    (inv,) = pi.parse_purchase_invoices(parse_envelope(xml).root)
    assert inv.lines[0].dimensions == []
    assert inv.unassigned_dimensions == [pi.PurchaseInvoiceDimension("P", "X")]
    assert inv.lines[0].line_net_sum == Decimal(10), "net defaults to the gross sum"


def test_not_found_is_empty():
    xml = b"<Root><ResponseStatus><Status>OK</Status></ResponseStatus><PurchaseInvoice/></Root>"
    assert pi.parse_purchase_invoices(parse_envelope(xml).root) == []
    xml = b"<Root><ResponseStatus><Status>OK</Status></ResponseStatus><PurchaseInvoices/></Root>"
    assert pi.parse_purchase_invoices(parse_envelope(xml).root) == []


def test_shared_examples_parse():
    path = os.path.join(SHARED, "examples", "response_getpurchaseinvoice.xml")
    if not os.path.exists(path):
        pytest.skip("../shared examples not present")
    with open(path, "rb") as handle:
        (inv,) = pi.parse_purchase_invoices(parse_envelope(handle.read()).root)
    assert inv.netvisor_key == "1025"
    assert inv.amount == Decimal("100.00")
    assert len(inv.lines) == 2 and inv.lines[0].account_number == "4000"
    assert inv.lines[0].account_key == "643", "key text with a line break is stripped"
    assert len(inv.unassigned_dimensions) == 2, "version=1 answer"
    with open(os.path.join(SHARED, "examples", "response_getpurchaseinvoice_notfound.xml"), "rb") as handle:
        assert pi.parse_purchase_invoices(parse_envelope(handle.read()).root) == []
    with open(os.path.join(SHARED, "examples", "response_purchaseinvoicelist.xml"), "rb") as handle:
        items = pi.parse_purchase_invoice_list(parse_envelope(handle.read()).root)
    assert [i.netvisor_key for i in items] == ["1", "2", "3"]
    assert items[0].open_amount == Decimal(0)


@pytest.mark.parametrize("raw,expected", [
    ("4000 Ostot", ("4000", "Ostot")), ("  4010   Ostot EU ", ("4010", "Ostot EU")), ("4000", ("4000", "")),
    ("Ostot", ("", "Ostot")), ("", ("", "")), (None, ("", "")),
])
def test_split_account(raw, expected):
    assert pi.split_account(raw) == expected


class FakeClient:
    def __init__(self):
        self.calls = []

    def get(self, resource, params):
        self.calls.append((resource, dict(params)))
        keys = params["netvisorkeylist"].split(",")
        body = "".join(f"<PurchaseInvoice><PurchaseInvoiceNetvisorKey>{k}</PurchaseInvoiceNetvisorKey>"
                       f"<PurchaseInvoiceAmount>1</PurchaseInvoiceAmount></PurchaseInvoice>" for k in keys)
        return parse_envelope(f"<Root><ResponseStatus><Status>OK</Status></ResponseStatus>"
                              f"<PurchaseInvoices>{body}</PurchaseInvoices></Root>".encode())


def test_batches_of_at_most_500_keys():
    client = FakeClient()
    keys = list(range(1, 1202))
    seen = []
    for chunk, invoices in pi.iter_purchase_invoice_batches(client, keys):
        assert len(chunk) <= 500
        seen.extend(i.netvisor_key for i in invoices)
    assert seen == [str(k) for k in keys]
    assert [len(c[1]["netvisorkeylist"].split(",")) for c in client.calls] == [500, 500, 201]
    assert all(c[0] == "getpurchaseinvoice.nv" and c[1]["version"] == 2 for c in client.calls)
    assert pi.get_purchase_invoices(client, []) == []
    with pytest.raises(ValueError):
        pi.get_purchase_invoices(client, range(501))
    list(pi.iter_purchase_invoice_batches(client, range(10), batch_size=4000))
    assert len(client.calls[-1][1]["netvisorkeylist"].split(",")) == 10


# ------------------------------------------------------------------ against the sandbox

ORG = "1572860-0"


def _seed(count):
    invoices = []
    for n in range(1, count + 1):
        invoices.append({
            "netvisor_key": n, "number": f"N-{n}", "date": "2026-05-20", "amount": "12.55",
            "modified": f"2026-05-{20 + n % 3}T10:00:00",
            "vendor": {"name": "Toimittaja Oy", "business_id": ORG},
            "lines": [{"description": "x", "quantity": "1", "unit_price": "10", "vat_percent": "25.5",
                       "vat_code": "KOOS", "line_sum": "12.55", "line_net_sum": "10.00", "account": "4000 Ostot",
                       "dimensions": [{"name": "Projektit", "item": "P1"}]}],
            "attachments": [{"filename": "f.pdf", "base64": base64.b64encode(PDF).decode()}] if n == 1 else [],
        })
    return {
        "partners": [{"partner_id": "P", "partner_key": "pk-123"}],
        "organisations": [{"organisation_id": ORG, "customers": [{"customer_id": "C", "customer_key": "ck-123"}],
                           "data": {"purchase_invoices": invoices}}],
    }


@pytest.fixture(scope="module")
def sandbox():
    server = start_sandbox(_seed(1100))
    yield server
    server.stop()


def _client(sandbox):
    credentials = Credentials(sender="t", customer_id="C", partner_id="P", organisation_id=ORG,
                              customer_key="ck-123", partner_key="pk-123")
    return Client(credentials, base_url=sandbox.base_url, backoff=0)


def test_sandbox_round_trip(sandbox):
    client = _client(sandbox)
    items = pi.list_purchase_invoices(client, modified_start=datetime.datetime(2026, 5, 21),
                                      modified_end=datetime.datetime(2026, 5, 21, 23, 59))
    assert {i.netvisor_key for i in items} == {str(n) for n in range(1, 1101) if n % 3 == 1}
    before = client.request_count
    invoices = [inv for _chunk, batch in pi.iter_purchase_invoice_batches(client, range(1, 1101)) for inv in batch]
    assert client.request_count - before == 3
    assert len(invoices) == 1100
    first = invoices[0]
    assert first.lines[0].dimensions[0].item == "P1"
    assert first.lines[0].vat_percent == Decimal("25.5")
    assert first.attachments[0].content == PDF
    assert pi.get_purchase_invoice(client, 99999) is None
    assert pi.get_purchase_invoice(client, 2).number == "N-2"


def test_sandbox_refuses_more_than_500(sandbox):
    client = _client(sandbox)
    with pytest.raises(errors.NetvisorInvalidDataError):
        client.get("getpurchaseinvoice.nv", {"netvisorkeylist": ",".join(map(str, range(1, 502))), "version": 2})
