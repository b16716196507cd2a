"""Sales invoices Odoo -> Netvisor (API.md 5.2) and their status (5.3).

``build_sales_invoice`` writes the ``salesinvoice.nv`` document in the element order
of Netvisor's DTD; ``add_sales_invoice`` / ``edit_sales_invoice`` post it;
``list_sales_invoices`` / ``get_sales_invoices`` read invoices back;
``match_credit_note`` links a credit note to the invoice it credits.

Netvisor rounds every line sum and the total to 2 decimals (API.md 4): callers
give each product line its VAT sum and gross line sum (``vat_sum``, ``line_sum``) so
that the total Netvisor computes is the one the caller booked, and the declared
total must be the sum of the line sums: ``build_sales_invoice`` refuses anything else.
"""

import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from lxml import etree

from .. import xmlutil
from ..xmlutil import E

# Text limits in characters. Netvisor publishes customer name 250, street 80, product
# code 50 and product name 200 (API.md 5.4, 5.5); the others are conservative choices.
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
    "productidentifier": 50,
    "productname": 200,
    "salesinvoiceproductlinefreetext": 500,
    "productunitname": 50,
    "comment": 500,
}

ISO_4217 = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD
CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ
GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR
LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB
TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
""".split())

PRODUCT_IDENTIFIER_TYPES = ("netvisor", "customer", "primaryeancode", "secondaryeancode")
CUSTOMER_IDENTIFIER_TYPES = ("netvisor", "customer", "organizationunitnumber")
MAX_KEYS = 500  # getsalesinvoice.nv netvisorkeylist


class SalesInvoiceDataError(ValueError):
    """The invoice cannot be written as Netvisor would accept it. ``element`` names the
    Netvisor element; ``line`` is the 1-based line number or None."""

    def __init__(self, message, element=None, line=None):
        super().__init__(message)
        self.element = element
        self.line = line


@dataclass
class ProductLine:
    product_identifier: str
    name: str
    unit_price: Decimal
    vat_percent: Decimal
    vat_code: str
    quantity: Decimal
    vat_sum: Decimal  # VAT of the line, 2 decimals
    line_sum: Decimal  # gross sum of the line (net + VAT), 2 decimals
    product_identifier_type: str = "customer"
    unit_price_type: str = "net"  # net | gross
    discount: Decimal = Decimal(0)
    free_text: str = ""
    account: str = ""
    unit_name: str = ""


@dataclass
class CommentLine:
    comment: str


@dataclass
class SalesInvoice:
    date: object  # datetime.date
    amount: Decimal  # gross total, negative for a credit note
    customer_identifier: str
    lines: list
    customer_identifier_type: str = "netvisor"
    number: str = None
    due_date: object = None
    payment_term_days: int = None
    delivery_date: object = None
    reference: str = None
    currency: str = None
    currency_rate: Decimal = None
    status: str = "open"  # open | unsent
    our_reference: str = ""
    your_reference: str = ""
    private_comment: str = ""
    free_text_before: str = ""
    free_text_after: str = ""
    customer_name: str = ""
    customer_name_extension: str = ""
    customer_address: str = ""
    customer_additional_address: str = ""
    customer_post_number: str = ""
    customer_town: str = ""
    customer_country: str = ""
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------ checks


def normalize_reference(value):
    return re.sub(r"\s", "", value or "").upper()


def is_valid_reference(value):
    """A Finnish reference number (4-20 digits, 7-3-1 check digit) or an RF creditor
    reference (ISO 11649). Netvisor refuses any other ``salesinvoicereferencenumber``."""
    ref = normalize_reference(value)
    if ref.startswith("RF"):
        if not re.fullmatch(r"RF\d{2}[0-9A-Z]{1,21}", ref):
            return False
        rearranged = ref[4:] + ref[:4]
        return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1
    if not re.fullmatch(r"\d{4,20}", ref):
        return False
    weights = (7, 3, 1)
    total = sum(int(digit) * weights[i % 3] for i, digit in enumerate(reversed(ref[:-1])))
    return (10 - total % 10) % 10 == int(ref[-1])


def _texts(invoice):
    """(element, line number or None, value) of every length-limited text."""
    yield "salesinvoicenumber", None, invoice.number
    yield "salesinvoicereferencenumber", None, invoice.reference
    yield "salesinvoiceourreference", None, invoice.our_reference
    yield "salesinvoiceyourreference", None, invoice.your_reference
    yield "salesinvoiceprivatecomment", None, invoice.private_comment
    yield "salesinvoicefreetextbeforelines", None, invoice.free_text_before
    yield "salesinvoicefreetextafterlines", None, invoice.free_text_after
    yield "invoicingcustomeridentifier", None, invoice.customer_identifier
    yield "invoicingcustomername", None, invoice.customer_name
    yield "invoicingcustomernameextension", None, invoice.customer_name_extension
    yield "invoicingcustomeraddressline", None, invoice.customer_address
    yield "invoicingcustomeradditionaladdressline", None, invoice.customer_additional_address
    yield "invoicingcustomerpostnumber", None, invoice.customer_post_number
    yield "invoicingcustomertown", None, invoice.customer_town
    for index, line in enumerate(invoice.lines, 1):
        if isinstance(line, CommentLine):
            yield "comment", index, line.comment
        else:
            yield "productidentifier", index, line.product_identifier
            yield "productname", index, line.name
            yield "salesinvoiceproductlinefreetext", index, line.free_text
            yield "productunitname", index, line.unit_name


def length_problems(invoice):
    """[(element, line number or None, length, limit)] of the texts over Netvisor's limits."""
    problems = []
    for element, line, value in _texts(invoice):
        value = xmlutil.clean_text(value or "").strip()
        limit = MAX_LENGTHS[element]
        if len(value) > limit:
            problems.append((element, line, len(value), limit))
    return problems


