"""Sandbox customers and products: list, batched detail, add/edit with Netvisor's checks (no Odoo)."""

import datetime
import hashlib
import hmac
import time
import uuid

import pytest
import requests
from lxml import etree

from netvisor_sandbox import start_sandbox

PARTNER = ("PID", "partner-key")
CUSTOMER = ("CID", "customer-key")
ORG = "0737546-2"
SEED = {
    "partners": [{"partner_id": PARTNER[0], "partner_key": PARTNER[1]}],
    "organisations": [{"organisation_id": ORG,
                       "customers": [{"customer_id": CUSTOMER[0], "customer_key": CUSTOMER[1]}],
                       "data": {
                           "customers": [
                               {"netvisor_key": 10, "code": "A1", "business_id": "1572860-0", "name": "Alfa Oy",
                                "street": "Katu 1", "zip": "00100", "city": "Helsinki", "country": "FI",
                                "modified": "2026-01-01T10:00:00"},
                               {"netvisor_key": 11, "code": "B2", "name": "Bertta Bee",
                                "modified": "2026-03-01T10:00:00"},
                           ],
                           "products": [
                               {"netvisor_key": 20, "code": "P1", "name": "Kahvi", "unit_price": "10",
                                "vat_percent": "14", "modified": "2026-01-01T10:00:00"},
                               {"netvisor_key": 21, "code": "P2", "name": "Tee", "unit_price": "12.4",
                                "price_type": "gross", "vat_percent": "24", "deleted": True,
                                "modified": "2026-03-01T10:00:00"},
                           ],
                       }}],
}


@pytest.fixture()
def sandbox():
    server = start_sandbox(SEED)
    yield server
    server.stop()


def headers_for(url):
    now = datetime.datetime.now(datetime.timezone.utc)
    timestamp = now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d}"
    unix = str(int(now.timestamp()))
    transaction_id = uuid.uuid4().hex
    message = "&".join([url, "Test", CUSTOMER[0], timestamp, "FI", ORG, transaction_id, unix,
                        CUSTOMER[1], PARTNER[1]])
    mac = hmac.new(f"{CUSTOMER[1]}&{PARTNER[1]}".encode("latin-1"), message.encode("latin-1"),
                   hashlib.sha256).hexdigest()
    return {
        "X-Netvisor-Authentication-Sender": "Test",
        "X-Netvisor-Authentication-CustomerId": CUSTOMER[0],
        "X-Netvisor-Authentication-PartnerId": PARTNER[0],
        "X-Netvisor-Authentication-Timestamp": timestamp,
        "X-Netvisor-Authentication-TimestampUnix": unix,
        "X-Netvisor-Authentication-TransactionId": transaction_id,
        "X-Netvisor-Interface-Language": "FI",
        "X-Netvisor-Organisation-ID": ORG,
        "X-Netvisor-Authentication-MACHashCalculationAlgorithm": "HMACSHA256",
        "X-Netvisor-Authentication-MAC": mac,
        "X-Netvisor-Authentication-UseHTTPResponseStatusCodes": "1",
    }


def call(sandbox, path, body=None):
    url = sandbox.base_url + path
    if body is None:
        response = requests.get(url, headers=headers_for(url), timeout=10)
    else:
        response = requests.post(url, data=body.encode("utf-8"), headers=headers_for(url), timeout=10)
    root = etree.fromstring(response.content)
    statuses = [s.text for s in root.find("ResponseStatus").findall("Status")]
    return response.status_code, statuses, root


def ok(sandbox, path, body=None):
    status, statuses, root = call(sandbox, path, body)
    assert statuses == ["OK"], statuses
    return root


def failed(sandbox, path, body=None):
    status, statuses, _root = call(sandbox, path, body)
    assert statuses[0] == "FAILED", statuses
    return status, statuses[1]


def customer_xml(base, extra=""):
    return f"<root><customer><customerbaseinformation>{base}</customerbaseinformation>{extra}</customer></root>"


