"""Accounting vouchers: ``POST accounting.nv`` (API.md 5.7 A, ``accounting.dtd``).

Stricter than we know Netvisor to be on one point, on purpose: an unbalanced voucher is
rejected (Netvisor books the difference to its rounding account; a client that sends one
has a bug). Unknown voucher classes are rejected, and unknown account numbers too when the
organisation has an ``accounts`` collection.

Collections of an organisation::

    "voucher_classes": [{"name": "Palkka", "abbreviation": "PA"}, ...]
        Known voucher classes (types), matched by full name, case-insensitively. When none
        is seeded the defaults below are used (Finnish and English system names).
    "accounts": [{"number": "5000", "name": "Palkat"}, ...]
        Optional chart of accounts; when seeded, line account numbers must be in it.
    "vouchers": [{"netvisor_key": 1, "number": 1, "voucher_class": "Palkka", "date": "2026-01-31",
                  "description": "...", "calculation_mode": "net",
                  "lines": [{"amount": "4800.00", "account": "5000", "description": "...",
                             "line_type": "net", "vat_code": "NONE", "vat_percent": "0",
                             "account_dimension": None,
                             "dimensions": [{"name": "Henkilöstö", "item": "Maija Meikäläinen"}]}],
                  "attachments": [{"filename": "x.pdf", "content_type": "application/pdf",
                                   "description": "", "base64": "..."}]}]
        Stored vouchers (written by accounting.nv; may be seeded).
"""

import base64
import binascii
from decimal import Decimal

from ..xmlio import ansi_date, check_order, child_text, dec, el, invalid, wrap
from . import normalizer, resource

COLLECTION = "vouchers"
CLASSES = "voucher_classes"
ACCOUNTS = "accounts"

DEFAULT_VOUCHER_CLASSES = [
    {"name": "Palkka", "abbreviation": "PA"},
    {"name": "Pay", "abbreviation": "PA"},
    {"name": "Muu tosite", "abbreviation": "MU"},
    {"name": "Others", "abbreviation": "MU"},
    {"name": "Ostolasku", "abbreviation": "OL"},
    {"name": "Purchase invoice", "abbreviation": "OL"},
    {"name": "Myyntilasku", "abbreviation": "ML"},
    {"name": "Sales invoice", "abbreviation": "ML"},
    {"name": "Tuodut tapahtumat", "abbreviation": "PUMP"},
    {"name": "Imported transactions", "abbreviation": "PUMP"},
]

VOUCHER_ORDER = ("calculationmode", "voucherdate", "number", "description", "voucherclass", "checked", "comment",
                 "voucherline", "voucherattachments")
LINE_ORDER = ("linesum", "description", "accountnumber", "vatpercent", "skipaccrual", "accountdimension",
              "dimension")
DIMENSION_ORDER = ("dimensionname", "dimensionitem")
ATTACHMENT_ORDER = ("mimetype", "attachmentdescription", "filename", "documentdata")

# API.md 5.8: VAT code -> accepted percentages (Decimal strings)
_STANDARD = ("0", "10", "14", "24", "25.5")
VAT_RATES = {
    "NONE": ("0",), "KOMY": _STANDARD, "KOMY0": ("0",), "EUMY": ("0",), "EUUM": ("0",),
    "KOOS": _STANDARD, "EUOS": _STANDARD, "EUPO": _STANDARD, "EUUO": ("0",), "100": ("0",),
    "EUPM312": ("0",), "EUPM309": ("0",), "MUUL": ("0", "10", "14", "24"),
    "EVTO": _STANDARD, "EVPO": _STANDARD, "EVKV": _STANDARD, "KAVE": _STANDARD,
    "RAMY": ("0",), "RAOS": _STANDARD, "EVRO": _STANDARD, "MAAL": _STANDARD, "EVMA": _STANDARD,
}


@normalizer(CLASSES)
def normalize_class(org, item):
    item.setdefault("abbreviation", "")


@normalizer(COLLECTION)
def normalize_voucher(org, item):
    item.setdefault("calculation_mode", "net")
    item.setdefault("description", "")
    item.setdefault("lines", [])
    item.setdefault("attachments", [])


def voucher_classes(org):
    """The organisation's voucher classes; the defaults are stored on first use."""
    classes = org.collections[CLASSES]
    if not classes:
        for item in DEFAULT_VOUCHER_CLASSES:
            org.add(CLASSES, dict(item))
    return org.collections[CLASSES]


def _find_class(org, name):
    wanted = name.strip().lower()
    for item in voucher_classes(org).values():
        if item["name"].strip().lower() == wanted:
            return item
    return None


def _known_accounts(org):
    return {str(item.get("number")).strip() for item in org.collections[ACCOUNTS].values()}


