"""Bad input corpus (issue 8): missing fields, oversize strings, wrong VAT, invalid business IDs
and hostile XML (XXE, billion laughs, external DTD) in Netvisor's answers. Each gets a clear
error naming the record and the field; nothing is half-written; the good records of the same
run go through."""

import datetime

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from . import test_payment_sync as payment_tests
from . import test_payroll as payroll_tests
from . import test_purchase_import as purchase_tests
from . import test_sync_customers as sync_tests
from .common import NetvisorTestCommon
from .test_faults import QUIET, ExpenseSetupMixin

line = purchase_tests.line
VENDOR = {"name": "Paperitukku Oy", "business_id": purchase_tests.BID_A, "code": "PT"}


@tagged("post_install", "-at_install")
class TestBadInputPurchase(purchase_tests.NetvisorPurchaseCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company
        cls.env["account.tax"].with_company(company).create({
            "name": "FI 25.5% purchase", "amount": 25.5, "type_tax_use": "purchase", "company_id": company.id})
        cls.env["account.account"].with_company(company).create(
            {"code": "4000", "name": "Ostot", "account_type": "expense"})

    def bills(self):
        return self.env["account.move"].search([("company_id", "=", self.company.id), ("netvisor_key", "!=", False)])

    def test_corpus(self):
        refused = {
            # number: (values, words the reason must contain)
            "NO-VENDOR": ({"vendor": {"name": "", "business_id": "", "code": ""}}, ["vendor", "no name"]),
            "BAD-VAT": ({"lines": [line(100), line(50, vat="17")]}, ["VAT code KOOS 17.0 %", "VAT Mapping"]),
            "BAD-CUR": ({"currency": "XXQ"}, ["currency XXQ"]),
        }
        records = {number: self.add_invoice(number=number, vendor=values.pop("vendor", VENDOR), **values)
                   for number, (values, _words) in refused.items()}
        long_text = "Pitkä kuvaus " + "x" * 20000
        long_desc = self.add_invoice(number="LONG-DESC", vendor=VENDOR, lines=[line(100, description=long_text)])
        long_vendor = self.add_invoice(number="LONG-VENDOR",
                                       vendor={"name": "V" * 2000, "business_id": "", "code": "LV"})
        bad_bid = self.add_invoice(number="BAD-BID", vendor={"name": "Huijari Oy", "business_id": "1234567-2",
                                                            "code": "HU"})
        good = self.add_invoice(number="GOOD", vendor=VENDOR)
        lines_before = self.env["account.move.line"].search_count([("company_id", "=", self.company.id)])
        with mute_logger(*QUIET):
            summary = self.run_import()
        self.assertFalse(summary["error"])
        reasons = {failure["number"]: failure["reason"] for failure in summary["failed"]}
        self.assertEqual(set(reasons), set(refused), reasons)
        logs = self.netvisor_logs(flow="purchase_import", state="error")
        for number, (_values, words) in refused.items():
            for word in words:
                self.assertIn(word, reasons[number])
            self.assertFalse(self.bill(records[number]), f"{number}: nothing half-written")
            # the log names the invoice, its key and the reason
            log = logs.filtered(lambda log, number=number: number in log.error_message)
            self.assertEqual(len(log), 1, number)
            self.assertEqual(log.error_category, "IMPORT")
            self.assertIn(str(records[number]["netvisor_key"]), log.error_message)
            self.assertIn(words[0], log.error_message)
        # kept for the next run, not lost
        self.assertEqual(sorted(self.company._netvisor_purchase_retry_key_list()),
                         sorted(str(r["netvisor_key"]) for r in records.values()))
        # the others are whole: every line, the text in full, the total to the cent
        for record in (long_desc, long_vendor, bad_bid, good):
            bill = self.bill(record)
            self.assertEqual(len(bill), 1, record["number"])
            self.assertEqual(len(bill.invoice_line_ids), len(record["lines"]))
            self.assertAlmostEqual(bill.amount_total, float(record["amount"]), places=2)
        self.assertEqual(self.bill(long_desc).invoice_line_ids.name, long_text)
        self.assertEqual(self.bill(long_vendor).partner_id.name, "V" * 2000)
        # an invalid business ID is kept as the vendor's registry number, never turned into a VAT number
        huijari = self.bill(bad_bid).partner_id
        self.assertEqual(huijari.company_registry, "1234567-2")
        self.assertFalse(huijari.vat)
        lines_after = self.env["account.move.line"].search_count([("company_id", "=", self.company.id)])
        self.assertEqual(lines_after - lines_before, sum(len(self.bill(r).line_ids) for r in
                                                         (long_desc, long_vendor, bad_bid, good)),
                         "no orphan journal items of the refused invoices")

    def test_hostile_list_answer(self):
        self.add_invoice(number="H-1", vendor=VENDOR)
        watermark = self.company.netvisor_purchase_last_import
        for _attempt in range(3):  # XXE, billion laughs, external DTD: each refused unparsed
            self.sandbox.faults.configure(queue=[("hostile", "purchaseinvoicelist.nv")])
            with mute_logger(*QUIET):
                summary = self.run_import()
            self.assertTrue(summary["error"])
            self.assertIn("XML", summary["error"])
            self.assertFalse(self.bills())
            self.assertEqual(self.company.netvisor_purchase_last_import, watermark, "the watermark stays")
        self.assertEqual(self.sandbox.faults.injected["hostile"], 3)
        logs = self.netvisor_logs(flow="purchase_import", state="error", resource="purchaseinvoicelist.nv")
        self.assertEqual(set(logs.mapped("error_category")), {"XML_SECURITY"})
        self.assertGreaterEqual(len(logs), 3)
        for log in logs:
            self.assertNotIn("/etc/passwd:", log.error_message or "")
            self.assertNotIn("root:x:", log.response_body or "", "the entity was never expanded")
        # Netvisor answers normally again: nothing was lost
        summary = self.run_import()
        self.assertEqual(len(summary["imported"]), 1)

    def test_hostile_detail_answer(self):
        records = [self.add_invoice(number=f"H-{n}", vendor=VENDOR) for n in range(3)]
        self.sandbox.faults.configure(queue=[("hostile", "getpurchaseinvoice.nv")])
        with mute_logger(*QUIET):
            summary = self.run_import()
        self.assertIn("XML", summary["error"])
        self.assertFalse(self.bills(), "nothing half-written")
        summary = self.run_import()
        self.assertEqual(len(summary["imported"]), 3)
        self.assertTrue(all(len(self.bill(r)) == 1 for r in records))


@tagged("post_install", "-at_install")
class TestBadInputSales(NetvisorTestCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company
        cls.tax = cls.env["account.tax"].create({
            "name": "ALV 25,5 %", "amount": 25.5, "type_tax_use": "sale", "company_id": company.id})
        cls.tax_17 = cls.env["account.tax"].create({
            "name": "Outo 17 %", "amount": 17, "type_tax_use": "sale", "company_id": company.id})
        cls.product = cls.env["product.product"].create({
            "name": "Tuote", "default_code": "TUOTE1", "list_price": 10.0, "taxes_id": [Command.set(cls.tax.ids)]})
        finland = cls.env.ref("base.fi").id
        address = {"street": "Katu 1", "zip": "00100", "city": "Helsinki", "country_id": finland}
        partner = cls.env["res.partner"]
        cls.customer = partner.create({"name": "Asiakas Oy", "is_company": True, "company_registry": "0737546-2",
                                       **address})
        cls.bad_bid = partner.create({"name": "Väärä Oy", "is_company": True, "company_registry": "1234567-2",
                                      **address})
        cls.no_bid = partner.create({"name": "Tunnukseton Oy", "is_company": True, **address})
        cls.long_name = partner.create({"name": "Pitkä " + "n" * 300, "is_company": True,
                                        "company_registry": "0112038-9", **address})

    def setUp(self):
        super().setUp()
        for name in ("sales_invoices", "customers", "products"):
            self.org.collections[name].clear()

    def invoice(self, partner=None, lines=None):
        lines = lines or [{"product_id": self.product.id, "quantity": 2, "price_unit": 10.0}]
        move = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": (partner or self.customer).id,
            "invoice_date": fields.Date.from_string("2026-05-04"),
            "invoice_line_ids": [Command.create(values) for values in lines]})
        move.action_post()
        return move

    def in_netvisor(self, move):
        return [r for r in self.org.collections["sales_invoices"].values() if r["number"] == move.name]

    def test_corpus(self):
        cases = {
            # label: (invoice, words the error must contain)
            "invalid business ID": (self.invoice(self.bad_bid), ["Väärä Oy", "1234567-2", "business ID"]),
            "missing business ID": (self.invoice(self.no_bid), ["Tunnukseton Oy", "business ID"]),
            "oversize name": (self.invoice(self.long_name), ["at most 250"]),
            "oversize label": (self.invoice(lines=[{"product_id": self.product.id, "quantity": 1, "price_unit": 10,
                                                    "name": "x" * 201}]), ["Label", "line 1", "at most 200"]),
            "wrong VAT": (self.invoice(lines=[{"product_id": self.product.id, "quantity": 1, "price_unit": 10,
                                               "tax_ids": [Command.set(self.tax_17.ids)]}]), ["17,00", "VAT code"]),
            "missing tax": (self.invoice(lines=[{"name": "Verotön", "quantity": 1, "price_unit": 5,
                                                 "tax_ids": []}]), ["line 1 (Verotön)", "0 taxes"]),
        }
        good = self.invoice()
        moves = good | self.env["account.move"].union(*(move for move, _words in cases.values()))
        with mute_logger(*QUIET):
            moves._netvisor_send_invoices(trigger="manual")
        self.assertEqual(good.netvisor_state, "sent", good.netvisor_error)
        self.assertEqual(len(self.in_netvisor(good)), 1)
        for label, (move, words) in cases.items():
            self.assertEqual(move.netvisor_state, "error", label)
            self.assertIn(move.name, move.netvisor_error, label)
            for word in words:
                self.assertIn(word, move.netvisor_error, label)
            self.assertFalse(move.netvisor_invoice_id, label)
            self.assertFalse(move.netvisor_send_token, f"{label}: no token left behind")
            self.assertFalse(self.in_netvisor(move), f"{label}: nothing posted")
            log = self.netvisor_logs(res_model="account.move", res_id=move.id, state="error")
            self.assertTrue(log and all(log.mapped("error_category")), label)
            self.assertTrue(move.activity_ids, f"{label}: someone is asked to act")
        # no customer was created in Netvisor for the refused partners
        names = {r["name"] for r in self.org.collections["customers"].values()}
        self.assertEqual(names, {"Asiakas Oy"})

    def test_hostile_answers(self):
        self.invoice()._netvisor_send_invoices()  # customer and product exist
        for resource in ("salesinvoice.nv", "salesinvoicelist.nv"):
            move = self.invoice()
            queue = [("hostile", resource)] if resource == "salesinvoice.nv" else [
                ("drop_after_process", "salesinvoice.nv"), ("hostile", resource)]
            self.sandbox.faults.configure(queue=queue)
            with mute_logger(*QUIET):
                move._netvisor_send_invoices()
                if resource == "salesinvoicelist.nv":  # the lookup after the lost answer gets the hostile XML
                    move._netvisor_send_invoices()
            self.assertEqual(move.netvisor_state, "error", resource)
            self.assertIn(move.name, move.netvisor_error)
            self.assertFalse(move.netvisor_invoice_id, f"{resource}: no key taken from a hostile answer")
            logs = self.netvisor_logs(flow="sales_send", state="error", resource=resource)
            self.assertIn("XML_SECURITY", logs.mapped("error_category"), resource)
            # the next run settles it, exactly once
            move._netvisor_send_invoices()
            self.assertEqual(move.netvisor_state, "sent", move.netvisor_error)
            self.assertLessEqual(len(self.in_netvisor(move)), 1)
            self.assertEqual(len(self.in_netvisor(move)), 1)


