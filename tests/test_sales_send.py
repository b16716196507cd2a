import os
import time
from decimal import Decimal
from unittest.mock import patch

from lxml import etree

from odoo import Command, fields
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from ..models import account_move_sales
from ..netvisor.resources import sales_invoices as nv_sales
from .common import NetvisorTestCommon

DTD_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "netvisor",
                       "xsd", "dtd")


@tagged("post_install", "-at_install")
class TestSalesSend(NetvisorTestCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company
        tax_group = cls.env["account.tax.group"].create({"name": "ALV", "company_id": company.id})
        cls.tax_255 = cls.env["account.tax"].create({
            "name": "ALV 25,5 %", "amount": 25.5, "type_tax_use": "sale", "company_id": company.id,
            "tax_group_id": tax_group.id})
        cls.tax_14 = cls.env["account.tax"].create({
            "name": "ALV 14 %", "amount": 14, "type_tax_use": "sale", "company_id": company.id,
            "tax_group_id": tax_group.id})
        cls.tax_255_incl = cls.env["account.tax"].create({
            "name": "ALV 25,5 % sis.", "amount": 25.5, "type_tax_use": "sale", "company_id": company.id,
            "price_include_override": "tax_included", "tax_group_id": tax_group.id})
        cls.tax_eu = cls.env["account.tax"].create({
            "name": "EU-myynti 0 %", "amount": 0, "type_tax_use": "sale", "company_id": company.id,
            "tax_group_id": tax_group.id})
        cls.env["netvisor.vat.mapping"].create({
            "company_id": company.id, "tax_id": cls.tax_eu.id, "netvisor_vat_code": "EUMY",
            "netvisor_vat_percent": 0})
        cls.fiscal_eu = cls.env["account.fiscal.position"].create({
            "name": "EU", "company_id": company.id,
            "tax_ids": [Command.create({"tax_src_id": cls.tax_255.id, "tax_dest_id": cls.tax_eu.id})]})
        cls.product = cls.env["product.product"].create({
            "name": "Tuote", "default_code": "TUOTE1", "list_price": 10.0, "taxes_id": [Command.set(cls.tax_255.ids)]})
        cls.service = cls.env["product.product"].create({
            "name": "Palvelu", "default_code": "PALVELU", "type": "service", "list_price": 80.0,
            "taxes_id": [Command.set(cls.tax_14.ids)]})
        cls.misc = cls.env["product.product"].create({
            "name": "Muu myynti", "default_code": "MUU", "type": "service", "list_price": 0.0,
            "taxes_id": [Command.set(cls.tax_255.ids)]})
        company.netvisor_sales_default_product_id = cls.misc
        cls.customer = cls.env["res.partner"].create({
            "name": "Asiakas Oy", "is_company": True, "company_registry": "0737546-2", "ref": "ASIAKAS1",
            "street": "Katu 1", "zip": "00100", "city": "Helsinki", "country_id": cls.env.ref("base.fi").id})
        cls.eu_customer = cls.env["res.partner"].create({
            "name": "Kund AB", "is_company": True, "vat": "SE556677889901", "street": "Gatan 1", "zip": "11122",
            "city": "Stockholm", "country_id": cls.env.ref("base.se").id,
            "property_account_position_id": cls.fiscal_eu.id})
        cls.person = cls.env["res.partner"].create({
            "name": "Matti Meikäläinen", "street": "Tie 2", "zip": "33100", "city": "Tampere",
            "country_id": cls.env.ref("base.fi").id})

    def setUp(self):
        super().setUp()
        for name in ("sales_invoices", "customers", "products", "sales_payments"):
            self.org.collections[name].clear()
        self.sandbox.state.requests.clear()
        self.org.max_active = 0
        self.cron = self.env.ref("netvisor_integration.ir_cron_netvisor_send_invoices")

    # ------------------------------------------------------------------ helpers

    def invoice(self, lines=None, partner=None, move_type="out_invoice", post=True, **values):
        lines = lines if lines is not None else [{"product_id": self.product.id, "quantity": 2, "price_unit": 10.0}]
        move = self.env["account.move"].create({
            "move_type": move_type,
            "partner_id": (partner or self.customer).id,
            "invoice_date": fields.Date.from_string("2026-05-04"),
            "invoice_line_ids": [Command.create(line) for line in lines],
            **values,
        })
        if post:
            move.action_post()
        return move

    def requests(self, resource=None, method=None):
        return [r for r in self.sandbox.state.requests
                if (resource is None or r[0] == resource) and (method is None or r[1] == method)]

    def stored(self, move):
        return self.org.collections["sales_invoices"][int(move.netvisor_invoice_id)]

    def send(self, moves):
        return moves.action_send_to_netvisor()

    def assert_sent(self, move):
        self.assertEqual(move.netvisor_state, "sent", move.netvisor_error)
        self.assertTrue(move.netvisor_invoice_id)
        record = self.stored(move)
        self.assertEqual(record["number"], move.name)
        self.assertEqual(Decimal(record["amount"]), Decimal(repr(move.amount_total_in_currency_signed)).quantize(
            Decimal("0.01")), "Netvisor's total must equal Odoo's to the cent")
        return record

    def assert_refused(self, move, text):
        before = len(self.requests("salesinvoice.nv"))
        customers = dict(self.org.collections["customers"])
        self.send(move)
        self.assertEqual(move.netvisor_state, "error")
        self.assertIn(text, move.netvisor_error)
        self.assertIn(move.name, move.netvisor_error)
        self.assertFalse(move.netvisor_invoice_id)
        self.assertEqual(len(self.requests("salesinvoice.nv")), before, "nothing may be posted")
        self.assertEqual(dict(self.org.collections["customers"]), customers, "no customer may be created")
        self.assertTrue(move.activity_ids.filtered(lambda a: a.summary == "Netvisor sending failed"))
        self.assertIn(text, move.message_ids[0].body)
        log = self.netvisor_logs(res_model="account.move", res_id=move.id, state="error")
        self.assertTrue(log)
        return move

    def preview_root(self, move):
        text, _notes, error = move._netvisor_preview()
        self.assertFalse(error)
        return etree.fromstring(text.encode())

    def dtd(self):
        path = os.path.join(DTD_DIR, "salesinvoice.dtd")
        if not os.path.exists(path):
            self.skipTest("../shared/netvisor/xsd/dtd/salesinvoice.dtd is not available")
        return nv_sales.load_request_dtd(path)

    # ------------------------------------------------------------------ sending

    def test_send_invoice(self):
        move = self.invoice([
            {"display_type": "line_section", "name": "Tavarat"},
            {"product_id": self.product.id, "quantity": 3, "price_unit": 9.99, "discount": 10},
            {"display_type": "line_note", "name": "Toimitus viikolla 20"},
            {"product_id": self.service.id, "quantity": 1.5, "price_unit": 80.0, "name": "Asennus\nsis. matkat"},
            {"name": "Rahti", "quantity": 1, "price_unit": 12.5, "tax_ids": [Command.set(self.tax_255.ids)]},
        ], ref="PO-42")
        action = self.send(move)
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        record = self.assert_sent(move)
        self.assertEqual([line["type"] for line in record["lines"]],
                         ["comment", "product", "comment", "product", "product"])
        self.assertEqual(record["lines"][0]["comment"], "Tavarat")
        product_line, service_line, freight = record["lines"][1], record["lines"][3], record["lines"][4]
        self.assertEqual(product_line["product_identifier"], "TUOTE1")
        self.assertEqual((product_line["quantity"], product_line["discount"]), ("3", "10"))
        self.assertEqual((product_line["vat_code"], product_line["vat_percent"]), ("KOMY", "25.5"))
        self.assertEqual(service_line["name"], "Asennus")
        self.assertEqual(service_line["free_text"], "sis. matkat")
        self.assertEqual(service_line["vat_percent"], "14")
        self.assertEqual(freight["product_identifier"], "MUU", "a line without product uses the default product")
        self.assertEqual(freight["name"], "Rahti")
        self.assertEqual(record["your_reference"], "PO-42")
        self.assertEqual(record["due_date"], str(move.invoice_date_due))
        self.assertEqual(record["status"], "open")
        self.assertEqual(record["customer_name"], "Asiakas Oy")
        self.assertTrue(move.netvisor_sent_date)
        log = self.netvisor_logs(resource="salesinvoice.nv", res_id=move.id)
        self.assertEqual(log.state, "success")
        self.assertIn("method=add", log.url)
        self.assert_no_secret(log.url, log.request_body, log.response_body)
        run = self.env["netvisor.run"].search([("flow", "=", "sales_send")], limit=1)
        self.assertEqual((run.state, run.count_done), ("done", 1))

    def test_one_request_per_invoice_once_customer_and_products_exist(self):
        self.send(self.invoice())
        moves = self.invoice() | self.invoice(lines=[
            {"product_id": self.product.id, "quantity": 1, "price_unit": 10},
            {"product_id": self.service.id, "quantity": 1, "price_unit": 80}])
        self.send(self.invoice(lines=[{"product_id": self.service.id, "quantity": 1, "price_unit": 1}]))
        before = len(self.sandbox.state.requests)
        self.send(moves)
        self.assertEqual(len(self.sandbox.state.requests) - before, 2)
        self.assertEqual(set(moves.mapped("netvisor_state")), {"sent"})
        self.assertEqual(self.org.max_active, 1, "one request at a time per company")

    def test_xml_follows_dtd(self):
        move = self.invoice([
            {"display_type": "line_section", "name": "Osio & <alku>"},
            {"product_id": self.product.id, "quantity": 1, "price_unit": 10, "discount": 5},
            {"name": "Vapaa rivi", "quantity": 2, "price_unit": 3.33, "tax_ids": [Command.set(self.tax_14.ids)]},
        ], payment_reference="RF18 5390 0754 7034")
        self.send(move)  # customer and products exist now: the preview shows the real keys
        root = self.preview_root(move)
        validator = self.dtd()
        self.assertTrue(validator.validate(root), validator.error_log.filter_from_errors())
        invoice = root.find("salesinvoice")
        self.assertEqual(invoice.findtext("salesinvoicenumber"), move.name)
        self.assertEqual(invoice.findtext("salesinvoicereferencenumber"), "RF18539007547034")
        self.assertEqual(invoice.find("invoicingcustomeridentifier").get("type"), "netvisor")
        self.assertEqual(invoice.findtext("invoicingcustomeridentifier"), str(self.stored(move)["customer_key"]))
        self.assertEqual(invoice.findtext("invoicelines/invoiceline/salesinvoicecommentline/comment"),
                         "Osio & <alku>")
        for vat in root.iter("productvatpercentage"):
            self.assertIn(vat.get("vatcode"), {code for code, _label in
                                               self.env["netvisor.vat.mapping"]._fields["netvisor_vat_code"].selection})

    def test_rounding_to_the_cent(self):
        lines = [{"product_id": self.product.id, "quantity": q, "price_unit": p, "discount": d}
                 for q, p, d in [(3, 0.333, 0), (7, 1.17, 3), (1, 0.05, 0), (13, 2.49, 7.5), (1, 0.01, 0),
                                 (2, 19.99, 0), (0.5, 33.33, 12.5)]]
        lines += [{"product_id": self.service.id, "quantity": 3, "price_unit": 0.35},
                  {"product_id": self.service.id, "quantity": 1, "price_unit": 0.35}]
        for method in ("round_per_line", "round_globally"):
            self.company.tax_calculation_rounding_method = method
            move = self.invoice(lines)
            self.send(move)
            record = self.assert_sent(move)
            per_line = sum(
                (Decimal(line["net_sum"]) * Decimal(line["vat_percent"]) / 100).quantize(Decimal("0.01"))
                for line in record["lines"])
            if method == "round_globally":
                # Odoo rounds the VAT per tax, Netvisor per line: the cent goes onto a line
                self.assertNotEqual(per_line, Decimal(repr(move.amount_tax)).quantize(Decimal("0.01")))
        move = self.invoice([{"product_id": self.product.id, "quantity": 1, "price_unit": 21.53,
                              "tax_ids": [Command.set(self.tax_255_incl.ids)]}] * 3)
        self.send(move)
        record = self.assert_sent(move)
        self.assertEqual(record["lines"][0]["unit_price_type"], "gross")

    def test_eu_sale_through_fiscal_position(self):
        move = self.invoice(partner=self.eu_customer)
        self.assertEqual(move.invoice_line_ids.tax_ids, self.tax_eu)
        self.send(move)
        record = self.assert_sent(move)
        self.assertEqual((record["lines"][0]["vat_code"], record["lines"][0]["vat_percent"]), ("EUMY", "0"))

    def test_foreign_currency(self):
        eur = self.env.ref("base.EUR")
        currency = eur if self.company.currency_id != eur else self.env.ref("base.SEK")
        currency.active = True
        self.env["res.currency.rate"].create({"name": "2026-05-01", "rate": 1.25, "currency_id": currency.id,
                                              "company_id": self.company.id})
        move = self.invoice(currency_id=currency.id)
        self.send(move)
        record = self.assert_sent(move)
        self.assertEqual(record["currency"], currency.name)
        self.assertEqual(Decimal(record["currency_rate"]), Decimal("1.25"))

    # ------------------------------------------------------------------ credit notes

    def reverse(self, move):
        wizard = self.env["account.move.reversal"].with_context(
            active_model="account.move", active_ids=move.ids).create({"journal_id": move.journal_id.id,
                                                                       "reason": "palautus"})
        credit = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        credit.action_post()
        return credit

    def test_credit_note_negative_and_matched(self):
        move = self.invoice()
        self.send(move)
        credit = self.reverse(move)
        self.send(credit)
        record = self.assert_sent(credit)
        self.assertLess(Decimal(record["amount"]), 0)
        self.assertEqual(record["lines"][0]["quantity"], "-2")
        self.assertLess(Decimal(record["lines"][0]["line_sum"]), 0)
        self.assertEqual(record["credited_invoice_key"], int(move.netvisor_invoice_id))
        self.assertTrue(credit.netvisor_credit_note_matched)
        self.assertEqual(len(self.requests("matchcreditnote.nv")), 1)

    def test_credit_note_before_its_invoice(self):
        move = self.invoice()
        credit = self.reverse(move)
        self.send(credit)
        self.assert_sent(credit)
        self.assertFalse(credit.netvisor_credit_note_matched)
        self.assertIn("not linked", credit.message_ids[0].body)
        self.send(move)
        self.assertTrue(credit.netvisor_credit_note_matched, "sending the original links its sent credit notes")
        self.assertEqual(self.stored(credit)["credited_invoice_key"], int(move.netvisor_invoice_id))

    def test_credit_note_match_failure_keeps_the_sent_key(self):
        move = self.invoice()
        self.send(move)
        credit = self.reverse(move)
        self.org.disabled_resources.add("matchcreditnote.nv")
        try:
            self.send(credit)
        finally:
            self.org.disabled_resources.discard("matchcreditnote.nv")
        self.assertEqual(credit.netvisor_state, "sent")
        self.assertFalse(credit.netvisor_credit_note_matched)
        self.assertIn("could not be linked", credit.message_ids[0].body)
        self.send(credit)  # sent again: edited, then matched
        self.assertTrue(credit.netvisor_credit_note_matched)
        self.assertEqual(len([r for r in self.org.collections["sales_invoices"].values()
                              if r["number"] == credit.name]), 1)

    # ------------------------------------------------------------------ auto-send

    def test_auto_send_after_commit(self):
        self.company.netvisor_auto_send_invoice = True
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])
        before = len(self.sandbox.state.requests)
        move = self.invoice()
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.netvisor_state, "queued")
        self.assertEqual(len(self.sandbox.state.requests), before, "posting never talks to Netvisor")
        new_triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)]) - triggers
        self.assertTrue(new_triggers, "posting triggers the send cron, which runs after the commit")
        self.cron.method_direct_trigger()
        self.assert_sent(move)
        run = self.env["netvisor.run"].search([("flow", "=", "sales_send")], limit=1)
        self.assertEqual(run.trigger, "auto")

    def test_auto_send_off_by_default(self):
        self.assertFalse(self.env["res.company"].create({"name": "Toinen"}).netvisor_auto_send_invoice)
        move = self.invoice()
        self.assertEqual(move.netvisor_state, "not_sent")

    @mute_logger("odoo.addons.netvisor_integration")
    def test_auto_send_failure_never_blocks_posting(self):
        self.company.netvisor_auto_send_invoice = True
        self.company.netvisor_base_url = "http://127.0.0.1:9/"  # nothing listens there
        move = self.invoice()
        self.assertEqual((move.state, move.netvisor_state), ("posted", "queued"))
        self.env["account.move"]._cron_netvisor_send_invoices()
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.netvisor_state, "queued", "a transient failure is retried later")
        self.assertEqual(move.netvisor_send_attempts, 1)
        self.assertIn("could not be reached", move.netvisor_error)
        self.env["ir.config_parameter"].set_param("netvisor_integration.sales_send_max_attempts", 2)
        self.env["account.move"]._cron_netvisor_send_invoices()
        self.assertEqual(move.netvisor_state, "error")
        self.assertTrue(move.activity_ids)
        # invalid data is not retried
        self.company.netvisor_base_url = self.sandbox.base_url
        bad = self.invoice([{"product_id": self.product.id, "quantity": 1, "price_unit": 10, "tax_ids": []}])
        self.assertEqual(bad.netvisor_state, "queued")
        self.env["account.move"]._cron_netvisor_send_invoices()
        self.assertEqual(bad.netvisor_state, "error")
        self.assertEqual(move.netvisor_state, "error", "an invoice in error is not picked up by the cron")

    def test_reset_to_draft_unqueues(self):
        self.company.netvisor_auto_send_invoice = True
        move = self.invoice()
        move.button_draft()
        self.assertEqual(move.netvisor_state, "not_sent")

    # ------------------------------------------------------------------ resend

    def test_resend_rule(self):
        move = self.invoice()
        self.send(move)
        key = move.netvisor_invoice_id
        move.netvisor_payment_synced = True
        before = len(self.requests("salesinvoice.nv"))
        action = self.send(move)
        self.assertEqual(len(self.requests("salesinvoice.nv")), before, "blocked while paid in Netvisor")
        self.assertIn("Resend to Netvisor", action["params"]["message"])
        self.assertEqual(move.netvisor_state, "sent")
        # changed and posted again while paid in Netvisor: refused, with the way out
        move.button_draft()
        move.action_post()
        self.send(move)
        self.assertEqual(move.netvisor_state, "error")
        self.assertIn("Resend to Netvisor", move.netvisor_error)
        self.assertEqual(len(self.requests("salesinvoice.nv")), before)
        move.action_resend_to_netvisor()
        self.assertFalse(move.netvisor_payment_synced)
        self.assertEqual(move.netvisor_state, "sent")
        self.assertEqual(move.netvisor_invoice_id, key)
        self.assertEqual(len(self.org.collections["sales_invoices"]), 1, "never created twice")
        self.assertEqual(self.stored(move)["edit_count"], 1)
        self.assertIn(f"method=edit&id={key}", self.netvisor_logs(resource="salesinvoice.nv")[0].url)

    def test_reposted_invoice_is_edited(self):
        move = self.invoice()
        self.send(move)
        key = move.netvisor_invoice_id
        move.button_draft()
        move.invoice_line_ids[0].quantity = 5
        move.action_post()
        self.assertEqual(move.netvisor_state, "not_sent", "Netvisor has an older version")
        self.send(move)
        record = self.assert_sent(move)
        self.assertEqual(move.netvisor_invoice_id, key)
        self.assertEqual(record["lines"][0]["quantity"], "5")
        self.assertEqual(len(self.org.collections["sales_invoices"]), 1)

    # ------------------------------------------------------------------ unknown outcome

    def test_outcome_unknown_stored(self):
        move = self.invoice()
        self.send(self.invoice())  # customer and products exist
        self.sandbox.faults.configure(queue=[("drop_after_process", "salesinvoice.nv")])
        self.send(move)
        self.assertEqual(move.netvisor_state, "error")
        self.assertTrue(move.netvisor_outcome_unknown)
        self.assertIn("looked up", move.netvisor_error)
        self.assertFalse(move.netvisor_invoice_id)
        stored = [r for r in self.org.collections["sales_invoices"].values() if r["number"] == move.name]
        self.assertEqual(len(stored), 1, "Netvisor did store it")
        self.send(move)
        self.assert_sent(move)
        self.assertFalse(move.netvisor_outcome_unknown)
        self.assertEqual(move.netvisor_invoice_id, str(stored[0]["netvisor_key"]))
        stored = [r for r in self.org.collections["sales_invoices"].values() if r["number"] == move.name]
        self.assertEqual(len(stored), 1, "never created twice")
        self.assertTrue(self.requests("salesinvoicelist.nv"), "looked up by number first")

    def test_outcome_unknown_not_stored(self):
        self.send(self.invoice())
        move = self.invoice()
        self.sandbox.faults.configure(queue=[("timeout", "salesinvoice.nv")], hang_seconds=3)
        self.send(move)
        self.assertTrue(move.netvisor_outcome_unknown)
        deadline = time.monotonic() + 10  # the sandbox is still holding the swallowed request
        while time.monotonic() < deadline and not any(
                r[3] == "fault:timeout" for r in self.requests("salesinvoice.nv")):
            time.sleep(0.05)
        self.assertFalse([r for r in self.org.collections["sales_invoices"].values() if r["number"] == move.name])
        lookups = len(self.requests("salesinvoicelist.nv"))
        self.send(move)
        self.assert_sent(move)
        self.assertEqual(len(self.requests("salesinvoicelist.nv")), lookups + 1)

    def test_outcome_unknown_in_background_retries(self):
        self.send(self.invoice())
        self.company.netvisor_auto_send_invoice = True
        move = self.invoice()
        self.sandbox.faults.configure(queue=[("drop_after_process", "salesinvoice.nv")])
        self.env["account.move"]._cron_netvisor_send_invoices()
        self.assertEqual(move.netvisor_state, "queued")
        self.assertTrue(move.netvisor_outcome_unknown)
        self.env["account.move"]._cron_netvisor_send_invoices()
        self.assert_sent(move)
        self.assertEqual(len([r for r in self.org.collections["sales_invoices"].values()
                              if r["number"] == move.name]), 1)

    def test_interrupted_run_is_looked_up(self):
        self.send(self.invoice())
        stored_before, lost = self.invoice(), self.invoice()
        # a run committed its token, posted the first invoice, then died before its own commit
        (stored_before | lost).write({"netvisor_send_token": "dead-run"})
        template = self.stored(self.env["account.move"].search([("netvisor_state", "=", "sent")], limit=1))
        self.org.add("sales_invoices", {k: v for k, v in template.items() if k != "netvisor_key"}
                     | {"number": stored_before.name, "lines": []})
        self.send(stored_before | lost)
        self.assert_sent(stored_before)
        self.assert_sent(lost)
        for move in stored_before | lost:
            self.assertFalse(move.netvisor_send_token)
            self.assertEqual(len([r for r in self.org.collections["sales_invoices"].values()
                                  if r["number"] == move.name]), 1, "never created twice")
        self.assertEqual(len(self.requests("salesinvoicelist.nv")), 2, "both looked up first")

    # ------------------------------------------------------------------ concurrency

    def test_invoice_locked_by_another_worker_is_skipped(self):
        move = self.invoice()
        with patch.object(type(move), "_netvisor_lock", side_effect=account_move_sales._RecordBusy):
            action = self.send(move)
        self.assertEqual(move.netvisor_state, "not_sent")
        self.assertIn("another process", action["params"]["message"])
        self.assertFalse(self.requests("salesinvoice.nv"))

    def test_row_lock_sql(self):
        move = self.invoice()
        queries = []
        execute = type(self.env.cr).execute

        def spy(cr, query, params=None, log_exceptions=True):
            queries.append(str(query))
            return execute(cr, query, params, log_exceptions)

        with patch.object(type(self.env.cr), "execute", spy):
            move._netvisor_lock()
        self.assertTrue(any("FOR UPDATE SKIP LOCKED" in q for q in queries))

    # ------------------------------------------------------------------ bad input

    def test_company_customer_without_business_id(self):
        partner = self.env["res.partner"].create({"name": "Tunnukseton Oy", "is_company": True})
        self.assert_refused(self.invoice(partner=partner), "business ID")

    def test_private_customer_needs_no_business_id(self):
        move = self.invoice(partner=self.person)
        self.send(move)
        self.assertEqual(self.assert_sent(move)["customer_name"], "Matti Meikäläinen")

    def test_line_without_tax_or_with_two(self):
        move = self.invoice([{"product_id": self.product.id, "quantity": 1, "price_unit": 10},
                             {"name": "Verotön", "quantity": 1, "price_unit": 5, "tax_ids": []}])
        self.assert_refused(move, "line 2 (Verotön) has 0 taxes")
        move = self.invoice([{"product_id": self.product.id, "quantity": 1, "price_unit": 10,
                              "tax_ids": [Command.set((self.tax_255 | self.tax_14).ids)]}])
        self.assert_refused(move, "line 1 (")

    def test_no_lines_and_zero_total(self):
        move = self.invoice([{"display_type": "line_note", "name": "Pelkkä huomautus"},
                             {"product_id": self.product.id, "quantity": 1, "price_unit": 0}])
        self.assert_refused(move, "total is zero")
        move = self.invoice([{"product_id": self.product.id, "quantity": 1, "price_unit": 10},
                             {"product_id": self.product.id, "quantity": -1, "price_unit": 10}])
        self.assert_refused(move, "total is zero")

    def test_unknown_currency(self):
        currency = self.env["res.currency"].create({"name": "XQQ", "symbol": "Q", "rounding": 0.01})
        self.env["res.currency.rate"].create({"name": "2026-01-01", "rate": 2.0, "currency_id": currency.id,
                                              "company_id": self.company.id})
        self.assert_refused(self.invoice(currency_id=currency.id), "XQQ")

    def test_too_long_texts(self):
        move = self.invoice([{"product_id": self.product.id, "quantity": 1, "price_unit": 10, "name": "x" * 201}])
        self.assert_refused(move, "Label (first line) of line 1 is 201 characters long; Netvisor accepts at most 200")
        partner = self.env["res.partner"].create({"name": "Pitkä " + "n" * 250, "street": "Katu 1"})
        self.assert_refused(self.invoice(partner=partner), "Netvisor accepts at most 250")
        partner = self.env["res.partner"].create({"name": "Lyhyt", "street": "s" * 81})
        self.assert_refused(self.invoice(partner=partner), "Street of")

    def test_special_characters(self):
        text = "Ääkkös & <merkit> \"lainaus\" 'heitto' å ö €"
        partner = self.env["res.partner"].create({"name": text, "street": "Öljytie 1 & 2", "city": "Åbo"})
        move = self.invoice([{"product_id": self.product.id, "quantity": 1, "price_unit": 10, "name": text}],
                            partner=partner)
        self.send(move)
        record = self.assert_sent(move)
        self.assertEqual(record["customer_name"], text)
        self.assertEqual(record["lines"][0]["name"], text)
        self.assertEqual(record["customer_address"]["city"], "Åbo")

    def test_netvisor_refusal_is_reported(self):
        move = self.invoice()
        self.send(move)
        self.org.collections["customers"].clear()  # deleted in Netvisor meanwhile
        other = self.invoice()
        self.send(other)
        self.assertEqual(other.netvisor_state, "error")
        self.assertIn("Netvisor refused the data", other.netvisor_error)
        self.assertIn("Customer not found", other.netvisor_error)
        self.assertEqual(self.netvisor_logs(res_id=other.id, resource="salesinvoice.nv").error_category,
                         "INVALID_DATA")

    def test_failure_of_one_invoice_does_not_stop_the_others(self):
        good = self.invoice()
        bad = self.invoice([{"name": "Verotön", "quantity": 1, "price_unit": 5, "tax_ids": []}])
        later = self.invoice()
        action = self.send(good | bad | later)
        self.assertEqual((good.netvisor_state, bad.netvisor_state, later.netvisor_state), ("sent", "error", "sent"))
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("Sent to Netvisor: 2, failed: 1", action["params"]["message"])

    def test_vat_mapping_mismatch(self):
        tax = self.env["account.tax"].create({"name": "ALV 24 %", "amount": 24, "type_tax_use": "sale",
                                              "company_id": self.company.id})
        self.env["netvisor.vat.mapping"].create({"company_id": self.company.id, "tax_id": tax.id,
                                                 "netvisor_vat_code": "KOMY", "netvisor_vat_percent": 10})
        move = self.invoice([{"product_id": self.product.id, "quantity": 1, "price_unit": 100,
                              "tax_ids": [Command.set(tax.ids)]}])
        self.assert_refused(move, "VAT mapping")

    def test_not_configured(self):
        self.company.netvisor_customer_key = False
        move = self.invoice()
        self.send(move)
        self.assertEqual(move.netvisor_state, "error")
        self.assertIn("Customer Key", move.netvisor_error)

    # ------------------------------------------------------------------ preview, menus, overview

    def test_preview(self):
        move = self.invoice([{"product_id": self.product.id, "quantity": 1, "price_unit": 10}])
        action = move.action_netvisor_preview_xml()
        wizard = self.env["netvisor.xml.preview"].browse(action["res_id"])
        self.assertFalse(wizard.error)
        self.assertIn(f"<salesinvoicenumber>{move.name}</salesinvoicenumber>", wizard.xml_content)
        self.assertIn("not in Netvisor yet", wizard.notes)
        self.assertFalse(self.requests(method="POST"), "a preview never writes to Netvisor")
        self.assertFalse(self.org.collections["customers"])
        self.assertEqual(move.netvisor_state, "not_sent")
        validator = self.dtd()
        self.assertTrue(validator.validate(etree.fromstring(wizard.xml_content.encode())),
                        validator.error_log.filter_from_errors())
        self.assertEqual(Form(wizard).xml_content, wizard.xml_content)  # the wizard view loads
        wizard.action_send()
        self.assert_sent(move)
        bad = self.invoice([{"name": "Verotön", "quantity": 1, "price_unit": 5, "tax_ids": []}])
        wizard = self.env["netvisor.xml.preview"].browse(bad.action_netvisor_preview_xml()["res_id"])
        self.assertIn("has 0 taxes", wizard.error)

    def test_preview_without_configuration(self):
        self.company.netvisor_partner_key = False
        move = self.invoice()
        text, notes, error = move._netvisor_preview()
        self.assertFalse(error)
        self.assertIn("not configured", "\n".join(notes))
        self.assertIn(move.name, text)

    def test_action_menu_binding(self):
        action = self.env.ref("netvisor_integration.action_account_move_send_to_netvisor")
        self.assertEqual(action.binding_model_id.model, "account.move")
        self.assertEqual(set(action.binding_view_types.split(",")), {"list", "form"})
        move = self.invoice()
        result = action.with_context(active_model="account.move", active_ids=move.ids, active_id=move.id).run()
        self.assertEqual(result["tag"], "display_notification")
        self.assertEqual(move.netvisor_state, "sent")
        draft = self.invoice(post=False)
        with self.assertRaisesRegex(Exception, "Only posted customer invoices"):
            draft.action_send_to_netvisor()
        form = Form(move)
        self.assertEqual(form.netvisor_state, "sent")

    def test_settings(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.netvisor_sales_default_product_id, self.misc)
        self.assertEqual(settings.netvisor_sales_invoice_status, "open")
        settings.netvisor_sales_invoice_status = "unsent"
        settings.execute()
        self.assertEqual(self.company.netvisor_sales_invoice_status, "unsent")
        move = self.invoice()
        self.send(move)
        self.assertEqual(self.assert_sent(move)["status"], "unsent")
        self.assertEqual(self.env["res.config.settings"].create({}).netvisor_sales_invoice_status, "unsent")

    def test_large_selection_is_queued(self):
        self.env["ir.config_parameter"].set_param("netvisor_integration.sales_send_sync_limit", 1)
        moves = self.invoice() | self.invoice()
        action = self.send(moves)
        self.assertIn("queued", action["params"]["message"])
        self.assertEqual(set(moves.mapped("netvisor_state")), {"queued"})
        self.assertFalse(self.requests("salesinvoice.nv"))

    def test_overview(self):
        move = self.invoice([{"name": "Verotön", "quantity": 1, "price_unit": 5, "tax_ids": []}])
        self.send(move)
        self.env["netvisor.flow"].with_company(self.company).action_open_overview()
        row = self.env["netvisor.flow"].search([("company_id", "=", self.company.id), ("flow", "=", "sales_send")])
        self.assertEqual(row.attention_count, 1)
        self.assertEqual(row.last_run_state, "partial")
        self.company.netvisor_auto_send_invoice = True
        queued = self.invoice()
        row.action_run_now()
        self.assertEqual(queued.netvisor_state, "sent")
