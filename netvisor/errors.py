"""Typed exceptions for Netvisor's error categories (API.md section 3.1)."""


class NetvisorError(Exception):
    """Base class. ``category`` is Netvisor's category (``INVALID_DATA`` ...) or a
    local one (``CONNECTION``, ``TIMEOUT``, ``BAD_RESPONSE``, ``OUTCOME_UNKNOWN``),
    ``text`` the human message. Secrets never enter these messages: the library
    only ever sees them inside the MAC computation."""

    category = "ERROR"
    retryable = False

    def __init__(self, text="", category=None, http_status=None, resource=None, transaction_id=None):
        self.text = text or ""
        if category:
            self.category = category
        self.http_status = http_status
        self.resource = resource
        self.transaction_id = transaction_id
        self.server_date = None  # the HTTP Date header of the answer, when there was one
        super().__init__(self.__str__())

    def __str__(self):
        prefix = f"{self.resource}: " if self.resource else ""
        return f"{prefix}{self.category} :: {self.text}" if self.text else f"{prefix}{self.category}"


class NetvisorAuthenticationError(NetvisorError):
    category = "AUTHENTICATION_FAILED"


class NetvisorInvalidDataError(NetvisorError):
    category = "INVALID_DATA"


class NetvisorDuplicateDataError(NetvisorError):
    category = "DUPLICATE_DATA"


class NetvisorPeriodLockError(NetvisorError):
    category = "PERIOD_LOCK"


class NetvisorServiceAccessError(NetvisorError):
    category = "SERVICE_ACCESS_ERROR"


class NetvisorXMLSecurityError(NetvisorError):
    """A response carried a DOCTYPE, entity declaration or was over the size bound."""

    category = "XML_SECURITY"


class NetvisorTransientError(NetvisorError):
    """Worth retrying later: nothing was stored on the Netvisor side."""

    category = "TRANSIENT"
    retryable = True


class NetvisorRequestNotUniqueError(NetvisorTransientError):
    category = "REQUEST_NOT_UNIQUE"


class NetvisorTechnicalError(NetvisorTransientError):
    category = "TECHNICAL_ERROR"


class NetvisorMaintenanceError(NetvisorTransientError):
    category = "SYSTEM_MAINTENANCE"


class NetvisorConnectionError(NetvisorTransientError):
    """The connection could not be made (DNS, refused, TLS): the request was not sent."""

    category = "CONNECTION"


class NetvisorTimeoutError(NetvisorTransientError):
    category = "TIMEOUT"


class NetvisorBadResponseError(NetvisorTransientError):
    """The answer was not a Netvisor envelope (proxy page, truncated or malformed XML)."""

    category = "BAD_RESPONSE"


class NetvisorOutcomeUnknownError(NetvisorError):
    """A POST was sent but no trustworthy answer came back (read timeout, dropped
    connection, non-Netvisor answer). Netvisor may or may not have stored it: the
    caller must look the record up before sending again. Never retried blindly."""

    category = "OUTCOME_UNKNOWN"


CATEGORY_CLASSES = {
    "AUTHENTICATION_FAILED": NetvisorAuthenticationError,
    "INVALID_DATA": NetvisorInvalidDataError,
    "INVALID_DATA_SIZE": NetvisorInvalidDataError,
    "DUPLICATE_DATA": NetvisorDuplicateDataError,
    "REQUEST_NOT_UNIQUE": NetvisorRequestNotUniqueError,
    "PERIOD_LOCK": NetvisorPeriodLockError,
    "SERVICE_ACCESS_ERROR": NetvisorServiceAccessError,
    "SYSTEM_MAINTENANCE": NetvisorMaintenanceError,
    "SYSTEM_MAINTANANCE": NetvisorMaintenanceError,  # spelling used by some clients
    "MAINTENANCE": NetvisorMaintenanceError,
    "TECHNICAL_ERROR": NetvisorTechnicalError,
}


def error_for(category, text, **kwargs):
    """Build the typed exception for a Netvisor ``CATEGORY :: text`` pair."""
    cls = CATEGORY_CLASSES.get((category or "").strip().upper(), NetvisorError)
    return cls(text, category=(category or "").strip().upper() or None, **kwargs)
