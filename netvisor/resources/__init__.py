"""XML builders and parsers per Netvisor resource. Each function takes a
:class:`netvisor.transport.Client` (or parses an lxml element) and returns plain
Python data (dataclasses, Decimal, date); none of them knows about Odoo."""
