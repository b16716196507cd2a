from odoo import fields, models


class AccountMove(models.Model):
    """Fields shared by the Netvisor flows on journal entries. Each flow adds its
    behaviour in its own file (account_move_purchase.py, account_move_sales.py ...)."""

    _name = "account.move"
    _inherit = ["account.move", "netvisor.mixin"]

    # vendor bills imported from Netvisor
    netvisor_key = fields.Char(string="Netvisor Purchase Invoice Key", copy=False, readonly=True, index=True)
    # customer invoices sent to Netvisor
    netvisor_invoice_id = fields.Char(string="Netvisor Invoice Key", copy=False, readonly=True, index=True,
                                      tracking=True)
    netvisor_payment_synced = fields.Boolean(
        string="Netvisor Payment Synced", copy=False, readonly=True,
        help="Set when the payment status sync found this invoice fully paid in Netvisor.")

    _sql_constraints = [
        ("netvisor_key_company_uniq", "unique(company_id, netvisor_key)",
         "This Netvisor purchase invoice was already imported in this company."),
        ("netvisor_invoice_id_company_uniq", "unique(company_id, netvisor_invoice_id)",
         "Another invoice of this company already has this Netvisor invoice key."),
    ]
