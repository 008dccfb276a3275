"""Topics that need no order: shop policy, ticket status, small talk, handoff, out of scope, fallback."""
from __future__ import annotations

import re

from actions.registry import topic
from actions.turn import Turn
from kefu.core.offers import INTENT_OF_KIND, offer
from kefu.core.tickets import Ticket
from kefu.orders.base import Order

# Policy questions by keyword, in both languages; the first matching ones are answered, else a summary.
POLICY_KEYWORDS: dict[str, re.Pattern[str]] = {
    "destinations": re.compile(r"国外|海外|境外|国际|港澳台|香港|澳门|台湾|哪些地区|哪些城市|配送范围|送不送|能送到|能寄到|能发到"
                               r"|偏远|abroad|overseas|international|worldwide|countr(?:y|ies)|(?:ship|send|deliver)"
                               r"(?:ping|y|s)? (?:\w+ )?(?:to|outside)\b|which (?:regions|areas|cities)|po box",
                               re.IGNORECASE),
    "shipping_fee": re.compile(r"运费|邮费|包邮|免运费|免邮|shipping (?:fee|cost|charge)|delivery (?:fee|cost|charge)"
                               r"|free shipping|postage", re.IGNORECASE),
    "delivery_time": re.compile(r"多久|几天|多长时间|什么时候到|配送时间|发货时间|时效|送达|how long|delivery time"
                                r"|how many (?:business |working )?days|when (?:will|would) .* (?:arrive|ship)|dispatch"
                                r"|how (?:fast|soon|quickly)|transit time|timeframe|delivery period", re.IGNORECASE),
    "delivery_options": re.compile(r"配送方式|快递方式|送货方式|自提|上门|加急|当日达|次日达|快递柜|驿站|代收"
                                   r"|(?:delivery|shipping) (?:options?|methods?|choices|services|types|speeds?)"
                                   r"|express|same[- ]day|next[- ]day|overnight|pick ?up|collect|locker"
                                   r"|home delivery|ways? (?:of|to) deliver", re.IGNORECASE),
    "couriers": re.compile(r"快递|物流公司|顺丰|圆通|中通|京东物流|courier|carrier|which express|logistics company",
                           re.IGNORECASE),
    "payment": re.compile(r"支付|付款|微信支付|支付宝|花呗|信用卡|分期|货到付款|payment|pay with|pay by|alipay"
                          r"|wechat pay|credit card|instal?lment|cash on delivery", re.IGNORECASE),
    "cancellation": re.compile(r"取消.{0,8}(?:费|收费|扣钱|扣款|违约金|损失)|cancel\w* (?:\w+ ){0,3}(?:fee|charge|penalt|cost)"
                               r"|(?:fee|charge|penalt\w*|cost|charged?|pay anything) (?:\w+ ){0,4}cancel", re.IGNORECASE),
    "refunds": re.compile(r"退款(?:规则|政策|条件)|什么情况.{0,6}退款|refund (?:policy|rules|conditions)|money[- ]back"
                          r"|reimburse\w* policy|(?:cases|conditions|circumstances) .*(?:refund|money back|reimburs)",
                          re.IGNORECASE),
    "returns": re.compile(r"退货|退换|七天|7天|7 天|无理由|return policy|returns?\b|exchange policy", re.IGNORECASE),
    "warranty": re.compile(r"保修|质保|维修|三包|warranty|guarantee|repair", re.IGNORECASE),
}

# Questions Kefu cannot act on, by subject (checked in this order: price protection before prices, instalments
# before accounts). Each gets an honest answer; those that need a person also offer one (buttons, never a claim).
SCOPE_KEYWORDS: dict[str, re.Pattern[str]] = {
    "price_protection": re.compile(r"价保|保价|价格保护|差价|降价|price protection|price (?:drop|match|adjust)"
                                   r"|price (?:went|goes|has gone) down|difference in price|price difference"
                                   r"|cheaper (?:now|after|since)", re.IGNORECASE),
    "installments": re.compile(r"白条|分期|花呗|免息|instal?l?ments?|pay (?:later|monthly|in parts)|\bemi\b"
                               r"|monthly payments|split (?:the|my)? ?payment", re.IGNORECASE),
    "account": re.compile(r"账号|帐号|账户|帐户|注册|登录|登陆|密码|会员|绑定|换绑|注销|个人信息|订阅|退订|推送|短信|邮件|验证码"
                          r"|account|sign ?(?:up|in)|log ?in|password|regist|profile|subscri|mailing list|newsletter"
                          r"|e-?mails?\b", re.IGNORECASE),
    "review": re.compile(r"评价|晒单|追评|好评|差评|打分|评分|review|rating|rate (?:a|the|my|your)|feedback|opinion",
                         re.IGNORECASE),
    "reschedule": re.compile(r"改期|改天送|推迟.{0,4}送|晚.{0,4}送|换个时间送|家里没人|不在家|reschedul|another day"
                             r"|(?:won't|will not|not) be (?:at )?home|later date|deliver (?:it )?later", re.IGNORECASE),
    "stock": re.compile(r"有货|没货|现货|库存|补货|到货|缺货|断货|in stock|out of stock|restock|back in stock|availab",
                        re.IGNORECASE),
    "price": re.compile(r"多少钱|价格|价钱|便宜|优惠|券|满减|活动|折扣|促销|秒杀|coupon|promo|discount|voucher|\bdeals?\b"
                        r"|\bsale\b|price|how much (?:is|does|for)|\bcost", re.IGNORECASE),
    "place_order": re.compile(r"下单|下个单|购买|怎么买|购物车|帮我买|我想买|place (?:an |my )?order|\bbuy\b|purchase|\bcart\b"
                              r"|check ?out", re.IGNORECASE),
    "product": re.compile(r"这个|这款|那款|哪款|尺码|尺寸|大小|材质|型号|颜色|适合|能用|怎么用|使用|成分|保质期|正品|推荐|效果|区别"
                          r"|\bsize|\bfit\b|material|compatib|ingredient|colou?r|\bmodel|recommend|suggest|genuine"
                          r"|original|authentic|which (?:one|is better)|does (?:it|this)|is (?:it|this) (?:good|safe|suitable)"
                          r"|how (?:do|to) (?:i )?use", re.IGNORECASE),
}
# Subjects where the honest answer is "I can't do that here", so a colleague is offered.
OFFER_PERSON = frozenset({"price_protection", "account", "reschedule", "stock", "price", "product"})

