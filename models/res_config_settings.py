from odoo import _, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    netvisor_partner_id = fields.Char(related="company_id.netvisor_partner_id", readonly=False,
                                      groups="base.group_system")
    netvisor_partner_key = fields.Char(related="company_id.netvisor_partner_key", readonly=False,
                                       groups="base.group_system")
    netvisor_customer_id = fields.Char(related="company_id.netvisor_customer_id", readonly=False,
                                       groups="base.group_system")
    netvisor_customer_key = fields.Char(related="company_id.netvisor_customer_key", readonly=False,
                                        groups="base.group_system")
    netvisor_organisation_id = fields.Char(related="company_id.netvisor_organisation_id", readonly=False)
    netvisor_base_url = fields.Char(related="company_id.netvisor_base_url", readonly=False,
                                    groups="base.group_system")
    netvisor_language = fields.Selection(related="company_id.netvisor_language", readonly=False)
    netvisor_auto_send_invoice = fields.Boolean(related="company_id.netvisor_auto_send_invoice", readonly=False)
    netvisor_auto_send_payslip = fields.Boolean(related="company_id.netvisor_auto_send_payslip", readonly=False)

    def action_netvisor_test_connection(self):
        self.ensure_one()
        return self._netvisor_notification(*self.company_id._netvisor_test_connection())

    def _netvisor_notification(self, ok, message, title=None):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title or (_("Netvisor: connection works") if ok else _("Netvisor: connection failed")),
                "message": message,
                "type": "success" if ok else "danger",
                "sticky": not ok,
            },
        }
