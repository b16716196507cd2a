"""The sandbox HTTP server: protocol checks, dispatch to resources, faults, control API."""

import datetime
import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import resources as resource_registry
from .faults import Faults
from .state import SandboxState
from .xmlio import SandboxFault, envelope, parse_request_xml

_logger = logging.getLogger(__name__)

REQUIRED_HEADERS = (
    "X-Netvisor-Authentication-Sender",
    "X-Netvisor-Authentication-CustomerId",
    "X-Netvisor-Authentication-PartnerId",
    "X-Netvisor-Authentication-Timestamp",
    "X-Netvisor-Authentication-TimestampUnix",
    "X-Netvisor-Authentication-TransactionId",
    "X-Netvisor-Interface-Language",
    "X-Netvisor-Organisation-ID",
    "X-Netvisor-Authentication-MACHashCalculationAlgorithm",
    "X-Netvisor-Authentication-MAC",
)
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")
BUSINESS_ID_RE = re.compile(r"^\d{7}-\d$")
INVALID_KEYS = "Integration keys are not valid. Please check the keys specific to the user and partner."


class Request:
    """What a resource handler gets."""

    def __init__(self, server, org, method, resource, params, body, language):
        self.server = server
        self.org = org
        self.method = method
        self.resource = resource
        self.params = params  # lowercased names -> value
        self.body = body  # lxml root with lowercased tags, or None for GET
        self.language = language

    def param(self, name, default=None):
        return self.params.get(name.lower(), default)


