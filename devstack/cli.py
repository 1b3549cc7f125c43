"""The dayclose-dev command: the local stack for trying dayclose by hand (not part of the service itself).

  dayclose-dev up            PostgreSQL, Kafka with every topic, the BL stand-in with a demo company, a merchant
                             activated with the sample plan, `dayclose run` and `dayclose api`; prints the URLs
                             and the environment (keys generated, an API token minted) and returns
  dayclose-dev publish-day   a store day and its day close on the sales topic (the sample, or --file), then
                             waits for its voucher
  dayclose-dev down          stop all of it (its data goes with it)
  dayclose-dev demo          the whole story end to end, checked (`make demo`)
  dayclose-dev postgres|kafka|bl   one local service in the foreground until Ctrl-C

State (the supervisor's pid, the environment, the logs of `run` and `api`) lives in .dayclose-dev/ (or --dir,
or DAYCLOSE_DEV_DIR). Needs the [dev] extra (`make dev-up` installs it).
"""

from __future__ import annotations

import argparse
import os
import runpy
import signal
import subprocess
import sys
import time
from pathlib import Path

from devstack import publish
from devstack.stack import Ports, Stack, describe

EX_UNAVAILABLE = 69
DEFAULT_DIR = ".dayclose-dev"
SERVICES = {"postgres": "devstack.postgres_process", "kafka": "devstack.kafka_process", "bl": "devstack.bl_standin"}


def _directory(args: argparse.Namespace) -> Path:
    return Path(args.dir or os.environ.get("DAYCLOSE_DEV_DIR") or DEFAULT_DIR).resolve()


def up(args: argparse.Namespace) -> int:
    directory = _directory(args)
    running = Stack.load(directory)
    if running is not None and running.alive():
        print(describe(running, directory))
        return 0
    ports = Ports(args.api_port, args.run_port, args.bl_port)
    if args.foreground:
        from devstack.stack import serve

        return serve(directory, ports)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "logs").mkdir(exist_ok=True)
    log_path = directory / "logs" / "stack.log"
    argv = [sys.executable, "-m", "devstack.cli", "serve", "--dir", str(directory)]
    argv += ["--api-port", str(args.api_port), "--run-port", str(args.run_port), "--bl-port", str(args.bl_port)]
    with log_path.open("ab") as log:
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        stack = Stack.load(directory)
        if stack is not None and stack.pid == child.pid:
            print(describe(stack, directory))
            return 0
        if child.poll() is not None:
            break
        time.sleep(0.2)  # deadline-bounded polling interval
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        child.wait(60)
    print(f"the local stack did not start; {log_path}:\n" + log_path.read_text(errors="replace")[-4000:])
    return 1


