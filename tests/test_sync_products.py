from decimal import Decimal

from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_sync_customers import NetvisorSyncTestCommon, NetvisorSyncWizardCase


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

    def test_unknown_outcome_is_looked_up_not_resent(self):
        self.sandbox.faults.configure(queue=[("drop_after_process", "product.nv")])
        product = self._product(default_code="KATKOS")
        self.assertEqual(product._netvisor_ensure_product(self.client, self.company), ("customer", "KATKOS"))
        self.assertEqual(len(self.org.collections["products"]), 2, "stored once")
        self.assertEqual(self.org.collections["products"][int(product._netvisor_get_product_key(self.company))][
            "code"], "KATKOS")

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


@tagged("post_install", "-at_install")
class TestNetvisorProductSync(NetvisorSyncWizardCase):

    sandbox_data = {"products": [
        {"netvisor_key": 701, "code": "KAHVI", "group": "Juomat", "name": "Kahvi", "unit_price": "10",
         "vat_percent": "25.5", "unit": "kg", "primary_ean": "6410000000011"},
        {"netvisor_key": 702, "code": "TEE", "group": "Juomat", "name": "Tee", "unit_price": "5", "vat_percent": "14",
         "unit": "Units"},
        {"netvisor_key": 703, "code": "", "group": "Palvelut", "name": "Asennus", "unit_price": "100",
         "vat_percent": "25.5", "unit": "Units"},
        {"netvisor_key": 704, "code": "VANHA", "name": "Vanha tuote", "unit_price": "1", "is_active": False},
    ]}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Tax = cls.env["account.tax"]
        cls.tax_255 = Tax.create({"name": "ALV 25,5 %", "amount": 25.5, "amount_type": "percent",
                                  "type_tax_use": "sale", "company_id": cls.company.id})
        cls.tax_14 = Tax.create({"name": "ALV 14 %", "amount": 14, "amount_type": "percent",
                                 "type_tax_use": "sale", "company_id": cls.company.id})
        cls.kg = cls.env.ref("uom.product_uom_kgm")
        cls.unit = cls.env.ref("uom.product_uom_unit")

    def setUp(self):
        super().setUp()
        Product = self.env["product.product"]
        self.kahvi = Product.create({"name": "Kahvi", "default_code": "KAHVI", "list_price": 10,
                                     "taxes_id": [(6, 0, self.tax_255.ids)], "uom_id": self.kg.id,
                                     "uom_po_id": self.kg.id})
        self.tee = Product.create({"name": "Tee (irto)", "default_code": "TEE", "list_price": 6,
                                   "taxes_id": [(6, 0, self.tax_14.ids)]})
        self.mehu = Product.create({"name": "Mehu", "default_code": "MEHU", "list_price": 3.5,
                                    "taxes_id": [(6, 0, self.tax_14.ids)], "barcode": "6410000000028"})
        # products of the test base that are not about this test stay out of Netvisor
        (Product.search([("id", "not in", (self.kahvi | self.tee | self.mehu).ids)])).write({"sale_ok": False})

    def test_preview_writes_nothing(self):
        wizard = self.run_sync("product", apply=False)
        self.assertFalse(self.posts("product.nv"))
        self.assertFalse(self.env["product.product"].search([("name", "=", "Asennus")]))
        self.assertFalse(self.env["netvisor.link"].search([("res_model", "=", "product.product")]))
        self.assertFalse(self.kahvi.barcode)
        self.assertEqual(self.line_for(wizard, self.kahvi).action, "update")
        self.assertEqual(self.line_for(wizard, self.tee).action, "conflict")
        self.assertEqual(self.line_for(wizard, self.mehu).action, "create")
        self.assertEqual(self.line_for(wizard, key=703).action, "create")
        self.assertEqual(self.line_for(wizard, key=704).action, "unchanged")
        self.assertFalse(self.company.netvisor_product_import_date)

    def test_full_sync(self):
        wizard = self.run_sync("product")
        # matched by code: the empty barcode filled from Netvisor, the rest already equal
        line = self.line_for(wizard, self.kahvi)
        self.assertEqual((line.action, line.target, line.result), ("update", "odoo", "done"), line.fields_changed)
        self.assertEqual(self.kahvi.barcode, "6410000000011")
        self.assertEqual(self.kahvi._netvisor_get_product_key(self.company), "701")
        # same code, name and price different on both sides at the first sync: the policy (skip) decides
        conflict = self.line_for(wizard, self.tee)
        self.assertEqual(conflict.action, "conflict")
        self.assertIn("Tee (irto)", conflict.message)
        self.assertEqual(self.tee.name, "Tee (irto)")
        self.assertEqual(self.org.collections["products"][702]["name"], "Tee")
        # a Netvisor product without code is created in Odoo with its mapped fields
        asennus = self.env["product.product"].search([("name", "=", "Asennus")])
        self.assertEqual(len(asennus), 1)
        self.assertEqual((asennus.list_price, asennus.taxes_id, asennus.uom_id, asennus.default_code),
                         (100.0, self.tax_255, self.unit, False))
        self.assertEqual(asennus._netvisor_get_product_key(self.company), "703")
        self.assertFalse(self.env["product.product"].search([("default_code", "=", "VANHA")]), "inactive: skipped")
        # an Odoo product Netvisor does not have is created there
        key = self.mehu._netvisor_get_product_key(self.company)
        record = self.org.collections["products"][int(key)]
        self.assertEqual((record["code"], record["name"], Decimal(record["unit_price"]), record["price_type"],
                          Decimal(record["vat_percent"]), record["primary_ean"], record["unit"], record["group"]),
                         ("MEHU", "Mehu", Decimal("3.5"), "net", Decimal("14"), "6410000000028", "Units",
                          self.mehu.categ_id.name))
        self.assertEqual(len(self.posts("product.nv")), 1, "what was imported is not sent back")
        self.assertEqual(self.company.netvisor_product_pending_keys, "702")

    def test_same_code_twice_in_odoo_is_a_conflict(self):
        twin = self.env["product.product"].create({"name": "Kahvi 2", "default_code": "KAHVI", "list_price": 10})
        wizard = self.run_sync("product", direction="import")
        line = self.line_for(wizard, key=701)
        self.assertEqual(line.action, "conflict")
        self.assertIn("KAHVI", line.message)
        self.assertIn(twin.display_name, line.message)
        self.assertFalse(self.kahvi._netvisor_get_product_key(self.company))
        self.assertFalse(twin._netvisor_get_product_key(self.company))

    def test_empty_value_never_wipes(self):
        self.company.netvisor_sync_conflict_policy = "netvisor"
        self.org.collections["products"][701].update(primary_ean="", unit_price="0")
        self.kahvi.barcode = "6410000000035"
        self.run_sync("product")
        self.assertEqual(self.kahvi.barcode, "6410000000035")
        self.assertEqual(self.kahvi.list_price, 10.0, "Netvisor's zero price does not wipe Odoo's")
        record = self.org.collections["products"][701]
        self.assertEqual((record["primary_ean"], Decimal(record["unit_price"])), ("6410000000035", Decimal(10)))
        # Netvisor wins where both are filled: Tee takes Netvisor's name and price
        self.assertEqual((self.tee.name, self.tee.list_price), ("Tee", 5.0))

    def _synced(self):
        self.company.netvisor_sync_conflict_policy = "netvisor"
        self.run_sync("product")
        self.company.netvisor_sync_conflict_policy = "skip"
        self.assertEqual(self.tee._netvisor_get_product_key(self.company), "702")
        self.age_sync("product")

    def test_incremental_odoo_change_is_sent_with_required_elements(self):
        self._synced()
        self.kahvi.list_price = 12.4
        wizard = self.run_sync("product")
        self.assertEqual(len(wizard.line_ids), 1, wizard.line_ids.mapped("record_name"))
        line = self.line_for(wizard, self.kahvi)
        self.assertEqual((line.action, line.target, line.result), ("update", "netvisor", "done"))
        record = self.org.collections["products"][701]
        self.assertEqual((Decimal(record["unit_price"]), record["group"], record["name"], record["code"]),
                         (Decimal("12.4"), "Juomat", "Kahvi", "KAHVI"))
        self.assertIn("changedsince=", self.netvisor_logs(resource="productlist.nv").sorted("id")[-1].url)

    def test_incremental_netvisor_changes(self):
        self._synced()
        self.touch_netvisor("products", 701, vat_percent="14", unit="Units", is_active=False)
        wizard = self.run_sync("product")
        line = self.line_for(wizard, self.kahvi.with_context(active_test=False))
        self.assertEqual((line.action, line.target), ("update", "odoo"), line.fields_changed)
        self.assertEqual(self.kahvi.taxes_id, self.tax_14)
        self.assertEqual(self.kahvi.uom_id, self.unit)
        self.assertFalse(self.kahvi.active, "deactivated in Netvisor, archived in Odoo")
        self.assertFalse(self.posts("product.nv")[1:], "nothing sent")

    def test_both_changed_netvisor_wins(self):
        self._synced()
        self.company.netvisor_sync_conflict_policy = "netvisor"
        self.tee.list_price = 7
        self.touch_netvisor("products", 702, unit_price="8")
        wizard = self.run_sync("product")
        self.assertEqual(self.line_for(wizard, self.tee).target, "odoo")
        self.assertEqual(self.tee.list_price, 8.0)

    def test_both_changed_skip(self):
        self._synced()
        self.tee.list_price = 7
        self.touch_netvisor("products", 702, unit_price="8")
        wizard = self.run_sync("product")
        line = self.line_for(wizard, self.tee)
        self.assertEqual(line.action, "conflict")
        self.assertEqual(self.tee.list_price, 7.0)
        self.assertEqual(Decimal(self.org.collections["products"][702]["unit_price"]), Decimal(8))
