"""Sales invoices: ``salesinvoice.nv`` (add / edit), ``salesinvoicelist.nv``,
``getsalesinvoice.nv`` and ``matchcreditnote.nv`` (API.md 5.2, 5.3).

State record (collection ``sales_invoices``)::

    {"netvisor_key": 1001, "number": "INV/2026/00001", "date": "2026-05-23",
     "due_date": "2026-06-22", "delivery_date": None, "event_date": None, "value_date": None,
     "amount": "124.00",                 # gross total, decimal string, negative for a credit note
     "currency": "EUR", "currency_rate": None,
     "customer_key": 501, "customer_code": "C1", "customer_name": "Asiakas Oy",
     "customer_business_id": "1234567-8",
     "customer_address": {"street": "", "street2": "", "zip": "", "city": "", "country": "FI"},
     "reference": "1232",                # Finnish (or RF) reference number
     "status": "open",                   # as imported: "open" | "unsent"; or seeded "paid" / "creditloss"
     "invoice_type": "invoice",          # "invoice" | "order"
     "payment_term_days": None, "our_reference": "", "your_reference": "", "private_comment": "",
     "free_text_before": "", "free_text_after": "",
     "modified": "2026-05-23T10:00:00",  # last add / edit / match, UTC (as customers and products)
     "credited_invoice_key": None,       # set by matchcreditnote.nv on the credit note
     "voucher_key": 2001,                # the invoice voucher (not for "unsent")
     "lines": [{"type": "product", "netvisor_key": 11, "product_identifier": "P1",
                "product_identifier_type": "customer", "product_key": 301, "name": "Tuote",
                "unit_price": "10", "unit_price_type": "net", "vat_percent": "24", "vat_code": "KOMY",
                "quantity": "1", "discount": "0", "free_text": "", "net_sum": "10.00",
                "vat_sum": "2.40", "line_sum": "12.40", "account": "", "unit": ""},
               {"type": "comment", "netvisor_key": 12, "comment": "Section"}]}

``InvoiceStatus`` and ``OpenSum`` are computed from the collection ``sales_payments``
(records ``{"netvisor_key", "invoice_key", "invoice_number", "date", "sum", "reference",
"name", "modified"}``; written by the payments resource): a payment belongs to the
invoice whose key is its ``invoice_key`` (or, without one, whose number is its
``invoice_number``); ``OpenSum = amount - payments``; the invoice is ``paid`` when
that is <= 0 in absolute terms (credit notes are negative on both sides).

Customers and products are read from the collections ``customers`` and ``products``
(records with ``netvisor_key``, ``code``, ``name``; written by their own resources).

Like Netvisor, the import recomputes every product line (net, VAT and gross sums,
rounded to 2 decimals) and the total, and refuses a declared ``salesinvoiceamount``
that differs from the sum of the line sums: a client with a rounding bug fails here.
Lines that carry ``salesinvoiceproductlinevatsum`` + ``salesinvoiceproductlinesum``
keep them, when they agree with the unit price, quantity, discount and VAT rate to
within a couple of cents.

Facts the sandbox assumes where Netvisor's documentation is silent (API.md 8):
the text length limits in ``MAX_LENGTHS``; an unknown key for ``getsalesinvoice.nv``
answers OK with an empty ``SalesInvoice``; invoice numbers are not forced unique;
a credit note is matched to one invoice at most.
"""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

from ..xmlio import SandboxFault, ansi_date, check_order, dec, el, fmt, invalid, wrap
from . import normalizer, resource

COLLECTION = "sales_invoices"
PAYMENTS = "sales_payments"
MAX_KEYS = 500
CENT = Decimal("0.01")

SALESINVOICE_ORDER = (
    "salesinvoicenumber", "salesinvoicedate", "salesinvoiceeventdate", "salesinvoiceduedate",
    "salesinvoicevaluedate", "salesinvoicedeliverydate", "salesinvoicedeliverytocustomerdate",
    "salesinvoicewaybillidentifier", "salesinvoicereferencenumber", "salesinvoiceamount", "selleridentifier",
    "sellername", "invoicetype", "salesinvoicestatus", "salesinvoicefreetextbeforelines",
    "salesinvoicefreetextafterlines", "salesinvoiceourreference", "salesinvoiceyourreference",
    "salesinvoiceprivatecomment", "invoicingcustomeridentifier", "invoicingcustomername",
    "invoicingcustomernameextension", "invoicingcustomeraddressline", "invoicingcustomeradditionaladdressline",
    "invoicingcustomerpostnumber", "invoicingcustomertown", "invoicingcustomercountrycode", "officeidentifier",
    "deliveryoffice", "deliveryaddressname", "deliveryaddressnameextension", "deliveryaddressline",
    "deliveryaddresspostnumber", "deliveryaddresstown", "deliveryaddresscountrycode", "deliverymethod",
    "deliveryterm", "salesinvoicetaxhandlingtype", "paymenttermnetdays", "paymenttermcashdiscountdays",
    "paymenttermcashdiscount", "expectpartialpayments", "trydirectdebitlink",
    "overridevouchersalesreceivablesaccountnumber", "invoicesubjecttype", "salesinvoiceagreementidentifier",
    "printchannelformat", "secondname", "overriderateofoverdue", "ordernumber", "invoicelines",
    "invoicevoucherlines", "salesinvoiceaccrual", "accrualrule", "salesinvoiceattachments", "customtags",
)
SALESINVOICE_REQUIRED = ("salesinvoicedate", "salesinvoiceamount", "salesinvoicestatus",
                         "invoicingcustomeridentifier", "invoicelines")
PRODUCTLINE_ORDER = (
    "productidentifier", "productname", "productunitprice", "productunitpurchaseprice", "productvatpercentage",
    "salesinvoiceproductlinequantity", "salesinvoiceproductlinediscountpercentage",
    "salesinvoiceproductlinefreetext", "salesinvoiceproductlinevatsum", "salesinvoiceproductlinesum",
    "salesinvoiceproductlineinventoryid", "accountingaccountsuggestion", "skipaccrual", "dimension",
    "provisionpercentage", "accrualrule", "productunitname",
)
PRODUCTLINE_REQUIRED = ("productidentifier", "productname", "productunitprice", "productvatpercentage",
                        "salesinvoiceproductlinequantity")
REPEATABLE = {"dimension"}

# Text limits (characters). Netvisor publishes few of them (customer name 250, street 80,
# product code 50, product name 200: API.md 5.4/5.5); the rest are the sandbox's assumption.
MAX_LENGTHS = {
    "salesinvoicenumber": 50,
    "salesinvoicereferencenumber": 25,
    "salesinvoiceourreference": 200,
    "salesinvoiceyourreference": 200,
    "salesinvoiceprivatecomment": 2000,
    "salesinvoicefreetextbeforelines": 2000,
    "salesinvoicefreetextafterlines": 2000,
    "invoicingcustomeridentifier": 50,
    "invoicingcustomername": 250,
    "invoicingcustomernameextension": 250,
    "invoicingcustomeraddressline": 80,
    "invoicingcustomeradditionaladdressline": 80,
    "invoicingcustomerpostnumber": 50,
    "invoicingcustomertown": 50,
    "invoicingcustomercountrycode": 2,
    "productidentifier": 50,
    "productname": 200,
    "salesinvoiceproductlinefreetext": 500,
    "productunitname": 50,
    "comment": 500,
}

# API.md 5.8 (13.5 % is Finland's reduced rate from 2026); None = no limit on the rate list
_RATES = {Decimal(r) for r in ("0", "10", "13.5", "14", "24", "25.5")}
_ZERO = {Decimal(0)}
VAT_CODES = {
    "NONE": _ZERO, "KOMY": _RATES, "EUMY": _ZERO, "EUUM": _ZERO, "KOOS": _RATES, "EUOS": _RATES,
    "EUPO": _RATES, "EUUO": _ZERO, "100": _ZERO, "EUPM312": _ZERO, "EUPM309": _ZERO,
    "MUUL": _RATES - {Decimal("25.5")}, "EVTO": _RATES, "EVPO": _RATES, "EVKV": _RATES, "KAVE": _RATES,
    "RAMY": _ZERO, "RAOS": _RATES, "EVRO": _RATES, "MAAL": _RATES, "EVMA": _RATES, "KOMY0": _ZERO,
}

