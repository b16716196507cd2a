"""Purchase invoices: ``purchaseinvoicelist.nv`` and ``getpurchaseinvoice.nv`` (API.md 5.1).

Seed / state record (collection ``purchase_invoices``; other resource modules rely on this
schema: the payments module updates ``paid_amount`` and ``modified``, the
``purchaseinvoice.nv`` import stores into this collection)::

    {"netvisor_key": 1, "number": "123", "date": "2026-05-23", "due_date": "2026-06-22",
     "value_date": "...", "delivery_date": "...", "reference": "1232", "amount": "124.00",
     "paid_amount": "0", "currency": "EUR", "foreign_amount": "124.00",
     "approval_status": "open", "modified": "2026-05-23T10:00:00",
     "description": "", "our_reference": "", "your_reference": "",
     "vendor": {"name": "...", "business_id": "1234567-8", "code": "V1", "address": "...",
                "postcode": "00100", "town": "Helsinki", "country": "FI", "bank_account": "FI..",
                "netvisor_key": 5},
     "lines": [{"netvisor_key": 11, "description": "...", "product_code": "", "product_name": "",
                "quantity": "1", "unit": "kpl", "unit_price": "100", "vat_percent": "24",
                "vat_code": "KOOS", "line_sum": "124.00", "line_net_sum": "100.00",
                "discount": "0", "account": "4000 Ostot", "account_key": 643,
                "dimensions": [{"name": "Projects", "item": "Project 1", "name_key": 1, "item_key": 3}]}],
     "attachments": [{"netvisor_key": 77, "filename": "invoice.pdf", "content_type": "application/pdf",
                      "base64": "...", "comment": ""}]}

Conventions: decimals are strings with a dot (or numbers); ``amount`` and line sums are in
the home currency (euro), ``foreign_amount`` is the gross total in ``currency`` (defaults to
``amount``); ``modified`` is Netvisor's local (Finnish) time, naive ISO; a credit note has a
negative ``amount`` and negative line sums. ``netvisor_key`` of lines and attachments are
filled by the normaliser when missing.
"""
import datetime

from ..xmlio import SandboxFault, ansi_date, el, fmt, invalid, wrap
from . import normalizer, resource

COLLECTION = "purchase_invoices"
MAX_KEYS = 500
INCLUDE_VALUES = {"actions", "handlinghistory", "previewimage", "invoiceimage"}


@normalizer(COLLECTION)
def normalize(org, item):
    item.setdefault("modified", f"{item.get('date', datetime.date.today().isoformat())}T12:00:00")
    item.setdefault("currency", "EUR")
    item.setdefault("approval_status", "open")
    item.setdefault("paid_amount", "0")
    item.setdefault("lines", [])
    item.setdefault("attachments", [])
    for sub in item["lines"] + item["attachments"]:
        if "netvisor_key" not in sub:
            sub["netvisor_key"] = org.next_key()


def _modified(value, what):
    try:
        return datetime.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise invalid(f"Invalid {what} {value!r}: use yyyy-MM-ddTHH:mm:ss") from None


def _paid(record):
    """Fully paid (a credit note, with its negative amount, by its absolute value)."""
    from decimal import Decimal

    amount = abs(Decimal(str(record["amount"])))
    return amount != 0 and abs(Decimal(str(record.get("paid_amount") or 0))) >= amount


