"""The sandbox's payment resources: salespaymentlist.nv, paymentlist.nv, and the
helpers that mark invoices paid (API.md 5.1, 5.3)."""

import datetime
from decimal import Decimal

import pytest
from lxml import etree

from netvisor import Client, Credentials
from netvisor.errors import NetvisorInvalidDataError
from netvisor_sandbox import start_sandbox
from netvisor_sandbox.resources import HANDLERS
from netvisor_sandbox.resources import payments as sandbox_payments

ORG = "1572860-0"
TODAY = datetime.date.today()


def days_ago(days):
    return (TODAY - datetime.timedelta(days=days)).isoformat()


def base_seed(data=None):
    return {
        "partners": [{"partner_id": "P", "partner_key": "partner-key-1"}],
        "organisations": [{
            "organisation_id": ORG,
            "customers": [{"customer_id": "C", "customer_key": "customer-key-1"}],
            "data": data or {},
        }],
    }


SALES_INVOICES = [
    {"netvisor_key": 1001, "number": "101", "date": days_ago(10), "amount": "124.00", "reference": "1016",
     "customer_name": "Asiakas Oy", "customer_key": 501, "modified": f"{days_ago(10)}T09:00:00"},
    {"netvisor_key": 1002, "number": "102", "date": days_ago(5), "amount": "50.00", "reference": "1029",
     "customer_name": "Toinen Oy", "customer_key": 502, "modified": f"{days_ago(5)}T09:00:00"},
]
PURCHASE_INVOICES = [
    {"netvisor_key": 2001, "number": "A-1", "date": days_ago(20), "amount": "200.00", "reference": "2012",
     "vendor": {"name": "Toimittaja Oy", "business_id": "1572860-0"}, "modified": f"{days_ago(20)}T08:00:00"},
    {"netvisor_key": 2002, "number": "A-2", "date": days_ago(3), "amount": "80.00",
     "vendor": {"name": "Toinen Toimittaja Oy"}},
]


@pytest.fixture
def sandbox():
    server = start_sandbox(base_seed({
        "sales_invoices": SALES_INVOICES,
        "purchase_invoices": PURCHASE_INVOICES,
    }))
    yield server
    server.stop()


@pytest.fixture
def org(sandbox):
    return sandbox.org(ORG)


@pytest.fixture
def client(sandbox):
    creds = Credentials(sender="pytest", customer_id="C", partner_id="P", organisation_id=ORG,
                        customer_key="customer-key-1", partner_key="partner-key-1")
    return Client(creds, base_url=sandbox.base_url, backoff=0, read_timeout=5)


def rows(envelope, list_name, item_name):
    node = envelope.payload(list_name)
    assert node is not None, etree.tostring(envelope.root)
    return [{sub.tag: (sub.text or "") for sub in item} for item in node.findall(item_name)]


def has_sales_invoices():
    return ("salesinvoicelist.nv", "GET") in HANDLERS


# ------------------------------------------------------------------ helpers and normalisers


def test_add_sales_payment_fills_from_invoice(org):
    payment = sandbox_payments.add_sales_payment(org, 1001, "100,5", days_ago(2))
    assert payment["invoice_key"] == 1001
    assert payment["invoice_number"] == "101"
    assert payment["reference"] == "1016"
    assert payment["name"] == "Asiakas Oy"
    assert payment["sum"] == "100.5"
    assert payment["date"] == days_ago(2)
    assert datetime.datetime.fromisoformat(payment["modified"]) >= datetime.datetime.now() - datetime.timedelta(
        minutes=1)
    assert org.collections["sales_payments"][payment["netvisor_key"]] is payment
    # the invoice's own modification time is untouched: its payments changed, not the invoice
    assert org.collections["sales_invoices"][1001]["modified"] == f"{days_ago(10)}T09:00:00"


def test_add_purchase_payment_updates_invoice(org):
    first = sandbox_payments.add_purchase_payment(org, 2001, "50.00", days_ago(4))
    sandbox_payments.add_purchase_payment(org, "2001", Decimal("25.25"))
    invoice = org.collections["purchase_invoices"][2001]
    assert Decimal(invoice["paid_amount"]) == Decimal("75.25")
    assert invoice["modified"] >= first["modified"]
    assert first["invoice_number"] == "A-1"
    assert first["name"] == "Toimittaja Oy"
    assert first["reference"] == "2012"
    assert first["voucher_key"]


def test_payment_for_unknown_invoice_is_refused(org):
    with pytest.raises(ValueError, match="not in 'sales_invoices'"):
        sandbox_payments.add_sales_payment(org, 999, "1")
    with pytest.raises(ValueError, match="not in 'purchase_invoices'"):
        sandbox_payments.add_purchase_payment(org, 999, "1")


