from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import html_escape

NETVISOR_STATES = [
    ("not_sent", "Not Sent"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("error", "Error"),
]


class NetvisorMixin(models.AbstractModel):
    """Per-record Netvisor state for documents that Odoo sends to Netvisor."""

    _name = "netvisor.mixin"
    _description = "Netvisor Sending State"

    netvisor_state = fields.Selection(NETVISOR_STATES, string="Netvisor Status", default="not_sent",
                                      copy=False, tracking=True, index=True)
    netvisor_error = fields.Text(string="Netvisor Error", copy=False, readonly=True)
    netvisor_sent_date = fields.Datetime(string="Sent to Netvisor On", copy=False, readonly=True)

    def _netvisor_company(self):
        self.ensure_one()
        return self.company_id

    def _netvisor_set_error(self, message, flow, category="ERROR", activity=True):
        """Record a failure: state, chatter, Netvisor log, and an activity for the responsible user."""
        for record in self:
            company = record._netvisor_company()
            message = company._netvisor_redact(message)
            record.write({"netvisor_state": "error", "netvisor_error": message})
            self.env["netvisor.log"]._log_record_error(company, flow, record, message, category=category)
            if hasattr(record, "message_post"):
                record.message_post(body=_("Netvisor: %(message)s", message=html_escape(message)))
            if activity and hasattr(record, "activity_schedule"):
                user = record._netvisor_responsible_user()
                record.activity_schedule(
                    "mail.mail_activity_data_warning",
                    summary=_("Netvisor sending failed"),
                    note=html_escape(message),
                    user_id=user.id,
                )

    def _netvisor_send_batch(self, flow, trigger="manual", resend=False):
        """Send the records company by company, each through ``_netvisor_send_one(client,
        resend)`` -> (outcome, message), one failure never stopping the others; one
        ``netvisor.run`` per company; outside a manual send, commit after each record.
        Returns the counts ``done``, ``skipped``, ``failed`` and ``messages`` [(record, text)]."""
        results = {"done": 0, "skipped": 0, "failed": 0, "messages": []}
        for company, records in self.grouped("company_id").items():
            run = self.env["netvisor.run"]._netvisor_start(company, flow, trigger=trigger)
            try:
                client = company._netvisor_client(flow=flow)
            except UserError as error:
                run._netvisor_finish(error=str(error.args[0]))
                if trigger == "manual":
                    raise
                continue
            counts = {"done": 0, "skipped": 0, "failed": 0}
            for record in records:
                outcome, message = record._netvisor_send_one(client, resend=resend)
                counts[outcome] += 1
                if message:
                    results["messages"].append((record, message))
                if trigger != "manual":
                    company._netvisor_commit()
            run._netvisor_finish(**counts)
            for key, value in counts.items():
                results[key] += value
        return results

    def _netvisor_responsible_user(self):
        self.ensure_one()
        for name in ("invoice_user_id", "user_id", "create_uid"):
            user = self[name] if name in self._fields else False
            if user and user.active and not user.share:
                return user
        return self.env.user

    def _netvisor_set_sent(self, values=None):
        vals = {"netvisor_state": "sent", "netvisor_error": False, "netvisor_sent_date": fields.Datetime.now()}
        vals.update(values or {})
        self.write(vals)
        # close the warnings of earlier failures
        if "activity_ids" in self._fields:
            self.activity_ids.filtered(
                lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_warning")
                and a.summary == _("Netvisor sending failed")).action_done()

    @api.model
    def _netvisor_state_selection(self):
        return NETVISOR_STATES
