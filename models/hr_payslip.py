import logging

from psycopg2.errors import LockNotAvailable

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date, formatLang, html_escape

from ..netvisor import errors as nv_errors
from ..netvisor import xmlutil
from ..netvisor.resources import accounting as nv_accounting

_logger = logging.getLogger(__name__)

FLOW = "payslip_send"
PENDING_STATES = ("not_sent", "queued", "error")


class HrPayslip(models.Model):
    """A confirmed payslip goes to Netvisor as one balanced accounting voucher (accounting.nv).

    Never twice: the voucher key is stored, the payslip row is locked while it is sent, a
    sent payslip is only sent again through the explicit Resend action, and when the answer
    to a sending is lost ("outcome unknown") nothing is sent again until a person has checked
    Netvisor: Netvisor has no voucher lookup in our scope to find out by itself."""

    _name = "hr.payslip"
    _inherit = ["hr.payslip", "netvisor.mixin"]

    netvisor_state = fields.Selection(selection_add=[("unknown", "Outcome Unknown")],
                                      ondelete={"unknown": "set default"})
    netvisor_voucher_key = fields.Char(string="Netvisor Voucher Key", copy=False, readonly=True, index=True,
                                       tracking=True)
    netvisor_unknown_date = fields.Datetime(string="Outcome Unknown Since", copy=False, readonly=True)

    _sql_constraints = [
        ("netvisor_voucher_key_company_uniq", "unique(company_id, netvisor_voucher_key)",
         "Another payslip of this company already has this Netvisor voucher key."),
    ]

    # ------------------------------------------------------------------ overrides

    def action_payslip_done(self):
        res = super().action_payslip_done()
        self._netvisor_queue_auto_send()
        return res

    # ------------------------------------------------------------------ actions

    def action_netvisor_send(self):
        """Send to Netvisor (button and Action menu); sent payslips are skipped."""
        return self._netvisor_notification(self._netvisor_send(trigger="manual"))

    def action_netvisor_resend(self):
        """Explicit resend of payslips already sent: a new voucher is created in Netvisor."""
        return self._netvisor_notification(self._netvisor_send(trigger="manual", resend=True))

    def action_netvisor_unknown_resend(self):
        """A person checked Netvisor: the voucher is not there, send it again."""
        unknown = self.filtered(lambda p: p.netvisor_state == "unknown")
        for payslip in unknown:
            payslip.message_post(body=_(
                "%(user)s checked Netvisor: the voucher of this payslip is not there. It is sent again.",
                user=html_escape(self.env.user.name)))
        unknown.write({"netvisor_state": "not_sent", "netvisor_unknown_date": False})
        return self._netvisor_notification(unknown._netvisor_send(trigger="manual"))

    def action_netvisor_unknown_mark_sent(self):
        """A person checked Netvisor: the voucher is there, nothing is sent."""
        unknown = self.filtered(lambda p: p.netvisor_state == "unknown")
        for payslip in unknown:
            payslip.message_post(body=_(
                "%(user)s checked Netvisor: the voucher of this payslip is there. Marked as sent without "
                "sending it again.", user=html_escape(self.env.user.name)))
        unknown._netvisor_set_sent({"netvisor_unknown_date": False})
        return True

    @api.model
    def action_netvisor_send_pending(self):
        """Send the confirmed payslips of the current company not sent yet (overview "Run now")."""
        payslips = self.search(self._netvisor_pending_domain(self.env.company))
        return self._netvisor_notification(payslips._netvisor_send(trigger="manual"))

    # ------------------------------------------------------------------ crons

    @api.model
    def _cron_netvisor_send_payslips(self):
        """Monthly: every confirmed payslip not sent yet, per configured company."""
        for company in self.env["res.company"]._netvisor_configured_companies():
            payslips = self.search(self._netvisor_pending_domain(company, scheduled=True), order="id")
            if payslips:
                payslips.with_company(company)._netvisor_send(trigger="cron")
            else:  # the overview shows that the run happened
                self.env["netvisor.run"]._netvisor_start(company, FLOW, trigger="cron")._netvisor_finish()

    @api.model
    def _cron_netvisor_send_queued_payslips(self):
        """Triggered after a confirmation with auto-send on: the queued payslips."""
        for company in self.env["res.company"]._netvisor_configured_companies():
            payslips = self.search([("company_id", "=", company.id), ("state", "=", "done"),
                                    ("netvisor_state", "=", "queued")], order="id")
            payslips.with_company(company)._netvisor_send(trigger="auto")

    # ------------------------------------------------------------------ business

    @api.model
    def _netvisor_pending_domain(self, company, scheduled=False):
        domain = [("company_id", "=", company.id), ("state", "=", "done"),
                  ("netvisor_state", "in", PENDING_STATES)]
        if scheduled and company.netvisor_payslip_send_from:
            domain.append(("date_to", ">=", company.netvisor_payslip_send_from))
        return domain

    def _netvisor_queue_auto_send(self):
        """Queue the confirmed payslips of auto-send companies and wake the send cron, which
        runs after this transaction commits. Never blocks nor rolls back the confirmation."""
        try:
            with self.env.cr.savepoint():
                payslips = self.filtered(lambda p: p.state == "done" and p.netvisor_state in ("not_sent", "error")
                                         and p.company_id.netvisor_auto_send_payslip
                                         and p.company_id.netvisor_configured)
                if payslips:
                    payslips.write({"netvisor_state": "queued"})
                    cron = self.env.ref("netvisor_integration.ir_cron_netvisor_send_queued_payslips",
                                        raise_if_not_found=False)
                    if cron:
                        cron.sudo()._trigger()
        except Exception:  # the confirmation must go through whatever happens here
            _logger.exception("Netvisor: could not queue payslips %s for sending", self.ids)

    def _netvisor_send(self, trigger="manual", resend=False):
        """Send each payslip, one failure never stopping the others (see
        ``netvisor.mixin._netvisor_send_batch``)."""
        return self._netvisor_send_batch(FLOW, trigger=trigger, resend=resend)

    def _netvisor_send_one(self, client, resend=False):
        """Send this payslip; returns (outcome, message) with outcome done/skipped/failed."""
        self.ensure_one()
        company = self.company_id
        try:
            with self.env.cr.savepoint():
                # a second worker sending the same payslip waits for nothing: it skips it
                self.env.cr.execute("SELECT id FROM hr_payslip WHERE id = %s FOR UPDATE NOWAIT", [self.id])
                self.invalidate_recordset(["netvisor_state", "netvisor_voucher_key", "state"])
                reason = self._netvisor_skip_reason(resend)
                voucher = None if reason else self._netvisor_prepare_voucher()
        except LockNotAvailable:
            return "skipped", _("Payslip %(slip)s is being sent to Netvisor by another process.",
                                slip=self.display_name)
        except (UserError, nv_accounting.VoucherError) as error:
            message = error.args[0] if isinstance(error, UserError) else _(
                "Payslip %(slip)s cannot be sent to Netvisor: %(reason)s", slip=self.display_name, reason=str(error))
            self._netvisor_set_error(message, FLOW, category="VALIDATION")
            return "failed", message
        if reason:
            return "skipped", reason
        previous_key = self.netvisor_voucher_key
        client.context = {"res_model": self._name, "res_id": self.id}
        # committed before the request: a worker that dies after Netvisor stored the voucher
        # but before its own commit leaves the payslip "unknown" (a person checks), never
        # "not sent" (it would be sent twice)
        self.write({"netvisor_state": "unknown", "netvisor_unknown_date": fields.Datetime.now(),
                    "netvisor_error": self._netvisor_in_flight_message(voucher)})
        company._netvisor_commit()
        try:
            key = nv_accounting.send_voucher(client, voucher)
        except nv_errors.NetvisorOutcomeUnknownError as error:
            message = self._netvisor_unknown_message(voucher, error)
            self._netvisor_set_error(message, FLOW, category=error.category)
            self.write({"netvisor_state": "unknown", "netvisor_unknown_date": fields.Datetime.now()})
            return "failed", message
        except nv_errors.NetvisorError as error:
            message = _("Payslip %(slip)s was not sent to Netvisor. %(reason)s",
                        slip=self.display_name, reason=company._netvisor_error_message(error))
            self.write({"netvisor_unknown_date": False})
            self._netvisor_set_error(message, FLOW, category=error.category)
            return "failed", message
        self._netvisor_set_sent({"netvisor_voucher_key": key, "netvisor_unknown_date": False})
        if previous_key:
            body = _("Sent again to Netvisor as voucher %(key)s (voucher class %(class)s); the earlier voucher "
                     "%(previous)s stays in Netvisor until it is removed there.",
                     key=key, previous=previous_key, **{"class": voucher.voucher_class})
        else:
            body = _("Sent to Netvisor as voucher %(key)s (voucher class %(class)s).",
                     key=key, **{"class": voucher.voucher_class})
        self.message_post(body=body)
        return "done", None

    def _netvisor_skip_reason(self, resend=False):
        self.ensure_one()
        if self.state != "done":
            return _("Payslip %(slip)s is not confirmed: only done payslips are sent to Netvisor.",
                     slip=self.display_name)
        if self.netvisor_state == "unknown":
            return _("Payslip %(slip)s: the outcome of its last sending is unknown. Check Netvisor, then use "
                     "\"Found in Netvisor\" or \"Not in Netvisor: Send Again\".", slip=self.display_name)
        if self.netvisor_state == "sent" and not resend:
            return _("Payslip %(slip)s was already sent to Netvisor (voucher %(key)s). Use Resend to Netvisor "
                     "to send it again.", slip=self.display_name, key=self.netvisor_voucher_key or "-")
        return None

    def _netvisor_prepare_voucher(self):
        """The voucher of this payslip; raises UserError naming what is missing."""
        self.ensure_one()
        company = self.company_id
        currency = company.currency_id
        voucher_class = (company.netvisor_payslip_voucher_class or "").strip()
        if not voucher_class:
            raise UserError(_(
                "Payslip %(slip)s cannot be sent: set the Netvisor payslip voucher class of company %(company)s "
                "in Settings > Netvisor Integration.", slip=self.display_name, company=company.display_name))
        lines = self.line_ids.filtered(lambda line: not currency.is_zero(line.total))
        if not lines:
            raise UserError(_("Payslip %(slip)s has no line with an amount: there is nothing to book in Netvisor.",
                              slip=self.display_name))
        mappings = self.env["netvisor.payroll.mapping"]._netvisor_mappings(company, lines.salary_rule_id)
        unmapped = lines.filtered(lambda line: line.salary_rule_id.id not in mappings)
        if unmapped:
            codes = sorted({line.code or line.salary_rule_id.name for line in unmapped})
            raise UserError(_(
                "Payslip %(slip)s cannot be sent to Netvisor: these salary rules have no Netvisor account mapping: "
                "%(codes)s. Map each rule or its category in Accounting > Netvisor > Payroll Mapping (tick Not "
                "Booked for subtotals).", slip=self.display_name, codes=", ".join(codes)))
        dimension_name = (company.netvisor_payslip_dimension_name or "").strip()
        sign = -1 if self.credit_note else 1
        employee = self.employee_id
        voucher_lines = []
        for line in lines:
            row = mappings[line.salary_rule_id.id]
            if row.not_booked:
                continue
            amount = xmlutil.to_decimal(currency.round(line.total)) * sign
            dimensions = []
            if row.employee_dimension:
                if not dimension_name:
                    raise UserError(_(
                        "Payslip %(slip)s: the mapping of %(rule)s asks for the employee dimension, but company "
                        "%(company)s has no Netvisor employee dimension name (Settings > Netvisor Integration).",
                        slip=self.display_name, rule=row.display_name, company=company.display_name))
                dimensions = [(dimension_name, employee.name)]
            description = f"{line.code or ''} {line.name} / {employee.name}".strip()
            for account, line_amount in ((row.debit_account, amount), (row.credit_account, -amount)):
                if account:
                    voucher_lines.append(nv_accounting.VoucherLine(
                        amount=line_amount, account=account, description=description,
                        vat_code="NONE", vat_percent=0, dimensions=list(dimensions)))
        if not nv_accounting.nonzero_lines(voucher_lines):
            raise UserError(_(
                "Payslip %(slip)s: every line is mapped as Not Booked, there is nothing to book in Netvisor.",
                slip=self.display_name))
        debit, credit, difference = nv_accounting.totals(voucher_lines)
        if difference:
            raise UserError(_(
                "Payslip %(slip)s is not sent: its Netvisor voucher does not balance (debit %(debit)s, credit "
                "%(credit)s, difference %(difference)s). Check the payroll mapping: what a rule books on a debit "
                "account must be booked on a credit account by the same or another rule.",
                slip=self.display_name,
                debit=formatLang(self.env, float(debit), currency_obj=currency),
                credit=formatLang(self.env, float(credit), currency_obj=currency),
                difference=formatLang(self.env, float(difference), currency_obj=currency)))
        voucher = nv_accounting.Voucher(
            date=self.date_to,
            voucher_class=voucher_class,
            description=f"{self.number or ''} {self.name or ''}".strip(),
            lines=voucher_lines,
        )
        nv_accounting.check_voucher(voucher)
        return voucher

    def _netvisor_in_flight_message(self, voucher):
        debit, _credit, _difference = nv_accounting.totals(voucher.lines)
        return _(
            "Payslip %(slip)s: the voucher is being sent to Netvisor. If this message stays, the sending was "
            "interrupted and Netvisor may or may not have stored it: look in Netvisor for a voucher of class "
            "%(class)s dated %(date)s for %(amount)s, then use \"Found in Netvisor\" or \"Not in Netvisor: Send "
            "Again\" on the payslip.",
            slip=self.display_name, date=format_date(self.env, voucher.date),
            amount=formatLang(self.env, float(debit), currency_obj=self.company_id.currency_id),
            **{"class": voucher.voucher_class})

    def _netvisor_unknown_message(self, voucher, error):
        debit, _credit, _difference = nv_accounting.totals(voucher.lines)
        return _(
            "Payslip %(slip)s: the voucher was sent but no answer came back from Netvisor (%(detail)s), so Netvisor "
            "may or may not have stored it. It is not sent again automatically. Look in Netvisor for a voucher of "
            "class %(class)s dated %(date)s for %(amount)s, then use \"Found in Netvisor\" or \"Not in Netvisor: "
            "Send Again\" on the payslip.",
            slip=self.display_name, detail=error.text, date=format_date(self.env, voucher.date),
            amount=formatLang(self.env, float(debit), currency_obj=self.company_id.currency_id),
            **{"class": voucher.voucher_class})

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
                "title": _("Netvisor: payslips"),
                "message": "\n".join(lines),
                "type": "danger" if failed else ("warning" if skipped else "success"),
                "sticky": bool(failed),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
