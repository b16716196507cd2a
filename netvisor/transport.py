"""HTTP transport: signing, timeouts, bounded retries with backoff, envelope parsing.

Every attempt is a new request (new timestamp, transaction id and MAC). A GET is
retried on any transient fault. A POST is retried only when Netvisor positively
said it did not store it (a transient error category in its envelope, or a
reused transaction id); when the POST left but no trustworthy answer came back it
raises NetvisorOutcomeUnknownError so that the caller can look the record up.
"""

import contextlib
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from . import signing
from .envelope import parse_envelope
from .errors import (
    NetvisorBadResponseError,
    NetvisorConnectionError,
    NetvisorError,
    NetvisorOutcomeUnknownError,
    NetvisorRequestNotUniqueError,
    NetvisorTimeoutError,
    NetvisorTransientError,
    NetvisorXMLSecurityError,
)
from .xmlutil import MAX_XML_BYTES, to_bytes

_logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://integration.netvisor.fi/"
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 120.0  # Netvisor asks for at least 120 s (API.md 3.3)
_SAFE_QUERY_CHARS = "-._~,:"
# NameResolutionError (urllib3 2) subclasses NewConnectionError: the request never left
_NOT_SENT = (NewConnectionError, ConnectionRefusedError)


def build_url(base_url, resource, params=None):
    """``<base>/<resource>?k=v&...`` built by hand, so the URL signed is the URL sent.

    Parameter names are lowercased as in Netvisor's documentation; values are
    percent-encoded only where they need it; ``None`` values are dropped."""
    url = base_url.rstrip("/") + "/" + resource.lstrip("/")
    pairs = []
    for key, value in (params or {}).items():
        if value is None or value is False:
            continue
        if value is True:
            value = "1"
        pairs.append(f"{key.lower()}={quote(str(value), safe=_SAFE_QUERY_CHARS)}")
    return url + ("?" + "&".join(pairs) if pairs else "")


@dataclass
class Exchange:
    """One HTTP attempt, as handed to the ``on_exchange`` hook (for the Netvisor log).

    Bodies are text with every known secret replaced; headers carry no MAC."""

    method: str
    resource: str
    url: str
    attempt: int
    transaction_id: str
    request_body: str = ""
    http_status: int = 0
    response_body: str = ""
    duration_ms: int = 0
    error: NetvisorError = None
    ok: bool = False
    extra: dict = field(default_factory=dict)


def redact(value, secrets):
    """Replace every secret in ``value`` by ``***``; bytes are decoded first."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    for secret in secrets:
        if secret and len(secret) >= 3:
            value = value.replace(secret, "***")
    return value


def _connection_not_made(exc):
    """True when a requests ConnectionError happened before anything was sent."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen = set()
    cause = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, _NOT_SENT):
            return True
        for arg in getattr(cause, "args", ()):
            if isinstance(arg, _NOT_SENT):
                return True
        cause = getattr(cause, "reason", None) or cause.__cause__ or cause.__context__
    return False


