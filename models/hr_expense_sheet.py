import datetime
import io
import os

from PIL import Image
from psycopg2.errors import LockNotAvailable

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..netvisor import errors as nv_errors
from ..netvisor import xmlutil
from ..netvisor.resources import purchase_invoice_import as nv_import

FLOW = "expense_send"
SENDABLE_SHEET_STATES = ("approve", "post", "done")
PENDING_STATES = ("not_sent", "error", "unknown")
# VAT codes a purchase invoice line can stand for: the DTD gives the line a percent only
PURCHASE_VAT_CODES = ("KOOS", "NONE")
# Netvisor processes an invoice with attachments (invoicesource finvoice) about a minute
# after the import: a lookup right after a lost answer may not see it yet
UNKNOWN_GRACE = datetime.timedelta(minutes=15)


class HrExpenseSheet(models.Model):
    """An approved expense report paid by the employee goes to Netvisor as a purchase
    invoice (purchaseinvoice.nv) of the employee: one line per expense, the receipts
    attached as PDF. Netvisor bills each imported purchase invoice like a received e-invoice.

    Never twice: the purchase invoice key is stored, the report row is locked while it is
    sent, and after a lost answer the invoice is first looked up in Netvisor by its number
    and vendor code before anything is sent again."""

    _name = "hr.expense.sheet"
    _inherit = ["hr.expense.sheet", "netvisor.mixin"]

    netvisor_state = fields.Selection(selection_add=[("unknown", "Outcome Unknown")],
                                      ondelete={"unknown": "set default"})
    netvisor_purchase_invoice_key = fields.Char(string="Netvisor Purchase Invoice Key", copy=False, readonly=True,
                                                index=True, tracking=True)
    netvisor_unknown_date = fields.Datetime(string="Outcome Unknown Since", copy=False, readonly=True)

    _sql_constraints = [
        ("netvisor_purchase_invoice_key_company_uniq", "unique(company_id, netvisor_purchase_invoice_key)",
         "Another expense report of this company already has this Netvisor purchase invoice key."),
    ]

    # ------------------------------------------------------------------ actions

    def action_netvisor_send(self):
        """Send to Netvisor (button and Action menu); sent reports are skipped, reports whose
        last sending has an unknown outcome are looked up in Netvisor first."""
        return self._netvisor_notification(self._netvisor_send(trigger="manual"))

    def action_netvisor_resend(self):
        """Explicit resend of reports already sent: a new purchase invoice is created in Netvisor."""
        return self._netvisor_notification(self._netvisor_send(trigger="manual", resend=True))

    @api.model
    def action_netvisor_send_pending(self):
        """Send the current company's approved reports not sent yet (overview "Run now")."""
        sheets = self.search(self._netvisor_pending_domain(self.env.company))
        return self._netvisor_notification(sheets._netvisor_send(trigger="manual"))

    # ------------------------------------------------------------------ crons

    @api.model
    def _cron_netvisor_send_expenses(self):
        for company in self.env["res.company"]._netvisor_configured_companies():
            sheets = self.search(self._netvisor_pending_domain(company, scheduled=True), order="id")
            if sheets:
                sheets.with_company(company)._netvisor_send(trigger="cron")
            else:  # the overview shows that the run happened
                self.env["netvisor.run"]._netvisor_start(company, FLOW, trigger="cron")._netvisor_finish()

    # ------------------------------------------------------------------ business

    @api.model
    def _netvisor_pending_domain(self, company, scheduled=False):
        domain = [("company_id", "=", company.id), ("state", "in", SENDABLE_SHEET_STATES),
                  ("payment_mode", "=", "own_account"), ("netvisor_state", "in", PENDING_STATES)]
        if scheduled and company.netvisor_expense_send_from:
            domain.append(("accounting_date", ">=", company.netvisor_expense_send_from))
        return domain

    def _netvisor_send(self, trigger="manual", resend=False):
        """Send each report, one failure never stopping the others (see
        ``netvisor.mixin._netvisor_send_batch``)."""
        return self._netvisor_send_batch(FLOW, trigger=trigger, resend=resend)

    def _netvisor_send_one(self, client, resend=False):
        """Send this report; returns (outcome, message) with outcome done/skipped/failed."""
        self.ensure_one()
        company = self.company_id
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute("SELECT id FROM hr_expense_sheet WHERE id = %s FOR UPDATE NOWAIT", [self.id])
                self.invalidate_recordset(["netvisor_state", "netvisor_purchase_invoice_key", "netvisor_unknown_date"])
                reason = self._netvisor_skip_reason(resend)
                invoice = None if reason else self._netvisor_prepare_invoice()
        except LockNotAvailable:
            return "skipped", _("Expense report %(report)s is being sent to Netvisor by another process.",
                                report=self.display_name)
        except (UserError, nv_import.PurchaseInvoiceError) as error:
            message = error.args[0] if isinstance(error, UserError) else _(
                "Expense report %(report)s cannot be sent to Netvisor: %(reason)s",
                report=self.display_name, reason=str(error))
            self._netvisor_set_error(message, FLOW, category="VALIDATION")
            return "failed", message
        if reason:
            return "skipped", reason
        client.context = {"res_model": self._name, "res_id": self.id}
        if self.netvisor_state == "unknown":
            found = self._netvisor_resolve_unknown(client, invoice)
            if found:
                return found
        previous_key = self.netvisor_purchase_invoice_key
        # committed before the request: a worker that dies after Netvisor stored the invoice
        # but before its own commit leaves the report "unknown" (looked up by the next
        # sending), never "not sent" (it would be sent twice)
        self.write({"netvisor_state": "unknown", "netvisor_unknown_date": fields.Datetime.now(),
                    "netvisor_error": _(
                        "Expense report %(report)s: purchase invoice %(number)s is being sent to Netvisor. If this "
                        "message stays, the sending was interrupted: the next sending looks it up in Netvisor first "
                        "and only sends it again if it is not there.", report=self.display_name,
                        number=invoice.number)})
        company._netvisor_commit()
        try:
            key = nv_import.send_purchase_invoice(client, invoice)
        except nv_errors.NetvisorOutcomeUnknownError as error:
            message = _(
                "Expense report %(report)s: the purchase invoice %(number)s was sent but no answer came back from "
                "Netvisor (%(detail)s), so Netvisor may or may not have stored it. The next sending first looks it "
                "up in Netvisor and only sends it again if it is not there.",
                report=self.display_name, number=invoice.number, detail=error.text)
            self._netvisor_set_error(message, FLOW, category=error.category)
            self.write({"netvisor_state": "unknown", "netvisor_unknown_date": fields.Datetime.now()})
            return "failed", message
        except nv_errors.NetvisorError as error:
            message = _("Expense report %(report)s was not sent to Netvisor. %(reason)s",
                        report=self.display_name, reason=company._netvisor_error_message(error))
            self.write({"netvisor_unknown_date": False})
            self._netvisor_set_error(message, FLOW, category=error.category)
            return "failed", message
        self._netvisor_set_sent({"netvisor_purchase_invoice_key": key, "netvisor_unknown_date": False})
        body = _("Sent to Netvisor as purchase invoice %(number)s (key %(key)s) of vendor %(vendor)s, "
                 "%(count)s receipt(s) attached.", number=invoice.number, key=key, vendor=invoice.vendor.code,
                 count=len(invoice.attachments))
        if previous_key:
            body += " " + _("The earlier purchase invoice %(previous)s stays in Netvisor until it is removed there.",
                            previous=previous_key)
        self.message_post(body=body)
        return "done", None

    def _netvisor_resolve_unknown(self, client, invoice):
        """After a lost answer: look the invoice up. Returns an outcome tuple when the report
        is settled (found, or still to wait for), None when it is safe to send."""
        try:
            key = nv_import.find_purchase_invoice(client, invoice.number, invoice.vendor.code,
                                                  amount=nv_import.invoice_amount(invoice))
        except nv_errors.NetvisorError as error:
            message = _("Expense report %(report)s: the lookup of purchase invoice %(number)s in Netvisor failed, "
                        "it is not sent again until the lookup works. %(reason)s", report=self.display_name,
                        number=invoice.number, reason=self.company_id._netvisor_error_message(error))
            self.write({"netvisor_error": message})
            return "failed", message
        if key:
            self._netvisor_set_sent({"netvisor_purchase_invoice_key": key, "netvisor_unknown_date": False})
            self.message_post(body=_(
                "Found in Netvisor as purchase invoice %(number)s (key %(key)s) after the answer to its sending had "
                "been lost; it was not sent again.", number=invoice.number, key=key))
            return "done", None
        since = self.netvisor_unknown_date or fields.Datetime.now()
        if fields.Datetime.now() - since < UNKNOWN_GRACE:
            return "skipped", _(
                "Expense report %(report)s: purchase invoice %(number)s is not in Netvisor yet; Netvisor processes "
                "invoices with attachments with a delay, so it is looked up again later before being sent again.",
                report=self.display_name, number=invoice.number)
        self.message_post(body=_("Purchase invoice %(number)s was not found in Netvisor %(minutes)s minutes after "
                                 "its answer was lost: it is sent again.", number=invoice.number,
                                 minutes=int(UNKNOWN_GRACE.total_seconds() // 60)))
        return None

    def _netvisor_skip_reason(self, resend=False):
        self.ensure_one()
        if self.state not in SENDABLE_SHEET_STATES:
            return _("Expense report %(report)s is not approved: only approved or posted reports are sent to "
                     "Netvisor.", report=self.display_name)
        if self.payment_mode != "own_account":
            return _("Expense report %(report)s was paid by the company: there is nothing to reimburse to the "
                     "employee, it is not sent to Netvisor as a purchase invoice.", report=self.display_name)
        if self.netvisor_state == "sent" and not resend:
            return _("Expense report %(report)s was already sent to Netvisor (purchase invoice %(key)s). Use Resend "
                     "to Netvisor to send it again.", report=self.display_name,
                     key=self.netvisor_purchase_invoice_key or "-")
        return None

    def _netvisor_vendor_code(self):
        self.ensure_one()
        return f"{self.company_id.netvisor_expense_vendor_prefix or ''}{self.employee_id.id}"

    def _netvisor_invoice_number(self):
        self.ensure_one()
        return f"{self.company_id.netvisor_expense_invoice_prefix or ''}{self.id}"

    def _netvisor_prepare_invoice(self):
        """The purchase invoice of this report; raises UserError naming what is missing."""
        self.ensure_one()
        company = self.company_id
        currency = company.currency_id
        employee = self.employee_id.sudo()
        vat_mapping = self.env["netvisor.vat.mapping"]
        lines = []
        for expense in self.expense_line_ids.sorted(lambda e: (e.date or fields.Date.today(), e.id)):
            account = (expense.account_id.code or "").strip()
            if not account:
                raise UserError(_("Expense report %(report)s: the expense %(expense)s has no account.",
                                  report=self.display_name, expense=expense.display_name))
            taxes = expense.tax_ids
            if len(taxes) > 1:
                raise UserError(_(
                    "Expense report %(report)s: the expense %(expense)s has several taxes (%(taxes)s); a Netvisor "
                    "purchase invoice line has one VAT percent. Split the expense.",
                    report=self.display_name, expense=expense.display_name,
                    taxes=", ".join(taxes.mapped("display_name"))))
            vat_code, vat_percent = vat_mapping._netvisor_vat_for_tax(taxes) if taxes else ("NONE", 0.0)
            if vat_code not in PURCHASE_VAT_CODES:
                raise UserError(_(
                    "Expense report %(report)s: the tax %(tax)s of the expense %(expense)s is Netvisor VAT code "
                    "%(code)s, but a purchase invoice line only carries a VAT percent, which Netvisor books as a "
                    "domestic purchase (KOOS). Send such expenses another way or map the tax to KOOS or NONE.",
                    report=self.display_name, tax=taxes.display_name, expense=expense.display_name, code=vat_code))
            gross = xmlutil.to_decimal(currency.round(expense.total_amount))
            tax = xmlutil.to_decimal(currency.round(expense.tax_amount))
            quantity = xmlutil.to_decimal(expense.quantity or 1)
            description = " ".join(filter(None, [
                expense.date and fields.Date.to_string(expense.date),
                (expense.description or "").strip()[:200],
            ]))
            lines.append(nv_import.PurchaseInvoiceLine(
                name=(expense.name or expense.product_id.display_name or "").strip()[:200],
                gross_amount=gross,
                vat_percent=xmlutil.to_decimal(vat_percent),
                quantity=quantity,
                unit_price=(gross - tax) / quantity,
                description=description,
                product_code=expense.product_id.default_code or "",
                unit=expense.product_uom_id.name or "",
                account=account,
            ))
        if not lines:
            raise UserError(_("Expense report %(report)s has no expense.", report=self.display_name))
        date = self.accounting_date or (self.approval_date and self.approval_date.date()) or \
            fields.Date.context_today(self)
        invoice = nv_import.PurchaseInvoiceImport(
            number=self._netvisor_invoice_number(),
            date=date,
            due_date=date + datetime.timedelta(days=company.netvisor_expense_due_days or 0),
            vendor=nv_import.Vendor(
                code=self._netvisor_vendor_code(),
                name=employee.name,
                address=" ".join(filter(None, [employee.private_street, employee.private_street2])),
                postcode=employee.private_zip or "",
                city=employee.private_city or "",
                country=employee.private_country_id.code or "",
                phone=employee.private_phone or "",
                email=employee.private_email or employee.work_email or "",
                bank_account=employee.bank_account_id.acc_number or "",
            ),
            lines=lines,
            currency=currency.name,
            our_reference=(self.name or "")[:200],
            comment=_("Expense report %(report)s of %(employee)s", report=self.name, employee=employee.name),
            attachments=self._netvisor_receipts(),
        )
        nv_import.check_purchase_invoice(invoice)
        return invoice

    def _netvisor_receipts(self):
        """The receipts as PDF attachments: those of each expense, then those added on the
        report itself (the report holds copies of the expenses' receipts: same checksum)."""
        self.ensure_one()
        seen = set()
        attachments = self.env["ir.attachment"]
        expenses = self.expense_line_ids.sorted(lambda e: (e.date or fields.Date.today(), e.id))
        for record in expenses.attachment_ids.sorted(lambda a: (expenses.ids.index(a.res_id), a.id)) + \
                self.attachment_ids.sorted("id"):
            if record.checksum in seen:
                continue
            seen.add(record.checksum)
            attachments |= record
        receipts = []
        for index, attachment in enumerate(attachments):
            content, filename = self._netvisor_pdf(attachment)
            receipts.append(nv_import.PurchaseInvoiceAttachment(
                filename=filename,
                content=content,
                description=attachment.name or filename,
                document_type="invoiceimage" if index == 0 else "otherattachment",
            ))
        return receipts

    def _netvisor_pdf(self, attachment):
        """(PDF bytes, file name) of a receipt: PDF as is, images converted; anything else refused."""
        raw = attachment.sudo().raw or b""
        name = attachment.name or f"receipt-{attachment.id}"
        if attachment.mimetype == "application/pdf" or raw[:5] == b"%PDF-":
            return raw, name
        if (attachment.mimetype or "").startswith("image/"):
            try:
                with Image.open(io.BytesIO(raw)) as image:
                    buffer = io.BytesIO()
                    image.convert("RGB").save(buffer, format="PDF")
            except (OSError, ValueError):
                pass
            else:
                return buffer.getvalue(), os.path.splitext(name)[0] + ".pdf"
        raise UserError(_(
            "Expense report %(report)s: the receipt %(file)s (%(type)s) cannot be sent, Netvisor accepts PDF "
            "attachments only (images are converted). Convert it to PDF or remove it.",
            report=self.display_name, file=name, type=attachment.mimetype or _("unknown type")))

    def _netvisor_notification(self, results):
        done, skipped, failed = results["done"], results["skipped"], results["failed"]
        lines = [_("%(done)s sent, %(skipped)s skipped, %(failed)s failed.", done=done, skipped=skipped,
                   failed=failed)]
        lines += [text for _record, text in results["messages"][:5]]
        if len(results["messages"]) > 5:
            lines.append(_("... and %(count)s more (see the Netvisor log).", count=len(results["messages"]) - 5))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Netvisor: expense reports"),
                "message": "\n".join(lines),
                "type": "danger" if failed else ("warning" if skipped else "success"),
                "sticky": bool(failed),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _netvisor_sent_keys(self, company, keys):
        """The keys among ``keys`` that are purchase invoices sent from Odoo for expense
        reports (the purchase import must not bring them back as vendor bills)."""
        keys = [str(key) for key in keys if key]
        if not keys:
            return set()
        sheets = self.sudo().search([("company_id", "=", company.id), ("netvisor_purchase_invoice_key", "in", keys)])
        return set(sheets.mapped("netvisor_purchase_invoice_key"))


class AccountMove(models.Model):
    _inherit = "account.move"

    @api.model
    def _netvisor_purchase_keys_sent_from_odoo(self, company, keys):
        """Expense reports sent as purchase invoices come back in Netvisor's purchase invoice
        list: the daily import must not turn them into vendor bills a second time."""
        sent = super()._netvisor_purchase_keys_sent_from_odoo(company, keys)
        return set(sent or ()) | set(self.env["hr.expense.sheet"]._netvisor_sent_keys(company, keys))
