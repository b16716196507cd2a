import copy

from psycopg2 import IntegrityError

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import NetvisorTestCommon


class NetvisorSyncTestCommon(NetvisorTestCommon):
    """The sandbox's customers and products are put back to ``sandbox_data`` before each test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Toinen Yhtiö Oy"})

    def setUp(self):
        super().setUp()
        for name in ("customers", "products"):
            self.org.collections[name].clear()
            for item in copy.deepcopy(self.sandbox_data.get(name, [])):
                self.org.add(name, item)
        self.sandbox.state.requests.clear()


@tagged("post_install", "-at_install")
class TestNetvisorEnsureCustomer(NetvisorSyncTestCommon):
    """res.partner._netvisor_ensure_customer / _netvisor_get_customer_key (used by the sales invoice flow)."""

    sandbox_data = {"customers": [
        {"netvisor_key": 501, "code": "EX1", "business_id": "0737546-2", "name": "Olemassa Oy",
         "street": "Katu 5", "zip": "00100", "city": "Helsinki", "country": "FI"},
    ]}

    def setUp(self):
        super().setUp()
        self.client = self.company._netvisor_client("customer_sync")
        self.finland = self.env.ref("base.fi")

    def test_creates_company_customer_once(self):
        partner = self.env["res.partner"].create({
            "name": "Uusi Asiakas Oy", "is_company": True, "company_registry": "1572860-0",
            "street": "Mannerheimintie 1", "zip": "00100", "city": "Helsinki", "country_id": self.finland.id,
            "email": "lasku@uusi.fi", "ref": "U-1",
        })
        contact = self.env["res.partner"].create({"name": "Maija", "parent_id": partner.id})
        self.assertFalse(partner._netvisor_get_customer_key(self.company))
        key = contact._netvisor_ensure_customer(self.client, self.company)
        self.assertIsInstance(key, str)
        record = self.org.collections["customers"][int(key)]
        self.assertEqual((record["name"], record["business_id"], record["code"], record["country"]),
                         ("Uusi Asiakas Oy", "1572860-0", "U-1", "FI"))
        self.assertFalse(record["is_private"])
        self.assertEqual(partner._netvisor_get_customer_key(self.company), key)
        self.assertEqual(contact._netvisor_get_customer_key(self.company), key)
        self.assertEqual(partner.with_company(self.company).netvisor_customer_key, key)
        # the second call does not talk to Netvisor
        count = len(self.netvisor_logs())
        self.assertEqual(partner._netvisor_ensure_customer(self.client, self.company), key)
        self.assertEqual(len(self.netvisor_logs()), count)
        self.assertEqual(len(self.org.collections["customers"]), 2)
        # the key is per company
        self.assertFalse(partner._netvisor_get_customer_key(self.other_company))

    def test_business_id_from_vat_and_existing_customer_linked(self):
        partner = self.env["res.partner"].create({
            "name": "Olemassa Oy", "is_company": True, "vat": "FI07375462", "country_id": self.finland.id})
        key = partner._netvisor_ensure_customer(self.client, self.company)
        self.assertEqual(key, "501", "the Netvisor customer with the same business ID is linked, not duplicated")
        self.assertEqual(len(self.org.collections["customers"]), 1)
        self.assertFalse([r for r in self.sandbox.state.requests if r[0] == "customer.nv"])

    def test_individual_gets_automatic_code(self):
        partner = self.env["res.partner"].create({"name": "Matti Meikäläinen", "street": "Kotikatu 2",
                                                  "zip": "33100", "city": "Tampere"})
        key = partner._netvisor_ensure_customer(self.client, self.company)
        record = self.org.collections["customers"][int(key)]
        self.assertTrue(record["is_private"])
        self.assertTrue(record["code"], "Netvisor assigns the next free code")
        self.assertEqual(record["name"], "Matti Meikäläinen")

    def test_company_without_business_id(self):
        partner = self.env["res.partner"].create({"name": "Nimetön Oy", "is_company": True})
        with self.assertRaises(UserError) as caught:
            partner._netvisor_ensure_customer(self.client, self.company)
        self.assertIn("Nimetön Oy", str(caught.exception))
        self.assertIn("business ID", str(caught.exception))
        self.assertIn(partner._fields["company_registry"]._description_string(self.env), str(caught.exception))
        self.assertFalse(self.netvisor_logs(), "nothing was sent")

    def test_invalid_finnish_business_id(self):
        partner = self.env["res.partner"].create({"name": "Väärä Oy", "is_company": True,
                                                  "company_registry": "1234567-2", "country_id": self.finland.id})
        with self.assertRaisesRegex(UserError, "Väärä Oy.*1234567-2.*not a valid Finnish business ID"):
            partner._netvisor_ensure_customer(self.client, self.company)

    def test_name_too_long(self):
        partner = self.env["res.partner"].create({"name": "N" * 251})
        with self.assertRaises(UserError) as caught:
            partner._netvisor_ensure_customer(self.client, self.company)
        message = str(caught.exception)
        self.assertIn("251 characters", message)
        self.assertIn("250", message)
        self.assertIn(partner._fields["name"]._description_string(self.env), message)

    def test_street_too_long(self):
        partner = self.env["res.partner"].create({"name": "Pitkä katu", "street": "S" * 81})
        with self.assertRaisesRegex(UserError, "Pitkä katu.*81 characters.*80"):
            partner._netvisor_ensure_customer(self.client, self.company)

    def test_code_taken_by_another_customer(self):
        partner = self.env["res.partner"].create({"name": "Toinen", "ref": "EX1"})
        with self.assertRaisesRegex(UserError, "Toinen.*EX1.*already used"):
            partner._netvisor_ensure_customer(self.client, self.company)
        self.assertFalse(partner._netvisor_get_customer_key(self.company))

    def test_ambiguous_business_id_is_not_guessed(self):
        self.org.add("customers", {"code": "EX2", "business_id": "0737546-2", "name": "Olemassa Oy, Tampere"})
        partner = self.env["res.partner"].create({
            "name": "Olemassa Oy", "is_company": True, "company_registry": "0737546-2"})
        with self.assertRaisesRegex(UserError, "matches 2 customers"):
            partner._netvisor_ensure_customer(self.client, self.company)

    def test_deleting_partner_deletes_its_link(self):
        partner = self.env["res.partner"].create({"name": "Poistettava"})
        partner._netvisor_ensure_customer(self.client, self.company)
        links = self.env["netvisor.link"].search([("res_model", "=", "res.partner"), ("res_id", "=", partner.id)])
        self.assertTrue(links)
        partner.unlink()
        self.assertFalse(links.exists())

    def test_link_key_unique_per_company(self):
        first = self.env["res.partner"].create({"name": "Eka"})
        second = self.env["res.partner"].create({"name": "Toka"})
        Link = self.env["netvisor.link"]
        Link._netvisor_set_link(self.company, first, "777")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            Link.create({"company_id": self.company.id, "res_model": "res.partner", "res_id": second.id,
                         "netvisor_key": "777"})
        # the same key in another company is another Netvisor customer
        Link._netvisor_set_link(self.other_company, second, "777")