@tagged("post_install", "-at_install")
class TestBadInputPayroll(payroll_tests.PayrollTestMixin, NetvisorTestCommon):

    sandbox_data = {"accounts": [{"number": number} for number in payroll_tests.ACCOUNTS]}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_payroll()

    def setUp(self):
        super().setUp()
        self.org.collections["vouchers"].clear()

    def test_corpus(self):
        unmapped = self.make_payslip(self.make_employee("Bonus Saaja", structure=self.structure_bonus))
        long_name = self.make_payslip(self.make_employee("Pitkä " + "n" * 400))
        good = self.make_payslip(self.make_employee("Hyvä Työntekijä"))
        with mute_logger(*QUIET):
            (unmapped | long_name | good)._netvisor_send(trigger="cron")
        self.assertEqual(good.netvisor_state, "sent", good.netvisor_error)
        self.assertEqual(unmapped.netvisor_state, "error")
        self.assertIn(unmapped.display_name, unmapped.netvisor_error)
        self.assertIn("BONUS", unmapped.netvisor_error)
        self.assertFalse(unmapped.netvisor_voucher_key)
        # an oversize text never breaks the voucher: it is sent whole, or refused with a reason
        if long_name.netvisor_state != "sent":
            self.assertEqual(long_name.netvisor_state, "error")
            self.assertIn(long_name.display_name[:40], long_name.netvisor_error)
        vouchers = self.org.collections["vouchers"].values()
        self.assertEqual(len(vouchers), 1 + (long_name.netvisor_state == "sent"), "nothing half-sent")

    def test_hostile_answer(self):
        payslip = self.make_payslip()
        self.sandbox.faults.configure(queue=[("hostile", "accounting.nv")])
        with mute_logger(*QUIET):
            payslip._netvisor_send(trigger="cron")
        self.assertIn(payslip.netvisor_state, ("error", "unknown"))
        self.assertIn(payslip.display_name, payslip.netvisor_error)
        self.assertFalse(payslip.netvisor_voucher_key, "no key taken from a hostile answer")
        logs = self.netvisor_logs(flow="payslip_send", state="error", resource="accounting.nv")
        self.assertEqual(logs.error_category, "XML_SECURITY")
        self.assertFalse(self.org.collections["vouchers"], "the hostile answer came instead of processing")