def check_sales_invoice(invoice):
    """Raise SalesInvoiceDataError for what Netvisor would refuse."""
    problems = length_problems(invoice)
    if problems:
        element, line, length, limit = problems[0]
        where = f"line {line} " if line else ""
        raise SalesInvoiceDataError(f"{where}{element} has {length} characters, Netvisor accepts {limit}",
                                    element=element, line=line)
    if not invoice.customer_identifier:
        raise SalesInvoiceDataError("the customer identifier is missing", element="invoicingcustomeridentifier")
    if invoice.customer_identifier_type not in CUSTOMER_IDENTIFIER_TYPES:
        raise SalesInvoiceDataError(f"unknown customer identifier type {invoice.customer_identifier_type}",
                                    element="invoicingcustomeridentifier")
    if invoice.due_date is None and invoice.payment_term_days is None:
        raise SalesInvoiceDataError("a due date or payment term days is required", element="salesinvoiceduedate")
    if invoice.currency and invoice.currency.upper() not in ISO_4217:
        raise SalesInvoiceDataError(f"{invoice.currency} is not an ISO 4217 currency code",
                                    element="salesinvoiceamount")
    if invoice.reference and not is_valid_reference(invoice.reference):
        raise SalesInvoiceDataError(f"{invoice.reference} is not a valid reference number",
                                    element="salesinvoicereferencenumber")
    products = [line for line in invoice.lines if isinstance(line, ProductLine)]
    if not products:
        raise SalesInvoiceDataError("the invoice has no product line", element="invoicelines")
    for index, line in enumerate(invoice.lines, 1):
        if isinstance(line, CommentLine):
            continue
        if not line.product_identifier:
            raise SalesInvoiceDataError(f"line {index} has no product", element="productidentifier", line=index)
        if line.product_identifier_type not in PRODUCT_IDENTIFIER_TYPES:
            raise SalesInvoiceDataError(f"line {index}: unknown product identifier type",
                                        element="productidentifier", line=index)
        if not (line.name or "").strip():
            raise SalesInvoiceDataError(f"line {index} has no name", element="productname", line=index)
        for name in ("vat_sum", "line_sum"):
            value = xmlutil.to_decimal(getattr(line, name))
            if value != value.quantize(xmlutil.TWO):
                raise SalesInvoiceDataError(f"line {index}: {name} must have at most 2 decimals", line=index)
    total = sum((xmlutil.to_decimal(line.line_sum) for line in products), Decimal(0))
    amount = xmlutil.to_decimal(invoice.amount)
    if total != amount:
        raise SalesInvoiceDataError(f"the total {amount} is not the sum of the line sums {total}",
                                    element="salesinvoiceamount")
    if not amount:
        raise SalesInvoiceDataError("the invoice total is zero", element="salesinvoiceamount")


