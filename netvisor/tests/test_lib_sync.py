"""Customers and products in the netvisor library: builders in DTD order, parsers,
batching, and a round trip through the sandbox (no Odoo)."""

import datetime
import io
import os
from decimal import Decimal

import pytest
from lxml import etree

from netvisor import errors, signing, xmlutil
from netvisor.envelope import Envelope
from netvisor.resources import customers, products
from netvisor.transport import Client
from netvisor_sandbox import start_sandbox

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "netvisor")
ORG = "1572860-0"
CREDS = signing.Credentials(sender="Test", customer_id="CID", partner_id="PID", organisation_id=ORG,
                            customer_key="customer-key-1", partner_key="partner-key-1")
SEED = {
    "partners": [{"partner_id": "PID", "partner_key": "partner-key-1"}],
    "organisations": [{"organisation_id": ORG,
                       "customers": [{"customer_id": "CID", "customer_key": "customer-key-1"}], "data": {}}],
}


def shared_dtd(name):
    path = os.path.join(SHARED, "xsd", "dtd", name)
    if not os.path.exists(path):
        pytest.skip(f"../shared/netvisor/xsd/dtd/{name} not present")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    inner = text[text.index("[") + 1:text.rindex("]")]
    return etree.DTD(io.StringIO(inner))


def shared_example(name):
    path = os.path.join(SHARED, "examples", name)
    if not os.path.exists(path):
        pytest.skip(f"../shared/netvisor/examples/{name} not present")
    with open(path, "rb") as handle:
        return xmlutil.parse_xml(handle.read())


FULL_CUSTOMER = dict(
    code="C-1", business_id="1572860-0", organization_unit_number="003715728600", name="Testi Oy",
    name_extension="Myynti", street="Katu 1", street2="B 2", city="Helsinki", zip="00100", country="fi",
    group_name="Isot", phone="+358 40 1", fax="09 1", email="a@b.fi", homepage="https://x.fi", is_active=True,
    is_private=False, email_invoicing_address="lasku@b.fi", finvoice_address="003715728600",
    finvoice_router_code="NDEAFIHH",
)


# ------------------------------------------------------------------ builders


def test_customer_document_follows_the_dtd():
    root = customers.build_customer(FULL_CUSTOMER)
    assert shared_dtd("customer.dtd").validate(root), "customer.dtd"
    base = root.find("customer/customerbaseinformation")
    assert [c.tag for c in base] == [e for e, _f in customers.BASE_ORDER]
    assert base.find("country").get("type") == "ISO-3166" and base.find("country").text == "FI"
    assert base.find("isprivatecustomer").text == "0"
    assert root.find("customer/customerfinvoicedetails/finvoiceroutercode").text == "NDEAFIHH"


def test_customer_empty_values_are_never_sent():
    root = customers.build_customer({"name": "Matti", "email": "", "phone": None}, method="edit")
    base = root.find("customer/customerbaseinformation")
    assert [c.tag for c in base] == ["name"]
    assert root.find("customer/customerfinvoicedetails") is None


def test_customer_automatic_code_only_on_add():
    root = customers.build_customer({"name": "X", "automatic_code": True})
    node = root.find("customer/customerbaseinformation/internalidentifier")
    assert node.get("type") == "automatic" and not node.text
    edit = customers.build_customer({"name": "X", "automatic_code": True}, method="edit")
    assert edit.find("customer/customerbaseinformation/internalidentifier") is None


def test_customer_lengths():
    assert customers.customer_problems({"name": "x" * 251, "street": "y" * 80}) == [("name", 250, 251)]
    with pytest.raises(errors.NetvisorInvalidDataError, match="name is 251 characters"):
        customers.build_customer({"name": "x" * 251})
    with pytest.raises(errors.NetvisorInvalidDataError, match="needs a name"):
        customers.build_customer({"email": "a@b.fi"})
    with pytest.raises(ValueError):
        customers.build_customer({"name": "x", "nonsense": 1})


