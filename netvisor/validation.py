"""Validation of Finnish identifiers and of the API base URL."""

import re
from urllib.parse import urlsplit

_BUSINESS_ID = re.compile(r"^(\d{7})-(\d)$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def business_id_check_digit(digits):
    """Check digit of a Y-tunnus body (7 digits), or None when no digit fits."""
    remainder = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return 0
    if remainder == 1:
        return None
    return 11 - remainder


def is_valid_business_id(value):
    """``1234567-8`` form with a correct check digit (a 6-digit body is zero-padded by
    Netvisor users sometimes, but the header must carry the full form)."""
    match = _BUSINESS_ID.match(value or "")
    if not match:
        return False
    return business_id_check_digit(match.group(1)) == int(match.group(2))


def normalize_business_id(value):
    """``FI12345678`` / ``1234567 8`` / ``12345678`` -> ``1234567-8``; else unchanged."""
    raw = re.sub(r"[\s-]", "", value or "").upper()
    if raw.startswith("FI"):
        raw = raw[2:]
    if re.fullmatch(r"\d{8}", raw):
        return f"{raw[:7]}-{raw[7]}"
    return (value or "").strip()


def url_problem(url):
    """None when ``url`` is an acceptable API base URL, else a short reason key:
    ``format`` (not an absolute http(s) URL) or ``https`` (plain http off loopback)."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return "format"
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return "format"
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        return "https"
    return None
