from odoo import fields, models

CONFLICT_POLICIES = [
    ("odoo", "Odoo wins"),
    ("netvisor", "Netvisor wins"),
    ("skip", "Skip and report"),
]


class ResCompany(models.Model):
    _inherit = "res.company"

    netvisor_sync_conflict_policy = fields.Selection(
        CONFLICT_POLICIES, string="Netvisor Sync Conflict Policy", default="skip", required=True,
        help="What the customer and product sync does with a record whose synced fields were changed on both "
             "sides since the last sync: keep Odoo's values and send them, take Netvisor's values, or change "
             "nothing and list it as a conflict.")
    netvisor_customer_sync_date = fields.Datetime(
        string="Customers Last Synced", copy=False, readonly=True,
        help="Start of the last customer sync with Netvisor; the next run only looks at what changed since.")
    netvisor_product_sync_date = fields.Datetime(
        string="Products Last Synced", copy=False, readonly=True,
        help="Start of the last product sync with Netvisor; the next run only looks at what changed since.")


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    netvisor_sync_conflict_policy = fields.Selection(
        related="company_id.netvisor_sync_conflict_policy", readonly=False)
    netvisor_customer_sync_date = fields.Datetime(related="company_id.netvisor_customer_sync_date")
    netvisor_product_sync_date = fields.Datetime(related="company_id.netvisor_product_sync_date")

    def action_netvisor_sync_customers(self):
        return self.env["netvisor.sync.wizard"]._netvisor_open("customer")

    def action_netvisor_sync_products(self):
        return self.env["netvisor.sync.wizard"]._netvisor_open("product")
