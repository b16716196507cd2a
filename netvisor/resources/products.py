"""Products both ways (API.md 5.5): ``productlist.nv``, ``getproduct.nv``, ``product.nv``.

The human key is the product code (``ProductCode``). ``getproduct.nv`` answers OK with
an empty element for an unknown key or code.
"""

from dataclasses import dataclass, fields
from decimal import Decimal

from .. import xmlutil
from ..errors import NetvisorInvalidDataError

MAX_IDLIST = 400  # getproduct.nv idlist / codelist

# Maximum lengths: productcode 50, name 200, unit 50 are documented (API.md 5.5); the
# others are the sandbox's assumption.
MAX_LENGTHS = {
    "code": 50,
    "group": 100,
    "name": 200,
    "description": 2000,
    "unit": 50,
    "primary_ean": 50,
    "secondary_ean": 50,
}


@dataclass
class ProductSummary:
    """One row of ``productlist.nv``."""

    netvisor_key: str
    code: str = ""
    name: str = ""
    unit_price: Decimal = None
    unit_gross_price: Decimal = None
    group_id: str = ""
    group_name: str = ""
    uri: str = ""


@dataclass
class ProductData:
    """A product as sent to (``build_product``) and read from (``get_products``) Netvisor.

    ``unit_price`` is a Decimal (or anything Decimal accepts), ``price_type`` ``net`` or
    ``gross``; ``vat_percent`` None leaves the bookkeeping details out. Empty strings
    are not sent."""

    netvisor_key: str = ""
    code: str = ""
    group: str = ""
    name: str = ""
    description: str = ""
    unit_price: Decimal = None
    price_type: str = "net"
    unit_gross_price: Decimal = None
    unit: str = ""
    purchase_price: Decimal = None
    is_active: bool = True
    is_sales_product: bool = True
    primary_ean: str = ""
    secondary_ean: str = ""
    vat_percent: Decimal = None

    @classmethod
    def from_dict(cls, data):
        if isinstance(data, cls):
            return data
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown product fields {sorted(unknown)}")
        return cls(**data)

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}


def product_problems(data):
    """[(field, max_length, length)] of the values longer than Netvisor accepts."""
    data = ProductData.from_dict(data)
    problems = []
    for name, limit in MAX_LENGTHS.items():
        value = getattr(data, name)
        if isinstance(value, str) and len(value) > limit:
            problems.append((name, limit, len(value)))
    return problems


def build_product(data):
    """The ``<root><product>`` request document in product.dtd order.

    productgroup, name, unitprice, isactive and issalesproduct are required by the DTD
    (for an edit too): raises NetvisorInvalidDataError when one is missing or a value
    is too long."""
    data = ProductData.from_dict(data)
    problems = product_problems(data)
    missing = [name for name in ("group", "name") if not getattr(data, name)]
    if data.unit_price is None:
        missing.append("unit_price")
    if problems or missing:
        raise NetvisorInvalidDataError(", ".join(
            [f"{name} is required" for name in missing]
            + [f"{name} is {length} characters, at most {limit}" for name, limit, length in problems]))
    if data.price_type not in ("net", "gross"):
        raise NetvisorInvalidDataError(f"price type must be net or gross, not {data.price_type!r}")

    def opt(tag, value):
        value = xmlutil.clean_text(value)
        return xmlutil.E(tag, value) if value not in (None, "") else None

    base = xmlutil.E(
        "productbaseinformation", None,
        opt("productcode", data.code),
        xmlutil.E("productgroup", xmlutil.clean_text(data.group)),
        xmlutil.E("name", xmlutil.clean_text(data.name)),
        opt("description", data.description),
        xmlutil.E("unitprice", xmlutil.format_quantity(data.unit_price, 6), type=data.price_type),
        opt("unit", data.unit),
        opt("purchaseprice", None if data.purchase_price is None else xmlutil.format_quantity(data.purchase_price, 6)),
        xmlutil.E("isactive", "1" if data.is_active else "0"),
        xmlutil.E("issalesproduct", "1" if data.is_sales_product else "0"),
        opt("primaryeancode", data.primary_ean),
        opt("secondaryeancode", data.secondary_ean),
    )
    bookkeeping = None
    if data.vat_percent is not None:
        bookkeeping = xmlutil.E(
            "productbookkeepingdetails", None,
            xmlutil.E("defaultvatpercentage", xmlutil.format_quantity(data.vat_percent, 2)))
    return xmlutil.E("root", None, xmlutil.E("product", None, base, bookkeeping))


# ------------------------------------------------------------------ parsers


def _texts(element):
    """{lowercased child name: stripped text} of an element's direct children (first wins)."""
    values = {}
    if element is None:
        return values
    for sub in element:
        name = xmlutil.local(sub.tag).lower()
        if name and name not in values:
            values[name] = (sub.text or "").strip()
    return values


