"""Purchase invoice import: ``POST purchaseinvoice.nv`` (API.md 5.6, ``purchaseinvoice.dtd``).

The imported invoice is stored in the ``purchase_invoices`` collection with the record
schema documented in ``purchase_invoices.py``, so ``purchaseinvoicelist.nv`` and
``getpurchaseinvoice.nv`` return it like any other purchase invoice. Extra keys kept on
the record: ``source`` (manual | finvoice) and, per attachment, ``document_type``.

Checks: element order, required elements, dates, decimals, ``linesum type="brutto"``,
Finnish VAT percentages, the sum of the line sums equals ``amount`` (a client bug
otherwise), attachments only with ``invoicesource`` finvoice, attachments must be PDF
(Base64 of a ``%PDF-`` document).

Vendors (collection ``vendors``)::

    {"netvisor_key": 5, "code": "EMP-7", "name": "Maija Meikäläinen", "business_id": "",
     "address": "", "postcode": "", "town": "", "country": "FI", "bank_account": "FI..",
     "email": "", "phone": ""}

With ``primaryvendormatchtype`` code the vendor is matched by code only. Otherwise it is
matched by code (when given), then business ID, then bank account, then name (a
simplification of Netvisor's eight rules). A vendor that is not found is created.
"""

import base64
import binascii
import datetime
from decimal import Decimal

from ..xmlio import ansi_date, check_order, child_text, dec, el, invalid, wrap
from . import normalizer, resource

COLLECTION = "purchase_invoices"
VENDORS = "vendors"

INVOICE_ORDER = (
    "invoicenumber", "invoicedate", "invoicesource", "valuedate", "eventdate", "duedate",
    "purchaseinvoiceonround", "vendorcode", "vendorname", "vendoraddressline", "vendorpostnumber", "vendorcity",
    "vendorcountry", "vendorphonenumber", "vendorfaxnumber", "vendoremail", "vendorhomepage", "amount",
    "accountnumber", "organizationidentifier", "deliverydate", "overduefinepercent", "bankreferencenumber",
    "ourreference", "yourreference", "currencycode", "deliveryterms", "deliverymethod", "comment", "checksum",
    "pdfextrapages", "readyforaccounting", "agreementidentifier", "primaryvendormatchtype",
    "purchaseinvoicelines", "purchaseinvoicesublines", "purchaseinvoicecommentlines",
    "purchaseinvoiceattachments", "purchaseinvoicerelatedpurchaseordernumbers", "partialpaymentdetails",
)
LINE_ORDER = ("productcode", "productname", "orderedamount", "deliveredamount", "unitname", "unitprice",
              "discountpercentage", "vatpercent", "linesum", "description", "sort", "accountingsuggestion",
              "dimension")
ATTACHMENT_ORDER = ("mimetype", "attachmentdescription", "filename", "documentdata")
VAT_PERCENTS = tuple(Decimal(x) for x in ("0", "10", "13.5", "14", "24", "25.5"))
CENT = Decimal("0.01")


@normalizer(VENDORS)
def normalize_vendor(org, item):
    for name in ("code", "name", "business_id", "address", "postcode", "town", "country", "bank_account",
                 "email", "phone"):
        item.setdefault(name, "")


def _date(node, name, required=False):
    value = child_text(node, name)
    if not value:
        if required:
            raise invalid(f"purchaseinvoice/{name} is required")
        return None
    return ansi_date(value, name)