@resource("purchaseinvoicelist.nv", "GET")
def purchase_invoice_list(request):
    params = request.params
    begin = params.get("begininvoicedate")
    end = params.get("endinvoicedate")
    begin = ansi_date(begin, "begininvoicedate") if begin else None
    end = ansi_date(end, "endinvoicedate") if end else None
    mod_start = _modified(params["lastmodifiedstart"], "lastmodifiedstart") if params.get("lastmodifiedstart") else None
    mod_end = _modified(params["lastmodifiedend"], "lastmodifiedend") if params.get("lastmodifiedend") else None
    status = params.get("invoicestatus")
    if status and status not in ("open", "approved", "accepted"):
        raise invalid(f"Invalid invoicestatus {status}")
    payment = params.get("paymentstatus")
    if payment and payment not in ("paid", "unpaid"):
        raise invalid(f"Invalid paymentstatus {payment}")
    number = params.get("invoicenumber")
    items = []
    for key in sorted(request.org.collections[COLLECTION]):
        rec = request.org.collections[COLLECTION][key]
        date = datetime.date.fromisoformat(rec["date"])
        modified = datetime.datetime.fromisoformat(rec["modified"])
        if begin and date < begin or end and date > end:
            continue
        if mod_start and modified < mod_start or mod_end and modified > mod_end:
            continue
        if status and rec.get("approval_status") != status:
            continue
        if payment and (payment == "paid") != _paid(rec):
            continue
        if number and rec.get("number") != number:
            continue
        from decimal import Decimal

        amount = Decimal(str(rec["amount"]))
        paid = Decimal(str(rec.get("paid_amount") or 0))
        vendor = rec.get("vendor") or {}
        items.append(wrap(
            "PurchaseInvoice",
            el("NetvisorKey", key),
            el("InvoiceNumber", rec.get("number")),
            el("InvoiceDate", rec["date"], format="ansi"),
            el("Vendor", vendor.get("name")),
            el("VendorOrganizationIdentifier", vendor.get("business_id")),
            el("Sum", fmt(amount)),
            el("Payments", fmt(paid)),
            el("OpenSum", fmt(amount - paid)),
            el("Uri", f"{request.server.base_url}getpurchaseinvoice.nv?netvisorkey={key}"),
        ))
    return wrap("PurchaseInvoiceList", *items)


def _dimensions(dims):
    return wrap("PurchaseInvoiceLineDimensions", *[wrap(
        "Dimension",
        el("DimensionName", d.get("name")),
        el("DimensionNameNetvisorKey", d.get("name_key", 1)),
        el("DimensionDetailName", d.get("item")),
        el("DimensionDetailNetvisorKey", d.get("item_key", 1)),
    ) for d in dims])


