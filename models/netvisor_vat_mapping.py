from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare

# API.md 5.8: Netvisor VAT codes and the percentages each accepts (None = any listed rate)
FINNISH_RATES = (0.0, 10.0, 13.5, 14.0, 24.0, 25.5)
VAT_CODES = [
    ("NONE", "NONE - No VAT handling"),
    ("KOMY", "KOMY - Domestic sales"),
    ("KOMY0", "KOMY0 - Domestic sales 0 %"),
    ("EUMY", "EUMY - EU sales"),
    ("EUUM", "EUUM - Sales outside EU"),
    ("EUPM312", "EUPM312 - EU service sales (312)"),
    ("EUPM309", "EUPM309 - EU service sales (309)"),
    ("MUUL", "MUUL - Other VAT-exempt turnover (310)"),
    ("KOOS", "KOOS - Domestic purchase"),
    ("EUOS", "EUOS - EU goods purchase"),
    ("EUPO", "EUPO - EU service purchase"),
    ("EUUO", "EUUO - Purchases outside EU"),
    ("100", "100 - 100 % deductible tax"),
    ("EVTO", "EVTO - Non-deductible EU goods purchase"),
    ("EVPO", "EVPO - Non-deductible EU service purchase"),
    ("EVKV", "EVKV - Non-deductible reverse charge"),
    ("KAVE", "KAVE - Deductible reverse charge"),
    ("RAMY", "RAMY - Construction services sale"),
    ("RAOS", "RAOS - Construction services purchase"),
    ("EVRO", "EVRO - Non-deductible construction services purchase"),
    ("MAAL", "MAAL - Import VAT outside EU, deductible"),
    ("EVMA", "EVMA - Import VAT outside EU, non-deductible"),
]
ZERO_ONLY = {"NONE", "KOMY0", "EUMY", "EUUM", "EUPM312", "EUPM309", "EUUO", "100", "RAMY"}
SALE_CODES = {"KOMY", "KOMY0", "EUMY", "EUUM", "EUPM312", "EUPM309", "MUUL", "RAMY", "NONE"}


class NetvisorVatMapping(models.Model):
    """Which Odoo tax stands for which Netvisor VAT code and percent, per company.

    Rows override the defaults: a sales tax of p % is KOMY p %, a purchase tax KOOS p %
    (domestic). EU, export and reverse-charge taxes need a row."""

    _name = "netvisor.vat.mapping"
    _description = "Netvisor VAT Mapping"
    _order = "company_id, type_tax_use, netvisor_vat_code, netvisor_vat_percent"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    tax_id = fields.Many2one("account.tax", string="Odoo Tax", required=True, ondelete="cascade",
                             check_company=True, domain="[('amount_type', '=', 'percent')]")
    type_tax_use = fields.Selection(related="tax_id.type_tax_use", store=True)
    netvisor_vat_code = fields.Selection(VAT_CODES, string="Netvisor VAT Code", required=True)
    netvisor_vat_percent = fields.Float(string="Netvisor VAT %", digits=(5, 2), required=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("tax_company_uniq", "unique(company_id, tax_id)", "A tax can be mapped only once per company."),
    ]

    @api.constrains("netvisor_vat_code", "netvisor_vat_percent")
    def _check_percent(self):
        for row in self:
            percent = row.netvisor_vat_percent
            if row.netvisor_vat_code in ZERO_ONLY and percent:
                raise ValidationError(_(
                    "Netvisor VAT mapping of %(tax)s: the code %(code)s only accepts 0 %%, not %(percent)s %%.",
                    tax=row.tax_id.display_name, code=row.netvisor_vat_code, percent=percent))
            if not any(float_compare(percent, rate, 2) == 0 for rate in FINNISH_RATES):
                raise ValidationError(_(
                    "Netvisor VAT mapping of %(tax)s: %(percent)s %% is not a Finnish VAT rate (%(rates)s).",
                    tax=row.tax_id.display_name, percent=percent,
                    rates=", ".join(f"{r:g}" for r in FINNISH_RATES)))

    @api.onchange("tax_id")
    def _onchange_tax_id(self):
        if self.tax_id and not self.netvisor_vat_code:
            self.netvisor_vat_code, self.netvisor_vat_percent = self._default_vat(self.tax_id)

    # ------------------------------------------------------------------ business

    @api.model
    def _default_vat(self, tax):
        code = "KOMY" if tax.type_tax_use == "sale" else "KOOS"
        return code, tax.amount

    @api.model
    def _netvisor_vat_for_tax(self, tax):
        """(vat code, percent) for one Odoo tax, from the company's rows or the defaults."""
        tax.ensure_one()
        row = self.sudo().search([("company_id", "=", tax.company_id.id), ("tax_id", "=", tax.id)], limit=1)
        if row:
            return row.netvisor_vat_code, row.netvisor_vat_percent
        if tax.amount_type != "percent":
            raise UserError(_(
                "The tax %(tax)s is not a percentage tax and has no Netvisor VAT mapping: add one in "
                "Accounting > Configuration > Netvisor VAT Mapping.", tax=tax.display_name))
        return self._default_vat(tax)

    @api.model
    def _netvisor_tax_for_vat(self, company, vat_code, percent, type_tax_use="purchase"):
        """The Odoo tax for a Netvisor VAT code and percent. Rows first, then a domestic
        default (a single non-price-included percent tax of that rate); never a guess."""
        rows = self.sudo().search([
            ("company_id", "=", company.id),
            ("netvisor_vat_code", "=", vat_code),
            ("type_tax_use", "=", type_tax_use),
        ]).filtered(lambda r: float_compare(r.netvisor_vat_percent, float(percent), 2) == 0)
        if rows:
            return rows[0].tax_id
        domestic = {"purchase": {"KOOS", "NONE"}, "sale": {"KOMY", "KOMY0", "NONE"}}[type_tax_use]
        if vat_code not in domestic:
            raise UserError(_(
                "No Odoo tax is mapped to the Netvisor VAT code %(code)s %(percent)s %% (%(use)s) for "
                "company %(company)s: add it in Accounting > Configuration > Netvisor VAT Mapping.",
                code=vat_code, percent=percent, use=type_tax_use, company=company.display_name))
        mapped = self.sudo().search([("company_id", "=", company.id)]).tax_id
        taxes = self.env["account.tax"].sudo().search([
            ("company_id", "=", company.id),
            ("type_tax_use", "=", type_tax_use),
            ("amount_type", "=", "percent"),
            ("price_include_override", "!=", "tax_included"),
            ("id", "not in", mapped.ids),
        ]).filtered(lambda t: float_compare(t.amount, float(percent), 2) == 0 and not t.children_tax_ids)
        if len(taxes) > 1:
            # several candidates: a domestic one is the one without reverse-charge repartition
            plain = taxes.filtered(lambda t: all(
                line.factor_percent >= 0 for line in t.invoice_repartition_line_ids))
            taxes = plain if len(plain) == 1 else taxes
        if len(taxes) != 1:
            raise UserError(_(
                "Netvisor VAT code %(code)s %(percent)s %% (%(use)s) matches %(count)s Odoo taxes of company "
                "%(company)s: map it explicitly in Accounting > Configuration > Netvisor VAT Mapping.",
                code=vat_code, percent=percent, use=type_tax_use, count=len(taxes), company=company.display_name))
        return taxes
