"""netvisor.resources.payments: parsers, request parameters, linking; and a round trip
against the sandbox."""

import datetime
from decimal import Decimal

import pytest

from netvisor import Client, Credentials
from netvisor.envelope import parse_envelope
from netvisor.resources import payments as nv_payments

OK = "<ResponseStatus><Status>OK</Status><TimeStamp>1.6.2026 7:00:00</TimeStamp></ResponseStatus>"


def envelope(payload):
    return parse_envelope(f"<Root>{OK}{payload}</Root>".encode())


class FakeClient:
    """Records the requests and answers with a fixed payload per resource."""

    def __init__(self, payloads):
        self.payloads = payloads
        self.calls = []

    def get(self, resource, params=None):
        self.calls.append((resource, {k: v for k, v in (params or {}).items() if v is not None}))
        return envelope(self.payloads.get(resource, ""))


SALES_LIST = """
<SalesInvoiceList>
  <SalesInvoice>
    <NetvisorKey>1001</NetvisorKey><InvoiceNumber>101</InvoiceNumber>
    <Invoicedate format="ansi">2026-05-02</Invoicedate>
    <InvoiceStatus substatus="overdue">open</InvoiceStatus>
    <CustomerCode>C1</CustomerCode><CustomerName>Asiakas Oy</CustomerName>
    <ReferenceNumber>1016</ReferenceNumber>
    <InvoiceSum>124,00</InvoiceSum><OpenSum>24,00</OpenSum><Uri>x</Uri>
  </SalesInvoice>
  <SalesInvoice>
    <NetvisorKey>1002</NetvisorKey><InvoiceNumber>102</InvoiceNumber>
    <Invoicedate format="ansi">2026-05-03</Invoicedate>
    <InvoiceStatus>paid</InvoiceStatus>
    <InvoiceSum>1 050.50</InvoiceSum>
  </SalesInvoice>
</SalesInvoiceList>"""

SALES_PAYMENTS = """
<SalesPaymentList>
  <SalesPayment>
    <NetvisorKey>7002</NetvisorKey><Name>Asiakas Oy</Name><Date>7.2.2026</Date><Sum>100,00</Sum>
    <ReferenceNumber>1016</ReferenceNumber><ForeignCurrencyAmount>100,00</ForeignCurrencyAmount>
    <InvoiceNumber>101</InvoiceNumber><VoucherID>55</VoucherID>
    <LastModifiedTimestamp>2026-02-07T10:11:12</LastModifiedTimestamp>
    <PaymentAccountNumber>FI21</PaymentAccountNumber><BankStatus>OK</BankStatus>
  </SalesPayment>
  <SalesPayment>
    <NetvisorKey>7001</NetvisorKey><Date>2026-02-01</Date><Sum>-5.5</Sum><InvoiceNumber>101</InvoiceNumber>
  </SalesPayment>
  <SalesPayment>
    <NetvisorKey>7003</NetvisorKey><Date>2026-02-03</Date><Sum>10</Sum><InvoiceNumber>999</InvoiceNumber>
  </SalesPayment>
  <SalesPayment>
    <NetvisorKey>7004</NetvisorKey><Date>2026-02-03</Date><Sum>10</Sum>
  </SalesPayment>
</SalesPaymentList>"""

PURCHASE_LIST = """
<PurchaseInvoiceList>
  <PurchaseInvoice>
    <NetvisorKey>2001</NetvisorKey><InvoiceNumber>A-1</InvoiceNumber>
    <InvoiceDate format="ansi">2026-04-30</InvoiceDate><Vendor>Toimittaja Oy</Vendor>
    <Sum>200,00</Sum><Payments>50,00</Payments><OpenSum>150,00</OpenSum>
  </PurchaseInvoice>
  <PurchaseInvoice>
    <NetvisorKey>2002</NetvisorKey><InvoiceDate format="ansi">2026-05-01</InvoiceDate>
    <Sum>80,00</Sum><Payments>80,00</Payments>
  </PurchaseInvoice>
</PurchaseInvoiceList>"""

PURCHASE_PAYMENTS = """
<PaymentList>
  <Payment>
    <NetvisorKey>8001</NetvisorKey><PayerName>Toimittaja Oy</PayerName><Date format="ansi">2026-05-10</Date>
    <HomeCurrencySum>50,00</HomeCurrencySum><ForeignCurrencySum>50,00</ForeignCurrencySum>
    <Reference>2012</Reference><InvoiceKey>2001</InvoiceKey><InvoiceNumber>A-1</InvoiceNumber>
    <InvoiceURI>x</InvoiceURI><VoucherKey>9</VoucherKey><VoucherNumber>12</VoucherNumber>
  </Payment>
</PaymentList>"""


