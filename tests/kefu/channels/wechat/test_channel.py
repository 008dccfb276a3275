"""The WeChat channel against a local fake of WeChat's API, with pushes built by wechatpy's own crypto."""
from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from fakes.wechat import (
    AES_KEY,
    APPID,
    PREVIOUS_AES_KEY,
    SECRET,
    TOKEN,
    FakeWeChatApi,
    WeChatServer,
    fake_wechat_api,
    fixture,
)
from kefu.app import appkeys
from kefu.app.gateway import create_app
from kefu.app.services import Services
from kefu.channels.wechat.api import SharedTokenClient
from kefu.config.channels import ChannelSettings
from kefu.config.settings import Settings
from kefu.core import keys
from kefu.core.conversations import ConversationStore
from kefu.core.messages import Button, OutboundMessage
from kefu.ops.stack import free_port


def wechat_settings(redis_url: str, api_base_url: str, **overrides: str) -> Settings:
    channels = ChannelSettings(wechat_appid=APPID, wechat_token=TOKEN, wechat_secret=SECRET,
                               wechat_aes_key=AES_KEY, wechat_previous_aes_key=PREVIOUS_AES_KEY,
                               wechat_api_base_url=api_base_url)
    return Settings(redis_url=redis_url, rasa_url="http://127.0.0.1:9", rasa_token="t", identity_secret="s",
                    port=free_port(), channels=dataclasses.replace(channels, **overrides))


@dataclass
class Rig:
    base_url: str
    services: Services
    api: FakeWeChatApi
    wechat: WeChatServer
    redis: aioredis.Redis
    session: aiohttp.ClientSession

    async def stored(self) -> int:
        """How many messages reached the inbox streams."""
        shards = self.services.settings.shards
        return sum([await self.redis.xlen(keys.inbox_stream(s)) for s in range(shards)])

    def plain(self) -> WeChatServer:
        return WeChatServer(self.wechat.url, self.session, aes_key=None)


@pytest.fixture
async def rig(redis_url: str, redis_client: aioredis.Redis) -> AsyncIterator[Rig]:
    """A gateway serving /webhooks/wechat without a pipeline: each test plays the bot itself."""
    async with fake_wechat_api() as api:
        settings = wechat_settings(redis_url, api.base_url)
        app = create_app(settings, run_pipeline=False)
        app[appkeys.RECEIVERS]["wechat"].passive.wait_s = 0.5  # the real 4 s would only slow the tests down
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        async with aiohttp.ClientSession() as session:
            url = f"{settings.public_origin}/webhooks/wechat"
            yield Rig(settings.public_origin, app[appkeys.SERVICES], api, WeChatServer(url, session), redis_client, session)
        await runner.cleanup()


async def bot_answers(rig: Rig, conversation_id: str, text: str, delay: float = 0.05, **extra) -> None:
    """What the pipeline does once the bot has answered: deliver the reply (store it, then send it).
    Like the pipeline, it answers only a message that was stored."""
    store = ConversationStore(rig.redis)
    while not any(e["role"] == "customer" for e in await store.transcript(conversation_id)):
        await asyncio.sleep(0.01)
    await asyncio.sleep(delay)
    await rig.services.delivery.deliver("wechat", OutboundMessage(conversation_id=conversation_id, text=text, **extra))


async def test_url_verification_echoes_only_when_signed(rig: Rig) -> None:
    ts, nonce = str(int(time.time())), "n1"
    good = {"timestamp": ts, "nonce": nonce, "echostr": "e-123", "signature": rig.wechat.sign(ts, nonce)}
    async with rig.session.get(rig.wechat.url, params=good) as response:
        assert (response.status, await response.text()) == (200, "e-123")
    async with rig.session.get(rig.wechat.url, params=good | {"signature": "0" * 40}) as response:
        assert response.status == 403


async def test_safe_mode_text_gets_passive_reply_that_cannot_break_the_xml(rig: Rig) -> None:
    evil = "好的]]><MsgType>news</MsgType><![CDATA[ & <b>"
    push = rig.wechat.push(fixture("text", openid="oAlice", msg_id="1001", content="我的订单到哪了"))
    answering = asyncio.create_task(bot_answers(rig, "wechat:oAlice", evil))
    status, body = await rig.wechat.send(push)
    await answering
    assert status == 200
    assert rig.wechat.reply_text(body) == evil
    assert rig.api.sent == []
    transcript = await ConversationStore(rig.redis).transcript("wechat:oAlice")
    assert [(e["role"], e["text"]) for e in transcript] == [("customer", "我的订单到哪了"), ("bot", evil)]