# ------------------------------------------------------------------ writing


def _text(value):
    value = xmlutil.clean_text(value)
    value = value.strip() if value else value
    return value or None


def _el(tag, value, **attrs):
    value = _text(value)
    return E(tag, value, **attrs) if value is not None else None


def _product_line(line):
    return E(
        "invoiceline", None,
        E("salesinvoiceproductline", None,
          E("productidentifier", _text(line.product_identifier), type=line.product_identifier_type),
          E("productname", _text(line.name)),
          E("productunitprice", xmlutil.format_quantity(line.unit_price), type=line.unit_price_type),
          E("productvatpercentage", xmlutil.format_quantity(line.vat_percent, 2), vatcode=line.vat_code),
          E("salesinvoiceproductlinequantity", xmlutil.format_quantity(line.quantity)),
          E("salesinvoiceproductlinediscountpercentage", xmlutil.format_quantity(line.discount, 2))
          if line.discount else None,
          _el("salesinvoiceproductlinefreetext", line.free_text),
          E("salesinvoiceproductlinevatsum", xmlutil.format_decimal(line.vat_sum)),
          E("salesinvoiceproductlinesum", xmlutil.format_decimal(line.line_sum)),
          _el("accountingaccountsuggestion", line.account),
          _el("productunitname", line.unit_name)),
    )


def _comment_line(line):
    return E("invoiceline", None, E("salesinvoicecommentline", None, E("comment", _text(line.comment) or "-")))


def build_sales_invoice(invoice):
    """The ``salesinvoice.nv`` request document (lxml root) of a SalesInvoice."""
    check_sales_invoice(invoice)
    date = xmlutil.format_date
    currency = (invoice.currency or "").upper() or None
    return E(
        "root", None,
        E("salesinvoice", None,
          _el("salesinvoicenumber", invoice.number),
          E("salesinvoicedate", date(invoice.date), format="ansi"),
          E("salesinvoiceduedate", date(invoice.due_date), format="ansi") if invoice.due_date else None,
          E("salesinvoicedeliverydate", date(invoice.delivery_date), format="ansi") if invoice.delivery_date
          else None,
          _el("salesinvoicereferencenumber", normalize_reference(invoice.reference) if invoice.reference else None),
          E("salesinvoiceamount", xmlutil.format_decimal(invoice.amount), iso4217currencycode=currency,
            currencyrate=xmlutil.format_quantity(invoice.currency_rate) if invoice.currency_rate else None),
          E("invoicetype", "invoice"),
          E("salesinvoicestatus", invoice.status or "open", type="netvisor"),
          _el("salesinvoicefreetextbeforelines", invoice.free_text_before),
          _el("salesinvoicefreetextafterlines", invoice.free_text_after),
          _el("salesinvoiceourreference", invoice.our_reference),
          _el("salesinvoiceyourreference", invoice.your_reference),
          _el("salesinvoiceprivatecomment", invoice.private_comment),
          E("invoicingcustomeridentifier", _text(invoice.customer_identifier), type=invoice.customer_identifier_type),
          _el("invoicingcustomername", invoice.customer_name),
          _el("invoicingcustomernameextension", invoice.customer_name_extension),
          _el("invoicingcustomeraddressline", invoice.customer_address),
          _el("invoicingcustomeradditionaladdressline", invoice.customer_additional_address),
          _el("invoicingcustomerpostnumber", invoice.customer_post_number),
          _el("invoicingcustomertown", invoice.customer_town),
          _el("invoicingcustomercountrycode", (invoice.customer_country or "").upper(), type="ISO-3166"),
          E("paymenttermnetdays", str(int(invoice.payment_term_days)))
          if invoice.payment_term_days is not None and not invoice.due_date else None,
          E("invoicelines", None, [
              _comment_line(line) if isinstance(line, CommentLine) else _product_line(line)
              for line in invoice.lines
          ])),
    )


