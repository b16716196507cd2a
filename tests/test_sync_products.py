from decimal import Decimal

from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_sync_customers import NetvisorSyncTestCommon


@tagged("post_install", "-at_install")
class TestNetvisorEnsureProduct(NetvisorSyncTestCommon):
    """product.product._netvisor_ensure_product / _netvisor_get_product_key (used by the sales invoice flow)."""

    sandbox_data = {"products": [
        {"netvisor_key": 701, "code": "EXIST", "name": "Olemassa", "unit_price": "5", "vat_percent": "25.5"},
    ]}

    def setUp(self):
        super().setUp()
        self.client = self.company._netvisor_client("product_sync")
        self.tax = self.env["account.tax"].create({
            "name": "ALV 25,5 % test", "amount": 25.5, "amount_type": "percent", "type_tax_use": "sale",
            "company_id": self.company.id})

    def _product(self, **values):
        return self.env["product.product"].create(dict({
            "name": "Testituote", "list_price": 19.9, "taxes_id": [(6, 0, self.tax.ids)]}, **values))

    def test_product_with_code_is_created_then_named_by_code(self):
        product = self._product(default_code="T-100", barcode="6412345678901")
        self.assertFalse(product._netvisor_get_product_key(self.company))
        self.assertEqual(product._netvisor_ensure_product(self.client, self.company), ("customer", "T-100"))
        key = product._netvisor_get_product_key(self.company)
        self.assertTrue(key)
        record = self.org.collections["products"][int(key)]
        self.assertEqual((record["code"], record["name"], Decimal(record["unit_price"]), record["price_type"],
                          Decimal(record["vat_percent"]), record["primary_ean"]),
                         ("T-100", "Testituote", Decimal("19.9"), "net", Decimal("25.5"), "6412345678901"))
        self.assertEqual(product.with_company(self.company).netvisor_product_key, key)
        self.assertEqual(product.product_tmpl_id.with_company(self.company).netvisor_product_key, key)
        posts = len([r for r in self.sandbox.state.requests if r[0] == "product.nv"])
        self.assertEqual(product._netvisor_ensure_product(self.client, self.company), ("customer", "T-100"))
        self.assertEqual(len([r for r in self.sandbox.state.requests if r[0] == "product.nv"]), posts)
        self.assertFalse(product._netvisor_get_product_key(self.other_company))

    def test_existing_code_in_netvisor_is_linked(self):
        product = self._product(default_code="EXIST")
        self.assertEqual(product._netvisor_ensure_product(self.client, self.company), ("customer", "EXIST"))
        self.assertEqual(product._netvisor_get_product_key(self.company), "701")
        self.assertEqual(len(self.org.collections["products"]), 1)

    def test_product_without_code_named_by_key(self):
        product = self._product()
        identifier_type, value = product._netvisor_ensure_product(self.client, self.company)
        self.assertEqual(identifier_type, "netvisor")
        self.assertEqual(value, product._netvisor_get_product_key(self.company))
        self.assertEqual(self.org.collections["products"][int(value)]["code"], "")
        self.assertEqual(product._netvisor_ensure_product(self.client, self.company), ("netvisor", value))

    def test_name_too_long(self):
        product = self._product(name="P" * 201, default_code="LONG")
        with self.assertRaises(UserError) as caught:
            product._netvisor_ensure_product(self.client, self.company)
        message = str(caught.exception)
        self.assertIn("201 characters", message)
        self.assertIn("200", message)
        self.assertIn(product._fields["name"]._description_string(self.env), message)

    def test_code_too_long(self):
        product = self._product(default_code="C" * 51)
        with self.assertRaisesRegex(UserError, "51 characters.*50"):
            product._netvisor_ensure_product(self.client, self.company)