def _detail(rec, version, omit_attachments, include=()):
    vendor = rec.get("vendor") or {}
    lines = []
    all_dims = []
    for line in rec.get("lines", []):
        dims = line.get("dimensions") or []
        parts = [
            el("NetvisorKey", line["netvisor_key"]),
            el("LineSum", fmt(line["line_sum"])),
            el("LineNetSum", fmt(line.get("line_net_sum", line["line_sum"]), 4)),
            el("UnitPrice", fmt(line.get("unit_price", 0), 12)),
            el("VatPercent", fmt(line.get("vat_percent", 0), 2)),
            el("VatCode", line.get("vat_code", "NONE")),
            el("Description", line.get("description")),
            el("Unit", line.get("unit")),
            el("OrderedAmount", fmt(line.get("quantity", 1), 2)),
            el("DeliveredAmount", fmt(line.get("quantity", 1), 2)),
            el("ProductCode", line.get("product_code")),
            el("DiscountPercentage", fmt(line.get("discount", 0), 2)),
            el("ProductName", line.get("product_name")),
            el("AccountingSuggestionBookkeepingAccountNetvisorKey", line.get("account_key")),
            el("AccountingSuggestionBookkeepingAccount", line.get("account")),
        ]
        if version == "2":
            parts.append(_dimensions(dims))
        else:
            all_dims.extend(dims)
        lines.append(wrap("PurchaseInvoiceLine", *parts))
    if version != "2":
        lines.append(_dimensions(all_dims))
    attachments = ""
    if not omit_attachments and rec.get("attachments"):
        attachments = wrap("Attachments", *[wrap(
            "Attachment",
            el("AttachmentBase64Data", a.get("base64")),
            el("FileName", a.get("filename")),
            el("ContentType", a.get("content_type", "application/pdf")),
            el("Comment", a.get("comment")),
        ) for a in rec["attachments"]])
    preview = ""
    if "previewimage" in include and rec.get("attachments"):
        preview = el("PreviewImage", rec["attachments"][0].get("filename"),
                     attachmentnetvisorkey=rec["attachments"][0]["netvisor_key"])
    return wrap(
        "PurchaseInvoice",
        el("PurchaseInvoiceNetvisorKey", rec["netvisor_key"]),
        el("PurchaseInvoiceNumber", rec.get("number")),
        el("PurchaseInvoiceDate", rec["date"], format="ansi"),
        el("PurchaseInvoiceDeliveryDate", rec.get("delivery_date", rec["date"]), format="ansi"),
        el("PurchaseInvoiceDueDate", rec.get("due_date", rec["date"]), format="ansi"),
        el("PurchaseInvoiceValueDate", rec.get("value_date", rec["date"]), format="ansi"),
        el("PurchaseInvoiceReferencenumber", rec.get("reference")),
        el("PurchaseInvoiceVendorBankAccountNumber", vendor.get("bank_account")),
        el("IsPurchaseInvoiceVendorBankAccountDeleted", "False"),
        el("IsPurchaseInvoiceVendorBankAccountFromSEPARegion", "True"),
        el("PurchaseInvoiceAmount", fmt(rec["amount"])),
        el("PurchaseInvoicePaidAmount", fmt(rec.get("paid_amount") or 0)),
        el("ForeignCurrencyAmount", fmt(rec.get("foreign_amount", rec["amount"]))),
        el("ForeignCurrencyNameID", rec.get("currency", "EUR")),
        el("InvoiceStatus", "Maksettu" if _paid(rec) else "Avoin"),
        el("ApprovalStatus", rec.get("approval_status", "open")),
        el("PurchaseInvoiceOurReference", rec.get("our_reference")),
        el("PurchaseInvoiceYourReference", rec.get("your_reference")),
        el("PurchaseInvoiceDescription", rec.get("description")),
        el("VendorNetvisorKey", vendor.get("netvisor_key")),
        el("VendorOrganizationIdentifier", vendor.get("business_id")),
        el("VendorCode", vendor.get("code")),
        el("VendorName", vendor.get("name")),
        el("VendorAddressline", vendor.get("address")),
        el("VendorPostnumber", vendor.get("postcode")),
        el("VendorTown", vendor.get("town")),
        el("VendorCountry", vendor.get("country")),
        el("VendorBankAccountNumber", vendor.get("bank_account")),
        el("VoucherID", rec.get("voucher_id")),
        el("IsAccounted", "False"),
        preview,
        wrap("InvoiceLines", *lines),
        attachments,
    )


@resource("getpurchaseinvoice.nv", "GET")
def get_purchase_invoice(request):
    params = request.params
    version = params.get("version", "1")
    if version not in ("1", "2"):
        raise invalid(f"Invalid version {version}")
    omit = params.get("omitattachments", "false").lower()
    if omit not in ("true", "false"):
        raise invalid(f"Invalid omitattachments {omit}: use true or false")
    include = {value.strip().lower() for value in params.get("include", "").split(",") if value.strip()}
    if include - INCLUDE_VALUES:
        raise invalid(f"Invalid include {','.join(sorted(include - INCLUDE_VALUES))}")
    omit = omit == "true"
    collection = request.org.collections[COLLECTION]
    if "netvisorkeylist" in params:
        raw = [k.strip() for k in params["netvisorkeylist"].split(",") if k.strip()]
        if not raw:
            raise invalid("netvisorkeylist is empty")
        if len(raw) > MAX_KEYS:
            raise SandboxFault("INVALID_DATA_SIZE", f"netvisorkeylist has {len(raw)} keys, at most {MAX_KEYS}")
        try:
            keys = list(dict.fromkeys(int(k) for k in raw))
        except ValueError:
            raise invalid("netvisorkeylist must be a comma-separated list of keys") from None
        found = [_detail(collection[k], version, omit, include) for k in keys if k in collection]
        return wrap("PurchaseInvoices", *found)
    if "netvisorkey" not in params:
        raise invalid("Parameter netvisorkey or netvisorkeylist is required")
    try:
        key = int(params["netvisorkey"])
    except ValueError:
        raise invalid("netvisorkey must be a number") from None
    if key not in collection:
        return "<PurchaseInvoice />"  # Netvisor answers OK with an empty element
    return _detail(collection[key], version, omit, include)
