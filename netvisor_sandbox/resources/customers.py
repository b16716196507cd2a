"""Customers: ``customerlist.nv``, ``getcustomer.nv``, ``customer.nv`` (API.md 5.4).

Seed / state record (collection ``customers``)::

    {"netvisor_key": 165, "code": "AA", "business_id": "1234567-8", "ovt": "003712345678",
     "name": "Anni Asiakas Oy", "name_extension": "", "street": "Katu 1", "street2": "",
     "city": "Helsinki", "zip": "00100", "country": "FI", "group_name": "", "group_id": "",
     "phone": "", "fax": "", "email": "", "homepage": "", "email_invoicing_address": "",
     "is_active": True, "is_private": False, "finvoice_address": "", "finvoice_router_code": "",
     "modified": "2026-05-23T10:00:00"}

``modified`` (UTC, ``yyyy-MM-ddTHH:mm:ss``) is set on every add and edit and drives
``changedsince`` (a customer is listed when ``modified >= changedsince``).

Behaviour chosen where Netvisor's documentation is silent (documented assumptions):

* A customer code (``internalidentifier``) already used by another customer is refused
  with ``DUPLICATE_DATA`` (add and edit); business IDs may repeat (Netvisor allows
  several customers, e.g. offices, with one business ID). Codes are indexed when a record
  is added (``org.add``) or edited through ``customer.nv``: a test that changes a stored
  record's ``code`` by hand bypasses the index.
* ``getcustomer.nv`` with an unknown ``id`` answers FAILED ``INVALID_DATA`` like Netvisor
  (R1 fixture); ``idlist`` does the same when any of its keys is unknown.
* Maximum lengths: name 250, streetaddress 80, internalidentifier 50,
  organizationunitnumber 17 (documented); the rest are generous guesses (see LIMITS).
* ``keyword`` matches (case-insensitively) name, code, business ID and name extension
  and overrides ``changedsince``; ``customercodelist`` takes at most 100 codes and can
  be combined with ``keyword``.
"""

import datetime

from ..xmlio import SandboxFault, check_order, el, invalid, wrap
from . import normalizer, resource

COLLECTION = "customers"
MAX_IDLIST = 500
MAX_CODELIST = 100

BASE_ORDER = [
    "internalidentifier", "externalidentifier", "organizationunitnumber", "name", "nameextension",
    "streetaddress", "additionaladdressline", "city", "postnumber", "country", "customergroupname",
    "phonenumber", "faxnumber", "email", "homepageuri", "isactive", "isprivatecustomer", "emailinvoicingaddress",
]
CUSTOMER_ORDER = [
    "customerbaseinformation", "customerfinvoicedetails", "customermaventaedidetails", "customerdeliverydetails",
    "customercontactdetails", "customeradditionalinformation", "customerdimensiondetails",
]
FINVOICE_ORDER = ["finvoiceaddress", "finvoiceroutercode"]
# element -> record field
FIELDS = {
    "internalidentifier": "code",
    "externalidentifier": "business_id",
    "organizationunitnumber": "ovt",
    "name": "name",
    "nameextension": "name_extension",
    "streetaddress": "street",
    "additionaladdressline": "street2",
    "city": "city",
    "postnumber": "zip",
    "country": "country",
    "customergroupname": "group_name",
    "phonenumber": "phone",
    "faxnumber": "fax",
    "email": "email",
    "homepageuri": "homepage",
    "emailinvoicingaddress": "email_invoicing_address",
    "finvoiceaddress": "finvoice_address",
    "finvoiceroutercode": "finvoice_router_code",
}
LIMITS = {
    "internalidentifier": 50, "externalidentifier": 50, "organizationunitnumber": 17, "name": 250,
    "nameextension": 250, "streetaddress": 80, "additionaladdressline": 80, "city": 80, "postnumber": 20,
    "customergroupname": 100, "phonenumber": 80, "faxnumber": 80, "email": 250,
    "homepageuri": 250, "emailinvoicingaddress": 250, "finvoiceaddress": 35, "finvoiceroutercode": 35,
}


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


@normalizer(COLLECTION)
def normalize(org, item):
    item.setdefault("modified", now_iso())
    item.setdefault("is_active", True)
    item.setdefault("is_private", not item.get("business_id"))
    for name in set(FIELDS.values()) | {"group_id"}:
        if item.get(name) is None:
            item[name] = ""
    _code_index(org).setdefault(item["code"], set()).add(item["netvisor_key"])


