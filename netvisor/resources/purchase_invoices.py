"""Purchase invoices Netvisor -> Odoo (API.md 5.1).

``purchaseinvoicelist.nv`` gives the keys (with a few header values); the details come
from ``getpurchaseinvoice.nv`` with ``version=2`` (dimensions inside each line) and
``netvisorkeylist`` batches of at most :data:`MAX_KEYS_PER_REQUEST` keys.

Money is ``Decimal``. Amounts: ``amount`` (``PurchaseInvoiceAmount``) and the line sums are
in the company's home currency (euro); ``foreign_amount`` (``ForeignCurrencyAmount``) is the
gross total in ``currency`` (``ForeignCurrencyNameID``).
"""

import base64
import binascii
import re
from dataclasses import dataclass, field
from decimal import Decimal

from .. import xmlutil

MAX_KEYS_PER_REQUEST = 500
_ACCOUNT_RE = re.compile(r"^\s*(\d+)\s*(.*)$", re.S)


@dataclass
class PurchaseInvoiceSummary:
    netvisor_key: str
    number: str
    date: object
    vendor_name: str
    vendor_business_id: str
    amount: Decimal
    paid: Decimal
    open_amount: Decimal


@dataclass
class PurchaseInvoiceVendor:
    netvisor_key: str = ""
    business_id: str = ""
    code: str = ""
    name: str = ""
    address: str = ""
    postcode: str = ""
    town: str = ""
    country: str = ""
    bank_account: str = ""


@dataclass
class PurchaseInvoiceDimension:
    name: str
    item: str
    name_key: str = ""
    item_key: str = ""


@dataclass
class PurchaseInvoiceAttachment:
    filename: str
    content_type: str
    data_base64: str  # as sent by Netvisor, whitespace removed
    comment: str = ""

    @property
    def content(self):
        """The file's bytes; ValueError when the Base64 data is corrupt."""
        try:
            return base64.b64decode(self.data_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"attachment {self.filename!r} has invalid Base64 data") from None


@dataclass
class PurchaseInvoiceLine:
    netvisor_key: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_percent: Decimal
    vat_code: str
    line_sum: Decimal  # gross
    line_net_sum: Decimal
    product_code: str = ""
    product_name: str = ""
    unit: str = ""
    discount: Decimal = Decimal(0)
    account_number: str = ""  # leading number of AccountingSuggestionBookkeepingAccount ("4000 Ostot" -> "4000")
    account_name: str = ""
    account_key: str = ""
    dimensions: list = field(default_factory=list)


@dataclass
class PurchaseInvoice:
    netvisor_key: str
    number: str
    date: object
    due_date: object = None
    delivery_date: object = None
    value_date: object = None
    event_date: object = None
    reference: str = ""
    agreement_identifier: str = ""
    amount: Decimal = Decimal(0)  # gross, home currency
    paid_amount: Decimal = Decimal(0)
    foreign_amount: Decimal = None  # gross in ``currency``
    currency: str = ""
    invoice_status: str = ""
    approval_status: str = ""
    our_reference: str = ""
    your_reference: str = ""
    description: str = ""
    vendor: PurchaseInvoiceVendor = field(default_factory=PurchaseInvoiceVendor)
    voucher_id: str = ""
    is_accounted: bool = False
    preview_image_key: str = ""
    lines: list = field(default_factory=list)
    # version=1 answers put the dimensions beside the lines: they cannot be tied to a line
    unassigned_dimensions: list = field(default_factory=list)
    attachments: list = field(default_factory=list)

    @property
    def is_credit_note(self):
        return self.amount < 0


# ------------------------------------------------------------------ list


def parse_purchase_invoice_list(root):
    items = []
    for node in xmlutil.children(xmlutil.child(root, "PurchaseInvoiceList"), "PurchaseInvoice"):
        items.append(PurchaseInvoiceSummary(
            netvisor_key=xmlutil.text(node, "NetvisorKey"),
            number=xmlutil.text(node, "InvoiceNumber"),
            date=xmlutil.parse_date(xmlutil.text(node, "InvoiceDate")),
            vendor_name=xmlutil.text(node, "Vendor"),
            vendor_business_id=xmlutil.text(node, "VendorOrganizationIdentifier"),
            amount=xmlutil.parse_decimal(xmlutil.text(node, "Sum"), Decimal(0)),
            paid=xmlutil.parse_decimal(xmlutil.text(node, "Payments"), Decimal(0)),
            open_amount=xmlutil.parse_decimal(xmlutil.text(node, "OpenSum"), Decimal(0)),
        ))
    return items


