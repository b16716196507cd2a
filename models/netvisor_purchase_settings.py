from odoo import _, api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    netvisor_purchase_import_start_date = fields.Date(
        string="Import Purchase Invoices From",
        help="The first import takes the Netvisor purchase invoices dated from this day on (yesterday when "
             "empty); invoices dated earlier are never imported.")
    netvisor_purchase_last_import = fields.Datetime(
        string="Last Successful Purchase Import", copy=False, readonly=True,
        help="Start time of the last import run that completed. The next run asks Netvisor for every purchase "
             "invoice modified since then, minus the overlap, so that a missed run is caught up.")
    netvisor_purchase_overlap_hours = fields.Integer(
        string="Import Overlap (hours)", default=24,
        help="Each run also looks this many hours before the last successful run. Invoices already imported "
             "are recognised by their Netvisor key and skipped.")
    netvisor_purchase_create_vendors = fields.Boolean(
        string="Create Missing Vendors", default=True,
        help="Create a vendor (name, business ID, address, bank account) when no contact matches the Netvisor "
             "vendor by business ID, vendor code or exact name. When off, such invoices fail and are retried.")
    netvisor_purchase_journal_id = fields.Many2one(
        "account.journal", string="Journal for Netvisor Bills", check_company=True,
        domain="[('type', '=', 'purchase'), ('company_id', '=', id)]",
        help="Purchase journal of the imported bills; the company's first purchase journal when empty.")
    netvisor_purchase_rounding_account_id = fields.Many2one(
        "account.account", string="Netvisor Rounding Account", check_company=True,
        domain="[('deprecated', '=', False), ('account_type', 'not in', ('asset_receivable', 'liability_payable'))]",
        help="Account of the rounding line added when Odoo's tax rounding differs from Netvisor's gross amount; "
             "the account of the bill's first line when empty.")
    netvisor_purchase_user_id = fields.Many2one(
        "res.users", string="Responsible for Netvisor Bills", domain="[('share', '=', False)]",
        help="Responsible of the imported bills; receives the activities about rounding differences.")
    netvisor_purchase_retry_keys = fields.Text(
        string="Netvisor Purchase Invoices to Retry", copy=False, readonly=True,
        help="Netvisor keys of purchase invoices that failed to import; each run tries them again.")
    netvisor_purchase_retry_count = fields.Integer(compute="_compute_netvisor_purchase_retry_count")

    @api.depends("netvisor_purchase_retry_keys")
    def _compute_netvisor_purchase_retry_count(self):
        for company in self:
            company.netvisor_purchase_retry_count = len(company._netvisor_purchase_retry_key_list())

    def _netvisor_purchase_retry_key_list(self):
        self.ensure_one()
        return [key for key in (self.netvisor_purchase_retry_keys or "").split(",") if key.strip()]

    def _netvisor_purchase_journal(self):
        self.ensure_one()
        return self.netvisor_purchase_journal_id or self.env["account.journal"].sudo().search([
            *self.env["account.journal"]._check_company_domain(self),
            ("type", "=", "purchase"),
        ], limit=1)


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    netvisor_purchase_import_start_date = fields.Date(related="company_id.netvisor_purchase_import_start_date",
                                                      readonly=False)
    netvisor_purchase_last_import = fields.Datetime(related="company_id.netvisor_purchase_last_import")
    netvisor_purchase_overlap_hours = fields.Integer(related="company_id.netvisor_purchase_overlap_hours",
                                                     readonly=False)
    netvisor_purchase_create_vendors = fields.Boolean(related="company_id.netvisor_purchase_create_vendors",
                                                      readonly=False)
    netvisor_purchase_journal_id = fields.Many2one(related="company_id.netvisor_purchase_journal_id", readonly=False)
    netvisor_purchase_rounding_account_id = fields.Many2one(
        related="company_id.netvisor_purchase_rounding_account_id", readonly=False)
    netvisor_purchase_user_id = fields.Many2one(related="company_id.netvisor_purchase_user_id", readonly=False)
    netvisor_purchase_retry_count = fields.Integer(related="company_id.netvisor_purchase_retry_count")

    def action_netvisor_import_purchase_invoices(self):
        """Settings > Netvisor > Run import now: the cron's import for this company, now."""
        self.ensure_one()
        return self.env["account.move"].with_company(self.company_id).action_netvisor_import_purchase_invoices()

    def action_netvisor_open_purchase_log(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Netvisor Log"),
            "res_model": "netvisor.log",
            "view_mode": "list,form",
            "domain": [("flow", "=", "purchase_import"), ("company_id", "=", self.company_id.id)],
        }
