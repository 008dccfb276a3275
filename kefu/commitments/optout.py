"""The customer's choice to stop (or restart) proactive order updates: a typed command or a button, remembered
in Redis per conversation (a signed-in customer's is one across channels) and honoured by every order update."""
from __future__ import annotations

import re

import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.conversations import ConversationStore
from kefu.core.delivery import Delivery
from kefu.core.i18n import language_of, t
from kefu.core.messages import Button, InboundMessage, OutboundMessage

STOP_PAYLOAD = "/stop_updates"
START_PAYLOAD = "/start_updates"
_END = r"\s*[.!。！]*\s*$"
STOP = re.compile(r"^\s*(?:stop (?:order )?(?:updates|notifications)|unsubscribe|退订(?:订单)?通知|退订|取消(?:订单)?通知|"
                  r"关闭(?:订单)?通知|不要(?:再)?(?:发)?通知)" + _END, re.IGNORECASE)
START = re.compile(r"^\s*(?:(?:start|resume) (?:order )?(?:updates|notifications)|subscribe|恢复(?:订单)?通知|"
                   r"开启(?:订单)?通知|订阅(?:订单)?通知)" + _END, re.IGNORECASE)


def command_of(message: InboundMessage) -> str | None:
    """``stop``, ``start`` or None: a button's payload, else the typed words."""
    payload = message.metadata.get("payload")
    if payload:
        return {STOP_PAYLOAD: "stop", START_PAYLOAD: "start"}.get(payload)
    if STOP.match(message.text):
        return "stop"
    if START.match(message.text):
        return "start"
    return None


def stop_button(lang: str | None) -> Button:
    """Carried by every order update, so stopping them is one tap (typed on WeChat: the title is the command)."""
    return Button(t("commitments.stop_button", lang), STOP_PAYLOAD)


class OptOuts:
    def __init__(self, redis: aioredis.Redis, conversations: ConversationStore, delivery: Delivery) -> None:
        self.redis = redis
        self.conversations = conversations
        self.delivery = delivery

    async def opted_out(self, conversation_id: str) -> bool:
        return bool(await self.redis.exists(keys.updates_opted_out(conversation_id)))

    async def intercept(self, message: InboundMessage) -> bool:
        """Pipeline interceptor: a stop/start command is answered here and never reaches Rasa."""
        command = command_of(message)
        if command is None:
            return False
        conversation_id = await self.conversations.live_id(message.conversation_id)
        if command == "stop":
            await self.redis.set(keys.updates_opted_out(conversation_id), "1")
        else:
            await self.redis.delete(keys.updates_opted_out(conversation_id))
        lang = language_of(message.text, (await self.conversations.record(conversation_id)).get("lang"))
        answer = t("commitments.stopped" if command == "stop" else "commitments.started", lang)
        await self.delivery.deliver(message.channel, OutboundMessage(conversation_id, answer, role="system"))
        return True
