"""Payments: ``salespaymentlist.nv`` (sales payments) and ``paymentlist.nv`` (purchase
payments) (API.md 5.1, 5.3), and the helpers that mark invoices paid.

State records::

    # collection "sales_payments"
    {"netvisor_key": 7001, "invoice_key": 1001, "invoice_number": "1", "date": "2026-05-30",
     "sum": "124.00", "reference": "1232", "name": "Asiakas Oy", "modified": "2026-05-30T10:00:00",
     "credit_loss": False}           # optional: a credit-loss write-off, not money received

    # collection "purchase_payments"
    {"netvisor_key": 8001, "invoice_key": 2001, "invoice_number": "123", "date": "2026-05-30",
     "sum": "124.00", "reference": "1232", "modified": "2026-05-30T10:00:00"}

A sales invoice's ``InvoiceStatus`` and ``OpenSum`` are computed by the sales invoice
resource from ``sales_payments``; a purchase invoice carries its own ``paid_amount``.
So that the two stay consistent, record payments with :func:`add_sales_payment` /
:func:`add_purchase_payment` (from a test: ``add_sales_payment(self.org, key, "50.00",
"2026-05-30")``), or from a seed file with a ``payments`` section, listed AFTER the
invoice collections (seed collections load in order)::

    "data": {"sales_invoices": [...], "purchase_invoices": [...],
             "payments": [{"type": "sales", "invoice_key": 1001, "sum": "50.00", "date": "2026-05-30"},
                          {"type": "purchase", "invoice_key": 2001, "sum": "124.00"}]}

Raw ``sales_payments`` / ``purchase_payments`` seed records are stored as given: a raw
purchase payment does not change the invoice's ``paid_amount``.

A payment changes the payment's own ``modified`` only: Netvisor reports invoices whose
payments changed through ``salesinvoicelist.nv?includemodifiedpayments=1`` (the sales
invoice resource looks at the payments' ``modified``), which is why a client must ask
for it. A purchase payment updates ``paid_amount`` and ``modified`` of the purchase
invoice (``purchaseinvoicelist.nv`` has no such switch and reports the invoice).

Facts the sandbox assumes where Netvisor's documentation is silent (API.md 8):
``salespaymentlist.nv`` answers ``Date`` in the Finnish ``d.m.yyyy`` form (as in a
stored Netvisor answer) and ``paymentlist.nv`` in ``yyyy-mm-dd``; ``limitinvoiceid``
is the purchase invoice's Netvisor key; date filters are inclusive.
"""

import datetime
from decimal import Decimal, InvalidOperation

from ..xmlio import ansi_date, el, fmt, invalid, wrap
from . import normalizer, resource

SALES_PAYMENTS = "sales_payments"
PURCHASE_PAYMENTS = "purchase_payments"
SALES_INVOICES = "sales_invoices"
PURCHASE_INVOICES = "purchase_invoices"
SEED_PAYMENTS = "payments"


def _now():
    return datetime.datetime.now().replace(microsecond=0).isoformat()


def _amount(value, what="sum"):
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, AttributeError):
        raise ValueError(f"{what} must be a number, not {value!r}") from None


def _iso_date(value):
    if value is None:
        return datetime.date.today().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return datetime.date.fromisoformat(str(value).strip()).isoformat()


def _invoice(org, collection, invoice_key, what):
    if invoice_key in (None, ""):
        return None
    record = (org.collections.get(collection) or {}).get(int(invoice_key))
    if record is None:
        raise ValueError(f"{what}: invoice {invoice_key} is not in {collection!r} (in a seed, list the invoice "
                         f"collections before the payments)")
    return record


# ------------------------------------------------------------------ normalisers


@normalizer(SALES_PAYMENTS)
def normalize_sales_payment(org, item):
    invoice = _invoice(org, SALES_INVOICES, item.get("invoice_key"), "sales payment")
    if invoice is not None:
        item["invoice_key"] = invoice["netvisor_key"]
        item.setdefault("invoice_number", invoice.get("number"))
        item.setdefault("reference", invoice.get("reference"))
        item.setdefault("name", invoice.get("customer_name"))
    else:
        item["invoice_key"] = None
    item["date"] = _iso_date(item.get("date"))
    item["sum"] = str(_amount(item.get("sum", 0)))
    item.setdefault("invoice_number", None)
    item.setdefault("reference", None)
    item.setdefault("name", "")
    item.setdefault("modified", _now())
    item.setdefault("credit_loss", False)


