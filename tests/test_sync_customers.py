import copy
import datetime

from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged
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

    def test_unknown_outcome_is_looked_up_not_resent(self):
        self.sandbox.faults.configure(queue=[("drop_after_process", "customer.nv")])
        partner = self.env["res.partner"].create({"name": "Katkos Oy", "is_company": True,
                                                  "company_registry": "1572860-0"})
        key = partner._netvisor_ensure_customer(self.client, self.company)
        self.assertEqual(len(self.org.collections["customers"]), 2, "stored once")
        self.assertEqual(self.org.collections["customers"][int(key)]["name"], "Katkos Oy")
        self.assertEqual(len(self.posts("customer.nv")), 1)

    def test_client_context_is_kept(self):
        self.client.context = {"res_model": "account.move", "res_id": 7}
        partner = self.env["res.partner"].create({"name": "Konteksti"})
        partner._netvisor_ensure_customer(self.client, self.company)
        self.assertEqual(self.client.context, {"res_model": "account.move", "res_id": 7})
        log = self.netvisor_logs(resource="customer.nv")
        self.assertEqual((log.res_model, log.res_id), ("res.partner", partner.id))

    def posts(self, resource):
        return [r for r in self.sandbox.state.requests if r[0] == resource and r[1] == "POST"]

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