def test_product_document_follows_the_dtd():
    data = dict(code="P-1", group="Kirjat", name="Kirja", description="Toinen painos", unit_price=Decimal("42.5"),
                unit="kpl", purchase_price=Decimal("25"), is_active=True, is_sales_product=True,
                primary_ean="6412345678901", secondary_ean="", vat_percent=Decimal("25.5"))
    root = products.build_product(data)
    assert shared_dtd("product.dtd").validate(root), "product.dtd"
    base = root.find("product/productbaseinformation")
    assert [c.tag for c in base] == ["productcode", "productgroup", "name", "description", "unitprice", "unit",
                                     "purchaseprice", "isactive", "issalesproduct", "primaryeancode"]
    assert base.find("unitprice").get("type") == "net" and base.find("unitprice").text == "42,5"
    assert root.find("product/productbookkeepingdetails/defaultvatpercentage").text == "25,5"


def test_product_minimal_and_required():
    root = products.build_product({"group": "G", "name": "N", "unit_price": 0, "is_active": False})
    assert shared_dtd("product.dtd").validate(root)
    assert root.find("product/productbookkeepingdetails") is None
    assert root.find("product/productbaseinformation/isactive").text == "0"
    with pytest.raises(errors.NetvisorInvalidDataError, match="group is required"):
        products.build_product({"name": "N", "unit_price": 1})
    with pytest.raises(errors.NetvisorInvalidDataError, match="unit_price is required"):
        products.build_product({"name": "N", "group": "G"})
    with pytest.raises(errors.NetvisorInvalidDataError, match="name is 201 characters"):
        products.build_product({"name": "n" * 201, "group": "G", "unit_price": 1})
    with pytest.raises(errors.NetvisorInvalidDataError, match="net or gross"):
        products.build_product({"name": "N", "group": "G", "unit_price": 1, "price_type": "brutto"})


# ------------------------------------------------------------------ parsers on Netvisor's samples


def test_parse_samples():
    listed = customers.parse_customer_list(shared_example("response_customerlist.xml"))
    assert [(c.netvisor_key, c.code, c.business_id) for c in listed] == [("165", "AA", "12345678-9"), ("166", "", "")]
    detail = customers.parse_customers(shared_example("response_getcustomer.xml"))
    assert len(detail) == 1
    one = detail[0]
    assert (one.netvisor_key, one.code, one.business_id, one.country, one.zip) == ("5", "MM", "1234567-8", "FI",
                                                                                    "53100")
    assert one.finvoice_address == "FI002316574613249" and one.is_active is True and one.is_private is None
    plist = products.parse_product_list(shared_example("response_productlist.xml"))
    assert plist[0].unit_price == Decimal("1.96") and plist[0].code == "TT"
    product = products.parse_products(shared_example("response_getproduct.xml"))[0]
    assert product.code == "CC" and product.price_type == "gross" and product.unit_price == Decimal("42.5")
    assert product.vat_percent == Decimal("22.0") and product.is_sales_product is False


def test_parse_empty_product_is_none():
    root = xmlutil.parse_xml(b"<Root><ResponseStatus><Status>OK</Status></ResponseStatus><Product /></Root>")
    assert products.parse_products(root) == []


# ------------------------------------------------------------------ batching (fake client)


class FakeClient:
    def __init__(self, answer):
        self.calls = []
        self.answer = answer

    def get(self, resource, params=None):
        self.calls.append((resource, dict(params or {})))
        return Envelope(root=xmlutil.parse_xml(self.answer(resource, params)))


def _customers_xml(keys):
    inner = "".join(f"<Customer><CustomerBaseInformation><NetvisorKey>{k}</NetvisorKey><Name>N{k}</Name>"
                    f"</CustomerBaseInformation></Customer>" for k in keys)
    return f"<Root><ResponseStatus><Status>OK</Status></ResponseStatus><Customers>{inner}</Customers></Root>"


def test_get_customers_batches_of_500():
    client = FakeClient(lambda r, p: _customers_xml(p["idlist"].split(",")))
    result = customers.get_customers(client, range(1, 1202))
    assert [len(p["idlist"].split(",")) for _r, p in client.calls] == [500, 500, 201]
    assert len(result) == 1201 and result[-1].name == "N1201"


def test_get_customers_skips_a_deleted_key():
    def answer(resource, params):
        keys = params.get("idlist", params.get("id", "")).split(",")
        if "13" in keys:
            raise errors.NetvisorInvalidDataError("Customer not found with Netvisor identifier: 13")
        if "id" in params:
            return _customers_xml(keys).replace("<Customers>", "").replace("</Customers>", "")
        return _customers_xml(keys)

    client = FakeClient(answer)
    result = customers.get_customers(client, ["12", "13", "14"])
    assert [c.netvisor_key for c in result] == ["12", "14"]
    with pytest.raises(errors.NetvisorInvalidDataError):
        customers.get_customers(client, ["13"], skip_missing=False)