def _code_index(org):
    """code -> keys, per organisation (entries are checked against the records on use)."""
    return org.__dict__.setdefault("customer_codes", {})


def _changed_since(value):
    try:
        return datetime.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise invalid(f"Invalid changedsince {value!r}: use yyyy-MM-ddTHH:mm:ss") from None


def _flag(value, what):
    value = (value or "").strip()
    if value not in ("0", "1"):
        raise invalid(f"{what} must be 0 or 1, not {value!r}")
    return value == "1"


# ------------------------------------------------------------------ list


@resource("customerlist.nv", "GET")
def customer_list(request):
    params = request.params
    keyword = (params.get("keyword") or "").strip().lower()
    since = _changed_since(params["changedsince"]) if params.get("changedsince") and not keyword else None
    codes = None
    if params.get("customercodelist"):
        codes = [c.strip() for c in params["customercodelist"].split(",") if c.strip()]
        if len(codes) > MAX_CODELIST:
            raise SandboxFault("INVALID_DATA_SIZE",
                               f"customercodelist has {len(codes)} codes, at most {MAX_CODELIST}")
        codes = set(codes)
    items = []
    collection = request.org.collections[COLLECTION]
    for key in sorted(collection):
        rec = collection[key]
        if since and datetime.datetime.fromisoformat(rec["modified"]) < since:
            continue
        if codes is not None and rec.get("code") not in codes:
            continue
        if keyword and not any(keyword in (rec.get(name) or "").lower()
                               for name in ("name", "code", "business_id", "name_extension")):
            continue
        items.append(wrap(
            "Customer",
            el("Netvisorkey", key),
            el("Name", rec.get("name")),
            el("Code", rec.get("code")),
            el("OrganisationIdentifier", rec.get("business_id")),
            el("CustomerGroupID", rec.get("group_id")),
            el("CustomerGroupName", rec.get("group_name")),
            el("Uri", f"{request.server.base_url}getcustomer.nv?id={key}"),
        ))
    return wrap("Customerlist", *items)


# ------------------------------------------------------------------ detail


def _detail(rec):
    return wrap(
        "Customer",
        wrap(
            "CustomerBaseInformation",
            el("NetvisorKey", rec["netvisor_key"]),
            el("InternalIdentifier", rec.get("code")),
            el("ExternalIdentifier", rec.get("business_id")),
            el("OrganizationUnitNumber", rec.get("ovt")),
            el("CustomerGroupNetvisorKey", rec.get("group_id")),
            el("CustomerGroupName", rec.get("group_name")),
            el("Name", rec.get("name")),
            el("NameExtension", rec.get("name_extension")),
            el("StreetAddress", rec.get("street")),
            el("AdditionalStreetAddress", rec.get("street2")),
            el("City", rec.get("city")),
            el("PostNumber", rec.get("zip")),
            el("Country", rec.get("country"), type="ISO-3166"),
            el("PhoneNumber", rec.get("phone")),
            el("FaxNumber", rec.get("fax")),
            el("Email", rec.get("email")),
            el("EmailInvoicingAddress", rec.get("email_invoicing_address")),
            el("HomePageUri", rec.get("homepage")),
            el("IsActive", "1" if rec.get("is_active", True) else "0"),
            el("IsPrivateCustomer", "1" if rec.get("is_private") else "0"),
        ),
        wrap(
            "CustomerFinvoiceDetails",
            el("FinvoiceAddress", rec.get("finvoice_address")),
            el("FinvoiceRouterCode", rec.get("finvoice_router_code")),
        ),
        wrap("CustomerDeliveryDetails", el("DeliveryName"), el("DeliveryStreetAddress"), el("DeliveryCity"),
             el("DeliveryPostNumber")),
        wrap("CustomerContactDetails", el("ContactPerson"), el("ContactPersonEmail"), el("ContactPersonPhone")),
        wrap("CustomerAdditionalInformation", el("Comment"), el("ReferenceNumber"), el("BalanceLimit"),
             el("YourDefaultReference")),
    )


def _key(value, what="id"):
    try:
        return int(str(value).strip())
    except ValueError:
        raise invalid(f"{what} must be a Netvisor key (a number), not {value!r}") from None


def _not_found(key):
    return invalid(f"Data form incorrect:. Customer not found with Netvisor identifier: {key}")


