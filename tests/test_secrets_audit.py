"""Secrets audit: every flow runs with all logging at DEBUG and neither Netvisor key may show up
in the log output, the Netvisor log, runs, chatter, tracking, attachments, or messages and
errors shown to users. Hostile XML from Netvisor (entities, external DTD, huge document) is
refused by every Odoo flow with a clear error, nothing written, an XML_SECURITY log row."""

import contextlib
import datetime
import logging
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..netvisor import xmlutil
from ..netvisor_sandbox import server as sandbox_server
from ..netvisor_sandbox import xmlio as sandbox_xmlio
from ..netvisor_sandbox.resources import HANDLERS
from .common import ORGANISATION_ID, NetvisorTestCommon
from .test_expenses import PDF_1
from .test_payroll import PayrollTestMixin

AUDIT_PARTNER_ID = "AUDITPARTNER"
AUDIT_PARTNER_KEY = "pk-AUDIT-q7Zr2Wx9Lm4Tv8"
AUDIT_CUSTOMER_ID = "AUDITCUSTOMER"
AUDIT_CUSTOMER_KEY = "ck-AUDIT-h3Jn6Bv1Ys5Qe0"
SECRETS = (AUDIT_PARTNER_KEY, AUDIT_CUSTOMER_KEY)

HOSTILE_STATUS = "<ResponseStatus><Status>OK</Status><TimeStamp>2026-05-04 10:00:00</TimeStamp></ResponseStatus>"
HOSTILE = {
    "entities": (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE Root [\n'
        '<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">\n'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">\n'
        '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">\n]>\n'
        f"<Root>{HOSTILE_STATUS}<PurchaseInvoiceList>&d;</PurchaseInvoiceList><Customerlist>&d;</Customerlist>"
        "<Vouchers>&d;</Vouchers></Root>"
    ).encode(),
    "external_entity": (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<!DOCTYPE Root [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        f"<Root>{HOSTILE_STATUS}<PurchaseInvoiceList>&xxe;</PurchaseInvoiceList></Root>"
    ).encode(),
    "external_dtd": (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<!DOCTYPE Root SYSTEM "http://127.0.0.1:9/netvisor.dtd">\n'
        f"<Root>{HOSTILE_STATUS}</Root>"
    ).encode(),
}


def huge_document():
    head = f'<?xml version="1.0" encoding="utf-8"?>\n<Root>{HOSTILE_STATUS}<PurchaseInvoiceList>'.encode()
    tail = b"</PurchaseInvoiceList></Root>"
    return head + b" " * (xmlutil.MAX_XML_BYTES + 1 - len(head) - len(tail)) + tail


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines = []
        self.count = 0

    def emit(self, record):
        self.count += 1
        try:
            self.lines.append(self.format(record))
        except Exception as exc:  # noqa: BLE001 - a bad record must not hide the others
            self.lines.append(f"unformattable record {record.name}: {exc!r}")


@contextlib.contextmanager
def capture_all_logs():
    """Every logger at DEBUG into one handler on the root logger (the console handlers keep
    their level so that the test log stays readable)."""
    root = logging.getLogger()
    capture = _Capture()
    saved_root = root.level
    saved_handlers = [(handler, handler.level) for handler in root.handlers]
    saved_loggers = [(logger, logger.level) for logger in logging.root.manager.loggerDict.values()
                     if isinstance(logger, logging.Logger) and logger.level not in (logging.NOTSET, logging.DEBUG)]
    for handler, _level in saved_handlers:
        handler.setLevel(max(saved_root, logging.INFO))
    for logger, _level in saved_loggers:
        logger.setLevel(logging.DEBUG)
    for name in ("urllib3", "urllib3.connectionpool", "requests"):
        logging.getLogger(name).disabled = False
    root.setLevel(logging.DEBUG)
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(saved_root)
        for handler, level in saved_handlers:
            handler.setLevel(level)
        for logger, level in saved_loggers:
            logger.setLevel(level)


class SecretsAuditCommon(NetvisorTestCommon):
    """The company uses distinctive keys, so that a substring search is meaningful."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox.state.add_partner(AUDIT_PARTNER_ID, AUDIT_PARTNER_KEY)
        cls.sandbox.state.add_organisation(ORGANISATION_ID, AUDIT_CUSTOMER_ID, AUDIT_CUSTOMER_KEY)
        cls.company.write({
            "netvisor_partner_id": AUDIT_PARTNER_ID, "netvisor_partner_key": AUDIT_PARTNER_KEY,
            "netvisor_customer_id": AUDIT_CUSTOMER_ID, "netvisor_customer_key": AUDIT_CUSTOMER_KEY,
        })

    def assert_clean(self, *texts, where="text"):
        for text in texts:
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            text = text if isinstance(text, str) else repr(text)
            for secret in SECRETS:
                if secret in text:
                    lines = [line for line in text.splitlines() if secret in line]
                    self.fail(f"a Netvisor key leaked into {where}: {lines[:3]}"[:3000])

    @contextlib.contextmanager
    def audit(self, min_requests=1):
        """Run the block with DEBUG logging captured, then search every place for the keys."""
        env = self.env(su=True)
        before = {model: (env[model].search([], order="id desc", limit=1).id or 0)
                  for model in ("netvisor.log", "netvisor.run", "mail.message", "mail.tracking.value",
                                "ir.attachment")}
        requests_before = len(self.sandbox.state.requests)
        with capture_all_logs() as capture:
            yield capture
            self.env.flush_all()
        self.assertGreaterEqual(len(self.sandbox.state.requests) - requests_before, min_requests,
                                f"the flow talked to the sandbox ({self.sandbox.state.requests[-3:]})")
        self.assertTrue(capture.count, "the log capture works")
        if min_requests:
            self.assertTrue([line for line in capture.lines if line.startswith("DEBUG urllib3")],
                            "urllib3's debug log is captured")
        self.assert_clean("\n".join(capture.lines), where="the log output")

        def new(model):
            return env[model].search([("id", ">", before[model])])

        logs = new("netvisor.log")
        if min_requests:
            self.assertTrue(logs, "the Netvisor log has rows")
        text_fields = [name for name, field in env["netvisor.log"]._fields.items()
                       if field.type in ("char", "text", "html", "selection") and field.store]
        for row in logs.read(text_fields):
            self.assert_clean(*row.values(), where="the Netvisor log")
        for row in new("netvisor.run").read(["message"]):
            self.assert_clean(row["message"], where="a run message")
        for message in new("mail.message"):
            self.assert_clean(message.body, message.subject, message.preview, where="the chatter")
        for tracking in new("mail.tracking.value"):
            self.assert_clean(tracking.old_value_char, tracking.new_value_char, tracking.old_value_text
                              if "old_value_text" in tracking._fields else "", where="tracking values")
        attachments = new("ir.attachment").filtered(lambda a: a.company_id in (self.company, env["res.company"]))
        for attachment in attachments:
            self.assert_clean(attachment.name, attachment.raw or b"", attachment.description or "",
                              where=f"attachment {attachment.name}")
        # the whole Netvisor log and all runs of the company, whatever wrote them
        for row in env["netvisor.log"].search([("company_id", "=", self.company.id)]).read(text_fields):
            self.assert_clean(*row.values(), where="the Netvisor log")


@tagged("post_install", "-at_install")
class TestNetvisorSecretsAudit(PayrollTestMixin, SecretsAuditCommon):

    sandbox_data = {"purchase_invoices": []}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.setup_payroll()
        env.user.groups_id |= env.ref("hr_expense.group_hr_expense_manager")
        company = cls.company
        tax_group = env["account.tax.group"].create({"name": "ALV", "company_id": company.id})
        cls.tax_sale = env["account.tax"].create({
            "name": "ALV 25,5 %", "amount": 25.5, "type_tax_use": "sale", "company_id": company.id,
            "tax_group_id": tax_group.id})
        cls.tax_purchase = env["account.tax"].create({
            "name": "ALV 25,5 % osto", "amount": 25.5, "type_tax_use": "purchase", "company_id": company.id,
            "tax_group_id": tax_group.id})
        cls.product = env["product.product"].create({
            "name": "Tuote", "default_code": "TUOTE1", "list_price": 10.0,
            "taxes_id": [Command.set(cls.tax_sale.ids)]})
        company.netvisor_sales_default_product_id = cls.product
        cls.customer = env["res.partner"].create({
            "name": "Asiakas Oy", "is_company": True, "company_registry": "0737546-2", "ref": "ASIAKAS1",
            "street": "Katu 1", "zip": "00100", "city": "Helsinki", "country_id": env.ref("base.fi").id})
        account_travel = env["account.account"].create({
            "code": "7800", "name": "Matkakulut", "account_type": "expense",
            "company_ids": [Command.link(company.id)]})
        cls.taxi = env["product.product"].create({
            "name": "Taksi", "default_code": "TAXI", "can_be_expensed": True, "standard_price": 0.0,
            "property_account_expense_id": account_travel.id,
            "supplier_taxes_id": [Command.set(cls.tax_purchase.ids)]})
        cls.expense_employee = env["hr.employee"].create({
            "name": "Kalle Kulunen", "company_id": company.id, "work_email": "kalle@example.com",
            "private_street": "Kotikatu 2", "private_zip": "00100", "private_city": "Helsinki",
            "private_country_id": env.ref("base.fi").id})
        cls.expense_employee.bank_account_id = env["res.partner.bank"].create({
            "acc_number": "FI21 1234 5600 0007 85", "partner_id": cls.expense_employee.work_contact_id.id})
        cls.env.user.tz = "Europe/Helsinki"

    def setUp(self):
        super().setUp()
        for name in ("purchase_invoices", "sales_invoices", "customers", "products", "vendors"):
            if name in self.org.collections:
                self.org.collections[name].clear()

    # ------------------------------------------------------------------ helpers

    def invoice(self, partner=None, date=None):
        move = self.env["account.move"].create({
            "move_type": "out_invoice",
            "partner_id": (partner or self.customer).id,
            "invoice_date": date or fields.Date.from_string("2026-05-04"),
            "invoice_line_ids": [Command.create({"product_id": self.product.id, "quantity": 2, "price_unit": 10.0,
                                                "tax_ids": [Command.set(self.tax_sale.ids)]})],
        })
        move.action_post()
        return move

    def run_test_connection(self):
        settings = self.env["res.config.settings"].create({})
        return settings.action_netvisor_test_connection()["params"]

    def add_purchase_invoice(self):
        now = datetime.datetime.now() + datetime.timedelta(hours=2)  # Helsinki is UTC+2/+3
        return self.org.add("purchase_invoices", {
            "number": "AUDIT-1", "date": now.date().isoformat(),
            "due_date": (now.date() + datetime.timedelta(days=14)).isoformat(), "reference": "11112",
            "amount": "125.50", "modified": (now - datetime.timedelta(minutes=30)).replace(microsecond=0).isoformat(),
            "vendor": {"name": "Paperitukku Oy", "business_id": "0112038-9", "code": "PT"},
            "lines": [{"description": "Paperi", "quantity": "1", "unit_price": "100", "vat_percent": "25.5",
                       "vat_code": "KOOS", "line_sum": "125.50", "line_net_sum": "100.00", "account": "4000 Ostot"}],
            "attachments": [{"filename": "lasku.pdf", "content_type": "application/pdf",
                             "base64": "JVBERi0xLjQKJSVFT0YK"}],
        })

    # ------------------------------------------------------------------ flows

    def test_audit_connection_ok(self):
        with self.audit():
            params = self.run_test_connection()
        self.assertEqual(params["type"], "success", params["message"])
        self.assert_clean(params, where="the notification")

    def test_audit_connection_failures(self):
        # wrong key on Netvisor's side (the company keeps its keys: Netvisor forgot the API user)
        self.org.customers[AUDIT_CUSTOMER_ID] = "another-key-on-netvisor-side"
        try:
            with self.audit():
                params = self.run_test_connection()
        finally:
            self.org.customers[AUDIT_CUSTOMER_ID] = AUDIT_CUSTOMER_KEY
        self.assertEqual(params["type"], "danger")
        self.assert_clean(params, where="the failed connection notification")
        # unreachable server
        url = self.company.netvisor_base_url
        self.company.netvisor_base_url = "http://127.0.0.1:9/"
        try:
            with self.audit(min_requests=0):
                params = self.run_test_connection()
        finally:
            self.company.netvisor_base_url = url
        self.assertEqual(params["type"], "danger")
        self.assert_clean(params, where="the unreachable server notification")
        # a server that echoes the keys in its error text (a proxy, a debugging endpoint ...)
        def echo(request):
            raise sandbox_xmlio.SandboxFault(
                "INVALID_DATA", f"bad request with keys {AUDIT_PARTNER_KEY} / {AUDIT_CUSTOMER_KEY}")
        with patch.dict(HANDLERS, {("purchaseinvoicelist.nv", "GET"): echo}), self.audit():
            params = self.run_test_connection()
        self.assertEqual(params["type"], "danger")
        self.assertIn("bad request with keys", params["message"])
        self.assert_clean(params, where="a Netvisor error shown to the user")
        # exceptions raised to the user
        for method in ("action_netvisor_import_purchase_invoices",):
            with patch.dict(HANDLERS, {("purchaseinvoicelist.nv", "GET"): echo}), self.audit():
                try:
                    result = getattr(self.env["account.move"], method)()
                except UserError as error:
                    result = str(error)
            self.assert_clean(result, where="the purchase import result")
            if isinstance(result, dict) and result.get("res_id"):
                summary = self.env[result["res_model"]].browse(result["res_id"])
                self.assert_clean(*summary.read()[0].values(), where="the import summary")

    def test_audit_purchase_import(self):
        self.company.netvisor_purchase_last_import = fields.Datetime.now() - datetime.timedelta(hours=1)
        self.add_purchase_invoice()
        with self.audit():
            result = self.env["account.move"].action_netvisor_import_purchase_invoices()
        summary = self.env[result["res_model"]].browse(result["res_id"])
        self.assertEqual(summary.imported_count + summary.failed_count, 1, summary.failure_details)
        self.assert_clean(*summary.read()[0].values(), where="the import summary")

    def test_audit_sales_send(self):
        good = self.invoice()
        bad_partner = self.env["res.partner"].create({"name": "Tuntematon Oy", "is_company": True})
        self.env["netvisor.link"].sudo().create({
            "company_id": self.company.id, "res_model": "res.partner", "res_id": bad_partner.id,
            "netvisor_key": "999999"})
        bad = self.invoice(partner=bad_partner)
        with self.audit():
            result = (good | bad).action_send_to_netvisor()
        self.assertEqual(good.netvisor_state, "sent", good.netvisor_error)
        self.assertEqual(bad.netvisor_state, "error")
        self.assert_clean(result, good.netvisor_error, bad.netvisor_error, where="the send result")
        with self.audit(min_requests=0):
            preview = good.action_netvisor_preview_xml()
        wizard = self.env["netvisor.xml.preview"].browse(preview["res_id"])
        self.assert_clean(wizard.xml_content, wizard.notes, wizard.error, where="the XML preview")

    def test_audit_payment_sync(self):
        if not hasattr(type(self.env["account.move"]), "action_netvisor_sync_payments"):
            self.skipTest("payment sync not merged")
        move = self.invoice(date=fields.Date.context_today(self.env.user))  # within the sync's window
        move.action_send_to_netvisor()
        self.assertEqual(move.netvisor_state, "sent", move.netvisor_error)
        with self.audit():
            result = self.env["account.move"].action_netvisor_sync_payments()
        self.assert_clean(result, where="the payment sync notification")

    def test_audit_payslip_send(self):
        payslip = self.make_payslip()
        with self.audit():
            result = payslip.action_netvisor_send()
        self.assertEqual(payslip.netvisor_state, "sent", payslip.netvisor_error)
        self.assert_clean(result, where="the payslip notification")

    def test_audit_expense_send(self):
        employee = self.expense_employee
        sheet = self.env["hr.expense.sheet"].create({
            "name": "Matka", "employee_id": employee.id, "company_id": self.company.id,
            "payment_mode": "own_account",
            "expense_line_ids": [Command.create({
                "name": "Taksi", "employee_id": employee.id, "product_id": self.taxi.id,
                "total_amount_currency": 31.38, "date": datetime.date(2026, 2, 2),
                "company_id": self.company.id, "payment_mode": "own_account"})],
        })
        self.env["ir.attachment"].create({
            "name": "kuitti.pdf", "raw": PDF_1, "res_model": "hr.expense", "res_id": sheet.expense_line_ids.id,
            "mimetype": "application/pdf"})
        sheet.action_submit_sheet()
        sheet.action_approve_expense_sheets()
        if sheet.state == "submit":
            sheet._do_approve()
        with self.audit():
            result = sheet.action_netvisor_send()
        self.assertEqual(sheet.netvisor_state, "sent", sheet.netvisor_error)
        self.assert_clean(result, where="the expense notification")

    def test_audit_customer_and_product_sync(self):
        self.org.add("customers", {"code": "NV1", "name": "Netvisor Asiakas Oy", "business_id": "2345678-0",
                                   "street": "Katu 9", "zip": "00100", "city": "Helsinki", "country": "FI"})
        for sync_type in ("customer", "product"):
            wizard = self.env["netvisor.sync.wizard"].with_context(default_sync_type=sync_type).create(
                {"sync_type": sync_type, "full_sync": True})
            with self.audit():
                wizard.action_preview()
                wizard.action_apply()
            self.assert_clean(wizard.summary, *wizard.line_ids.mapped("message"),
                              *wizard.line_ids.mapped("result_message"), where="the sync wizard")


@tagged("post_install", "-at_install")
class TestNetvisorHostileXml(SecretsAuditCommon):
    """Answers with entities, an external DTD or over the size bound never reach the flows."""

    sandbox_data = {"purchase_invoices": []}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        tax_group = env["account.tax.group"].create({"name": "ALV", "company_id": cls.company.id})
        cls.tax_sale = env["account.tax"].create({
            "name": "ALV 25,5 %", "amount": 25.5, "type_tax_use": "sale", "company_id": cls.company.id,
            "tax_group_id": tax_group.id})
        cls.product = env["product.product"].create({
            "name": "Tuote", "default_code": "TUOTE1", "list_price": 10.0,
            "taxes_id": [Command.set(cls.tax_sale.ids)]})
        cls.company.netvisor_sales_default_product_id = cls.product
        cls.customer = env["res.partner"].create({
            "name": "Asiakas Oy", "is_company": True, "company_registry": "0737546-2", "ref": "ASIAKAS1",
            "street": "Katu 1", "zip": "00100", "city": "Helsinki", "country_id": env.ref("base.fi").id})

    @contextlib.contextmanager
    def hostile(self, body):
        """Every answer of the sandbox is ``body`` (the request itself is processed as usual)."""
        with patch.object(sandbox_server, "envelope", lambda *args, **kwargs: body):
            yield

    def assert_refused(self, flow, message):
        self.assertIn("unsafe XML", message)
        logs = self.netvisor_logs(flow=flow)
        self.assertTrue(logs, "the refusal is in the Netvisor log")
        self.assertEqual(set(logs.mapped("error_category")), {"XML_SECURITY"})
        self.assertEqual(set(logs.mapped("state")), {"error"})
        for log in logs:
            self.assertNotIn("root:x:0:0", log.response_body or "", "no external entity was resolved")
            self.assertLessEqual(len(log.response_body or ""), 300_000, "a huge answer is not stored whole")

    def check_flows(self, body):
        counts = {model: self.env[model].search_count([])
                  for model in ("account.move", "res.partner", "netvisor.link", "product.product")}
        # test connection
        with self.hostile(body):
            params = self.env["res.config.settings"].create({}).action_netvisor_test_connection()["params"]
        self.assertEqual(params["type"], "danger")
        self.assert_refused("connection", params["message"])
        # purchase import: nothing imported, the watermark stays
        self.company.netvisor_purchase_last_import = watermark = fields.Datetime.now() - datetime.timedelta(hours=1)
        with self.hostile(body):
            result = self.env["account.move"].action_netvisor_import_purchase_invoices()
        summary = self.env[result["res_model"]].browse(result["res_id"])
        self.assertEqual(summary.state, "error")
        self.assertFalse(summary.imported_count)
        self.assert_refused("purchase_import", summary.error_message)
        self.assertEqual(self.company.netvisor_purchase_last_import, watermark)
        # customer sync preview: nothing linked, no line
        wizard = self.env["netvisor.sync.wizard"].create({"sync_type": "customer", "full_sync": True})
        with self.hostile(body):
            action = wizard.action_preview()  # shown, not raised: the transaction keeps its log rows
        self.assertEqual((action["tag"], action["params"]["type"]), ("display_notification", "danger"))
        self.assert_refused("customer_sync", action["params"]["message"])
        self.assertFalse(wizard.line_ids)
        self.assertEqual(wizard.state, "draft")
        self.assertEqual({model: self.env[model].search_count([]) for model in counts}, counts)
        # sales send: the invoice is not marked sent, the reason is on it
        move = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id,
            "invoice_date": fields.Date.from_string("2026-05-04"),
            "invoice_line_ids": [Command.create({"product_id": self.product.id, "quantity": 1, "price_unit": 10.0,
                                                "tax_ids": [Command.set(self.tax_sale.ids)]})],
        })
        move.action_post()
        with self.hostile(body):
            move.action_send_to_netvisor()
        self.assertNotEqual(move.netvisor_state, "sent")
        self.assertFalse(move.netvisor_invoice_id)
        self.assert_refused("sales_send", move.netvisor_error)

    def test_entities(self):
        self.check_flows(HOSTILE["entities"])

    def test_external_entity(self):
        self.check_flows(HOSTILE["external_entity"])

    def test_external_dtd(self):
        self.check_flows(HOSTILE["external_dtd"])

    @mute_logger("odoo.addons.netvisor_integration.models.netvisor_log")
    def test_huge_document(self):
        body = huge_document()
        with self.hostile(body):
            params = self.env["res.config.settings"].create({}).action_netvisor_test_connection()["params"]
        self.assertEqual(params["type"], "danger")
        self.assert_refused("connection", params["message"])
        self.assertIn("byte limit", params["message"])
        self.company.netvisor_purchase_last_import = fields.Datetime.now() - datetime.timedelta(hours=1)
        count = self.env["account.move"].search_count([])
        with self.hostile(body):
            result = self.env["account.move"].action_netvisor_import_purchase_invoices()
        summary = self.env[result["res_model"]].browse(result["res_id"])
        self.assertEqual(summary.state, "error")
        self.assert_refused("purchase_import", summary.error_message)
        self.assertEqual(self.env["account.move"].search_count([]), count)
