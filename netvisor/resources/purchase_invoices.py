"""Purchase invoices Netvisor -> Odoo (API.md 5.1)."""

from dataclasses import dataclass
from decimal import Decimal

from .. import xmlutil


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
    """``purchaseinvoicelist.nv`` with its filters; returns PurchaseInvoiceSummary items."""
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