def test_list_customers_codes_by_100():
    client = FakeClient(lambda r, p: "<Root><ResponseStatus><Status>OK</Status></ResponseStatus>"
                                     "<Customerlist /></Root>")
    customers.list_customers(client, codes=[f"C{i}" for i in range(250)], keyword="Oy")
    assert [len(p["customercodelist"].split(",")) for _r, p in client.calls] == [100, 100, 50]
    assert all(p["keyword"] == "Oy" for _r, p in client.calls)


def test_get_products_batches_of_400():
    def answer(resource, params):
        values = params.get("idlist", params.get("codelist")).split(",")
        inner = "".join(f"<Product><ProductBaseInformation><NetvisorKey>{v}</NetvisorKey><Name>x</Name>"
                        f"<UnitPrice type=\"net\">1,5</UnitPrice></ProductBaseInformation></Product>" for v in values)
        return f"<Root><ResponseStatus><Status>OK</Status></ResponseStatus><Products>{inner}</Products></Root>"

    client = FakeClient(answer)
    result = products.get_products(client, keys=range(1, 802), codes=["A", "B"])
    assert [(name, len(p[name].split(","))) for _r, p in client.calls for name in p] == [
        ("idlist", 400), ("idlist", 400), ("idlist", 1), ("codelist", 2)]
    assert len(result) == 803 and result[0].unit_price == Decimal("1.5")


# ------------------------------------------------------------------ through the sandbox


@pytest.fixture()
def sandbox():
    server = start_sandbox(SEED)
    yield server
    server.stop()


@pytest.fixture()
def client(sandbox):
    return Client(CREDS, base_url=sandbox.base_url, backoff=0, read_timeout=5)


def test_customer_round_trip(sandbox, client):
    key = customers.add_customer(client, FULL_CUSTOMER)
    assert key.isdigit()
    got = customers.get_customers(client, [key])[0]
    for name, value in FULL_CUSTOMER.items():
        expected = value.upper() if name == "country" else value
        assert getattr(got, name) == expected, name
    customers.edit_customer(client, key, {"email": "new@b.fi", "phone": ""})
    got = customers.get_customers(client, [key])[0]
    assert got.email == "new@b.fi" and got.phone == "+358 40 1"  # empty value not sent
    listed = customers.list_customers(client, keyword="testi")
    assert [(c.netvisor_key, c.code, c.business_id) for c in listed] == [(key, "C-1", "1572860-0")]
    assert customers.list_customers(client, codes=["C-1", "nope"])[0].netvisor_key == key
    future = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(hours=1)
    assert customers.list_customers(client, changed_since=future) == []
    with pytest.raises(errors.NetvisorDuplicateDataError):
        customers.add_customer(client, dict(FULL_CUSTOMER, name="Other"))
    automatic = customers.add_customer(client, {"name": "Auto", "automatic_code": True})
    assert customers.get_customers(client, [automatic])[0].code


def test_product_round_trip(sandbox, client):
    data = dict(code="P-1", group="Kirjat", name="Kirja", unit_price=Decimal("10"), unit="kpl",
                vat_percent=Decimal("25.5"), primary_ean="6412345678901")
    key = products.add_product(client, data)
    got = products.get_product(client, key=key)
    assert (got.code, got.name, got.unit_price, got.vat_percent, got.unit, got.primary_ean) == (
        "P-1", "Kirja", Decimal("10"), Decimal("25.5"), "kpl", "6412345678901")
    assert products.get_product(client, code="P-1").netvisor_key == key
    assert products.get_product(client, code="nope") is None
    assert products.get_product(client, key="999999") is None
    products.edit_product(client, key, dict(data, name="Kirja 2", unit_price=Decimal("12.50")))
    assert products.get_products(client, keys=[key, "999999"])[0].name == "Kirja 2"
    assert [p.netvisor_key for p in products.list_products(client, keyword="kirja")] == [key]
    with pytest.raises(errors.NetvisorDuplicateDataError):
        products.add_product(client, dict(data, name="Other"))