def product_xml(base, extra=""):
    return f"<root><product><productbaseinformation>{base}</productbaseinformation>{extra}</product></root>"


REQUIRED_PRODUCT = ("<productgroup>G</productgroup><name>Uusi</name><unitprice type=\"net\">5,5</unitprice>"
                    "<isactive>1</isactive><issalesproduct>1</issalesproduct>")


# ------------------------------------------------------------------ customers


def test_customer_list_filters(sandbox):
    keys = lambda root: [c.findtext("Netvisorkey") for c in root.find("Customerlist")]  # noqa: E731
    assert keys(ok(sandbox, "customerlist.nv")) == ["10", "11"]
    assert keys(ok(sandbox, "customerlist.nv?changedsince=2026-02-01T00:00:00")) == ["11"]
    assert keys(ok(sandbox, "customerlist.nv?keyword=1572860")) == ["10"]
    # keyword overrides changedsince
    assert keys(ok(sandbox, "customerlist.nv?keyword=alfa&changedsince=2026-02-01T00:00:00")) == ["10"]
    assert keys(ok(sandbox, "customerlist.nv?customercodelist=B2,ZZ")) == ["11"]
    row = ok(sandbox, "customerlist.nv?keyword=alfa").find("Customerlist/Customer")
    assert row.findtext("OrganisationIdentifier") == "1572860-0" and row.findtext("Code") == "A1"
    status, text = failed(sandbox, "customerlist.nv?changedsince=yesterday")
    assert status == 400 and text.startswith("INVALID_DATA")
    codes = ",".join(f"C{i}" for i in range(101))
    assert failed(sandbox, f"customerlist.nv?customercodelist={codes}")[1].startswith("INVALID_DATA_SIZE")


def test_get_customer_single_and_batch(sandbox):
    root = ok(sandbox, "getcustomer.nv?id=10")
    base = root.find("Customer/CustomerBaseInformation")
    assert base.findtext("NetvisorKey") == "10" and base.findtext("InternalIdentifier") == "A1"
    assert base.findtext("ExternalIdentifier") == "1572860-0" and base.find("Country").get("type") == "ISO-3166"
    root = ok(sandbox, "getcustomer.nv?idlist=11,10")
    assert [c.findtext("CustomerBaseInformation/NetvisorKey") for c in root.find("Customers")] == ["11", "10"]
    status, text = failed(sandbox, "getcustomer.nv?id=999")
    assert text == "INVALID_DATA :: Data form incorrect:. Customer not found with Netvisor identifier: 999"
    assert "999" in failed(sandbox, "getcustomer.nv?idlist=10,999")[1]
    too_many = ",".join(str(i) for i in range(501))
    assert failed(sandbox, f"getcustomer.nv?idlist={too_many}")[1].startswith("INVALID_DATA_SIZE")


def test_customer_add_and_edit(sandbox):
    before = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    body = customer_xml("<internalidentifier>N1</internalidentifier><externalidentifier>0737546-2"
                        "</externalidentifier><name>Uusi Oy</name><streetaddress>Tie 3</streetaddress>"
                        "<country type=\"ISO-3166\">fi</country><isactive>1</isactive>"
                        "<isprivatecustomer>0</isprivatecustomer>",
                        "<customerfinvoicedetails><finvoiceaddress>003707375462</finvoiceaddress>"
                        "</customerfinvoicedetails>")
    key = int(ok(sandbox, "customer.nv?method=add", body).findtext("Replies/InsertedDataIdentifier"))
    record = sandbox.org(ORG).collections["customers"][key]
    assert (record["code"], record["country"], record["finvoice_address"], record["is_private"]) == (
        "N1", "FI", "003707375462", False)
    assert datetime.datetime.fromisoformat(record["modified"]) >= before
    time.sleep(1.1)
    ok(sandbox, f"customer.nv?method=edit&id={key}", customer_xml("<phonenumber /><email>a@b.fi</email>"))
    assert record["email"] == "a@b.fi" and record["name"] == "Uusi Oy" and record["phone"] == ""
    since = (datetime.datetime.fromisoformat(record["modified"])).strftime("%Y-%m-%dT%H:%M:%S")
    listed = ok(sandbox, f"customerlist.nv?changedsince={since}")
    assert [c.findtext("Netvisorkey") for c in listed.find("Customerlist")] == [str(key)]