def parse_product_list(root):
    items = []
    for node in xmlutil.children(xmlutil.child(root, "ProductList"), "Product"):
        values = _texts(node)
        items.append(ProductSummary(
            netvisor_key=values.get("netvisorkey", ""),
            code=values.get("productcode", ""),
            name=values.get("name", ""),
            unit_price=xmlutil.parse_decimal(values.get("unitprice")),
            unit_gross_price=xmlutil.parse_decimal(values.get("unitgrossprice")),
            group_id=values.get("productgroupid", ""),
            group_name=values.get("productgroupdescription", ""),
            uri=values.get("uri", ""),
        ))
    return items


def parse_product(node):
    """A ``Product`` element of ``getproduct.nv`` -> ProductData (None when empty)."""
    base_node = xmlutil.child(node, "ProductBaseInformation")
    base = _texts(base_node)
    if not base.get("netvisorkey"):
        return None
    bookkeeping = _texts(xmlutil.child(node, "ProductBookkeepingDetails"))
    additional = _texts(xmlutil.child(node, "ProductAdditionalInformation"))
    price = xmlutil.child(base_node, "UnitPrice")
    price_type = (price.get("type") or "net").lower() if price is not None else "net"
    active = base.get("isactive", "")
    sales = base.get("issalesproduct", "")
    return ProductData(
        netvisor_key=base["netvisorkey"],
        code=base.get("productcode", ""),
        group=base.get("productgroup", ""),
        name=base.get("name", ""),
        description=base.get("description", ""),
        unit_price=xmlutil.parse_decimal(base.get("unitprice"), Decimal(0)),
        # Netvisor's own sample says "brutto" for gross
        price_type="gross" if price_type in ("gross", "brutto") else "net",
        unit_gross_price=xmlutil.parse_decimal(base.get("unitgrossprice")),
        unit=base.get("unit", ""),
        purchase_price=xmlutil.parse_decimal(base.get("purchaseprice")),
        is_active=xmlutil.parse_bool(active) if active else True,
        is_sales_product=xmlutil.parse_bool(sales) if sales else True,
        # EAN codes are in the base information of the import, in either part of the answer
        primary_ean=base.get("primaryeancode") or additional.get("primaryeancode", ""),
        secondary_ean=base.get("secondaryeancode") or additional.get("secondaryeancode", ""),
        vat_percent=xmlutil.parse_decimal(bookkeeping.get("defaultvatpercent")),
    )


def parse_products(root):
    """``getproduct.nv``: ``Products > Product*`` (idlist/codelist) or one ``Product``."""
    container = xmlutil.child(root, "Products")
    nodes = xmlutil.children(container, "Product") if container is not None else xmlutil.children(root, "Product")
    return [product for product in map(parse_product, nodes) if product is not None]


# ------------------------------------------------------------------ calls


def list_products(client, changed_since=None, keyword=None, include_deleted=False):
    """``productlist.nv``: every product (deleted ones left out unless asked), those changed
    since a datetime, or those whose name or code matches ``keyword``."""
    params = {
        "changedsince": changed_since and xmlutil.format_datetime(changed_since),
        "keyword": keyword or None,
        "deleted": None if include_deleted else "0",
    }
    return parse_product_list(client.get("productlist.nv", params).root)


def get_product(client, key=None, code=None):
    """One product by key or by code, or None when Netvisor has none."""
    params = {"id": key} if key else {"code": code}
    products = parse_products(client.get("getproduct.nv", params).root)
    return products[0] if products else None


def get_products(client, keys=None, codes=None):
    """Details of many products, ``MAX_IDLIST`` keys (``idlist``) or codes (``codelist``) per
    request. Unknown keys or codes are simply absent. Returns ProductData items."""
    result = []
    for param, values in (("idlist", keys), ("codelist", codes)):
        values = list(dict.fromkeys(str(v) for v in (values or ()) if v))
        for start in range(0, len(values), MAX_IDLIST):
            chunk = values[start:start + MAX_IDLIST]
            result.extend(parse_products(client.get("getproduct.nv", {param: ",".join(chunk)}).root))
    return result


def add_product(client, data):
    """``product.nv?method=add``; returns the new product's Netvisor key (str)."""
    envelope = client.post("product.nv", build_product(data), {"method": "add"})
    key = envelope.inserted_identifier()
    if not key:
        raise NetvisorInvalidDataError("Netvisor accepted the product but returned no key")
    return key


def edit_product(client, key, data):
    """``product.nv?method=edit&id=key`` (the DTD's required elements are sent again)."""
    client.post("product.nv", build_product(data), {"method": "edit", "id": key})
    return str(key)
