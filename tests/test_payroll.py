import datetime
from unittest.mock import patch

import pytz
from psycopg2 import IntegrityError
from psycopg2.errors import LockNotAvailable

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import NetvisorTestCommon

ACCOUNTS = ("5000", "5010", "2930", "2940")


class PayrollTestMixin:
    """Salary structure, mapping and payslips of a small Finnish payroll:
    BASIC 3000 (debit 5000, employee dimension), MEAL allowance 200 (category ALW: debit
    5010), GROSS subtotal (not booked), TAX -20 % = -640 (category DED: debit 2930, so a
    credit), NET 2560 (credit 2940), ZERO 0 (unmapped, skipped because zero)."""

    @classmethod
    def setup_payroll(cls):
        env = cls.env
        cls.company.write({
            "netvisor_payslip_voucher_class": "Palkka",
            "netvisor_payslip_dimension_name": "Henkilöstö",
        })
        category = env["hr.salary.rule.category"]
        cls.cat_basic = category.create({"name": "Basic", "code": "BASIC"})
        cls.cat_alw = category.create({"name": "Allowance", "code": "ALW"})
        cls.cat_gross = category.create({"name": "Gross", "code": "GROSS"})
        cls.cat_ded = category.create({"name": "Deduction", "code": "DED"})
        cls.cat_net = category.create({"name": "Net", "code": "NET"})
        cls.cat_other = category.create({"name": "Other", "code": "OTHER"})
        rule = env["hr.salary.rule"]

        def make_rule(code, sequence, categ, python):
            return rule.create({
                "name": code.title(), "code": code, "sequence": sequence, "category_id": categ.id,
                "condition_select": "none", "amount_select": "code", "amount_python_compute": python,
            })

        cls.rule_basic = make_rule("BASIC", 1, cls.cat_basic, "result = contract.wage")
        cls.rule_meal = make_rule("MEAL", 5, cls.cat_alw, "result = 200.0")
        cls.rule_zero = make_rule("ZERO", 6, cls.cat_other, "result = 0.0")
        cls.rule_gross = make_rule("GROSS", 100, cls.cat_gross, "result = categories.BASIC + categories.ALW")
        cls.rule_tax = make_rule("TAX", 150, cls.cat_ded, "result = -round(categories.GROSS * 0.2, 2)")
        cls.rule_net = make_rule("NET", 200, cls.cat_net, "result = categories.BASIC + categories.ALW + categories.DED")
        cls.rule_bonus = make_rule("BONUS", 10, cls.cat_other, "result = 500.0")
        rules = cls.rule_basic | cls.rule_meal | cls.rule_zero | cls.rule_gross | cls.rule_tax | cls.rule_net
        cls.structure = env["hr.payroll.structure"].create({
            "name": "Kuukausipalkka", "code": "KK", "company_id": cls.company.id,
            "rule_ids": [Command.set(rules.ids)],
        })
        cls.structure_bonus = env["hr.payroll.structure"].create({
            "name": "Kuukausipalkka + bonus", "code": "KKB", "company_id": cls.company.id,
            "rule_ids": [Command.set((rules | cls.rule_bonus).ids)],
        })
        mapping = env["netvisor.payroll.mapping"]
        cls.map_basic = mapping.create({"company_id": cls.company.id, "rule_id": cls.rule_basic.id,
                                        "debit_account": "5000", "employee_dimension": True})
        cls.map_alw = mapping.create({"company_id": cls.company.id, "category_id": cls.cat_alw.id,
                                      "debit_account": "5010"})
        cls.map_gross = mapping.create({"company_id": cls.company.id, "rule_id": cls.rule_gross.id,
                                        "not_booked": True})
        cls.map_ded = mapping.create({"company_id": cls.company.id, "category_id": cls.cat_ded.id,
                                      "debit_account": "2930"})
        cls.map_net = mapping.create({"company_id": cls.company.id, "rule_id": cls.rule_net.id,
                                      "credit_account": "2940"})
        cls.date_from = datetime.date(2026, 1, 1)
        cls.date_to = datetime.date(2026, 1, 31)

    @classmethod
    def make_employee(cls, name, wage=3000.0, structure=None):
        employee = cls.env["hr.employee"].create({"name": name, "company_id": cls.company.id})
        cls.env["hr.contract"].create({
            "name": f"Sopimus {name}", "employee_id": employee.id, "company_id": cls.company.id,
            "wage": wage, "struct_id": (structure or cls.structure).id, "date_start": datetime.date(2025, 1, 1),
            "state": "open",
        })
        return employee

    def make_payslip(self, employee=None, done=True, structure=None, date_to=None):
        employee = employee or self.make_employee("Maija Meikäläinen", structure=structure)
        contract = employee.contract_id
        payslip = self.env["hr.payslip"].create({
            "employee_id": employee.id, "contract_id": contract.id, "struct_id": contract.struct_id.id,
            "date_from": self.date_from, "date_to": date_to or self.date_to, "company_id": self.company.id,
            "name": f"Palkka 1/2026 {employee.name}",
        })
        payslip.compute_sheet()
        if done:
            payslip.action_payslip_done()
        return payslip


