"""Purchase invoices Odoo -> Netvisor: ``POST purchaseinvoice.nv`` (API.md 5.6, ``purchaseinvoice.dtd``).

Used for expense reports: the employee is the vendor, one line per expense. Netvisor
bills every imported purchase invoice like a received e-invoice. Attachments must be PDF
and are only accepted with ``invoicesource`` = ``finvoice`` (Netvisor then processes the
invoice about a minute later), so the builder sets that source whenever there are
attachments. Line sums are gross (``linesum type="brutto"``); the total ``amount`` is the
sum of the lines. The DTD gives purchase lines a VAT percent only (no VAT code attribute).
"""

import base64
from dataclasses import dataclass, field
from decimal import Decimal

from .. import xmlutil
from ..errors import NetvisorOutcomeUnknownError
from ..xmlutil import E
from .purchase_invoices import list_purchase_invoices

RESOURCE = "purchaseinvoice.nv"
CENT = Decimal("0.01")
DOCUMENT_TYPES = ("invoiceimage", "otherattachment")
PDF_MIMETYPE = "application/pdf"


class PurchaseInvoiceError(ValueError):
    """The purchase invoice cannot be sent as it is (nothing was sent)."""


@dataclass
class Vendor:
    code: str  # stable vendor code (matching key, primaryvendormatchtype=code)
    name: str
    address: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""  # ISO 3166 alpha-2
    phone: str = ""
    email: str = ""
    bank_account: str = ""  # IBAN the invoice is paid to (accountnumber)
    business_id: str = ""  # organizationidentifier


@dataclass
class PurchaseInvoiceLine:
    name: str  # productname
    gross_amount: Decimal  # linesum type="brutto" (VAT included)
    vat_percent: Decimal = Decimal(0)
    quantity: Decimal = Decimal(1)
    unit_price: Decimal = None  # net unit price; default: net amount / quantity
    description: str = ""
    product_code: str = ""
    unit: str = ""
    account: str = ""  # accountingsuggestion (account number)
    dimensions: list = field(default_factory=list)  # [(dimension name, dimension item)]


@dataclass
class PurchaseInvoiceAttachment:
    filename: str
    content: bytes
    mimetype: str = PDF_MIMETYPE
    description: str = ""
    document_type: str = "otherattachment"  # invoiceimage | otherattachment


@dataclass
class PurchaseInvoiceImport:
    number: str
    date: object  # datetime.date
    due_date: object
    vendor: Vendor
    lines: list
    value_date: object = None  # default: the invoice date (Netvisor needs it in practice)
    event_date: object = None
    amount: Decimal = None  # default: sum of the line sums; when given it must equal it
    currency: str = ""
    bank_reference: str = ""
    our_reference: str = ""
    your_reference: str = ""
    comment: str = ""
    attachments: list = field(default_factory=list)
    source: str = None  # manual | finvoice; default finvoice with attachments, else manual


def quantize(value):
    return xmlutil.to_decimal(value).quantize(CENT)


def net_amount(line):
    percent = xmlutil.to_decimal(line.vat_percent or 0)
    return quantize(xmlutil.to_decimal(line.gross_amount) * 100 / (100 + percent))


def invoice_amount(invoice):
    return sum((quantize(line.gross_amount) for line in invoice.lines), Decimal("0.00"))


def check_purchase_invoice(invoice):
    """Raise PurchaseInvoiceError when the invoice must not be sent; returns its source."""
    if not str(invoice.number or "").strip():
        raise PurchaseInvoiceError("the invoice number is missing")
    if invoice.date is None or invoice.due_date is None:
        raise PurchaseInvoiceError("the invoice date and the due date are required")
    if invoice.vendor is None or not (invoice.vendor.code or invoice.vendor.name):
        raise PurchaseInvoiceError("the vendor needs a code or a name")
    if not invoice.lines:
        raise PurchaseInvoiceError("the invoice has no line")
    for line in invoice.lines:
        if not str(line.name or "").strip():
            raise PurchaseInvoiceError("a line has no product name")
        if xmlutil.to_decimal(line.quantity) == 0:
            raise PurchaseInvoiceError(f"the line {line.name!r} has a zero quantity")
        if xmlutil.to_decimal(line.vat_percent or 0) < 0:
            raise PurchaseInvoiceError(f"the line {line.name!r} has a negative VAT percent")
    total = invoice_amount(invoice)
    if invoice.amount is not None and quantize(invoice.amount) != total:
        raise PurchaseInvoiceError(f"the invoice amount {quantize(invoice.amount)} is not the sum of its lines {total}")
    source = invoice.source or ("finvoice" if invoice.attachments else "manual")
    if source not in ("manual", "finvoice"):
        raise PurchaseInvoiceError(f"unknown invoice source {source!r} (manual or finvoice)")
    if invoice.attachments and source != "finvoice":
        raise PurchaseInvoiceError("Netvisor accepts attachments only with invoicesource finvoice")
    for attachment in invoice.attachments:
        if attachment.mimetype != PDF_MIMETYPE:
            raise PurchaseInvoiceError(f"the attachment {attachment.filename!r} is not a PDF ({attachment.mimetype})")
        if attachment.document_type not in DOCUMENT_TYPES:
            raise PurchaseInvoiceError(f"unknown document type {attachment.document_type!r}")
        if not attachment.content:
            raise PurchaseInvoiceError(f"the attachment {attachment.filename!r} is empty")
    return source


