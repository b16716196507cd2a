"""Accounting vouchers Odoo -> Netvisor: ``POST accounting.nv`` (API.md 5.7 A, ``accounting.dtd``).

One request is one voucher. Amounts are ``Decimal``: a positive line sum is a debit, a
negative one a credit. In ``net`` calculation mode Netvisor stores the voucher exactly as
sent (no VAT or rounding lines are added), so the lines must balance to the cent: an
unbalanced voucher is refused here, before anything is sent, because Netvisor would
otherwise book the difference to its rounding account (API.md 5.7).

Payroll lines carry the VAT code ``NONE`` with 0 % (our recommendation in API.md 5.7).
"""

import base64
from dataclasses import dataclass, field
from decimal import Decimal

from .. import xmlutil
from ..errors import NetvisorOutcomeUnknownError
from ..xmlutil import E

RESOURCE = "accounting.nv"
CALCULATION_MODES = ("net", "gross")
CENT = Decimal("0.01")
# API.md 5.8: codes that only accept 0 %
ZERO_ONLY_VAT_CODES = {"NONE", "KOMY0", "EUMY", "EUUM", "EUPM312", "EUPM309", "EUUO", "100", "RAMY"}


class VoucherError(ValueError):
    """The voucher cannot be sent as it is (nothing was sent)."""


class UnbalancedVoucherError(VoucherError):
    """Debits and credits differ; ``difference`` = sum of the line sums (Decimal)."""

    def __init__(self, difference, debit, credit):
        self.difference = difference
        self.debit = debit
        self.credit = credit
        super().__init__(f"the voucher does not balance: debit {debit}, credit {credit}, difference {difference}")


@dataclass
class VoucherLine:
    amount: Decimal  # positive = debit, negative = credit
    account: str
    description: str = ""
    vat_code: str = "NONE"
    vat_percent: Decimal = Decimal(0)
    dimensions: list = field(default_factory=list)  # [(dimension name, dimension item)]
    account_dimension: str = None  # accountdimension, by name


@dataclass
class VoucherAttachment:
    filename: str
    content: bytes
    mimetype: str = "application/pdf"
    description: str = ""


@dataclass
class Voucher:
    date: object  # datetime.date
    voucher_class: str  # full name of the voucher type, e.g. "Palkka"
    lines: list
    description: str = ""
    number: str = None  # None: Netvisor gives the next number of the class
    calculation_mode: str = "net"
    attachments: list = field(default_factory=list)


def quantize(value):
    return xmlutil.to_decimal(value).quantize(CENT)


def nonzero_lines(lines):
    """The lines whose sum is not zero at the cent (zero lines are never sent)."""
    return [line for line in lines if quantize(line.amount) != 0]


def totals(lines):
    """(debit, credit, difference) of ``lines`` at the cent, all Decimal; credit is positive."""
    debit = sum((quantize(line.amount) for line in lines if quantize(line.amount) > 0), Decimal("0.00"))
    credit = sum((-quantize(line.amount) for line in lines if quantize(line.amount) < 0), Decimal("0.00"))
    return debit, credit, debit - credit


def check_voucher(voucher):
    """Raise VoucherError when the voucher must not be sent; returns its non-zero lines."""
    if voucher.calculation_mode not in CALCULATION_MODES:
        raise VoucherError(f"unknown calculation mode {voucher.calculation_mode!r} (net or gross)")
    if not (voucher.voucher_class or "").strip():
        raise VoucherError("the voucher class is missing")
    if voucher.date is None:
        raise VoucherError("the voucher date is missing")
    lines = nonzero_lines(voucher.lines)
    if not lines:
        raise VoucherError("the voucher has no line with a non-zero sum")
    for line in lines:
        if not str(line.account or "").strip():
            raise VoucherError(f"a line of {quantize(line.amount)} has no account number")
        percent = xmlutil.to_decimal(line.vat_percent or 0)
        if line.vat_code in ZERO_ONLY_VAT_CODES and percent != 0:
            raise VoucherError(f"VAT code {line.vat_code} only accepts 0 %, not {percent} %")
        for name, item in line.dimensions:
            if not str(name or "").strip() or not str(item or "").strip():
                raise VoucherError(f"a dimension of the line on account {line.account} has no name or item")
    debit, credit, difference = totals(lines)
    if difference != 0:
        raise UnbalancedVoucherError(difference, debit, credit)
    return lines


def build_voucher(voucher):
    """The ``<root><voucher>`` request document in ``accounting.dtd`` element order."""
    lines = check_voucher(voucher)
    line_type = voucher.calculation_mode
    voucher_lines = []
    for line in lines:
        voucher_lines.append(E(
            "voucherline", None,
            E("linesum", xmlutil.format_decimal(line.amount), type=line_type),
            E("description", xmlutil.clean_text(line.description)) if line.description else None,
            E("accountnumber", str(line.account).strip()),
            E("vatpercent", xmlutil.format_quantity(line.vat_percent or 0, 2), vatcode=line.vat_code or "NONE"),
            E("accountdimension", xmlutil.clean_text(line.account_dimension), type="name")
            if line.account_dimension else None,
            [E("dimension", None,
               E("dimensionname", xmlutil.clean_text(name)),
               E("dimensionitem", xmlutil.clean_text(item))) for name, item in line.dimensions],
        ))
    attachments = None
    if voucher.attachments:
        attachments = E("voucherattachments", None, [E(
            "voucherattachment", None,
            E("mimetype", attachment.mimetype),
            E("attachmentdescription", xmlutil.clean_text(attachment.description or attachment.filename)),
            E("filename", xmlutil.clean_text(attachment.filename)),
            E("documentdata", base64.b64encode(attachment.content).decode("ascii")),
        ) for attachment in voucher.attachments])
    return E(
        "root", None,
        E(
            "voucher", None,
            E("calculationmode", voucher.calculation_mode),
            E("voucherdate", xmlutil.format_date(voucher.date), format="ansi"),
            E("number", str(voucher.number)) if voucher.number else None,
            E("description", xmlutil.clean_text(voucher.description)) if voucher.description else None,
            E("voucherclass", xmlutil.clean_text(voucher.voucher_class.strip())),
            voucher_lines,
            attachments,
        ),
    )


def send_voucher(client, voucher):
    """POST the voucher; returns its Netvisor key (str). Raises VoucherError before sending
    anything when the voucher is invalid, and the client's NetvisorError otherwise."""
    root = build_voucher(voucher)
    envelope = client.post(RESOURCE, root)
    key = envelope.inserted_identifier()
    if not key:
        # stored or not, we cannot tell which voucher it is: never send it blindly again
        raise NetvisorOutcomeUnknownError("accounting.nv answered OK without an InsertedDataIdentifier",
                                          resource=RESOURCE)
    return key
