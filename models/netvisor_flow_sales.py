from odoo import _, api, models

from .account_move_sales import FLOW, SALES_MOVE_TYPES


class NetvisorFlow(models.Model):
    """The sales invoice card of the Netvisor overview. Imported from wizards/__init__.py
    because models/__init__.py loads netvisor.flow (overview) after the flow files."""

    _inherit = "netvisor.flow"

    @api.model
    def _netvisor_flow_specs(self):
        specs = super()._netvisor_flow_specs()
        specs[FLOW] = {
            "sequence": 20,
            "description": _("Posted customer invoices and credit notes go to Netvisor (Send to Netvisor, "
                             "auto-send on confirm)."),
            "model": "account.move",
            "attention_domain": [("move_type", "in", list(SALES_MOVE_TYPES)), ("state", "=", "posted"),
                                 ("netvisor_state", "=", "error")],
            "run_method": ("account.move", "action_netvisor_send_queued"),
        }
        return specs

