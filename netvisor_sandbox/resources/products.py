"""Products: ``productlist.nv``, ``getproduct.nv``, ``product.nv`` (API.md 5.5).

Seed / state record (collection ``products``)::

    {"netvisor_key": 165, "code": "TT", "group": "Tuotteet", "group_id": 1, "name": "Testituote",
     "description": "", "unit_price": "1.96", "price_type": "net", "unit": "kpl",
     "purchase_price": "0", "vat_percent": "25.5", "is_active": True, "is_sales_product": True,
     "primary_ean": "", "secondary_ean": "", "published": True, "deleted": False,
     "modified": "2026-05-23T10:00:00"}

``unit_price`` is the price in the given ``price_type``; the other one is derived with
``vat_percent``. ``modified`` (UTC) is set on every add and edit and drives
``changedsince`` (listed when ``modified >= changedsince``).

Behaviour chosen where Netvisor's documentation is silent (documented assumptions):

* A product code already used by another (not deleted) product is refused with
  ``DUPLICATE_DATA`` (add and edit). Codes are indexed when a record is added
  (``org.add``) or edited through ``product.nv``: changing a stored record's ``code`` by
  hand bypasses the index.
* ``getproduct.nv`` answers OK with an empty ``Product`` element for an unknown ``id`` or
  ``code`` (R1 fixture); ``idlist`` / ``codelist`` (at most 400) leave unknown ones out.
* An edit must carry the DTD's required elements again (productgroup, name, unitprice,
  isactive, issalesproduct); optional elements left out keep their value.
* Product groups and units are created on the fly (as Netvisor does).
* Lengths: productcode 50, name 200, unit 50 (documented); productgroup 100,
  description 2000 and EAN codes 50 are guesses.
"""

import datetime
from decimal import Decimal

from ..xmlio import SandboxFault, check_order, dec, el, fmt, invalid, wrap
from . import normalizer, resource

COLLECTION = "products"
MAX_IDLIST = 400

BASE_ORDER = [
    "productcode", "productgroup", "name", "description", "unitprice", "unit", "unitweight", "kaukevaproductcode",
    "purchaseprice", "tariffheading", "comissionpercentage", "isactive", "issalesproduct", "inventoryenabled",
    "countryoforigin", "primaryeancode", "secondaryeancode",
]
REQUIRED = ["productgroup", "name", "unitprice", "isactive", "issalesproduct"]
PRODUCT_ORDER = ["productbaseinformation", "productbookkeepingdetails", "productadditionalinformation"]
BOOKKEEPING_ORDER = [
    "defaultvatpercentage", "defaultdomesticaccountnumber", "defaulteuaccountnumber", "defaultoutsideeuaccountnumber",
]
FIELDS = {
    "productcode": "code",
    "productgroup": "group",
    "name": "name",
    "description": "description",
    "unit": "unit",
    "tariffheading": "tariff_heading",
    "primaryeancode": "primary_ean",
    "secondaryeancode": "secondary_ean",
    "kaukevaproductcode": "kaukeva_code",
    "countryoforigin": "country_of_origin",
}
LIMITS = {"productcode": 50, "productgroup": 100, "name": 200, "description": 2000, "unit": 50,
          "primaryeancode": 50, "secondaryeancode": 50}
FINNISH_RATES = (Decimal(0), Decimal(10), Decimal("13.5"), Decimal(14), Decimal(24), Decimal("25.5"))


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


@normalizer(COLLECTION)
def normalize(org, item):
    item.setdefault("modified", now_iso())
    item.setdefault("group", "Tuotteet")
    item.setdefault("price_type", "net")
    item.setdefault("unit_price", "0")
    item.setdefault("vat_percent", "25.5")
    item.setdefault("is_active", True)
    item.setdefault("is_sales_product", True)
    item.setdefault("published", True)
    item.setdefault("deleted", False)
    for name in set(FIELDS.values()) | {"purchase_price"}:
        if item.get(name) is None:
            item[name] = ""
    groups = org.__dict__.setdefault("product_groups", {})  # group name -> id, per organisation
    if item["group"] not in groups:
        groups[item["group"]] = len(groups) + 1
    item["group_id"] = groups[item["group"]]
    _code_index(org).setdefault(item["code"], set()).add(item["netvisor_key"])


def _code_index(org):
    """code -> keys, per organisation (entries are checked against the records on use)."""
    return org.__dict__.setdefault("product_codes", {})


def _prices(rec):
    price = Decimal(str(rec.get("unit_price") or 0))
    vat = Decimal(str(rec.get("vat_percent") or 0))
    if rec.get("price_type") == "gross":
        return price / (1 + vat / 100), price
    return price, price * (1 + vat / 100)


