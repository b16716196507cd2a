from odoo.exceptions import AccessError, ValidationError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CUSTOMER_KEY, PARTNER_KEY, NetvisorTestCommon


@tagged("post_install", "-at_install")
class TestNetvisorSettings(NetvisorTestCommon):

    def test_business_id_validation(self):
        company = self.company
        company.netvisor_organisation_id = "0737546-2"
        self.assertEqual(company.netvisor_organisation_id, "0737546-2")
        # normalised forms are accepted and stored as 1234567-8
        company.netvisor_organisation_id = "FI07375462"
        self.assertEqual(company.netvisor_organisation_id, "0737546-2")
        for bad in ("1234567-8", "123456-7", "abcdefg-h", "0737546-3", "07375462x"):
            with self.subTest(value=bad), self.assertRaises(ValidationError) as ctx, self.env.cr.savepoint():
                company.netvisor_organisation_id = bad
            self.assertIn(company.name, str(ctx.exception))
            self.assertIn("Y-tunnus", str(ctx.exception))

    def test_base_url_validation(self):
        company = self.company
        for good in ("https://integration.netvisor.fi/", "https://isvapi.netvisor.fi/",
                     "http://localhost:8765/", "http://127.0.0.1:9/"):
            company.netvisor_base_url = good
        for bad, word in (("http://integration.netvisor.fi/", "https://"), ("ftp://x.fi/", "not a valid URL"),
                          ("integration.netvisor.fi", "not a valid URL"), ("http://10.0.0.5/", "https://")):
            with self.subTest(url=bad), self.assertRaises(ValidationError) as ctx, self.env.cr.savepoint():
                company.netvisor_base_url = bad
            self.assertIn(word, str(ctx.exception))

    def test_default_base_url(self):
        company = self.env["res.company"].create({"name": "Uusi Oy"})
        self.assertEqual(company.sudo().netvisor_base_url, "https://integration.netvisor.fi/")
        self.assertFalse(company.netvisor_configured)

    def test_keys_hidden_from_non_admin(self):
        accountant = self.env["res.users"].create({
            "name": "Accountant", "login": "nv_accountant",
            "groups_id": [(6, 0, [self.env.ref("account.group_account_manager").id])],
            "company_id": self.company.id, "company_ids": [(6, 0, [self.company.id])],
        })
        company = self.company.with_user(accountant)
        for field in ("netvisor_partner_key", "netvisor_customer_key", "netvisor_partner_id",
                      "netvisor_customer_id", "netvisor_base_url"):
            with self.subTest(field=field), self.assertRaises(AccessError), mute_logger("odoo.models"):
                company.read([field])
        # the organisation id is not a secret
        self.assertTrue(company.read(["netvisor_organisation_id"]))
        fields_info = self.env["res.company"].with_user(accountant).fields_get()
        self.assertNotIn("netvisor_partner_key", fields_info)
        self.assertNotIn("netvisor_customer_key", fields_info)
        # nor through the settings
        settings_fields = self.env["res.config.settings"].with_user(accountant).fields_get()
        self.assertNotIn("netvisor_customer_key", settings_fields)
        # an administrator reads them
        self.assertEqual(self.company.with_user(self.env.ref("base.user_admin")).netvisor_customer_key, CUSTOMER_KEY)

    def test_keys_not_in_repr_or_errors(self):
        credentials = self.company._netvisor_credentials()
        self.assert_no_secret(repr(credentials), str(credentials))

    def test_settings_write_through(self):
        settings = self.env["res.config.settings"].create({
            "netvisor_organisation_id": "0737546-2",
            "netvisor_language": "EN",
            "netvisor_auto_send_invoice": True,
        })
        settings.execute()
        self.assertEqual(self.env.company.netvisor_organisation_id, "0737546-2")
        self.assertEqual(self.env.company.netvisor_language, "EN")
        self.assertTrue(self.env.company.netvisor_auto_send_invoice)

    def test_neutralize(self):
        queries = list(get_neutralization_queries(["netvisor_integration"]))
        self.assertTrue(queries)
        for query in queries:
            self.env.cr.execute(query)
        self.env.invalidate_all()
        company = self.company.sudo()
        self.assertFalse(company.netvisor_partner_key)
        self.assertFalse(company.netvisor_customer_key)
        self.assertFalse(company.netvisor_auto_send_invoice)
        self.assertFalse(company.netvisor_configured)
        # identifiers stay, so the copy shows which company it was
        self.assertTrue(company.netvisor_customer_id)

    def test_missing_configuration_message(self):
        self.company.netvisor_customer_key = False
        ok, message = self.company._netvisor_test_connection()
        self.assertFalse(ok)
        self.assertIn("Customer Key", message)
        self.assertIn(self.company.name, message)
        self.assertNotIn(PARTNER_KEY, message)