def expected_mac(url, headers, customer_key, partner_key):
    parts = [
        url,
        headers["X-Netvisor-Authentication-Sender"],
        headers["X-Netvisor-Authentication-CustomerId"],
        headers["X-Netvisor-Authentication-Timestamp"],
        headers["X-Netvisor-Interface-Language"],
        headers["X-Netvisor-Organisation-ID"],
        headers["X-Netvisor-Authentication-TransactionId"],
        headers["X-Netvisor-Authentication-TimestampUnix"],
        customer_key,
        partner_key,
    ]
    try:
        message = "&".join(parts).encode("iso-8859-1")
        key = f"{customer_key}&{partner_key}".encode("iso-8859-1")
    except UnicodeEncodeError:
        raise SandboxFault("AUTHENTICATION_FAILED", "Header values must be ISO-8859-1") from None
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class Handler(BaseHTTPRequestHandler):
    server_version = "NetvisorSandbox/1.0"
    protocol_version = "HTTP/1.1"
    # answer at once: Nagle + delayed ACK would add ~40 ms to every keep-alive request
    disable_nagle_algorithm = True

    def date_time_string(self, timestamp=None):
        return super().date_time_string((timestamp or time.time()) + self.server.clock_offset)

    def log_message(self, fmt, *args):  # quiet by default
        _logger.debug("%s " + fmt, self.address_string(), *args)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._answer(405, envelope(failed="INVALID_DATA :: Method not allowed"))

    do_DELETE = do_PUT

    # ------------------------------------------------------------------

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status, body, content_type="text/xml; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self, method):
        server = self.server
        split = urlsplit(self.path)
        if split.path.startswith("/_sandbox/"):
            return self._control(method, split)
        body = self._read_body() if method == "POST" else b""
        resource = split.path.rsplit("/", 1)[-1].lower()
        use_status = self.headers.get("X-Netvisor-Authentication-UseHTTPResponseStatusCodes") == "1"
        org = None
        outcome = "ok"
        # what to send: decided while the company is busy, written only after it is free again
        # (a client may send its next request as soon as it has read this answer)
        answer = None
        try:
            headers = self._check_headers()
            url = f"http://{self.headers.get('Host')}{self.path}"
            org = self._authenticate(url, headers)
            handler = resource_registry.HANDLERS.get((resource, method))
            if handler is None:
                if any(name == resource for name, _m in resource_registry.HANDLERS):
                    raise SandboxFault("INVALID_DATA", f"Method {method} is not allowed for {resource}")
                raise SandboxFault("INVALID_DATA", f"Unknown resource {resource}")
            if resource in org.disabled_resources:
                raise SandboxFault("SERVICE_ACCESS_ERROR",
                                   f"Rajapintaresurssin {resource} käyttöoikeus puuttuu (resource not enabled)")
            params = {k.lower(): v for k, v in parse_qsl(split.query, keep_blank_values=True)}
            if not org.busy.acquire(blocking=False):
                org.overlaps += 1
                server.state.stats["overlaps"] += 1
                raise SandboxFault("TECHNICAL_ERROR",
                                   "Samanaikainen pyyntö samaan yritykseen (overlapping request for this company)")
            fault = server.faults.pick(resource, method)
            if fault == "timeout":
                # the network swallows the request: Netvisor never sees it, the client waits
                org.busy.release()
                outcome = "fault:timeout"
                answer = ("inject", fault)
                return
            try:
                org.active += 1
                org.max_active = max(org.max_active, org.active)
                if server.faults.latency_ms:
                    time.sleep(server.faults.latency_ms / 1000.0)
                if fault and fault != "drop_after_process":
                    outcome = f"fault:{fault}"
                    answer = ("inject", fault)
                    return
                parsed = parse_request_xml(body) if method == "POST" and (body or "body" not in getattr(
                    handler, "optional", ())) else None
                request = Request(server, org, method, resource, params, parsed,
                                  headers["X-Netvisor-Interface-Language"])
                with server.state.lock:
                    payload = handler(request) or ""
                if fault == "drop_after_process":
                    outcome = "fault:drop_after_process"
                    answer = ("inject", fault)
                    return
                answer = (200, envelope(payload))
            finally:
                org.active -= 1
                org.busy.release()
        except SandboxFault as fault:
            outcome = fault.category
            answer = (fault.http_status if use_status else 200,
                      envelope(failed=f"{fault.category} :: {fault.text}"))
        except Exception:  # a sandbox bug must look like Netvisor's technical error
            _logger.exception("sandbox handler failed")
            outcome = "crash"
            answer = (500 if use_status else 200, envelope(failed="TECHNICAL_ERROR :: Sandbox internal error"))
        finally:
            server.state.record(resource, method, org.organisation_id if org else None, outcome)
            if answer and answer[0] == "inject":
                self._inject(answer[1], use_status)
            elif answer:
                self._answer(*answer)

    def _inject(self, fault, use_status):
        if fault == "http500":
            return self._answer(500 if use_status else 200,
                                envelope(failed="TECHNICAL_ERROR :: Tekninen virhe (injected)"))
        if fault == "maintenance":
            return self._answer(503 if use_status else 200,
                                envelope(failed="SYSTEM_MAINTENANCE :: Huoltokatko (injected)"))
        if fault == "http502":
            return self._answer(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        if fault == "malformed":
            return self._answer(200, b'<?xml version="1.0"?><Root><ResponseStatus><Status>OK</Sta')
        if fault == "timeout":
            time.sleep(self.server.faults.hang_seconds)
            return self._drop()
        if fault == "drop_after_process":
            return self._drop()
        raise AssertionError(fault)

    def _check_headers(self):
        headers = {}
        for name in REQUIRED_HEADERS:
            value = self.headers.get(name)
            if value is None or value == "":
                raise SandboxFault("AUTHENTICATION_FAILED", f"Header {name} puuttuu (missing header)")
            headers[name] = value
        if headers["X-Netvisor-Authentication-MACHashCalculationAlgorithm"] != "HMACSHA256":
            raise SandboxFault("AUTHENTICATION_FAILED", "MAC algorithm must be HMACSHA256")
        if headers["X-Netvisor-Interface-Language"] not in ("FI", "EN", "SE"):
            raise SandboxFault("AUTHENTICATION_FAILED", "Interface language must be FI, EN or SE")
        if not BUSINESS_ID_RE.match(headers["X-Netvisor-Organisation-ID"]):
            raise SandboxFault("AUTHENTICATION_FAILED", "Organisation ID must be a business ID 1234567-8")
        timestamp = headers["X-Netvisor-Authentication-Timestamp"]
        if not TIMESTAMP_RE.match(timestamp):
            raise SandboxFault("AUTHENTICATION_FAILED", "Timestamp must be yyyy-MM-dd HH:mm:ss.fff (UTC)")
        try:
            unix = int(headers["X-Netvisor-Authentication-TimestampUnix"])
        except ValueError:
            raise SandboxFault("AUTHENTICATION_FAILED", "TimestampUnix must be an integer") from None
        moment = datetime.datetime.strptime(timestamp, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
        if abs(moment.timestamp() - unix) > 1:
            raise SandboxFault("AUTHENTICATION_FAILED", "Timestamp and TimestampUnix disagree (Timestamp must be UTC)")
        now = time.time() + self.server.clock_offset
        if abs(now - unix) > self.server.max_skew:
            raise SandboxFault("AUTHENTICATION_FAILED",
                               f"Aikaleima poikkeaa palvelimen ajasta (timestamp differs from server time by "
                               f"{int(now - unix)} s; server time {int(now)})")
        if not 1 <= len(headers["X-Netvisor-Authentication-TransactionId"]) <= 100:
            raise SandboxFault("AUTHENTICATION_FAILED", "TransactionId length must be 1-100")
        return headers

    def _authenticate(self, url, headers):
        state = self.server.state
        partner_id = headers["X-Netvisor-Authentication-PartnerId"]
        partner_key = state.partners.get(partner_id)
        if partner_key is None:
            raise SandboxFault("AUTHENTICATION_FAILED", "Integraatiokumppania ei löydy, katso dokumentaatio")
        org = state.organisations.get(headers["X-Netvisor-Organisation-ID"])
        customer_id = headers["X-Netvisor-Authentication-CustomerId"]
        customer_key = org.customers.get(customer_id) if org else None
        if customer_key is None:
            raise SandboxFault("AUTHENTICATION_FAILED", INVALID_KEYS)
        mac = expected_mac(url, headers, customer_key, partner_key)
        if not hmac.compare_digest(mac, headers["X-Netvisor-Authentication-MAC"].lower()):
            raise SandboxFault("AUTHENTICATION_FAILED", INVALID_KEYS)
        transaction_id = headers["X-Netvisor-Authentication-TransactionId"]
        with state.lock:
            key = (partner_id, transaction_id)
            if key in state.transaction_ids:
                raise SandboxFault("REQUEST_NOT_UNIQUE", "TransactionId on jo käytetty (transaction id already used)")
            state.transaction_ids.add(key)
        return org

    # ------------------------------------------------------------------ control API

    def _control(self, method, split):
        server = self.server
        action = split.path[len("/_sandbox/"):].strip("/")
        try:
            data = json.loads(self._read_body() or b"{}") if method == "POST" else {}
            if action == "state" and method == "GET":
                result = server.state.dump()
            elif action == "stats" and method == "GET":
                result = {"stats": dict(server.state.stats), "faults": server.faults.dump()}
            elif action == "faults" and method == "POST":
                server.faults.configure(**data)
                result = server.faults.dump()
            elif action == "reset" and method == "POST":
                server.state.reset()
                server.faults.reset()
                result = {"ok": True}
            elif action == "seed" and method == "POST":
                server.state.load_seed(data)
                result = {"ok": True}
            elif action == "pay" and method == "POST":
                result = self._control_pay(data)
            elif action == "clock" and method == "POST":
                server.clock_offset = float(data.get("offset", 0))
                result = {"offset": server.clock_offset}
            else:
                return self._answer(404, b'{"error": "unknown control action"}', "application/json")
        except (ValueError, TypeError, KeyError) as exc:
            return self._answer(400, json.dumps({"error": str(exc)}).encode(), "application/json")
        return self._answer(200, json.dumps(result, default=str).encode(), "application/json")


    def _control_pay(self, data):
        """Mark an invoice (partly) paid as Netvisor would after a bank match:
        ``{"type": "sales"|"purchase", "invoice_number" or "invoice_key", "sum", "date"?,
        "organisation_id"? (default: the only one)}``."""
        from .resources import payments

        state = self.server.state
        with state.lock:
            orgs = state.organisations
            org_id = data.get("organisation_id") or (next(iter(orgs)) if len(orgs) == 1 else None)
            if org_id not in orgs:
                raise ValueError("organisation_id is required when there are several organisations")
            org = orgs[org_id]
            kind = data.get("type", "sales")
            collection = {"sales": "sales_invoices", "purchase": "purchase_invoices"}.get(kind)
            if collection is None:
                raise ValueError("type must be sales or purchase")
            key = data.get("invoice_key")
            if key is None:
                matches = [k for k, rec in org.collections[collection].items()
                           if rec.get("number") == str(data.get("invoice_number"))]
                if len(matches) != 1:
                    raise ValueError(f"{len(matches)} {kind} invoices have number {data.get('invoice_number')}")
                key = matches[0]
            add = payments.add_sales_payment if kind == "sales" else payments.add_purchase_payment
            return add(org, int(key), str(data["sum"]), data.get("date"))


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host="127.0.0.1", port=0, seed=None, max_skew=300):
        super().__init__((host, port), Handler)
        self.state = SandboxState()
        self.faults = Faults()
        self.max_skew = max_skew
        self.clock_offset = 0.0
        if seed:
            self.state.load_seed(seed)
        self._thread = None

    @property
    def base_url(self):
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def org(self, organisation_id):
        return self.state.organisations[organisation_id]

    def start(self):
        self._thread = threading.Thread(target=self.serve_forever, name="netvisor-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()


def start_sandbox(seed=None, host="127.0.0.1", port=0, **kwargs):
    """Start a sandbox in a background thread (for tests); returns the server."""
    return SandboxServer(host=host, port=port, seed=seed, **kwargs).start()