@resource("getcustomer.nv", "GET")
def get_customer(request):
    params = request.params
    collection = request.org.collections[COLLECTION]
    if params.get("idlist"):
        raw = [k for k in params["idlist"].split(",") if k.strip()]
        if len(raw) > MAX_IDLIST:
            raise SandboxFault("INVALID_DATA_SIZE", f"idlist has {len(raw)} keys, at most {MAX_IDLIST}")
        keys = [_key(k, "idlist") for k in raw]
        for key in keys:
            if key not in collection:
                raise _not_found(key)
        return wrap("Customers", *[_detail(collection[key]) for key in keys])
    if not params.get("id"):
        raise invalid("Parameter id or idlist is required")
    key = _key(params["id"])
    if key not in collection:
        raise _not_found(key)
    return _detail(collection[key])


# ------------------------------------------------------------------ import


def _read_values(customer):
    """Validated values of the request's customer element: {record field: value}."""
    check_order(customer, CUSTOMER_ORDER, "customer")
    base = customer.find("customerbaseinformation")
    if base is None:
        raise invalid("Element customer/customerbaseinformation is required")
    check_order(base, BASE_ORDER, "customerbaseinformation")
    values = {}
    automatic = False
    nodes = list(base)
    finvoice = customer.find("customerfinvoicedetails")
    if finvoice is not None:
        check_order(finvoice, FINVOICE_ORDER, "customerfinvoicedetails")
        nodes += list(finvoice)
    for node in nodes:
        if not isinstance(node.tag, str):
            continue
        if len(node):
            raise invalid(f"Element {node.tag} must not contain elements")
        value = (node.text or "").strip()
        if node.tag == "internalidentifier" and node.get("type") is not None:
            if node.get("type") != "automatic":
                raise invalid(f"internalidentifier type must be automatic, not {node.get('type')!r}")
            if value:
                raise invalid("internalidentifier type=automatic must be empty")
            automatic = True
            continue
        limit = LIMITS.get(node.tag)
        if limit and len(value) > limit:
            raise invalid(f"{node.tag} is {len(value)} characters long, at most {limit} allowed")
        if node.tag == "isactive":
            values["is_active"] = _flag(value, "isactive")
        elif node.tag == "isprivatecustomer":
            values["is_private"] = _flag(value, "isprivatecustomer")
        elif node.tag == "country":
            if node.get("type", "ISO-3166") != "ISO-3166":
                raise invalid("country type must be ISO-3166")
            if value and (len(value) != 2 or not value.isalpha()):
                raise invalid(f"country must be an ISO-3166 alpha-2 code, not {value!r}")
            values["country"] = value.upper()
        else:
            values[FIELDS[node.tag]] = value
    return values, automatic


def _check_code_unique(org, code, own_key=None):
    if not code:
        return
    collection = org.collections[COLLECTION]
    for key in sorted(_code_index(org).get(code, ())):
        if key != own_key and key in collection and collection[key].get("code") == code:
            raise SandboxFault("DUPLICATE_DATA", f"Customer code {code} is already used by customer {key}")


def _next_code(collection):
    numbers = [int(rec["code"]) for rec in collection.values() if str(rec.get("code") or "").isdigit()]
    return str(max(numbers, default=0) + 1)


@resource("customer.nv", "POST")
def import_customer(request):
    method = (request.params.get("method") or "").lower()
    if method not in ("add", "edit"):
        raise invalid("Parameter method must be add or edit")
    root = request.body
    customers = root.findall("customer")
    if len(customers) != 1 or len(root) != 1:
        raise invalid("root must contain exactly one customer element")
    values, automatic = _read_values(customers[0])
    collection = request.org.collections[COLLECTION]
    if method == "add":
        if not values.get("name"):
            raise invalid("Element customerbaseinformation/name is required")
        if automatic:
            values["code"] = _next_code(collection)
        _check_code_unique(request.org, values.get("code"))
        values.setdefault("is_private", not values.get("business_id"))
        values["modified"] = now_iso()
        record = request.org.add(COLLECTION, values)
        return wrap("Replies", el("InsertedDataIdentifier", record["netvisor_key"]))
    if not request.params.get("id"):
        raise invalid("Parameter id is required with method=edit")
    key = _key(request.params["id"])
    if key not in collection:
        raise _not_found(key)
    if "name" in values and not values["name"]:
        raise invalid("Element customerbaseinformation/name must not be empty")
    _check_code_unique(request.org, values.get("code"), own_key=key)
    record = collection[key]
    record.update(values)  # an empty element blanks its field, as in Netvisor
    _code_index(request.org).setdefault(record["code"], set()).add(key)
    record["modified"] = now_iso()
    return ""
