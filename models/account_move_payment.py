import datetime
import gc
import logging
from collections import defaultdict

import psycopg2

from odoo import _, api, fields, models, modules
from odoo.exceptions import UserError
from odoo.tools import format_amount, format_date, html_escape

from ..netvisor import errors as nv_errors
from ..netvisor.resources import payments as nv_payments

_logger = logging.getLogger(__name__)

FLOW = "payment_sync"
# Odoo invoice type -> (Netvisor side, account.payment partner_type)
SYNCED_TYPES = {
    "out_invoice": ("sales", "customer"),
    "in_invoice": ("purchase", "supplier"),
}
PAID_STATES = ("paid", "in_payment")
# invoices per commit in a run (each invoice is its own savepoint): a commit empties the ORM
# cache (journal, accounts, partners are read again), so not after every single one
COMMIT_EVERY = 25


class AccountPayment(models.Model):
    _inherit = "account.payment"

    netvisor_payment_key = fields.Char(
        string="Netvisor Payment Key", copy=False, readonly=True, index="btree_not_null",
        help="Key of the Netvisor sales payment (customer payments) or purchase payment (vendor payments) "
             "this payment was registered from by the payment status sync.")

    _sql_constraints = [
        ("netvisor_payment_key_uniq", "unique(company_id, partner_type, netvisor_payment_key)",
         "This Netvisor payment is already registered in this company."),
    ]


