"""``python -m bench <name>``: run one benchmark against its own stack and print its table."""
from __future__ import annotations

import argparse
import sys

from kefu.config.logs import configure_logging


def _handoff(args: argparse.Namespace) -> int:
    from bench.handoff import run

    return run(args.count)


def _wechat(args: argparse.Namespace) -> int:
    from bench.wechat import run

    return run()


def _faults(args: argparse.Namespace) -> int:
    from bench.faults import FAULTS, run

    return run(tuple(args.only or FAULTS))


def _fuzz(args: argparse.Namespace) -> int:
    from bench.fuzz import run

    return run(args.seed)


def _webchat(args: argparse.Namespace) -> int:
    from bench.webchat import run

    return run(["--scale", str(args.scale)])


def main(argv: list[str] | None = None) -> int:
    """Parse the bench's name and options; each bench is imported only when chosen (they start whole stacks)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    benches = parser.add_subparsers(dest="bench", required=True)
    handoff = benches.add_parser("handoff", help="trigger message -> ticket on an agent's console")
    handoff.add_argument("--count", type=int, default=100)
    handoff.set_defaults(func=_handoff)
    benches.add_parser("wechat", help="WeChat ack latency (50 senders) and duplicate replies over 1,000 "
                                      "replayed deliveries").set_defaults(func=_wechat)
    faults = benches.add_parser("faults", help="kill -9 each process in turn under load: lost, duplicated, "
                                               "recovery")
    faults.add_argument("--only", nargs="*", choices=["gateway", "worker", "rasa", "actions", "redis"])
    faults.set_defaults(func=_faults)
    fuzz = benches.add_parser("fuzz", help="10,000 malformed and forged inputs on every channel and console "
                                           "route: no 5xx, nothing lost")
    fuzz.add_argument("--seed", type=int, default=1)
    fuzz.set_defaults(func=_fuzz)
    webchat = benches.add_parser("webchat", help="Kefu's web chat beside stock Rasa on the same model: "
                                                 "throughput, latency, a 500-turn conversation")
    webchat.add_argument("--scale", type=float, default=1.0, help="shorter (<1) or longer (>1) runs")
    webchat.set_defaults(func=_webchat)
    args = parser.parse_args(argv)
    configure_logging()
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
