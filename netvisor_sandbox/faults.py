"""Fault injection: latency, a failure rate over chosen kinds, and an explicit queue.

Kinds:
- ``http500``: TECHNICAL_ERROR envelope with HTTP 500 (request not processed)
- ``http502``: a proxy's HTML page with HTTP 502 (request not processed)
- ``malformed``: HTTP 200 with a truncated, non-XML body (request not processed)
- ``maintenance``: SYSTEM_MAINTENANCE envelope with HTTP 503 (request not processed)
- ``drop_after_process``: the request IS processed, then the connection is closed
  without an answer (the client sees an unknown outcome)
- ``timeout``: the server waits ``hang_seconds`` before answering (past the client's
  read timeout) and the request is NOT processed
- ``hostile``: HTTP 200 with a hostile XML document (request not processed): in turn an
  XXE (external entity), a billion-laughs entity bomb and an external DTD. Never part of
  the default kinds; ask for it by name.
"""

import random
import threading

KINDS = ("http500", "http502", "malformed", "maintenance", "drop_after_process", "timeout")
EXTRA_KINDS = ("hostile",)  # only when named in ``kinds`` or ``queue``
ALL_KINDS = KINDS + EXTRA_KINDS


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.latency_ms = 0
            self.failure_rate = 0.0
            self.kinds = list(KINDS)
            self.resources = None  # None = every resource
            self.methods = None  # None = every method
            self.hang_seconds = 5.0
            self.queue = []  # explicit upcoming faults: [(kind, resource or None)]
            self.random = random.Random(0)
            self.injected = {}
            self.hostile_served = 0

    def configure(self, latency_ms=None, failure_rate=None, kinds=None, resources=None, methods=None,
                  hang_seconds=None, seed=None, queue=None):
        with self.lock:
            if latency_ms is not None:
                self.latency_ms = float(latency_ms)
            if failure_rate is not None:
                self.failure_rate = float(failure_rate)
            if kinds is not None:
                unknown = set(kinds) - set(ALL_KINDS)
                if unknown:
                    raise ValueError(f"unknown fault kinds {sorted(unknown)}")
                self.kinds = list(kinds)
            if resources is not None:
                self.resources = set(r.lower() for r in resources) or None
            if methods is not None:
                self.methods = set(m.upper() for m in methods) or None
            if hang_seconds is not None:
                self.hang_seconds = float(hang_seconds)
            if seed is not None:
                self.random = random.Random(seed)
            for item in queue or ():
                kind, resource = (item, None) if isinstance(item, str) else (item[0], item[1])
                if kind not in ALL_KINDS:
                    raise ValueError(f"unknown fault kind {kind}")
                self.queue.append((kind, resource and resource.lower()))

    def pick(self, resource, method):
        """The fault to inject for this request, or None."""
        with self.lock:
            for index, (kind, only) in enumerate(self.queue):
                if only is None or only == resource:
                    del self.queue[index]
                    self.injected[kind] = self.injected.get(kind, 0) + 1
                    return kind
            if not self.failure_rate:
                return None
            if self.resources and resource not in self.resources:
                return None
            if self.methods and method not in self.methods:
                return None
            if self.random.random() >= self.failure_rate:
                return None
            kinds = self.kinds
            if method == "GET":
                # a GET has nothing to drop after processing; hang instead
                kinds = [k if k != "drop_after_process" else "timeout" for k in kinds]
            kind = self.random.choice(kinds)
            self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind

    def dump(self):
        with self.lock:
            return {
                "latency_ms": self.latency_ms,
                "failure_rate": self.failure_rate,
                "kinds": self.kinds,
                "queue": list(self.queue),
                "injected": dict(self.injected),
            }
