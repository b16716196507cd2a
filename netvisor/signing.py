"""HMACSHA256 request signing (API.md section 2)."""

import datetime
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field

ALGORITHM = "HMACSHA256"
LANGUAGES = ("FI", "EN", "SE")


@dataclass(frozen=True)
class Credentials:
    """The four Netvisor identifiers plus the organisation and the sender name.

    The two keys are excluded from ``repr`` so that they never land in a log or
    a traceback by accident."""

    sender: str
    customer_id: str
    partner_id: str
    organisation_id: str
    customer_key: str = field(repr=False)
    partner_key: str = field(repr=False)
    language: str = "FI"

    def secrets(self):
        return tuple(s for s in (self.customer_key, self.partner_key) if s)


def format_timestamp(moment):
    """``yyyy-MM-dd HH:mm:ss.fff`` in UTC."""
    moment = moment.astimezone(datetime.timezone.utc) if moment.tzinfo else moment
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def compute_mac(url, sender, customer_id, timestamp, language, organisation_id,
                transaction_id, timestamp_unix, customer_key, partner_key):
    """Lowercase hex HMAC-SHA256 of the ten values joined by ``&``, keyed with
    ``customer_key&partner_key``, both encoded as ISO-8859-1."""
    message = "&".join(str(v) for v in (
        url, sender, customer_id, timestamp, language, organisation_id,
        transaction_id, timestamp_unix, customer_key, partner_key,
    ))
    key = f"{customer_key}&{partner_key}"
    return hmac.new(key.encode("iso-8859-1"), message.encode("iso-8859-1"), hashlib.sha256).hexdigest()


def new_transaction_id():
    return uuid.uuid4().hex


def signed_headers(url, credentials, now=None, transaction_id=None):
    """Every header of API.md 2.1 for one request to ``url`` (the exact URL sent)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    timestamp = format_timestamp(now)
    timestamp_unix = str(int(now.timestamp()))
    transaction_id = transaction_id or new_transaction_id()
    language = (credentials.language or "FI").upper()
    mac = compute_mac(
        url, credentials.sender, credentials.customer_id, timestamp, language,
        credentials.organisation_id, transaction_id, timestamp_unix,
        credentials.customer_key, credentials.partner_key,
    )
    return {
        "X-Netvisor-Authentication-Sender": credentials.sender,
        "X-Netvisor-Authentication-CustomerId": credentials.customer_id,
        "X-Netvisor-Authentication-PartnerId": credentials.partner_id,
        "X-Netvisor-Authentication-Timestamp": timestamp,
        "X-Netvisor-Authentication-TimestampUnix": timestamp_unix,
        "X-Netvisor-Authentication-TransactionId": transaction_id,
        "X-Netvisor-Interface-Language": language,
        "X-Netvisor-Organisation-ID": credentials.organisation_id,
        "X-Netvisor-Authentication-MACHashCalculationAlgorithm": ALGORITHM,
        "X-Netvisor-Authentication-MAC": mac,
        "X-Netvisor-Authentication-UseHTTPResponseStatusCodes": "1",
        "Content-Type": "text/xml; charset=utf-8",
    }
