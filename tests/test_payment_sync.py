import datetime
from unittest.mock import patch

import pytz

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..netvisor_sandbox.resources.payments import add_purchase_payment, add_sales_payment
from .common import NetvisorTestCommon


@tagged("post_install", "-at_install")
class TestNetvisorPaymentSync(NetvisorTestCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["account.move"])
        cls.netvisor_journal = cls.env["account.journal"].create({
            "name": "Netvisor Bank", "code": "NVBK", "type": "bank", "company_id": cls.company.id,
        })
        cls.company.netvisor_payment_journal_id = cls.netvisor_journal

    # ------------------------------------------------------------------ helpers

    def days_ago(self, days):
        return self.today - datetime.timedelta(days=days)

    def make_invoice(self, amount=100.0, days=10, move_type="out_invoice", partner=None):
        """A posted customer invoice sent to Netvisor (or vendor bill imported from it) and the
        matching record in the sandbox. Returns (move, netvisor key)."""
        date = self.days_ago(days)
        key = self.org.next_key()
        move = self.env["account.move"].create({
            "move_type": move_type,
            "partner_id": (partner or self.partner_a).id,
            "invoice_date": date,
            "date": date,
            "ref": f"BILL-{key}" if move_type == "in_invoice" else False,
            "invoice_line_ids": [Command.create({"name": "Work", "quantity": 1, "price_unit": amount,
                                                 "tax_ids": []})],
        })
        move.action_post()
        sign = "" if move_type in ("out_invoice", "in_invoice") else "-"
        total = f"{sign}{move.amount_total:.2f}"
        if move_type in ("out_invoice", "out_refund"):
            move.netvisor_invoice_id = str(key)
            self.org.add("sales_invoices", {"netvisor_key": key, "number": f"T{key}", "date": date.isoformat(),
                                            "amount": total, "customer_name": move.partner_id.name})
        else:
            move.netvisor_key = str(key)
            self.org.add("purchase_invoices", {"netvisor_key": key, "number": f"BILL-{key}", "date": date.isoformat(),
                                               "amount": total, "vendor": {"name": move.partner_id.name}})
        return move, key

    def sync(self):
        before = self.sandbox.state.stats["requests"]
        run = self.env["account.move"]._netvisor_sync_payments(self.company)
        self.requests = self.sandbox.state.stats["requests"] - before
        return run

    def netvisor_payments(self, move):
        return move.matched_payment_ids.filtered("netvisor_payment_key")

    # ------------------------------------------------------------------ behaviour

    def test_full_payment(self):
        invoice, key = self.make_invoice(124.0, days=20)
        other, _other_key = self.make_invoice(50.0, days=5)
        sandbox_payment = add_sales_payment(self.org, key, "124.00", self.days_ago(3))
        run = self.sync()
        self.assertEqual(run.state, "done")
        self.assertEqual((run.count_done, run.count_skipped, run.count_failed), (1, 1, 0))
        self.assertEqual(invoice.payment_state, "paid")
        self.assertTrue(invoice.netvisor_payment_synced)
        payment = invoice.matched_payment_ids
        self.assertEqual(len(payment), 1)
        self.assertEqual(payment.netvisor_payment_key, str(sandbox_payment["netvisor_key"]))
        self.assertEqual(payment.date, self.days_ago(3))
        self.assertAlmostEqual(payment.amount, 124.0)
        self.assertEqual(payment.journal_id, self.netvisor_journal)
        self.assertEqual((payment.payment_type, payment.partner_type), ("inbound", "customer"))
        self.assertIn(payment.state, ("in_process", "paid"))
        self.assertTrue(payment.move_id, "a real journal entry, so that partial amounts show in the residual")
        self.assertEqual(other.payment_state, "not_paid")
        self.assertFalse(other.netvisor_payment_synced)
        self.assertEqual(self.requests, 2)  # salesinvoicelist.nv + salespaymentlist.nv, no purchase candidates
        logs = self.netvisor_logs(flow="payment_sync")
        self.assertEqual(sorted(logs.mapped("resource")), ["salesinvoicelist.nv", "salespaymentlist.nv"])
        self.assertIn("includemodifiedpayments=1", logs.filtered(lambda log: log.resource == "salesinvoicelist.nv").url)

    def test_partial_then_full(self):
        invoice, key = self.make_invoice(100.0, days=30)
        first = add_sales_payment(self.org, key, "40.00", self.days_ago(10))
        self.sync()
        self.assertEqual(invoice.payment_state, "partial")
        self.assertAlmostEqual(invoice.amount_residual, 60.0)
        self.assertFalse(invoice.netvisor_payment_synced)
        second = add_sales_payment(self.org, key, "60.00", self.days_ago(2))
        run = self.sync()
        self.assertEqual(run.count_done, 1)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertTrue(invoice.netvisor_payment_synced)
        payments = invoice.matched_payment_ids.sorted("date")
        self.assertEqual(payments.mapped("netvisor_payment_key"),
                         [str(first["netvisor_key"]), str(second["netvisor_key"])])
        self.assertEqual(payments.mapped("date"), [self.days_ago(10), self.days_ago(2)])
        self.assertEqual(payments.mapped("amount"), [40.0, 60.0])

    def test_invoice_with_installments(self):
        invoice, key = self.make_invoice(200.0)
        invoice.button_draft()
        invoice.invoice_payment_term_id = self.pay_terms_b  # two installments: two receivable lines
        invoice.action_post()
        self.assertEqual(len(invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")), 2)
        add_sales_payment(self.org, key, "150.00", self.days_ago(2))
        self.sync()
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(invoice.matched_payment_ids.mapped("amount"), [150.0])
        self.assertAlmostEqual(invoice.amount_residual, 50.0)
        add_sales_payment(self.org, key, "50.00", self.days_ago(1))
        self.sync()
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(len(invoice.matched_payment_ids), 2)

    def test_window_edge(self):
        inside, inside_key = self.make_invoice(80.0, days=89)
        outside, outside_key = self.make_invoice(90.0, days=91)
        add_sales_payment(self.org, inside_key, "80.00", self.days_ago(1))
        add_sales_payment(self.org, outside_key, "90.00", self.days_ago(1))
        run = self.sync()
        self.assertEqual(run.count_done, 1)
        self.assertEqual(inside.payment_state, "paid")
        self.assertEqual(outside.payment_state, "not_paid", "an invoice older than the window is no longer tracked")
        self.assertFalse(outside.matched_payment_ids)
        # the window is configurable
        self.company.netvisor_payment_window_days = 95
        self.sync()
        self.assertEqual(outside.payment_state, "paid")
        with self.assertRaises(ValidationError):
            self.company.netvisor_payment_window_days = 0

    def test_rerun_is_idempotent(self):
        invoice, key = self.make_invoice(100.0)
        partial, partial_key = self.make_invoice(100.0)
        bill, bill_key = self.make_invoice(70.0, move_type="in_invoice")
        add_sales_payment(self.org, key, "100.00", self.days_ago(2))
        add_sales_payment(self.org, partial_key, "30.00", self.days_ago(2))
        add_purchase_payment(self.org, bill_key, "20.00", self.days_ago(2))
        self.sync()
        self.assertEqual(self.requests, 4)
        state = [(m.payment_state, m.amount_residual, len(m.matched_payment_ids)) for m in invoice | partial | bill]
        payments_before = self.env["account.payment"].search_count([("netvisor_payment_key", "!=", False)])
        for _i in range(2):
            run = self.sync()
            self.assertEqual(run.state, "done")
            self.assertEqual(run.count_done, 0)
            self.assertEqual(self.requests, 4)
        self.assertEqual(
            [(m.payment_state, m.amount_residual, len(m.matched_payment_ids)) for m in invoice | partial | bill], state)
        self.assertEqual(self.env["account.payment"].search_count([("netvisor_payment_key", "!=", False)]),
                         payments_before)
        self.assertEqual(partial.payment_state, "partial")
        self.assertEqual(bill.payment_state, "partial")

    def test_invoice_paid_in_odoo_meanwhile(self):
        invoice, key = self.make_invoice(100.0)
        manual = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids).create({})._create_payments()
        self.assertEqual(invoice.payment_state, "paid")
        add_sales_payment(self.org, key, "100.00", self.days_ago(1))
        run = self.sync()
        self.assertEqual(run.count_done, 0)
        self.assertEqual(invoice.matched_payment_ids, manual, "nothing more is registered")
        self.assertFalse(invoice.netvisor_payment_synced)
        self.assertEqual(self.requests, 0, "no candidate, no request")

    def test_partly_paid_in_odoo_meanwhile(self):
        """The same money recorded by hand in Odoo and found in Netvisor is not counted twice."""
        invoice, key = self.make_invoice(100.0)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids).create({"amount": 30.0})._create_payments()
        add_sales_payment(self.org, key, "100.00", self.days_ago(1))
        self.sync()
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(self.netvisor_payments(invoice).mapped("amount"), [70.0])

    def test_vendor_bill_paid(self):
        bill, key = self.make_invoice(250.0, days=15, move_type="in_invoice", partner=self.partner_b)
        sandbox_payment = add_purchase_payment(self.org, key, "250.00", self.days_ago(4))
        run = self.sync()
        self.assertEqual(run.count_done, 1)
        self.assertEqual(bill.payment_state, "paid")
        self.assertTrue(bill.netvisor_payment_synced)
        payment = bill.matched_payment_ids
        self.assertEqual((payment.payment_type, payment.partner_type), ("outbound", "supplier"))
        self.assertEqual(payment.partner_id, self.partner_b)
        self.assertEqual(payment.netvisor_payment_key, str(sandbox_payment["netvisor_key"]))
        self.assertEqual(payment.date, self.days_ago(4))
        self.assertAlmostEqual(payment.amount, 250.0)
        self.assertEqual(payment.journal_id, self.netvisor_journal)
        self.assertEqual(self.requests, 2)  # purchaseinvoicelist.nv (paid) + paymentlist.nv
        urls = self.netvisor_logs(flow="payment_sync").mapped("url")
        self.assertTrue(any("purchaseinvoicelist.nv" in url and "paymentstatus=paid" in url for url in urls))

    def test_same_key_for_sales_and_purchase_payment(self):
        """Sales and purchase payments are separate lists in Netvisor: their keys may be equal."""
        invoice, key = self.make_invoice(10.0)
        bill, bill_key = self.make_invoice(20.0, move_type="in_invoice")
        sales = add_sales_payment(self.org, key, "10.00", self.days_ago(1))
        add_purchase_payment(self.org, bill_key, "20.00", self.days_ago(1), netvisor_key=sales["netvisor_key"])
        self.sync()
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(bill.payment_state, "paid")
        self.assertEqual(self.netvisor_payments(invoice).netvisor_payment_key,
                         self.netvisor_payments(bill).netvisor_payment_key)

    def test_one_failure_among_many(self):
        created = [self.make_invoice(100.0 + i) for i in range(4)]
        moves, keys = [move for move, _key in created], [key for _move, key in created]
        for i, key in enumerate(keys):
            add_sales_payment(self.org, key, f"{50 + i}.00", self.days_ago(3))
            add_sales_payment(self.org, key, f"{50}.00", self.days_ago(2))
        bad = moves[1]
        original = type(self.env["account.move"])._netvisor_register_payment
        calls = []

        def register(move, row, amount, journal):
            calls.append(move)
            if move == bad and calls.count(bad) == 2:
                raise UserError("The bank journal is locked (simulated)")
            return original(move, row, amount, journal)

        with patch.object(type(self.env["account.move"]), "_netvisor_register_payment", register):
            run = self.sync()
        self.assertEqual(run.state, "partial")
        self.assertEqual((run.count_done, run.count_failed), (3, 1))
        self.assertEqual(calls.count(bad), 2)
        self.assertFalse(bad.matched_payment_ids, "the first payment of the failed invoice was rolled back")
        self.assertEqual(bad.payment_state, "not_paid")
        for move in moves:
            if move != bad:
                self.assertEqual(move.payment_state, "paid")
        error = self.netvisor_logs(flow="payment_sync", state="error")
        self.assertEqual(len(error), 1)
        self.assertEqual((error.res_model, error.res_id), ("account.move", bad.id))
        self.assertIn("locked (simulated)", error.error_message)
        self.assertIn(bad.name, error.error_message)
        self.assertIn("locked (simulated)", bad.message_ids[0].body)
        # the next run registers what failed
        run = self.sync()
        self.assertEqual((run.state, run.count_done), ("done", 1))
        self.assertEqual(bad.payment_state, "paid")
        self.assertEqual(len(bad.matched_payment_ids), 2)

    def test_invoice_sent_by_the_sales_flow(self):
        """End to end: the sales flow sends the invoice, Netvisor gets paid, the sync pays it in Odoo."""
        tax = self.env["account.tax"].create({"name": "ALV 25,5 %", "amount": 25.5, "type_tax_use": "sale",
                                              "company_id": self.company.id})
        product = self.env["product.product"].create({"name": "Palvelu", "default_code": "PALVELU-PAY",
                                                      "type": "service", "taxes_id": [Command.set(tax.ids)]})
        customer = self.env["res.partner"].create({"name": "Maija Maksaja", "street": "Tie 1", "zip": "00100",
                                                   "city": "Helsinki", "country_id": self.env.ref("base.fi").id})
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": customer.id, "invoice_date": self.days_ago(6),
            "invoice_line_ids": [Command.create({"product_id": product.id, "quantity": 2, "price_unit": 40.0})],
        })
        invoice.action_post()
        invoice.action_send_to_netvisor()
        self.assertEqual(invoice.netvisor_state, "sent", invoice.netvisor_error)
        key = int(invoice.netvisor_invoice_id)
        add_sales_payment(self.org, key, "50.00", self.days_ago(2))
        add_sales_payment(self.org, key, f"{invoice.amount_total - 50:.2f}", self.days_ago(1))
        run = self.sync()
        self.assertEqual(run.count_done, 1)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertTrue(invoice.netvisor_payment_synced)
        self.assertEqual(len(invoice.matched_payment_ids), 2)

    def test_overlapping_runs_never_pay_twice(self):
        """A run that does not yet see the payments of another run (not committed when it
        started) is stopped by the unique payment key, and its invoice is left untouched."""
        invoice, key = self.make_invoice(100.0)
        first = add_sales_payment(self.org, key, "40.00", self.days_ago(3))
        self.sync()
        add_sales_payment(self.org, key, "60.00", self.days_ago(1))
        with patch.object(type(self.env["account.move"]), "_netvisor_registered_payment_keys",
                          lambda self_, company, data: set()), mute_logger("odoo.sql_db"):
            run = self.sync()
        self.assertEqual((run.count_done, run.count_failed), (0, 1))
        self.assertEqual(self.netvisor_payments(invoice).mapped("netvisor_payment_key"), [str(first["netvisor_key"])])
        self.assertIn("registered by another run", self.netvisor_logs(flow="payment_sync", state="error").error_message)
        self.sync()
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(sorted(self.netvisor_payments(invoice).mapped("amount")), [40.0, 60.0])

    def test_overpayment_and_reversal_are_capped(self):
        over, over_key = self.make_invoice(100.0)
        add_sales_payment(self.org, over_key, "150.00", self.days_ago(2))
        reversed_invoice, reversed_key = self.make_invoice(100.0)
        add_sales_payment(self.org, reversed_key, "60.00", self.days_ago(3))
        add_sales_payment(self.org, reversed_key, "-10.00", self.days_ago(2))
        self.sync()
        self.assertEqual(over.payment_state, "paid")
        self.assertEqual(over.matched_payment_ids.mapped("amount"), [100.0], "capped at what is open")
        self.assertEqual(reversed_invoice.matched_payment_ids.mapped("amount"), [50.0], "net of the reversal")
        self.assertFalse(self.env["account.payment"].search([("netvisor_payment_key", "!=", False),
                                                             ("amount", "<=", 0)]))

    def test_credit_note_is_never_paid(self):
        refund, key = self.make_invoice(40.0, move_type="out_refund")
        add_sales_payment(self.org, key, "-40.00", self.days_ago(1))
        add_sales_payment(self.org, key, "40.00", self.days_ago(1))
        self.sync()
        self.assertEqual(self.requests, 0, "credit notes are not candidates")
        self.assertFalse(refund.matched_payment_ids)
        self.assertEqual(refund.payment_state, "not_paid")

    def test_paid_in_netvisor_without_payment_rows(self):
        """A credit loss settles the invoice in Netvisor without money: noted once, not paid."""
        invoice, key = self.make_invoice(100.0)
        add_sales_payment(self.org, key, "100.00", self.days_ago(1), credit_loss=True)
        run = self.sync()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(invoice.matched_payment_ids)
        self.assertTrue(invoice.netvisor_payment_difference)
        notes = invoice.message_ids.filtered(lambda m: "credit loss" in (m.body or ""))
        self.assertEqual(len(notes), 1)
        self.assertEqual(run.count_done, 0)
        self.sync()
        self.assertEqual(len(invoice.message_ids.filtered(lambda m: "credit loss" in (m.body or ""))), 1)
        row = self.env["netvisor.flow"].search([("company_id", "=", self.company.id), ("flow", "=", "payment_sync")])
        self.assertEqual(row.attention_count, 1)

    def test_netvisor_failure_fails_the_run(self):
        invoice, key = self.make_invoice(100.0)
        add_sales_payment(self.org, key, "100.00", self.days_ago(1))
        self.sandbox.faults.configure(queue=["http500", "http500", "http500"])
        run = self.sync()
        self.assertEqual(run.state, "failed")
        self.assertIn("technical error", run.message)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(len(self.netvisor_logs(flow="payment_sync", state="error")), 3)
        self.assert_no_secret(run.message)

    def test_requests_do_not_grow_with_invoices(self):
        for _i in range(6):
            move, key = self.make_invoice(10.0)
            add_sales_payment(self.org, key, "10.00", self.days_ago(1))
        for _i in range(4):
            move, key = self.make_invoice(10.0, move_type="in_invoice")
            add_purchase_payment(self.org, key, "10.00", self.days_ago(1))
        run = self.sync()
        self.assertEqual(run.count_done, 10)
        self.assertEqual(self.requests, 4)

    def test_settings_button_cron_and_overview(self):
        invoice, key = self.make_invoice(100.0)
        add_sales_payment(self.org, key, "100.00", self.days_ago(1))
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.netvisor_payment_window_days, 90)
        self.assertEqual(settings.netvisor_payment_journal_id, self.netvisor_journal)
        action = settings.action_netvisor_sync_payments_now()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("1 invoice(s) got payments", action["params"]["message"])
        self.assertEqual(invoice.payment_state, "paid")
        row = self.env["netvisor.flow"].search([("company_id", "=", self.company.id), ("flow", "=", "payment_sync")])
        self.assertEqual(row.last_run_state, "done")
        self.assertEqual(row.last_run_id.trigger, "manual")
        # the cron goes through every configured company
        self.env["account.move"]._cron_netvisor_sync_payments()
        self.assertEqual(row.last_run_id.trigger, "cron")
        self.assertEqual(row.last_run_id.state, "done")
        # the overview's "run now"
        self.assertEqual(row.action_run_now()["tag"], "display_notification")

    def test_default_journal_and_no_bank_journal(self):
        invoice, key = self.make_invoice(100.0)
        add_sales_payment(self.org, key, "100.00", self.days_ago(1))
        self.company.netvisor_payment_journal_id = False
        bank = self.company._netvisor_payment_journal()
        self.assertEqual(bank.type, "bank")
        self.sync()
        self.assertEqual(invoice.matched_payment_ids.journal_id, bank)
        with self.assertRaises(ValidationError):
            self.company.netvisor_payment_journal_id = self.company_data["default_journal_sale"]

    def test_unconfigured_company(self):
        self.company.netvisor_customer_key = False
        run = self.sync()
        self.assertEqual(run.state, "failed")
        self.assertIn("Customer Key", run.message)

    def test_cron_next_call_is_seven_in_helsinki(self):
        cron = self.env.ref("netvisor_integration.ir_cron_netvisor_sync_payments")
        self.assertEqual(cron.code.strip(), "model._cron_netvisor_sync_payments()")
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "days"))
        helsinki = pytz.UTC.localize(cron.nextcall).astimezone(pytz.timezone("Europe/Helsinki"))
        self.assertEqual((helsinki.hour, helsinki.minute), (7, 0))