SMALLTALK_KEYS = {"greet": "smalltalk.greet", "goodbye": "smalltalk.goodbye", "thank": "smalltalk.thank"}
KIND_OF_INTENT = {intent: kind for kind, intent in INTENT_OF_KIND.items()}


def policy_topics(text: str) -> list[str]:
    """The policy subjects the question mentions, in catalog order."""
    return [name for name, pattern in POLICY_KEYWORDS.items() if pattern.search(text)]


def scope_subject(text: str) -> str | None:
    """What an out-of-scope question is about (the first subject that matches), or None for anything else."""
    return next((name for name, pattern in SCOPE_KEYWORDS.items() if pattern.search(text)), None)


@topic("policy")
async def policy(turn: Turn, order: Order | None) -> None:
    subjects = policy_topics(turn.text)
    if not subjects:
        turn.say("policy.summary")
        return
    turn.say_text("\n".join(turn.tr(f"policy.{subject}") for subject in subjects))


def _visible_ticket(turn: Turn, ticket: Ticket | None) -> Ticket | None:
    """A ticket is shown to its customer, or to anyone quoting the id of a ticket opened anonymously."""
    if ticket is None:
        return None
    if ticket.customer_id is None or ticket.customer_id == turn.identity.customer_id:
        return ticket
    return None


@topic("ticket_status")
async def ticket_status(turn: Turn, order: Order | None) -> None:
    tickets = turn.services.tickets
    ticket_id = turn.entity("ticket_id")
    if ticket_id:
        ticket = _visible_ticket(turn, await tickets.get(ticket_id.strip().upper()))
        if ticket is None:
            turn.say("ticket.not_found", id=ticket_id.upper())
            return
    elif turn.identity.signed_in:
        ticket = await tickets.latest_for(turn.identity.customer_id or "")
        if ticket is None:
            turn.say("ticket.none")
            return
    else:
        turn.say("ticket.ask_id")
        return
    turn.say("ticket.status", id=ticket.id, reason=turn.label("label.ticket_reason", ticket.reason),
             status=turn.label("label.ticket_state", ticket.status), updated=turn.when(ticket.updated_at),
             note=ticket.last_update or turn.tr("ticket.no_note"))


@topic("smalltalk")
async def smalltalk(turn: Turn, order: Order | None) -> None:
    turn.say(SMALLTALK_KEYS.get(turn.intent, "smalltalk.greet"))


@topic("handoff", clears_awaiting=True)
async def handoff(turn: Turn, order: Order | None) -> None:
    """Reached only when the gateway opened no handoff (below its confidence threshold; a handoff replaces this
    reply): so the bot asks, never claims a transfer, and the "yes" button sends the intent the handoff acts on."""
    text, buttons = offer(KIND_OF_INTENT.get(turn.intent, "human"), turn.lang)
    turn.say_text(text, [{"title": button.title, "payload": button.payload} for button in buttons])


@topic("out_of_scope")
async def out_of_scope(turn: Turn, order: Order | None) -> None:
    """Never an order topic: where we ship is policy; price protection, stock, accounts and product questions get
    what we can honestly say and the offer of a colleague, whose "yes" button opens a handoff (request_human)."""
    if POLICY_KEYWORDS["destinations"].search(turn.text):
        turn.say("policy.destinations")
        return
    subject = scope_subject(turn.text)
    if subject is None:
        turn.say("out_of_scope")
        return
    answer = turn.tr(f"scope.{subject}")
    if subject not in OFFER_PERSON:
        turn.say_text(answer)
        return
    question, buttons = offer("human", turn.lang)
    turn.say_text(f"{answer} {question}", [{"title": button.title, "payload": button.payload} for button in buttons])


@topic("fallback")
async def fallback(turn: Turn, order: Order | None) -> None:
    turn.say("fallback.rephrase")
