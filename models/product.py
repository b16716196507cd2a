from decimal import Decimal

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from ..netvisor import errors as nv_errors
from ..netvisor.resources import products as nv_products

# Netvisor product field (netvisor.resources.products.ProductData) -> product field
PRODUCT_FIELDS = {
    "code": "default_code",
    "name": "name",
    "unit_price": "list_price",
    "unit": "uom_id",
    "vat_percent": "taxes_id",
    "primary_ean": "barcode",
    "is_active": "active",
}
SYNCED_PRODUCT_FIELDS = tuple(PRODUCT_FIELDS)


class ProductTemplate(models.Model):
    _inherit = "product.template"

    netvisor_product_key = fields.Char(
        string="Netvisor Product Key", compute="_compute_netvisor_product_key",
        help="Key of this product in the Netvisor of the current company (empty: not linked yet).")

    @api.depends_context("company")
    @api.depends("product_variant_ids")
    def _compute_netvisor_product_key(self):
        variants = self.with_context(active_test=False).product_variant_ids
        links = self.env["netvisor.link"]._netvisor_links(self.env.company, "product.product", variants.ids)
        for template in self:
            keys = [links[v.id].netvisor_key for v in template.with_context(active_test=False).product_variant_ids
                    if v.id in links]
            template.netvisor_product_key = ", ".join(keys) or False


class ProductProduct(models.Model):
    _inherit = "product.product"

    netvisor_product_key = fields.Char(
        string="Netvisor Product Key", compute="_compute_netvisor_product_key",
        help="Key of this product in the Netvisor of the current company (empty: not linked yet).")

    # ------------------------------------------------------------------ computes

    @api.depends_context("company")
    def _compute_netvisor_product_key(self):
        links = self.env["netvisor.link"]._netvisor_links(self.env.company, "product.product", self.ids)
        for product in self:
            link = links.get(product.id)
            product.netvisor_product_key = link.netvisor_key if link else False

    # ------------------------------------------------------------------ CRUD

    def unlink(self):
        self.env["netvisor.link"]._netvisor_unlink_records(self)
        return super().unlink()

    # ------------------------------------------------------------------ business: mapping

    def _netvisor_field_label(self, name):
        fname = PRODUCT_FIELDS.get(name, name)
        field = self._fields.get(fname)
        return field._description_string(self.env) if field else name

    def _netvisor_sale_taxes(self, company):
        self.ensure_one()
        return self.taxes_id._filter_taxes_by_company(company)

    def _netvisor_price_digits(self):
        return self.env["decimal.precision"].precision_get("Product Price")

    def _netvisor_product_data(self, company, check=True, group=None, vat_cache=None):
        """The Netvisor product (dict of ProductData fields) of this product in ``company``.

        ``group``: the product group to send (Netvisor requires one; default: the product
        category's name). With ``check``, raise a UserError naming the product and the
        field for what Netvisor would refuse. ``vat_cache``: {tax id: percent or None}."""
        self.ensure_one()
        taxes = self._netvisor_sale_taxes(company)
        vat_percent = None
        price_type = "net"
        if taxes:
            tax = taxes[0]
            vat_cache = {} if vat_cache is None else vat_cache
            if tax.id not in vat_cache:
                try:
                    vat_cache[tax.id] = self.env["netvisor.vat.mapping"]._netvisor_vat_for_tax(tax)[1]
                except UserError:
                    if check:
                        raise
                    vat_cache[tax.id] = None
            if vat_cache[tax.id] is not None:
                vat_percent = Decimal(str(vat_cache[tax.id])).normalize()
            price_type = "gross" if tax.price_include else "net"
        digits = self._netvisor_price_digits()
        data = {
            "code": (self.default_code or "").strip(),
            "group": group or self.categ_id.name or _("Products"),
            "name": (self.name or "").strip(),
            "unit_price": Decimal(str(float_round(self.lst_price, precision_digits=digits))),
            "price_type": price_type,
            "unit": self.uom_id.name or "",
            "is_active": self.active and self.product_tmpl_id.active,
            "is_sales_product": self.sale_ok,
            "primary_ean": (self.barcode or "").strip(),
            "vat_percent": vat_percent,
        }
        if check:
            self._netvisor_check_product_data(data)
        return data

    def _netvisor_check_product_data(self, data, names=None):
        problem = self._netvisor_product_problem(data, names=names)
        if problem:
            raise UserError(problem)

    def _netvisor_product_problem(self, data, names=None):
        """Why Netvisor would refuse ``data`` (its fields ``names``, all by default), naming the
        product and the field, or None."""
        self.ensure_one()
        names = set(data) if names is None else set(names)
        problems = [p for p in nv_products.product_problems(data) if p[0] in names]
        if problems:
            name, limit, length = problems[0]
            return _(
                "Product %(product)s: %(field)s is %(length)s characters long; Netvisor accepts at most "
                "%(limit)s.", product=self.display_name, field=self._netvisor_field_label(name),
                length=length, limit=limit)
        return None

    # ------------------------------------------------------------------ business: keys

    def _netvisor_get_product_key(self, company):
        """Netvisor key of this product in ``company``, or False."""
        self.ensure_one()
        return self.env["netvisor.link"]._netvisor_key_for(company, self)

    def _netvisor_ensure_product(self, client, company):
        """How a sales invoice line names this product: ``("customer", default_code)`` when it
        has a code (the product is created in Netvisor first when Netvisor has no product
        with that code), else ``("netvisor", key)`` (created in Netvisor when not linked).
        The Netvisor key is stored per company either way."""
        self.ensure_one()
        key = self._netvisor_get_product_key(company)
        code = (self.default_code or "").strip()
        if key and not code:
            return "netvisor", key
        if key:
            return "customer", code
        data = self._netvisor_product_data(company)
        previous_context = client.context
        client.context = {"res_model": "product.product", "res_id": self.id}
        try:
            existing = nv_products.get_product(client, code=code) if code else None
            if existing:
                key = existing.netvisor_key
            else:
                try:
                    key = nv_products.add_product(client, data)
                except (nv_errors.NetvisorDuplicateDataError, nv_errors.NetvisorOutcomeUnknownError):
                    existing = nv_products.get_product(client, code=code) if code else None
                    if not existing:
                        raise
                    key = existing.netvisor_key
        finally:
            client.context = previous_context
        self.env["netvisor.link"]._netvisor_set_link(
            company, self, key, code=code or None, sync_date=fields.Datetime.now())
        return ("customer", code) if code else ("netvisor", key)