def list_purchase_invoices(client, begin_date=None, end_date=None, modified_start=None, modified_end=None,
                           invoice_status=None, payment_status=None, invoice_number=None):
    """``purchaseinvoicelist.nv`` with its filters; returns PurchaseInvoiceSummary items.

    ``modified_start`` / ``modified_end`` are naive datetimes in Netvisor's time (Finnish)."""
    params = {
        "begininvoicedate": begin_date and xmlutil.format_date(begin_date),
        "endinvoicedate": end_date and xmlutil.format_date(end_date),
        "lastmodifiedstart": modified_start and xmlutil.format_datetime(modified_start),
        "lastmodifiedend": modified_end and xmlutil.format_datetime(modified_end),
        "invoicestatus": invoice_status,
        "paymentstatus": payment_status,
        "invoicenumber": invoice_number,
    }
    envelope = client.get("purchaseinvoicelist.nv", params)
    return parse_purchase_invoice_list(envelope.root)


# ------------------------------------------------------------------ detail


def split_account(value):
    """``"4000 Ostot"`` -> ``("4000", "Ostot")``; no leading number -> ``("", value)``."""
    value = (value or "").strip()
    match = _ACCOUNT_RE.match(value)
    if not match:
        return "", value
    return match.group(1), match.group(2).strip()


def _decimal(node, name, default=Decimal(0)):
    return xmlutil.parse_decimal(xmlutil.text(node, name), default)


def parse_dimensions(block):
    dims = []
    for node in xmlutil.children(block, "Dimension"):
        item_key = xmlutil.text(node, "DimensionDetailNetvisorKey") or xmlutil.text(
            node, "DimensionDetailNameNetvisorKey")
        dims.append(PurchaseInvoiceDimension(
            name=xmlutil.text(node, "DimensionName"),
            item=xmlutil.text(node, "DimensionDetailName"),
            name_key=xmlutil.text(node, "DimensionNameNetvisorKey"),
            item_key=item_key,
        ))
    return dims


def parse_purchase_invoice_line(node):
    quantity = xmlutil.parse_decimal(xmlutil.text(node, "DeliveredAmount"))
    if quantity is None:
        quantity = xmlutil.parse_decimal(xmlutil.text(node, "OrderedAmount"), Decimal(1))
    line_sum = _decimal(node, "LineSum")
    account_number, account_name = split_account(xmlutil.text(node, "AccountingSuggestionBookkeepingAccount"))
    return PurchaseInvoiceLine(
        netvisor_key=xmlutil.text(node, "NetvisorKey"),
        description=xmlutil.text(node, "Description"),
        quantity=quantity,
        unit_price=_decimal(node, "UnitPrice"),
        vat_percent=_decimal(node, "VatPercent"),
        vat_code=xmlutil.text(node, "VatCode").upper(),
        line_sum=line_sum,
        line_net_sum=_decimal(node, "LineNetSum", line_sum),
        product_code=xmlutil.text(node, "ProductCode"),
        product_name=xmlutil.text(node, "ProductName"),
        unit=xmlutil.text(node, "Unit"),
        discount=_decimal(node, "DiscountPercentage"),
        account_number=account_number,
        account_name=account_name,
        account_key=xmlutil.text(node, "AccountingSuggestionBookkeepingAccountNetvisorKey"),
        dimensions=parse_dimensions(xmlutil.child(node, "PurchaseInvoiceLineDimensions")),
    )


def parse_attachments(block):
    attachments = []
    for node in xmlutil.children(block, "Attachment"):
        data = re.sub(r"\s+", "", xmlutil.text(node, "AttachmentBase64Data"))
        if not data:
            continue
        attachments.append(PurchaseInvoiceAttachment(
            filename=xmlutil.text(node, "FileName") or "attachment",
            content_type=xmlutil.text(node, "ContentType") or xmlutil.text(node, "MimeType"),
            data_base64=data,
            comment=xmlutil.text(node, "Comment"),
        ))
    return attachments


