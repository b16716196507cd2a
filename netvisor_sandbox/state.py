"""Sandbox state: partners, organisations with their customers (API users), per
organisation collections of records, seen transaction ids, statistics."""

import collections
import copy
import itertools
import json
import threading


class Organisation:
    def __init__(self, organisation_id, name="", customers=None, disabled_resources=(), key_start=1000):
        self.organisation_id = organisation_id
        self.name = name or organisation_id
        self.customers = dict(customers or {})  # customer_id -> customer_key
        self.disabled_resources = set(r.lower() for r in disabled_resources)
        self.collections = collections.defaultdict(dict)  # name -> {key: record}
        self._keys = itertools.count(key_start)
        self.busy = threading.Lock()  # one request at a time, as Netvisor asks
        self.active = 0
        self.max_active = 0
        self.overlaps = 0

    def next_key(self):
        return next(self._keys)

    def bump_keys(self, used):
        """Keep generated keys above seeded ones."""
        current = next(self._keys)
        self._keys = itertools.count(max(current, int(used) + 1))

    def add(self, collection, record, key=None):
        """Store ``record`` (a dict) under a new or given key, after the resource module's
        normaliser for that collection filled its defaults. Returns the stored dict."""
        from .resources import NORMALIZERS

        record = dict(record)
        key = key if key is not None else record.get("netvisor_key")
        key = int(key) if key is not None else self.next_key()
        if key is not None:
            self.bump_keys(key)
        record["netvisor_key"] = key
        if collection in NORMALIZERS:
            NORMALIZERS[collection](self, record)
        self.collections[collection][key] = record
        return record

    def dump(self):
        return {
            "organisation_id": self.organisation_id,
            "name": self.name,
            "max_active": self.max_active,
            "overlaps": self.overlaps,
            "data": {name: list(items.values()) for name, items in self.collections.items()},
        }


class SandboxState:
    """Everything the sandbox remembers. Records of each collection are normalised by
    the resource modules (``resources.NORMALIZERS``)."""

    def __init__(self):
        self.lock = threading.RLock()
        self.partners = {}  # partner_id -> partner_key
        self.organisations = {}  # organisation_id -> Organisation
        self.transaction_ids = set()
        self.stats = collections.Counter()
        self.requests = []  # (resource, method, organisation, outcome) for tests; bounded
        self.max_log = 100000

    # -------------------------------------------------------- setup

    def add_partner(self, partner_id, partner_key):
        self.partners[partner_id] = partner_key

    def add_organisation(self, organisation_id, customer_id, customer_key, name="", disabled_resources=()):
        with self.lock:
            org = self.organisations.get(organisation_id)
            if org is None:
                org = self.organisations[organisation_id] = Organisation(
                    organisation_id, name=name, disabled_resources=disabled_resources)
            org.customers[customer_id] = customer_key
            return org

    def load_seed(self, seed):
        """``seed``: dict (or path to JSON) with ``partners`` and ``organisations``."""
        if isinstance(seed, str):
            with open(seed, encoding="utf-8") as handle:
                seed = json.load(handle)
        with self.lock:
            for partner in seed.get("partners", []):
                self.add_partner(partner["partner_id"], partner["partner_key"])
            for org_seed in seed.get("organisations", []):
                org = None
                for customer in org_seed.get("customers", []):
                    org = self.add_organisation(
                        org_seed["organisation_id"], customer["customer_id"], customer["customer_key"],
                        name=org_seed.get("name", ""), disabled_resources=org_seed.get("disabled_resources", ()))
                if org is None:
                    raise ValueError(f"organisation {org_seed['organisation_id']} has no customers (API users)")
                if org_seed.get("next_key"):
                    org.bump_keys(int(org_seed["next_key"]) - 1)
                for collection, items in (org_seed.get("data") or {}).items():
                    for item in items:
                        org.add(collection, copy.deepcopy(item))

    def snapshot(self):
        """The whole state in seed format (``load_seed`` reads it back), for ``--state-file``."""
        with self.lock:
            return {
                "partners": [{"partner_id": k, "partner_key": v} for k, v in self.partners.items()],
                "organisations": [{
                    "organisation_id": org.organisation_id,
                    "name": org.name,
                    "customers": [{"customer_id": k, "customer_key": v} for k, v in org.customers.items()],
                    "disabled_resources": sorted(org.disabled_resources),
                    "next_key": org.next_key(),
                    "data": {name: list(items.values()) for name, items in org.collections.items()},
                } for org in self.organisations.values()],
            }

    def reset(self):
        with self.lock:
            self.partners.clear()
            self.organisations.clear()
            self.transaction_ids.clear()
            self.stats.clear()
            self.requests.clear()

    # -------------------------------------------------------- bookkeeping

    def record(self, resource, method, organisation_id, outcome):
        with self.lock:
            self.stats["requests"] += 1
            self.stats[f"outcome:{outcome}"] += 1
            self.stats[f"resource:{resource}"] += 1
            if len(self.requests) < self.max_log:
                self.requests.append((resource, method, organisation_id, outcome))

    def dump(self):
        with self.lock:
            return {
                "stats": dict(self.stats),
                "organisations": [org.dump() for org in self.organisations.values()],
            }