def _flag(value, what):
    if value is None:
        return None
    value = value.strip()
    if value not in ("0", "1"):
        raise invalid(f"{what} must be 0 or 1, not {value!r}")
    return value == "1"


def _code_taken(org, code, own_key=None):
    collection = org.collections[COLLECTION]
    return bool(code) and any(
        key != own_key and key in collection and not collection[key].get("deleted")
        and collection[key].get("code") == code
        for key in _code_index(org).get(code, ()))


# ------------------------------------------------------------------ list


@resource("productlist.nv", "GET")
def product_list(request):
    params = request.params
    since = None
    if params.get("changedsince"):
        try:
            since = datetime.datetime.fromisoformat(params["changedsince"].strip())
        except ValueError:
            raise invalid(f"Invalid changedsince {params['changedsince']!r}: use yyyy-MM-ddTHH:mm:ss") from None
    keyword = (params.get("keyword") or "").strip().lower()
    deleted = _flag(params.get("deleted"), "deleted")
    published = _flag(params.get("published"), "published")
    unpublished = _flag(params.get("unpublished"), "unpublished")
    items = []
    collection = request.org.collections[COLLECTION]
    for key in sorted(collection):
        rec = collection[key]
        if since and datetime.datetime.fromisoformat(rec["modified"]) < since:
            continue
        if keyword and not any(keyword in (rec.get(name) or "").lower() for name in ("name", "code")):
            continue
        if deleted is False and rec.get("deleted"):
            continue
        if published is False and rec.get("published"):
            continue
        if unpublished is False and not rec.get("published"):
            continue
        net, gross = _prices(rec)
        items.append(wrap(
            "Product",
            el("NetvisorKey", key),
            el("ProductCode", rec.get("code")),
            el("Name", rec.get("name")),
            el("UnitPrice", fmt(net, 12)),
            el("UnitGrossPrice", fmt(gross, 12)),
            el("ProductGroupID", rec.get("group_id")),
            el("ProductGroupDescription", rec.get("group")),
            el("Uri", f"{request.server.base_url}getproduct.nv?id={key}"),
        ))
    return wrap("ProductList", *items)


# ------------------------------------------------------------------ detail


def _detail(rec):
    net, gross = _prices(rec)
    return wrap(
        "Product",
        wrap(
            "ProductBaseInformation",
            el("NetvisorKey", rec["netvisor_key"]),
            el("ProductCode", rec.get("code")),
            el("ProductGroup", rec.get("group")),
            el("Name", rec.get("name")),
            el("Description", rec.get("description")),
            el("UnitPrice", fmt(net, 12), type="net"),
            el("UnitGrossPrice", fmt(gross, 12), type="gross"),
            el("Unit", rec.get("unit")),
            el("PurchasePrice", fmt(rec.get("purchase_price") or 0, 4)),
            el("TariffHeading", rec.get("tariff_heading")),
            el("ComissionPercentage", fmt(0, 1)),
            el("IsActive", "1" if rec.get("is_active", True) else "0"),
            el("IsSalesProduct", "1" if rec.get("is_sales_product", True) else "0"),
            el("CountryOfOrigin", rec.get("country_of_origin"), type="ISO-3166"),
            el("PrimaryEanCode", rec.get("primary_ean")),
            el("SecondaryEanCode", rec.get("secondary_ean")),
        ),
        wrap(
            "ProductBookkeepingDetails",
            el("DefaultVatPercent", fmt(rec.get("vat_percent") or 0, 1)),
            el("DefaultDomesticAccountNumber", "3000"),
            el("DefaultEuAccountNumber", "3360"),
            el("DefaultOutsideEUAccountNumber", "3380"),
        ),
        wrap(
            "ProductInventoryDetails",
            el("InventoryAmount", fmt(0)),
            el("InventoryMidPrice", fmt(0)),
            el("InventoryValue", fmt(0, 4)),
            el("InventoryReservedAmount", fmt(0)),
            el("InventoryOrderedAmount", fmt(0)),
        ),
    )


def _key(value, what="id"):
    try:
        return int(str(value).strip())
    except ValueError:
        raise invalid(f"{what} must be a Netvisor key (a number), not {value!r}") from None


