"""Resource registry. Each module registers its handlers with :func:`resource` and
its seed loaders with :func:`seed_loader`; import it at the bottom of this file."""

HANDLERS = {}  # (resource name, method) -> callable(Request) -> payload XML str
SEED_LOADERS = {}  # collection name -> callable(Organisation, dict)


def resource(name, method="GET"):
    def register(func):
        HANDLERS[(name.lower(), method.upper())] = func
        return func

    return register


def seed_loader(collection):
    def register(func):
        SEED_LOADERS[collection] = func
        return func

    return register


from . import purchase_invoices  # noqa: E402,F401
