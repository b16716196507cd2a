import datetime

from odoo import _, api, fields, models

from ..netvisor.transport import redact

MAX_BODY_CHARS = 200_000
FLOWS = [
    ("connection", "Test connection"),
    ("purchase_import", "Purchase invoice import"),
    ("sales_send", "Sales invoice send"),
    ("payment_sync", "Payment status sync"),
    ("customer_sync", "Customer sync"),
    ("product_sync", "Product sync"),
    ("payslip_send", "Payslip send"),
    ("expense_send", "Expense send"),
]


class NetvisorLog(models.Model):
    _name = "netvisor.log"
    _description = "Netvisor Log"
    _order = "id desc"
    _rec_name = "resource"

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade",
                                 default=lambda self: self.env.company)
    flow = fields.Selection(FLOWS, required=True, index=True)
    resource = fields.Char(help="Netvisor resource, e.g. salesinvoice.nv")
    method = fields.Char()
    direction = fields.Selection([("out", "Odoo → Netvisor"), ("in", "Netvisor → Odoo")], required=True,
                                 default="out")
    res_model = fields.Char(string="Related Model", index=True)
    res_id = fields.Many2oneReference(string="Related Record ID", model_field="res_model", index=True)
    record_ref = fields.Reference(selection="_selection_record_ref", string="Related Record",
                                  compute="_compute_record_ref")
    state = fields.Selection([("success", "Success"), ("error", "Error")], required=True, index=True)
    error_category = fields.Char(index=True)
    error_message = fields.Text()
    http_status = fields.Integer(string="HTTP Status")
    duration_ms = fields.Integer(string="Duration (ms)")
    transaction_id = fields.Char(string="Transaction ID")
    attempt = fields.Integer(default=1)
    url = fields.Char(string="URL")
    request_body = fields.Text()
    response_body = fields.Text()

    @api.model
    def _selection_record_ref(self):
        return [(model.model, model.name) for model in self.env["ir.model"].sudo().search([])]

    @api.depends("res_model", "res_id")
    def _compute_record_ref(self):
        for log in self:
            if log.res_model and log.res_id and log.res_model in self.env:
                log.record_ref = f"{log.res_model},{log.res_id}"
            else:
                log.record_ref = False

    # ------------------------------------------------------------------ actions

    def action_open_record(self):
        self.ensure_one()
        if not self.record_ref:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------ business

    @api.model
    def _truncate(self, value):
        if value and len(value) > MAX_BODY_CHARS:
            return value[:MAX_BODY_CHARS] + "\n" + _("[truncated: %(size)s characters in all]", size=len(value))
        return value

    @api.model
    def _log_exchange(self, company_id, flow, exchange, secrets):
        """Write one HTTP attempt (hook of netvisor.Client)."""
        error = exchange.error
        direction = "out" if exchange.method == "POST" else "in"
        return self.sudo().create({
            "company_id": company_id,
            "flow": flow,
            "resource": exchange.resource,
            "method": exchange.method,
            "direction": exchange.extra.get("direction", direction),
            "res_model": exchange.extra.get("res_model"),
            "res_id": exchange.extra.get("res_id"),
            "state": "success" if exchange.ok else "error",
            "error_category": error.category if error else False,
            "error_message": redact(error.text, secrets) if error else False,
            "http_status": exchange.http_status,
            "duration_ms": exchange.duration_ms,
            "transaction_id": exchange.transaction_id,
            "attempt": exchange.attempt,
            "url": redact(exchange.url, secrets),
            "request_body": self._truncate(redact(exchange.request_body, secrets)),
            "response_body": self._truncate(redact(exchange.response_body, secrets)),
        })

    @api.model
    def _log_record_error(self, company, flow, record, message, category="VALIDATION", direction="out"):
        """A failure that is not (only) an HTTP exchange: bad input, mapping missing ..."""
        secrets = company.sudo()._netvisor_credentials().secrets() if company.netvisor_configured else ()
        return self.sudo().create({
            "company_id": company.id,
            "flow": flow,
            "direction": direction,
            "res_model": record._name if record else False,
            "res_id": record.id if record else False,
            "state": "error",
            "error_category": category,
            "error_message": redact(message, secrets),
        })

    @api.autovacuum
    def _gc_netvisor_log(self):
        """Delete rows older than the retention (days, system parameter; default 90)."""
        days = int(self.env["ir.config_parameter"].sudo().get_param("netvisor_integration.log_retention_days", 90))
        limit_date = fields.Datetime.now() - datetime.timedelta(days=days)
        self.sudo().search([("create_date", "<", limit_date)], limit=10000).unlink()
