"""``python -m kefu``: Kefu's command line (run, worker, setup, train, seed-demo, demo-event, eval, users,
telegram).

Benchmarks are ``python -m bench`` (bench/__main__.py): kefu does not import them."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from kefu.config.logs import configure_logging


def _run(args: argparse.Namespace) -> int:
    from kefu.app import eventloop
    from kefu.ops.run import serve

    eventloop.run(serve())
    return 0


def _worker(args: argparse.Namespace) -> int:
    from kefu.app import eventloop
    from kefu.app.worker import work
    from kefu.ops.runtime import settings_from_env

    eventloop.run(work(settings_from_env()))
    return 0


def _setup(args: argparse.Namespace) -> int:
    from kefu.config.devenv import load_dev_env
    from kefu.ops.model import train

    load_dev_env()
    model = train()
    print(f"model: {model.relative_to(model.parent.parent)}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from kefu.ops.model import train

    print(train(force=args.force))
    return 0


def _seed_demo(args: argparse.Namespace) -> int:
    from kefu.cli.redis_check import redis_missing
    from kefu.config.redis_url import redacted
    from kefu.ops.runtime import seed_demo, settings_from_env

    settings = settings_from_env()
    if not settings.demo:
        # REDIS_URL is set (or KEFU_DEMO=0): it may be a shop's real Redis, which must never get demo orders.
        print(f"not in demo mode: {redacted(settings.redis_url)} may be a real shop's Redis; "
              "set KEFU_DEMO=1 to load the demo orders there anyway", file=sys.stderr)
        return 2
    if redis_missing(settings.redis_url):
        return 2
    print(json.dumps(asyncio.run(seed_demo(settings.redis_url)), ensure_ascii=False))
    return 0


def _demo_event(args: argparse.Namespace) -> int:
    from kefu.cli.demo_event import emit

    return emit(args.order, args.type)


def _eval(args: argparse.Namespace) -> int:
    from kefu.eval.evaluate import Evaluator, read_cases, report, score
    from kefu.ops.runtime import on_free_ports, running_stack, settings_from_env

    cases = read_cases(Path(args.cases))
    settings = on_free_ports(settings_from_env())

    async def play() -> list[dict]:
        async with running_stack(settings, scratch=True):
            return await Evaluator(settings, args.customer, args.concurrency).run(cases)

    predictions = asyncio.run(play())
    lines = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in predictions)
    if args.out:
        Path(args.out).write_text(lines, encoding="utf-8")
    else:
        sys.stdout.write(lines)
    scores = score(cases, predictions)
    if scores:
        print(report(scores), file=sys.stderr)
    return 0


def _telegram(args: argparse.Namespace) -> int:
    from kefu.cli.telegram import poll, set_webhook
    from kefu.ops.runtime import settings_from_env

    settings = settings_from_env()
    if args.action == "set-webhook":
        print("webhook set" if asyncio.run(set_webhook(settings, args.url)) else "Telegram refused the webhook")
        return 0
    asyncio.run(poll(settings))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kefu", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start Redis, Rasa, the action server and the gateway").set_defaults(func=_run)
    commands.add_parser("worker", help="run one pipeline worker against an existing stack (REDIS_URL, "
                                       "KEFU_RASA_URL)").set_defaults(func=_worker)
    commands.add_parser("setup", help="dev secrets and a trained model").set_defaults(func=_setup)
    train = commands.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true", help="train even when the model is up to date")
    train.set_defaults(func=_train)
    commands.add_parser("seed-demo", help="(re)load the demo orders into Redis (demo mode only: "
                                                        "KEFU_DEMO)").set_defaults(func=_seed_demo)
    demo = commands.add_parser("demo-event", help="move a demo order on and send its customer the update (demo "
                                                  "mode only)")
    demo.add_argument("order", help="a demo order id, e.g. DD20261104002")
    from kefu.orders.demo import DEMO_EVENT_TYPES

    demo.add_argument("type", choices=DEMO_EVENT_TYPES)
    demo.set_defaults(func=_demo_event)
    evaluate = commands.add_parser("eval", help="play labelled cases through the pipeline")
    evaluate.add_argument("--cases", required=True, help="JSONL, one case per line")
    evaluate.add_argument("--out", help="write predictions here instead of stdout")
    evaluate.add_argument("--customer", default="c1001", help="signed-in demo customer the cases chat as")
    evaluate.add_argument("--concurrency", type=int, default=4)
    evaluate.set_defaults(func=_eval)
    from kefu.cli.users import add_parser as add_users_parser

    add_users_parser(commands)
    telegram = commands.add_parser("telegram", help="Telegram: register the webhook, or long-poll locally")
    telegram_actions = telegram.add_subparsers(dest="action", required=True)
    webhook = telegram_actions.add_parser("set-webhook", help="point Telegram at <gateway>/webhooks/telegram")
    webhook.add_argument("--url", required=True, help="public https URL ending in /webhooks/telegram")
    webhook.set_defaults(func=_telegram)
    telegram_actions.add_parser("polling", help="pull updates into the inbox (local development)").set_defaults(
        func=_telegram)
    args = parser.parse_args(argv)
    configure_logging()
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