@tagged("post_install", "-at_install")
class TestBadInputExpenses(ExpenseSetupMixin, NetvisorTestCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_expenses()

    def test_hostile_answer_then_settled_once(self):
        sheet = self.sheets(1)
        self.sandbox.faults.configure(queue=[("hostile", "purchaseinvoice.nv")])
        with mute_logger(*QUIET):
            sheet._netvisor_send(trigger="cron")
        self.assertNotEqual(sheet.netvisor_state, "sent")
        self.assertIn(sheet.display_name, sheet.netvisor_error)
        self.assertFalse(sheet.netvisor_purchase_invoice_key, "no key taken from a hostile answer")
        logs = self.netvisor_logs(flow="expense_send", state="error", resource="purchaseinvoice.nv")
        self.assertEqual(logs.error_category, "XML_SECURITY")
        self.assertFalse(self.org.collections["purchase_invoices"])
        sheet.netvisor_unknown_date = fields.Datetime.now() - datetime.timedelta(minutes=30)
        sheet._netvisor_send(trigger="cron")
        self.assertEqual(sheet.netvisor_state, "sent", sheet.netvisor_error)
        self.assertEqual(len(self.org.collections["purchase_invoices"]), 1)


@tagged("post_install", "-at_install")
class TestBadInputCustomerSync(sync_tests.NetvisorSyncWizardCase):

    def test_corpus(self):
        finland = self.env.ref("base.fi").id
        address = {"street": "Katu 1", "zip": "00100", "city": "Helsinki", "country_id": finland, "customer_rank": 1}
        Partner = self.env["res.partner"]
        bad_bid = Partner.create({"name": "Väärä Oy", "is_company": True, "company_registry": "1234567-2", **address})
        long_name = Partner.create({"name": "Pitkä " + "n" * 300, "is_company": True,
                                    "company_registry": "0112038-9", **address})
        good = Partner.create({"name": "Hyvä Oy", "is_company": True, "company_registry": "0737546-2", **address})
        self.org.add("customers", {"code": "NVB", "business_id": "7654321-9", "name": "Netvisorin väärä Oy",
                                   "street": "Tie 1", "zip": "00100", "city": "Helsinki", "country": "FI"})
        with mute_logger(*QUIET):
            wizard = self.run_sync(direction="both", full=True)
        self.assertTrue(good._netvisor_get_customer_key(self.company))
        for partner, words in ((bad_bid, ["1234567-2", "business ID"]), (long_name, ["250"])):
            line = self.line_for(wizard, partner)
            # refused in the preview (action "error") or by Netvisor when applied (result "failed")
            self.assertTrue(line.action == "error" or line.result == "failed", (line.action, line.result))
            message = line.message if line.action == "error" else line.result_message
            self.assertIn(partner.name[:20], message)
            for word in words:
                self.assertIn(word, message)
            self.assertFalse(partner._netvisor_get_customer_key(self.company), "nothing half-linked")
        names = {r["name"] for r in self.org.collections["customers"].values()}
        self.assertNotIn("Väärä Oy", names)
        self.assertFalse([n for n in names if n.startswith("Pitkä")])

    def test_hostile_answer(self):
        self.sandbox.faults.configure(queue=[("hostile", "customerlist.nv")])
        partners_before = self.env["res.partner"].search_count([])
        with mute_logger(*QUIET):
            wizard = self.env["netvisor.sync.wizard"].with_context(default_sync_type="customer").create(
                {"sync_type": "customer", "direction": "both"})
            try:
                action = wizard.action_preview()
            except UserError as error:
                message = str(error)
            else:  # shown as a notification (so that the log rows of the failure stay)
                message = (action or {}).get("params", {}).get("message") or wizard.summary or ""
        self.assertNotEqual(wizard.state, "preview", "no plan from a hostile answer")
        self.assertIn("XML", message)
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before)
        logs = self.netvisor_logs(flow="customer_sync", state="error")
        self.assertIn("XML_SECURITY", logs.mapped("error_category"))


