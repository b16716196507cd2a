import base64
import datetime
import io

from PIL import Image

from odoo import Command, fields
from odoo.tests import tagged

from .common import NetvisorTestCommon

PDF_1 = b"%PDF-1.4\n% kuitti 1\n%%EOF\n"
PDF_2 = b"%PDF-1.4\n% kuitti 2\n%%EOF\n"


@tagged("post_install", "-at_install")
class TestNetvisorExpenses(NetvisorTestCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env.user.groups_id |= env.ref("hr_expense.group_hr_expense_manager")
        cls.account_travel = env["account.account"].create({
            "code": "7800", "name": "Matkakulut", "account_type": "expense",
            "company_ids": [Command.link(cls.company.id)]})
        cls.tax_255 = env["account.tax"].create({
            "name": "ALV 25,5 % osto", "amount": 25.5, "amount_type": "percent", "type_tax_use": "purchase",
            "company_id": cls.company.id})
        cls.tax_14 = env["account.tax"].create({
            "name": "ALV 14 % osto", "amount": 14.0, "amount_type": "percent", "type_tax_use": "purchase",
            "company_id": cls.company.id})
        cls.taxi = env["product.product"].create({
            "name": "Taksi", "default_code": "TAXI", "can_be_expensed": True, "standard_price": 0.0,
            "property_account_expense_id": cls.account_travel.id,
            "supplier_taxes_id": [Command.set(cls.tax_255.ids)]})
        cls.meal = env["product.product"].create({
            "name": "Ateria", "default_code": "MEAL", "can_be_expensed": True, "standard_price": 0.0,
            "property_account_expense_id": cls.account_travel.id,
            "supplier_taxes_id": [Command.set(cls.tax_14.ids)]})
        cls.employee = cls.make_employee("Maija Meikäläinen")
        cls.employee.work_contact_id.write({"street": "Työkatu 1"})
        cls.employee.write({"private_street": "Kotikatu 2", "private_zip": "00100", "private_city": "Helsinki",
                            "private_country_id": env.ref("base.fi").id})
        cls.employee.bank_account_id = env["res.partner.bank"].create({
            "acc_number": "FI21 1234 5600 0007 85", "partner_id": cls.employee.work_contact_id.id})

    @classmethod
    def make_employee(cls, name):
        return cls.env["hr.employee"].create({
            "name": name, "company_id": cls.company.id,
            "work_email": f"{name.split()[0].lower()}@example.com"})

    def setUp(self):
        super().setUp()
        for name in ("purchase_invoices", "vendors"):
            self.org.collections[name].clear()

    def invoices(self):
        return list(self.org.collections["purchase_invoices"].values())

    def make_sheet(self, expenses=None, employee=None, approve=True, payment_mode="own_account"):
        employee = employee or self.employee
        expenses = expenses or [dict(name="Taksi lentokentälle", product=self.taxi, amount=31.38, receipt=PDF_1)]
        sheet = self.env["hr.expense.sheet"].create({
            "name": f"Matka {len(expenses)}", "employee_id": employee.id, "company_id": self.company.id,
            "payment_mode": payment_mode,
            "expense_line_ids": [Command.create({
                "name": values["name"], "employee_id": employee.id, "product_id": values["product"].id,
                "total_amount_currency": values["amount"], "date": datetime.date(2026, 2, 2),
                "company_id": self.company.id, "payment_mode": payment_mode,
                **({"tax_ids": values["taxes"]} if "taxes" in values else {}),
            }) for values in expenses],
        })
        for expense, values in zip(sheet.expense_line_ids, expenses, strict=True):
            if values.get("receipt"):
                self.env["ir.attachment"].create({
                    "name": values.get("filename", f"kuitti-{expense.id}.pdf"), "raw": values["receipt"],
                    "res_model": "hr.expense", "res_id": expense.id,
                    "mimetype": values.get("mimetype", "application/pdf")})
        if approve:
            sheet.action_submit_sheet()
            sheet.action_approve_expense_sheets()
            if sheet.state == "submit":  # Odoo asked about look-alike expenses of other reports
                sheet._do_approve()
            self.assertEqual(sheet.state, "approve")
        return sheet

    # ------------------------------------------------------------------ sending

    def test_send_report_with_two_receipts(self):
        sheet = self.make_sheet([
            dict(name="Taksi lentokentälle", product=self.taxi, amount=31.38, receipt=PDF_1),
            dict(name="Lounas", product=self.meal, amount=22.80, receipt=PDF_2),
        ])
        action = sheet.action_netvisor_send()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(sheet.netvisor_state, "sent")
        [invoice] = self.invoices()
        self.assertEqual(sheet.netvisor_purchase_invoice_key, str(invoice["netvisor_key"]))
        self.assertEqual(invoice["number"], f"EXP-{sheet.id}")
        self.assertEqual(invoice["amount"], "54.18")
        self.assertEqual(invoice["source"], "finvoice", "attachments need invoicesource finvoice")
        self.assertEqual(invoice["date"], fields.Date.to_string(sheet.accounting_date))
        vendor = invoice["vendor"]
        self.assertEqual(vendor["code"], f"EMP-{self.employee.id}")
        self.assertEqual(vendor["name"], "Maija Meikäläinen")
        self.assertEqual(vendor["bank_account"], "FI2112345600000785")
        self.assertEqual((vendor["town"], vendor["country"]), ("Helsinki", "FI"))
        self.assertEqual([line["product_name"] for line in invoice["lines"]], ["Taksi lentokentälle", "Lounas"])
        self.assertEqual({line["account"] for line in invoice["lines"]}, {"7800"})
        self.assertEqual([a["document_type"] for a in invoice["attachments"]], ["invoiceimage", "otherattachment"])
        self.assertEqual(sorted(base64.b64decode(a["base64"]) for a in invoice["attachments"]), [PDF_1, PDF_2],
                         "each receipt once, although the report holds copies of them")
        self.assertIn("2 receipt(s)", sheet.message_ids[0].body)
        log = self.netvisor_logs(flow="expense_send")
        self.assertEqual((log.state, log.resource, log.res_model, log.res_id),
                         ("success", "purchaseinvoice.nv", "hr.expense.sheet", sheet.id))

    def test_expense_with_vat(self):
        sheet = self.make_sheet([
            dict(name="Taksi", product=self.taxi, amount=125.50),
            dict(name="Lounas", product=self.meal, amount=22.80),
            dict(name="Pysäköinti", product=self.taxi, amount=10.00, taxes=[Command.clear()]),
        ])
        sheet.action_netvisor_send()
        self.assertEqual(sheet.netvisor_state, "sent", sheet.netvisor_error)
        [invoice] = self.invoices()
        lines = [(line["vat_percent"], line["line_sum"], line["line_net_sum"], line["unit_price"])
                 for line in invoice["lines"]]
        self.assertEqual(lines, [("25.5", "125.50", "100.00", "100"), ("14", "22.80", "20.00", "20"),
                                 ("0", "10.00", "10.00", "10")])
        self.assertEqual([line["vat_code"] for line in invoice["lines"]], ["KOOS", "KOOS", "NONE"])
        self.assertEqual(invoice["source"], "manual", "no receipt, no finvoice")

    def test_vat_code_a_purchase_line_cannot_carry(self):
        self.env["netvisor.vat.mapping"].create({
            "company_id": self.company.id, "tax_id": self.tax_14.id, "netvisor_vat_code": "EUOS",
            "netvisor_vat_percent": 14})
        sheet = self.make_sheet([dict(name="Lounas Tukholmassa", product=self.meal, amount=22.80)])
        sheet.action_netvisor_send()
        self.assertEqual(sheet.netvisor_state, "error")
        self.assertIn("EUOS", sheet.netvisor_error)
        self.assertFalse(self.invoices())

    def test_image_receipt_converted_and_other_files_refused(self):
        buffer = io.BytesIO()
        Image.new("RGB", (20, 30), "white").save(buffer, format="PNG")
        sheet = self.make_sheet([dict(name="Taksi", product=self.taxi, amount=31.38, receipt=buffer.getvalue(),
                                      filename="kuitti.png", mimetype="image/png")])
        sheet.action_netvisor_send()
        self.assertEqual(sheet.netvisor_state, "sent", sheet.netvisor_error)
        [attachment] = self.invoices()[0]["attachments"]
        self.assertEqual(attachment["filename"], "kuitti.pdf")
        self.assertTrue(base64.b64decode(attachment["base64"]).startswith(b"%PDF-"))
        other = self.make_sheet([dict(name="Juna", product=self.taxi, amount=12.0, receipt=b"a;b\n1;2\n",
                                      filename="matkat.csv", mimetype="text/csv")])
        other.action_netvisor_send()
        self.assertEqual(other.netvisor_state, "error")
        self.assertIn("matkat.csv", other.netvisor_error)
        self.assertIn("PDF", other.netvisor_error)

    def test_company_paid_and_unapproved_reports_are_not_sent(self):
        company_paid = self.make_sheet(payment_mode="company_account")
        draft = self.make_sheet(approve=False)
        action = (company_paid | draft).action_netvisor_send()
        self.assertIn("0 sent, 2 skipped, 0 failed", action["params"]["message"])
        self.assertIn("paid by the company", action["params"]["message"])
        self.assertFalse(self.invoices())

    # ------------------------------------------------------------------ duplicates

    def test_no_duplicates(self):
        sheet = self.make_sheet()
        sheet.action_netvisor_send()
        key = sheet.netvisor_purchase_invoice_key
        action = sheet.action_netvisor_send()
        self.assertIn("already sent", action["params"]["message"])
        self.assertEqual(len(self.invoices()), 1)
        self.assertEqual(len(self.org.collections["vendors"]), 1)
        second = self.make_sheet()
        second.action_netvisor_send()
        self.assertEqual(len(self.org.collections["vendors"]), 1, "the employee vendor is matched by its code")
        sheet.action_netvisor_resend()
        self.assertEqual(len(self.invoices()), 3)
        self.assertNotEqual(sheet.netvisor_purchase_invoice_key, key)

    def test_lost_answer_is_looked_up_not_resent(self):
        sheet = self.make_sheet()
        self.sandbox.faults.configure(queue=[("drop_after_process", "purchaseinvoice.nv")])
        sheet.action_netvisor_send()
        self.assertEqual(sheet.netvisor_state, "unknown")
        self.assertEqual(len(self.invoices()), 1, "Netvisor stored it, the answer was lost")
        sheet.action_netvisor_send()
        self.assertEqual(sheet.netvisor_state, "sent")
        self.assertEqual(sheet.netvisor_purchase_invoice_key, str(self.invoices()[0]["netvisor_key"]))
        self.assertEqual(len(self.invoices()), 1, "found by number and vendor code, not sent again")
        self.assertIn("Found in Netvisor", sheet.message_ids[0].body)

    def test_lost_request_is_sent_again_after_the_grace_period(self):
        sheet = self.make_sheet()
        self.sandbox.faults.configure(queue=[("timeout", "purchaseinvoice.nv")], hang_seconds=3)
        sheet.action_netvisor_send()
        self.assertEqual(sheet.netvisor_state, "unknown")
        self.assertFalse(self.invoices())
        # right away: not in Netvisor yet, but Netvisor may still be processing it
        action = sheet.action_netvisor_send()
        self.assertIn("not in Netvisor yet", action["params"]["message"])
        self.assertEqual(sheet.netvisor_state, "unknown")
        sheet.netvisor_unknown_date = fields.Datetime.now() - datetime.timedelta(minutes=20)
        sheet.action_netvisor_send()
        self.assertEqual(sheet.netvisor_state, "sent")
        self.assertEqual(len(self.invoices()), 1)

    # ------------------------------------------------------------------ scheduled sending

    def test_cron_inactive_by_default_then_run(self):
        cron = self.env.ref("netvisor_integration.ir_cron_netvisor_send_expenses")
        self.assertFalse(cron.active)
        approved = self.make_sheet()
        posted = self.make_sheet()
        posted.action_sheet_move_post()
        self.assertEqual(posted.state, "post")
        draft = self.make_sheet(approve=False)
        company_paid = self.make_sheet(payment_mode="company_account")
        cron.active = True
        cron.method_direct_trigger()
        self.assertEqual((approved.netvisor_state, posted.netvisor_state), ("sent", "sent"))
        self.assertEqual((draft.netvisor_state, company_paid.netvisor_state), ("not_sent", "not_sent"))
        self.assertEqual(len(self.invoices()), 2)
        cron.method_direct_trigger()
        self.assertEqual(len(self.invoices()), 2, "nothing is sent twice")
        run = self.env["netvisor.run"].search([("flow", "=", "expense_send")], limit=1)
        self.assertEqual((run.trigger, run.count_done), ("cron", 0))

    def test_one_failure_does_not_stop_the_others(self):
        good_1 = self.make_sheet()
        good_1.action_netvisor_send()
        bad_data = self.make_sheet([dict(name="Juna", product=self.taxi, amount=12.0, receipt=b"x",
                                         filename="juna.txt", mimetype="text/plain")])
        bad_network = self.make_sheet(employee=self.make_employee("Matti Meikäläinen"))
        good_2 = self.make_sheet()
        # the next request and its two retries (bad_network's) fail on Netvisor's side
        self.sandbox.faults.configure(queue=[("http500", "purchaseinvoice.nv")] * 3)
        cron = self.env.ref("netvisor_integration.ir_cron_netvisor_send_expenses")
        cron.active = True
        cron.method_direct_trigger()
        sheets = good_1 | bad_data | bad_network | good_2
        self.assertEqual([s.netvisor_state for s in sheets], ["sent", "error", "error", "sent"])
        self.assertIn("juna.txt", bad_data.netvisor_error)
        self.assertIn("technical error", bad_network.netvisor_error)
        self.assertTrue(bad_network.activity_ids)
        self.assertEqual(len(self.invoices()), 2)
        run = self.env["netvisor.run"].search([("flow", "=", "expense_send")], limit=1)
        self.assertEqual((run.state, run.count_done, run.count_failed), ("partial", 1, 2))
        # the next run sends what failed for a passing reason
        cron.method_direct_trigger()
        self.assertEqual(bad_network.netvisor_state, "sent")
        self.assertEqual(len(self.invoices()), 3)

    def test_views(self):
        employee_user = self.env["res.users"].create({
            "name": "Työntekijä", "login": "nv_expense_employee", "company_id": self.company.id,
            "company_ids": [Command.set(self.company.ids)],
            "groups_id": [Command.set([self.env.ref("base.group_user").id])]})
        sheets = self.env["hr.expense.sheet"].with_user(employee_user)
        arch = sheets.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn("action_netvisor_send", arch, "employees do not send to Netvisor")
        arch = self.env["hr.expense.sheet"].get_views([(False, "form"), (False, "list")])["views"]["form"]["arch"]
        self.assertIn("action_netvisor_send", arch)
        bindings = self.env["ir.actions.actions"].get_bindings("hr.expense.sheet")["action"]
        self.assertIn("Send to Netvisor", [b["name"] for b in bindings])

    def test_overview_run_now(self):
        sheet = self.make_sheet()
        flow = self.env["netvisor.flow"]
        action = flow.with_company(self.company).action_open_overview()
        row = flow.search(action["domain"]).filtered(lambda r: r.flow == "expense_send")
        self.assertEqual(len(row), 1)
        result = row.action_run_now()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        self.assertEqual(sheet.netvisor_state, "sent")
        self.assertEqual(row.last_run_done, 1)
        self.assertEqual(row.attention_count, 0)

    # ------------------------------------------------------------------ purchase import hook

    def test_keys_sent_from_odoo(self):
        sheet = self.make_sheet()
        sheet.action_netvisor_send()
        key = sheet.netvisor_purchase_invoice_key
        sent = self.env["hr.expense.sheet"]._netvisor_sent_keys(self.company, [key, "999999", int(key)])
        self.assertEqual(sent, {key})
