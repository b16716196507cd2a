from odoo import api, fields, models


class NetvisorDimensionMapping(models.Model):
    """Which Odoo analytic account stands for a Netvisor dimension item, per company.
    Imported purchase invoice lines get an analytic distribution from their dimensions
    where a row exists; dimensions without a row are ignored."""

    _name = "netvisor.dimension.mapping"
    _description = "Netvisor Dimension Mapping"
    _order = "company_id, dimension_name, dimension_item"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    dimension_name = fields.Char(string="Netvisor Dimension", required=True,
                                 help="Name of the dimension in Netvisor, e.g. Projects or Kustannuspaikka.")
    dimension_item = fields.Char(string="Netvisor Dimension Item", required=True,
                                 help="Name of the dimension item in Netvisor, e.g. Project 1.")
    analytic_account_id = fields.Many2one("account.analytic.account", string="Analytic Account", required=True,
                                          ondelete="cascade", check_company=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("item_company_uniq", "unique(company_id, dimension_name, dimension_item)",
         "A Netvisor dimension item can be mapped only once per company."),
    ]

    @api.model
    def _netvisor_key(self, name, item):
        return ((name or "").strip().casefold(), (item or "").strip().casefold())

    @api.model
    def _netvisor_mapping_table(self, company):
        """{(dimension, item) casefolded: analytic account} of the company's active rows."""
        rows = self.sudo().search([("company_id", "=", company.id)])
        return {self._netvisor_key(row.dimension_name, row.dimension_item): row.analytic_account_id for row in rows}
