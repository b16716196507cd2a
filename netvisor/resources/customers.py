"""Customers both ways (API.md 5.4): ``customerlist.nv``, ``getcustomer.nv``, ``customer.nv``.

Netvisor's customer key is ``Netvisorkey`` in the list and ``NetvisorKey`` in the
detail; the human key is the customer code (``Code`` / ``InternalIdentifier``).
"""

from dataclasses import dataclass, fields

from .. import xmlutil
from ..errors import NetvisorInvalidDataError

MAX_IDLIST = 500  # getcustomer.nv idlist
MAX_CODELIST = 100  # customerlist.nv customercodelist

# customerbaseinformation, in customer.dtd order: (element, CustomerData field)
BASE_ORDER = (
    ("internalidentifier", "code"),
    ("externalidentifier", "business_id"),
    ("organizationunitnumber", "organization_unit_number"),
    ("name", "name"),
    ("nameextension", "name_extension"),
    ("streetaddress", "street"),
    ("additionaladdressline", "street2"),
    ("city", "city"),
    ("postnumber", "zip"),
    ("country", "country"),
    ("customergroupname", "group_name"),
    ("phonenumber", "phone"),
    ("faxnumber", "fax"),
    ("email", "email"),
    ("homepageuri", "homepage"),
    ("isactive", "is_active"),
    ("isprivatecustomer", "is_private"),
    ("emailinvoicingaddress", "email_invoicing_address"),
)

# Maximum lengths. name, streetaddress, internalidentifier and organizationunitnumber are
# documented (API.md 5.4); the others are not and are the sandbox's assumption (generous).
MAX_LENGTHS = {
    "code": 50,
    "business_id": 50,
    "organization_unit_number": 17,
    "name": 250,
    "name_extension": 250,
    "street": 80,
    "street2": 80,
    "city": 80,
    "zip": 20,
    "country": 2,
    "group_name": 100,
    "phone": 80,
    "fax": 80,
    "email": 250,
    "homepage": 250,
    "email_invoicing_address": 250,
    "finvoice_address": 35,
    "finvoice_router_code": 35,
}


@dataclass
class CustomerSummary:
    """One row of ``customerlist.nv``."""

    netvisor_key: str
    name: str = ""
    code: str = ""
    business_id: str = ""
    group_id: str = ""
    group_name: str = ""
    uri: str = ""


@dataclass
class CustomerData:
    """A customer as sent to (``build_customer``) and read from (``get_customers``) Netvisor.

    Strings; ``None`` or ``""`` means "not given" and is never sent, so an empty Odoo
    value never blanks a filled Netvisor field. ``is_active`` / ``is_private`` are
    booleans or None (not sent)."""

    netvisor_key: str = ""
    code: str = ""
    business_id: str = ""
    organization_unit_number: str = ""
    name: str = ""
    name_extension: str = ""
    street: str = ""
    street2: str = ""
    city: str = ""
    zip: str = ""
    country: str = ""
    group_name: str = ""
    phone: str = ""
    fax: str = ""
    email: str = ""
    homepage: str = ""
    is_active: bool = None
    is_private: bool = None
    email_invoicing_address: str = ""
    finvoice_address: str = ""
    finvoice_router_code: str = ""
    # only with method=add: an empty code asks Netvisor for the next free one
    automatic_code: bool = False

    @classmethod
    def from_dict(cls, data):
        if isinstance(data, cls):
            return data
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown customer fields {sorted(unknown)}")
        return cls(**data)

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}


def customer_problems(data):
    """[(field, max_length, length)] of the values longer than Netvisor accepts."""
    data = CustomerData.from_dict(data)
    problems = []
    for name, limit in MAX_LENGTHS.items():
        value = getattr(data, name)
        if isinstance(value, str) and len(value) > limit:
            problems.append((name, limit, len(value)))
    return problems


def _bool(value):
    return "1" if value else "0"


def build_customer(data, method="add"):
    """The ``<root><customer>`` request document in customer.dtd order.

    ``data``: CustomerData or a dict of its fields. Empty values are left out (on an
    edit Netvisor would blank the field). Raises NetvisorInvalidDataError when a value
    is longer than Netvisor accepts (``customer_problems`` tells which)."""
    data = CustomerData.from_dict(data)
    problems = customer_problems(data)
    if problems:
        raise NetvisorInvalidDataError(", ".join(
            f"{name} is {length} characters, at most {limit}" for name, limit, length in problems))
    if method == "add" and not data.name:
        raise NetvisorInvalidDataError("a new customer needs a name")
    base = []
    for element, name in BASE_ORDER:
        value = getattr(data, name)
        if name == "code" and not value and data.automatic_code and method == "add":
            base.append(xmlutil.E("internalidentifier", None, type="automatic"))
            continue
        if name in ("is_active", "is_private"):
            if value is not None:
                base.append(xmlutil.E(element, _bool(value)))
            continue
        value = xmlutil.clean_text(value)
        if value in (None, ""):
            continue
        if name == "country":
            base.append(xmlutil.E(element, value.upper(), type="ISO-3166"))
        else:
            base.append(xmlutil.E(element, value))
    parts = [xmlutil.E("customerbaseinformation", None, *base)]
    finvoice = [
        xmlutil.E(element, xmlutil.clean_text(value))
        for element, value in (("finvoiceaddress", data.finvoice_address),
                               ("finvoiceroutercode", data.finvoice_router_code))
        if value
    ]
    if finvoice:
        parts.append(xmlutil.E("customerfinvoicedetails", None, *finvoice))
    return xmlutil.E("root", None, xmlutil.E("customer", None, *parts))


