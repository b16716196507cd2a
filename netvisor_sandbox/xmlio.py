"""XML in and out of the sandbox, in Netvisor's envelope and element names."""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from xml.sax.saxutils import escape, quoteattr

from lxml import etree


class SandboxFault(Exception):
    """Answer with a FAILED envelope: ``CATEGORY :: text``."""

    HTTP = {
        "AUTHENTICATION_FAILED": 401,
        "SERVICE_ACCESS_ERROR": 403,
        "TECHNICAL_ERROR": 500,
        "SYSTEM_MAINTENANCE": 503,
    }

    def __init__(self, category, text):
        super().__init__(f"{category} :: {text}")
        self.category = category
        self.text = text

    @property
    def http_status(self):
        return self.HTTP.get(self.category, 400)


def invalid(text):
    return SandboxFault("INVALID_DATA", text)


_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)


def parse_request_xml(body, max_bytes=32 * 1024 * 1024):
    """Parse a request body; tags are lowercased (Netvisor matches them case-insensitively)."""
    if not body or not body.strip():
        raise invalid("Request body is empty")
    if len(body) > max_bytes:
        raise SandboxFault("INVALID_DATA_SIZE", "Request body is too large")
    if _DOCTYPE.search(body):
        raise invalid("DOCTYPE and entity declarations are not allowed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise invalid(f"XML is not well-formed: {exc}") from None
    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = el.tag.lower()
    if root.tag != "root":
        raise invalid("Root element must be <root>")
    return root


def finnish_timestamp(now=None):
    now = now or datetime.datetime.now()
    return f"{now.day}.{now.month}.{now.year} {now.hour}:{now.minute:02d}:{now.second:02d}"


def envelope(payload_xml="", failed=None, now=None):
    """The whole answer as bytes; ``payload_xml`` is already serialised XML."""
    if failed:
        status = f"<Status>FAILED</Status><Status>{escape(failed)}</Status>"
    else:
        status = "<Status>OK</Status>"
    return (
        '<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n'
        f"<Root><ResponseStatus>{status}<TimeStamp>{finnish_timestamp(now)}</TimeStamp></ResponseStatus>"
        f"{payload_xml}</Root>"
    ).encode()


def el(tag, value=None, **attrs):
    """Serialise one leaf element (text escaped)."""
    attr = "".join(f" {k.rstrip('_')}={quoteattr(str(v))}" for k, v in attrs.items() if v is not None)
    if value is None or value == "":
        return f"<{tag}{attr} />"
    return f"<{tag}{attr}>{escape(str(value))}</{tag}>"


def wrap(tag, *inner, **attrs):
    attr = "".join(f" {k.rstrip('_')}={quoteattr(str(v))}" for k, v in attrs.items() if v is not None)
    return f"<{tag}{attr}>{''.join(inner)}</{tag}>"


# ------------------------------------------------------------ values


def dec(value):
    """Parse a request decimal (comma or dot)."""
    if value is None:
        raise invalid("Missing number")
    text = str(value).strip().replace(" ", "").replace("\u00a0", "")
    if "," in text and "." in text:
        raise invalid(f"Number has both separators: {value}")
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise invalid(f"Not a number: {value}") from None


def fmt(value, places=2, comma=True):
    """Netvisor response decimal: comma by default."""
    q = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    out = format(q, "f")
    return out.replace(".", ",") if comma else out


def ansi_date(value, what="date"):
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise invalid(f"Invalid {what} {value!r}: use yyyy-mm-dd") from None


def child_text(node, name, default=None):
    sub = node.find(name) if node is not None else None
    if sub is None or sub.text is None:
        return default
    return sub.text.strip()


def check_order(node, order, path=None):
    """Raise INVALID_DATA when children of ``node`` are unknown or out of ``order``."""
    position = {name: i for i, name in enumerate(order)}
    last = -1
    for sub in node:
        if not isinstance(sub.tag, str):
            continue
        where = f"{path or node.tag}/{sub.tag}"
        if sub.tag not in position:
            raise invalid(f"Unknown element {where}")
        if position[sub.tag] < last:
            raise invalid(f"Element {where} is out of order")
        last = position[sub.tag]