def _optional(tag, value):
    value = xmlutil.clean_text(value)
    return E(tag, value.strip()) if value and value.strip() else None


def _line(line, sort):
    quantity = xmlutil.to_decimal(line.quantity)
    unit_price = line.unit_price
    if unit_price is None:
        unit_price = xmlutil.to_decimal(net_amount(line)) / quantity
    return E(
        "purchaseinvoiceline", None,
        _optional("productcode", line.product_code),
        E("productname", xmlutil.clean_text(line.name).strip()),
        E("deliveredamount", xmlutil.format_quantity(quantity)),
        _optional("unitname", line.unit),
        E("unitprice", xmlutil.format_quantity(unit_price)),
        E("vatpercent", xmlutil.format_quantity(line.vat_percent or 0, 2)),
        E("linesum", xmlutil.format_decimal(line.gross_amount), type="brutto"),
        _optional("description", line.description),
        E("sort", str(sort)),
        _optional("accountingsuggestion", line.account),
        [E("dimension", None,
           E("dimensionname", xmlutil.clean_text(name)),
           E("dimensionitem", xmlutil.clean_text(item))) for name, item in line.dimensions],
    )


def build_purchase_invoice(invoice):
    """The ``<root><purchaseinvoice>`` request document in ``purchaseinvoice.dtd`` order."""
    source = check_purchase_invoice(invoice)
    vendor = invoice.vendor
    attachments = None
    if invoice.attachments:
        attachments = E("purchaseinvoiceattachments", None, [E(
            "purchaseinvoiceattachment", None,
            E("mimetype", attachment.mimetype),
            E("attachmentdescription", xmlutil.clean_text(attachment.description or attachment.filename)),
            E("filename", xmlutil.clean_text(attachment.filename)),
            E("documentdata", base64.b64encode(attachment.content).decode("ascii"),
              documenttype=attachment.document_type),
        ) for attachment in invoice.attachments])
    return E(
        "root", None,
        E(
            "purchaseinvoice", None,
            E("invoicenumber", xmlutil.clean_text(str(invoice.number)).strip()),
            E("invoicedate", xmlutil.format_date(invoice.date), format="ansi"),
            E("invoicesource", source),
            E("valuedate", xmlutil.format_date(invoice.value_date or invoice.date), format="ansi"),
            E("eventdate", xmlutil.format_date(invoice.event_date), format="ansi") if invoice.event_date else None,
            E("duedate", xmlutil.format_date(invoice.due_date), format="ansi"),
            _optional("vendorcode", vendor.code),
            _optional("vendorname", vendor.name),
            _optional("vendoraddressline", vendor.address),
            _optional("vendorpostnumber", vendor.postcode),
            _optional("vendorcity", vendor.city),
            _optional("vendorcountry", vendor.country),
            _optional("vendorphonenumber", vendor.phone),
            _optional("vendoremail", vendor.email),
            E("amount", xmlutil.format_decimal(invoice_amount(invoice))),
            _optional("accountnumber", (vendor.bank_account or "").replace(" ", "")),
            _optional("organizationidentifier", vendor.business_id),
            _optional("bankreferencenumber", invoice.bank_reference),
            _optional("ourreference", invoice.our_reference),
            _optional("yourreference", invoice.your_reference),
            _optional("currencycode", invoice.currency),
            _optional("comment", invoice.comment),
            E("primaryvendormatchtype", "code") if vendor.code else None,
            E("purchaseinvoicelines", None, [_line(line, i) for i, line in enumerate(invoice.lines, 1)]),
            attachments,
        ),
    )


def send_purchase_invoice(client, invoice):
    """POST the invoice; returns its Netvisor key (str). Raises PurchaseInvoiceError before
    sending anything when the invoice is invalid, and the client's NetvisorError otherwise."""
    root = build_purchase_invoice(invoice)
    envelope = client.post(RESOURCE, root)
    key = envelope.inserted_identifier()
    if not key:
        raise NetvisorOutcomeUnknownError("purchaseinvoice.nv answered OK without an InsertedDataIdentifier",
                                          resource=RESOURCE)
    return key


def find_purchase_invoice(client, number, vendor_code=None, amount=None):
    """The Netvisor key of the purchase invoice ``number`` (of vendor ``vendor_code`` and of
    ``amount`` when given), or None. Used after an unknown outcome, before sending again."""
    candidates = [item for item in list_purchase_invoices(client, invoice_number=str(number))
                  if item.number == str(number)]
    if amount is not None:
        candidates = [item for item in candidates if quantize(item.amount) == quantize(amount)]
    for item in candidates:
        if not vendor_code:
            return item.netvisor_key
        envelope = client.get("getpurchaseinvoice.nv", {"netvisorkey": item.netvisor_key, "omitattachments": "true"})
        detail = xmlutil.child(envelope.root, "PurchaseInvoice")
        if xmlutil.text(detail, "VendorCode") == vendor_code:
            return item.netvisor_key
    return None