@normalizer(PURCHASE_PAYMENTS)
def normalize_purchase_payment(org, item):
    invoice = _invoice(org, PURCHASE_INVOICES, item.get("invoice_key"), "purchase payment")
    if invoice is not None:
        item["invoice_key"] = invoice["netvisor_key"]
        item.setdefault("invoice_number", invoice.get("number"))
        item.setdefault("reference", invoice.get("reference"))
        item.setdefault("name", (invoice.get("vendor") or {}).get("name"))
    else:
        item["invoice_key"] = None
    item["date"] = _iso_date(item.get("date"))
    item["sum"] = str(_amount(item.get("sum", 0)))
    item.setdefault("invoice_number", None)
    item.setdefault("reference", None)
    item.setdefault("name", "")
    item.setdefault("modified", _now())
    item.setdefault("voucher_key", org.next_key())


@normalizer(SEED_PAYMENTS)
def normalize_seed_payment(org, item):
    """A ``payments`` seed entry records a real payment through the helpers below."""
    kind = item.get("type", "sales")
    amount = item.get("sum", item.get("amount"))
    if amount is None:
        raise ValueError("payments seed entry needs a sum")
    if kind == "sales":
        payment = add_sales_payment(org, item["invoice_key"], amount, item.get("date"))
    elif kind == "purchase":
        payment = add_purchase_payment(org, item["invoice_key"], amount, item.get("date"))
    else:
        raise ValueError(f"payments seed entry: type must be 'sales' or 'purchase', not {kind!r}")
    item["payment_key"] = payment["netvisor_key"]


# ------------------------------------------------------------------ helpers for tests and seeds


def add_sales_payment(org, invoice_key, amount, date=None, **values):
    """Record a customer payment of ``amount`` on sales invoice ``invoice_key``, dated
    ``date`` (default today), as Netvisor's bank matching would. Returns the stored
    payment. The invoice's status and open sum follow from it."""
    invoice = _invoice(org, SALES_INVOICES, invoice_key, "add_sales_payment")
    record = dict(values, invoice_key=invoice["netvisor_key"], sum=str(_amount(amount)), date=_iso_date(date))
    record.setdefault("modified", _now())
    return org.add(SALES_PAYMENTS, record)


def add_purchase_payment(org, invoice_key, amount, date=None, **values):
    """Record a payment of ``amount`` to a vendor for purchase invoice ``invoice_key``;
    updates the invoice's ``paid_amount`` and ``modified``. Returns the stored payment."""
    invoice = _invoice(org, PURCHASE_INVOICES, invoice_key, "add_purchase_payment")
    amount = _amount(amount)
    record = dict(values, invoice_key=invoice["netvisor_key"], sum=str(amount), date=_iso_date(date))
    record.setdefault("modified", _now())
    stored = org.add(PURCHASE_PAYMENTS, record)
    invoice["paid_amount"] = str(_amount(invoice.get("paid_amount") or 0) + amount)
    invoice["modified"] = stored["modified"]
    return stored


# ------------------------------------------------------------------ request values


def _date_param(params, name):
    return ansi_date(params[name], name) if params.get(name) else None


def _modified_param(params, name):
    value = params.get(name)
    if not value:
        return None
    try:
        return datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise invalid(f"Invalid {name} {value!r}: use yyyy-MM-ddTHH:mm:ss") from None


def _key_param(params, name):
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise invalid(f"{name} must be a Netvisor key (a number), not {value!r}") from None


def _finnish_date(iso):
    day = datetime.date.fromisoformat(iso)
    return f"{day.day}.{day.month}.{day.year}"


# ------------------------------------------------------------------ sales payments


