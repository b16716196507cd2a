"""A local emulator of Visma Netvisor's integration API (like stripe-mock).

It speaks the protocol of ``API.md``: verifies the HMACSHA256 MAC and every
required header, rejects reused transaction ids and skewed clocks, keeps state per
organisation, answers in Netvisor's envelope, refuses overlapping requests for one
company and injects faults on demand. It is deliberately independent of the
``netvisor`` client library (it shares no code with it), so a client bug shows up
here rather than in production.

Run: ``python -m netvisor_sandbox --host 127.0.0.1 --port 8765 --seed seed.json``
"""

from .server import SandboxServer, start_sandbox  # noqa: F401
from .state import SandboxState  # noqa: F401
