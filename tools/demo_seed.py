#!/usr/bin/env python3
"""Seed of the Netvisor sandbox for the demo: a realistic Finnish company.

    python3 tools/demo_seed.py > /tmp/seed.json
    python3 -m netvisor_sandbox --seed /tmp/seed.json

Dates are relative to today, so the purchase invoices are always recent. Every name and
business ID is fictional (the IDs have valid check digits).
"""

import base64
import datetime
import json
import sys
from decimal import ROUND_HALF_UP, Decimal

PARTNER_ID, PARTNER_KEY = "DEMOPARTNER", "demo-partner-key-7f3a"
CUSTOMER_ID, CUSTOMER_KEY = "DEMOCUSTOMER", "demo-customer-key-91c2"
ORGANISATION_ID = "2650316-7"  # Pohjolan Puutarhatuote Oy (fictional)
ORGANISATION_NAME = "Pohjolan Puutarhatuote Oy"


def business_id(body):
    """A fictional Y-tunnus with a valid check digit for a 7-digit body."""
    weights = (7, 9, 10, 5, 8, 4, 2)
    remainder = sum(int(d) * w for d, w in zip(f"{body:07d}", weights, strict=True)) % 11
    if remainder == 1:
        return business_id(body + 1)
    return f"{body:07d}-{0 if remainder == 0 else 11 - remainder}"


def pdf(lines):
    """A small one-page PDF showing ``lines`` (hand-built, no dependency)."""
    text = "BT /F1 12 Tf 50 780 Td 16 TL " + " ".join(
        "(%s) '" % line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines) + " ET"
    text = text.encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


VENDORS = [
    {"name": "Hämeen Lannoite Oy", "business_id": business_id(2841593), "code": "V100",
     "address": "Teollisuuskatu 12", "postcode": "13100", "town": "Hämeenlinna", "country": "FI",
     "bank_account": "FI4950009420028730"},
    {"name": "Savon Sähkö Demo Oy", "business_id": business_id(1907752), "code": "V110",
     "address": "Sähkötie 3", "postcode": "70100", "town": "Kuopio", "country": "FI",
     "bank_account": "FI3715723500048156"},
    {"name": "Kuljetus Virtanen Ky", "business_id": business_id(3012447), "code": "V120",
     "address": "Satamatie 8", "postcode": "20100", "town": "Turku", "country": "FI",
     "bank_account": "FI8847000010011115"},
    {"name": "Gartenbau Schmidt GmbH", "business_id": "", "code": "V130",
     "address": "Industriestraße 5", "postcode": "20095", "town": "Hamburg", "country": "DE",
     "bank_account": "DE89370400440532013000"},
]

# (vendor index, days ago, lines: (description, product code, qty, unit net, vat %, vat code, account))
PURCHASES = [
    (0, 1, [("Puutarhalannoite 25 kg", "LAN25", 40, "18.50", "25.5", "KOOS", "4000 Ostot"),
            ("Rahti", "", 1, "45.00", "25.5", "KOOS", "4000 Ostot")]),
    (0, 2, [("Kalkki 20 kg", "KAL20", 25, "9.80", "25.5", "KOOS", "4000 Ostot")]),
    (1, 1, [("Sähkö lokakuu", "", 1, "812.40", "25.5", "KOOS", "4000 Ostot")]),
    (2, 3, [("Kuljetus Turku-Helsinki", "", 3, "120.00", "25.5", "KOOS", "4000 Ostot"),
            ("Lavavuokra", "", 4, "12.00", "25.5", "KOOS", "4000 Ostot")]),
    (3, 2, [("Pflanzkübel 40 cm", "PK40", 60, "7.20", "25.5", "EUOS", "4000 Ostot")]),
    (2, 0, [("Hyvitys: vaurioitunut lava", "", -1, "80.00", "25.5", "KOOS", "4000 Ostot")]),
]