class NetvisorSyncWizardCase(NetvisorSyncTestCommon):
    """Helpers to run the sync wizards as a user would."""

    def run_sync(self, sync_type="customer", direction="both", full=None, apply=True):
        values = {"sync_type": sync_type, "direction": direction}
        if full is not None:
            values["full_sync"] = full
        wizard = self.env["netvisor.sync.wizard"].with_context(default_sync_type=sync_type).create(values)
        wizard.action_preview()
        self.assertEqual(wizard.state, "preview")
        if apply:
            wizard.action_apply()
            self.assertEqual(wizard.state, "done")
        return wizard

    def line_for(self, wizard, record=None, key=None):
        lines = wizard.line_ids.filtered(
            lambda ln: (record is None or ln._netvisor_record() == record)
            and (key is None or ln.netvisor_key == str(key)))
        self.assertEqual(len(lines), 1, f"one line for {record} / {key}: {lines.mapped('record_name')}")
        return lines

    def posts(self, resource):
        return [r for r in self.sandbox.state.requests if r[0] == resource and r[1] == "POST"]

    def age_sync(self, sync_type="customer", hours=1):
        """Pretend the last sync was ``hours`` ago (Odoo's write_date is the transaction's start)."""
        past = fields.Datetime.now() - datetime.timedelta(hours=hours)
        self.company.write({f"netvisor_{sync_type}_import_date": past, f"netvisor_{sync_type}_export_date": past})
        model = "res.partner" if sync_type == "customer" else "product.product"
        links = self.env["netvisor.link"].search([("res_model", "=", model)])
        links.write({"sync_date": past})
        # what the last sync wrote was written before it ended (in real life, another transaction)
        self.env.flush_all()
        if sync_type == "customer":
            self.env.cr.execute("UPDATE res_partner SET write_date = %s WHERE write_date >= %s",
                                (past - datetime.timedelta(minutes=1), past))
        else:
            for table in ("product_product", "product_template"):
                self.env.cr.execute(f"UPDATE {table} SET write_date = %s WHERE write_date >= %s",  # noqa: S608
                                    (past - datetime.timedelta(minutes=1), past))
        self.env.invalidate_all()
        collection = "customers" if sync_type == "customer" else "products"
        old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=hours + 2)).strftime(
            "%Y-%m-%dT%H:%M:%S")
        for record in self.org.collections[collection].values():
            record["modified"] = old

    def touch_netvisor(self, collection, key, **values):
        record = self.org.collections[collection][int(key)]
        record.update(values)
        record["modified"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


@tagged("post_install", "-at_install")
class TestNetvisorCustomerSync(NetvisorSyncWizardCase):

    sandbox_data = {"customers": [
        {"netvisor_key": 601, "code": "A1", "business_id": "1572860-0", "name": "Alfa Oy", "street": "Katu 1",
         "zip": "00100", "city": "Helsinki", "country": "FI", "email": "info@alfa.fi"},
        {"netvisor_key": 602, "code": "M1", "name": "Matti Meikäläinen", "street": "Kotikatu 2", "zip": "33100",
         "city": "Tampere", "country": "FI", "is_private": True},
        {"netvisor_key": 603, "code": "B1", "business_id": "0737546-2", "name": "Beeta Oy", "street": "Tie 9",
         "zip": "20100", "city": "Turku", "country": "FI", "finvoice_address": "003707375462",
         "finvoice_router_code": "NDEAFIHH", "phone": "02 123 456"},
    ]}

    def setUp(self):
        super().setUp()
        self.finland = self.env.ref("base.fi")
        Partner = self.env["res.partner"]
        self.alfa = Partner.create({
            "name": "Alfa Oy", "is_company": True, "company_registry": "1572860-0", "street": "Katu 1",
            "zip": "00100", "city": "Helsinki", "country_id": self.finland.id, "customer_rank": 1,
            "phone": "+358 9 111"})
        self.matti = Partner.create({
            "name": "  matti   MEIKÄLÄINEN ", "street": "kotikatu  2", "zip": "33 100", "city": "Tampere",
            "country_id": self.finland.id, "customer_rank": 1})
        self.gamma = Partner.create({
            "name": "Gamma Oy", "is_company": True, "vat": "FI01120389", "street": "Polku 4", "zip": "90100",
            "city": "Oulu", "country_id": self.finland.id, "customer_rank": 1, "email": "gamma@example.fi"})

    def test_preview_writes_nothing(self):
        partners_before = self.env["res.partner"].search_count([])
        wizard = self.run_sync(apply=False)
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before)
        self.assertFalse(self.env["netvisor.link"].search([("res_model", "=", "res.partner")]))
        self.assertFalse(self.posts("customer.nv"), "the preview sends nothing to Netvisor")
        self.assertEqual(len(self.org.collections["customers"]), 3)
        self.assertFalse(self.company.netvisor_customer_import_date)
        self.assertFalse(self.company.netvisor_customer_export_date)
        self.assertFalse(self.alfa.email)
        # and it says what Apply would do
        self.assertEqual(self.line_for(wizard, self.alfa).action, "update")
        self.assertEqual(self.line_for(wizard, key=603).action, "create")
        self.assertEqual(self.line_for(wizard, key=603).target, "odoo")
        self.assertEqual(self.line_for(wizard, self.gamma).action, "create")
        self.assertEqual(self.line_for(wizard, self.gamma).target, "netvisor")
        self.assertGreaterEqual(wizard.create_count, 2)

    def test_full_sync_both_ways(self):
        wizard = self.run_sync()
        # company matched by business ID: empty values filled both ways
        line = self.line_for(wizard, self.alfa)
        self.assertEqual((line.action, line.target, line.result), ("update", "both", "done"))
        self.assertEqual(self.alfa.email, "info@alfa.fi")
        self.assertEqual(self.org.collections["customers"][601]["phone"], "+358 9 111")
        self.assertEqual(self.alfa._netvisor_get_customer_key(self.company), "601")
        # individual matched by normalised name + address
        self.assertEqual(self.matti._netvisor_get_customer_key(self.company), "602")
        line = self.line_for(wizard, self.matti)
        self.assertEqual((line.action, line.target), ("update", "odoo"))
        self.assertEqual(self.matti.ref, "M1", "the customer code came from Netvisor")
        self.assertEqual(self.matti.name, "  matti   MEIKÄLÄINEN ", "same name once normalised: left as it is")
        # Netvisor-only customer created in Odoo with the mapped fields
        beeta = self.env["res.partner"].search([("company_registry", "=", "0737546-2")])
        self.assertEqual(len(beeta), 1)
        self.assertEqual((beeta.name, beeta.ref, beeta.street, beeta.zip, beeta.city, beeta.country_id, beeta.phone,
                          beeta.vat, beeta.is_company, beeta.netvisor_einvoice_address,
                          beeta.netvisor_einvoice_operator),
                         ("Beeta Oy", "B1", "Tie 9", "20100", "Turku", self.finland, "02 123 456", "FI07375462",
                          True, "003707375462", "NDEAFIHH"))
        self.assertEqual(beeta._netvisor_get_customer_key(self.company), "603")
        # Odoo-only customer created in Netvisor with its business ID from the VAT number
        key = self.gamma._netvisor_get_customer_key(self.company)
        record = self.org.collections["customers"][int(key)]
        self.assertEqual((record["name"], record["business_id"], record["email"], record["zip"], record["is_private"]),
                         ("Gamma Oy", "0112038-9", "gamma@example.fi", "90100", False))
        # what was imported is not sent back in the same run
        self.assertEqual(len(self.posts("customer.nv")), 2, "an edit of Alfa and the add of Gamma only")
        self.assertEqual(len(self.org.collections["customers"]), 4)
        self.assertEqual(self.company.netvisor_customer_import_date, wizard.started_at)
        self.assertEqual(self.company.netvisor_customer_export_date, wizard.started_at)
        self.assertIn("Created in Odoo: 1", wizard.summary)
        self.assertIn("created in Netvisor: 1", wizard.summary)
        # details came in one batched request
        # details came in batched requests: the preview's, then the codes Netvisor gave new customers
        detail_logs = self.netvisor_logs(resource="getcustomer.nv").sorted("id")
        self.assertEqual(len(detail_logs), 2)
        self.assertTrue(all("idlist=" in url for url in detail_logs.mapped("url")))
        self.assertEqual(self.gamma.ref, record["code"], "the code Netvisor assigned is brought back")
        # a second run finds everything in sync
        second = self.run_sync(full=True)
        self.assertEqual(set(second.line_ids.mapped("action")), {"unchanged"},
                         second.line_ids.filtered(lambda ln: ln.action != "unchanged").mapped(
                             lambda ln: (ln.record_name, ln.fields_changed, ln.message)))

    def test_ambiguous_business_id_is_a_conflict(self):
        twin = self.env["res.partner"].create({"name": "Beeta Oy (vanha)", "is_company": True,
                                               "company_registry": "0737546-2"})
        self.env["res.partner"].create({"name": "Beeta Oy", "is_company": True, "vat": "FI07375462",
                                        "customer_rank": 1})
        wizard = self.run_sync(direction="import")
        line = self.line_for(wizard, key=603)
        self.assertEqual(line.action, "conflict")
        self.assertIn("Matches 2 Odoo partners", line.message)
        self.assertIn(twin.name, line.message)
        self.assertFalse(self.env["netvisor.link"].search([("netvisor_key", "=", "603")]))
        self.assertEqual(self.env["res.partner"].search_count([("name", "ilike", "Beeta")]), 2, "nothing created")
        self.assertIn("603", self.company.netvisor_customer_pending_keys)

    def test_two_netvisor_customers_for_one_partner(self):
        self.org.add("customers", {"code": "A2", "business_id": "1572860-0", "name": "Alfa Oy, Tampere"})
        wizard = self.run_sync()
        lines = wizard.line_ids.filtered(lambda ln: ln.netvisor_key in ("601", "1000") or ln.partner_id == self.alfa)
        self.assertEqual(set(lines.mapped("action")), {"conflict"})
        self.assertFalse(self.alfa._netvisor_get_customer_key(self.company))
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Alfa Oy, Tampere")]), "never guessed")

    def test_individual_needs_same_address(self):
        self.matti.street = "Toinen katu 5"
        wizard = self.run_sync()
        self.assertNotEqual(self.matti._netvisor_get_customer_key(self.company), "602")
        self.assertEqual(self.line_for(wizard, self.matti).action, "create")
        self.assertEqual(self.line_for(wizard, key=602).action, "create")
        self.assertEqual(self.env["res.partner"].search_count([("name", "=", "Matti Meikäläinen")]), 1)

    def test_empty_value_never_wipes(self):
        self.company.netvisor_sync_conflict_policy = "netvisor"
        self.alfa.write({"city": "Espoo", "email": "myynti@alfa.fi"})
        self.org.collections["customers"][601].update(city="", phone="")
        self.run_sync()
        self.assertEqual(self.alfa.city, "Espoo", "Netvisor's empty city does not wipe Odoo's")
        self.assertEqual(self.alfa.phone, "+358 9 111")
        record = self.org.collections["customers"][601]
        self.assertEqual((record["city"], record["phone"]), ("Espoo", "+358 9 111"), "filled from Odoo")
        # filled on both sides and different: Netvisor wins by the policy
        self.assertEqual(self.alfa.email, "info@alfa.fi")
        self.assertEqual(record["email"], "info@alfa.fi")

    def _synced_alfa(self):
        self.run_sync(direction="both")
        self.assertEqual(self.alfa._netvisor_get_customer_key(self.company), "601")
        self.age_sync()

    def test_incremental_only_netvisor_changed(self):
        self._synced_alfa()
        self.touch_netvisor("customers", 601, email="uusi@alfa.fi", street="Uusikatu 7")
        wizard = self.run_sync()
        self.assertFalse(wizard.full_sync)
        line = self.line_for(wizard, self.alfa)
        self.assertEqual((line.action, line.target), ("update", "odoo"))
        self.assertEqual((self.alfa.email, self.alfa.street), ("uusi@alfa.fi", "Uusikatu 7"))
        self.assertFalse(self.posts("customer.nv")[2:], "nothing sent back")
        # only what changed was looked at
        self.assertIn("changedsince=", self.netvisor_logs(resource="customerlist.nv")[0].url)
        self.assertFalse(wizard.line_ids.filtered(lambda ln: ln.partner_id == self.matti))

    def test_incremental_only_odoo_changed(self):
        self._synced_alfa()
        self.alfa.write({"email": "odoo@alfa.fi"})
        wizard = self.run_sync()
        line = self.line_for(wizard, self.alfa)
        self.assertEqual((line.action, line.target), ("update", "netvisor"))
        self.assertEqual(self.org.collections["customers"][601]["email"], "odoo@alfa.fi")
        self.assertEqual(len(wizard.line_ids), 1, "only the changed partner")

    def _both_changed(self, policy):
        self._synced_alfa()
        self.company.netvisor_sync_conflict_policy = policy
        self.alfa.write({"email": "odoo@alfa.fi"})
        self.touch_netvisor("customers", 601, email="netvisor@alfa.fi")
        return self.run_sync()

    def test_conflict_policy_skip(self):
        wizard = self._both_changed("skip")
        line = self.line_for(wizard, self.alfa)
        self.assertEqual(line.action, "conflict")
        self.assertIn("odoo@alfa.fi", line.message)
        self.assertIn("netvisor@alfa.fi", line.message)
        self.assertEqual(self.alfa.email, "odoo@alfa.fi")
        self.assertEqual(self.org.collections["customers"][601]["email"], "netvisor@alfa.fi")
        self.assertEqual(self.company.netvisor_customer_pending_keys, "601")
        # reported again next time, until resolved
        again = self.run_sync()
        self.assertEqual(self.line_for(again, self.alfa).action, "conflict")
        self.company.netvisor_sync_conflict_policy = "odoo"
        resolved = self.run_sync()
        self.assertEqual(self.line_for(resolved, self.alfa).target, "netvisor")
        self.assertFalse(self.company.netvisor_customer_pending_keys)

    def test_conflict_policy_odoo_wins(self):
        wizard = self._both_changed("odoo")
        self.assertEqual(self.line_for(wizard, self.alfa).target, "netvisor")
        self.assertEqual(self.org.collections["customers"][601]["email"], "odoo@alfa.fi")
        self.assertEqual(self.alfa.email, "odoo@alfa.fi")

    def test_conflict_policy_netvisor_wins(self):
        wizard = self._both_changed("netvisor")
        self.assertEqual(self.line_for(wizard, self.alfa).target, "odoo")
        self.assertEqual(self.alfa.email, "netvisor@alfa.fi")
        self.assertEqual(self.org.collections["customers"][601]["email"], "netvisor@alfa.fi")

    def test_direction_import_only(self):
        wizard = self.run_sync(direction="import")
        self.assertFalse(self.posts("customer.nv"), "nothing sent to Netvisor")
        self.assertTrue(self.env["res.partner"].search([("ref", "=", "B1")]))
        self.assertEqual(self.line_for(wizard, self.gamma).action, "unchanged")
        self.assertFalse(self.gamma._netvisor_get_customer_key(self.company))
        self.assertEqual(self.alfa.email, "info@alfa.fi")
        self.assertTrue(self.company.netvisor_customer_import_date)
        self.assertFalse(self.company.netvisor_customer_export_date, "Odoo's changes are still to be sent")
        # the held-back phone of Alfa goes out with the next two-way run
        self.run_sync(direction="both", full=False)
        self.assertEqual(self.org.collections["customers"][601]["phone"], "+358 9 111")

    def test_direction_export_only(self):
        wizard = self.run_sync(direction="export")
        self.assertFalse(self.env["res.partner"].search([("ref", "=", "B1")]), "nothing imported")
        self.assertEqual(self.line_for(wizard, key=603).action, "unchanged")
        self.assertTrue(self.gamma._netvisor_get_customer_key(self.company))
        self.assertFalse(self.alfa.email, "Netvisor's email is not imported")
        self.assertEqual(self.org.collections["customers"][601]["phone"], "+358 9 111")
        self.assertFalse(self.company.netvisor_customer_import_date)

    def test_errors_stay_on_their_line(self):
        broken = self.env["res.partner"].create({"name": "Rikki Oy", "is_company": True, "customer_rank": 1})
        taken = self.env["res.partner"].create({"name": "Varattu", "ref": "A1", "customer_rank": 1,
                                                "street": "Muu 1"})
        wizard = self.run_sync()
        line = self.line_for(wizard, broken)
        self.assertEqual(line.action, "error")
        self.assertIn("Rikki Oy", line.message)
        self.assertIn("business ID", line.message)
        failed = self.line_for(wizard, taken)
        self.assertEqual((failed.action, failed.result), ("create", "failed"))
        self.assertIn("Varattu", failed.result_message)
        self.assertTrue(self.netvisor_logs(flow="customer_sync", res_id=taken.id, state="error"))
        # the others went through
        self.assertTrue(self.gamma._netvisor_get_customer_key(self.company))
        self.assertTrue(self.env["res.partner"].search([("ref", "=", "B1")]))
        self.assertIn("failed: 1", wizard.summary)

    def test_transient_failure_then_retry(self):
        self.sandbox.faults.configure(queue=[("http500", "customer.nv")] * 3)
        wizard = self.run_sync(direction="export")
        failed = wizard.line_ids.filtered(lambda ln: ln.result == "failed")
        self.assertEqual(len(failed), 1, "three attempts, then the line fails; the other one goes through")
        self.assertIn("technical error", failed.result_message)
        self.assertEqual(len(wizard.line_ids.filtered(lambda ln: ln.result == "done" and ln.target)), 1)
        self.sandbox.faults.reset()
        retry = self.run_sync(direction="export", full=False)
        self.assertFalse(retry.line_ids.filtered(lambda ln: ln.result == "failed"))
        self.assertEqual(len(self.org.collections["customers"]), 4)
        self.assertTrue(self.gamma._netvisor_get_customer_key(self.company))
        self.assertEqual(self.org.collections["customers"][601]["phone"], "+358 9 111")

    def test_cron_runs_the_same_sync(self):
        cron = self.env.ref("netvisor_integration.ir_cron_netvisor_sync")
        self.assertFalse(cron.active, "recommended monthly, off until an administrator enables it")
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "months"))
        self.env["netvisor.sync.wizard"]._cron_netvisor_sync()
        self.assertEqual(self.alfa._netvisor_get_customer_key(self.company), "601")
        self.assertTrue(self.gamma._netvisor_get_customer_key(self.company))
        self.assertTrue(self.company.netvisor_customer_import_date)
        self.assertTrue(self.company.netvisor_product_import_date)
        run = self.env["netvisor.run"].search([("company_id", "=", self.company.id), ("flow", "=", "customer_sync")])
        self.assertEqual((len(run), run.trigger, run.state), (1, "cron", "done"))
        self.assertEqual(run.count_done, 4, "Alfa and Matti updated, Beeta and Gamma created")

    def test_overview_card(self):
        self.run_sync()
        card = self.env["netvisor.flow"].search([("company_id", "=", self.company.id), ("flow", "=", "customer_sync")])
        self.assertEqual(card.last_run_state, "done")
        action = card.action_run_now()
        self.assertEqual(self.env[action["res_model"]].browse(action["res_id"]).sync_type, "customer")
        self.assertFalse(self.env[action["res_model"]].browse(action["res_id"]).full_sync, "incremental next time")

    def test_link_of_a_record_deleted_outside_the_orm(self):
        ghost = self.env["res.partner"].create({"name": "Haamu"})
        self.env["netvisor.link"]._netvisor_set_link(self.company, ghost, "601")
        self.env.cr.execute("DELETE FROM res_partner WHERE id = %s", (ghost.id,))
        self.env.invalidate_all()
        wizard = self.run_sync()
        self.assertEqual(self.line_for(wizard, self.alfa).result, "done")
        self.assertEqual(self.alfa._netvisor_get_customer_key(self.company), "601")

    def test_wizard_form(self):
        with Form(self.env["netvisor.sync.wizard"].with_context(default_sync_type="customer")) as form:
            self.assertEqual(form.direction, "both")
            self.assertTrue(form.full_sync, "the first sync is a full one")
            form.direction = "import"
        wizard = form.save()
        wizard.action_preview()
        self.assertEqual(wizard.state, "preview")
        wizard.action_back()
        self.assertEqual((wizard.state, len(wizard.line_ids)), ("draft", 0))
        with self.assertRaises(UserError):
            wizard.action_apply()

    def test_entry_points(self):
        settings = self.env["res.config.settings"].create({})
        action = settings.action_netvisor_sync_customers()
        wizard = self.env["netvisor.sync.wizard"].browse(action["res_id"])
        self.assertEqual((wizard.sync_type, wizard.full_sync, action["target"]), ("customer", True, "new"))
        self.assertEqual(self.env["netvisor.sync.wizard"].browse(
            settings.action_netvisor_sync_products()["res_id"]).sync_type, "product")
        contacts = self.env.ref("netvisor_integration.action_netvisor_sync_customers")
        self.assertEqual(contacts.binding_model_id.model, "res.partner")
        self.assertEqual(self.env.ref("netvisor_integration.action_netvisor_sync_products").binding_model_id.model,
                         "product.template")
        self.assertTrue(self.env.ref("netvisor_integration.menu_netvisor_sync_customers").parent_id)
