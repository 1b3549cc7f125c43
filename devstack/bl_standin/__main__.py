"""``python -m devstack.bl_standin --port 0 --seed-demo-company``: run the stand-in until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading

from devstack.bl_standin.server import BLStandIn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local Björn Lundén API stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed-demo-company", action="store_true", help="register an activated demo company")
    parser.add_argument("--token-ttl", type=float, default=3600.0, help="token lifetime in seconds")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with BLStandIn(args.host, args.port, token_ttl_s=args.token_ttl) as standin:
        print(f"BL_BASE_URL={standin.base_url}", flush=True)
        print(f"BL_TOKEN_URL={standin.token_url}", flush=True)
        print(f"BL_CLIENT_ID={standin.client_id}", flush=True)
        print(f"BL_CLIENT_SECRET={standin.client_secret}", flush=True)
        print(f"BL_ADMIN_URL={standin.url}/_admin", flush=True)
        if args.seed_demo_company:
            print(f"BL_DEMO_USER_KEY={standin.seed_demo_company().user_key}", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