CUSTOMERS = [
    {"netvisor_key": 501, "code": "A1000", "business_id": business_id(2390211), "name": "Kukkakauppa Orvokki Oy",
     "street": "Aleksanterinkatu 9", "city": "Helsinki", "zip": "00100", "country": "FI",
     "email": "laskut@orvokki.example", "phone": "+358 9 123 4567"},
    {"netvisor_key": 502, "code": "A1010", "business_id": business_id(1764098), "name": "Viherrakenne Lahtinen Oy",
     "street": "Puistotie 4", "city": "Tampere", "zip": "33100", "country": "FI"},
    {"netvisor_key": 503, "code": "A1020", "business_id": "", "name": "Matti Mallikas", "is_private": True,
     "street": "Koivukuja 2 A 5", "city": "Espoo", "zip": "02100", "country": "FI"},
]

PRODUCTS = [
    {"netvisor_key": 601, "code": "LAN25", "name": "Puutarhalannoite 25 kg", "unit_price": "32.00",
     "vat_percent": "25.5", "unit": "kpl", "group": "Lannoitteet", "primary_ean": "6412345678903"},
    {"netvisor_key": 602, "code": "MUL50", "name": "Katekuori 50 l", "unit_price": "8.90",
     "vat_percent": "25.5", "unit": "säkki", "group": "Katteet"},
    {"netvisor_key": 603, "code": "SIE10", "name": "Siemenpussi, 10 lajia", "unit_price": "14.90",
     "vat_percent": "14", "unit": "kpl", "group": "Siemenet"},
]


def build(today=None):
    today = today or datetime.date.today()
    invoices = []
    for number, (vendor_index, days_ago, lines) in enumerate(PURCHASES, 1):
        vendor = VENDORS[vendor_index]
        date = today - datetime.timedelta(days=days_ago)
        seed_lines, total = [], 0
        for description, code, quantity, unit_net, percent, vat_code, account in lines:
            net = (Decimal(unit_net) * quantity).quantize(Decimal("0.01"), ROUND_HALF_UP)
            # an EU goods purchase carries no Finnish VAT on the invoice (reverse charge)
            rate = 0 if vat_code in ("EUOS", "EUPO") else Decimal(percent)
            gross = (net * (1 + Decimal(rate) / 100)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            total += gross
            seed_lines.append({
                "description": description, "product_code": code, "product_name": description,
                "quantity": str(quantity), "unit": "kpl", "unit_price": unit_net, "vat_percent": percent,
                "vat_code": vat_code, "line_sum": str(gross), "line_net_sum": str(net), "account": account,
            })
        invoice_number = f"{vendor['code']}-{today.year}-{number:04d}"
        invoices.append({
            "number": invoice_number, "date": date.isoformat(),
            "due_date": (date + datetime.timedelta(days=14)).isoformat(),
            "reference": "", "amount": str(total), "currency": "EUR",
            "modified": f"{date.isoformat()}T09:{number:02d}:00",
            "description": f"Lasku {invoice_number}", "vendor": dict(vendor), "lines": seed_lines,
            "attachments": [{"filename": f"{invoice_number}.pdf", "content_type": "application/pdf",
                             "base64": base64.b64encode(pdf([
                                 vendor["name"], f"LASKU {invoice_number}", f"Päiväys {date.isoformat()}",
                                 *(f"{line['description']}  {line['line_sum']} EUR" for line in seed_lines),
                                 f"Yhteensä {total} EUR"])).decode()}],
        })
    return {
        "partners": [{"partner_id": PARTNER_ID, "partner_key": PARTNER_KEY}],
        "organisations": [{
            "organisation_id": ORGANISATION_ID,
            "name": ORGANISATION_NAME,
            "customers": [{"customer_id": CUSTOMER_ID, "customer_key": CUSTOMER_KEY}],
            "data": {
                "purchase_invoices": invoices,
                "customers": CUSTOMERS,
                "products": PRODUCTS,
            },
        }],
    }


if __name__ == "__main__":
    json.dump(build(), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