def _vendor(org, invoice):
    code = child_text(invoice, "vendorcode") or ""
    name = child_text(invoice, "vendorname") or ""
    business_id = child_text(invoice, "organizationidentifier") or ""
    bank_account = (child_text(invoice, "accountnumber") or "").replace(" ", "")
    match_type = (child_text(invoice, "primaryvendormatchtype") or "").lower()
    if match_type and match_type not in ("code", "name", "organizationid"):
        raise invalid(f"Invalid primaryvendormatchtype {match_type}")
    if match_type == "code" and not code:
        raise invalid("primaryvendormatchtype code needs a vendorcode")
    vendors = list(org.collections[VENDORS].values())
    rules = []
    if code and match_type in ("", "code"):
        rules.append(lambda v: v["code"] == code)
    if match_type != "code":
        if match_type == "name":
            rules.append(lambda v: name and v["name"].lower() == name.lower())
        if business_id:
            rules.append(lambda v: v["business_id"] == business_id)
        if bank_account:
            rules.append(lambda v: v["bank_account"] == bank_account)
        rules.append(lambda v: name and v["name"].lower() == name.lower())
    for rule in rules:
        found = [v for v in vendors if rule(v)]
        if found:
            return found[0]
    if not name:
        raise invalid("purchaseinvoice/vendorname is required to create a new vendor")
    return org.add(VENDORS, {
        "code": code, "name": name, "business_id": business_id, "bank_account": bank_account,
        "address": child_text(invoice, "vendoraddressline") or "",
        "postcode": child_text(invoice, "vendorpostnumber") or "",
        "town": child_text(invoice, "vendorcity") or "",
        "country": child_text(invoice, "vendorcountry") or "",
        "email": child_text(invoice, "vendoremail") or "",
        "phone": child_text(invoice, "vendorphonenumber") or "",
    })


def _lines(invoice):
    node = invoice.find("purchaseinvoicelines")
    if node is None:
        return []
    check_order(node, ("purchaseinvoiceline",), "purchaseinvoice/purchaseinvoicelines")
    lines = []
    for index, line in enumerate(node.findall("purchaseinvoiceline"), 1):
        where = f"purchaseinvoice/purchaseinvoicelines/purchaseinvoiceline[{index}]"
        check_order(line, LINE_ORDER, where)
        for name in ("productname", "deliveredamount", "unitprice", "vatpercent", "linesum"):
            if not child_text(line, name):
                raise invalid(f"{where}: {name} is required")
        linesum = line.find("linesum")
        if linesum.get("type") != "brutto":
            raise invalid(f"{where}: linesum needs type=\"brutto\"")
        percent = dec(child_text(line, "vatpercent"))
        if percent not in VAT_PERCENTS:
            raise invalid(f"{where}: {child_text(line, 'vatpercent')} is not a Finnish VAT percent")
        gross = dec(linesum.text).quantize(CENT)
        dimensions = []
        for dimension in line.findall("dimension"):
            check_order(dimension, ("dimensionname", "dimensionitem"), f"{where}/dimension")
            if not child_text(dimension, "dimensionname") or not child_text(dimension, "dimensionitem"):
                raise invalid(f"{where}/dimension: dimensionname and dimensionitem are required")
            dimensions.append({"name": child_text(dimension, "dimensionname"),
                               "item": child_text(dimension, "dimensionitem")})
        account = child_text(line, "accountingsuggestion") or ""
        lines.append({
            "description": child_text(line, "description") or "",
            "product_code": child_text(line, "productcode") or "",
            "product_name": child_text(line, "productname"),
            "quantity": str(dec(child_text(line, "deliveredamount"))),
            "unit": child_text(line, "unitname") or "",
            "unit_price": str(dec(child_text(line, "unitprice"))),
            "vat_percent": str(percent),
            # Netvisor takes the code from the account; a domestic purchase unless 0 %
            "vat_code": "KOOS" if percent else "NONE",
            "line_sum": str(gross),
            "line_net_sum": str((gross * 100 / (100 + percent)).quantize(CENT)),
            "discount": str(dec(child_text(line, "discountpercentage") or "0")),
            "account": account,
            "dimensions": dimensions,
        })
    return lines