def down(args: argparse.Namespace) -> int:
    directory = _directory(args)
    stack = Stack.load(directory)
    if stack is None or not stack.alive():
        print(f"no local stack is running from {directory}")
        return 0
    os.kill(stack.pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while stack.alive() and time.monotonic() < deadline:
        time.sleep(0.2)  # deadline-bounded polling interval
    if stack.alive():
        print(f"the supervisor (pid {stack.pid}) did not stop within {args.timeout:g} s", file=sys.stderr)
        return 1
    print("local stack stopped")
    return 0


def publish_day(args: argparse.Namespace) -> int:
    env = {**publish_env(_directory(args)), **os.environ}
    if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
        print("no KAFKA_BOOTSTRAP_SERVERS: run `dayclose-dev up` (or set it)", file=sys.stderr)
        return EX_UNAVAILABLE
    if args.file:
        records = publish.read_avro_json(Path(args.file))
    else:
        records = publish.sample_day(args.org, args.store, args.date, args.receipts, args.z_report_number)
    if args.save:
        publish.write_avro_json(records, Path(args.save))
        print(f"wrote {len(records)} events to {args.save} (Avro JSON, one per line; publish it with --file)")
    topic = env.get("DAYCLOSE_SALES_TOPIC") or "pos.sales.v1"
    sent = publish.publish(records, env["KAFKA_BOOTSTRAP_SERVERS"], topic)
    closes = publish.day_closes(records)
    print(f"published {sent} events to {topic}: " + ", ".join(f"{o}/{s} {d} closed" for o, s, d in closes))
    if args.no_wait or not closes:
        return 0
    database_url = env.get("DATABASE_URL")
    if not database_url:
        print("no DATABASE_URL to follow the export with; pass --no-wait", file=sys.stderr)
        return EX_UNAVAILABLE
    code = 0
    for store_day in closes:
        exports = publish.wait_for_exports(database_url, store_day, args.wait)
        org, store, day = store_day
        if exports is None:
            print(f"{org}/{store} {day}: not booked within {args.wait:g} s (see `dayclose exports list --org {org}`)")
            code = 1
            continue
        for e in exports:
            if e.status == "booked":
                debit = f"{e.total_debit_ore / 100:.2f}" if e.total_debit_ore is not None else "0.00"
                print(f"{org}/{store} {day}: booked as voucher {e.series} {e.number} ({debit} SEK debit = credit)")
            else:
                print(f"{org}/{store} {day}: {e.status} {e.reason_code or ''}".rstrip())
                code = 1
    return code


def publish_env(directory: Path) -> dict[str, str]:
    stack = Stack.load(directory)
    return dict(stack.env) if stack else {}


def demo(args: argparse.Namespace) -> int:
    from devstack.demo import main as run_demo

    return run_demo(quick=args.quick)


def one_service(args: argparse.Namespace) -> int:
    module = SERVICES[args.command]
    sys.argv = [module, *args.rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    return 0


def serve(args: argparse.Namespace) -> int:
    from devstack.stack import serve as run_stack

    return run_stack(_directory(args), Ports(args.api_port, args.run_port, args.bl_port))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dayclose-dev", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary, func in (
        ("up", "start the local stack and print its environment", up),
        ("serve", argparse.SUPPRESS, serve),
    ):
        p = sub.add_parser(name, help=summary, description="Start the local stack (see dayclose-dev --help).")
        p.add_argument("--dir", help=f"state directory (default {DEFAULT_DIR}, or DAYCLOSE_DEV_DIR)")
        p.add_argument("--api-port", type=int, default=0, help="port of `dayclose api` (default: a free one)")
        p.add_argument("--run-port", type=int, default=0, help="port of `dayclose run`'s /metrics (default: free)")
        p.add_argument("--bl-port", type=int, default=0, help="port of the BL stand-in (default: a free one)")
        p.add_argument("--foreground", action="store_true", help="stay in the foreground until Ctrl-C")
        p.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the stack to be ready")
        p.set_defaults(func=func)
    d = sub.add_parser("down", help="stop the local stack", description="Stop the local stack; its data goes.")
    d.add_argument("--dir", help=f"state directory (default {DEFAULT_DIR}, or DAYCLOSE_DEV_DIR)")
    d.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for it to stop")
    d.set_defaults(func=down)
    _add_publish(sub)
    m = sub.add_parser("demo", help="the service end to end, checked (make demo)", description=_demo_doc())
    m.add_argument("--quick", action="store_true", help="a smaller day, for CI")
    m.set_defaults(func=demo)
    for name, module in SERVICES.items():
        s = sub.add_parser(name, help=f"run {module} until Ctrl-C", description=f"python -m {module} [options]")
        s.add_argument("rest", nargs=argparse.REMAINDER, help="its own options (--help shows them)")
        s.set_defaults(func=one_service)
    return parser


def _demo_doc() -> str:
    from devstack import demo as demo_module

    return (demo_module.__doc__ or "").strip().split("\n\n")[0]


def _add_publish(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "publish-day",
        help="publish a store day and its day close, then wait for its voucher",
        description=(publish.__doc__ or "").strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dir", help=f"state directory of `up` (default {DEFAULT_DIR}), for the environment")
    p.add_argument("--file", help="sales events in Avro JSON, one per line (instead of the sample day)")
    p.add_argument("--save", help="also write the events published to this file (Avro JSON)")
    p.add_argument("--org", default=publish.DEMO_ORG, help=f"sample: organization (default {publish.DEMO_ORG})")
    p.add_argument("--store", default=publish.DEMO_STORE, help=f"sample: store (default {publish.DEMO_STORE})")
    p.add_argument("--date", type=_date, default=publish.DEMO_DATE, help=f"sample: business date ({publish.DEMO_DATE})")
    p.add_argument("--receipts", type=int, default=40, help="sample: receipts in the day (default 40)")
    p.add_argument("--z-report-number", type=int, default=1, help="sample: the day close's Z-report number")
    p.add_argument("--wait", type=float, default=90.0, help="seconds to wait for the voucher (default 90)")
    p.add_argument("--no-wait", action="store_true", help="publish and return")
    p.set_defaults(func=publish_day)


def _date(text: str) -> object:
    from dayclose.commands.common import iso_date

    return iso_date(text)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import openapi_schema_validator  # noqa: F401 - the BL stand-in validates requests with it
    except ImportError:
        print("dayclose-dev needs the [dev] extra: pip install -e '.[dev]' (or `make dev-up`)", file=sys.stderr)
        return EX_UNAVAILABLE
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