class AccountMove(models.Model):
    _inherit = "account.move"

    netvisor_payment_difference = fields.Boolean(
        string="Paid in Netvisor without Payment Rows", copy=False, readonly=True,
        help="Netvisor shows this invoice as paid, but its payment rows do not cover what is still open in Odoo "
             "(a credit note, a credit loss, or a payment outside the check window): reconcile the rest in Odoo.")

    # ------------------------------------------------------------------ actions

    @api.model
    def action_netvisor_sync_payments(self):
        """Run the payment status sync for the current company now (Settings button, overview)."""
        self.check_access("write")  # callable over RPC by any user: refuse before the sudo run and Netvisor
        company = self.env.company
        run = self._netvisor_sync_payments(company, trigger="manual")
        ok = run.state in ("done", "partial")
        if ok:
            title = _("Netvisor: payment status synced")
            message = run.message or run._netvisor_summary()
        else:
            title = _("Netvisor: payment status sync failed")
            message = run.message
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": "success" if run.state == "done" else ("warning" if ok else "danger"),
                "sticky": not ok or run.state == "partial",
            },
        }

    # ------------------------------------------------------------------ cron

    @api.model
    def _cron_netvisor_sync_payments(self):
        for company in self.env["res.company"]._netvisor_configured_companies():
            try:
                self.with_company(company)._netvisor_sync_payments(company, trigger="cron")
            except Exception:  # one company's bug never stops the others
                _logger.exception("Netvisor payment status sync failed for company %s", company.id)
                if not modules.module.current_test:
                    self.env.cr.rollback()  # what the run committed before stays

    # ------------------------------------------------------------------ business

    @api.model
    def _netvisor_sync_payments(self, company, trigger="manual"):
        """Register in Odoo the payments Netvisor knows for this company's invoices sent to
        Netvisor and vendor bills imported from it, dated within the check window and not
        paid in Odoo. Four list requests at most, whatever the number of invoices.
        Returns the ``netvisor.run``."""
        company.ensure_one()
        moves = self.with_company(company)
        run = self.env["netvisor.run"]._netvisor_start(company, FLOW, trigger=trigger)
        today = fields.Date.context_today(moves)
        start = today - datetime.timedelta(days=company.netvisor_payment_window_days or 90)
        try:
            client = company._netvisor_client(flow=FLOW)
        except UserError as error:
            return run._netvisor_finish(error=str(error.args[0]))
        journal = company._netvisor_payment_journal()
        if not journal:
            return run._netvisor_finish(error=_(
                "Company %(company)s has no bank journal for the payments found in Netvisor: choose a Netvisor "
                "Payment Journal in Settings > Netvisor Integration.", company=company.display_name))
        invoices = moves._netvisor_payment_candidates(company, start)
        if not invoices:
            return run._netvisor_finish(message=_(
                "No invoice sent to Netvisor and no bill imported from it dated since %(date)s is waiting for "
                "payment in Odoo.", date=format_date(self.env, start)))
        try:
            netvisor_data = moves._netvisor_fetch_payment_status(client, invoices, start, today)
        except nv_errors.NetvisorError as error:
            message = company._netvisor_error_message(error)
            company._netvisor_commit()  # keep the log rows
            return run._netvisor_finish(error=message)
        company._netvisor_commit()

        registered_keys = moves._netvisor_registered_payment_keys(company, netvisor_data)
        done = skipped = failed = 0
        work = []  # decided before the first commit: a commit clears the cache of all candidates
        for invoice in invoices:
            side, partner_type = SYNCED_TYPES[invoice.move_type]
            key = invoice.netvisor_invoice_id if side == "sales" else invoice.netvisor_key
            rows = netvisor_data[side]["payments"].get(key, [])
            status = netvisor_data[side]["status"].get(key)
            news = any((partner_type, row.netvisor_key) not in registered_keys for row in rows)
            unexplained = status is not None and status.is_paid and not invoice.netvisor_payment_difference
            if news or unexplained:
                work.append((invoice.id, rows, status))
            else:
                skipped += 1
        for position, (invoice_id, rows, status) in enumerate(work, start=1):
            invoice = moves.browse(invoice_id)
            try:
                with self.env.cr.savepoint():
                    payments = invoice._netvisor_apply_payments(rows, status, journal, registered_keys)
            except Exception as error:  # noqa: BLE001 - logged per invoice, the others go on
                failed += 1
                invoice._netvisor_payment_failed(company, error)
            else:
                if payments:
                    done += 1
                else:
                    skipped += 1
            if position % COMMIT_EVERY == 0:
                company._netvisor_commit()
                # the payment registration leaves many environments in reference cycles, and
                # api.Environment() scans the live ones: without a collection the run slows
                # down with every invoice (bench: 400 payments 99 s -> 29 s of CPU)
                gc.collect()
        company._netvisor_commit()
        return run._netvisor_finish(done=done, skipped=skipped, failed=failed, message=_(
            "%(done)s invoice(s) got payments from Netvisor, %(skipped)s unchanged, %(failed)s failed "
            "(%(count)s invoice(s) dated since %(date)s checked with %(requests)s request(s)).",
            done=done, skipped=skipped, failed=failed, count=len(invoices), date=format_date(self.env, start),
            requests=client.request_count))

    @api.model
    def _netvisor_payment_candidates(self, company, start):
        return self.search([
            ("company_id", "=", company.id),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            ("invoice_date", ">=", start),
            "|",
            "&", ("move_type", "=", "out_invoice"), ("netvisor_invoice_id", "!=", False),
            "&", ("move_type", "=", "in_invoice"), ("netvisor_key", "!=", False),
        ], order="invoice_date, id")

    @api.model
    def _netvisor_fetch_payment_status(self, client, invoices, start, today):
        """The fixed set of list requests: for customer invoices ``salesinvoicelist.nv``
        (modified since the window start, with modified payments) and ``salespaymentlist.nv``
        (payments dated in the window, linked to an invoice, no credit loss); for vendor bills
        ``purchaseinvoicelist.nv`` (dated in the window, paid) and ``paymentlist.nv`` (payments
        dated in the window). A side without candidates is not asked.

        Returns ``{"sales"|"purchase": {"status": {key: status}, "payments": {key: [Payment]}}}``."""
        data = {side: {"status": {}, "payments": {}} for side in ("sales", "purchase")}
        types = set(invoices.mapped("move_type"))
        # the modification window ends tomorrow night: Netvisor's clock is Finnish local time
        modified_end = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time(23, 59, 59))
        if "out_invoice" in types:
            statuses = nv_payments.list_sales_invoice_status(
                client, modified_start=start, modified_end=modified_end, include_modified_payments=True)
            rows = nv_payments.list_sales_payments(client, begin_date=start, end_date=today, linked=True,
                                                   exclude_credit_loss=True)
            nv_payments.link_sales_payments(rows, statuses)
            data["sales"]["status"] = {s.netvisor_key: s for s in statuses}
            data["sales"]["payments"] = nv_payments.payments_by_invoice(rows)
        if "in_invoice" in types:
            statuses = nv_payments.list_purchase_invoice_status(client, begin_date=start, end_date=today,
                                                                payment_status="paid")
            rows = nv_payments.list_purchase_payments(client, begin_date=start, end_date=today)
            data["purchase"]["status"] = {s.netvisor_key: s for s in statuses}
            data["purchase"]["payments"] = nv_payments.payments_by_invoice(rows)
        return data

    @api.model
    def _netvisor_registered_payment_keys(self, company, netvisor_data):
        """{(partner_type, key)} of the Netvisor payments of this answer already registered."""
        keys = defaultdict(set)
        for side, partner_type in (("sales", "customer"), ("purchase", "supplier")):
            for rows in netvisor_data[side]["payments"].values():
                keys[partner_type].update(row.netvisor_key for row in rows)
        found = set()
        for partner_type, values in keys.items():
            if not values:
                continue
            payments = self.env["account.payment"].with_context(active_test=False).search_read([
                ("company_id", "=", company.id),
                ("partner_type", "=", partner_type),
                ("netvisor_payment_key", "in", list(values)),
            ], ["netvisor_payment_key"])
            found.update((partner_type, p["netvisor_payment_key"]) for p in payments)
        return found

    def _netvisor_apply_payments(self, rows, status, journal, registered_keys):
        """Register the Netvisor payment rows of this invoice not registered yet, oldest first.

        Nothing is paid twice and nothing is over-paid: each payment is capped by what is
        still open in Odoo and by what Netvisor's rows add to the payments Odoo already
        has on the invoice (registered by this sync or by hand). Negative rows (reversals)
        lower that budget and are never registered. Returns the new payments."""
        self.ensure_one()
        _side, partner_type = SYNCED_TYPES[self.move_type]
        currency = self.company_currency_id
        new_rows = [row for row in rows if (partner_type, row.netvisor_key) not in registered_keys]
        payments = self.env["account.payment"]
        if new_rows:
            netvisor_total = sum(float(row.amount) for row in rows)
            budget = netvisor_total - (self._netvisor_paid_by_payments() if self.payment_state == "partial" else 0.0)
            residual = abs(self.amount_residual_signed)
            for row in new_rows:
                amount = currency.round(min(float(row.amount), budget, residual))
                if currency.compare_amounts(amount, 0.0) <= 0:
                    continue
                payments |= self._netvisor_register_payment(row, amount, journal)
                registered_keys.add((partner_type, row.netvisor_key))
                budget -= amount
                residual -= amount
        if self.payment_state in PAID_STATES:
            self.netvisor_payment_synced = True
        elif status is not None and status.is_paid and not self.netvisor_payment_difference:
            self._netvisor_note_payment_difference(rows)
        return payments

    def _netvisor_paid_by_payments(self):
        """Company-currency amount of this invoice settled by payments or bank statement
        lines (by hand or by this sync), not by credit notes or other entries."""
        self.ensure_one()
        lines = self.line_ids.filtered(lambda line: line.account_type in ("asset_receivable", "liability_payable"))
        total = 0.0
        for partial in lines.matched_debit_ids:
            counterpart = partial.debit_move_id.move_id
            if counterpart.origin_payment_id or counterpart.statement_line_id:
                total += partial.amount
        for partial in lines.matched_credit_ids:
            counterpart = partial.credit_move_id.move_id
            if counterpart.origin_payment_id or counterpart.statement_line_id:
                total += partial.amount
        return total

    def _netvisor_register_payment(self, row, amount, journal):
        """One payment through the standard payment registration, with Netvisor's date."""
        self.ensure_one()
        wizard = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.ids,
        ).create({
            "payment_date": row.date or fields.Date.context_today(self),
            "amount": amount,
            "currency_id": self.company_currency_id.id,
            "journal_id": journal.id,
            "payment_difference_handling": "open",
        })
        payments = wizard._create_payments()
        payments.netvisor_payment_key = row.netvisor_key
        return payments

    def _netvisor_note_payment_difference(self, rows):
        self.ensure_one()
        listed = sum(float(row.amount) for row in rows)
        self.netvisor_payment_difference = True
        self.message_post(body=html_escape(_(
            "Netvisor shows %(invoice)s as paid, but its payments listed by Netvisor (%(listed)s) do not cover "
            "the %(open)s still open in Odoo: the rest was settled in Netvisor by a credit note, a credit loss or "
            "a payment outside the check window. Reconcile it in Odoo.",
            invoice=self.display_name,
            listed=format_amount(self.env, listed, self.company_currency_id),
            open=format_amount(self.env, abs(self.amount_residual_signed), self.company_currency_id))))

    def _netvisor_payment_failed(self, company, error):
        self.ensure_one()
        if isinstance(error, nv_errors.NetvisorError):
            detail = company._netvisor_error_message(error)
        elif isinstance(error, psycopg2.IntegrityError):
            detail = _("one of its Netvisor payments was registered by another run at the same time; "
                       "it is not registered twice.")
        elif isinstance(error, UserError):
            detail = str(error.args[0])
        else:
            _logger.exception("Netvisor payment status sync failed for %s", self.display_name)
            detail = str(error) or type(error).__name__
        message = _("Netvisor payment status sync: the payments of %(invoice)s could not be registered: %(detail)s",
                    invoice=self.display_name, detail=detail)
        self.env["netvisor.log"]._log_record_error(company, FLOW, self, message, category="PAYMENT", direction="in")
        self.message_post(body=html_escape(message))


class NetvisorFlow(models.Model):
    _inherit = "netvisor.flow"

    @api.model
    def _netvisor_flow_specs(self):
        specs = super()._netvisor_flow_specs()
        specs[FLOW] = {
            "sequence": 30,
            "description": _("Payments found in Netvisor are registered on the invoices and bills they pay "
                             "(daily at 07:00)."),
            "model": "account.move",
            "attention_domain": [("netvisor_payment_difference", "=", True),
                                 ("payment_state", "in", ("not_paid", "partial"))],
            "run_method": ("account.move", "action_netvisor_sync_payments"),
        }
        return specs