ISO_4217 = set("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD
CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ
GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR
LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB
TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
""".split())

LIST_STATUSES = ("open", "overdue", "paid", "unsent", "creditloss", "rejected")
STATUS_TEXT = {
    "FI": {"open": "Avoin", "paid": "Maksettu", "unsent": "Lähettämätön", "creditloss": "Luottotappio"},
    "EN": {"open": "Open", "paid": "Paid", "unsent": "Unsent", "creditloss": "Credit loss"},
    "SE": {"open": "Öppen", "paid": "Betald", "unsent": "Oskickad", "creditloss": "Kreditförlust"},
}


def _now(request=None):
    """The sandbox's clock in UTC, naive (``modified`` values and the list filters)."""
    offset = request.server.clock_offset if request is not None else 0
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return moment.replace(microsecond=0, tzinfo=None)


@normalizer(COLLECTION)
def normalize(org, item):
    item.setdefault("date", datetime.date.today().isoformat())
    item.setdefault("due_date", item["date"])
    item.setdefault("modified", f"{item['date']}T12:00:00")
    item.setdefault("currency", "EUR")
    item.setdefault("status", "open")
    item.setdefault("invoice_type", "invoice")
    item.setdefault("credited_invoice_key", None)
    item.setdefault("number", str(item["netvisor_key"]))
    item.setdefault("lines", [])
    item["amount"] = str(Decimal(str(item.get("amount", "0"))))
    for line in item["lines"]:
        line.setdefault("type", "product")
        if "netvisor_key" not in line:
            line["netvisor_key"] = org.next_key()
    if item["status"] != "unsent" and not item.get("voucher_key"):
        item["voucher_key"] = org.next_key()


# ------------------------------------------------------------------ values


def _attr(node, name, default=None):
    """Attribute by case-insensitive name (clients send ``iso4217currencyCode`` too)."""
    name = name.lower()
    for key, value in node.attrib.items():
        if key.lower() == name:
            return value
    return default


def _round(value):
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _modified(value, what):
    try:
        return datetime.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise invalid(f"Invalid {what} {value!r}: use yyyy-MM-ddTHH:mm:ss") from None


def _key(value, what):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise invalid(f"{what} must be a Netvisor key (a number), not {value!r}") from None


def valid_reference(value):
    """Finnish reference number (7-3-1 check digit, 4-20 digits) or RF creditor reference."""
    ref = re.sub(r"\s", "", value or "").upper()
    if ref.startswith("RF"):
        if not re.fullmatch(r"RF\d{2}[0-9A-Z]{1,21}", ref):
            return False
        moved = ref[4:] + ref[:4]
        digits = "".join(str(int(ch, 36)) for ch in moved)
        return int(digits) % 97 == 1
    if not re.fullmatch(r"\d{4,20}", ref):
        return False
    body, check = ref[:-1], int(ref[-1])
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _text(node, tag, where, required=False):
    sub = node.find(tag)
    if sub is None:
        if required:
            raise invalid(f"Element {where}/{tag} puuttuu (required element missing)")
        return None
    value = (sub.text or "").strip()
    if required and not value:
        raise invalid(f"Element {where}/{tag} ei voi olla tyhjä (required element is empty)")
    limit = MAX_LENGTHS.get(tag)
    if limit and len(value) > limit:
        raise SandboxFault("INVALID_DATA_SIZE",
                           f"Element {where}/{tag} on liian pitkä: {len(value)} merkkiä, enintään {limit} "
                           f"(too long: {len(value)} characters, at most {limit})")
    return value


def _check_children(node, order, required, where):
    check_order(node, order, where)
    seen = set()
    for sub in node:
        if not isinstance(sub.tag, str):
            continue
        if sub.tag in seen and sub.tag not in REPEATABLE:
            raise invalid(f"Element {where}/{sub.tag} appears twice")
        seen.add(sub.tag)
    for tag in required:
        if tag not in seen:
            raise invalid(f"Element {where}/{tag} puuttuu (required element missing)")


# ------------------------------------------------------------------ lookups


def _find(org, collection, id_type, value, code_fields):
    records = org.collections.get(collection) or {}
    if id_type == "netvisor":
        record = records.get(_key(value, f"{collection} key"))
        return None if record is None or record.get("deleted") else record
    for record in records.values():
        if not record.get("deleted") and any(str(record.get(name) or "") == value for name in code_fields):
            return record
    return None


def _payments(org, invoice):
    payments = org.collections.get(PAYMENTS) or {}
    found = []
    for payment in payments.values():
        key = payment.get("invoice_key")
        if key not in (None, ""):
            if int(key) == invoice["netvisor_key"]:
                found.append(payment)
        elif payment.get("invoice_number") and str(payment["invoice_number"]) == str(invoice.get("number")):
            found.append(payment)
    return found


def invoice_status(org, invoice, today=None):
    """(status, substatus, open sum, paid sum) of a stored invoice."""
    amount = Decimal(str(invoice["amount"]))
    paid = sum((Decimal(str(p.get("sum") or 0)) for p in _payments(org, invoice)), Decimal(0))
    open_sum = amount - paid
    status = invoice.get("status") or "open"
    if status not in ("creditloss", "rejected"):
        if amount and abs(amount) - abs(paid) <= 0 and (amount > 0) == (paid > 0):
            status = "paid"
    substatus = None
    today = today or datetime.date.today()
    if status == "open" and invoice.get("due_date") and datetime.date.fromisoformat(invoice["due_date"]) < today:
        substatus = "overdue"
    return status, substatus, open_sum, paid


def _last_change(org, invoice):
    """Latest of the invoice's own modification and its payments' modifications."""
    moments = [datetime.datetime.fromisoformat(invoice["modified"])]
    moments += [datetime.datetime.fromisoformat(p["modified"]) for p in _payments(org, invoice) if p.get("modified")]
    return moments


# ------------------------------------------------------------------ import


def _parse_product_line(org, node, where):
    _check_children(node, PRODUCTLINE_ORDER, PRODUCTLINE_REQUIRED, where)
    ident_node = node.find("productidentifier")
    id_type = _attr(ident_node, "type")
    if id_type not in ("netvisor", "customer", "primaryeancode", "secondaryeancode"):
        raise invalid(f"{where}/productidentifier: type must be netvisor, customer, primaryeancode or "
                      f"secondaryeancode, not {id_type!r}")
    identifier = _text(node, "productidentifier", where, required=True)
    fields = {"customer": ("code", "product_code"), "primaryeancode": ("primary_ean", "primary_ean_code"),
              "secondaryeancode": ("secondary_ean", "secondary_ean_code")}.get(id_type, ())
    product = _find(org, "products", id_type, identifier, fields)
    if product is None:
        raise invalid(f"Tuotetta ei löydy (product not found) with {id_type} identifier: {identifier}")
    name = _text(node, "productname", where, required=True)
    price_node = node.find("productunitprice")
    price_type = _attr(price_node, "type")
    if price_type not in ("net", "gross", "netvisor"):
        raise invalid(f"{where}/productunitprice: type must be net, gross or netvisor, not {price_type!r}")
    if price_type == "netvisor":
        unit_price = dec(str(product.get("unit_price", "0")))
        price_type = product.get("price_type") or "net"
    else:
        unit_price = dec(_text(node, "productunitprice", where, required=True))
    vat_node = node.find("productvatpercentage")
    vat_code = _attr(vat_node, "vatcode")
    if not vat_code:
        raise invalid(f"{where}/productvatpercentage: attribute vatcode is required")
    if vat_code not in VAT_CODES:
        raise invalid(f"{where}/productvatpercentage: unknown VAT code {vat_code}")
    percent = dec(_text(node, "productvatpercentage", where, required=True))
    if percent not in VAT_CODES[vat_code]:
        raise invalid(f"ALV-prosentti {fmt(percent)} ei kelpaa ALV-koodille {vat_code} "
                      f"(VAT percent not allowed for the VAT code)")
    quantity = dec(_text(node, "salesinvoiceproductlinequantity", where, required=True))
    discount_text = _text(node, "salesinvoiceproductlinediscountpercentage", where)
    discount = dec(discount_text) if discount_text else Decimal(0)
    if not Decimal(0) <= discount <= Decimal(100):
        raise invalid(f"{where}: discount percentage must be between 0 and 100")
    factor = Decimal(1) - discount / 100
    rate = percent / 100
    if price_type == "net":
        net_exact = quantity * unit_price * factor
        vat_exact = net_exact * rate
    else:
        gross_exact = quantity * unit_price * factor
        net_exact = gross_exact / (1 + rate)
        vat_exact = gross_exact - net_exact
    vat_text = _text(node, "salesinvoiceproductlinevatsum", where)
    sum_text = _text(node, "salesinvoiceproductlinesum", where)
    if bool(vat_text) != bool(sum_text):
        raise invalid(f"{where}: give both salesinvoiceproductlinevatsum and salesinvoiceproductlinesum, or neither")
    if vat_text:
        vat_sum, line_sum = dec(vat_text), dec(sum_text)
        if vat_sum != _round(vat_sum) or line_sum != _round(line_sum):
            raise invalid(f"{where}: line sums have at most 2 decimals")
        net_sum = line_sum - vat_sum
        tolerance = max(Decimal("0.02"), abs(net_exact) * Decimal("0.0001"))
        if abs(net_sum - net_exact) > tolerance or abs(vat_sum - vat_exact) > tolerance:
            raise invalid(
                f"Rivin summat eivät täsmää (line sums do not agree with price, quantity, discount and VAT): "
                f"{where} gives VAT {fmt(vat_sum)} and sum {fmt(line_sum)}, computed VAT {fmt(vat_exact)} "
                f"and sum {fmt(net_exact + vat_exact)}")
    else:
        line_sum = _round(net_exact + vat_exact)
        vat_sum = _round(vat_exact)
        net_sum = line_sum - vat_sum
    return {
        "type": "product", "netvisor_key": org.next_key(), "product_identifier": identifier,
        "product_identifier_type": id_type, "product_key": product["netvisor_key"], "name": name,
        "unit_price": str(unit_price), "unit_price_type": price_type, "vat_percent": str(percent),
        "vat_code": vat_code, "quantity": str(quantity), "discount": str(discount),
        "free_text": _text(node, "salesinvoiceproductlinefreetext", where) or "",
        "net_sum": str(net_sum), "vat_sum": str(vat_sum), "line_sum": str(line_sum),
        "account": _text(node, "accountingaccountsuggestion", where) or "",
        "unit": _text(node, "productunitname", where) or "",
    }


def _parse_lines(org, node):
    lines = []
    items = [sub for sub in node if isinstance(sub.tag, str)]
    if not items:
        raise invalid("Laskulla ei ole rivejä (invoicelines needs at least one invoiceline)")
    for index, item in enumerate(items, 1):
        where = f"invoiceline[{index}]"
        if item.tag != "invoiceline":
            raise invalid(f"Unknown element invoicelines/{item.tag}")
        kids = [sub for sub in item if isinstance(sub.tag, str)]
        if len(kids) != 1 or kids[0].tag not in ("salesinvoiceproductline", "salesinvoicecommentline"):
            raise invalid(f"{where} must hold one salesinvoiceproductline or salesinvoicecommentline")
        kid = kids[0]
        if kid.tag == "salesinvoicecommentline":
            _check_children(kid, ("comment",), ("comment",), f"{where}/salesinvoicecommentline")
            lines.append({"type": "comment", "netvisor_key": org.next_key(),
                          "comment": _text(kid, "comment", f"{where}/salesinvoicecommentline") or ""})
        else:
            lines.append(_parse_product_line(org, kid, f"{where}/salesinvoiceproductline"))
    if not any(line["type"] == "product" for line in lines):
        raise invalid("Laskulla ei ole tuoterivejä (the invoice has no product line)")
    return lines


def _parse_invoice(request, existing=None):
    org = request.org
    root = request.body
    check_order(root, ("salesinvoice",), "root")
    invoices = [sub for sub in root if isinstance(sub.tag, str)]
    if len(invoices) != 1:
        raise invalid("root must hold exactly one salesinvoice")
    node = invoices[0]
    where = "salesinvoice"
    _check_children(node, SALESINVOICE_ORDER, SALESINVOICE_REQUIRED, where)

    def date_of(tag, required=False):
        value = _text(node, tag, where, required=required)
        if not value:
            return None
        sub = node.find(tag)
        if (_attr(sub, "format") or "ansi").lower() != "ansi":
            raise invalid(f"{where}/{tag}: only format=\"ansi\" dates are supported")
        return ansi_date(value, tag).isoformat()

    invoice_type = _text(node, "invoicetype", where) or "invoice"
    if invoice_type not in ("invoice", "order"):
        raise invalid(f"Invalid invoicetype {invoice_type}")
    status = _text(node, "salesinvoicestatus", where, required=True)
    allowed = ("open", "unsent") if invoice_type == "invoice" else ("delivered", "undelivered")
    if status not in allowed:
        raise invalid(f"Invalid salesinvoicestatus {status!r} for {invoice_type}: use {' or '.join(allowed)}")
    status_type = _attr(node.find("salesinvoicestatus"), "type") or "netvisor"
    if status_type != "netvisor":
        raise invalid("salesinvoicestatus: type must be netvisor")

    number = _text(node, "salesinvoicenumber", where)
    due_date = date_of("salesinvoiceduedate")
    term_text = _text(node, "paymenttermnetdays", where)
    if not due_date and not term_text:
        raise invalid("Eräpäivä puuttuu (give salesinvoiceduedate or paymenttermnetdays)")
    date = date_of("salesinvoicedate", required=True)
    if term_text:
        try:
            term_days = int(term_text)
        except ValueError:
            raise invalid(f"paymenttermnetdays must be a whole number of days, not {term_text!r}") from None
        if term_days < 0:
            raise invalid("paymenttermnetdays cannot be negative")
        if not due_date:
            due_date = (datetime.date.fromisoformat(date) + datetime.timedelta(days=term_days)).isoformat()
    else:
        term_days = None
    if due_date < date:
        raise invalid(f"Eräpäivä {due_date} on ennen laskun päivää {date} (due date before invoice date)")

    reference = _text(node, "salesinvoicereferencenumber", where)
    if reference and not valid_reference(reference):
        raise invalid(f"Viitenumero {reference} on virheellinen (invalid reference number)")

    amount_node = node.find("salesinvoiceamount")
    declared = dec(_text(node, "salesinvoiceamount", where, required=True))
    currency = (_attr(amount_node, "iso4217currencycode") or "EUR").strip().upper()
    if currency not in ISO_4217:
        raise invalid(f"Tuntematon valuutta (unknown currency code) {currency}")
    rate_text = _attr(amount_node, "currencyrate")
    currency_rate = None
    if rate_text:
        currency_rate = dec(rate_text)
        if currency_rate <= 0:
            raise invalid("currencyrate must be positive")
    elif currency != "EUR":
        currency_rate = None  # Netvisor takes the day's rate

    customer_node = node.find("invoicingcustomeridentifier")
    customer_type = _attr(customer_node, "type")
    if customer_type not in ("netvisor", "customer", "organizationunitnumber"):
        raise invalid("invoicingcustomeridentifier: type must be netvisor, customer or organizationunitnumber")
    customer_value = _text(node, "invoicingcustomeridentifier", where, required=True)
    customer = _find(org, "customers", customer_type, customer_value,
                     {"customer": ("code", "customer_code", "internal_identifier"),
                      "organizationunitnumber": ("organization_unit_number", "ovt")}.get(customer_type, ()))
    if customer is None:
        raise invalid(f"Data form incorrect:. Customer not found with Netvisor identifier: {customer_value}")

    country = _text(node, "invoicingcustomercountrycode", where)
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        raise invalid(f"invoicingcustomercountrycode must be an ISO-3166 alpha-2 code, not {country!r}")

    lines = _parse_lines(org, node.find("invoicelines"))
    total = _round(sum((Decimal(line["line_sum"]) for line in lines if line["type"] == "product"), Decimal(0)))
    if declared != _round(declared):
        raise invalid(f"salesinvoiceamount {declared} has more than 2 decimals")
    if declared != total:
        raise invalid(f"Laskun summa {fmt(declared)} ei täsmää rivien summaan {fmt(total)} "
                      f"(salesinvoiceamount does not match the sum of the line sums)")
    if not total:
        raise invalid("Laskun summa on nolla (the invoice total is zero)")

    record = {
        "number": number or (existing or {}).get("number"),
        "date": date,
        "due_date": due_date,
        "event_date": date_of("salesinvoiceeventdate"),
        "value_date": date_of("salesinvoicevaluedate"),
        "delivery_date": date_of("salesinvoicedeliverydate"),
        "amount": str(total),
        "currency": currency,
        "currency_rate": str(currency_rate) if currency_rate is not None else None,
        "customer_key": customer["netvisor_key"],
        "customer_code": customer.get("code") or customer.get("customer_code") or "",
        "customer_name": _text(node, "invoicingcustomername", where) or customer.get("name") or "",
        "customer_business_id": customer.get("business_id") or customer.get("organisation_identifier") or "",
        "customer_address": {
            "name_extension": _text(node, "invoicingcustomernameextension", where) or "",
            "street": _text(node, "invoicingcustomeraddressline", where) or "",
            "street2": _text(node, "invoicingcustomeradditionaladdressline", where) or "",
            "zip": _text(node, "invoicingcustomerpostnumber", where) or "",
            "city": _text(node, "invoicingcustomertown", where) or "",
            "country": country or "",
        },
        "reference": re.sub(r"\s", "", reference) if reference else None,
        "status": status,
        "invoice_type": invoice_type,
        "payment_term_days": term_days,
        "our_reference": _text(node, "salesinvoiceourreference", where) or "",
        "your_reference": _text(node, "salesinvoiceyourreference", where) or "",
        "private_comment": _text(node, "salesinvoiceprivatecomment", where) or "",
        "free_text_before": _text(node, "salesinvoicefreetextbeforelines", where) or "",
        "free_text_after": _text(node, "salesinvoicefreetextafterlines", where) or "",
        "lines": lines,
        "modified": _now(request).isoformat(),
    }
    return record


def _next_number(org):
    numbers = [int(r["number"]) for r in (org.collections.get(COLLECTION) or {}).values()
               if str(r.get("number") or "").isdigit()]
    return str(max(numbers, default=0) + 1)


def _reference_for(number):
    """A Finnish reference number built from the invoice number (Netvisor's default)."""
    body = re.sub(r"\D", "", str(number)) or "1"
    body = ("10" + body)[-19:]
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


@resource("salesinvoice.nv", "POST")
def sales_invoice_import(request):
    org = request.org
    method = (request.param("method") or "").lower()
    collection = org.collections[COLLECTION]
    if method == "add":
        record = _parse_invoice(request)
        if not record["number"]:
            record["number"] = _next_number(org)
        if not record["reference"]:
            record["reference"] = _reference_for(record["number"])
        stored = org.add(COLLECTION, record)
        return wrap("Replies", el("InsertedDataIdentifier", stored["netvisor_key"]))
    if method == "edit":
        if request.param("id") in (None, ""):
            raise invalid("Parameter id is required with method=edit")
        key = _key(request.param("id"), "id")
        existing = collection.get(key)
        if existing is None:
            raise invalid(f"Myyntilaskua ei löydy (sales invoice not found) with Netvisor key {key}")
        record = _parse_invoice(request, existing)
        if not record["reference"]:
            record["reference"] = existing.get("reference") or _reference_for(record["number"])
        record["credited_invoice_key"] = existing.get("credited_invoice_key")
        record["voucher_key"] = existing.get("voucher_key")
        record["edit_count"] = existing.get("edit_count", 0) + 1
        org.add(COLLECTION, record, key=key)
        return ""
    raise invalid("Parameter method must be add or edit")


# ------------------------------------------------------------------ credit note matching


@resource("matchcreditnote.nv", "POST")
def match_credit_note(request):
    org = request.org
    root = request.body
    check_order(root, ("matchcreditnote",), "root")
    nodes = [sub for sub in root if isinstance(sub.tag, str)]
    if len(nodes) != 1:
        raise invalid("root must hold exactly one matchcreditnote")
    node = nodes[0]
    _check_children(node, ("creditnotenetvisorkey", "invoicenetvisorkey"),
                    ("creditnotenetvisorkey", "invoicenetvisorkey"), "matchcreditnote")
    credit_key = _key(_text(node, "creditnotenetvisorkey", "matchcreditnote", required=True),
                      "creditnotenetvisorkey")
    invoice_key = _key(_text(node, "invoicenetvisorkey", "matchcreditnote", required=True), "invoicenetvisorkey")
    collection = org.collections[COLLECTION]
    credit, invoice = collection.get(credit_key), collection.get(invoice_key)
    if credit is None:
        raise invalid(f"Hyvityslaskua ei löydy (credit note not found) with Netvisor key {credit_key}")
    if invoice is None:
        raise invalid(f"Laskua ei löydy (invoice not found) with Netvisor key {invoice_key}")
    if Decimal(credit["amount"]) >= 0:
        raise invalid(f"Lasku {credit_key} ei ole hyvityslasku (not a credit note: its total is not negative)")
    if Decimal(invoice["amount"]) <= 0:
        raise invalid(f"Lasku {invoice_key} on hyvityslasku (the invoice to credit has a negative total)")
    if credit["customer_key"] != invoice["customer_key"]:
        raise invalid("Hyvityslaskulla ja laskulla on eri asiakas (credit note and invoice have different customers)")
    if credit.get("credited_invoice_key") not in (None, invoice_key):
        raise invalid(f"Hyvityslasku {credit_key} on jo täsmätty laskuun {credit['credited_invoice_key']} "
                      f"(already matched to another invoice)")
    credit["credited_invoice_key"] = invoice_key
    moment = _now(request).isoformat()
    credit["modified"] = moment
    invoice["modified"] = moment
    return ""


# ------------------------------------------------------------------ reading


def _list_item(request, rec):
    status, substatus, open_sum, _paid = invoice_status(request.org, rec)
    key = rec["netvisor_key"]
    return wrap(
        "SalesInvoice",
        el("NetvisorKey", key),
        el("InvoiceNumber", rec.get("number")),
        el("Invoicedate", rec["date"], format="ansi"),
        el("InvoiceDueDate", rec.get("due_date"), format="ansi"),
        el("InvoiceStatus", status, substatus=substatus),
        el("CustomerNetvisorKey", rec.get("customer_key")),
        el("CustomerCode", rec.get("customer_code")),
        el("CustomerName", rec.get("customer_name")),
        el("ReferenceNumber", rec.get("reference")),
        el("InvoiceSum", fmt(Decimal(rec["amount"]))),
        el("OpenSum", fmt(open_sum)),
        el("Uri", f"{request.server.base_url}getsalesinvoice.nv?netvisorkey={key}"),
    )


@resource("salesinvoicelist.nv", "GET")
def sales_invoice_list(request):
    params = request.params
    org = request.org
    list_type = params.get("listtype", "")
    if list_type not in ("", "preinvoice", "draftandinvoice"):
        raise invalid(f"Invalid listtype {list_type}")
    begin = ansi_date(params["begininvoicedate"], "begininvoicedate") if params.get("begininvoicedate") else None
    end = ansi_date(params["endinvoicedate"], "endinvoicedate") if params.get("endinvoicedate") else None
    mod_start = _modified(params["lastmodifiedstart"], "lastmodifiedstart") if params.get("lastmodifiedstart") else None
    mod_end = _modified(params["lastmodifiedend"], "lastmodifiedend") if params.get("lastmodifiedend") else None
    with_payments = params.get("includemodifiedpayments", "") not in ("", "0")
    if with_payments and not (mod_start and mod_end):
        raise invalid("includemodifiedpayments needs lastmodifiedstart and lastmodifiedend")
    status_filter = params.get("invoicestatus")
    if status_filter and status_filter.lower() not in LIST_STATUSES:
        raise invalid(f"Invalid invoicestatus {status_filter}")
    status_filter = status_filter.lower() if status_filter else None
    above = _key(params["invoicesabovenetvisorkey"], "invoicesabovenetvisorkey") \
        if params.get("invoicesabovenetvisorkey") else None
    number = params.get("invoicenumber")
    customer_code = params.get("customercode")
    customer_key = params.get("customernetvisorkey")
    wanted_type = "order" if list_type == "preinvoice" else "invoice"
    today = datetime.date.today()
    items = []
    collection = org.collections.get(COLLECTION) or {}
    for key in sorted(collection):
        rec = collection[key]
        if rec.get("invoice_type", "invoice") != wanted_type:
            continue
        if above is not None and key <= above:
            continue
        date = datetime.date.fromisoformat(rec["date"])
        if begin and date < begin or end and date > end:
            continue
        if number and str(rec.get("number")) != number:
            continue
        if customer_code and rec.get("customer_code") != customer_code:
            continue
        if customer_key and str(rec.get("customer_key")) != customer_key:
            continue
        if mod_start or mod_end:
            moments = _last_change(org, rec) if with_payments else [datetime.datetime.fromisoformat(rec["modified"])]
            if not any((not mod_start or m >= mod_start) and (not mod_end or m <= mod_end) for m in moments):
                continue
        if status_filter:
            status, substatus, _open, _paid = invoice_status(org, rec, today)
            if status_filter == "overdue":
                if substatus != "overdue":
                    continue
            elif status != status_filter:
                continue
        items.append(_list_item(request, rec))
    return wrap("SalesInvoiceList", *items)


def _detail(request, rec, show_comments, reply_option):
    org = request.org
    status, substatus, open_sum, _paid = invoice_status(org, rec)
    texts = STATUS_TEXT.get(request.language, STATUS_TEXT["EN"])
    lines = []
    for line in rec.get("lines", []):
        if line.get("type") == "comment":
            if show_comments:
                lines.append(wrap("SalesInvoiceCommentLine", el("Comment", line.get("comment"))))
            continue
        lines.append(wrap(
            "SalesInvoiceProductLine",
            el("NetvisorKey", line["netvisor_key"]),
            el("ProductIdentifier", line.get("product_identifier"), type=line.get("product_identifier_type")),
            el("ProductName", line.get("name")),
            el("ProductNetvisorKey", line.get("product_key")),
            el("ProductUnitPrice", fmt(Decimal(line.get("unit_price") or 0), 4), type=line.get("unit_price_type")),
            el("ProductVatPercentage", fmt(Decimal(line.get("vat_percent") or 0)), vatcode=line.get("vat_code")),
            el("SalesInvoiceProductLineQuantity", fmt(Decimal(line.get("quantity") or 0), 2)),
            el("SalesInvoiceProductLineDiscountPercentage", fmt(Decimal(line.get("discount") or 0))),
            el("SalesInvoiceProductLineFreeText", line.get("free_text")),
            el("SalesInvoiceProductLineVatSum", fmt(Decimal(line.get("vat_sum") or 0))),
            el("SalesInvoiceProductLineSum", fmt(Decimal(line.get("line_sum") or 0))),
            el("AccountingAccountSuggestion", line.get("account")),
        ))
    address = rec.get("customer_address") or {}
    credited = ""
    if reply_option & 16 and rec.get("credited_invoice_key"):
        credited = el("CreditedInvoiceNetvisorKey", rec["credited_invoice_key"])
    return wrap(
        "SalesInvoice",
        el("SalesInvoiceNetvisorKey", rec["netvisor_key"]),
        el("SalesInvoiceNumber", rec.get("number")),
        el("SalesInvoiceDate", rec["date"], format="ansi"),
        el("SalesInvoiceEventDate", rec.get("event_date"), format="ansi") if rec.get("event_date") else "",
        el("SalesInvoiceDueDate", rec.get("due_date"), format="ansi"),
        el("SalesInvoiceValueDate", rec.get("value_date"), format="ansi") if rec.get("value_date") else "",
        el("SalesInvoiceDeliveryDate", rec.get("delivery_date") or rec["date"], format="ansi"),
        el("SalesInvoiceReferencenumber", rec.get("reference")),
        el("SalesInvoiceAmount", fmt(Decimal(rec["amount"]), comma=False),
           iso4217currencycode=rec.get("currency", "EUR"), currencyrate=rec.get("currency_rate") or "1"),
        el("InvoiceStatus", texts.get(status, status), status=status, substatus=substatus),
        el("OpenSum", fmt(open_sum)),
        el("InvoiceVoucher", None, netvisorkey=rec.get("voucher_key")) if rec.get("voucher_key") else "",
        el("SalesInvoiceFreeTextBeforeLines", rec.get("free_text_before")),
        el("SalesInvoiceFreeTextAfterLines", rec.get("free_text_after")),
        el("SalesInvoiceOurReference", rec.get("our_reference")),
        el("SalesInvoiceYourReference", rec.get("your_reference")),
        el("SalesInvoicePrivateComment", rec.get("private_comment")),
        el("InvoicingCustomerNetvisorKey", rec.get("customer_key")),
        el("InvoicingCustomerCode", rec.get("customer_code")),
        el("InvoicingCustomerOrganizationIdentifier", rec.get("customer_business_id")),
        el("InvoicingCustomerName", rec.get("customer_name")),
        el("InvoicingCustomerNameExtension", address.get("name_extension")),
        el("InvoicingCustomerAddressline", address.get("street")),
        el("InvoicingCustomerAdditionalAddressline", address.get("street2")),
        el("InvoicingCustomerPostnumber", address.get("zip")),
        el("InvoicingCustomerTown", address.get("city")),
        el("InvoicingCustomerCountryCode", address.get("country"), type="ISO-3166"),
        el("MatchPartialPaymentsByDefault", "No"),
        el("PaymentTermNetDays", rec.get("payment_term_days")) if rec.get("payment_term_days") is not None else "",
        credited,
        wrap("InvoiceLines", wrap("InvoiceLine", *lines)),
    )


@resource("getsalesinvoice.nv", "GET")
def get_sales_invoice(request):
    params = request.params
    collection = request.org.collections.get(COLLECTION) or {}
    show_comments = params.get("showcommentlines", "") not in ("", "0", "false")
    try:
        reply_option = int(params.get("replyoption") or 0)
    except ValueError:
        raise invalid("replyoption must be a number") from None
    if "netvisorkeylist" in params:
        raw = [k for k in params["netvisorkeylist"].split(",") if k.strip()]
        if len(raw) > MAX_KEYS:
            raise SandboxFault("INVALID_DATA_SIZE", f"netvisorkeylist has {len(raw)} keys, at most {MAX_KEYS}")
        keys = [_key(k, "netvisorkeylist") for k in raw]
        found = [_detail(request, collection[k], show_comments, reply_option) for k in keys if k in collection]
        return wrap("SalesInvoices", *found)
    if not params.get("netvisorkey"):
        raise invalid("Parameter netvisorkey or netvisorkeylist is required")
    key = _key(params["netvisorkey"], "netvisorkey")
    if key not in collection:
        return "<SalesInvoice />"
    return _detail(request, collection[key], show_comments, reply_option)
