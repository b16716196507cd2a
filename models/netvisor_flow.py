from odoo import _, api, fields, models

from .netvisor_log import FLOWS


class NetvisorFlow(models.Model):
    """The overview: one card per company and flow, with its last run and what waits for
    attention. Each flow describes itself in ``_netvisor_flow_specs``."""

    _name = "netvisor.flow"
    _description = "Netvisor Flow Status"
    _order = "company_id, sequence, id"
    _rec_name = "flow"

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    flow = fields.Selection(FLOWS, required=True)
    sequence = fields.Integer(default=10)
    last_run_id = fields.Many2one("netvisor.run", string="Last Run Details", readonly=True, ondelete="set null")
    last_run_date = fields.Datetime(related="last_run_id.date_start", string="Last Run")
    last_run_state = fields.Selection(related="last_run_id.state", string="Last Run Status")
    last_run_done = fields.Integer(related="last_run_id.count_done")
    last_run_skipped = fields.Integer(related="last_run_id.count_skipped")
    last_run_failed = fields.Integer(related="last_run_id.count_failed")
    last_run_message = fields.Text(related="last_run_id.message")
    last_success_date = fields.Datetime(readonly=True)
    attention_count = fields.Integer(compute="_compute_attention", string="Waiting for Attention")
    error_log_count = fields.Integer(compute="_compute_attention", string="Errors (7 days)")
    description = fields.Char(compute="_compute_description")

    _sql_constraints = [
        ("company_flow_uniq", "unique(company_id, flow)", "One status row per company and flow."),
    ]

    def _compute_description(self):
        specs = self._netvisor_flow_specs()
        for row in self:
            row.description = specs.get(row.flow, {}).get("description", "")

    def _compute_attention(self):
        specs = self._netvisor_flow_specs()
        week = fields.Datetime.subtract(fields.Datetime.now(), days=7)
        for row in self:
            spec = specs.get(row.flow, {})
            model = spec.get("model")
            if model and model in self.env:
                row.attention_count = self.env[model].search_count(
                    spec["attention_domain"] + [("company_id", "=", row.company_id.id)])
            else:
                row.attention_count = 0
            row.error_log_count = self.env["netvisor.log"].search_count([
                ("company_id", "=", row.company_id.id), ("flow", "=", row.flow),
                ("state", "=", "error"), ("create_date", ">=", week)])

    # ------------------------------------------------------------------ actions

    @api.model
    def action_open_overview(self):
        # callable over RPC by any user: refuse those without access before the sudo() below
        self.check_access("read")
        companies = self.env.companies.filtered(lambda c: c.netvisor_organisation_id) or self.env.companies
        self.sudo()._netvisor_ensure_rows(companies)
        return {
            "type": "ir.actions.act_window",
            "name": _("Netvisor Overview"),
            "res_model": "netvisor.flow",
            "view_mode": "kanban,list",
            "views": [(self.env.ref("netvisor_integration.netvisor_flow_view_kanban").id, "kanban"),
                      (self.env.ref("netvisor_integration.netvisor_flow_view_list").id, "list")],
            "domain": [("company_id", "in", companies.ids), ("flow", "in", list(self._netvisor_flow_specs()))],
            "context": {"create": False},
        }

    def action_open_attention(self):
        self.ensure_one()
        spec = self._netvisor_flow_specs().get(self.flow, {})
        if not spec.get("model"):
            return self.action_open_log()
        return {
            "type": "ir.actions.act_window",
            "name": _("%(flow)s: waiting for attention", flow=self._flow_label()),
            "res_model": spec["model"],
            "view_mode": "list,form",
            "domain": spec["attention_domain"] + [("company_id", "=", self.company_id.id)],
        }

    def action_open_log(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("netvisor_integration.netvisor_log_action")
        action["domain"] = [("company_id", "=", self.company_id.id), ("flow", "=", self.flow)]
        action["context"] = {"search_default_errors": 1}
        return action

    def action_open_runs(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("%(flow)s: runs", flow=self._flow_label()),
            "res_model": "netvisor.run",
            "view_mode": "list,form",
            "domain": [("company_id", "=", self.company_id.id), ("flow", "=", self.flow)],
        }

    def action_run_now(self):
        self.ensure_one()
        spec = self._netvisor_flow_specs().get(self.flow, {})
        method = spec.get("run_method")
        if not method:
            return False
        model, name = method
        return getattr(self.env[model].with_company(self.company_id), name)()

    # ------------------------------------------------------------------ business

    def _flow_label(self):
        return dict(self._fields["flow"]._description_selection(self.env)).get(self.flow, self.flow)

    @api.model
    def _netvisor_flow_specs(self):
        """flow -> {"description", "model", "attention_domain", "run_method": (model, method)}.
        Each flow adds its entry by overriding this method."""
        return {
            "connection": {
                "sequence": 1,
                "description": _("Test connection from Settings."),
            },
        }

    @api.model
    def _netvisor_ensure_rows(self, companies):
        """Create the missing (company, flow) rows; safe when two transactions race
        (INSERT ... ON CONFLICT DO NOTHING on the unique constraint)."""
        specs = self._netvisor_flow_specs()
        rows = [(company.id, flow, spec.get("sequence", 10)) for company in companies
                for flow, spec in specs.items()]
        if not rows:
            return
        self.env.cr.execute("""
            INSERT INTO netvisor_flow (company_id, flow, sequence, create_uid, create_date, write_uid, write_date)
            SELECT c, f, s, %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
              FROM unnest(%(companies)s::int[], %(flows)s::varchar[], %(sequences)s::int[]) AS t(c, f, s)
            ON CONFLICT (company_id, flow) DO NOTHING
        """, {
            "uid": self.env.uid,
            "companies": [r[0] for r in rows],
            "flows": [r[1] for r in rows],
            "sequences": [r[2] for r in rows],
        })

    @api.model
    def _netvisor_record_run(self, run):
        self._netvisor_ensure_rows(run.company_id)
        row = self.search([("company_id", "=", run.company_id.id), ("flow", "=", run.flow)], limit=1)
        if not row:  # a flow without a spec entry
            return
        values = {"last_run_id": run.id}
        if run.state in ("done", "partial"):
            values["last_success_date"] = run.date_end
        row.write(values)
