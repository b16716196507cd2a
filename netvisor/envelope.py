"""Netvisor's response envelope (API.md 3.1): ``Root > ResponseStatus > Status``.

The HTTP status is never trusted alone: a 200 can carry FAILED, and a non-XML
body is a transport fault whatever its status."""

from dataclasses import dataclass

from . import xmlutil
from .errors import NetvisorBadResponseError, NetvisorTechnicalError, error_for


@dataclass
class Envelope:
    root: object  # lxml element <Root>
    timestamp: str = ""

    def payload(self, name):
        return xmlutil.child(self.root, name)

    def inserted_identifier(self):
        """``Replies/InsertedDataIdentifier`` of a successful import, or ''."""
        return xmlutil.text(xmlutil.child(self.root, "Replies"), "InsertedDataIdentifier")


def split_status(value):
    """``CATEGORY :: text`` -> (CATEGORY, text), split on the first ``::``."""
    if "::" in value:
        category, _sep, message = value.partition("::")
        return category.strip(), message.strip()
    return value.strip(), ""


def parse_envelope(body, http_status=200, resource=None, transaction_id=None, max_bytes=xmlutil.MAX_XML_BYTES):
    """Return an Envelope for an OK answer, raise the typed error otherwise."""
    kwargs = dict(http_status=http_status, resource=resource, transaction_id=transaction_id)
    try:
        root = xmlutil.parse_xml(body, max_bytes=max_bytes)
    except NetvisorBadResponseError as exc:
        raise NetvisorBadResponseError(f"HTTP {http_status}: {exc.text}", **kwargs) from None
    response_status = xmlutil.child(root, "ResponseStatus")
    if xmlutil.local(root.tag).lower() != "root" or response_status is None:
        raise NetvisorBadResponseError(f"HTTP {http_status}: the answer has no Netvisor ResponseStatus", **kwargs)
    statuses = [xmlutil.text(s) for s in xmlutil.children(response_status, "Status")]
    timestamp = xmlutil.text(response_status, "TimeStamp")
    if statuses and statuses[0].upper() == "OK":
        if http_status and http_status >= 400:
            raise NetvisorBadResponseError(f"HTTP {http_status} with an OK envelope", **kwargs)
        return Envelope(root=root, timestamp=timestamp)
    if not statuses or statuses[0].upper() != "FAILED":
        raise NetvisorBadResponseError(f"HTTP {http_status}: unknown status {statuses[:1]}", **kwargs)
    detail = next((s for s in statuses[1:] if s), "")
    if not detail:
        raise NetvisorTechnicalError(f"HTTP {http_status}: FAILED without a reason", **kwargs)
    category, message = split_status(detail)
    raise error_for(category, message, **kwargs)
