"""Payment status Netvisor -> Odoo (API.md 5.1 and 5.3).

Four list requests give everything the daily status sync needs, whatever the
number of invoices (never one request per invoice):

* :func:`list_sales_invoice_status`: ``salesinvoicelist.nv`` over a modification
  window with ``includemodifiedpayments=1``: key, number, status and open sum of
  each sales invoice (the number is the only link from a sales payment back to
  its invoice);
* :func:`list_sales_payments`: ``salespaymentlist.nv`` over a payment-date window:
  one row per payment with its own key, date and sum;
* :func:`list_purchase_invoice_status`: ``purchaseinvoicelist.nv`` over an invoice
  date window (optionally ``paymentstatus``): sum, paid and open amount per bill;
* :func:`list_purchase_payments`: ``paymentlist.nv`` over a payment-date window:
  one row per purchase payment, linked by ``InvoiceKey``.

:func:`payments_by_invoice` groups payment rows per invoice key. Amounts are
``Decimal``; dates ``datetime.date``.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from .. import xmlutil

ZERO = Decimal(0)

# salesinvoicelist.nv InvoiceStatus values
SALES_STATUS_PAID = "paid"
SALES_STATUS_CREDITLOSS = "creditloss"


@dataclass
class SalesInvoiceStatus:
    netvisor_key: str
    number: str
    date: object
    status: str  # machine value: open, paid, unsent, creditloss ... (lowercased)
    substatus: str
    amount: Decimal
    open_amount: Decimal
    reference: str = ""
    customer_code: str = ""
    customer_name: str = ""

    @property
    def paid_amount(self):
        """What Netvisor counts as settled: payments, and also credit notes or credit loss."""
        return self.amount - self.open_amount

    @property
    def is_paid(self):
        return self.status == SALES_STATUS_PAID or (self.amount > 0 and self.open_amount <= 0)


@dataclass
class PurchaseInvoiceStatus:
    netvisor_key: str
    number: str
    date: object
    vendor_name: str
    amount: Decimal
    paid_amount: Decimal
    open_amount: Decimal

    @property
    def is_paid(self):
        return self.amount > 0 and self.open_amount <= 0


@dataclass
class Payment:
    """One payment row of ``salespaymentlist.nv`` (kind ``sales``) or ``paymentlist.nv``
    (kind ``purchase``). ``invoice_key`` is only known for purchase payments; sales
    payments carry the invoice number (see :func:`link_sales_payments`)."""

    kind: str
    netvisor_key: str
    date: object
    amount: Decimal
    invoice_number: str = ""
    invoice_key: str = ""
    reference: str = ""
    name: str = ""
    foreign_amount: Decimal = None
    voucher: str = ""
    modified: object = None
    extra: dict = field(default_factory=dict)


def _datetime(value):
    """``yyyy-MM-ddTHH:mm:ss`` (or with a space) to datetime, else None."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace(" ", "T")[:19])
    except ValueError:
        return None


def _modified_params(modified_start, modified_end):
    return {
        "lastmodifiedstart": modified_start and xmlutil.format_datetime(_as_datetime(modified_start)),
        "lastmodifiedend": modified_end and xmlutil.format_datetime(_as_datetime(modified_end, end=True)),
    }


def _as_datetime(value, end=False):
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.combine(value, datetime.time(23, 59, 59) if end else datetime.time(0, 0, 0))


# ------------------------------------------------------------------ sales invoices


def parse_sales_invoice_status_list(root):
    items = []
    for node in xmlutil.children(xmlutil.child(root, "SalesInvoiceList"), "SalesInvoice"):
        status_node = xmlutil.child(node, "InvoiceStatus")
        status = xmlutil.text(status_node).lower()
        substatus = (status_node.get("substatus") or "").lower() if status_node is not None else ""
        amount = xmlutil.parse_decimal(xmlutil.text(node, "InvoiceSum"), ZERO)
        open_amount = xmlutil.parse_decimal(xmlutil.text(node, "OpenSum"), None)
        if open_amount is None:
            open_amount = ZERO if status == SALES_STATUS_PAID else amount
        items.append(SalesInvoiceStatus(
            netvisor_key=xmlutil.text(node, "NetvisorKey"),
            number=xmlutil.text(node, "InvoiceNumber"),
            # the element is spelled "Invoicedate" in Netvisor's answers; child() ignores case
            date=xmlutil.parse_date(xmlutil.text(node, "InvoiceDate")),
            status=status,
            substatus=substatus,
            amount=amount,
            open_amount=open_amount,
            reference=xmlutil.text(node, "ReferenceNumber"),
            customer_code=xmlutil.text(node, "CustomerCode"),
            customer_name=xmlutil.text(node, "CustomerName"),
        ))
    return items


