"""Safe XML parsing, element building and Netvisor's value formats (API.md section 4).

Parsing never resolves entities, never loads a DTD, never touches the network,
refuses any DOCTYPE outright (Netvisor sends none) and bounds the input size.
Money is ``Decimal``, never float.
"""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

from .errors import NetvisorBadResponseError, NetvisorXMLSecurityError

MAX_XML_BYTES = 64 * 1024 * 1024

_PARSER_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_blank_text=False,
)
_DOCTYPE_RE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_xml(data, max_bytes=MAX_XML_BYTES):
    """Parse ``data`` (bytes or str) into an lxml element, safely.

    Raises NetvisorXMLSecurityError for DOCTYPE/ENTITY or oversize input and
    NetvisorBadResponseError for anything that is not well-formed XML."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if data is None or not data.strip():
        raise NetvisorBadResponseError("empty body")
    if len(data) > max_bytes:
        raise NetvisorXMLSecurityError(f"XML document of {len(data)} bytes is over the {max_bytes} byte limit")
    if _DOCTYPE_RE.search(data):
        raise NetvisorXMLSecurityError("XML with a DOCTYPE or entity declaration is refused")
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise NetvisorBadResponseError(f"malformed XML: {exc}") from None
    if root is None:
        raise NetvisorBadResponseError("empty XML document")
    if root.getroottree().docinfo.doctype:
        raise NetvisorXMLSecurityError("XML with a DOCTYPE is refused")
    return root


# ----------------------------------------------------------------- reading


def local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def child(element, name):
    """First direct child called ``name`` (case-insensitive), or None."""
    if element is None:
        return None
    lname = name.lower()
    for sub in element:
        if local(sub.tag).lower() == lname:
            return sub
    return None


def children(element, name):
    if element is None:
        return []
    lname = name.lower()
    return [sub for sub in element if local(sub.tag).lower() == lname]


def text(element, name=None, default=""):
    """Stripped text of ``element`` or of its child ``name``."""
    node = child(element, name) if name else element
    if node is None or node.text is None:
        return default
    return node.text.strip()


_DECIMAL_CLEAN = re.compile(r"[\s\u00a0]")


def parse_decimal(value, default=None):
    """Netvisor decimals: ``100,00``, ``5,480000000000``, ``244.12``, ``-1 234,5``."""
    if value is None:
        return default
    value = _DECIMAL_CLEAN.sub("", str(value))
    if not value:
        return default
    if "," in value and "." in value:
        value = value.replace(".", "").replace(",", ".")
    else:
        value = value.replace(",", ".")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}") from None


def parse_date(value, default=None):
    """``yyyy-mm-dd`` (ansi) or Finnish ``d.m.yyyy``; a time part is ignored."""
    if not value:
        return default
    value = value.strip().split(" ")[0].split("T")[0]
    try:
        if "." in value:
            day, month, year = value.split(".")[:3]
            return datetime.date(int(year), int(month), int(day))
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date: {value!r}") from None


def parse_bool(value):
    return str(value or "").strip().lower() in ("1", "true", "yes", "kylla", "kyllä")


# ----------------------------------------------------------------- writing

TWO = Decimal("0.01")


def to_decimal(value):
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        # floats (Odoo amounts) go through repr to keep their shortest exact form
        return Decimal(repr(value))
    return Decimal(value)


def format_decimal(value, places=2):
    """Netvisor request decimal: comma separator as in Netvisor's documentation."""
    quantum = Decimal(1).scaleb(-places)
    number = to_decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    if number == 0:
        number = abs(number)
    return format(number, "f").replace(".", ",")


def format_quantity(value, places=6):
    """A quantity or unit price with as many decimals as needed (max ``places``)."""
    number = to_decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP).normalize()
    if number == 0:
        number = Decimal(0)
    text_value = format(number, "f")
    return text_value.replace(".", ",")


def format_date(value):
    return value.strftime("%Y-%m-%d")


def format_datetime(value):
    """``yyyy-MM-ddTHH:mm:ss`` for ``changedsince`` / ``lastmodifiedstart``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def E(tag, value=None, /, *subs, **attrs):
    """Build an element: ``E("a", "text", href="x")`` or ``E("a", None, E("b", "1"))``.

    ``None`` children are skipped so optional elements can be written inline."""
    element = etree.Element(tag, {k.rstrip("_"): str(v) for k, v in attrs.items() if v is not None})
    if value is not None:
        element.text = str(value)
    for sub in subs:
        if sub is None:
            continue
        if isinstance(sub, (list, tuple)):
            for item in sub:
                if item is not None:
                    element.append(item)
        else:
            element.append(sub)
    return element


_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean_text(value):
    """Drop characters that XML 1.0 cannot carry (control characters)."""
    if value is None:
        return None
    return _INVALID_XML_CHARS.sub("", str(value))


def to_bytes(root):
    """Serialise a request document: ``<root>`` first, no XML declaration (API.md 1)."""
    return etree.tostring(root, encoding="utf-8", xml_declaration=False)