async def test_previous_aes_key_still_accepted_and_reply_uses_current_key(rig: Rig) -> None:
    old = WeChatServer(rig.wechat.url, rig.session, aes_key=PREVIOUS_AES_KEY)
    answering = asyncio.create_task(bot_answers(rig, "wechat:oBob", "hello"))
    status, body = await old.send(old.push(fixture("text", openid="oBob", msg_id="2001", content="hi")))
    await answering
    assert status == 200
    assert rig.wechat.reply_text(body) == "hello"  # decrypted with the current key


async def test_plain_mode_is_refused_when_safe_mode_is_configured(rig: Rig) -> None:
    status, _ = await rig.plain().deliver(fixture("text", openid="oX", msg_id="3001", content="hi"))
    assert status == 400
    assert await rig.stored() == 0


def _bad_pushes(rig: Rig) -> dict[str, tuple[object, int]]:
    text = fixture("text", openid="oMallory", msg_id="4001", content="hi")
    good = rig.wechat.push(text)
    old = rig.wechat.push(text, timestamp=int(time.time()) - 301)
    other_app = WeChatServer(rig.wechat.url, rig.session, appid="wx0000000000000000").push(text)
    other_token = WeChatServer(rig.wechat.url, rig.session, token="not-our-token").push(text)
    no_signature = rig.wechat.push(text)
    del no_signature.query["msg_signature"]
    bad_base64 = rig.wechat.push(text)
    bad_base64.body = b"<xml><Encrypt><![CDATA[!!!not base64***]]></Encrypt></xml>"
    bad_base64.query["msg_signature"] = rig.wechat.sign(
        bad_base64.query["timestamp"], bad_base64.query["nonce"], "!!!not base64***")
    malformed = rig.wechat.push(text)
    malformed.body = b"<xml><Encrypt>unclosed"

    def encrypted_raw(xml: str):
        push = rig.wechat.push(xml)
        return push

    return {
        "missing signature": (no_signature, 403),
        "bad signature (other token)": (other_token, 403),
        "timestamp older than 5 minutes": (old, 403),
        "wrong appid": (other_app, 400),
        "bad base64": (bad_base64, 400),
        "malformed outer XML": (malformed, 400),
        "malformed inner XML": (encrypted_raw("<xml><MsgType>text</MsgType"), 400),
        "inner XML without a sender": (encrypted_raw("<xml><MsgType>text</MsgType><Content>x</Content></xml>"), 400),
        "inner XML with a nested sender": (encrypted_raw(
            "<xml><MsgType>text</MsgType><FromUserName><a>1</a></FromUserName></xml>"), 400),
        "inner XML without fields": (encrypted_raw("<xml/>"), 400),
        "XXE inside the ciphertext": (encrypted_raw(fixture("xxe", openid="oMallory", msg_id="4002")), 400),
        "billion laughs inside": (encrypted_raw(fixture("billion_laughs", openid="oMallory", msg_id="4003")), 400),
        "good one": (good, 200),
    }


async def test_every_bad_push_is_refused_with_4xx_and_nothing_is_stored(rig: Rig) -> None:
    pushes = _bad_pushes(rig)
    good, _ = pushes.pop("good one")
    for name, (push, status) in pushes.items():
        got, body = await rig.wechat.send(push)
        assert got == status, (name, got, body)
    assert await rig.stored() == 0
    assert not await rig.redis.keys("kefu:conv:*")
    # The same request again is a replay: refused, even though it was valid the first time.
    answering = asyncio.create_task(bot_answers(rig, "wechat:oMallory", "ok"))
    assert (await rig.wechat.send(good))[0] == 200
    await answering
    assert (await rig.wechat.send(good))[0] == 409
    assert await rig.stored() == 1