# ------------------------------------------------------------------ parsers


def parse_customer_list(root):
    items = []
    for node in xmlutil.children(xmlutil.child(root, "Customerlist"), "Customer"):
        values = _texts(node)
        items.append(CustomerSummary(
            netvisor_key=values.get("netvisorkey", ""),
            name=values.get("name", ""),
            code=values.get("code", ""),
            business_id=values.get("organisationidentifier", ""),
            group_id=values.get("customergroupid", ""),
            group_name=values.get("customergroupname", ""),
            uri=values.get("uri", ""),
        ))
    return items


def _texts(element):
    """{lowercased child name: stripped text} of an element's direct children (first wins).

    One pass per element instead of one scan per field: details come by the thousand."""
    values = {}
    if element is None:
        return values
    for sub in element:
        name = xmlutil.local(sub.tag).lower()
        if name and name not in values:
            values[name] = (sub.text or "").strip()
    return values


def parse_customer(node):
    """A ``Customer`` element of ``getcustomer.nv`` -> CustomerData (None when empty)."""
    base_node = xmlutil.child(node, "CustomerBaseInformation")
    if base_node is None:
        return None
    base = _texts(base_node)
    finvoice = _texts(xmlutil.child(node, "CustomerFinvoiceDetails"))
    active = base.get("isactive", "")
    private = base.get("isprivatecustomer", "")
    return CustomerData(
        netvisor_key=base.get("netvisorkey", ""),
        code=base.get("internalidentifier", ""),
        business_id=base.get("externalidentifier", ""),
        organization_unit_number=base.get("organizationunitnumber", ""),
        name=base.get("name", ""),
        name_extension=base.get("nameextension", ""),
        street=base.get("streetaddress", ""),
        # the detail says AdditionalStreetAddress, the import additionaladdressline
        street2=base.get("additionalstreetaddress") or base.get("additionaladdressline", ""),
        city=base.get("city", ""),
        zip=base.get("postnumber", ""),
        country=base.get("country", "").upper(),
        group_name=base.get("customergroupname", ""),
        phone=base.get("phonenumber", ""),
        fax=base.get("faxnumber", ""),
        email=base.get("email", ""),
        homepage=base.get("homepageuri", ""),
        is_active=xmlutil.parse_bool(active) if active else None,
        is_private=xmlutil.parse_bool(private) if private else None,
        email_invoicing_address=base.get("emailinvoicingaddress", ""),
        finvoice_address=finvoice.get("finvoiceaddress", ""),
        finvoice_router_code=finvoice.get("finvoiceroutercode", ""),
    )


def parse_customers(root):
    """``getcustomer.nv``: ``Customers > Customer*`` (idlist) or one ``Customer`` (id)."""
    container = xmlutil.child(root, "Customers")
    nodes = xmlutil.children(container, "Customer") if container is not None else xmlutil.children(root, "Customer")
    return [customer for customer in map(parse_customer, nodes) if customer is not None]


# ------------------------------------------------------------------ calls


def list_customers(client, changed_since=None, keyword=None, codes=None):
    """``customerlist.nv``: every customer, those changed since a datetime, those matching a
    keyword (name, code, business ID; overrides changed_since) or a list of codes (asked
    100 at a time). Returns CustomerSummary items."""
    base = {
        "keyword": keyword or None,
        "changedsince": changed_since and xmlutil.format_datetime(changed_since),
    }
    if codes is None:
        return parse_customer_list(client.get("customerlist.nv", base).root)
    codes = [str(c) for c in codes if c]
    items = []
    for start in range(0, len(codes), MAX_CODELIST):
        chunk = codes[start:start + MAX_CODELIST]
        params = dict(base, customercodelist=",".join(chunk))
        items.extend(parse_customer_list(client.get("customerlist.nv", params).root))
    return items


def get_customer(client, key):
    """One customer's details; raises NetvisorInvalidDataError when Netvisor has no such key."""
    customers = parse_customers(client.get("getcustomer.nv", {"id": key}).root)
    if not customers:
        raise NetvisorInvalidDataError(f"Customer not found with Netvisor identifier: {key}")
    return customers[0]


def get_customers(client, keys, skip_missing=True):
    """Details of many customers, asked ``MAX_IDLIST`` keys per request (``idlist``).

    Netvisor answers INVALID_DATA for an unknown key, which fails its whole batch: with
    ``skip_missing`` such a batch is asked again key by key and unknown keys are left out
    (a customer deleted between the list and the detail). Returns CustomerData items."""
    keys = list(dict.fromkeys(str(k) for k in keys if k))
    result = []
    for start in range(0, len(keys), MAX_IDLIST):
        chunk = keys[start:start + MAX_IDLIST]
        try:
            result.extend(parse_customers(client.get("getcustomer.nv", {"idlist": ",".join(chunk)}).root))
        except NetvisorInvalidDataError:
            if not skip_missing:
                raise
            for key in chunk:
                try:
                    result.append(get_customer(client, key))
                except NetvisorInvalidDataError:
                    continue
    return result


def add_customer(client, data):
    """``customer.nv?method=add``; returns the new customer's Netvisor key (str)."""
    envelope = client.post("customer.nv", build_customer(data, "add"), {"method": "add"})
    key = envelope.inserted_identifier()
    if not key:
        raise NetvisorInvalidDataError("Netvisor accepted the customer but returned no key")
    return key


def edit_customer(client, key, data):
    """``customer.nv?method=edit&id=key``: only the non-empty values of ``data`` are sent."""
    client.post("customer.nv", build_customer(data, "edit"), {"method": "edit", "id": key})
    return str(key)