@tagged("post_install", "-at_install")
class TestNetvisorPayroll(PayrollTestMixin, NetvisorTestCommon):

    sandbox_data = {"accounts": [{"number": number} for number in ACCOUNTS]}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_payroll()

    def setUp(self):
        super().setUp()
        self.org.collections["vouchers"].clear()

    def vouchers(self):
        return list(self.org.collections["vouchers"].values())

    # ------------------------------------------------------------------ sending

    def test_manual_send(self):
        payslip = self.make_payslip()
        self.assertEqual(payslip.state, "done")
        self.assertEqual(payslip.netvisor_state, "not_sent")
        action = payslip.action_netvisor_send()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(payslip.netvisor_state, "sent")
        [voucher] = self.vouchers()
        self.assertEqual(payslip.netvisor_voucher_key, str(voucher["netvisor_key"]))
        self.assertTrue(payslip.netvisor_sent_date)
        self.assertEqual(voucher["voucher_class"], "Palkka")
        self.assertEqual(voucher["date"], "2026-01-31")
        self.assertEqual(voucher["calculation_mode"], "net")
        self.assertIn(payslip.name, voucher["description"])
        booked = [(line["account"], line["amount"]) for line in voucher["lines"]]
        self.assertEqual(booked, [("5000", "3000.00"), ("5010", "200.00"), ("2930", "-640.00"), ("2940", "-2560.00")],
                         "zero line skipped, GROSS not booked, TAX credited")
        self.assertEqual({(line["vat_code"], line["vat_percent"]) for line in voucher["lines"]}, {("NONE", "0")})
        self.assertEqual(voucher["lines"][0]["dimensions"], [{"name": "Henkilöstö", "item": "Maija Meikäläinen"}])
        self.assertEqual(voucher["lines"][1]["dimensions"], [])
        self.assertIn(payslip.netvisor_voucher_key, payslip.message_ids[0].body)
        log = self.netvisor_logs(flow="payslip_send")
        self.assertEqual(log.mapped("state"), ["success"])
        self.assertEqual((log.res_model, log.res_id), ("hr.payslip", payslip.id))
        self.assertEqual(log.resource, "accounting.nv")
        self.assert_no_secret(log.request_body, log.response_body)
        run = self.env["netvisor.run"].search([("flow", "=", "payslip_send")], limit=1)
        self.assertEqual((run.state, run.count_done, run.trigger), ("done", 1, "manual"))

    def test_no_double_send(self):
        payslip = self.make_payslip()
        payslip.action_netvisor_send()
        key = payslip.netvisor_voucher_key
        action = payslip.action_netvisor_send()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("already sent", action["params"]["message"])
        self.assertEqual(len(self.vouchers()), 1)
        self.assertEqual(payslip.netvisor_voucher_key, key)
        # the server action of the Action menu goes the same way
        server_action = self.env.ref("netvisor_integration.hr_payslip_action_netvisor_send")
        server_action.with_context(active_model="hr.payslip", active_ids=payslip.ids).run()
        self.assertEqual(len(self.vouchers()), 1)
        # explicit resend
        payslip.action_netvisor_resend()
        self.assertEqual(len(self.vouchers()), 2)
        self.assertNotEqual(payslip.netvisor_voucher_key, key)
        self.assertIn(key, payslip.message_ids[0].body, "the earlier voucher is named")

    def test_unmapped_rule_refused(self):
        payslip = self.make_payslip(structure=self.structure_bonus)
        self.assertIn("BONUS", payslip.line_ids.mapped("code"))
        action = payslip.action_netvisor_send()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(payslip.netvisor_state, "error")
        self.assertIn("BONUS", payslip.netvisor_error)
        self.assertNotIn("ZERO", payslip.netvisor_error, "a zero line does not need a mapping")
        self.assertIn("Payroll Mapping", payslip.netvisor_error)
        self.assertIn("BONUS", payslip.message_ids[0].body)
        self.assertTrue(payslip.activity_ids, "the responsible user gets an activity")
        self.assertFalse(self.vouchers())
        log = self.netvisor_logs(flow="payslip_send")
        self.assertEqual((log.state, log.error_category, log.res_id), ("error", "VALIDATION", payslip.id))
        # mapping the category fixes it
        self.env["netvisor.payroll.mapping"].create({
            "company_id": self.company.id, "category_id": self.cat_other.id,
            "debit_account": "5010", "credit_account": "2940"})
        payslip.action_netvisor_send()
        self.assertEqual(payslip.netvisor_state, "sent")
        self.assertFalse(payslip.activity_ids, "the warning activity is closed")
        self.assertIn(("5010", "500.00"), [(line["account"], line["amount"]) for line in self.vouchers()[0]["lines"]])

    def test_unbalanced_voucher_never_sent(self):
        # booking the (negative) tax on a credit account debits it: the voucher no longer balances
        self.map_ded.write({"debit_account": False, "credit_account": "2930"})
        payslip = self.make_payslip()
        payslip.action_netvisor_send()
        self.assertEqual(payslip.netvisor_state, "error")
        self.assertIn("does not balance", payslip.netvisor_error)
        self.assertIn("1,280.00", payslip.netvisor_error, "the difference is shown")
        self.assertFalse(self.vouchers())
        self.assertFalse(self.netvisor_logs(flow="payslip_send", resource="accounting.nv"),
                         "no request was made")

    def test_unknown_voucher_class_refused_by_netvisor(self):
        self.company.netvisor_payslip_voucher_class = "Palkat"
        payslip = self.make_payslip()
        payslip.action_netvisor_send()
        self.assertEqual(payslip.netvisor_state, "error")
        self.assertIn("unknown voucher class", payslip.netvisor_error)
        self.assertEqual(self.netvisor_logs(flow="payslip_send", resource="accounting.nv").error_category,
                         "INVALID_DATA")

    def test_refund_payslip_reverses_the_voucher(self):
        payslip = self.make_payslip()
        payslip.refund_sheet()
        refund = payslip.refunded_id
        self.assertTrue(refund.credit_note)
        refund.action_netvisor_send()
        self.assertEqual(refund.netvisor_state, "sent")
        amounts = [line["amount"] for line in self.vouchers()[0]["lines"]]
        self.assertEqual(amounts, ["-3000.00", "-200.00", "640.00", "2560.00"])

    # ------------------------------------------------------------------ auto-send

    def test_auto_send_after_confirmation_runs_in_the_cron(self):
        self.company.netvisor_auto_send_payslip = True
        cron = self.env.ref("netvisor_integration.ir_cron_netvisor_send_queued_payslips")
        self.assertTrue(cron.active, "triggers of an inactive cron are ignored")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        payslip = self.make_payslip()
        # the confirmation only queued it: nothing went to Netvisor in this transaction
        self.assertEqual(payslip.state, "done")
        self.assertEqual(payslip.netvisor_state, "queued")
        self.assertFalse(self.vouchers())
        self.assertFalse(self.netvisor_logs(flow="payslip_send"))
        new_triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        self.assertEqual(len(new_triggers), 1)
        self.assertLessEqual(new_triggers.call_at, fields.Datetime.now())
        # the cron, run after the commit, sends it
        cron.method_direct_trigger()
        self.assertEqual(payslip.netvisor_state, "sent")
        self.assertEqual(len(self.vouchers()), 1)
        run = self.env["netvisor.run"].search([("flow", "=", "payslip_send")], limit=1)
        self.assertEqual(run.trigger, "auto")

    @mute_logger("odoo.addons.netvisor_integration.models.hr_payslip")
    def test_auto_send_failure_never_blocks_the_confirmation(self):
        self.company.netvisor_auto_send_payslip = True
        payslip = self.make_payslip(structure=self.structure_bonus)  # BONUS is unmapped
        self.assertEqual(payslip.state, "done")
        self.assertEqual(payslip.netvisor_state, "queued")
        self.env.ref("netvisor_integration.ir_cron_netvisor_send_queued_payslips").method_direct_trigger()
        self.assertEqual(payslip.state, "done")
        self.assertEqual(payslip.netvisor_state, "error")
        self.assertIn("BONUS", payslip.netvisor_error)
        # even a failing queue does not stop the confirmation
        other = self.make_payslip(employee=self.make_employee("Matti Meikäläinen"), done=False)
        with patch.object(type(self.env["ir.cron"]), "_trigger", side_effect=RuntimeError("cron table locked")):
            other.action_payslip_done()
        self.assertEqual(other.state, "done")
        self.assertEqual(other.netvisor_state, "not_sent", "left for the monthly run")

    def test_no_auto_send_when_off(self):
        payslip = self.make_payslip()
        self.assertEqual(payslip.netvisor_state, "not_sent")

    # ------------------------------------------------------------------ scheduled sending

    def test_monthly_cron_inactive_by_default_then_run(self):
        cron = self.env.ref("netvisor_integration.ir_cron_netvisor_send_payslips")
        self.assertFalse(cron.active)
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "months"))
        local = pytz.UTC.localize(cron.nextcall).astimezone(pytz.timezone("Europe/Helsinki"))
        self.assertEqual((local.day, local.hour, local.minute), (1, 8, 0))
        sent = self.make_payslip()
        sent.action_netvisor_send()
        pending = self.make_payslip(employee=self.make_employee("Matti Meikäläinen"))
        draft = self.make_payslip(employee=self.make_employee("Liisa Virtanen"), done=False)
        old = self.make_payslip(employee=self.make_employee("Pekka Vanha"), date_to=datetime.date(2026, 1, 15))
        self.company.netvisor_payslip_send_from = datetime.date(2026, 1, 20)
        cron.active = True
        cron.method_direct_trigger()
        self.assertEqual(pending.netvisor_state, "sent")
        self.assertEqual(draft.netvisor_state, "not_sent")
        self.assertEqual(old.netvisor_state, "not_sent", "older than 'Send payslips dated from'")
        self.assertEqual(len(self.vouchers()), 2, "the payslip already sent was not sent again")
        run = self.env["netvisor.run"].search([("flow", "=", "payslip_send")], limit=1)
        self.assertEqual((run.trigger, run.count_done), ("cron", 1))

    def test_one_failure_does_not_stop_the_others(self):
        good_1 = self.make_payslip()
        bad_data = self.make_payslip(employee=self.make_employee("Bonus Saaja", structure=self.structure_bonus))
        bad_network = self.make_payslip(employee=self.make_employee("Verkko Katkos"))
        good_2 = self.make_payslip(employee=self.make_employee("Liisa Virtanen"))
        payslips = good_1 | bad_data | bad_network | good_2
        good_1.action_netvisor_send()
        # the next request and its two retries fail on Netvisor's side (bad_network's)
        self.sandbox.faults.configure(queue=[("http500", "accounting.nv")] * 3)
        action = (bad_data | bad_network | good_2).sorted("id").action_netvisor_send()
        self.assertEqual([p.netvisor_state for p in payslips], ["sent", "error", "error", "sent"])
        self.assertIn("BONUS", bad_data.netvisor_error)
        self.assertIn("technical error", bad_network.netvisor_error)
        self.assertEqual(len(self.vouchers()), 2)
        self.assertIn("1 sent, 0 skipped, 2 failed", action["params"]["message"])
        run = self.env["netvisor.run"].search([("flow", "=", "payslip_send")], limit=1)
        self.assertEqual((run.state, run.count_done, run.count_failed), ("partial", 1, 2))
        # the failed ones go with the next scheduled run
        cron = self.env.ref("netvisor_integration.ir_cron_netvisor_send_payslips")
        cron.active = True
        cron.method_direct_trigger()
        self.assertEqual(bad_network.netvisor_state, "sent")
        self.assertEqual(bad_data.netvisor_state, "error")
        self.assertEqual(len(self.vouchers()), 3)

    # ------------------------------------------------------------------ outcome unknown

    def test_outcome_unknown_needs_a_person(self):
        payslip = self.make_payslip()
        self.sandbox.faults.configure(queue=[("drop_after_process", "accounting.nv")])
        payslip.action_netvisor_send()
        self.assertEqual(payslip.netvisor_state, "unknown")
        self.assertTrue(payslip.netvisor_unknown_date)
        self.assertIn("Found in Netvisor", payslip.netvisor_error)
        self.assertEqual(len(self.vouchers()), 1, "Netvisor stored it, the answer was lost")
        # neither the button nor the cron sends it again on its own
        action = payslip.action_netvisor_send()
        self.assertIn("unknown", action["params"]["message"])
        cron = self.env.ref("netvisor_integration.ir_cron_netvisor_send_payslips")
        cron.active = True
        cron.method_direct_trigger()
        self.assertEqual(len(self.vouchers()), 1)
        self.assertEqual(payslip.netvisor_state, "unknown")
        # a person found it in Netvisor
        payslip.action_netvisor_unknown_mark_sent()
        self.assertEqual(payslip.netvisor_state, "sent")
        self.assertEqual(len(self.vouchers()), 1)

    def test_outcome_unknown_resend_after_check(self):
        payslip = self.make_payslip()
        self.sandbox.faults.configure(queue=[("timeout", "accounting.nv")], hang_seconds=3)
        payslip.action_netvisor_send()
        self.assertEqual(payslip.netvisor_state, "unknown")
        self.assertFalse(self.vouchers(), "the request never reached Netvisor")
        payslip.action_netvisor_unknown_resend()
        self.assertEqual(payslip.netvisor_state, "sent")
        self.assertEqual(len(self.vouchers()), 1)

    def test_payslip_locked_by_another_worker_is_skipped(self):
        payslip = self.make_payslip()
        cursor_class = type(self.env.cr)
        execute = cursor_class.execute

        def locked(cr, query, params=None, log_exceptions=True):
            if "FOR UPDATE NOWAIT" in str(query):
                raise LockNotAvailable("could not obtain lock on row in relation \"hr_payslip\"")
            return execute(cr, query, params, log_exceptions)

        with patch.object(cursor_class, "execute", locked):
            action = payslip.action_netvisor_send()
        self.assertIn("another process", action["params"]["message"])
        self.assertEqual(payslip.netvisor_state, "not_sent")
        self.assertFalse(self.vouchers())
        self.assertFalse(self.netvisor_logs(flow="payslip_send", resource="accounting.nv"))

    def test_views(self):
        payroll_user = self.env["res.users"].create({
            "name": "Palkanlaskija", "login": "nv_payroll_user", "company_id": self.company.id,
            "company_ids": [Command.set(self.company.ids)],
            "groups_id": [Command.set([self.env.ref("payroll.group_payroll_user").id])]})
        views = self.env["hr.payslip"].with_user(payroll_user).get_views([(False, "form"), (False, "list")])
        self.assertIn("action_netvisor_send", views["views"]["form"]["arch"])
        self.assertIn("netvisor_state", views["views"]["list"]["arch"])
        bindings = self.env["ir.actions.actions"].with_user(payroll_user).get_bindings("hr.payslip")["action"]
        self.assertIn("Send to Netvisor", [b["name"] for b in bindings])
        mapping_views = self.env["netvisor.payroll.mapping"].get_views([(False, "list")])
        self.assertIn("debit_account", mapping_views["views"]["list"]["arch"])
        self.assertIn("netvisor_payroll_expenses", self.env["res.config.settings"].get_views(
            [(False, "form")])["views"]["form"]["arch"])

    # ------------------------------------------------------------------ mapping

    def test_mapping_constraints(self):
        mapping = self.env["netvisor.payroll.mapping"]
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            mapping.create({"company_id": self.company.id, "rule_id": self.rule_bonus.id})
        with self.assertRaises(ValidationError) as ctx, self.env.cr.savepoint():
            mapping.create({"company_id": self.company.id, "rule_id": self.rule_bonus.id, "debit_account": "50A0"})
        self.assertIn("50A0", str(ctx.exception))
        with self.assertRaises(IntegrityError), self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
            mapping.create({"company_id": self.company.id, "rule_id": self.rule_bonus.id,
                            "category_id": self.cat_other.id, "debit_account": "5000"})
        row = mapping.create({"company_id": self.company.id, "rule_id": self.rule_bonus.id,
                              "debit_account": " 5000 "})
        self.assertEqual(row.debit_account, "5000")
        found = mapping._netvisor_mappings(self.company, self.rule_bonus | self.rule_meal | self.rule_zero)
        self.assertEqual(found, {self.rule_bonus.id: row, self.rule_meal.id: self.map_alw})

    def test_overview_lists_payslips_needing_attention(self):
        payslip = self.make_payslip(structure=self.structure_bonus)
        payslip.action_netvisor_send()
        flow = self.env["netvisor.flow"]
        action = flow.with_company(self.company).action_open_overview()
        row = flow.search(action["domain"]).filtered(lambda r: r.flow == "payslip_send")
        self.assertEqual(row.attention_count, 1)
        self.assertEqual(row.last_run_state, "partial")