def parse_purchase_invoice(node):
    """One ``PurchaseInvoice`` element of getpurchaseinvoice.nv, or None when it is empty
    (Netvisor answers OK with an empty element for an unknown key)."""
    key = xmlutil.text(node, "PurchaseInvoiceNetvisorKey")
    if not key:
        return None
    preview = xmlutil.child(node, "PreviewImage")
    lines_block = xmlutil.child(node, "InvoiceLines")
    vendor = PurchaseInvoiceVendor(
        netvisor_key=xmlutil.text(node, "VendorNetvisorKey"),
        business_id=xmlutil.text(node, "VendorOrganizationIdentifier"),
        code=xmlutil.text(node, "VendorCode"),
        name=xmlutil.text(node, "VendorName"),
        address=xmlutil.text(node, "VendorAddressline"),
        postcode=xmlutil.text(node, "VendorPostnumber"),
        town=xmlutil.text(node, "VendorTown"),
        country=xmlutil.text(node, "VendorCountry").upper(),
        bank_account=xmlutil.text(node, "VendorBankAccountNumber")
        or xmlutil.text(node, "PurchaseInvoiceVendorBankAccountNumber"),
    )
    unassigned = []
    for block in xmlutil.children(lines_block, "PurchaseInvoiceLineDimensions"):
        unassigned.extend(parse_dimensions(block))
    return PurchaseInvoice(
        netvisor_key=key,
        number=xmlutil.text(node, "PurchaseInvoiceNumber"),
        date=xmlutil.parse_date(xmlutil.text(node, "PurchaseInvoiceDate")),
        due_date=xmlutil.parse_date(xmlutil.text(node, "PurchaseInvoiceDueDate")),
        delivery_date=xmlutil.parse_date(xmlutil.text(node, "PurchaseInvoiceDeliveryDate")),
        value_date=xmlutil.parse_date(xmlutil.text(node, "PurchaseInvoiceValueDate")),
        event_date=xmlutil.parse_date(xmlutil.text(node, "PurchaseInvoiceEventDate")),
        reference=xmlutil.text(node, "PurchaseInvoiceReferencenumber"),
        agreement_identifier=xmlutil.text(node, "PurchaseInvoiceAgreementIdentifier"),
        amount=_decimal(node, "PurchaseInvoiceAmount"),
        paid_amount=_decimal(node, "PurchaseInvoicePaidAmount"),
        foreign_amount=xmlutil.parse_decimal(xmlutil.text(node, "ForeignCurrencyAmount")),
        currency=xmlutil.text(node, "ForeignCurrencyNameID").upper(),
        invoice_status=xmlutil.text(node, "InvoiceStatus"),
        approval_status=xmlutil.text(node, "ApprovalStatus"),
        our_reference=xmlutil.text(node, "PurchaseInvoiceOurReference"),
        your_reference=xmlutil.text(node, "PurchaseInvoiceYourReference"),
        description=xmlutil.text(node, "PurchaseInvoiceDescription"),
        vendor=vendor,
        voucher_id=xmlutil.text(node, "VoucherID"),
        is_accounted=xmlutil.parse_bool(xmlutil.text(node, "IsAccounted")),
        preview_image_key=preview.get("attachmentnetvisorkey", "") if preview is not None else "",
        lines=[parse_purchase_invoice_line(line) for line in xmlutil.children(lines_block, "PurchaseInvoiceLine")],
        unassigned_dimensions=unassigned,
        attachments=parse_attachments(xmlutil.child(node, "Attachments")),
    )


def parse_purchase_invoices(root):
    """All invoices of a getpurchaseinvoice.nv answer: ``PurchaseInvoices > PurchaseInvoice*``
    (``netvisorkeylist``) or a single ``PurchaseInvoice`` (``netvisorkey``)."""
    batch = xmlutil.child(root, "PurchaseInvoices")
    nodes = xmlutil.children(batch, "PurchaseInvoice") if batch is not None else xmlutil.children(
        root, "PurchaseInvoice")
    return [invoice for invoice in map(parse_purchase_invoice, nodes) if invoice is not None]


def get_purchase_invoices(client, keys, version=2, omit_attachments=False, include=None):
    """Details of up to 500 invoices in one ``getpurchaseinvoice.nv?netvisorkeylist=`` request.
    Unknown keys are simply absent from the result."""
    keys = [str(key).strip() for key in keys if str(key).strip()]
    if not keys:
        return []
    if len(keys) > MAX_KEYS_PER_REQUEST:
        raise ValueError(f"at most {MAX_KEYS_PER_REQUEST} keys per request, got {len(keys)}")
    params = {
        "netvisorkeylist": ",".join(keys),
        "version": version,
        "include": include,
        "omitattachments": "true" if omit_attachments else None,
    }
    envelope = client.get("getpurchaseinvoice.nv", params)
    return parse_purchase_invoices(envelope.root)


def iter_purchase_invoice_batches(client, keys, batch_size=MAX_KEYS_PER_REQUEST, **kwargs):
    """Yield ``(batch_keys, invoices)`` per request of at most ``batch_size`` keys."""
    batch_size = max(1, min(int(batch_size), MAX_KEYS_PER_REQUEST))
    keys = [str(key) for key in keys]
    for start in range(0, len(keys), batch_size):
        chunk = keys[start:start + batch_size]
        yield chunk, get_purchase_invoices(client, chunk, **kwargs)


def get_purchase_invoice(client, key, version=2, omit_attachments=False, include=None):
    """One invoice by ``netvisorkey``, or None when Netvisor does not know it."""
    params = {
        "netvisorkey": str(key),
        "version": version,
        "include": include,
        "omitattachments": "true" if omit_attachments else None,
    }
    invoices = parse_purchase_invoices(client.get("getpurchaseinvoice.nv", params).root)
    return invoices[0] if invoices else None