def list_sales_invoice_status(client, modified_start=None, modified_end=None, include_modified_payments=True,
                              begin_date=None, end_date=None, invoice_status=None):
    """``salesinvoicelist.nv``: one request for every sales invoice modified (or whose
    payments changed, with ``include_modified_payments``) between the two moments.
    ``includemodifiedpayments`` needs both ``lastmodifiedstart`` and ``lastmodifiedend``."""
    if include_modified_payments and not (modified_start and modified_end):
        raise ValueError("includemodifiedpayments needs modified_start and modified_end")
    params = {
        "begininvoicedate": begin_date and xmlutil.format_date(begin_date),
        "endinvoicedate": end_date and xmlutil.format_date(end_date),
        "invoicestatus": invoice_status,
        **_modified_params(modified_start, modified_end),
        "includemodifiedpayments": "1" if include_modified_payments else None,
    }
    envelope = client.get("salesinvoicelist.nv", params)
    return parse_sales_invoice_status_list(envelope.root)


# ------------------------------------------------------------------ sales payments


def parse_sales_payment_list(root):
    items = []
    for node in xmlutil.children(xmlutil.child(root, "SalesPaymentList"), "SalesPayment"):
        foreign = xmlutil.text(node, "ForeignCurrencyAmount")
        items.append(Payment(
            kind="sales",
            netvisor_key=xmlutil.text(node, "NetvisorKey"),
            name=xmlutil.text(node, "Name"),
            # seen both as yyyy-mm-dd and as Finnish d.m.yyyy (API.md 4)
            date=xmlutil.parse_date(xmlutil.text(node, "Date")),
            amount=xmlutil.parse_decimal(xmlutil.text(node, "Sum"), ZERO),
            reference=xmlutil.text(node, "ReferenceNumber"),
            foreign_amount=xmlutil.parse_decimal(foreign, None) if foreign else None,
            invoice_number=xmlutil.text(node, "InvoiceNumber"),
            voucher=xmlutil.text(node, "VoucherID"),
            modified=_datetime(xmlutil.text(node, "LastModifiedTimestamp")),
            extra={"bank_status": xmlutil.text(node, "BankStatus"),
                   "payment_account": xmlutil.text(node, "PaymentAccountNumber")},
        ))
    return items


def list_sales_payments(client, begin_date=None, end_date=None, modified_start=None, modified_end=None,
                        linked=None, exclude_credit_loss=True, invoice_key=None, invoice_number=None,
                        above_key=None):
    """``salespaymentlist.nv``: every sales payment dated in [begin_date, end_date] (and/or
    modified in the window). ``linked``: True = only payments linked to an invoice,
    False = only unlinked ones, None = both. Credit-loss write-offs are excluded by
    default: they are not money received."""
    params = {
        "abovenetvisorkey": above_key,
        "begindate": begin_date and xmlutil.format_date(begin_date),
        "enddate": end_date and xmlutil.format_date(end_date),
        "limitlinkedpayments": None if linked is None else ("1" if linked else "0"),
        "limitbytype": "excludecreditloss" if exclude_credit_loss else None,
        **_modified_params(modified_start, modified_end),
        "invoicenetvisorkey": invoice_key,
        "invoicenumber": invoice_number,
    }
    envelope = client.get("salespaymentlist.nv", params)
    return parse_sales_payment_list(envelope.root)


def link_sales_payments(payments, invoices):
    """Fill ``invoice_key`` of sales payments from the invoice numbers of
    :func:`list_sales_invoice_status` items (a sales payment row names its invoice by
    number only). Payments whose invoice is not in ``invoices`` keep an empty key."""
    keys = {inv.number: inv.netvisor_key for inv in invoices if inv.number}
    for payment in payments:
        if not payment.invoice_key and payment.invoice_number:
            payment.invoice_key = keys.get(payment.invoice_number, "")
    return payments


