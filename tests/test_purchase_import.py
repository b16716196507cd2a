"""Purchase invoices Netvisor -> Odoo as draft vendor bills (issue 3), against the sandbox."""

import base64
import contextlib
import datetime
import threading
from contextlib import closing
from decimal import ROUND_HALF_UP, Decimal
from unittest.mock import patch

import psycopg2
import pytz

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.account_move_purchase import PURCHASE_RUN_LOCK, AccountMove
from .common import NetvisorTestCommon

HELSINKI = pytz.timezone("Europe/Helsinki")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# valid business IDs (Y-tunnus) of vendors
BID_A, BID_B, BID_C, BID_D = "0112038-9", "2345678-0", "4567890-7", "5678901-2"


def helsinki_now():
    return datetime.datetime.now(HELSINKI).replace(tzinfo=None, microsecond=0)


def line(net, vat="25.5", code="KOOS", quantity="1", account="4000 Ostot", gross=None, **values):
    net = Decimal(str(net))
    if gross is None:
        gross = net + (net * Decimal(vat) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    quantity = Decimal(str(quantity))
    return {
        "description": values.pop("description", f"Rivi {net}"),
        "quantity": str(quantity), "unit_price": str((net / quantity).quantize(Decimal("0.000001"))),
        "vat_percent": vat, "vat_code": code, "line_sum": str(gross), "line_net_sum": str(net),
        "account": account, **values,
    }


class NetvisorPurchaseCommon(NetvisorTestCommon):
    """Helpers: sandbox invoices, the import, the bill of an invoice."""

    sandbox_data = {"purchase_invoices": []}

    @classmethod
    def setup_independent_company(cls, **kwargs):
        # Netvisor keeps the books in euro: so does the test company
        return super().setup_independent_company(currency_id=cls._enable_currency("EUR").id, **kwargs)

    def setUp(self):
        super().setUp()
        self.org.collections["purchase_invoices"].clear()
        # a run that already happened: everything modified from yesterday on is new
        self.company.netvisor_purchase_last_import = fields.Datetime.now() - datetime.timedelta(hours=1)
        self.company.netvisor_purchase_overlap_hours = 24

    # ------------------------------------------------------------------ helpers

    def add_invoice(self, lines=None, vendor=None, amount=None, modified=None, **values):
        lines = [line(100)] if lines is None else lines
        if amount is None:
            amount = sum((Decimal(ln["line_sum"]) for ln in lines), Decimal(0))
        today = helsinki_now().date()
        record = {
            "number": values.pop("number", f"INV-{len(self.org.collections['purchase_invoices']) + 1}"),
            "date": today.isoformat(),
            "due_date": (today + datetime.timedelta(days=14)).isoformat(),
            "reference": "11112",
            "amount": str(amount),
            "modified": (modified or helsinki_now() - datetime.timedelta(minutes=5)).isoformat(),
            "vendor": vendor or {"name": "Paperitukku Oy", "business_id": BID_A, "code": "PT"},
            "lines": lines,
        }
        record.update(values)
        return self.org.add("purchase_invoices", record)

    def run_import(self, **kwargs):
        return self.env["account.move"]._netvisor_import_purchase_invoices(self.company, **kwargs)

    def bill(self, record):
        return self.env["account.move"].search(
            [("company_id", "=", self.company.id), ("netvisor_key", "=", str(record["netvisor_key"]))])

    def detail_logs(self):
        return self.netvisor_logs(flow="purchase_import", resource="getpurchaseinvoice.nv")


@tagged("post_install", "-at_install")
class TestNetvisorPurchaseImport(NetvisorPurchaseCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company
        cls.env.user.tz = "Europe/Helsinki"
        tax_model = cls.env["account.tax"].with_company(company)
        cls.taxes = {
            rate: tax_model.create({"name": f"FI {rate}% purchase", "amount": float(rate),
                                    "type_tax_use": "purchase", "company_id": company.id})
            for rate in ("25.5", "14", "13.5", "10", "0")
        }
        reverse_charge = [Command.create({"repartition_type": "base"}),
                          Command.create({"repartition_type": "tax", "factor_percent": 100}),
                          Command.create({"repartition_type": "tax", "factor_percent": -100})]
        cls.tax_eu_service = tax_model.create({
            "name": "EU services 25.5% (reverse charge)", "amount": 25.5, "type_tax_use": "purchase",
            "company_id": company.id, "invoice_repartition_line_ids": reverse_charge,
            "refund_repartition_line_ids": reverse_charge})
        cls.env["netvisor.vat.mapping"].create({
            "company_id": company.id, "tax_id": cls.tax_eu_service.id,
            "netvisor_vat_code": "EUPO", "netvisor_vat_percent": 25.5})
        account_model = cls.env["account.account"].with_company(company)
        cls.account_4000 = account_model.create({"code": "4000", "name": "Ostot", "account_type": "expense"})
        cls.account_4010 = account_model.create({"code": "4010", "name": "Ostot EU", "account_type": "expense"})
        cls.product_paper = cls.env["product.product"].create({"name": "Paperi A4", "default_code": "P-1"})
        plan = cls.env["account.analytic.plan"].create({"name": "Projects"})
        cls.analytic_p1 = cls.env["account.analytic.account"].create(
            {"name": "Project 1", "plan_id": plan.id, "company_id": company.id})
        cost_plan = cls.env["account.analytic.plan"].create({"name": "Cost centres"})
        cls.analytic_sales = cls.env["account.analytic.account"].create(
            {"name": "Myynti", "plan_id": cost_plan.id, "company_id": company.id})
        mapping = cls.env["netvisor.dimension.mapping"]
        mapping.create({"company_id": company.id, "dimension_name": "Projektit", "dimension_item": "Projekti 1",
                        "analytic_account_id": cls.analytic_p1.id})
        mapping.create({"company_id": company.id, "dimension_name": "Kustannuspaikka", "dimension_item": "Myynti",
                        "analytic_account_id": cls.analytic_sales.id})
        cls.vendor_a = cls.env["res.partner"].create(
            {"name": "Paperitukku Oy", "company_registry": BID_A, "is_company": True})
        cls.usd = cls.setup_other_currency("USD", rates=[("2020-01-01", 1.2)])

    # ------------------------------------------------------------------ normal import

    def test_normal_import(self):
        record = self.add_invoice(
            number="PT-1001", description="Toimistotarvikkeet toukokuu",
            lines=[
                line(200, quantity=4, product_code="P-1", description="Paperi A4",
                     dimensions=[{"name": "Projektit", "item": "Projekti 1"},
                                 {"name": "Kustannuspaikka", "item": "Myynti"},
                                 {"name": "Unmapped", "item": "Whatever"}]),
                line("49.90", vat="14", description="Kahvi", account="4010 Ostot EU"),
            ])
        summary = self.run_import()
        self.assertFalse(summary["error"], summary["error"])
        self.assertEqual((len(summary["imported"]), summary["already_present"], summary["failed"]), (1, 0, []))
        bill = self.bill(record)
        self.assertEqual(bill, summary["imported"])
        self.assertRecordValues(bill, [{
            "move_type": "in_invoice", "state": "draft", "partner_id": self.vendor_a.id, "ref": "PT-1001",
            "invoice_date": fields.Date.from_string(record["date"]),
            "invoice_date_due": fields.Date.from_string(record["due_date"]),
            "payment_reference": "11112", "currency_id": self.env.ref("base.EUR").id,
            "netvisor_key": str(record["netvisor_key"]), "amount_untaxed": 249.90, "amount_total": 307.89,
            "netvisor_gross_amount": 307.89, "netvisor_rounding_difference": 0.0,
            "journal_id": self.company_data["default_journal_purchase"].id,
        }])
        self.assertIn("Toimistotarvikkeet", bill.narration)
        today = fields.Date.to_string(helsinki_now().date())
        self.assertEqual(bill.netvisor_import_marker, f"From Netvisor: {today}")
        paper, coffee = bill.invoice_line_ids.sorted("sequence")
        self.assertRecordValues(paper, [{
            "name": "Paperi A4", "quantity": 4.0, "price_unit": 50.0, "product_id": self.product_paper.id,
            "account_id": self.account_4000.id, "price_subtotal": 200.0,
        }])
        self.assertEqual(paper.tax_ids, self.taxes["25.5"])
        self.assertEqual(paper.analytic_distribution,
                         {str(self.analytic_p1.id): 100.0, str(self.analytic_sales.id): 100.0})
        self.assertRecordValues(coffee, [{"name": "Kahvi", "account_id": self.account_4010.id,
                                          "price_subtotal": 49.90, "product_id": False}])
        self.assertEqual(coffee.tax_ids, self.taxes["14"])
        self.assertFalse(coffee.analytic_distribution)
        # one list request and one batched detail request with version=2
        logs = self.netvisor_logs(flow="purchase_import")
        self.assertEqual(sorted(logs.mapped("resource")), ["getpurchaseinvoice.nv", "purchaseinvoicelist.nv"])
        detail = self.detail_logs()
        self.assertIn(f"netvisorkeylist={record['netvisor_key']}", detail.url)
        self.assertIn("version=2", detail.url)
        self.assertIn("lastmodifiedstart=", logs.filtered(lambda log: log.resource == "purchaseinvoicelist.nv").url)
        for log in logs:
            self.assert_no_secret(log.url, log.request_body, log.response_body)

    def test_credit_note(self):
        record = self.add_invoice(number="HYV-1", lines=[line(-80), line(-20, vat="14")])
        summary = self.run_import()
        bill = self.bill(record)
        self.assertEqual(summary["imported"], bill)
        self.assertRecordValues(bill, [{
            "move_type": "in_refund", "state": "draft", "ref": "HYV-1",
            "amount_untaxed": 100.0, "amount_total": 123.2, "netvisor_gross_amount": 123.2,
        }])
        self.assertEqual(bill.invoice_line_ids.mapped("price_subtotal"), [80.0, 20.0])
        self.assertEqual(bill.invoice_line_ids.mapped("quantity"), [1.0, 1.0])

    def test_multi_vat(self):
        record = self.add_invoice(lines=[
            line("100.00", vat="25.5"), line("100.00", vat="14"), line("100.00", vat="13.5"),
            line("100.00", vat="10"), line("100.00", vat="0"),
            line("100.00", vat="25.5", code="EUPO", gross="100.00"),
        ])
        summary = self.run_import()
        self.assertEqual(summary["failed"], [])
        bill = self.bill(record)
        self.assertEqual(
            [line.tax_ids for line in bill.invoice_line_ids.sorted("sequence")],
            [self.taxes["25.5"], self.taxes["14"], self.taxes["13.5"], self.taxes["10"], self.taxes["0"],
             self.tax_eu_service])
        # the reverse-charge line: VAT +25.5 % and -25.5 %, its gross is its net as in Netvisor
        self.assertEqual(bill.amount_untaxed, 600.0)
        self.assertEqual(bill.amount_total, 663.0)
        self.assertEqual(bill.amount_total, float(record["amount"]))
        self.assertFalse(bill.netvisor_rounding_difference)

    def test_multi_vat_totals(self):
        record = self.add_invoice(lines=[
            line("19.99", vat="25.5"), line("7.35", vat="14"), line("3.33", vat="13.5"), line("12.10", vat="10"),
            line("4.00", vat="0"),
        ])
        self.run_import()
        bill = self.bill(record)
        self.assertEqual(bill.amount_total, float(record["amount"]))
        nets = sum(Decimal(ln["line_net_sum"]) for ln in record["lines"])
        self.assertEqual(bill.amount_tax, float(Decimal(record["amount"]) - nets))
        self.assertEqual(bill.amount_tax, 5.10 + 1.03 + 0.45 + 1.21)
        self.assertFalse(bill.netvisor_rounding_difference)

    def test_foreign_currency(self):
        # Netvisor's amounts are in euro; ForeignCurrencyAmount is the total in the invoice currency
        record = self.add_invoice(lines=[line(100), line(50, vat="14")], currency="USD", foreign_amount="208.44")
        self.run_import()
        bill = self.bill(record)
        self.assertEqual(bill.currency_id, self.usd)
        self.assertEqual(bill.amount_total, 208.44)
        self.assertAlmostEqual(bill.invoice_currency_rate, 208.44 / 182.5, places=6)
        self.assertEqual(abs(bill.amount_total_signed), 182.5, "company-currency total is Netvisor's euro amount")
        self.assertEqual(bill.netvisor_gross_amount, 208.44)

    def test_inactive_currency_fails(self):
        record = self.add_invoice(currency="SEK", foreign_amount="1400.00")
        summary = self.run_import()
        self.assertFalse(self.bill(record))
        self.assertIn("SEK", summary["failed"][0]["reason"])

    def test_attachment(self):
        record = self.add_invoice(attachments=[
            {"filename": "liite.txt", "content_type": "text/plain", "base64": base64.b64encode(b"hello").decode()},
            {"filename": "lasku-1001.pdf", "content_type": "application/pdf", "base64": base64.b64encode(PDF).decode(),
             "comment": "Laskun kuva"},
        ])
        self.run_import()
        bill = self.bill(record)
        attachments = self.env["ir.attachment"].search([("res_model", "=", "account.move"), ("res_id", "=", bill.id)])
        self.assertEqual(sorted(attachments.mapped("name")), ["lasku-1001.pdf", "liite.txt"])
        pdf = attachments.filtered(lambda a: a.name == "lasku-1001.pdf")
        self.assertEqual(pdf.raw, PDF)
        self.assertEqual(pdf.mimetype, "application/pdf")
        self.assertEqual(bill.message_main_attachment_id, pdf, "the PDF is what the reviewer sees")

    def test_corrupt_attachment_fails_the_invoice(self):
        record = self.add_invoice(attachments=[{"filename": "x.pdf", "base64": "@@@@"}])
        summary = self.run_import()
        self.assertFalse(self.bill(record))
        self.assertIn("x.pdf", summary["failed"][0]["reason"])

    def test_invoice_without_lines(self):
        record = self.add_invoice(lines=[], amount="59.90", description="Ei rivejä")
        self.run_import()
        bill = self.bill(record)
        self.assertEqual(bill.amount_total, 59.90)
        self.assertFalse(bill.invoice_line_ids.tax_ids)

    def test_price_without_exact_quantity_split(self):
        # 3 x 33.3333 does not fit two decimals: quantity 1, the net amount, and the original in the label
        record = self.add_invoice(lines=[line(100, quantity=3, description="Konsultointi")])
        self.run_import()
        bill_line = self.bill(record).invoice_line_ids
        self.assertEqual((bill_line.quantity, bill_line.price_unit), (1.0, 100.0))
        self.assertIn("Konsultointi (3", bill_line.name)

    # ------------------------------------------------------------------ vendors

    def test_vendor_created(self):
        vendor = {"name": "Uusi Toimittaja Oy", "business_id": BID_B, "code": "UT-1", "address": "Teollisuuskatu 5",
                  "postcode": "00510", "town": "Helsinki", "country": "FI", "bank_account": "FI2112345600000785"}
        first = self.add_invoice(vendor=vendor)
        second = self.add_invoice(vendor=vendor)
        summary = self.run_import()
        self.assertEqual(len(summary["imported"]), 2)
        partner = self.bill(first).partner_id
        self.assertEqual(self.bill(second).partner_id, partner, "one vendor for both invoices")
        self.assertRecordValues(partner, [{
            "name": "Uusi Toimittaja Oy", "company_registry": BID_B, "vat": "FI23456780", "ref": "UT-1",
            "street": "Teollisuuskatu 5", "zip": "00510", "city": "Helsinki", "is_company": True,
            "country_id": self.env.ref("base.fi").id,
        }])
        self.assertGreater(partner.supplier_rank, 0)
        self.assertEqual(partner.bank_ids.acc_number, "FI2112345600000785")

    def test_vendor_matched_by_business_id_code_and_name(self):
        by_vat = self.env["res.partner"].create({"name": "ALV Oy", "vat": "FI" + BID_C.replace("-", ""),
                                                 "is_company": True})
        by_code = self.env["res.partner"].create({"name": "Koodi Oy (old name)", "ref": "K-7", "is_company": True})
        by_name = self.env["res.partner"].create({"name": "Nimi Oy", "is_company": True})
        # a contact of a company carries its business ID too: never matched instead of the company
        self.env["res.partner"].create({"name": "Maija", "parent_id": self.vendor_a.id})
        other_company = self.env["res.partner"].create(
            {"name": "Samanniminen Oy", "company_registry": BID_D, "is_company": True})
        records = [
            self.add_invoice(vendor={"name": "Paperitukku Oy Ab", "business_id": BID_A.replace("-", "")}),
            self.add_invoice(vendor={"name": "ALV Oy", "business_id": BID_C}),
            self.add_invoice(vendor={"name": "Koodi Oy", "code": "K-7"}),
            self.add_invoice(vendor={"name": "Nimi Oy"}),
            self.add_invoice(vendor={"name": "Samanniminen Oy", "business_id": BID_B}),
        ]
        summary = self.run_import()
        self.assertEqual(summary["failed"], [])
        partners = [self.bill(record).partner_id for record in records]
        self.assertEqual(partners[:4], [self.vendor_a, by_vat, by_code, by_name])
        self.assertNotEqual(partners[4], other_company, "same name, other business ID: another company")
        self.assertEqual(partners[4].company_registry, BID_B)

    def test_vendor_ambiguous(self):
        self.env["res.partner"].create({"name": "Kaksoset Oy", "company_registry": BID_C, "is_company": True})
        self.env["res.partner"].create({"name": "Kaksoset Oy Ab", "company_registry": BID_C, "is_company": True})
        bad = self.add_invoice(number="K-1", vendor={"name": "Kaksoset Oy", "business_id": BID_C})
        good = self.add_invoice(number="OK-1")
        summary = self.run_import()
        self.assertFalse(self.bill(bad), "never a guess")
        self.assertTrue(self.bill(good))
        (failure,) = summary["failed"]
        self.assertEqual(failure["key"], str(bad["netvisor_key"]))
        self.assertIn("matches 2 contacts by business ID", failure["reason"])
        log = self.netvisor_logs(flow="purchase_import", state="error")
        self.assertEqual(log.error_category, "IMPORT")
        self.assertIn("K-1", log.error_message)
        self.assertIn("Kaksoset", log.error_message)

    def test_vendor_creation_disabled(self):
        self.company.netvisor_purchase_create_vendors = False
        record = self.add_invoice(vendor={"name": "Tuntematon Oy", "business_id": BID_D})
        summary = self.run_import()
        self.assertFalse(self.bill(record))
        self.assertIn("creating vendors is off", summary["failed"][0]["reason"])
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Tuntematon Oy")]))

    # ------------------------------------------------------------------ duplicates, watermark, retries

    def test_duplicate_skipped(self):
        record = self.add_invoice()
        self.assertEqual(len(self.run_import()["imported"]), 1)
        details = len(self.detail_logs())
        summary = self.run_import()
        self.assertEqual((len(summary["imported"]), summary["already_present"]), (0, 1))
        self.assertEqual(len(self.detail_logs()), details, "present keys are skipped before any detail request")
        self.assertEqual(len(self.bill(record)), 1)
        # the database refuses a second bill with the key, whatever the code path
        with self.assertRaises(psycopg2.IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["account.move"].create({
                "move_type": "in_invoice", "partner_id": self.vendor_a.id,
                "netvisor_key": str(record["netvisor_key"]), "company_id": self.company.id})

    def test_missed_day_caught_up(self):
        now = helsinki_now()
        self.company.netvisor_purchase_last_import = fields.Datetime.now() - datetime.timedelta(days=3)
        old = self.add_invoice(modified=now - datetime.timedelta(days=5))
        missed = [self.add_invoice(modified=now - datetime.timedelta(days=days, hours=1)) for days in (3, 2, 1)]
        before = fields.Datetime.now()
        summary = self.run_import()
        self.assertFalse(summary["error"])
        self.assertEqual(summary["imported"], sum((self.bill(r) for r in missed), self.env["account.move"]))
        self.assertFalse(self.bill(old), "older than the watermark minus the overlap")
        self.assertGreaterEqual(self.company.netvisor_purchase_last_import, before.replace(microsecond=0))
        self.assertIn("modified since", summary["window"])

    def test_first_run_from_start_date(self):
        today = helsinki_now().date()
        self.company.write({"netvisor_purchase_last_import": False,
                            "netvisor_purchase_import_start_date": today - datetime.timedelta(days=10)})
        recent = self.add_invoice(date=(today - datetime.timedelta(days=5)).isoformat(),
                                  modified=helsinki_now() - datetime.timedelta(days=30))
        too_old = self.add_invoice(date=(today - datetime.timedelta(days=20)).isoformat())
        summary = self.run_import()
        self.assertIn("first run", summary["window"])
        self.assertTrue(self.bill(recent))
        self.assertFalse(self.bill(too_old))
        self.assertTrue(self.company.netvisor_purchase_last_import)
        # later runs go by modification time but never below the start date
        summary = self.run_import()
        self.assertFalse(self.bill(too_old))
        self.assertEqual(summary["already_present"], 0, "the recent invoice is not modified again")

    def test_watermark_kept_when_netvisor_fails(self):
        watermark = self.company.netvisor_purchase_last_import
        record = self.add_invoice()
        self.sandbox.faults.configure(queue=[("http500", "purchaseinvoicelist.nv")] * 3)
        summary = self.run_import()
        self.assertIn("technical error", summary["error"])
        self.assertEqual(self.company.netvisor_purchase_last_import, watermark)
        self.assertFalse(self.bill(record))
        self.sandbox.faults.configure(queue=[("maintenance", "getpurchaseinvoice.nv")] * 3)
        summary = self.run_import()
        self.assertIn("maintenance", summary["error"])
        self.assertEqual(self.company.netvisor_purchase_last_import, watermark)
        summary = self.run_import()
        self.assertFalse(summary["error"])
        self.assertTrue(self.bill(record))
        self.assertGreater(self.company.netvisor_purchase_last_import, watermark)

    def test_transient_fault_retried(self):
        record = self.add_invoice()
        self.sandbox.faults.configure(queue=[("http500", "getpurchaseinvoice.nv"),
                                             ("malformed", "getpurchaseinvoice.nv")])
        summary = self.run_import()
        self.assertFalse(summary["error"])
        self.assertTrue(self.bill(record))
        details = self.detail_logs()
        self.assertEqual(sorted(details.mapped("attempt")), [1, 2, 3])
        self.assertEqual(sorted(details.mapped("state")), ["error", "error", "success"])

    def test_one_failing_invoice_among_good_ones(self):
        old = helsinki_now() - datetime.timedelta(hours=3)
        good_1 = self.add_invoice(number="G-1", modified=old)
        bad_vat = self.add_invoice(number="B-VAT", lines=[line(100, vat="24", code="EUOS")], modified=old)
        bad_account = self.add_invoice(number="B-ACC", lines=[line(100, account="9999 Muut kulut")], modified=old)
        good_2 = self.add_invoice(number="G-2", modified=old)
        summary = self.run_import()
        self.assertFalse(summary["error"])
        self.assertEqual(summary["imported"], self.bill(good_1) | self.bill(good_2))
        reasons = {failure["number"]: failure["reason"] for failure in summary["failed"]}
        self.assertIn("EUOS", reasons["B-VAT"])
        self.assertIn("VAT Mapping", reasons["B-VAT"])
        self.assertIn("9999", reasons["B-ACC"])
        errors = self.netvisor_logs(flow="purchase_import", state="error")
        self.assertEqual(len(errors), 2)
        self.assertEqual(
            sorted(self.company._netvisor_purchase_retry_key_list()),
            sorted([str(bad_vat["netvisor_key"]), str(bad_account["netvisor_key"])]))
        self.assertEqual(self.company.netvisor_purchase_retry_count, 2)
        # the watermark moved past them: only the retry list brings them back
        self.company.netvisor_purchase_overlap_hours = 0
        self.env["account.account"].with_company(self.company).create(
            {"code": "9999", "name": "Muut kulut", "account_type": "expense"})
        summary = self.run_import()
        self.assertEqual(summary["imported"], self.bill(bad_account))
        self.assertEqual([f["number"] for f in summary["failed"]], ["B-VAT"])
        tax_24 = self.env["account.tax"].create({"name": "EU goods 24%", "amount": 24, "type_tax_use": "purchase",
                                                 "company_id": self.company.id})
        self.env["netvisor.vat.mapping"].create({"company_id": self.company.id, "tax_id": tax_24.id,
                                                 "netvisor_vat_code": "EUOS", "netvisor_vat_percent": 24})
        summary = self.run_import()
        self.assertEqual(summary["imported"], self.bill(bad_vat))
        self.assertFalse(self.company.netvisor_purchase_retry_keys)

    def test_keys_sent_from_odoo_are_skipped(self):
        mine = self.add_invoice(number="EXP-1")
        theirs = self.add_invoice(number="T-1")
        with patch.object(AccountMove, "_netvisor_purchase_keys_sent_from_odoo",
                          lambda self, company, keys: {str(mine["netvisor_key"])} & set(keys)):
            summary = self.run_import()
        self.assertEqual(summary["sent_from_odoo"], 1)
        self.assertFalse(self.bill(mine))
        self.assertTrue(self.bill(theirs))
        self.assertEqual(self.env["account.move"]._netvisor_purchase_keys_sent_from_odoo(self.company, ["1"]), set())

    def test_batches(self):
        self.env["ir.config_parameter"].sudo().set_param("netvisor_integration.purchase_batch_size", "2")
        records = [self.add_invoice() for _n in range(5)]
        summary = self.run_import()
        self.assertEqual(len(summary["imported"]), 5)
        self.assertTrue(all(self.bill(record) for record in records))
        details = self.detail_logs()
        self.assertEqual(len(details), 3)
        self.assertEqual(sorted(len(log.url.split("netvisorkeylist=")[1].split("&")[0].split(",")) for log in details),
                         [1, 2, 2])

    # ------------------------------------------------------------------ totals to the cent

    def test_totals_to_the_cent(self):
        # Netvisor rounded the VAT of the whole invoice (0.99 * 25.5 % = 0.25245 -> 0.25) and shared it over
        # the lines; Odoo rounds per line (3 x 0.08415 -> 0.24): one cent apart
        record = self.add_invoice(number="R-1", lines=[
            line("0.33", gross="0.41"), line("0.33", gross="0.42"), line("0.33", gross="0.41")])
        self.assertEqual(record["amount"], "1.24")
        summary = self.run_import()
        bill = self.bill(record)
        self.assertEqual(summary["flagged"], bill)
        self.assertEqual(bill.amount_total, 1.24, "the bill equals Netvisor's gross to the cent")
        self.assertEqual(bill.netvisor_rounding_difference, 0.01)
        rounding = bill.invoice_line_ids.filtered(lambda ln: "Rounding" in ln.name)
        self.assertRecordValues(rounding, [{"price_unit": 0.01, "account_id": self.account_4000.id}])
        self.assertFalse(rounding.tax_ids)
        activity = bill.activity_ids
        self.assertEqual(activity.summary, "Netvisor rounding difference")
        self.assertIn("0.01", activity.note)
        # a configured rounding account is used instead of the line's
        rounding_account = self.env["account.account"].with_company(self.company).create(
            {"code": "8990", "name": "Pyöristyserot", "account_type": "expense"})
        self.company.netvisor_purchase_rounding_account_id = rounding_account
        record = self.add_invoice(lines=[line("0.33", gross="0.41"), line("0.33", gross="0.42"),
                                         line("0.33", gross="0.41")])
        self.run_import()
        self.assertEqual(self.bill(record).invoice_line_ids.filtered(lambda ln: "Rounding" in ln.name).account_id,
                         rounding_account)

    def test_total_far_from_netvisor_fails(self):
        # Netvisor booked no VAT although the line says 14 %: Odoo's tax would add 14.00
        wrong = self.add_invoice(number="W-1", lines=[line(100, vat="14", gross="100.00")])
        inconsistent = self.add_invoice(number="W-2", lines=[line(100)], amount="200.00")
        good = self.add_invoice(number="G-1")
        summary = self.run_import()
        self.assertFalse(self.bill(wrong))
        self.assertFalse(self.bill(inconsistent))
        self.assertTrue(self.bill(good))
        reasons = {failure["number"]: failure["reason"] for failure in summary["failed"]}
        self.assertIn("114.0", reasons["W-1"])
        self.assertIn("VAT mapping", reasons["W-1"])
        self.assertIn("add up to 125.50 but its gross amount is 200.00", reasons["W-2"])
        self.assertEqual(summary["imported"], self.bill(good))

    # ------------------------------------------------------------------ concurrency

    def test_second_run_refused_while_one_runs(self):
        record = self.add_invoice()
        with closing(self.env.registry.cursor()) as other:
            other.execute("SELECT pg_advisory_lock(%s, %s)", (PURCHASE_RUN_LOCK, self.company.id))
            try:
                summary = self.run_import()
            finally:
                other.execute("SELECT pg_advisory_unlock(%s, %s)", (PURCHASE_RUN_LOCK, self.company.id))
        self.assertTrue(summary["locked"])
        self.assertIn("already running", summary["error"])
        self.assertFalse(self.bill(record))
        self.assertFalse(self.netvisor_logs(flow="purchase_import"), "nothing asked from Netvisor")
        self.assertTrue(self.run_import()["imported"])

    # ------------------------------------------------------------------ UI, cron, VAT defaults

    def test_run_import_now_summary(self):
        self.add_invoice(number="S-1")
        self.add_invoice(number="S-2", lines=[line(100, account="7777 Ei ole")])
        settings = self.env["res.config.settings"].create({})
        action = settings.action_netvisor_import_purchase_invoices()
        self.assertEqual((action["res_model"], action["target"]), ("netvisor.import.summary", "new"))
        wizard = self.env["netvisor.import.summary"].browse(action["res_id"])
        self.assertRecordValues(wizard, [{"state": "partial", "imported_count": 1, "present_count": 0,
                                          "failed_count": 1, "flagged_count": 0}])
        self.assertIn("S-2", wizard.failure_details)
        self.assertIn("7777", wizard.failure_details)
        bills = wizard.action_open_bills()
        self.assertEqual(self.env["account.move"].search(bills["domain"]).ref, "S-1")
        action = settings.action_netvisor_import_purchase_invoices()
        again = self.env["netvisor.import.summary"].browse(action["res_id"])
        self.assertRecordValues(again, [{"state": "partial", "imported_count": 0, "present_count": 1,
                                         "failed_count": 1}])
        self.assertEqual(wizard.action_open_log()["res_model"], "netvisor.log")
        # the overview card of the flow shows the last run
        row = self.env["netvisor.flow"].search([("company_id", "=", self.company.id), ("flow", "=", "purchase_import")])
        self.assertRecordValues(row.last_run_id, [{"trigger": "manual", "state": "partial", "count_done": 0,
                                                   "count_skipped": 1, "count_failed": 1}])
        again = self.env["netvisor.import.summary"].browse(row.action_run_now()["res_id"])
        self.assertEqual(again.present_count, 1)

    def test_run_import_now_reports_netvisor_errors(self):
        self.company.netvisor_customer_key = "wrong-key"
        settings = self.env["res.config.settings"].create({})
        wizard = self.env["netvisor.import.summary"].browse(
            settings.action_netvisor_import_purchase_invoices()["res_id"])
        self.assertEqual(wizard.state, "error")
        self.assertIn("refused the credentials", wizard.error_message)

    def test_cron(self):
        cron = self.env.ref("netvisor_integration.ir_cron_netvisor_import_purchase_invoices")
        self.assertEqual((cron.interval_number, cron.interval_type, cron.model_id.model),
                         (1, "days", "account.move"))
        local = pytz.utc.localize(cron.nextcall).astimezone(HELSINKI)
        record = self.add_invoice()
        self.env["account.move"]._cron_netvisor_import_purchase_invoices()
        self.assertTrue(self.bill(record))
        run = self.env["netvisor.run"].search([("company_id", "=", self.company.id), ("flow", "=", "purchase_import")],
                                              limit=1)
        self.assertRecordValues(run, [{"trigger": "cron", "state": "done", "count_done": 1}])
        move_model = self.env["account.move"]
        summer = move_model._netvisor_next_helsinki_time(datetime.datetime(2026, 5, 23, 10, 0))
        self.assertEqual(summer, datetime.datetime(2026, 5, 24, 3, 0))
        winter = move_model._netvisor_next_helsinki_time(datetime.datetime(2026, 1, 10, 2, 0))
        self.assertEqual(winter, datetime.datetime(2026, 1, 10, 4, 0))
        self.assertEqual(move_model._netvisor_next_helsinki_time(datetime.datetime(2026, 1, 10, 4, 0)),
                         datetime.datetime(2026, 1, 11, 4, 0))
        # across the spring DST change (29 March 2026 03:00 -> 04:00)
        self.assertEqual(move_model._netvisor_next_helsinki_time(datetime.datetime(2026, 3, 28, 5, 0)),
                         datetime.datetime(2026, 3, 29, 3, 0))
        move_model._netvisor_purchase_align_cron()
        local = pytz.utc.localize(cron.nextcall).astimezone(HELSINKI)
        self.assertEqual((local.hour, local.minute), (6, 0))

    def test_vat_none_without_zero_tax_is_no_tax(self):
        vat = self.env["netvisor.vat.mapping"]
        self.assertEqual(vat._netvisor_tax_for_vat(self.company, "NONE", 0, "purchase"), self.taxes["0"])
        self.taxes["0"].active = False
        self.assertFalse(vat._netvisor_tax_for_vat(self.company, "NONE", 0, "purchase"))
        with self.assertRaises(UserError):
            vat._netvisor_tax_for_vat(self.company, "EUOS", 10, "purchase")
        self.assertFalse(vat._netvisor_fi_purchase_template_tax(self.company, "KOOS", 25.5),
                         "no l10n_fi chart in this company")


@tagged("post_install", "-at_install")
class TestNetvisorPurchaseConcurrency(NetvisorPurchaseCommon):
    """Imports on several connections at once. They need committed data (the test company lives in
    the test's transaction); this class creates nothing that takes table locks (no analytic plans,
    which add columns), so that the other connections never wait for the test's transaction."""

    def _committed_company_setup(self, count):
        """Netvisor settings, a vendor and ``count`` invoices for the main company, committed (the
        test company lives in this test's transaction, invisible to other cursors). Returns a
        cleanup function that removes what the runs committed."""
        registry = self.env.registry
        with closing(registry.cursor()) as cr:
            cr.execute("SET LOCAL lock_timeout = '20s'")
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            fields_to_restore = ["netvisor_partner_id", "netvisor_partner_key", "netvisor_customer_id",
                                 "netvisor_customer_key", "netvisor_organisation_id", "netvisor_base_url",
                                 "netvisor_purchase_last_import", "netvisor_purchase_retry_keys"]
            old = {name: company[name] for name in fields_to_restore}
            old = {name: (value.id if hasattr(value, "id") else value) for name, value in old.items()}
            company.write(dict(self.netvisor_company_values(),
                               netvisor_purchase_last_import=fields.Datetime.now() - datetime.timedelta(hours=1),
                               netvisor_purchase_retry_keys=False))
            vendor = env["res.partner"].create({"name": "Rinnakkais Oy", "company_registry": BID_D,
                                                "is_company": True})
            tax = env["account.tax"].search([("company_id", "=", company.id), ("type_tax_use", "=", "purchase"),
                                             ("amount", "=", 15)], limit=1)
            last = {}
            for table in ("netvisor_log", "netvisor_run", "netvisor_flow"):
                cr.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - constant names
                last[table] = cr.fetchone()[0]
            env["netvisor.flow"]._netvisor_ensure_rows(company)  # the overview row exists before the runs
            cr.commit()
            company_id, vendor_id, currency = company.id, vendor.id, company.currency_id.name
        keys = [str(self.add_invoice(lines=[line(100, vat="15", account="")], currency=currency,
                                     vendor={"name": "Rinnakkais Oy", "business_id": BID_D})["netvisor_key"])
                for _n in range(count)]
        self.assertTrue(tax, "the main company has the generic chart's 15 % purchase tax")

        def cleanup():
            with closing(registry.cursor()) as cr:
                cr.execute("SET LOCAL lock_timeout = '20s'")
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["account.move"].search([("company_id", "=", company_id), ("netvisor_key", "in", keys)]).unlink()
                env["res.partner"].browse(vendor_id).unlink()
                for table in ("netvisor_flow", "netvisor_run", "netvisor_log"):
                    cr.execute(f"DELETE FROM {table} WHERE id > %s AND company_id = %s",  # noqa: S608
                               (last[table], company_id))
                env["res.company"].browse(company_id).write(old)
                cr.commit()

        return company_id, keys, cleanup

    def _count_bills(self, company_id, keys):
        with closing(self.env.registry.cursor()) as cr:
            cr.execute("SELECT netvisor_key, COUNT(*) FROM account_move WHERE company_id = %s "
                       "AND netvisor_key = ANY(%s) GROUP BY netvisor_key", (company_id, keys))
            return dict(cr.fetchall())

    def test_concurrent_imports_two_cursors(self):
        """Two runs on two connections: the second one's snapshot predates the first one's commit
        (as for a cron worker and the button racing), so it does not see the bills and tries to
        create them: the unique key and the savepoints turn that into "already present". The
        run-level lock is bypassed here to exercise the database guarantee itself."""
        company_id, keys, cleanup = self._committed_company_setup(3)
        self.addCleanup(cleanup)
        registry = self.env.registry

        @contextlib.contextmanager
        def no_lock(self, company):
            yield True

        with patch.object(AccountMove, "_netvisor_purchase_run_lock", no_lock), \
                closing(registry.cursor()) as cr1, closing(registry.cursor()) as cr2:
            for cr in (cr1, cr2):
                cr.execute("SET LOCAL lock_timeout = '20s'")
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            env2["account.move"].search_count([("company_id", "=", company_id)])  # cr2's snapshot starts now
            first = env1["account.move"]._netvisor_import_purchase_invoices(env1["res.company"].browse(company_id))
            cr1.commit()
            self.assertEqual(len(first["imported"]), 3, first["failed"] or first["error"])
            with mute_logger("odoo.sql_db", "odoo.addons.netvisor_integration.models.account_move_purchase"):
                second = env2["account.move"]._netvisor_import_purchase_invoices(
                    env2["res.company"].browse(company_id))
            self.assertFalse(second["error"], second["error"])
            self.assertEqual((len(second["imported"]), second["already_present"], second["failed"]), (0, 3, []))
            cr2.commit()
        self.assertEqual(self._count_bills(company_id, keys), dict.fromkeys(keys, 1))

    def test_concurrent_imports_two_threads(self):
        """Cron and button at the same moment, each in its own thread and connection, with the real
        run lock: every invoice becomes exactly one bill."""
        company_id, keys, cleanup = self._committed_company_setup(4)
        self.addCleanup(cleanup)
        registry = self.env.registry
        results, barrier = [], threading.Barrier(2)

        def worker():
            with closing(registry.cursor()) as cr:
                cr.execute("SET LOCAL lock_timeout = '20s'")
                # the test runner holds Registry._lock: hand the registry over instead of looking it up
                cr.transaction = api.Transaction(registry)
                env = api.Environment(cr, SUPERUSER_ID, {})
                barrier.wait(timeout=10)
                try:
                    summary = env["account.move"]._netvisor_import_purchase_invoices(
                        env["res.company"].browse(company_id))
                    results.append((len(summary["imported"]), summary["already_present"], summary["locked"],
                                    summary["failed"]))
                    cr.commit()
                except Exception as error:  # noqa: BLE001 - reported by the assertion below
                    results.append(error)

        threads = [threading.Thread(target=worker) for _n in range(2)]
        with mute_logger("odoo.sql_db", "odoo.addons.netvisor_integration.models.account_move_purchase"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        self.assertEqual(len(results), 2, results)
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        self.assertEqual(sorted(r[0] for r in results), [0, 4], results)
        loser = next(r for r in results if r[0] == 0)
        self.assertTrue(loser[2] or loser[1] == 4, f"refused by the run lock or all present: {results}")
        self.assertTrue(all(not r[3] for r in results), results)
        self.assertEqual(self._count_bills(company_id, keys), dict.fromkeys(keys, 1))