@tagged("post_install", "-at_install")
class TestBadInputPaymentSync(NetvisorTestCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["account.move"])
        cls.company.netvisor_payment_journal_id = cls.env["account.journal"].create({
            "name": "Netvisor Bank", "code": "NVBK", "type": "bank", "company_id": cls.company.id})

    def days_ago(self, days):
        return self.today - datetime.timedelta(days=days)

    def test_corpus(self):
        make_invoice = payment_tests.TestNetvisorPaymentSync.make_invoice
        good, good_key = make_invoice(self, 100.0, days=10)
        overpaid, key_2 = make_invoice(self, 50.0, days=10)
        payment_tests.add_sales_payment(self.org, good_key, "100.00", self.days_ago(2))
        for resource in ("salesinvoicelist.nv", "salespaymentlist.nv"):
            self.sandbox.faults.configure(queue=[("hostile", resource)])
            with mute_logger(*QUIET):
                run = self.env["account.move"]._netvisor_sync_payments(self.company)
            self.assertEqual(run.state, "failed", resource)
            self.assertIn("XML", run.message)
            self.assertFalse(good.matched_payment_ids, f"{resource}: nothing registered from a hostile answer")
            logs = self.netvisor_logs(flow="payment_sync", state="error", resource=resource)
            self.assertEqual(set(logs.mapped("error_category")), {"XML_SECURITY"}, resource)
        # a payment larger than the invoice is capped, never over-registered
        payment_tests.add_sales_payment(self.org, key_2, "5000.00", self.days_ago(1))
        with mute_logger(*QUIET):
            self.env["account.move"]._netvisor_sync_payments(self.company)
        self.assertEqual(good.matched_payment_ids.mapped("amount"), [100.0])
        self.assertLessEqual(sum(overpaid.matched_payment_ids.mapped("amount")), 50.0)