async def test_doctype_in_plain_body_and_oversized_body_refused(redis_url: str) -> None:
    async with fake_wechat_api() as api:
        settings = wechat_settings(redis_url, api.base_url, wechat_aes_key="", wechat_previous_aes_key="")
        app = create_app(settings, run_pipeline=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        try:
            async with aiohttp.ClientSession() as session:
                plain = WeChatServer(f"{settings.public_origin}/webhooks/wechat", session, aes_key=None)
                for name in ("xxe", "billion_laughs"):
                    status, _ = await plain.deliver(fixture(name, openid="oEve", msg_id="5001"))
                    assert status == 400, name
                huge = fixture("text", openid="oEve", msg_id="5002", content="好" * 30_000)
                status, _ = await plain.deliver(huge)
                assert status == 413
                status, _ = await plain.send(plain.push(fixture("text", openid="oEve", msg_id="5003", content="x"))
                                             .__class__(query={}, body=b"<xml/>"))
                assert status in (400, 403)
        finally:
            await runner.cleanup()


async def test_same_msgid_three_times_and_slow_bot_give_one_customer_service_message(rig: Rig) -> None:
    """WeChat gives up after 5 s and retries twice: one stored message, ``success``, then one CS message."""
    xml = fixture("text", openid="oCarol", msg_id="6001", content="退款")
    statuses = [await rig.wechat.deliver(xml) for _ in range(3)]
    assert statuses == [(200, "success")] * 3
    assert await rig.stored() == 1
    await bot_answers(rig, "wechat:oCarol", "退款已受理", delay=0)  # the slow bot answers at last
    assert rig.api.texts_to("oCarol") == ["退款已受理"]
    assert rig.api.token_fetches == 1


async def test_buttons_fall_back_to_text_choices(rig: Rig) -> None:
    push = rig.wechat.push(fixture("text", openid="oDan", msg_id="6101", content="取消订单"))
    answering = asyncio.create_task(bot_answers(
        rig, "wechat:oDan", "确认取消吗？", buttons=(Button("是", "/affirm"), Button("否", "/deny"))))
    _, body = await rig.wechat.send(push)
    await answering
    assert rig.wechat.reply_text(body) == "确认取消吗？\n(是 / 否)"


async def test_second_reply_of_a_turn_goes_through_the_api(rig: Rig) -> None:
    push = rig.wechat.push(fixture("text", openid="oErin", msg_id="6201", content="hi"))

    async def two_replies() -> None:
        await bot_answers(rig, "wechat:oErin", "first")
        await bot_answers(rig, "wechat:oErin", "second", delay=0)

    answering = asyncio.create_task(two_replies())
    _, body = await rig.wechat.send(push)
    await answering
    assert rig.wechat.reply_text(body) == "first"
    assert rig.api.texts_to("oErin") == ["second"]


@pytest.mark.parametrize("errcode, reason", [(45015, "window_closed"), (45047, "quota_exceeded")])
async def test_undeliverable_reply_is_kept_and_flagged_for_agents(rig: Rig, errcode: int, reason: str) -> None:
    rig.api.errors["oFay"] = errcode
    assert await rig.wechat.deliver(fixture("text", openid="oFay", msg_id=f"7{errcode}", content="hi")) \
        == (200, "success")
    await bot_answers(rig, "wechat:oFay", "late answer", delay=0)
    transcript = await ConversationStore(rig.redis).transcript("wechat:oFay")
    assert transcript[-1]["text"] == "late answer"
    assert transcript[-1]["undelivered"] == reason


async def test_reply_after_the_48_hour_window_is_not_sent(rig: Rig) -> None:
    assert (await rig.wechat.deliver(fixture("text", openid="oGus", msg_id="7101", content="hi")))[0] == 200
    await rig.redis.delete("kefu:wx:window:oGus")  # as if 48 hours had passed
    await bot_answers(rig, "wechat:oGus", "too late", delay=0)
    assert rig.api.sent == []
    assert (await ConversationStore(rig.redis).transcript("wechat:oGus"))[-1]["undelivered"] == "window_closed"


@pytest.mark.parametrize("kind, route_text, answer_key", [
    ("image", "[图片 image] http://mmbiz.qpic.cn/mmbiz_jpg/demo/0", "channels.unsupported"),
    ("location", "[位置 location] 上海市黄浦区人民广场 (31.2304, 121.4737)", "channels.unsupported"),
    ("video", "[shortvideo]", "channels.unsupported"),
    ("subscribe", "[关注 subscribe]", "smalltalk.greet"),
])
async def test_non_text_messages_are_kept_for_agents_and_answered_politely(
    rig: Rig, kind: str, route_text: str, answer_key: str
) -> None:
    from kefu.core.i18n import t

    xml = fixture(kind, openid="oHan", msg_id="8001")
    status, body = await rig.wechat.deliver(xml)
    assert status == 200
    assert rig.wechat.reply_text(body) == t(answer_key, "zh")
    assert await rig.stored() == 0  # not sent to the bot
    transcript = await ConversationStore(rig.redis).transcript("wechat:oHan")
    assert [e["text"] for e in transcript] == [route_text, t(answer_key, "zh")]
    assert await rig.wechat.deliver(xml) == (200, "success")  # WeChat's retry: no second answer


async def test_too_long_message_is_kept_for_agents_and_answered_with_the_limit(rig: Rig) -> None:
    from kefu.core.i18n import t

    text = "我的订单到底什么时候发货" * 200  # 2,400 characters; the limit is 2,000
    xml = fixture("text", openid="oJoy", msg_id="8201", content=text)
    status, body = await rig.wechat.deliver(xml)
    assert status == 200
    assert rig.wechat.reply_text(body) == t("gateway.too_long", "zh", limit=2000)
    assert await rig.stored() == 0  # not sent to the bot
    transcript = await ConversationStore(rig.redis).transcript("wechat:oJoy")
    assert [e["text"] for e in transcript if e["role"] == "customer"] == [text[:2000] + " […400 more characters]"]
    assert await rig.wechat.deliver(xml) == (200, "success")  # WeChat's retry: kept once, answered once


async def test_a_text_goes_to_the_conversation_of_the_link_another_process_made_or_undid(rig: Rig) -> None:
    """The receiver guesses the link (kefu/channels/recent_links.py) and the inbox's script checks the guess."""
    store = ConversationStore(rig.redis)
    await rig.redis.set(keys.link("wechat", "oKim"), "c7001")  # linked through another gateway
    for number, text in enumerate(("运费怎么算", "发票怎么开")):
        status, body = await rig.wechat.deliver(fixture("text", openid="oKim", msg_id=f"870{number}", content=text))
        assert (status, body) == (200, "success")
    assert [e["text"] for e in await store.transcript("cust:c7001")] == ["运费怎么算", "发票怎么开"]
    await rig.redis.delete(keys.link("wechat", "oKim"))  # unlinked elsewhere: the user's own conversation again
    assert (await rig.wechat.deliver(fixture("text", openid="oKim", msg_id="8702", content="退货")))[0] == 200
    assert [e["text"] for e in await store.transcript("wechat:oKim")] == ["退货"]
    assert await rig.stored() == 3  # each once, although two were taken in on a second try
    assert await rig.redis.exists(keys.wechat_window("oKim"))


async def test_voice_with_recognition_is_a_text_message(rig: Rig) -> None:
    answering = asyncio.create_task(bot_answers(rig, "wechat:oIvy", "收到"))
    status, body = await rig.wechat.deliver(fixture("voice", openid="oIvy", msg_id="8101", content="我要退货"))
    await answering
    assert status == 200
    assert rig.wechat.reply_text(body) == "收到"
    assert (await ConversationStore(rig.redis).transcript("wechat:oIvy"))[0]["text"] == "我要退货"


async def test_access_token_is_fetched_once_by_concurrent_processes_and_refreshed_when_invalid(
    redis_url: str,
) -> None:
    async with fake_wechat_api() as api:
        api.token_delay_s = 0.2
        clients = [SharedTokenClient(APPID, SECRET, redis_url, api.base_url) for _ in range(3)]
        try:
            await asyncio.gather(*(asyncio.to_thread(c.message.send_text, f"o{i}", "hi")
                                   for i, c in enumerate(clients)))
            assert api.token_fetches == 1
            assert len(api.sent) == 3
            api.valid_tokens.clear()  # WeChat revoked it (or another app fetched one)
            await asyncio.gather(*(asyncio.to_thread(c.message.send_text, f"o{i}", "again")
                                   for i, c in enumerate(clients)))
            assert api.token_fetches == 2
            assert len(api.sent) == 6
        finally:
            for client in clients:
                client.close()
