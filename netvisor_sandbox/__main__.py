"""``python -m netvisor_sandbox --host 127.0.0.1 --port 8765 --seed seed.json``"""

import argparse
import json
import logging
import os
import signal
import sys

if __package__ in (None, ""):  # allow ``python netvisor_sandbox`` too
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "netvisor_sandbox"

from netvisor_sandbox.server import SandboxServer  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(prog="netvisor_sandbox", description="Local Netvisor API emulator")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (keep it on loopback)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", help="JSON seed file (partners, organisations, data)")
    parser.add_argument("--state-file", help="keep the state across restarts: loaded at start when it exists "
                        "(instead of --seed), written at shutdown")
    parser.add_argument("--max-skew", type=int, default=300, help="allowed clock skew in seconds")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--failure-rate", type=float, default=0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    seed = args.seed
    if args.state_file and os.path.exists(args.state_file):
        seed = args.state_file
    server = SandboxServer(args.host, args.port, seed=seed, max_skew=args.max_skew)
    server.faults.configure(latency_ms=args.latency_ms, failure_rate=args.failure_rate)
    logging.getLogger("netvisor_sandbox").info("Netvisor sandbox listening on %s", server.base_url)
    signal.signal(signal.SIGTERM, lambda *_args: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if args.state_file:
            with open(args.state_file, "w", encoding="utf-8") as handle:
                json.dump(server.state.snapshot(), handle, ensure_ascii=False, default=str)


if __name__ == "__main__":
    main()