@resource("getproduct.nv", "GET")
def get_product(request):
    params = request.params
    collection = request.org.collections[COLLECTION]
    for name in ("idlist", "codelist"):
        if params.get(name):
            raw = [v.strip() for v in params[name].split(",") if v.strip()]
            if len(raw) > MAX_IDLIST:
                raise SandboxFault("INVALID_DATA_SIZE", f"{name} has {len(raw)} values, at most {MAX_IDLIST}")
            if name == "idlist":
                found = [collection[k] for k in (_key(v, "idlist") for v in raw) if k in collection]
            else:
                wanted = set(raw)
                found = [rec for _k, rec in sorted(collection.items())
                         if rec.get("code") in wanted and not rec.get("deleted")]
            return wrap("Products", *[_detail(rec) for rec in found])
    if params.get("id"):
        key = _key(params["id"])
        return _detail(collection[key]) if key in collection else "<Product />"
    for name, field in (("code", "code"), ("eancode", "primary_ean")):
        if params.get(name):
            value = params[name].strip()
            for _k, rec in sorted(collection.items()):
                if rec.get(field) == value and not rec.get("deleted"):
                    return _detail(rec)
            return "<Product />"
    raise invalid("Parameter id, idlist, code, codelist or eancode is required")


# ------------------------------------------------------------------ import


def _read_values(product):
    check_order(product, PRODUCT_ORDER, "product")
    base = product.find("productbaseinformation")
    if base is None:
        raise invalid("Element product/productbaseinformation is required")
    check_order(base, BASE_ORDER, "productbaseinformation")
    present = {node.tag for node in base if isinstance(node.tag, str)}
    for name in REQUIRED:
        if name not in present:
            raise invalid(f"Element productbaseinformation/{name} is required")
    values = {}
    for node in base:
        if not isinstance(node.tag, str):
            continue
        value = (node.text or "").strip()
        limit = LIMITS.get(node.tag)
        if limit and len(value) > limit:
            raise invalid(f"{node.tag} is {len(value)} characters long, at most {limit} allowed")
        if node.tag in ("productgroup", "name", "unitprice", "isactive", "issalesproduct") and not value:
            raise invalid(f"Element productbaseinformation/{node.tag} must not be empty")
        if node.tag == "unitprice":
            price_type = node.get("type")
            if price_type not in ("net", "gross"):
                raise invalid("unitprice type must be net or gross")
            values["unit_price"] = str(dec(value))
            values["price_type"] = price_type
        elif node.tag == "purchaseprice":
            values["purchase_price"] = str(dec(value)) if value else ""
        elif node.tag in ("isactive", "issalesproduct", "inventoryenabled"):
            flag = _flag(value, node.tag)
            if node.tag != "inventoryenabled":
                values["is_active" if node.tag == "isactive" else "is_sales_product"] = flag
        elif node.tag in FIELDS:
            values[FIELDS[node.tag]] = value
    bookkeeping = product.find("productbookkeepingdetails")
    if bookkeeping is not None:
        check_order(bookkeeping, BOOKKEEPING_ORDER, "productbookkeepingdetails")
        vat = bookkeeping.find("defaultvatpercentage")
        if vat is None or not (vat.text or "").strip():
            raise invalid("Element productbookkeepingdetails/defaultvatpercentage is required")
        percent = dec(vat.text)
        if percent not in FINNISH_RATES:
            raise invalid(f"defaultvatpercentage {vat.text.strip()} is not a Finnish VAT rate")
        values["vat_percent"] = str(percent)
    return values


@resource("product.nv", "POST")
def import_product(request):
    method = (request.params.get("method") or "").lower()
    if method not in ("add", "edit"):
        raise invalid("Parameter method must be add or edit")
    for name in ("useonlyexistingdimensions", "checkdimensionvalidityperiod"):
        if request.params.get(name) not in (None, "0", "1"):
            raise invalid(f"Parameter {name} must be 0 or 1")
    root = request.body
    products = root.findall("product")
    if len(products) != 1 or len(root) != 1:
        raise invalid("root must contain exactly one product element")
    values = _read_values(products[0])
    collection = request.org.collections[COLLECTION]
    if method == "add":
        if _code_taken(request.org, values.get("code")):
            raise SandboxFault("DUPLICATE_DATA", f"Product code {values['code']} is already in use")
        values["modified"] = now_iso()
        record = request.org.add(COLLECTION, values)
        return wrap("Replies", el("InsertedDataIdentifier", record["netvisor_key"]))
    if not request.params.get("id"):
        raise invalid("Parameter id is required with method=edit")
    key = _key(request.params["id"])
    if key not in collection or collection[key].get("deleted"):
        raise invalid(f"Product not found with Netvisor identifier: {key}")
    if _code_taken(request.org, values.get("code"), own_key=key):
        raise SandboxFault("DUPLICATE_DATA", f"Product code {values['code']} is already in use")
    record = collection[key]
    record.update(values)
    record["modified"] = now_iso()
    normalize(request.org, record)
    return ""