def _attachments(invoice):
    node = invoice.find("purchaseinvoiceattachments")
    if node is None:
        return []
    check_order(node, ("purchaseinvoiceattachment",), "purchaseinvoice/purchaseinvoiceattachments")
    result = []
    for index, attachment in enumerate(node.findall("purchaseinvoiceattachment"), 1):
        where = f"purchaseinvoice/purchaseinvoiceattachments/purchaseinvoiceattachment[{index}]"
        check_order(attachment, ATTACHMENT_ORDER, where)
        for name in ATTACHMENT_ORDER:
            if not child_text(attachment, name):
                raise invalid(f"{where}: {name} is required")
        mimetype = child_text(attachment, "mimetype").lower()
        if mimetype != "application/pdf":
            raise invalid(f"{where}: purchase invoice attachments must be PDF, not {mimetype}")
        data_node = attachment.find("documentdata")
        document_type = data_node.get("documenttype") or ""
        if document_type and document_type not in ("invoiceimage", "otherattachment"):
            raise invalid(f"{where}: documenttype must be invoiceimage or otherattachment")
        data = data_node.text.strip()
        try:
            content = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise invalid(f"{where}: documentdata is not Base64") from None
        if not content.startswith(b"%PDF-"):
            raise invalid(f"{where}: documentdata is not a PDF document")
        result.append({
            "filename": child_text(attachment, "filename"),
            "content_type": "application/pdf",
            "base64": data,
            "comment": child_text(attachment, "attachmentdescription"),
            "document_type": document_type,
        })
    return result


@resource("purchaseinvoice.nv", "POST")
def import_purchase_invoice(request):
    org = request.org
    root = request.body
    check_order(root, ("purchaseinvoice",))
    invoices = root.findall("purchaseinvoice")
    if len(invoices) != 1:
        raise invalid("Exactly one purchaseinvoice per request")
    invoice = invoices[0]
    check_order(invoice, INVOICE_ORDER, "purchaseinvoice")
    number = child_text(invoice, "invoicenumber")
    if not number:
        raise invalid("purchaseinvoice/invoicenumber is required")
    date = _date(invoice, "invoicedate", required=True)
    due_date = _date(invoice, "duedate", required=True)
    value_date = _date(invoice, "valuedate") or date
    source = (child_text(invoice, "invoicesource") or "manual").lower()
    if source not in ("manual", "finvoice"):
        raise invalid(f"Invalid invoicesource {source}: manual or finvoice")
    amount_text = child_text(invoice, "amount")
    if not amount_text:
        raise invalid("purchaseinvoice/amount is required")
    amount = dec(amount_text).quantize(CENT)
    lines = _lines(invoice)
    if lines:
        total = sum((Decimal(line["line_sum"]) for line in lines), Decimal("0.00"))
        if total != amount:
            raise invalid(f"Rivien summa {total} ei täsmää laskun summaan {amount} (line sums do not add up)")
    attachments = _attachments(invoice)
    if attachments and source != "finvoice":
        raise invalid("Liitteet vaativat invoicesource=finvoice (attachments need invoicesource finvoice)")
    on_round = (child_text(invoice, "purchaseinvoiceonround") or "open").lower()
    if on_round not in ("open", "approved", "accepted"):
        raise invalid(f"Invalid purchaseinvoiceonround {on_round}")
    vendor = _vendor(org, invoice)
    now = datetime.datetime.now().replace(microsecond=0)
    stored = org.add(COLLECTION, {
        "number": number,
        "date": date.isoformat(),
        "due_date": due_date.isoformat(),
        "value_date": value_date.isoformat(),
        "reference": child_text(invoice, "bankreferencenumber") or "",
        "amount": str(amount),
        "paid_amount": "0",
        "currency": child_text(invoice, "currencycode") or "EUR",
        "approval_status": on_round,
        "modified": now.isoformat(),
        "description": child_text(invoice, "comment") or "",
        "our_reference": child_text(invoice, "ourreference") or "",
        "your_reference": child_text(invoice, "yourreference") or "",
        "source": source,
        "vendor": {
            "netvisor_key": vendor["netvisor_key"], "name": vendor["name"], "business_id": vendor["business_id"],
            "code": vendor["code"], "address": vendor["address"], "postcode": vendor["postcode"],
            "town": vendor["town"], "country": vendor["country"],
            "bank_account": (child_text(invoice, "accountnumber") or vendor["bank_account"]).replace(" ", ""),
        },
        "lines": lines,
        "attachments": attachments,
    })
    return wrap("Replies", el("InsertedDataIdentifier", stored["netvisor_key"]))