# ------------------------------------------------------------------ parsers


def test_parse_sales_invoice_status_list():
    items = nv_payments.parse_sales_invoice_status_list(envelope(SALES_LIST).root)
    first, second = items
    assert first.netvisor_key == "1001" and first.number == "101"
    assert first.date == datetime.date(2026, 5, 2)
    assert (first.status, first.substatus) == ("open", "overdue")
    assert first.amount == Decimal("124.00") and first.open_amount == Decimal("24.00")
    assert first.paid_amount == Decimal("100.00")
    assert not first.is_paid
    assert first.reference == "1016" and first.customer_code == "C1" and first.customer_name == "Asiakas Oy"
    # dot decimal with a thousands space; no OpenSum on a paid invoice means nothing open
    assert second.amount == Decimal("1050.50")
    assert second.open_amount == Decimal(0)
    assert second.is_paid


def test_parse_sales_payment_list():
    items = nv_payments.parse_sales_payment_list(envelope(SALES_PAYMENTS).root)
    assert [p.netvisor_key for p in items] == ["7002", "7001", "7003", "7004"]
    payment = items[0]
    assert payment.kind == "sales"
    assert payment.date == datetime.date(2026, 2, 7)  # Finnish d.m.yyyy
    assert payment.amount == Decimal("100.00")
    assert payment.foreign_amount == Decimal("100.00")
    assert payment.invoice_number == "101" and payment.invoice_key == ""
    assert payment.reference == "1016" and payment.name == "Asiakas Oy"
    assert payment.voucher == "55"
    assert payment.modified == datetime.datetime(2026, 2, 7, 10, 11, 12)
    assert items[1].date == datetime.date(2026, 2, 1)  # ansi
    assert items[1].amount == Decimal("-5.5")
    assert items[1].foreign_amount is None


def test_parse_purchase_lists():
    invoices = nv_payments.parse_purchase_invoice_status_list(envelope(PURCHASE_LIST).root)
    assert [(i.netvisor_key, i.amount, i.paid_amount, i.open_amount, i.is_paid) for i in invoices] == [
        ("2001", Decimal("200.00"), Decimal("50.00"), Decimal("150.00"), False),
        ("2002", Decimal("80.00"), Decimal("80.00"), Decimal("0.00"), True),  # OpenSum missing: Sum - Payments
    ]
    assert invoices[0].vendor_name == "Toimittaja Oy" and invoices[0].date == datetime.date(2026, 4, 30)
    (payment,) = nv_payments.parse_purchase_payment_list(envelope(PURCHASE_PAYMENTS).root)
    assert payment.kind == "purchase"
    assert payment.netvisor_key == "8001" and payment.invoice_key == "2001" and payment.invoice_number == "A-1"
    assert payment.date == datetime.date(2026, 5, 10) and payment.amount == Decimal("50.00")
    assert payment.name == "Toimittaja Oy" and payment.reference == "2012" and payment.voucher == "12"


def test_empty_lists():
    assert nv_payments.parse_sales_invoice_status_list(envelope("<SalesInvoiceList />").root) == []
    assert nv_payments.parse_sales_payment_list(envelope("<SalesPaymentList />").root) == []
    assert nv_payments.parse_purchase_invoice_status_list(envelope("<PurchaseInvoiceList />").root) == []
    assert nv_payments.parse_purchase_payment_list(envelope("").root) == []


# ------------------------------------------------------------------ request parameters