def build_match_credit_note(credit_note_key, invoice_key):
    return E("root", None, E("matchcreditnote", None,
                             E("creditnotenetvisorkey", str(credit_note_key)),
                             E("invoicenetvisorkey", str(invoice_key))))


def load_request_dtd(path, relax_attributes=("vatcode",)):
    """An ``lxml.etree.DTD`` from one of Netvisor's ``<!DOCTYPE root [...]>`` files, for
    offline checks. Enumerated attributes named in ``relax_attributes`` become CDATA:
    the DTDs' vatcode lists are older than the code list (API.md 5.8)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    start, end = text.index("["), text.rindex("]")
    subset = text[start + 1:end]
    for name in relax_attributes:
        subset = re.sub(r"(\b%s\s+)\([^)]*\)" % re.escape(name), r"\1CDATA", subset)
    return etree.DTD(io.StringIO(subset))


# ------------------------------------------------------------------ calls


def add_sales_invoice(client, root):
    """POST ``salesinvoice.nv?method=add``; returns the new invoice's Netvisor key."""
    envelope = client.post("salesinvoice.nv", root, {"method": "add"})
    key = envelope.inserted_identifier()
    if not key:
        from ..errors import NetvisorBadResponseError

        raise NetvisorBadResponseError("salesinvoice.nv answered OK without InsertedDataIdentifier",
                                       resource="salesinvoice.nv")
    return key


def edit_sales_invoice(client, key, root):
    """POST ``salesinvoice.nv?method=edit&id=key`` (the whole invoice again)."""
    client.post("salesinvoice.nv", root, {"method": "edit", "id": str(key)})
    return str(key)


def match_credit_note(client, credit_note_key, invoice_key):
    client.post("matchcreditnote.nv", build_match_credit_note(credit_note_key, invoice_key))


# ------------------------------------------------------------------ reading


@dataclass
class SalesInvoiceSummary:
    netvisor_key: str
    number: str
    date: object
    due_date: object
    status: str  # open | paid | unsent | creditloss ...
    substatus: str
    customer_key: str
    customer_code: str
    customer_name: str
    reference: str
    amount: Decimal
    open_amount: Decimal


def parse_sales_invoice_list(root):
    items = []
    for node in xmlutil.children(xmlutil.child(root, "SalesInvoiceList"), "SalesInvoice"):
        status_node = xmlutil.child(node, "InvoiceStatus")
        items.append(SalesInvoiceSummary(
            netvisor_key=xmlutil.text(node, "NetvisorKey"),
            number=xmlutil.text(node, "InvoiceNumber"),
            date=xmlutil.parse_date(xmlutil.text(node, "InvoiceDate")),
            due_date=xmlutil.parse_date(xmlutil.text(node, "InvoiceDueDate")),
            status=xmlutil.text(status_node).lower(),
            substatus=(status_node.get("substatus") or "").lower() if status_node is not None else "",
            customer_key=xmlutil.text(node, "CustomerNetvisorKey"),
            customer_code=xmlutil.text(node, "CustomerCode"),
            customer_name=xmlutil.text(node, "CustomerName"),
            reference=xmlutil.text(node, "ReferenceNumber"),
            amount=xmlutil.parse_decimal(xmlutil.text(node, "InvoiceSum"), Decimal(0)),
            open_amount=xmlutil.parse_decimal(xmlutil.text(node, "OpenSum"), Decimal(0)),
        ))
    return items


def list_sales_invoices(client, invoice_number=None, begin_date=None, end_date=None, modified_start=None,
                        modified_end=None, include_modified_payments=False, invoice_status=None,
                        above_key=None, customer_code=None):
    """``salesinvoicelist.nv`` with its filters; returns SalesInvoiceSummary items."""
    if include_modified_payments and not (modified_start and modified_end):
        raise ValueError("include_modified_payments needs modified_start and modified_end")
    params = {
        "invoicenumber": invoice_number,
        "begininvoicedate": begin_date and xmlutil.format_date(begin_date),
        "endinvoicedate": end_date and xmlutil.format_date(end_date),
        "lastmodifiedstart": modified_start and xmlutil.format_datetime(modified_start),
        "lastmodifiedend": modified_end and xmlutil.format_datetime(modified_end),
        "includemodifiedpayments": "1" if include_modified_payments else None,
        "invoicestatus": invoice_status,
        "invoicesabovenetvisorkey": above_key,
        "customercode": customer_code,
    }
    return parse_sales_invoice_list(client.get("salesinvoicelist.nv", params).root)


