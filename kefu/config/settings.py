"""Kefu's configuration: read from the environment once at start-up, validated, then passed in."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kefu.config.channels import ChannelSettings
from kefu.config.commitments import CommitmentSettings
from kefu.config.demo import demo_mode
from kefu.config.dialogue import DialogueSettings, rasa_urls
from kefu.config.env import integer, positive_integer, required, text
from kefu.config.handoff import HandoffSettings
from kefu.config.orders import OrderSettings
from kefu.config.outage import OutageSettings
from kefu.config.redis_url import redis_url
from kefu.config.retention import RetentionSettings
from kefu.config.service_levels import ServiceLevels
from kefu.config.shop import ShopSettings
from kefu.config.webchat import WebChatSettings

# How long a shop's signature of its customer is accepted (kefu/core/identity.py): a day covers a shopping
# session on an open page; the shop signs afresh on every page it renders.
DEFAULT_IDENTITY_MAX_AGE_S = 86_400

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """Everything the gateway, pipeline and CLI need to know about their surroundings."""

    redis_url: str
    rasa_url: str
    rasa_token: str
    identity_secret: str
    identity_max_age_s: int = DEFAULT_IDENTITY_MAX_AGE_S
    # The demo page and demo orders (kefu/config/demo.py). Off unless asked for, so settings built in code
    # (tests, evals, benches) never serve signatures or seed orders by accident.
    demo: bool = False
    host: str = "127.0.0.1"
    port: int = 8080
    actions_port: int = 5055
    allowed_origins: tuple[str, ...] = ()
    max_message_chars: int = 2000
    shards: int = 16
    # Gateway processes sharing the port, and pipeline processes beside them (kefu/ops/processes.py); 0 workers
    # runs the pipeline inside the gateways' own event loops.
    gateways: int = 2
    pipeline_workers: int = 1
    # How much lower the CPU priority of the answering processes (workers, Rasa, action server) is than the
    # gateway's: under load, taking a message in (WeChat's and Telegram's deadlines) goes before answering it.
    background_nice: int = 10
    rasa_timeout_s: float = 30.0
    project_root: Path = field(default=PROJECT_ROOT)
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    # WeChat and Telegram credentials (issue 4): each channel is served only when configured.
    channels: ChannelSettings = field(default_factory=ChannelSettings)
    # The same order backend and shop facts the action server reads (actions/runtime.py), read here once.
    orders: OrderSettings = field(default_factory=OrderSettings)
    shop: ShopSettings = field(default_factory=ShopSettings)
    # Proactive order updates and the satisfaction survey (kefu/config/commitments.py).
    commitments: CommitmentSettings = field(default_factory=CommitmentSettings)
    # Rasa's processes and each conversation's bounded tracker (kefu/config/dialogue.py).
    dialogue: DialogueSettings = field(default_factory=DialogueSettings)
    # How long per-message bookkeeping stays in Redis, and how much of it (kefu/config/retention.py).
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    # Web chat's socket and message limits, and trusted reverse proxies (kefu/config/webchat.py).
    webchat: WebChatSettings = field(default_factory=WebChatSettings)
    # First-response targets, the QA sample's share and the /metrics token (kefu/config/service_levels.py).
    service_levels: ServiceLevels = field(default_factory=ServiceLevels)
    # When a long Rasa outage offers waiting customers a person (kefu/config/outage.py).
    outage: OutageSettings = field(default_factory=OutageSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        origins = tuple(o.strip().rstrip("/") for o in env.get("KEFU_ALLOWED_ORIGINS", "").split(",") if o.strip())
        shop = ShopSettings.from_env(env)
        return cls(
            redis_url=redis_url(env),
            rasa_url=text(env, "KEFU_RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            rasa_token=required(env, "KEFU_RASA_TOKEN"),
            identity_secret=required(env, "KEFU_IDENTITY_SECRET"),
            identity_max_age_s=positive_integer(env, "KEFU_IDENTITY_MAX_AGE_S", DEFAULT_IDENTITY_MAX_AGE_S),
            demo=demo_mode(env),
            host=text(env, "KEFU_HOST", "127.0.0.1"),
            port=integer(env, "KEFU_PORT", 8080),
            actions_port=integer(env, "KEFU_ACTIONS_PORT", 5055),
            allowed_origins=origins,
            max_message_chars=integer(env, "KEFU_MAX_MESSAGE_CHARS", 2000),
            shards=integer(env, "KEFU_SHARDS", 16),
            gateways=max(1, integer(env, "KEFU_GATEWAYS", 2)),
            pipeline_workers=max(0, integer(env, "KEFU_PIPELINE_WORKERS", 1)),
            background_nice=integer(env, "KEFU_BACKGROUND_NICE", 10),
            handoff=HandoffSettings.from_env(env, shop.tz),
            channels=ChannelSettings.from_env(env),
            orders=OrderSettings.from_env(env),
            shop=shop,
            commitments=CommitmentSettings.from_env(env),
            dialogue=DialogueSettings.from_env(env),
            retention=RetentionSettings.from_env(env),
            webchat=WebChatSettings.from_env(env),
            service_levels=ServiceLevels.from_env(env),
            outage=OutageSettings.from_env(env),
        )

    @property
    def rasa_urls(self) -> tuple[str, ...]:
        """Every Rasa process's URL; a conversation is always answered by the same one (kefu/dialogue)."""
        return rasa_urls(self.rasa_url, self.dialogue.rasa_processes)

    @property
    def public_origin(self) -> str:
        """The origin the demo page is served from; always allowed to open the chat websocket."""
        return f"http://{self.host}:{self.port}"
