import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..netvisor import errors as nv_errors
from ..netvisor.resources import customers as nv_customers
from ..netvisor.validation import is_valid_business_id, normalize_business_id

# Netvisor customer field (netvisor.resources.customers.CustomerData) -> res.partner field
CUSTOMER_FIELDS = {
    "code": "ref",
    "business_id": "company_registry",
    "name": "name",
    "street": "street",
    "street2": "street2",
    "city": "city",
    "zip": "zip",
    "country": "country_id",
    "email": "email",
    "phone": "phone",
    "finvoice_address": "netvisor_einvoice_address",
    "finvoice_router_code": "netvisor_einvoice_operator",
}
# the fields compared and synced, in this order
SYNCED_CUSTOMER_FIELDS = tuple(CUSTOMER_FIELDS)
_SPACES = re.compile(r"\s+")


def normalize_text(value):
    """Case- and space-insensitive form of a name or street."""
    return _SPACES.sub(" ", (value or "").strip()).casefold()


def normalize_zip(value):
    return re.sub(r"[\s-]", "", value or "").upper()


def customer_field_equal(name, left, right):
    """Whether two values of a synced customer field are the same for the sync."""
    left, right = left or "", right or ""
    if name in ("zip", "business_id", "finvoice_address"):
        return normalize_zip(left) == normalize_zip(right)
    if name == "phone":
        return re.sub(r"[^\d+]", "", left) == re.sub(r"[^\d+]", "", right)
    if name == "country":
        return left.upper() == right.upper()
    return normalize_text(left) == normalize_text(right)


