from odoo import api, fields, models

LINK_MODELS = [
    ("res.partner", "Customer"),
    ("product.product", "Product"),
]


class NetvisorLink(models.Model):
    """Which Netvisor record an Odoo record is, per company.

    One row per (company, Odoo record): a partner can be customer 12 in one company's
    Netvisor and customer 870 in another's. The database refuses a second Odoo record
    for the same Netvisor key of a company, and a second key for the same record."""

    _name = "netvisor.link"
    _description = "Netvisor Record Link"
    _order = "company_id, res_model, id"
    _rec_name = "netvisor_key"

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    res_model = fields.Selection(LINK_MODELS, string="Odoo Model", required=True, index=True)
    res_id = fields.Many2oneReference(string="Odoo Record ID", model_field="res_model", required=True, index=True)
    netvisor_key = fields.Char(string="Netvisor Key", required=True, index=True)
    netvisor_code = fields.Char(string="Netvisor Code", help="Customer or product code in Netvisor at the last sync.")
    sync_date = fields.Datetime(string="Last Synced On",
                                help="When this record was last found equal on both sides or written by the sync.")

    _sql_constraints = [
        ("netvisor_key_uniq", "unique(company_id, res_model, netvisor_key)",
         "This Netvisor record is already linked to another Odoo record of this company."),
        ("record_uniq", "unique(company_id, res_model, res_id)",
         "This Odoo record is already linked to a Netvisor record of this company."),
    ]

    # ------------------------------------------------------------------ business

    @api.model
    def _netvisor_links(self, company, res_model, res_ids=None):
        """{res_id: link} of a company and model (all of them, or of ``res_ids``)."""
        domain = [("company_id", "=", company.id), ("res_model", "=", res_model)]
        if res_ids is not None:
            domain.append(("res_id", "in", list(res_ids)))
        return {link.res_id: link for link in self.sudo().search(domain)}

    @api.model
    def _netvisor_key_for(self, company, record):
        link = self.sudo().search([
            ("company_id", "=", company.id), ("res_model", "=", record._name), ("res_id", "=", record.id),
        ], limit=1)
        return link.netvisor_key or False

    @api.model
    def _netvisor_set_link(self, company, record, key, code=None, sync_date=None):
        """Link ``record`` to Netvisor ``key`` in ``company`` (replacing its former key)."""
        record.ensure_one()
        values = {"netvisor_key": str(key)}
        if code is not None:
            values["netvisor_code"] = code or False
        if sync_date is not None:
            values["sync_date"] = sync_date
        link = self.sudo().search([
            ("company_id", "=", company.id), ("res_model", "=", record._name), ("res_id", "=", record.id),
        ], limit=1)
        if link:
            link.write(values)
            return link
        return self.sudo().create(dict(values, company_id=company.id, res_model=record._name, res_id=record.id))

    @api.model
    def _netvisor_unlink_records(self, records):
        if records:
            self.sudo().search([("res_model", "=", records._name), ("res_id", "in", records.ids)]).unlink()