def _vat(line, where):
    node = line.find("vatpercent")
    if node is None or node.text is None or not node.text.strip():
        raise invalid(f"{where}: vatpercent is required")
    percent = dec(node.text)
    code = (node.get("vatcode") or "").strip().upper()
    if not code:
        code = "NONE" if percent == 0 else "KOOS"  # Netvisor takes the account's default code
    if code not in VAT_RATES:
        raise invalid(f"{where}: unknown VAT code {code}")
    if not any(percent == Decimal(rate) for rate in VAT_RATES[code]):
        raise invalid(f"{where}: VAT code {code} does not accept {node.text.strip()} %")
    return code, percent


def _dimensions(parent, where):
    result = []
    for dimension in parent.findall("dimension"):
        check_order(dimension, DIMENSION_ORDER, f"{where}/dimension")
        name = child_text(dimension, "dimensionname")
        item = child_text(dimension, "dimensionitem")
        if not name or not item:
            raise invalid(f"{where}/dimension: dimensionname and dimensionitem are required")
        result.append({"name": name, "item": item})
    return result


def _attachments(voucher):
    node = voucher.find("voucherattachments")
    if node is None:
        return []
    check_order(node, ("voucherattachment",), "voucher/voucherattachments")
    result = []
    for index, attachment in enumerate(node.findall("voucherattachment"), 1):
        where = f"voucher/voucherattachments/voucherattachment[{index}]"
        check_order(attachment, ATTACHMENT_ORDER, where)
        for name in ATTACHMENT_ORDER:
            if not child_text(attachment, name):
                raise invalid(f"{where}: {name} is required")
        data = child_text(attachment, "documentdata")
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise invalid(f"{where}: documentdata is not Base64") from None
        result.append({
            "filename": child_text(attachment, "filename"),
            "content_type": child_text(attachment, "mimetype"),
            "description": child_text(attachment, "attachmentdescription"),
            "base64": data,
        })
    return result


@resource("accounting.nv", "POST")
def import_voucher(request):
    org = request.org
    root = request.body
    check_order(root, ("voucher",))
    vouchers = root.findall("voucher")
    if len(vouchers) != 1:
        raise invalid("Exactly one voucher per request")
    voucher = vouchers[0]
    check_order(voucher, VOUCHER_ORDER, "voucher")
    mode = (child_text(voucher, "calculationmode") or "").lower()
    if mode not in ("net", "gross"):
        raise invalid("voucher/calculationmode must be net or gross")
    date_text = child_text(voucher, "voucherdate")
    if not date_text:
        raise invalid("voucher/voucherdate is required")
    date = ansi_date(date_text, "voucherdate")
    class_name = child_text(voucher, "voucherclass")
    if not class_name:
        raise invalid("voucher/voucherclass is required")
    voucher_class = _find_class(org, class_name)
    if voucher_class is None:
        known = ", ".join(sorted(item["name"] for item in voucher_classes(org).values()))
        raise invalid(f"Tositelajia ei löydy (unknown voucher class): {class_name}. Known: {known}")
    accounts = _known_accounts(org)
    lines = []
    total = Decimal("0.00")
    line_nodes = voucher.findall("voucherline")
    if not line_nodes:
        raise invalid("voucher: at least one voucherline is required")
    for index, line in enumerate(line_nodes, 1):
        where = f"voucher/voucherline[{index}]"
        check_order(line, LINE_ORDER, where)
        linesum = line.find("linesum")
        if linesum is None or not (linesum.text or "").strip():
            raise invalid(f"{where}: linesum is required")
        line_type = linesum.get("type") or mode
        if line_type not in ("net", "gross"):
            raise invalid(f"{where}: linesum type must be net or gross")
        amount = dec(linesum.text).quantize(Decimal("0.01"))
        account = child_text(line, "accountnumber")
        if not account:
            raise invalid(f"{where}: accountnumber is required")
        if accounts and account not in accounts:
            raise invalid(f"{where}: Tiliä ei löydy (account not found): {account}")
        vat_code, vat_percent = _vat(line, where)
        total += amount
        lines.append({
            "amount": str(amount),
            "account": account,
            "description": child_text(line, "description") or "",
            "line_type": line_type,
            "vat_code": vat_code,
            "vat_percent": str(vat_percent),
            "account_dimension": child_text(line, "accountdimension"),
            "dimensions": _dimensions(line, where),
        })
    if total != 0:
        raise invalid(f"Tosite ei täsmää (voucher does not balance): the line sums add up to {total}")
    attachments = _attachments(voucher)
    same_class = [v for v in org.collections[COLLECTION].values()
                  if v["voucher_class"].lower() == voucher_class["name"].lower()]
    number = child_text(voucher, "number")
    if number:
        if any(str(v.get("number")) == number for v in same_class):
            raise invalid(f"Voucher number {number} already exists in class {voucher_class['name']}")
    else:
        number = str(max((int(v["number"]) for v in same_class if str(v.get("number", "")).isdigit()), default=0) + 1)
    stored = org.add(COLLECTION, {
        "number": number,
        "voucher_class": voucher_class["name"],
        "date": date.isoformat(),
        "description": child_text(voucher, "description") or "",
        "calculation_mode": mode,
        "lines": lines,
        "attachments": attachments,
    })
    return wrap("Replies", el("InsertedDataIdentifier", stored["netvisor_key"]))