class ResPartner(models.Model):
    _inherit = "res.partner"

    netvisor_customer_key = fields.Char(
        string="Netvisor Customer Key", compute="_compute_netvisor_customer_key",
        help="Key of this customer in the Netvisor of the current company (empty: not linked yet).")
    netvisor_einvoice_address = fields.Char(
        string="E-invoice Address",
        help="Finvoice e-invoice address (OVT code or IBAN) synced with Netvisor's customer card.")
    netvisor_einvoice_operator = fields.Char(
        string="E-invoice Operator",
        help="Finvoice operator (router) code, e.g. NDEAFIHH, synced with Netvisor's customer card.")

    # ------------------------------------------------------------------ computes

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_netvisor_customer_key(self):
        links = self.env["netvisor.link"]._netvisor_links(
            self.env.company, "res.partner", self.commercial_partner_id.ids)
        for partner in self:
            link = links.get(partner.commercial_partner_id.id)
            partner.netvisor_customer_key = link.netvisor_key if link else False

    # ------------------------------------------------------------------ CRUD

    def unlink(self):
        self.env["netvisor.link"]._netvisor_unlink_records(self)
        return super().unlink()

    # ------------------------------------------------------------------ business: mapping

    def _netvisor_field_label(self, name):
        """The translated label of the Odoo field behind a Netvisor customer field."""
        fname = CUSTOMER_FIELDS.get(name, name)
        field = self._fields.get(fname)
        return field._description_string(self.env) if field else name

    def _netvisor_is_finnish(self):
        self.ensure_one()
        return not self.country_id or self.country_id.code == "FI"

    def _netvisor_business_id(self):
        """(business ID for Netvisor, Odoo field it comes from): the Company ID (Y-tunnus),
        else the one inside a Finnish VAT number, else a foreign VAT number as it is."""
        self.ensure_one()
        registry = (self.company_registry or "").strip()
        vat = (self.vat or "").strip()
        if registry:
            return (normalize_business_id(registry) if self._netvisor_is_finnish() else registry), "company_registry"
        if vat:
            if vat.upper().startswith("FI") or self._netvisor_is_finnish():
                return normalize_business_id(vat), "vat"
            return vat, "vat"
        return "", False

    def _netvisor_customer_data(self, company, check=True):
        """The Netvisor customer (dict of CustomerData fields) of this commercial partner.

        With ``check``, raise a UserError naming the partner and the field for what
        Netvisor would refuse: a company without business ID, an invalid Finnish business
        ID, a value longer than Netvisor accepts."""
        self.ensure_one()
        business_id, source = self._netvisor_business_id()
        data = {
            "code": (self.ref or "").strip(),
            "business_id": business_id if self.is_company or source == "company_registry" else "",
            "name": (self.name or "").strip(),
            "street": (self.street or "").strip(),
            "street2": (self.street2 or "").strip(),
            "city": (self.city or "").strip(),
            "zip": (self.zip or "").strip(),
            "country": self.country_id.code or "",
            "email": (self.email_normalized or self.email or "").strip(),
            "phone": (self.phone or self.mobile or "").strip(),
            "finvoice_address": (self.netvisor_einvoice_address or "").strip(),
            "finvoice_router_code": (self.netvisor_einvoice_operator or "").strip(),
            "is_private": not self.is_company,
        }
        if check:
            self._netvisor_check_customer_data(data, source)
        return data

    def _netvisor_check_customer_data(self, data, source, names=None, new=True):
        """Raise the UserError of ``_netvisor_customer_problem``, if any."""
        problem = self._netvisor_customer_problem(data, source, names=names, new=new)
        if problem:
            raise UserError(problem)

    def _netvisor_customer_problem(self, data, source=None, names=None, new=True):
        """Why Netvisor would refuse ``data`` (only its fields ``names``, all by default), naming
        the partner and the field, or None. ``new``: the customer is to be created."""
        self.ensure_one()
        names = set(data) if names is None else set(names)
        if new and not data["name"]:
            return _("Contact %(id)s has no name: Netvisor needs one.", id=self.id)
        if new and self.is_company and not data["business_id"]:
            return _(
                "Customer %(partner)s is a company without a business ID: fill in its %(field)s (Y-tunnus) "
                "or %(vat)s before it goes to Netvisor.", partner=self.display_name,
                field=self._netvisor_field_label("business_id"), vat=self._fields["vat"]._description_string(self.env))
        if ("business_id" in names and data["business_id"] and self._netvisor_is_finnish()
                and not is_valid_business_id(data["business_id"])):
            source = source or self._netvisor_business_id()[1]
            return _(
                "Customer %(partner)s: %(value)s in %(field)s is not a valid Finnish business ID (Y-tunnus, "
                "form 1234567-8 with its check digit).", partner=self.display_name, value=data["business_id"],
                field=self._fields[source]._description_string(self.env))
        problems = [p for p in nv_customers.customer_problems(data) if p[0] in names]
        if problems:
            name, limit, length = problems[0]
            return _(
                "Customer %(partner)s: %(field)s is %(length)s characters long; Netvisor accepts at most "
                "%(limit)s.", partner=self.display_name, field=self._netvisor_field_label(name),
                length=length, limit=limit)
        return None

    @api.model
    def _netvisor_partner_values(self, data, names=None, countries=None):
        """res.partner values for the non-empty Netvisor customer fields ``names`` (all synced
        fields by default) of ``data`` (CustomerData). ``countries``: {code: res.country} cache."""
        names = SYNCED_CUSTOMER_FIELDS if names is None else names
        values = {}
        for name in names:
            value = getattr(data, name) or ""
            if not value:
                continue  # an empty value never wipes a filled one
            if name == "country":
                if countries is None:
                    country = self.env["res.country"].search([("code", "=", value.upper())], limit=1)
                else:
                    country = countries.get(value.upper())
                if country:
                    values["country_id"] = country.id
            elif name == "business_id":
                values["company_registry"] = value
            else:
                values[CUSTOMER_FIELDS[name]] = value
        return values

    @api.model
    def _netvisor_new_partner_values(self, data, countries=None):
        """Values to create an Odoo partner from a Netvisor customer."""
        values = self._netvisor_partner_values(data, countries=countries)
        is_company = not data.is_private if data.is_private is not None else bool(data.business_id)
        values.update(is_company=is_company, customer_rank=1)
        if not is_company:
            values.pop("company_registry", None)
        elif data.business_id and is_valid_business_id(data.business_id) and data.country in ("", "FI"):
            values["vat"] = "FI" + data.business_id.replace("-", "")
        return values

    # ------------------------------------------------------------------ business: keys

    def _netvisor_get_customer_key(self, company):
        """Netvisor key of this partner's commercial partner in ``company``, or False."""
        self.ensure_one()
        return self.env["netvisor.link"]._netvisor_key_for(company, self.commercial_partner_id)

    def _netvisor_ensure_customer(self, client, company):
        """The Netvisor customer key (str) of this partner's commercial partner in ``company``.

        When it has none, an existing Netvisor customer with the same business ID (exactly
        one) is linked, else the customer is created with ``customer.nv?method=add``.
        Raises UserError for data Netvisor would refuse (naming the partner and the
        field) and when several Netvisor customers could be this one (never guessed);
        Netvisor errors propagate as netvisor exceptions."""
        self.ensure_one()
        partner = self.commercial_partner_id
        key = partner._netvisor_get_customer_key(company)
        if key:
            return key
        data = partner._netvisor_customer_data(company)
        previous_context = client.context
        client.context = {"res_model": "res.partner", "res_id": partner.id}
        try:
            key = partner._netvisor_create_customer(client, data)
        finally:
            client.context = previous_context
        self.env["netvisor.link"]._netvisor_set_link(
            company, partner, key, code=data["code"] or None, sync_date=fields.Datetime.now())
        return key

    def _netvisor_create_customer(self, client, data):
        """Key of the Netvisor customer for ``data``: an existing one with the same business ID,
        else a new one (customer.nv add)."""
        self.ensure_one()
        partner = self
        key = partner._netvisor_find_customer(client, data)
        if not key:
            try:
                key = nv_customers.add_customer(client, dict(data, automatic_code=not data["code"]))
            except nv_errors.NetvisorDuplicateDataError:
                key = partner._netvisor_find_customer(client, data, by_code=True)
                if not key:
                    raise UserError(_(
                        "Customer %(partner)s: the %(field)s %(code)s is already used by another customer in "
                        "Netvisor. Change it in Odoo, or link the two with the Netvisor customer sync.",
                        partner=partner.display_name, field=partner._netvisor_field_label("code"),
                        code=data["code"])) from None
            except nv_errors.NetvisorOutcomeUnknownError:
                # it may have been stored: look it up before anyone sends it again
                key = partner._netvisor_find_customer(client, data, by_code=True, by_name=True)
                if not key:
                    raise
        return key

    def _netvisor_find_customer(self, client, data, by_code=False, by_name=False):
        """Key of the one Netvisor customer that is this partner (business ID, then code when
        asked), False when none; UserError when several are."""
        self.ensure_one()
        found = []
        if data["business_id"]:
            found = [c for c in nv_customers.list_customers(client, keyword=data["business_id"])
                     if customer_field_equal("business_id", c.business_id, data["business_id"])]
        if not found and by_code and data["code"]:
            found = [c for c in nv_customers.list_customers(client, codes=[data["code"]])
                     if c.code == data["code"] and (
                         customer_field_equal("name", c.name, data["name"])
                         or data["business_id"] and customer_field_equal("business_id", c.business_id,
                                                                         data["business_id"]))]
        if not found and by_name:
            found = [c for c in nv_customers.list_customers(client, keyword=data["name"])
                     if customer_field_equal("name", c.name, data["name"])
                     and (not data["business_id"] or customer_field_equal("business_id", c.business_id,
                                                                           data["business_id"]))]
        if len(found) > 1:
            raise UserError(_(
                "Customer %(partner)s matches %(count)s customers in Netvisor (%(keys)s); the right one is not "
                "guessed. Link it with Settings > Netvisor Integration > Sync customers.",
                partner=self.display_name, count=len(found), keys=", ".join(c.netvisor_key for c in found)))
        return found[0].netvisor_key if found else False