def test_payment_keys_do_not_collide_with_seeded_keys(org):
    payment = sandbox_payments.add_sales_payment(org, 1001, "1")
    assert payment["netvisor_key"] > 2002


def test_seed_payments_section():
    server = start_sandbox(base_seed({
        "sales_invoices": SALES_INVOICES,
        "purchase_invoices": PURCHASE_INVOICES,
        "sales_payments": [{"netvisor_key": 7001, "invoice_key": 1002, "sum": "10.00", "date": days_ago(1)}],
        "payments": [
            {"type": "sales", "invoice_key": 1001, "sum": "124.00", "date": days_ago(3)},
            {"type": "purchase", "invoice_key": 2001, "amount": "200.00", "date": days_ago(2)},
        ],
    }))
    try:
        org = server.org(ORG)
        sales = org.collections["sales_payments"]
        assert sales[7001]["invoice_number"] == "102"
        assert sorted(p["invoice_key"] for p in sales.values()) == [1001, 1002]
        purchases = list(org.collections["purchase_payments"].values())
        assert len(purchases) == 1 and purchases[0]["sum"] == "200.00"
        assert Decimal(org.collections["purchase_invoices"][2001]["paid_amount"]) == Decimal("200.00")
    finally:
        server.stop()


def test_seed_payments_before_invoices_is_a_clear_error():
    with pytest.raises(ValueError, match="list the invoice collections before the payments"):
        start_sandbox(base_seed({
            "payments": [{"type": "sales", "invoice_key": 1001, "sum": "1"}],
            "sales_invoices": SALES_INVOICES,
        })).stop()


# ------------------------------------------------------------------ salespaymentlist.nv


def test_sales_payment_list_rows_and_formats(org, client):
    payment = sandbox_payments.add_sales_payment(org, 1001, "124", "2026-02-07")
    result = rows(client.get("salespaymentlist.nv"), "SalesPaymentList", "SalesPayment")
    assert len(result) == 1
    row = result[0]
    assert row["NetvisorKey"] == str(payment["netvisor_key"])
    assert row["Date"] == "7.2.2026"  # Finnish d.m.yyyy, as in Netvisor's stored answer
    assert row["Sum"] == "124,00"
    assert row["InvoiceNumber"] == "101"
    assert row["ReferenceNumber"] == "1016"
    assert row["Name"] == "Asiakas Oy"
    assert row["LastModifiedTimestamp"] == payment["modified"]
    assert "InvoiceKey" not in row  # Netvisor names the invoice by number only


def test_sales_payment_list_filters(org, client):
    early = sandbox_payments.add_sales_payment(org, 1001, "24", days_ago(9))
    late = sandbox_payments.add_sales_payment(org, 1001, "100", days_ago(1))
    other = sandbox_payments.add_sales_payment(org, 1002, "50", days_ago(4))
    unlinked = org.add("sales_payments", {"sum": "5", "date": days_ago(4), "name": "Tuntematon"})
    loss = sandbox_payments.add_sales_payment(org, 1002, "1", days_ago(2), credit_loss=True)

    def keys(**params):
        return [int(r["NetvisorKey"]) for r in rows(client.get("salespaymentlist.nv", params),
                                                   "SalesPaymentList", "SalesPayment")]

    everything = [early, late, other, unlinked, loss]
    assert keys() == [p["netvisor_key"] for p in everything]
    assert keys(begindate=days_ago(5), enddate=days_ago(2)) == [other["netvisor_key"], unlinked["netvisor_key"],
                                                                loss["netvisor_key"]]
    assert keys(limitlinkedpayments="1") == [p["netvisor_key"] for p in (early, late, other, loss)]
    assert keys(limitlinkedpayments="0") == [unlinked["netvisor_key"]]
    assert keys(limitbytype="excludecreditloss") == [p["netvisor_key"] for p in (early, late, other, unlinked)]
    assert keys(limitbytype="onlycreditloss") == [loss["netvisor_key"]]
    assert keys(invoicenetvisorkey="1001") == [early["netvisor_key"], late["netvisor_key"]]
    assert keys(invoicenumber="102") == [other["netvisor_key"], loss["netvisor_key"]]
    assert keys(abovenetvisorkey=str(other["netvisor_key"])) == [unlinked["netvisor_key"], loss["netvisor_key"]]
    assert keys(searchbyname="tuntem") == [unlinked["netvisor_key"]]
    org.collections["sales_payments"][early["netvisor_key"]]["modified"] = "2020-01-01T10:00:00"
    assert keys(lastmodifiedstart="2020-01-01T00:00:00", lastmodifiedend="2020-01-02T00:00:00") == [
        early["netvisor_key"]]


