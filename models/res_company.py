import contextlib
import email.utils
import logging
import time

from odoo import _, api, fields, models, modules, tools
from odoo.exceptions import UserError, ValidationError

from .. import netvisor
from ..netvisor import errors as nv_errors
from ..netvisor.resources import purchase_invoices as nv_purchase
from ..netvisor.transport import redact
from ..netvisor.validation import is_valid_business_id, normalize_business_id, url_problem

_logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://integration.netvisor.fi/"
TEST_BASE_URL = "https://isvapi.netvisor.fi/"
SENDER = "Odoo netvisor_integration"
# first key of the two-int advisory lock: "NV" (0x4E56), the second is the company id
ADVISORY_LOCK_CLASS = 0x4E56


class ResCompany(models.Model):
    _inherit = "res.company"

    netvisor_partner_id = fields.Char(string="Netvisor Partner ID", groups="base.group_system")
    netvisor_partner_key = fields.Char(string="Netvisor Partner Key", groups="base.group_system", copy=False)
    netvisor_customer_id = fields.Char(string="Netvisor Customer ID", groups="base.group_system")
    netvisor_customer_key = fields.Char(string="Netvisor Customer Key", groups="base.group_system", copy=False)
    netvisor_organisation_id = fields.Char(
        string="Netvisor Organisation ID",
        help="Business ID (Y-tunnus) of the company in Netvisor, in the form 1234567-8.")
    netvisor_base_url = fields.Char(string="Netvisor API Base URL", default=DEFAULT_BASE_URL,
                                    groups="base.group_system")
    netvisor_language = fields.Selection(
        [("FI", "Finnish"), ("EN", "English"), ("SE", "Swedish")],
        string="Netvisor Interface Language", default="FI",
        help="Language of the error texts that Netvisor returns.")
    netvisor_auto_send_invoice = fields.Boolean(
        string="Auto-send Invoices on Confirm",
        help="Posting a customer invoice queues it; it is sent to Netvisor right after the posting is saved.")
    netvisor_auto_send_payslip = fields.Boolean(
        string="Auto-send Payslips on Confirm",
        help="Confirming a payslip queues it; it is sent to Netvisor as a voucher right after the confirmation.")
    netvisor_configured = fields.Boolean(compute="_compute_netvisor_configured")

    # ------------------------------------------------------------------ computes

    @api.depends_context("uid")
    @api.depends("netvisor_organisation_id")
    def _compute_netvisor_configured(self):
        for company in self:
            company_sudo = company.sudo()
            company.netvisor_configured = all((
                company_sudo.netvisor_partner_id, company_sudo.netvisor_partner_key,
                company_sudo.netvisor_customer_id, company_sudo.netvisor_customer_key,
                company_sudo.netvisor_organisation_id, company_sudo.netvisor_base_url,
            ))

    # ------------------------------------------------------------------ constraints

    @api.constrains("netvisor_organisation_id")
    def _check_netvisor_organisation_id(self):
        for company in self:
            value = company.netvisor_organisation_id
            if value and not is_valid_business_id(value):
                raise ValidationError(_(
                    "Company %(company)s: the Netvisor Organisation ID %(value)s is not a valid business ID "
                    "(Y-tunnus). Use the form 1234567-8 with its check digit, as printed in the Finnish "
                    "Trade Register.", company=company.display_name, value=value))

    @api.constrains("netvisor_base_url")
    def _check_netvisor_base_url(self):
        for company in self.sudo():
            url = company.netvisor_base_url
            problem = url and url_problem(url)
            if problem == "format":
                raise ValidationError(_(
                    "Company %(company)s: the Netvisor API Base URL %(url)s is not a valid URL. "
                    "Use %(default)s for production or %(test)s for Netvisor's test environment.",
                    company=company.display_name, url=url, default=DEFAULT_BASE_URL, test=TEST_BASE_URL))
            if problem == "https":
                raise ValidationError(_(
                    "Company %(company)s: the Netvisor API Base URL %(url)s must use https:// "
                    "(plain http is only allowed for a local sandbox on localhost).",
                    company=company.display_name, url=url))

    # ------------------------------------------------------------------ CRUD

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._netvisor_normalize_vals(vals) for vals in vals_list])

    def write(self, vals):
        return super().write(self._netvisor_normalize_vals(vals))

    @api.model
    def _netvisor_normalize_vals(self, vals):
        if vals.get("netvisor_organisation_id"):
            vals = dict(vals, netvisor_organisation_id=normalize_business_id(vals["netvisor_organisation_id"]))
        for name in ("netvisor_partner_id", "netvisor_partner_key", "netvisor_customer_id",
                     "netvisor_customer_key", "netvisor_base_url"):
            if isinstance(vals.get(name), str):
                vals = dict(vals, **{name: vals[name].strip() or False})
        return vals

    # ------------------------------------------------------------------ business: client

    def _netvisor_check_configured(self):
        """Raise a UserError naming the missing settings of this company."""
        self.ensure_one()
        company = self.sudo()
        labels = {
            "netvisor_partner_id": _("Partner ID"),
            "netvisor_partner_key": _("Partner Key"),
            "netvisor_customer_id": _("Customer ID"),
            "netvisor_customer_key": _("Customer Key"),
            "netvisor_organisation_id": _("Organisation ID"),
            "netvisor_base_url": _("API Base URL"),
        }
        missing = [label for name, label in labels.items() if not company[name]]
        if missing:
            raise UserError(_(
                "Netvisor is not configured for company %(company)s: fill in %(fields)s in "
                "Settings > Netvisor Integration.", company=self.display_name, fields=", ".join(missing)))

    @api.model
    def _netvisor_configured_companies(self):
        return self.sudo().search([]).filtered("netvisor_configured")

    def _netvisor_credentials(self):
        self.ensure_one()
        self._netvisor_check_configured()
        company = self.sudo()
        return netvisor.Credentials(
            sender=SENDER,
            customer_id=company.netvisor_customer_id,
            partner_id=company.netvisor_partner_id,
            organisation_id=company.netvisor_organisation_id,
            customer_key=company.netvisor_customer_key,
            partner_key=company.netvisor_partner_key,
            language=company.netvisor_language or "FI",
        )

    def _netvisor_client(self, flow="connection"):
        """A Netvisor client for this company: one request at a time per company across
        workers (PostgreSQL advisory lock), every exchange written to the Netvisor log."""
        self.ensure_one()
        params = self.env["ir.config_parameter"].sudo()
        credentials = self._netvisor_credentials()
        client = netvisor.Client(
            credentials,
            base_url=self.sudo().netvisor_base_url,
            connect_timeout=float(params.get_param("netvisor_integration.connect_timeout", 10)),
            read_timeout=float(params.get_param("netvisor_integration.read_timeout", 120)),
            max_attempts=int(params.get_param("netvisor_integration.max_attempts", 3)),
            backoff=float(params.get_param("netvisor_integration.backoff", 2)),
            lock=self._netvisor_request_lock,
        )
        log_model = self.env["netvisor.log"].sudo()
        secrets = credentials.secrets()
        company_id = self.id

        def on_exchange(exchange):
            log_model._log_exchange(company_id, flow, exchange, secrets)

        client.on_exchange = on_exchange
        return client

    @contextlib.contextmanager
    def _netvisor_request_lock(self):
        """Session-level advisory lock on a separate connection, held for one HTTP request,
        so that Netvisor gets one request at a time per company from all Odoo workers."""
        self.ensure_one()
        timeout = float(self.env["ir.config_parameter"].sudo().get_param(
            "netvisor_integration.lock_timeout", 600))
        cr = self.env.registry.cursor()
        try:
            deadline = time.monotonic() + timeout
            while True:
                cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (ADVISORY_LOCK_CLASS, self.id))
                if cr.fetchone()[0]:
                    break
                if time.monotonic() > deadline:
                    raise nv_errors.NetvisorTransientError(
                        f"another Odoo worker has been talking to Netvisor for company {self.id} "
                        f"for more than {int(timeout)} s", category="LOCKED")
                time.sleep(0.05)
            try:
                yield
            finally:
                cr.execute("SELECT pg_advisory_unlock(%s, %s)", (ADVISORY_LOCK_CLASS, self.id))
        finally:
            cr.rollback()
            cr.close()

    @api.model
    def _netvisor_commit(self):
        """Commit between records in crons so a crash keeps what was done (never in tests)."""
        if not modules.module.current_test and not tools.config.get("test_enable"):
            self.env.cr.commit()

    # ------------------------------------------------------------------ business: errors

    def _netvisor_secrets(self):
        """The keys of these companies (to take out of any text that is shown or stored)."""
        return tuple(key for company in self.sudo()
                     for key in (company.netvisor_partner_key, company.netvisor_customer_key) if key)

    def _netvisor_redact(self, text):
        """``text`` with the companies' keys replaced by ``***``."""
        return redact(text, self._netvisor_secrets()) if text else text

    def _netvisor_error_message(self, error):
        """A translated, actionable explanation of a Netvisor or transport error."""
        self.ensure_one()
        url = self.sudo().netvisor_base_url or DEFAULT_BASE_URL
        detail = error.text if isinstance(error, nv_errors.NetvisorError) else str(error)
        # Netvisor (or a proxy in between) may echo what it got: never show or store the keys
        detail = self._netvisor_redact(detail)
        if isinstance(error, nv_errors.NetvisorAuthenticationError):
            skew = self._netvisor_clock_skew(error)
            if skew is not None:
                return _(
                    "Netvisor refused the request because this server's clock is %(skew)s seconds off "
                    "Netvisor's. Synchronise the server clock (NTP) and try again. Netvisor said: %(detail)s",
                    skew=skew, detail=detail)
            return _(
                "Netvisor refused the credentials of company %(company)s: %(detail)s\n"
                "Check the Partner ID and key, the Customer ID and key and the Organisation ID. "
                "Test-environment keys only work with %(test)s and production keys with %(prod)s "
                "(current URL: %(url)s). API identifiers stop working when the Netvisor user who created "
                "them loses access to the company: create new ones, preferably for a dedicated integration user.",
                company=self.display_name, detail=detail, test=TEST_BASE_URL, prod=DEFAULT_BASE_URL, url=url)
        if isinstance(error, nv_errors.NetvisorServiceAccessError):
            return _(
                "Netvisor denied access to the resource %(resource)s: %(detail)s\n"
                "A Netvisor administrator must enable it for this API user under Company > API identifiers "
                "> Rights of interface resources.", resource=error.resource or "", detail=detail)
        if isinstance(error, nv_errors.NetvisorMaintenanceError):
            return _("Netvisor is under maintenance; the operation will be retried later. (%(detail)s)",
                     detail=detail)
        if isinstance(error, nv_errors.NetvisorConnectionError):
            return _(
                "Netvisor could not be reached at %(url)s (%(detail)s). Check the API Base URL and that "
                "this server can open outgoing HTTPS connections.", url=url, detail=detail)
        if isinstance(error, nv_errors.NetvisorTimeoutError):
            return _("Netvisor at %(url)s did not answer in time (%(detail)s). Try again later.",
                     url=url, detail=detail)
        if isinstance(error, nv_errors.NetvisorBadResponseError):
            return _(
                "The server at %(url)s did not answer like Netvisor (%(detail)s). Check the API Base URL: "
                "production is %(prod)s, the test environment %(test)s.",
                url=url, detail=detail, prod=DEFAULT_BASE_URL, test=TEST_BASE_URL)
        if isinstance(error, nv_errors.NetvisorOutcomeUnknownError):
            return _(
                "The request reached Netvisor but no answer came back (%(detail)s): Netvisor may or may "
                "not have stored it. It is looked up in Netvisor before anything is sent again.",
                detail=detail)
        if isinstance(error, nv_errors.NetvisorTechnicalError):
            return _("Netvisor reported a technical error (%(detail)s). It will be retried later.",
                     detail=detail)
        if isinstance(error, nv_errors.NetvisorPeriodLockError):
            return _("The accounting period is locked in Netvisor: %(detail)s", detail=detail)
        if isinstance(error, nv_errors.NetvisorDuplicateDataError):
            return _("Netvisor already has this data: %(detail)s", detail=detail)
        if isinstance(error, nv_errors.NetvisorInvalidDataError):
            return _("Netvisor refused the data: %(detail)s", detail=detail)
        if isinstance(error, nv_errors.NetvisorXMLSecurityError):
            return _("The answer from Netvisor was refused as unsafe XML: %(detail)s", detail=detail)
        return _("Netvisor error: %(detail)s", detail=detail)

    @api.model
    def _netvisor_clock_skew(self, error):
        """Seconds between this server's clock and the answer's Date header, when over a minute."""
        if not getattr(error, "server_date", None):
            return None
        try:
            server_time = email.utils.parsedate_to_datetime(error.server_date).timestamp()
        except (TypeError, ValueError):
            return None
        skew = int(time.time() - server_time)
        return skew if abs(skew) > 60 else None

    # ------------------------------------------------------------------ business: test connection

    def _netvisor_test_connection(self):
        """Fetch today's purchase invoices. Returns (ok, message)."""
        self.ensure_one()
        try:
            client = self._netvisor_client(flow="connection")
        except UserError as error:
            return False, str(error.args[0])
        today = fields.Date.context_today(self)
        run = self.env["netvisor.run"]._netvisor_start(self, "connection", trigger="manual")
        try:
            invoices = nv_purchase.list_purchase_invoices(client, begin_date=today, end_date=today)
        except nv_errors.NetvisorError as error:
            message = self._netvisor_error_message(error)
            run._netvisor_finish(error=message)
            return False, message
        run._netvisor_finish(done=1)
        return True, _(
            "Connection to Netvisor works for company %(company)s (organisation %(org)s): "
            "%(count)s purchase invoice(s) dated today.",
            company=self.display_name, org=self.netvisor_organisation_id, count=len(invoices))