def test_customer_automatic_code(sandbox):
    body = customer_xml("<internalidentifier type=\"automatic\" /><name>Auto</name>")
    key = int(ok(sandbox, "customer.nv?method=add", body).findtext("Replies/InsertedDataIdentifier"))
    assert sandbox.org(ORG).collections["customers"][key]["code"]


@pytest.mark.parametrize("body, message", [
    (customer_xml("<name>X</name><internalidentifier>Z</internalidentifier>"), "out of order"),
    (customer_xml("<name>X</name><vatnumber>1</vatnumber>"), "Unknown element"),
    (customer_xml("<email>x@y.fi</email>"), "name is required"),
    (customer_xml("<name>" + "N" * 251 + "</name>"), "at most 250"),
    (customer_xml("<name>X</name><streetaddress>" + "S" * 81 + "</streetaddress>"), "at most 80"),
    (customer_xml("<internalidentifier>" + "C" * 51 + "</internalidentifier><name>X</name>"), "at most 50"),
    (customer_xml("<name>X</name><country>Finland</country>"), "ISO-3166"),
    (customer_xml("<name>X</name><isactive>yes</isactive>"), "0 or 1"),
    ("<root><customer><customerfinvoicedetails /></customer></root>", "customerbaseinformation"),
])
def test_customer_add_refused(sandbox, body, message):
    status, text = failed(sandbox, "customer.nv?method=add", body)
    assert status == 400 and text.startswith("INVALID_DATA") and message in text, text


def test_customer_duplicate_code_and_unknown_edit(sandbox):
    status, text = failed(sandbox, "customer.nv?method=add", customer_xml(
        "<internalidentifier>A1</internalidentifier><name>Kopio</name>"))
    assert text.startswith("DUPLICATE_DATA") and status == 400
    assert failed(sandbox, "customer.nv?method=edit&id=11",
                  customer_xml("<internalidentifier>A1</internalidentifier>"))[1].startswith("DUPLICATE_DATA")
    assert "not found" in failed(sandbox, "customer.nv?method=edit&id=999", customer_xml("<name>X</name>"))[1]
    assert "method" in failed(sandbox, "customer.nv", customer_xml("<name>X</name>"))[1]
    # its own code again is fine
    ok(sandbox, "customer.nv?method=edit&id=10", customer_xml("<internalidentifier>A1</internalidentifier>"))
    # a code freed by an edit can be used again, the new one cannot
    ok(sandbox, "customer.nv?method=edit&id=11", customer_xml("<internalidentifier>B3</internalidentifier>"))
    ok(sandbox, "customer.nv?method=add", customer_xml("<internalidentifier>B2</internalidentifier><name>U</name>"))
    assert failed(sandbox, "customer.nv?method=add", customer_xml(
        "<internalidentifier>B3</internalidentifier><name>V</name>"))[1].startswith("DUPLICATE_DATA")


# ------------------------------------------------------------------ products


def test_product_list_filters(sandbox):
    keys = lambda root: [p.findtext("NetvisorKey") for p in root.find("ProductList")]  # noqa: E731
    assert keys(ok(sandbox, "productlist.nv")) == ["20", "21"]
    assert keys(ok(sandbox, "productlist.nv?deleted=0")) == ["20"]
    assert keys(ok(sandbox, "productlist.nv?changedsince=2026-02-01T00:00:00")) == ["21"]
    assert keys(ok(sandbox, "productlist.nv?keyword=kah")) == ["20"]
    row = ok(sandbox, "productlist.nv?keyword=tee").find("ProductList/Product")
    assert row.findtext("UnitGrossPrice").startswith("12,4") and row.findtext("UnitPrice").startswith("10,0")