@resource("salespaymentlist.nv", "GET")
def sales_payment_list(request):
    params = request.params
    above = _key_param(params, "abovenetvisorkey")
    begin = _date_param(params, "begindate")
    end = _date_param(params, "enddate")
    mod_start = _modified_param(params, "lastmodifiedstart")
    mod_end = _modified_param(params, "lastmodifiedend")
    linked = params.get("limitlinkedpayments")
    if linked not in (None, "", "0", "1"):
        raise invalid(f"Invalid limitlinkedpayments {linked}: use 0 or 1")
    by_type = (params.get("limitbytype") or "").lower()
    if by_type not in ("", "onlycreditloss", "excludecreditloss"):
        raise invalid(f"Invalid limitbytype {by_type}: use onlycreditloss or excludecreditloss")
    invoice_key = _key_param(params, "invoicenetvisorkey")
    invoice_number = params.get("invoicenumber")
    search = (params.get("searchbyname") or "").lower()
    reply_option = params.get("replyoption")
    if reply_option not in (None, "", "1", "2", "3"):
        raise invalid(f"Invalid replyoption {reply_option}")
    items = []
    payments = request.org.collections.get(SALES_PAYMENTS) or {}
    for key in sorted(payments):
        rec = payments[key]
        date = datetime.date.fromisoformat(rec["date"])
        modified = datetime.datetime.fromisoformat(rec["modified"])
        if above is not None and key <= above:
            continue
        if begin and date < begin or end and date > end:
            continue
        if mod_start and modified < mod_start or mod_end and modified > mod_end:
            continue
        is_linked = rec.get("invoice_key") not in (None, "") or bool(rec.get("invoice_number"))
        if linked == "1" and not is_linked or linked == "0" and is_linked:
            continue
        if by_type == "onlycreditloss" and not rec.get("credit_loss"):
            continue
        if by_type == "excludecreditloss" and rec.get("credit_loss"):
            continue
        if invoice_key is not None and rec.get("invoice_key") != invoice_key:
            continue
        if invoice_number and str(rec.get("invoice_number") or "") != invoice_number:
            continue
        if search and search not in (rec.get("name") or "").lower():
            continue
        extra = []
        if reply_option in ("1", "3"):
            extra.append(el("ArchiveId", rec.get("archive_id", key)))
        items.append(wrap(
            "SalesPayment",
            el("NetvisorKey", key),
            el("Name", rec.get("name")),
            el("Date", _finnish_date(rec["date"])),
            el("Sum", fmt(_amount(rec["sum"]))),
            el("ReferenceNumber", rec.get("reference")),
            el("ForeignCurrencyAmount", fmt(_amount(rec.get("foreign_sum", rec["sum"])))),
            el("InvoiceNumber", rec.get("invoice_number")),
            el("PaymentAccountName", rec.get("account_name", "Pankkitili")),
            el("VoucherID", rec.get("voucher_id")),
            el("LastModifiedTimestamp", rec["modified"]),
            el("PaymentAccountNumber", rec.get("account_number", "FI2112345600000785")),
            el("PaymentSource", rec.get("source", 1)),
            el("BankStatus", rec.get("bank_status", "OK")),
            *extra,
        ))
    return wrap("SalesPaymentList", *items)


# ------------------------------------------------------------------ purchase payments


@resource("paymentlist.nv", "GET")
def purchase_payment_list(request):
    params = request.params
    above = _key_param(params, "limitabovenetvisorkey")
    begin = _date_param(params, "limitbegindate")
    end = _date_param(params, "limitenddate")
    reference = params.get("limitreference")
    invoice_key = _key_param(params, "limitinvoiceid")
    items = []
    payments = request.org.collections.get(PURCHASE_PAYMENTS) or {}
    for key in sorted(payments):
        rec = payments[key]
        date = datetime.date.fromisoformat(rec["date"])
        if above is not None and key <= above:
            continue
        if begin and date < begin or end and date > end:
            continue
        if reference and str(rec.get("reference") or "") != reference:
            continue
        if invoice_key is not None and rec.get("invoice_key") != invoice_key:
            continue
        invoice_uri = ""
        if rec.get("invoice_key") is not None:
            invoice_uri = f"{request.server.base_url}getpurchaseinvoice.nv?netvisorkey={rec['invoice_key']}"
        amount = _amount(rec["sum"])
        items.append(wrap(
            "Payment",
            el("NetvisorKey", key),
            el("PayerName", rec.get("name")),
            el("Date", rec["date"], format="ansi"),
            el("HomeCurrencySum", fmt(amount)),
            el("ForeignCurrencySum", fmt(_amount(rec.get("foreign_sum", amount)))),
            el("Reference", rec.get("reference")),
            el("InvoiceKey", rec.get("invoice_key")),
            el("InvoiceNumber", rec.get("invoice_number")),
            el("InvoiceURI", invoice_uri),
            el("VoucherKey", rec.get("voucher_key")),
            el("VoucherNumber", rec.get("voucher_number", rec.get("voucher_key"))),
        ))
    return wrap("PaymentList", *items)
