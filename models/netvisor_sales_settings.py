from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

SALES_INVOICE_STATUSES = [
    ("open", "Open: booked in Netvisor (voucher created)"),
    ("unsent", "Unsent: waiting in Netvisor's outgoing invoices"),
]


class ResCompany(models.Model):
    _inherit = "res.company"

    netvisor_sales_default_product_id = fields.Many2one(
        "product.product", string="Netvisor Default Product",
        domain="[('sale_ok', '=', True)]",
        help="Sent to Netvisor for invoice lines without a product (Netvisor needs a product on every line).")
    netvisor_sales_invoice_status = fields.Selection(
        SALES_INVOICE_STATUSES, string="Netvisor Invoice Status", default="open", required=True,
        help="Status of the invoices created in Netvisor. Open books them in Netvisor at once; Unsent leaves "
             "them in Netvisor's outgoing invoices (no voucher until they are sent from Netvisor).")

    @api.constrains("netvisor_sales_default_product_id")
    def _check_netvisor_sales_default_product_id(self):
        for company in self:
            product = company.netvisor_sales_default_product_id
            if product and product.company_id and product.company_id != company:
                raise ValidationError(_(
                    "Company %(company)s: the Netvisor default product %(product)s belongs to another company.",
                    company=company.display_name, product=product.display_name))


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    netvisor_sales_default_product_id = fields.Many2one(
        related="company_id.netvisor_sales_default_product_id", readonly=False)
    netvisor_sales_invoice_status = fields.Selection(
        related="company_id.netvisor_sales_invoice_status", readonly=False)