def test_request_parameters():
    client = FakeClient({"salesinvoicelist.nv": SALES_LIST, "salespaymentlist.nv": SALES_PAYMENTS,
                         "purchaseinvoicelist.nv": PURCHASE_LIST, "paymentlist.nv": PURCHASE_PAYMENTS})
    start, end = datetime.date(2026, 3, 1), datetime.date(2026, 5, 30)
    nv_payments.list_sales_invoice_status(client, modified_start=start, modified_end=end)
    nv_payments.list_sales_payments(client, begin_date=start, end_date=end, linked=True)
    nv_payments.list_purchase_invoice_status(client, begin_date=start, end_date=end, payment_status="paid")
    nv_payments.list_purchase_payments(client, begin_date=start, end_date=end)
    nv_payments.list_sales_payments(client, modified_start=datetime.datetime(2026, 5, 1, 6, 30), linked=False,
                                    exclude_credit_loss=False, invoice_key="1001")
    assert client.calls == [
        ("salesinvoicelist.nv", {"lastmodifiedstart": "2026-03-01T00:00:00", "lastmodifiedend": "2026-05-30T23:59:59",
                                 "includemodifiedpayments": "1"}),
        ("salespaymentlist.nv", {"begindate": "2026-03-01", "enddate": "2026-05-30", "limitlinkedpayments": "1",
                                 "limitbytype": "excludecreditloss"}),
        ("purchaseinvoicelist.nv", {"begininvoicedate": "2026-03-01", "endinvoicedate": "2026-05-30",
                                    "paymentstatus": "paid"}),
        ("paymentlist.nv", {"limitbegindate": "2026-03-01", "limitenddate": "2026-05-30"}),
        ("salespaymentlist.nv", {"limitlinkedpayments": "0", "lastmodifiedstart": "2026-05-01T06:30:00",
                                 "invoicenetvisorkey": "1001"}),
    ]


def test_parameter_errors():
    client = FakeClient({})
    with pytest.raises(ValueError, match="includemodifiedpayments"):
        nv_payments.list_sales_invoice_status(client, modified_start=datetime.date(2026, 1, 1))
    with pytest.raises(ValueError, match="payment_status"):
        nv_payments.list_purchase_invoice_status(client, payment_status="partial")
    assert client.calls == []


# ------------------------------------------------------------------ linking


def test_link_sales_payments_and_group():
    invoices = nv_payments.parse_sales_invoice_status_list(envelope(SALES_LIST).root)
    payments = nv_payments.parse_sales_payment_list(envelope(SALES_PAYMENTS).root)
    nv_payments.link_sales_payments(payments, invoices)
    assert [p.invoice_key for p in payments] == ["1001", "1001", "", ""]
    grouped = nv_payments.payments_by_invoice(payments)
    assert list(grouped) == ["1001"]
    # sorted by date, then key
    assert [p.netvisor_key for p in grouped["1001"]] == ["7001", "7002"]


def test_group_sorts_numeric_keys_numerically():
    rows = [nv_payments.Payment(kind="purchase", netvisor_key=key, date=datetime.date(2026, 1, 1),
                                amount=Decimal(1), invoice_key="1") for key in ("10", "9", "100")]
    assert [p.netvisor_key for p in nv_payments.payments_by_invoice(rows)["1"]] == ["9", "10", "100"]


# ------------------------------------------------------------------ against the sandbox


ORG = "1572860-0"


@pytest.fixture
def sandbox():
    from netvisor_sandbox import start_sandbox

    today = datetime.date.today()
    server = start_sandbox({
        "partners": [{"partner_id": "P", "partner_key": "partner-key-1"}],
        "organisations": [{
            "organisation_id": ORG,
            "customers": [{"customer_id": "C", "customer_key": "customer-key-1"}],
            "data": {
                "purchase_invoices": [
                    {"netvisor_key": 2001, "number": "A-1", "date": (today - datetime.timedelta(days=10)).isoformat(),
                     "amount": "200.00", "vendor": {"name": "Toimittaja Oy"}},
                ],
                "payments": [
                    {"type": "purchase", "invoice_key": 2001, "sum": "150.00",
                     "date": (today - datetime.timedelta(days=2)).isoformat()},
                ],
            },
        }],
    })
    yield server
    server.stop()


def test_round_trip_with_sandbox(sandbox):
    creds = Credentials(sender="pytest", customer_id="C", partner_id="P", organisation_id=ORG,
                        customer_key="customer-key-1", partner_key="partner-key-1")
    client = Client(creds, base_url=sandbox.base_url, backoff=0, read_timeout=5)
    today = datetime.date.today()
    start = today - datetime.timedelta(days=90)
    (invoice,) = nv_payments.list_purchase_invoice_status(client, begin_date=start, end_date=today)
    assert (invoice.amount, invoice.paid_amount, invoice.open_amount) == (
        Decimal("200.00"), Decimal("150.00"), Decimal("50.00"))
    assert nv_payments.list_purchase_invoice_status(client, begin_date=start, end_date=today,
                                                    payment_status="paid") == []
    (payment,) = nv_payments.list_purchase_payments(client, begin_date=start, end_date=today)
    assert payment.invoice_key == "2001" and payment.amount == Decimal("150.00")
    assert payment.date == today - datetime.timedelta(days=2)
    assert nv_payments.list_sales_payments(client, begin_date=start, end_date=today, linked=True) == []
    assert client.request_count == 4
