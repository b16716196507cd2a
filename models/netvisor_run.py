import logging

import psycopg2

from odoo import _, api, fields, models

from .netvisor_log import FLOWS

_logger = logging.getLogger(__name__)


class NetvisorRun(models.Model):
    """One run of a flow for one company (a cron run, a button, an auto-send batch)."""

    _name = "netvisor.run"
    _description = "Netvisor Run"
    _order = "id desc"
    _rec_name = "flow"

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    flow = fields.Selection(FLOWS, required=True, index=True)
    trigger = fields.Selection([("cron", "Scheduled"), ("manual", "Manual"), ("auto", "Automatic")],
                               required=True, default="manual")
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user)
    date_start = fields.Datetime(string="Started", required=True, default=fields.Datetime.now)
    date_end = fields.Datetime(string="Finished")
    state = fields.Selection([
        ("running", "Running"),
        ("done", "Done"),
        ("partial", "Done with Failures"),
        ("failed", "Failed"),
    ], required=True, default="running", index=True)
    count_done = fields.Integer(string="Done")
    count_skipped = fields.Integer(string="Already Present / Unchanged")
    count_failed = fields.Integer(string="Failed")
    message = fields.Text()
    duration = fields.Float(compute="_compute_duration", string="Duration (s)")

    @api.depends("date_start", "date_end")
    def _compute_duration(self):
        for run in self:
            run.duration = (run.date_end - run.date_start).total_seconds() if run.date_end else 0.0

    # ------------------------------------------------------------------ business

    @api.model
    def _netvisor_start(self, company, flow, trigger="manual"):
        return self.sudo().create({"company_id": company.id, "flow": flow, "trigger": trigger})

    def _netvisor_finish(self, done=0, skipped=0, failed=0, message=None, error=None):
        """Close the run with its counts; ``error`` (a text) marks the whole run failed."""
        self.ensure_one()
        state = "failed" if error else ("partial" if failed else "done")
        error, message = self.company_id._netvisor_redact(error), self.company_id._netvisor_redact(message)
        self.sudo().write({
            "date_end": fields.Datetime.now(),
            "state": state,
            "count_done": done,
            "count_skipped": skipped,
            "count_failed": failed,
            "message": error or message or False,
        })
        try:
            with self.env.cr.savepoint():
                self.env["netvisor.flow"].sudo()._netvisor_record_run(self)
        except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable,
                psycopg2.errors.UniqueViolation):
            # another worker's run of this flow updated the overview row meanwhile: the work of
            # this run is done and recorded on the run itself, only the overview card misses it
            _logger.warning("Netvisor %s run %s of company %s not recorded on the overview (concurrent run)",
                            self.flow, self.id, self.company_id.id)
        return self

    def _netvisor_summary(self):
        self.ensure_one()
        return _("%(done)s done, %(skipped)s already present or unchanged, %(failed)s failed",
                 done=self.count_done, skipped=self.count_skipped, failed=self.count_failed)

    @api.autovacuum
    def _gc_netvisor_run(self):
        days = int(self.env["ir.config_parameter"].sudo().get_param("netvisor_integration.log_retention_days", 90))
        limit = fields.Datetime.subtract(fields.Datetime.now(), days=days)
        self.sudo().search([("date_start", "<", limit), ("state", "!=", "running")], limit=10000).unlink()