# ------------------------------------------------------------------ purchase invoices


def parse_purchase_invoice_status_list(root):
    items = []
    for node in xmlutil.children(xmlutil.child(root, "PurchaseInvoiceList"), "PurchaseInvoice"):
        amount = xmlutil.parse_decimal(xmlutil.text(node, "Sum"), ZERO)
        paid = xmlutil.parse_decimal(xmlutil.text(node, "Payments"), ZERO)
        open_amount = xmlutil.parse_decimal(xmlutil.text(node, "OpenSum"), None)
        items.append(PurchaseInvoiceStatus(
            netvisor_key=xmlutil.text(node, "NetvisorKey"),
            number=xmlutil.text(node, "InvoiceNumber"),
            date=xmlutil.parse_date(xmlutil.text(node, "InvoiceDate")),
            vendor_name=xmlutil.text(node, "Vendor"),
            amount=amount,
            paid_amount=paid,
            open_amount=amount - paid if open_amount is None else open_amount,
        ))
    return items


def list_purchase_invoice_status(client, begin_date=None, end_date=None, payment_status=None,
                                 modified_start=None, modified_end=None):
    """``purchaseinvoicelist.nv`` with the filters that matter for payment status:
    invoice date window, ``paymentstatus`` (``paid`` | ``unpaid``), modification window."""
    if payment_status not in (None, "paid", "unpaid"):
        raise ValueError(f"payment_status must be 'paid' or 'unpaid', not {payment_status!r}")
    params = {
        "begininvoicedate": begin_date and xmlutil.format_date(begin_date),
        "endinvoicedate": end_date and xmlutil.format_date(end_date),
        "paymentstatus": payment_status,
        **_modified_params(modified_start, modified_end),
    }
    envelope = client.get("purchaseinvoicelist.nv", params)
    return parse_purchase_invoice_status_list(envelope.root)


# ------------------------------------------------------------------ purchase payments


def parse_purchase_payment_list(root):
    items = []
    for node in xmlutil.children(xmlutil.child(root, "PaymentList"), "Payment"):
        foreign = xmlutil.text(node, "ForeignCurrencySum")
        items.append(Payment(
            kind="purchase",
            netvisor_key=xmlutil.text(node, "NetvisorKey"),
            name=xmlutil.text(node, "PayerName"),
            date=xmlutil.parse_date(xmlutil.text(node, "Date")),
            amount=xmlutil.parse_decimal(xmlutil.text(node, "HomeCurrencySum"), ZERO),
            foreign_amount=xmlutil.parse_decimal(foreign, None) if foreign else None,
            reference=xmlutil.text(node, "Reference"),
            invoice_key=xmlutil.text(node, "InvoiceKey"),
            invoice_number=xmlutil.text(node, "InvoiceNumber"),
            voucher=xmlutil.text(node, "VoucherNumber") or xmlutil.text(node, "VoucherKey"),
        ))
    return items


def list_purchase_payments(client, begin_date=None, end_date=None, above_key=None, reference=None,
                           invoice_key=None):
    """``paymentlist.nv``: every purchase payment dated in [begin_date, end_date]."""
    params = {
        "limitabovenetvisorkey": above_key,
        "limitbegindate": begin_date and xmlutil.format_date(begin_date),
        "limitenddate": end_date and xmlutil.format_date(end_date),
        "limitreference": reference,
        "limitinvoiceid": invoice_key,
    }
    envelope = client.get("paymentlist.nv", params)
    return parse_purchase_payment_list(envelope.root)


# ------------------------------------------------------------------ helpers


def payments_by_invoice(payments):
    """``{invoice_key: [Payment, ...]}`` sorted by date then key; rows with no invoice
    key are dropped (unlinked payments)."""
    grouped = defaultdict(list)
    for payment in payments:
        if payment.invoice_key:
            grouped[payment.invoice_key].append(payment)
    for rows in grouped.values():
        rows.sort(key=lambda p: (p.date or datetime.date.min, _int_or_text(p.netvisor_key)))
    return dict(grouped)


def _int_or_text(value):
    try:
        return (0, int(value), "")
    except (TypeError, ValueError):
        return (1, 0, str(value))