@dataclass
class SalesInvoiceDetail:
    netvisor_key: str
    number: str
    date: object
    due_date: object
    reference: str
    amount: Decimal
    currency: str
    status: str
    customer_key: str
    customer_code: str
    customer_name: str
    lines: list  # dicts: name, product_code, quantity, unit_price, vat_percent, vat_code, vat_sum, line_sum


def _parse_detail(node):
    status_node = xmlutil.child(node, "InvoiceStatus")
    amount_node = xmlutil.child(node, "SalesInvoiceAmount")
    lines = []
    for wrapper in xmlutil.children(xmlutil.child(node, "InvoiceLines"), "InvoiceLine"):
        for line in xmlutil.children(wrapper, "SalesInvoiceProductLine"):
            vat_node = xmlutil.child(line, "ProductVatPercentage")
            lines.append({
                "netvisor_key": xmlutil.text(line, "NetvisorKey"),
                "product_code": xmlutil.text(line, "ProductIdentifier"),
                "name": xmlutil.text(line, "ProductName"),
                "unit_price": xmlutil.parse_decimal(xmlutil.text(line, "ProductUnitPrice"), Decimal(0)),
                "vat_percent": xmlutil.parse_decimal(xmlutil.text(vat_node), Decimal(0)),
                "vat_code": vat_node.get("vatcode", "") if vat_node is not None else "",
                "quantity": xmlutil.parse_decimal(xmlutil.text(line, "SalesInvoiceProductLineQuantity"), Decimal(0)),
                "vat_sum": xmlutil.parse_decimal(xmlutil.text(line, "SalesInvoiceProductLineVatSum"), Decimal(0)),
                "line_sum": xmlutil.parse_decimal(xmlutil.text(line, "SalesInvoiceProductLineSum"), Decimal(0)),
            })
    return SalesInvoiceDetail(
        netvisor_key=xmlutil.text(node, "SalesInvoiceNetvisorKey"),
        number=xmlutil.text(node, "SalesInvoiceNumber"),
        date=xmlutil.parse_date(xmlutil.text(node, "SalesInvoiceDate")),
        due_date=xmlutil.parse_date(xmlutil.text(node, "SalesInvoiceDueDate")),
        reference=xmlutil.text(node, "SalesInvoiceReferencenumber"),
        amount=xmlutil.parse_decimal(xmlutil.text(amount_node), Decimal(0)),
        currency=amount_node.get("iso4217currencycode", "") if amount_node is not None else "",
        # the machine value is the attribute; the text is localized (API.md 5.3)
        status=(status_node.get("status") or xmlutil.text(status_node)).lower() if status_node is not None else "",
        customer_key=xmlutil.text(node, "InvoicingCustomerNetvisorKey"),
        customer_code=xmlutil.text(node, "InvoicingCustomerCode"),
        customer_name=xmlutil.text(node, "InvoicingCustomerName"),
        lines=lines,
    )


def get_sales_invoices(client, keys):
    """``getsalesinvoice.nv`` for the given keys, in chunks of 500; unknown keys are skipped."""
    keys = [str(k) for k in keys]
    found = []
    for start in range(0, len(keys), MAX_KEYS):
        chunk = keys[start:start + MAX_KEYS]
        root = client.get("getsalesinvoice.nv", {"netvisorkeylist": ",".join(chunk)}).root
        for node in xmlutil.children(xmlutil.child(root, "SalesInvoices"), "SalesInvoice"):
            if len(node):
                found.append(_parse_detail(node))
    return found


def get_sales_invoice(client, key):
    """One invoice, or None when Netvisor does not know the key."""
    node = xmlutil.child(client.get("getsalesinvoice.nv", {"netvisorkey": str(key)}).root, "SalesInvoice")
    if node is None or not len(node):
        return None
    return _parse_detail(node)
