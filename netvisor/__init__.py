"""Pure-Python client for the Visma Netvisor integration API.

This package never imports Odoo: the addon's models call it, it never calls them.
It covers request signing (HMACSHA256), transport with timeouts and bounded
retries, the response envelope and its error categories, safe XML parsing and
the XML builders/parsers of each resource the addon uses.
"""

from .errors import (  # noqa: F401
    NetvisorAuthenticationError,
    NetvisorBadResponseError,
    NetvisorConnectionError,
    NetvisorDuplicateDataError,
    NetvisorError,
    NetvisorInvalidDataError,
    NetvisorMaintenanceError,
    NetvisorOutcomeUnknownError,
    NetvisorPeriodLockError,
    NetvisorRequestNotUniqueError,
    NetvisorServiceAccessError,
    NetvisorTechnicalError,
    NetvisorTimeoutError,
    NetvisorTransientError,
    NetvisorXMLSecurityError,
)
from .signing import Credentials, compute_mac  # noqa: F401
from .transport import Client, Exchange  # noqa: F401
