from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

DEFAULT_PAYMENT_WINDOW_DAYS = 90
MAX_PAYMENT_WINDOW_DAYS = 3650


class ResCompany(models.Model):
    _inherit = "res.company"

    netvisor_payment_window_days = fields.Integer(
        string="Netvisor Payment Check Window (days)", default=DEFAULT_PAYMENT_WINDOW_DAYS,
        help="The payment status sync looks at customer invoices sent to Netvisor and vendor bills imported "
             "from it that are dated within this many days and not yet paid in Odoo. Older ones are no longer "
             "tracked.")
    netvisor_payment_journal_id = fields.Many2one(
        "account.journal", string="Netvisor Payment Journal", check_company=True,
        domain="[('type', 'in', ('bank', 'cash')), ('company_id', 'in', company_ids)]",
        help="Bank or cash journal in which the payments found in Netvisor are registered. "
             "Empty: the company's first bank journal.")

    @api.constrains("netvisor_payment_window_days")
    def _check_netvisor_payment_window_days(self):
        for company in self:
            days = company.netvisor_payment_window_days
            if not 1 <= days <= MAX_PAYMENT_WINDOW_DAYS:
                raise ValidationError(_(
                    "Company %(company)s: the Netvisor payment check window must be between 1 and %(max)s days "
                    "(it is %(days)s).", company=company.display_name, max=MAX_PAYMENT_WINDOW_DAYS, days=days))

    @api.constrains("netvisor_payment_journal_id")
    def _check_netvisor_payment_journal_id(self):
        for company in self:
            journal = company.netvisor_payment_journal_id
            if journal and journal.type not in ("bank", "cash"):
                raise ValidationError(_(
                    "Company %(company)s: the Netvisor payment journal %(journal)s must be a bank or cash journal.",
                    company=company.display_name, journal=journal.display_name))

    def _netvisor_payment_journal(self):
        """The configured payment journal, else the company's first bank journal (or empty)."""
        self.ensure_one()
        return self.netvisor_payment_journal_id or self.env["account.journal"].search([
            *self.env["account.journal"]._check_company_domain(self),
            ("type", "=", "bank"),
        ], limit=1)


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    netvisor_payment_window_days = fields.Integer(related="company_id.netvisor_payment_window_days", readonly=False)
    netvisor_payment_journal_id = fields.Many2one(related="company_id.netvisor_payment_journal_id", readonly=False)

    def action_netvisor_sync_payments_now(self):
        self.ensure_one()
        return self.env["account.move"].with_company(self.company_id).action_netvisor_sync_payments()
