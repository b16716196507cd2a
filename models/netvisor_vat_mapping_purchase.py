from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero

# l10n_fi chart template taxes for Netvisor's purchase VAT codes (API.md 5.8), used when the
# company has no mapping row and the rate alone matches several taxes ("25.5%" and "25.5% S").
# {rate} is the rate with "_" for the decimal point (25.5 -> 25_5).
FI_PURCHASE_TAX_TEMPLATES = {
    "KOOS": ("tax_dom_purchase_goods_{rate}", "tax_dom_purchase_{rate}"),
    "EUOS": ("tax_eu_purchase_goods_{rate}",),
    "EUPO": ("tax_eu_purchase_service_{rate}",),
}


class NetvisorVatMapping(models.Model):
    """Finnish defaults for purchase invoices imported from Netvisor: on top of the company's
    mapping rows and the unique-rate default, use the l10n_fi chart taxes by their template id,
    and read ``NONE`` 0 % (no VAT handling) as "no tax" when no 0 % purchase tax is mapped."""

    _inherit = "netvisor.vat.mapping"

    @api.model
    def _netvisor_tax_for_vat(self, company, vat_code, percent, type_tax_use="purchase"):
        try:
            return super()._netvisor_tax_for_vat(company, vat_code, percent, type_tax_use)
        except UserError:
            if type_tax_use != "purchase":
                raise
            tax = self._netvisor_fi_purchase_template_tax(company, vat_code, percent)
            if tax:
                return tax
            if vat_code == "NONE" and float_is_zero(float(percent), 2):
                return self.env["account.tax"]
            raise

    @api.model
    def _netvisor_fi_purchase_template_tax(self, company, vat_code, percent):
        templates = FI_PURCHASE_TAX_TEMPLATES.get(vat_code)
        if not templates:
            return self.env["account.tax"]
        rate = f"{float(percent):g}".replace(".", "_")
        chart = self.env["account.chart.template"].with_company(company)
        for template in templates:
            tax = chart.ref(template.format(rate=rate), raise_if_not_found=False)
            if (tax and tax._name == "account.tax" and tax.active and tax.company_id == company
                    and tax.type_tax_use == "purchase"
                    and float_compare(tax.amount, float(percent), 2) == 0):
                return tax
        return self.env["account.tax"]