@pytest.mark.parametrize("params, message", [
    ({"begindate": "1.2.2026"}, "begindate"),
    ({"lastmodifiedstart": "yesterday"}, "lastmodifiedstart"),
    ({"limitlinkedpayments": "2"}, "limitlinkedpayments"),
    ({"limitbytype": "all"}, "limitbytype"),
    ({"invoicenetvisorkey": "abc"}, "invoicenetvisorkey"),
])
def test_sales_payment_list_rejects_bad_parameters(client, params, message):
    with pytest.raises(NetvisorInvalidDataError, match=message):
        client.get("salespaymentlist.nv", params)


@pytest.mark.skipif(not has_sales_invoices(), reason="salesinvoicelist.nv comes with the sales invoice resource")
def test_sales_invoice_status_follows_payments(org, client):
    def status(**params):
        found = rows(client.get("salesinvoicelist.nv", params), "SalesInvoiceList", "SalesInvoice")
        return {r["NetvisorKey"]: (r["InvoiceStatus"], r["OpenSum"]) for r in found}

    sandbox_payments.add_sales_payment(org, 1001, "24.00", days_ago(2))
    assert status()["1001"] == ("open", "100,00")
    sandbox_payments.add_sales_payment(org, 1001, "100.00", days_ago(1))
    assert status()["1001"] == ("paid", "0,00")
    # the invoice itself was not modified today: only includemodifiedpayments reports it
    window = {"lastmodifiedstart": f"{TODAY.isoformat()}T00:00:00", "lastmodifiedend": f"{TODAY.isoformat()}T23:59:59"}
    assert "1001" not in status(**window)
    assert "1001" in status(includemodifiedpayments="1", **window)


# ------------------------------------------------------------------ paymentlist.nv


def test_purchase_payment_list_rows(org, client):
    payment = sandbox_payments.add_purchase_payment(org, 2001, "200", "2026-03-04")
    result = rows(client.get("paymentlist.nv"), "PaymentList", "Payment")
    assert len(result) == 1
    row = result[0]
    assert row["NetvisorKey"] == str(payment["netvisor_key"])
    assert row["Date"] == "2026-03-04"
    assert row["HomeCurrencySum"] == "200,00"
    assert row["InvoiceKey"] == "2001"
    assert row["InvoiceNumber"] == "A-1"
    assert row["Reference"] == "2012"
    assert row["PayerName"] == "Toimittaja Oy"
    assert row["InvoiceURI"].endswith("getpurchaseinvoice.nv?netvisorkey=2001")
    assert row["VoucherKey"] == str(payment["voucher_key"])


def test_purchase_payment_list_filters(org, client):
    first = sandbox_payments.add_purchase_payment(org, 2001, "50", days_ago(15))
    second = sandbox_payments.add_purchase_payment(org, 2001, "150", days_ago(2))
    third = sandbox_payments.add_purchase_payment(org, 2002, "80", days_ago(1), reference="RF471234567890")

    def keys(**params):
        return [int(r["NetvisorKey"]) for r in rows(client.get("paymentlist.nv", params), "PaymentList", "Payment")]

    assert keys() == [first["netvisor_key"], second["netvisor_key"], third["netvisor_key"]]
    assert keys(limitbegindate=days_ago(3), limitenddate=days_ago(2)) == [second["netvisor_key"]]
    assert keys(limitinvoiceid="2002") == [third["netvisor_key"]]
    assert keys(limitreference="RF471234567890") == [third["netvisor_key"]]
    assert keys(limitabovenetvisorkey=str(first["netvisor_key"])) == [second["netvisor_key"], third["netvisor_key"]]


def test_purchase_invoice_list_reports_paid_status(org, client):
    def listed(**params):
        found = rows(client.get("purchaseinvoicelist.nv", params), "PurchaseInvoiceList", "PurchaseInvoice")
        return {r["NetvisorKey"]: (r["Payments"], r["OpenSum"]) for r in found}

    sandbox_payments.add_purchase_payment(org, 2001, "50", days_ago(2))
    assert listed()["2001"] == ("50,00", "150,00")
    assert set(listed(paymentstatus="unpaid")) == {"2001", "2002"}
    sandbox_payments.add_purchase_payment(org, 2001, "150", days_ago(1))
    assert set(listed(paymentstatus="paid")) == {"2001"}
    # the bill itself changed (paid amount): a modification window sees it
    window = {"lastmodifiedstart": f"{TODAY.isoformat()}T00:00:00", "lastmodifiedend": f"{TODAY.isoformat()}T23:59:59"}
    assert "2001" in listed(**window)


@pytest.mark.parametrize("params, message", [
    ({"limitbegindate": "2026/01/01"}, "limitbegindate"),
    ({"limitinvoiceid": "x"}, "limitinvoiceid"),
])
def test_purchase_payment_list_rejects_bad_parameters(client, params, message):
    with pytest.raises(NetvisorInvalidDataError, match=message):
        client.get("paymentlist.nv", params)
