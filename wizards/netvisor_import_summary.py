from odoo import _, api, fields, models


class NetvisorImportSummary(models.TransientModel):
    """What one "Run import now" did: imported, already present, failed with reasons."""

    _name = "netvisor.import.summary"
    _description = "Netvisor Import Summary"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    state = fields.Selection([
        ("done", "Done"),
        ("partial", "Done, some invoices failed"),
        ("error", "Import failed"),
    ], required=True, readonly=True)
    window = fields.Char(string="Fetched", readonly=True)
    imported_count = fields.Integer(string="Imported", readonly=True)
    present_count = fields.Integer(string="Already Present", readonly=True)
    sent_count = fields.Integer(string="Sent from Odoo (skipped)", readonly=True)
    failed_count = fields.Integer(string="Failed", readonly=True)
    flagged_count = fields.Integer(string="With Rounding Line", readonly=True)
    error_message = fields.Text(readonly=True)
    failure_details = fields.Text(string="Failures", readonly=True)
    move_ids = fields.Many2many("account.move", "netvisor_import_summary_move_rel", "summary_id", "move_id",
                                string="Imported Bills", readonly=True)
    flagged_move_ids = fields.Many2many("account.move", "netvisor_import_summary_flagged_rel", "summary_id",
                                        "move_id", string="Bills with a Rounding Line", readonly=True)

    # ------------------------------------------------------------------ actions

    def action_open_bills(self):
        self.ensure_one()
        return self._netvisor_bills_action(self.move_ids, _("Bills imported from Netvisor"))

    def action_open_flagged_bills(self):
        self.ensure_one()
        return self._netvisor_bills_action(self.flagged_move_ids, _("Bills with a Netvisor rounding line"))

    def action_open_log(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Netvisor Log"),
            "res_model": "netvisor.log",
            "view_mode": "list,form",
            "domain": [("flow", "=", "purchase_import"), ("company_id", "=", self.company_id.id)],
        }

    # ------------------------------------------------------------------ business

    @api.model
    def _netvisor_bills_action(self, moves, name):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "account.move",
            "view_mode": "list,form",
            "views": [(self.env.ref("account.view_in_invoice_bill_tree").id, "list"), (False, "form")],
            "domain": [("id", "in", moves.ids)],
            "context": {"default_move_type": "in_invoice"},
        }

    @api.model
    def _netvisor_summary_values(self, summary):
        failures = []
        for failure in summary["failed"]:
            label = failure["number"] or failure["key"]
            vendor = f" ({failure['vendor']})" if failure["vendor"] else ""
            failures.append(f"{label}{vendor}: {failure['reason']}")
        if summary["error"]:
            state = "error"
        elif summary["failed"]:
            state = "partial"
        else:
            state = "done"
        return {
            "company_id": summary["company"].id,
            "state": state,
            "window": summary["window"],
            "imported_count": len(summary["imported"]),
            "present_count": summary["already_present"],
            "sent_count": summary["sent_from_odoo"],
            "failed_count": len(summary["failed"]),
            "flagged_count": len(summary["flagged"]),
            "error_message": summary["error"] or False,
            "failure_details": "\n".join(failures) or False,
            "move_ids": [fields.Command.set(summary["imported"].exists().ids)],
            "flagged_move_ids": [fields.Command.set(summary["flagged"].exists().ids)],
        }

    @api.model
    def _netvisor_open_summary(self, summary):
        wizard = self.create(self._netvisor_summary_values(summary))
        return {
            "type": "ir.actions.act_window",
            "name": _("Netvisor purchase invoice import"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }
