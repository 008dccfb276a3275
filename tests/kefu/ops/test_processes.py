"""``make run``'s process layout: two gateways on one port, the pipeline in a worker process that is restarted."""
from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import socket

import pytest
import redis.asyncio as aioredis

from kefu.app.server import serving_gateway
from kefu.config.settings import Settings
from kefu.ops.processes import running_processes
from tests.helpers.gateway import chat

pytestmark = pytest.mark.stack


async def _lease_owners(redis: aioredis.Redis) -> set[str]:
    return {await redis.get(key) async for key in redis.scan_iter("kefu:lease:*")}


async def test_gateways_share_the_port_and_a_worker_answers_and_is_restarted(
    stack_settings: Settings, redis_client: aioredis.Redis
) -> None:
    settings = dataclasses.replace(stack_settings, gateways=2, pipeline_workers=1)
    async with serving_gateway(settings), running_processes(settings) as (gateways, workers):
        base = settings.public_origin
        # Separate connections: the kernel spreads them over both gateways; every one is answered.
        for _ in range(4):
            async with chat(base, customer_id="c1001", secret=settings.identity_secret) as customer:
                assert "¥99" in await customer.ask("运费怎么算")
        # The answers came from the worker: it holds the shard leases, this process (a gateway) none.
        owners = await _lease_owners(redis_client)
        assert owners and all(f"-{os.getpid()}-" not in owner for owner in owners)
        assert all(owner.startswith(f"{socket.gethostname()}-{workers.pids[0]}-") for owner in owners)
        assert gateways.restarts == 0 and len(gateways.pids) == 1

        dead = workers.pids[0]
        os.kill(dead, signal.SIGKILL)
        for _ in range(100):
            if workers.restarts == 1 and workers.pids[0] != dead:
                break
            await asyncio.sleep(0.2)
        assert workers.restarts == 1 and workers.pids[0] != dead
        # The dead worker's leases were released at once, not left to expire: the new one takes its shards.
        assert not any(owner.startswith(f"{socket.gethostname()}-{dead}-")
                       for owner in await _lease_owners(redis_client))
        async with chat(base, customer_id="c1002", secret=settings.identity_secret) as customer:
            assert "99" in await customer.ask("how much is shipping", timeout=90)