class Client:
    """A Netvisor API client for one company (one set of credentials).

    ``lock``: optional callable returning a context manager held around each HTTP
    attempt (the addon passes a PostgreSQL advisory lock, so that Netvisor gets one
    request at a time per company even from several workers).
    ``on_exchange``: optional callable receiving an :class:`Exchange` per attempt."""

    def __init__(self, credentials, base_url=DEFAULT_BASE_URL, connect_timeout=DEFAULT_CONNECT_TIMEOUT,
                 read_timeout=DEFAULT_READ_TIMEOUT, max_attempts=3, backoff=2.0, max_backoff=30.0,
                 session=None, lock=None, on_exchange=None, sleep=time.sleep, max_response_bytes=MAX_XML_BYTES):
        self.credentials = credentials
        self.base_url = base_url or DEFAULT_BASE_URL
        self.timeout = (connect_timeout, read_timeout)
        self.max_attempts = max(1, int(max_attempts))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.lock = lock
        self.on_exchange = on_exchange
        self.sleep = sleep
        self.max_response_bytes = max_response_bytes
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=1)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.trust_env = False
        self.session = session
        self.request_count = 0
        # free-form data copied into every Exchange (the addon puts the record being sent there)
        self.context = {}

    # ------------------------------------------------------------ public API

    def get(self, resource, params=None):
        return self.request("GET", resource, params=params)

    def post(self, resource, root, params=None):
        """POST a request document (lxml element ``root`` or bytes)."""
        body = root if isinstance(root, (bytes, str)) else to_bytes(root)
        if isinstance(body, str):
            body = body.encode("utf-8")
        return self.request("POST", resource, params=params, body=body)

    def request(self, method, resource, params=None, body=None):
        url = build_url(self.base_url, resource, params)
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(method, resource, url, body, attempt)
            except NetvisorRequestNotUniqueError:
                # rejected before processing: always safe to send again with a new id
                if attempt >= self.max_attempts + 1:
                    raise
            except NetvisorTransientError:
                if attempt >= self.max_attempts:
                    raise
            self._pause(attempt)

    # ------------------------------------------------------------ internals

    def _pause(self, attempt):
        if self.backoff:
            self.sleep(min(self.max_backoff, self.backoff * (2 ** (attempt - 1))))

    def _attempt(self, method, resource, url, body, attempt):
        headers = signing.signed_headers(url, self.credentials)
        transaction_id = headers["X-Netvisor-Authentication-TransactionId"]
        secrets = self.credentials.secrets()
        exchange = Exchange(method=method, resource=resource, url=url, attempt=attempt,
                            transaction_id=transaction_id, request_body=redact(body, secrets),
                            extra=dict(self.context))
        started = time.monotonic()
        sent = False
        try:
            with (self.lock() if self.lock else contextlib.nullcontext()):
                prepared = requests.Request(method, url, headers=headers, data=body).prepare()
                prepared.url = url  # byte-identical to the signed URL
                self.request_count += 1
                sent = True
                response = self.session.send(prepared, timeout=self.timeout, allow_redirects=False, stream=True)
                exchange.http_status = response.status_code
                content = self._read_body(response, resource, transaction_id)
            exchange.response_body = redact(content, secrets)
            try:
                envelope = parse_envelope(content, http_status=response.status_code, resource=resource,
                                          transaction_id=transaction_id, max_bytes=self.max_response_bytes)
            except NetvisorError as exc:
                exc.server_date = response.headers.get("Date")  # lets callers diagnose clock skew
                raise
            exchange.ok = True
            return envelope
        except requests.exceptions.RequestException as exc:
            error = self._transport_error(exc, method, resource, transaction_id, sent)
            exchange.error = error
            raise error from None
        except NetvisorBadResponseError as exc:
            # the server answered, but not as Netvisor: for a POST we cannot know what it did
            error = exc
            if method == "POST" and exchange.http_status != 503:
                error = NetvisorOutcomeUnknownError(
                    f"the answer to the POST was not a Netvisor envelope ({exc.text})",
                    http_status=exchange.http_status, resource=resource, transaction_id=transaction_id)
            exchange.error = error
            if error is exc:
                raise
            raise error from None
        except NetvisorError as exc:
            exchange.error = exc
            raise
        finally:
            exchange.duration_ms = int((time.monotonic() - started) * 1000)
            if self.on_exchange:
                try:
                    self.on_exchange(exchange)
                except Exception:  # the log must never break the exchange
                    _logger.exception("Netvisor exchange hook failed")

    def _read_body(self, response, resource, transaction_id):
        """The answer's bytes, read no further than ``max_response_bytes``: a huge answer is
        refused without being held in memory whole."""
        limit = self.max_response_bytes
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise NetvisorXMLSecurityError(
                        f"the answer is over the {limit} byte limit (read stopped at {size} bytes)",
                        http_status=response.status_code, resource=resource, transaction_id=transaction_id)
                chunks.append(chunk)
        finally:
            response.close()
        return b"".join(chunks)

    def _transport_error(self, exc, method, resource, transaction_id, sent):
        kwargs = dict(resource=resource, transaction_id=transaction_id)
        if isinstance(exc, requests.exceptions.ConnectTimeout) or (
                isinstance(exc, requests.exceptions.ConnectionError) and _connection_not_made(exc)):
            return NetvisorConnectionError(f"no connection ({type(exc).__name__})", **kwargs)
        if method == "POST" and sent:
            return NetvisorOutcomeUnknownError(
                f"the POST was sent but no answer came back ({type(exc).__name__})", **kwargs)
        if isinstance(exc, requests.exceptions.Timeout):
            return NetvisorTimeoutError(f"Netvisor did not answer in time ({type(exc).__name__})", **kwargs)
        return NetvisorConnectionError(f"connection to Netvisor failed ({type(exc).__name__})", **kwargs)