def test_get_product(sandbox):
    base = ok(sandbox, "getproduct.nv?id=20").find("Product/ProductBaseInformation")
    assert base.findtext("ProductCode") == "P1" and base.find("UnitPrice").get("type") == "net"
    detail = ok(sandbox, "getproduct.nv?code=P1").find("Product")
    assert detail.findtext("ProductBookkeepingDetails/DefaultVatPercent") == "14,0"
    empty = ok(sandbox, "getproduct.nv?id=999").find("Product")
    assert empty is not None and len(empty) == 0
    assert len(ok(sandbox, "getproduct.nv?code=NOPE").find("Product")) == 0
    batch = ok(sandbox, "getproduct.nv?idlist=20,999,21").find("Products")
    assert [p.findtext("ProductBaseInformation/NetvisorKey") for p in batch] == ["20", "21"]
    assert len(ok(sandbox, "getproduct.nv?codelist=P1,P2").find("Products")) == 1  # P2 is deleted
    too_many = ",".join(str(i) for i in range(401))
    assert failed(sandbox, f"getproduct.nv?idlist={too_many}")[1].startswith("INVALID_DATA_SIZE")


def test_product_add_and_edit(sandbox):
    body = product_xml("<productcode>N1</productcode>" + REQUIRED_PRODUCT + "<primaryeancode>641</primaryeancode>",
                       "<productbookkeepingdetails><defaultvatpercentage>25,5</defaultvatpercentage>"
                       "</productbookkeepingdetails>")
    key = int(ok(sandbox, "product.nv?method=add", body).findtext("Replies/InsertedDataIdentifier"))
    record = sandbox.org(ORG).collections["products"][key]
    assert (record["code"], record["unit_price"], record["vat_percent"], record["primary_ean"]) == (
        "N1", "5.5", "25.5", "641")
    ok(sandbox, f"product.nv?method=edit&id={key}", product_xml(REQUIRED_PRODUCT.replace("Uusi", "Vanha")))
    assert record["name"] == "Vanha" and record["code"] == "N1"
    assert failed(sandbox, "product.nv?method=add", product_xml("<productcode>P1</productcode>" + REQUIRED_PRODUCT)
                  )[1].startswith("DUPLICATE_DATA")
    # a deleted product's code can be used again
    ok(sandbox, "product.nv?method=add", product_xml("<productcode>P2</productcode>" + REQUIRED_PRODUCT))


@pytest.mark.parametrize("body, message", [
    (product_xml(REQUIRED_PRODUCT.replace("<productgroup>G</productgroup>", "")), "productgroup is required"),
    (product_xml(REQUIRED_PRODUCT.replace("<issalesproduct>1</issalesproduct>", "")), "issalesproduct is required"),
    (product_xml(REQUIRED_PRODUCT.replace("<name>Uusi</name>", "<name>" + "N" * 201 + "</name>")), "at most 200"),
    (product_xml(REQUIRED_PRODUCT + "<productcode>X</productcode>"), "out of order"),
    (product_xml(REQUIRED_PRODUCT.replace("type=\"net\"", "type=\"brutto\"")), "net or gross"),
    (product_xml(REQUIRED_PRODUCT.replace("5,5", "5,5.0")), "both separators"),
    (product_xml(REQUIRED_PRODUCT, "<productbookkeepingdetails><defaultvatpercentage>23</defaultvatpercentage>"
                                   "</productbookkeepingdetails>"), "not a Finnish VAT rate"),
])
def test_product_add_refused(sandbox, body, message):
    status, text = failed(sandbox, "product.nv?method=add", body)
    assert status == 400 and text.startswith("INVALID_DATA") and message in text, text


def test_product_edit_unknown(sandbox):
    assert "not found" in failed(sandbox, "product.nv?method=edit&id=999", product_xml(REQUIRED_PRODUCT))[1]
    assert "not found" in failed(sandbox, "product.nv?method=edit&id=21", product_xml(REQUIRED_PRODUCT))[1]
