from odoo import _, api, fields, models

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
    netvisor_customer_import_date = fields.Datetime(
        string="Customers Last Imported", copy=False, readonly=True,
        help="Start of the last customer sync that read Netvisor; the next one asks Netvisor only for the "
             "customers changed since (changedsince).")
    netvisor_customer_export_date = fields.Datetime(
        string="Customers Last Exported", copy=False, readonly=True,
        help="Start of the last customer sync that sent Odoo's changes; the next one only looks at partners "
             "modified since.")
    netvisor_customer_pending_keys = fields.Text(
        copy=False, readonly=True,
        help="Netvisor keys of the customers left in conflict or error by the last sync: looked at again.")
    netvisor_product_import_date = fields.Datetime(
        string="Products Last Imported", copy=False, readonly=True,
        help="Start of the last product sync that read Netvisor; the next one asks Netvisor only for the "
             "products changed since (changedsince).")
    netvisor_product_export_date = fields.Datetime(
        string="Products Last Exported", copy=False, readonly=True,
        help="Start of the last product sync that sent Odoo's changes; the next one only looks at products "
             "modified since.")
    netvisor_product_pending_keys = fields.Text(
        copy=False, readonly=True,
        help="Netvisor keys of the products left in conflict or error by the last sync: looked at again.")

class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    netvisor_sync_conflict_policy = fields.Selection(
        related="company_id.netvisor_sync_conflict_policy", readonly=False)
    netvisor_customer_import_date = fields.Datetime(related="company_id.netvisor_customer_import_date")
    netvisor_customer_export_date = fields.Datetime(related="company_id.netvisor_customer_export_date")
    netvisor_product_import_date = fields.Datetime(related="company_id.netvisor_product_import_date")
    netvisor_product_export_date = fields.Datetime(related="company_id.netvisor_product_export_date")

    def action_netvisor_sync_customers(self):
        return self.env["netvisor.sync.wizard"]._netvisor_open("customer")

    def action_netvisor_sync_products(self):
        return self.env["netvisor.sync.wizard"]._netvisor_open("product")


class NetvisorFlow(models.Model):
    _inherit = "netvisor.flow"

    @api.model
    def _netvisor_flow_specs(self):
        specs = super()._netvisor_flow_specs()
        specs["customer_sync"] = {
            "sequence": 40,
            "description": _("Customers both ways: companies by business ID, private customers by name and "
                             "address; preview before anything is written."),
            "run_method": ("netvisor.sync.wizard", "action_netvisor_open_customer_sync"),
        }
        specs["product_sync"] = {
            "sequence": 45,
            "description": _("Products both ways by product code: name, price, unit, VAT, EAN, active."),
            "run_method": ("netvisor.sync.wizard", "action_netvisor_open_product_sync"),
        }
        return specs
