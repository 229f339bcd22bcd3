#!/usr/bin/env python3
"""Generate the bundled demo data that `voc demo` runs on.

All Chinese text below was written for this project (it is not taken from any
public dataset).  The generator is deterministic: it uses a single
``random.Random(20261123)`` and only the standard library, so running

    .venv/bin/python voc/demo/make_demo.py

always rewrites byte-identical files next to this script:

    reviews_shop_a.csv      UTF-8 CSV, English header, ~260 rows, planted problems
    reviews_shop_b_gbk.csv  GBK CSV, Chinese header, ~160 rows
    chats.tsv               UTF-8 TSV of customer-service sessions

The script prints the counts and the line numbers of everything planted; those
numbers are copied into README.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261123
rng = random.Random(SEED)

TSHIRT, EARBUDS, NUTS = "纯棉短袖T恤", "蓝牙降噪耳机", "每日坚果礼盒"
PRODUCTS = [TSHIRT, EARBUDS, NUTS]
START = dt.date(2026, 10, 1)
N_DAYS = 36  # 2026-10-01 .. 2026-11-05
DAYS = [START + dt.timedelta(days=i) for i in range(N_DAYS)]
SPIKE_DAYS = DAYS[-3:]  # 2026-11-03 .. 2026-11-05
PRE_SPIKE_DAYS = DAYS[:-3]

_ALT = re.compile(r"\{([^{}]*)\}")


def x(template: str) -> str:
    """Expand every ``{a|b|c}`` group in a template with one random option."""
    return _ALT.sub(lambda m: rng.choice(m.group(1).split("|")), template)


def wchoice(pairs):
    """Weighted choice from a list of (item, weight)."""
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights, k=1)[0]


# ---------------------------------------------------------------------------
# Review clause material.  Keys are (category, polarity) as in LABELS.md.
# Templates carry no final punctuation unless they are questions ("？").
# ---------------------------------------------------------------------------
Q, NEED, SP, CAMP, LOG, SERV, OTHER = (
    "product_quality",
    "product_need",
    "selling_point",
    "campaign_issue",
    "logistics",
    "service",
    "other",
)
POS, NEG, NEU = "positive", "negative", "neutral"

MATERIAL = {
    TSHIRT: {
        (Q, NEG): [
            "{才|}洗了一次就掉色了",
            "洗一次就褪色{了|得厉害}，和别的衣服一起洗全染了",
            "{穿了两次|才穿了几天}就起球了",
            "腋下{那块|}起球{特别|很}严重",
            "尺码偏小，{平时穿L的|我平时L码}这次L{根本穿不下|勒得慌}",
            "比平时{小一码|小了一个号}，{建议大家|大家记得}拍大一码",
            "洗完缩水{好严重|太严重了}，{衣长|长度}短了一大截",
            "领口洗两次就{松了|变形了|成荷叶边了}",
            "线头{特别|超级}多，{剪了半天|剪都剪不完}",
            "有一股{刺鼻|很重|奇怪}的味道，{晾了两天|洗了}还有",
            "面料{太薄了|薄得透光}，白色{的|}{根本没法单穿|里面穿什么都看得见}",
            "颜色和图片{差别很大|差太多了}，{说是藏青|图上是藏青}收到{跟黑色一样|发灰}",
            "袖口{开线了|的缝线开了}",
            "胸前印花洗一次就{裂了|开始掉了}",
            "摸着{不像|一点都不像}纯棉，{有点扎|滑滑的像化纤}",
            "白色的{领口|下摆}有{一块|几个}黄色污渍",
            "下摆{缝歪了|一边长一边短}",
            "肩线位置不对，穿上{肩膀那里鼓一块|特别别扭}",
            "{质量|做工}太差了，{跟地摊货差不多|不值这个价}",
            "穿一天就皱得{不行|跟咸菜一样}",
            "性价比很差，{这质量|这种料子}顶多值二十块",
            "{第二次买的|这次收到的}{和第一次|跟上次}{完全不一样|明显不是一个料子}，薄了好多",
        ],
        (NEED, NEU): [
            "是纯棉的吗？",
            "请问{这款|}是{100%|}纯棉的吗？",
            "有XL吗？",
            "{有没有|请问有}XXL{的|码}？{胖子|我}想买",
            "身高175体重140斤{穿什么码|选L还是XL}？",
            "{能不能|可以}机洗？",
            "{第一次洗|洗了}会不会缩水？",
            "有{黑色|藏青色|浅灰色}的吗？",
            "领口是圆领还是V领？",
            "{白色|浅色}的透不透？",
            "男女款{有区别吗|是一样的吗}？",
            "{面料|这个}是多少支的棉？",
            "夏天穿{热不热|会不会闷}？",
            "能不能出个长袖款？",
            "{请问|}{衣长|肩宽}多少{厘米|}？",
        ],
        (NEED, NEG): [
            "没有XXL{，太遗憾了|，胖子哭了}",
            "颜色{太少了|就四个}，要是有{浅蓝色|卡其色}就好了",
            "尺码表{写得不清楚|太笼统}，{都不知道选哪个|看半天没看懂}",
        ],
        (SP, POS): [
            "面料{很|挺|超级|特别}舒服",
            "纯棉的{很|挺}透气{，夏天穿不闷|，出汗也不粘身|}",
            "版型{很好看|挺正的|很显精神}",
            "做工{不错|很细致}，{没有线头|走线很直}",
            "洗了{好几次|三四次}{都没变形|也没缩水|颜色还是很正}",
            "颜色{很正|和图片一样|挺高级的}",
            "厚度{刚好|适中}，白色{的|}{也不透|单穿不透}",
            "{性价比超高|三件才这个价太划算了|这个价格买到这种质量很值}",
            "穿着{很|}{显瘦|有型}",
            "{上身效果|上身}比图片还好看",
            "领口{很挺|不容易变形|做得很好}",
            "吸汗{效果不错|很好}，{打球|健身}穿{很合适|刚好}",
            "尺码{很标准|很准}，{按平时的码拍就行|175的L刚好}",
            "{手感|摸起来}{软软的|很柔软|很细腻}",
            "{老公|男朋友|儿子}穿着说{很舒服|很喜欢}",
            "{已经|}回购{第三次|好几次}了，{质量一直很稳定|每次都不错}",
            "{没有异味|拆开一点味道都没有}，{直接|}就能穿",
        ],
    },
    EARBUDS: {
        (Q, NEG): [
            "充电盒{坏了|的盖子坏了}，{盖子|合页}{合不上|松了}",
            "续航{太短|很短}，{一个多小时|不到两个小时}就没电了",
            "降噪效果{很一般|几乎没有}，{地铁上|开了}{还是很吵|跟没开一样}",
            "右耳{有电流声|滋滋响}",
            "{连接|蓝牙}{经常断|老是断开}，{走两步|手机放口袋里}就断",
            "戴久了耳朵{疼|胀痛}",
            "{打电话|通话}对方{听不清|说我声音很小}",
            "{看视频|打游戏}{声音|}有延迟{，口型对不上|}",
            "左右耳音量不一样{大|}",
            "{开盖|}{不弹窗|连接很慢}，每次都要{重新配对|去设置里连}",
            "音质{发闷|很闷|一般}，{高音刺耳|低音糊成一片}",
            "底噪{很大|明显}，{安静的时候|不放歌时}{能听到沙沙声|嗡嗡响}",
            "触控{太灵敏|不灵}，{一碰就暂停|点好几下都没反应}",
            "{和|跟}宣传的{差太多|不一样}，{根本|}没有{40dB|那么强的}降噪",
            "包装里{没有说明书|少了充电线}",
            "性价比{很差|不高}，{这音质|这个效果}{不值这个价|还不如几十块的}",
            "戴着跑步{老是掉|一甩就掉}，{耳塞换了大号也没用|跑两圈就得按一下}",
        ],
        (NEED, NEU): [
            "能连iPhone吗？",
            "{安卓手机|华为手机|小米手机}能{用|连}吗？",
            "能{同时连|一拖二连}{电脑和手机|两台设备}吗？",
            "{防水吗|防不防汗}？{跑步|健身}的时候能戴吗",
            "续航{到底|}{多久|能用几个小时}？",
            "有没有{低延迟|游戏}模式？",
            "充电盒支持无线充吗？",
            "能{单耳|只戴一只}用吗？",
            "有白色的吗？",
            "降噪模式{怎么切换|在哪里开}？",
            "{要是|}有APP能调音就好了",
            "{耳塞|耳帽}有{几个尺寸|大中小吗}？",
            "{戴眼镜|耳朵小}的{人|}戴着会不会{掉|不舒服}？",
            "支持{LDAC|高清}{编码|音质}吗？",
        ],
        (NEED, NEG): [
            "{居然|}不支持无线充{，有点失望|，差评}",
            "没有{APP|调音功能}，{不能自定义EQ|有点可惜}",
            "颜色只有黑白两种{，太单调了|，想要个蓝色的都没有}",
        ],
        (SP, POS): [
            "降噪效果{很好|超出预期|很强}",
            "{开了降噪|戴上}{地铁上|办公室里}{一下就安静了|很安静}",
            "音质{很好|不错|很清晰}，低音{很足|很有弹性}",
            "续航{很给力|很顶}，{一周充一次|充一次能用好几天}",
            "佩戴{很舒服|很稳}，{跑步都不掉|戴一下午耳朵也不疼}",
            "连接{很稳|很快}，{开盖就连上|从来没断过}",
            "{打电话|通话}{很清楚|很清晰}，{风噪处理得也不错|对方说声音很干净}",
            "颜值{很高|在线}，{白色|}{很好看|很有质感}",
            "充电盒{小巧|很小}，{放口袋里|揣兜里}{刚好|没负担}",
            "{性价比很高|比大牌便宜一半效果差不多|这个价位能买到降噪很值}",
            "透明模式{很自然|不错}，{跟人说话不用摘|点一下就能听到外面}",
            "延迟{很低|几乎感觉不到}，{看视频|打游戏}{没问题|很流畅}",
            "{iPhone|安卓手机}连得{很顺畅|很快}",
        ],
    },
    NUTS: {
        (Q, NEG): [
            "有好几颗坏果",
            "{打开|吃的时候}有一股{哈喇味|油哈味}",
            "核桃{是苦的|发苦}，{吃了一口就吐了|像放了很久}",
            "腰果{软了|一点都不脆}，{像受潮了|嚼着像泡过水}",
            "有{几包|两包}{漏气了|没封好}",
            "分量{比以前少了|越来越少}，{一包没几颗|半包是果干}",
            "{葡萄干|果干}{粘成一坨|都黏在一起}",
            "{碎渣|碎末}{很多|一大半}，{完整的没几颗|像筛剩下的}",
            "有一包{发霉了|长毛了}{，太恶心了|}",
            "{太咸了|盐放太多}，{吃完口渴|齁得慌}",
            "{榛子|开心果}{好多都是空壳|不开口的很多}",
            "{生产日期|日期}{不新鲜|是半年前的}，{快过期了|没几个月就过期}",
            "{巴旦木|扁桃仁}{有股怪味|味道怪怪的}",
            "{里面|有一包里}{有虫子|吃出了小虫}",
            "性价比{很差|太低}，{这种品质|一盒就这点}{不值|不如超市散装}",
            "礼盒{里|内}的{手提袋|说明卡}{没有|没放}",
            "跟{宣传图|图片}{差太多|完全不一样}，{图上满满一包|图上那么多坚果}",
        ],
        (NEED, NEU): [
            "生产日期是{几月|哪天}的？",
            "保质期{多久|是几个月}？",
            "{坚果|核桃}产地是哪里的？",
            "孕妇{可以吃吗|能吃吗}？",
            "{三岁|两岁多}的{孩子|宝宝}能吃吗？",
            "有没有{不加糖|无盐|原味}的？",
            "一盒{多少包|有几包}？{够吃一个月吗|}",
            "是{独立小包装|一天一包}吗？",
            "里面有花生吗？{孩子过敏|我对花生过敏}",
            "{要是|}能多放点{巴旦木|腰果}就好了",
            "礼盒有手提袋吗？{想送人|送长辈用}",
            "{开封后|拆开后}{怎么保存|要放冰箱吗}？",
            "{每包|一包}多少克？",
            "{果干|蔓越莓}{是加糖的吗|含糖高吗}？",
            "糖尿病人能吃吗？",
        ],
        (NEED, NEG): [
            "{包装上|}{没写产地|找不到产地}，{有点不放心|希望标清楚}",
            "只有30包一种规格，{没有|希望出}小盒装",
            "{果干太多|坚果太少}，{希望调整一下比例|要是全是坚果就好了}",
        ],
        (SP, POS): [
            "口感{香脆|很脆|酥脆}",
            "{很新鲜|特别新鲜}，{没有哈喇味|一点油哈味都没有}",
            "每天一包{很方便|刚刚好}，{上班|出门}带着{吃|}",
            "{搭配|种类}{很合理|很丰富}，{果干和坚果比例刚好|每天换着吃不腻}",
            "{包装很精美|礼盒很大气}，送人{很有面子|拿得出手}",
            "{一点都不咸|不咸不腻|原味的很健康}",
            "蔓越莓{酸甜|酸酸甜甜}{好吃|的很开胃}",
            "孩子{很爱吃|每天都要吃一包}",
            "颗粒{饱满|很大}，{核桃仁|腰果}{很完整|一颗颗的}",
            "{性价比高|比超市便宜不少|价格实惠}",
            "{老人|爸妈|爷爷奶奶}也{爱吃|说好吃}",
            "{独立包装|小包装}{很卫生|不容易受潮}",
            "{日期很新|生产日期是上个月的}，{很放心|吃着新鲜}",
            "{当早餐|当下午茶}{配酸奶|配牛奶}{绝了|很香}",
            "{第二次买了|回购好几次了}，{还是那么好吃|品质很稳定}",
        ],
        (LOG, NEG): [
            "礼盒{被压扁了|的角都压坏了}，送人{没法送了|太尴尬了}",
        ],
    },
}

SHARED = {
    (CAMP, NEG): [
        "优惠券用不了{，一直提示不满足条件|，白领了|}",
        "{刚买|买完第二天}就降价{了|二十块}{，心塞|，太坑了|}",
        "赠品{没收到|一直没发}",
        "满减{没算上|没减}，{说好的满199减30|结算的时候才发现}",
        "申请价保{被拒了|说不符合条件}",
        "说好的{第二件半价|买二送一}{没减|结果没有}",
        "{活动页|详情页}写{送小样|有赠品}，结果{什么都没有|没送}",
        "{直播间|别的店}{比这里|}便宜{一大截|好多}",
        "{赠品|送的东西}{质量太差|很廉价}，{还不如不送|一看就是凑数的}",
        "积分{没到账|说好的双倍没给}",
        "{定金|预售定金}付了{不能退|尾款时间还特别晚}",
        "{活动规则|满减规则}{太复杂了|看不懂}，{算了半天|绕来绕去}",
        "{领的|店铺}券{过期|到期}了{都没提醒|才发现}",
        "{邮费|运费}{比东西还贵|居然要十块}",
    ],
    (CAMP, POS): [
        "{活动价|这次活动}{很划算|很实惠}",
        "领券{之后|后}{很便宜|才几十块}",
        "赠品{很实用|也不错|居然是正装}",
        "价保{很快|秒}{退了差价|到账了}",
        "满减{下来|叠加完}{超值|跟白送一样}",
        "{赶上|碰上}{大促|活动}{买的|了}，{很值|太值了}",
    ],
    (CAMP, NEU): [
        "{下次|什么时候还有}活动？",
        "优惠券{在哪领|怎么领}？",
        "{会员|PLUS会员}有{额外优惠|折扣}吗？",
        "{还会|什么时候}再降价吗？",
    ],
    (LOG, NEG): [
        "物流{太慢了|慢死了|慢得离谱}",
        "快递{盒|箱子}{被压扁了|都压变形了}",
        "{等了|整整}{一个星期|五天}才到",
        "快递员{不送上门|直接放驿站|电话都不打}",
        "物流{信息|}{三天|好几天}没更新",
        "发货{太慢|慢}，{说好48小时|付款三天了}才发",
        "外包装{破了|烂了}{个洞|}，{差点漏出来|里面的东西都露出来了}",
        "{快递|地址}{送错了|给我送到隔壁小区}",
        "{少发了|少收到}一{件|盒}",
        "{快递|中通}{太慢|很慢}，{下次|希望}{发顺丰|换个快递}",
    ],
    (LOG, POS): [
        "物流{很快|超快|真快}，{隔天|第二天|两天}就到了",
        "快递小哥{很负责|很好}，{送货上门|还帮忙搬上楼}",
        "包装{很严实|很用心}，{没有压坏|一点没坏}",
        "{发货|发货速度}{很快|很及时}",
        "{顺丰|京东}{发的|配送}，{速度没得说|很快}",
    ],
    (LOG, NEU): [
        "{什么时候|啥时候}{发货|能发}？",
        "{发什么快递|能发顺丰吗}？",
        "{偏远地区|新疆}{几天能到|怎么发}？",
        "{还没到|快递还在路上}，等收到再追评",
    ],
    (SERV, NEG): [
        "客服态度{很差|太差了|很不耐烦}",
        "客服{半天不回|回消息超级慢|一直不回消息}",
        "退款{一直不处理|拖了一个星期|到现在都没到账}",
        "{发票|电子发票}{一直不给开|催了好几次才开}",
        "{换货|退货}流程{太麻烦了|很繁琐}，{来回折腾|寄回去还要自己出运费}",
        "客服{答非所问|只会复制粘贴|全是机器人回复}",
        "{售后|客服}{推来推去|互相推卸}，{没人管|问题没解决}",
        "{说好|答应}{补偿|给我补发}，{结果没下文|到现在也没消息}",
    ],
    (SERV, POS): [
        "客服{很耐心|很热情|态度很好}",
        "退款{很快|秒到}",
        "售后{处理|}{很及时|很给力}，{当天就解决了|直接给换了新的}",
        "发票{很快|当天}就开好了",
        "{问了|咨询}客服{好多问题|半天}，{都很耐心地回答|一点都不烦}",
    ],
    (SERV, NEU): [
        "{怎么|在哪}开发票？",
        "能用{白条|花呗}分期吗？",
        "{退货|退款}{要多久|几天能到账}？",
    ],
    (OTHER, POS): [
        "好评",
        "不错不错",
        "挺好的",
        "满意",
        "{还会|会}{回购|再来}的",
        "推荐{购买|大家买}",
        "五星好评",
        "很满意的一次购物",
        "给个好评吧",
        "总体{不错|满意}",
        "{很|}喜欢",
        "东西{很好|不错}",
    ],
    (OTHER, NEG): [
        "差评",
        "第一次也是最后一次",
        "{再也不会|不会再}买了",
        "{失望|太失望了}",
        "{感觉|觉得}{上当了|被坑了}",
        "不推荐",
    ],
    (OTHER, NEU): [
        "还行吧",
        "一般般",
        "第一次买",
        "{凑单|帮朋友|帮同事}买的",
        "先用{一段时间|几天}再来追评",
        "就那样吧",
        "{东西|宝贝}收到了",
        "{还没|没}{用|拆}，先评价一下",
    ],
}

# Longer first-person stories (used by the "story" mood) so that lengths reach ~120.
LONG = {
    TSHIRT: {
        (Q, NEG): [
            "本来是买来送{男朋友|老公}的，结果他穿了一次就说领口太紧勒脖子，洗完还缩了一圈，现在只能当睡衣穿",
            "买的时候看评价都说好才下单的，结果收到一股味道，洗了两遍还有，穿上半天脖子还发痒，真不知道那些好评是怎么来的",
            "一次买了五件想着夏天换着穿，第一次下水白色那件就被黑色的染成了灰色，领口也变得松松垮垮，晾干以后还短了两三厘米，现在五件里能正常穿出门的只剩两件",
        ],
        (SP, POS): [
            "之前买过好几家的白T，这家的面料是真的厚实，洗了七八次领口还是挺的，也没有发黄",
            "身高182体重170斤，按客服推荐拍的XXL，肩宽和衣长都刚好，不会像别家那样短一截，终于找到合身的白T了",
            "夏天出汗多，以前的T恤穿半天就黏在身上，这件纯棉的吸汗又透气，一天下来后背也不会湿一大片，洗了以后没缩水没变形，准备再囤几件换着穿",
        ],
        (SERV, POS): [
            "收到的时候有一件袖口开线了，跟客服说了一声，没让我寄回就直接补发了一件新的，这服务真的没话说",
        ],
    },
    EARBUDS: {
        (Q, NEG): [
            "本来想着降噪耳机能在办公室安静点，结果开了降噪还是能听到同事说话，而且戴半小时耳朵就闷得难受，只能放抽屉里吃灰了",
        ],
        (SP, POS): [
            "之前一直用某大牌，想换个便宜点的试试，没想到这个降噪一点都不输，坐高铁开了降噪基本听不到噪音",
            "每天地铁通勤一个半小时，以前要把音量开很大才听得清，现在开了降噪音量一半就够了，耳朵舒服多了",
            "平时在图书馆和地铁上用得比较多，戴上开降噪以后周围翻书声、报站声都小了很多，音质也比我预想的好，听流行歌人声很清楚，低音不轰头，连续戴两个小时耳朵也不疼",
            "家里孩子吵、楼下又在装修，在家办公根本没法开会，戴上这副耳机开了降噪，电钻声一下小了很多，开会对方也说我这边很安静，续航撑一整天没问题",
        ],
    },
    NUTS: {
        (Q, NEG): [
            "买来给孩子当零食的，结果拆开第三包就发现核桃发黑，后面几包也有哈喇味，孩子吃了一口就不肯再吃了",
            "这次收到的和上次完全不是一个水平，上次颗粒饱满又香脆，这次腰果是软的，核桃发苦，有两包还漏气了，一盒三十包挑不出几包能吃的",
        ],
        (SP, POS): [
            "每天早上一包配酸奶，已经坚持吃了两个多月，核桃和腰果都很脆，果干也不会太甜，家里老人孩子都喜欢",
            "家里两个孩子都不爱吃饭，试着每天下午给一包当加餐，里面核桃、腰果、蔓越莓都有，孩子挑着吃也能吃完，一个月下来感觉气色好了不少，包装小袋装也方便塞书包里",
            "{中秋|国庆}买了十盒送客户，礼盒颜值很高，拿出手很体面，客户还专门打电话来问在哪里买的，明年还找这家",
        ],
    },
    None: {
        (LOG, NEG): [
            "下单的时候说48小时发货，结果第四天才发出，路上又转了好几个中转站，整整一个星期才收到，急着用的千万别买",
        ],
        (SERV, NEG): [
            "退货寄回去快两周了，每次问客服都说在处理，让我再等等，到现在钱还没退回来，打了平台电话才有人理",
        ],
        (SERV, POS): [
            "有一次下单地址填错了，半夜找客服居然秒回，帮我改好了地址还提醒我注意查收，这种服务态度值得表扬",
        ],
    },
}

OPENERS = {
    None: [
        "说实话，",
        "总的来说，",
        "收到了，",
        "第二次购买了，",
        "先说结论：",
        "怎么说呢，",
        "评价晚了，",
        "跟风买的，",
        "朋友推荐的，",
    ],
    TSHIRT: ["穿了几天，", "洗过一次了，", "给老公买的，", "买了三件不同颜色，"],
    EARBUDS: ["用了一周，", "通勤用了几天，", "给孩子上网课买的，", "之前用的大牌，"],
    NUTS: ["吃了几包，", "给爸妈买的，", "囤着当早餐，", "送客户的，"],
}

SAME_PLAIN = ["，", "，", "，", "，", "。", " ", "；"]
SAME_STRONG = ["，而且", "，还有", "，另外"]
CONTRAST_PN = [
    "，但是",
    "，不过",
    "，就是",
    "。但是",
    "，可惜",
    "，只是",
    "，但",
    "。不过",
    "，可是",
]
CONTRAST_NP = ["，不过", "，好在", "，还好", "。不过", "，但是"]
END_PUNCT = {
    POS: ["", "。", "！", "！！", "~", "～", "！！！", "。"],
    NEG: ["", "。", "！", "！！！", "。。。", "…", "！！"],
    NEU: ["", "。", "~", "。"],
}
END_EMOJI = {
    POS: ["👍", "❤️", "😄", "👌", "🥰"],
    NEG: ["😡", "🙄", "😭", "😤", "👎"],
    NEU: ["😂", "🤔", "🙂"],
}

# The planted spike: the charging case / one earbud stops charging.
SPIKE_CLAUSES = [
    "充电盒充不进电",
    "充电盒{插上线|充了一晚上}{没反应|还是没电}",
    "右耳{不响了|突然没声音了}",
    "左耳{充不上电|放进去不充电}",
    "{右边|左边}耳机放回盒子里{不充电|灯都不亮}",
    "充电仓{指示灯|的灯}一直闪红灯",
    "{单边|一只}耳机{一直|老是}没电{，另一只是满的|}",
    "充电触点{接触不良|好像有问题}，{要按着才能充|摆半天才亮灯}",
    "{拿出来|取出来}{右耳|一只耳机}电量是0",
    "充电盒{自己|}掉电{特别|很}快，{放一晚上|隔天}就没电了",
]
SPIKE_OPENERS = [
    "{才|}用了{三天|四天|不到一周|两天}，",
    "{昨天|前天}刚收到，",
    "{收到|用到}第二天，",
    "{买给孩子|给老公买|送朋友}的，",
    "",
    "",
]
SPIKE_TAILS = [
    (SERV, NEG, "{申请售后|联系客服}{还要自己寄回|半天没人理}"),
    (OTHER, NEG, "{太坑了|差评|什么破耳机}"),
    (Q, NEG, "{这是什么质量|质量太差了}"),
    (SERV, NEG, "{要求换新|已经申请退货}"),
]

# Fixed rows (shop A).
TRADITIONAL = [  # (product, rating, text) -- 12 reviews in traditional characters
    (TSHIRT, 3, "質量很好，但是物流太慢了"),
    (EARBUDS, 5, "這款耳機音質不錯，降噪也很給力"),
    (NUTS, 5, "堅果很新鮮，口感香脆，會回購的！"),
    (TSHIRT, 1, "衣服洗了一次就掉色了，顏色和圖片差很多，很失望。"),
    (EARBUDS, 5, "客服態度很好，換貨很快就處理好了"),
    (NUTS, 2, "優惠券用不了，活動規則太複雜了"),
    (TSHIRT, 3, "尺碼偏小，建議買大一碼，面料倒是挺舒服的"),
    (EARBUDS, 3, "續航有點短，不過音質還可以"),
    (NUTS, 4, "包裝很精美，送人很有面子，就是價格貴了點"),
    (TSHIRT, 3, "快遞盒子都壓扁了，還好衣服沒事"),
    (NUTS, 4, "請問保質期多久？生產日期是幾月份的？"),
    (EARBUDS, 2, "降噪效果一般般，地鐵上還是很吵，能連iPhone嗎？"),
]
PII_REVIEWS = [  # (product, rating, text, kind of PII) -- all values are fictitious
    (EARBUDS, 2, "耳机右耳有杂音，麻烦商家联系我13812345678，急！", "mobile"),
    (NUTS, 2, "订单号 2026103112345678 的赠品一直没收到，麻烦查一下", "order_no"),
    (TSHIRT, 1, "订单号：DD20261031001 退款三天了还没到账，客服也不回", "order_no"),
    (NUTS, 2, "快递送到上海市浦东新区张江路88弄3号501室门口就不管了，盒子都压扁了", "address"),
    (TSHIRT, 3, "买小了想换大一码，我电话139-1234-5678，客服看到回一下", "mobile"),
    (EARBUDS, 3, "发票抬头开错了，请重新发到lihua.demo@example.com，谢谢", "email"),
    (NUTS, 1, "坚果有哈喇味，收件电话15900001111，希望商家联系我处理", "mobile"),
    (EARBUDS, 1, "客服让我提供身份证号110105198808083216才给退款，有必要吗？？", "id_number"),
    (
        TSHIRT,
        2,
        "地址北京市朝阳区建国路100号院2号楼1单元602，快递说找不到地方，物流太差",
        "address",
    ),
    (TSHIRT, 5, "衣服很舒服，码数也准，有想拼单的可以打我电话 186 0000 2233", "mobile"),
]
BOILERPLATE_A = ["此用户没有填写评价。", "系统默认好评", "好评！此用户未填写评价内容"]
BOILERPLATE_B = ["此用户没有填写评价。", "系统默认好评"]
SPAM_TEXT = "宝贝收到了，质量非常好，做工精细，性价比超高，推荐大家购买，下次还会再来的！亲们放心买"
QUOTED_TEXT = '说是"纯棉"，摸着跟化纤似的，洗完还缩水'  # contains ASCII double quotes
RAGGED_TEXT = {
    TSHIRT: "衣服挺好看的,就是领口有点紧",
    EARBUDS: "音质还行,就是戴久了耳朵有点胀",
    NUTS: "味道不错,就是核桃有点少",
}


# ---------------------------------------------------------------------------
# Review composition
# ---------------------------------------------------------------------------
@dataclass
class Clause:
    text: str
    cat: str
    pol: str


def pool(product, key):
    return MATERIAL[product].get(key, []) + SHARED.get(key, [])


POS_W = [
    ((SP, POS), 0.62),
    ((LOG, POS), 0.16),
    ((SERV, POS), 0.07),
    ((CAMP, POS), 0.07),
    ((OTHER, POS), 0.08),
]
NEG_W = [
    ((Q, NEG), 0.58),
    ((CAMP, NEG), 0.14),
    ((LOG, NEG), 0.14),
    ((SERV, NEG), 0.10),
    ((OTHER, NEG), 0.04),
]
NEU_W = [
    ((NEED, NEU), 0.62),
    ((NEED, NEG), 0.12),
    ((CAMP, NEU), 0.10),
    ((LOG, NEU), 0.08),
    ((SERV, NEU), 0.08),
]
MOODS = {  # baseline mood mix; earphones are deliberately rarely negative
    TSHIRT: [
        ("pos", 0.39),
        ("mixed", 0.20),
        ("neg", 0.16),
        ("neutral", 0.11),
        ("plain", 0.06),
        ("story", 0.08),
    ],
    EARBUDS: [
        ("pos", 0.59),
        ("mixed", 0.10),
        ("neg", 0.04),
        ("neutral", 0.13),
        ("plain", 0.06),
        ("story", 0.08),
    ],
    NUTS: [
        ("pos", 0.40),
        ("mixed", 0.19),
        ("neg", 0.16),
        ("neutral", 0.11),
        ("plain", 0.06),
        ("story", 0.08),
    ],
}


REPEAT_PRAISE = re.compile("回购|第二次|稳定")  # contradicts a defect, so not used as a contrast


def draw(product, key, used, contrast=False):
    options = [
        t
        for t in pool(product, key)
        if t not in used and not (contrast and REPEAT_PRAISE.search(t))
    ]
    t = rng.choice(options)
    used.add(t)
    return Clause(x(t), *key)


def compose(product):
    used: set[str] = set()
    mood = wchoice(MOODS[product])
    if mood == "pos":
        n = rng.choice([1, 1, 2, 2, 2, 3, 3])
        cl = [draw(product, (SP, POS) if rng.random() < 0.8 else wchoice(POS_W), used)]
        cl += [draw(product, wchoice(POS_W), used) for _ in range(n - 1)]
    elif mood == "neg":
        n = rng.choice([1, 2, 2, 3])
        cl = [draw(product, wchoice(NEG_W[:-1]), used) for _ in range(n)]
        if n < 3 and rng.random() < 0.25:
            cl.append(draw(product, (OTHER, NEG), used))
    elif mood == "mixed":
        p = draw(product, wchoice(POS_W[:-1]), used, contrast=True)
        q = draw(product, wchoice([kw for kw in NEG_W[:-1] if kw[0][0] != p.cat]), used)
        cl = [p, q] if rng.random() < 0.7 else [q, p]
        if rng.random() < 0.35:
            cl.append(
                draw(
                    product,
                    wchoice(
                        [((OTHER, NEU), 2), ((OTHER, POS), 1), ((OTHER, NEG), 1), ((NEED, NEU), 1)]
                    ),
                    used,
                )
            )
    elif mood == "neutral":
        cl = [draw(product, wchoice(NEU_W), used)]
        r = rng.random()
        if r < 0.25:
            cl.insert(0, draw(product, (OTHER, NEU), used))
        elif r < 0.55:
            cl.insert(0, draw(product, (SP, POS), used))
        elif r < 0.7:
            cl.append(draw(product, wchoice(NEU_W), used))
    elif mood == "story":
        stories = [
            (t, key)
            for src in (LONG[product], LONG[None])
            for key, ts in src.items()
            for t in ts
            if not (product == EARBUDS and key[1] == NEG)
        ]  # keep the earbud baseline calm
        t, key = rng.choice(stories)
        used.add(t)
        cl = [Clause(x(t), *key)]
        if rng.random() < 0.35:  # a contrasting remark
            other = [kw for kw in (NEG_W if key[1] == POS else POS_W)[:-1] if kw[0][0] != key[0]]
            cl.append(draw(product, wchoice(other), used, contrast=True))
        else:  # one or two more remarks in the same mood, maybe a verdict
            same = (POS_W if key[1] == POS else NEG_W)[:-1]
            cl += [draw(product, wchoice(same), used) for _ in range(rng.choice([1, 2]))]
            if rng.random() < 0.4:
                cl.append(draw(product, (OTHER, key[1]), used))
    else:  # plain: nothing actionable
        pol = wchoice([(POS, 0.55), (NEU, 0.3), (NEG, 0.15)])
        cl = [draw(product, (OTHER, pol), used) for _ in range(rng.choice([1, 1, 2]))]
    if mood != "neutral":  # generic verdicts read best at the end
        cl.sort(key=lambda c: c.cat == OTHER)
    return mood, cl


def join(cl, gbk):
    out = cl[0].text
    strong_used = False
    for prev, cur in itertools.pairwise(cl):
        if {prev.pol, cur.pol} == {POS, NEG}:
            conn = rng.choice(CONTRAST_PN if prev.pol == POS else CONTRAST_NP)
        elif (
            prev.pol == cur.pol
            and prev.pol != NEU
            and cur.cat != OTHER
            and not strong_used
            and rng.random() < 0.25
        ):
            conn = rng.choice(SAME_STRONG)
            strong_used = True
        else:
            conn = rng.choice(SAME_PLAIN)
        if out[-1] in "？！。~～":
            conn = conn.lstrip("，。；").strip()
        out += conn + cur.text
    pols = [c.pol for c in cl]
    overall = NEG if NEG in pols else (POS if POS in pols else NEU)
    if out.endswith("？"):
        if rng.random() < 0.25:
            out += "？"
    else:
        if not gbk and rng.random() < 0.12:
            out += rng.choice(END_EMOJI[overall])
        else:
            out += rng.choice(END_PUNCT[overall])
    return out


def rating_for(mood, cl):
    cats = {(c.cat, c.pol) for c in cl}
    r = rng.random()
    if mood == "pos":
        rating = 5 if r < 0.72 else 4
    elif mood == "story":
        pols = [c.pol for c in cl]
        rating = (
            (rng.choice([1, 1, 2]) if NEG in pols[:1] else rng.choice([4, 5, 5]))
            if len(set(pols)) == 1
            else rng.choice([2, 3, 3, 4])
        )
    elif mood == "neg":
        rating = (1 if r < 0.6 else 2) if (Q, NEG) in cats else rng.choice([1, 2, 2, 3])
    elif mood == "mixed":
        rating = rng.choice([2, 3, 3, 3, 4]) if (Q, NEG) in cats else rng.choice([2, 3, 3, 4, 4])
    elif mood == "neutral":
        rating = (
            rng.choice([2, 3, 3, 4])
            if any(p == NEG for _, p in cats)
            else rng.choice([3, 4, 4, 5, 5, 5])
        )
    else:
        pol = cl[0].pol
        rating = rng.choice({POS: [4, 5, 5, 5], NEU: [3, 3, 4, 5], NEG: [1, 1, 2]}[pol])
    if rng.random() < 0.02:  # a little real-world noise
        rating = rng.randint(1, 5)
    return rating


def norm_key(text):
    """Key for near-duplicate detection: drop punctuation, spaces and emoji."""
    return re.sub(r"[^\w]", "", text).replace(",", "")


USED_KEYS: set[str] = set()
CLAUSE_COUNTS: dict[str, Counter] = defaultdict(Counter)


def gbk_ok(text):
    try:
        text.encode("gbk")
        return True
    except UnicodeEncodeError:
        return False


def make_review(product, gbk, file_tag):
    for _ in range(200):
        mood, cl = compose(product)
        text = join(cl, gbk)
        if mood in ("pos", "neg", "mixed", "story") and rng.random() < 0.25:
            opener = rng.choice(OPENERS[None] + OPENERS[product])
            text = opener + text
        if rng.random() < 0.05:  # typed on a PC keyboard: ASCII punctuation
            text = text.replace("，", ",").replace("！", "!").replace("？", "?")
        key = norm_key(text)
        if not (4 <= len(text) <= 120) or key in USED_KEYS or (gbk and not gbk_ok(text)):
            continue
        USED_KEYS.add(key)
        for c in cl:
            CLAUSE_COUNTS[file_tag][c.cat] += 1
        return text, rating_for(mood, cl)
    raise RuntimeError("could not compose a fresh review")


def make_spike_review():
    for _ in range(200):
        picks = rng.sample(SPIKE_CLAUSES, rng.choice([1, 1, 2]))
        parts = [x(p) for p in picks]
        text = x(rng.choice(SPIKE_OPENERS)) + "，".join(parts)
        cats = [Q] * len(parts)
        if rng.random() < 0.6:
            cat, _, t = rng.choice(SPIKE_TAILS)
            text += "，" + x(t)
            cats.append(cat)
        text += rng.choice(["", "。", "！", "！！！", "。。。", "😡", "😭"])
        key = norm_key(text)
        if key in USED_KEYS:
            continue
        USED_KEYS.add(key)
        for c in cats:
            CLAUSE_COUNTS["a"][c] += 1
        return text, rng.choice([1, 1, 1, 2])
    raise RuntimeError("could not compose a spike review")


HOUR_W = [
    1,
    0.5,
    0.3,
    0.2,
    0.2,
    0.3,
    0.8,
    1.5,
    2.5,
    3,
    3,
    3,
    3.5,
    3,
    3,
    3,
    3,
    3,
    3.5,
    4,
    5,
    5,
    4,
    2.5,
]


def rand_time(day, hours=range(24), weights=None):
    hours = list(hours)
    h = rng.choices(hours, weights=weights or [HOUR_W[i] for i in hours], k=1)[0]
    return dt.datetime.combine(day, dt.time(h, rng.randrange(60), rng.randrange(60)))


# ---------------------------------------------------------------------------
# Shop A
# ---------------------------------------------------------------------------
def build_shop_a():
    rows = []  # dicts: kind, product, ts, rating, content

    def add(kind, product, ts, rating, content):
        rows.append(dict(kind=kind, product=product, ts=ts, rating=rating, content=content))

    slots = [(d, p) for d in DAYS for p in PRODUCTS]
    slots += [
        (rng.choice(DAYS), wchoice([(TSHIRT, 0.38), (EARBUDS, 0.32), (NUTS, 0.30)]))
        for _ in range(102)
    ]
    for day, product in slots:
        text, rating = make_review(product, gbk=False, file_tag="a")
        add("normal", product, rand_time(day), rating, text)
    for product, rating, text in TRADITIONAL:
        add("traditional", product, rand_time(rng.choice(PRE_SPIKE_DAYS)), rating, text)
    for product, rating, text, _ in PII_REVIEWS:
        add("pii", product, rand_time(rng.choice(PRE_SPIKE_DAYS)), rating, text)
    for text in BOILERPLATE_A:
        add("boilerplate", rng.choice(PRODUCTS), rand_time(rng.choice(PRE_SPIKE_DAYS)), 5, text)
    for product in (NUTS, TSHIRT):
        add("spam", product, rand_time(rng.choice(PRE_SPIKE_DAYS)), 5, SPAM_TEXT)
    add("quoted", TSHIRT, rand_time(rng.choice(PRE_SPIKE_DAYS)), 2, QUOTED_TEXT)
    for day, n in zip(SPIKE_DAYS, (5, 7, 8), strict=True):
        for _ in range(n):
            text, rating = make_spike_review()
            add("spike", EARBUDS, rand_time(day), rating, text)

    rows.sort(key=lambda r: r["ts"])
    for i, r in enumerate(rows, 1):
        r["review_id"] = f"A{i:06d}"
        r["created_at"] = r["ts"].strftime("%Y-%m-%d %H:%M:%S")

    # Malformed rows, in the middle of the file.  Only rows whose (day, product)
    # still has another normal row are used, so every day keeps every product.
    per_slot = Counter((r["ts"].date(), r["product"]) for r in rows if r["kind"] == "normal")
    taken = set()
    for target, kind in zip(
        (100, 112, 124, 136, 148, 160),
        (
            "empty_content",
            "blank_content",
            "rating_text",
            "rating_out_of_range",
            "bad_date",
            "ragged",
        ),
        strict=True,
    ):
        i = target
        while not (
            rows[i]["kind"] == "normal"
            and per_slot[(rows[i]["ts"].date(), rows[i]["product"])] >= 2
            and (rows[i]["ts"].date(), rows[i]["product"]) not in taken
        ):
            i += 1
        r = rows[i]
        taken.add((r["ts"].date(), r["product"]))
        r["kind"] = kind
        if kind == "empty_content":
            r["content"] = ""
        elif kind == "blank_content":
            r["content"] = "   "
        elif kind == "rating_text":
            r["rating"] = "五星"
        elif kind == "rating_out_of_range":
            r["rating"] = 9
        elif kind == "bad_date":
            r["created_at"] = "昨天下午"
        elif kind == "ragged":
            r["content"] = RAGGED_TEXT[r["product"]]
            r["rating"] = 4

    # Re-export overlap: three consecutive normal rows appear twice.
    k = 190
    while not all(rows[j]["kind"] == "normal" for j in range(k, k + 3)):
        k += 1
    copies = [dict(rows[j], kind="duplicate_copy") for j in range(k, k + 3)]
    for j in range(k, k + 3):
        rows[j]["kind"] = "duplicate_original"
    rows[k + 3 : k + 3] = copies

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["review_id", "product", "created_at", "rating", "content"])
    for r in rows:
        if r["kind"] == "ragged":  # written by hand: an unquoted comma gives 6 fields
            buf.write(
                f"{r['review_id']},{r['product']},{r['created_at']},{r['rating']},{r['content']}\r\n"
            )
        else:
            w.writerow([r["review_id"], r["product"], r["created_at"], r["rating"], r["content"]])
    (HERE / "reviews_shop_a.csv").write_bytes(buf.getvalue().encode("utf-8"))
    return rows


# ---------------------------------------------------------------------------
# Shop B (GBK)
# ---------------------------------------------------------------------------
def build_shop_b():
    rows = []
    slots = [(d, p) for d in DAYS for p in PRODUCTS]
    slots += [(rng.choice(DAYS), rng.choice(PRODUCTS)) for _ in range(50)]
    for day, product in slots:
        text, rating = make_review(product, gbk=True, file_tag="b")
        rows.append(
            dict(kind="normal", product=product, ts=rand_time(day), rating=rating, content=text)
        )
    for text in BOILERPLATE_B:
        rows.append(
            dict(
                kind="boilerplate",
                product=rng.choice(PRODUCTS),
                ts=rand_time(rng.choice(DAYS)),
                rating=5,
                content=text,
            )
        )
    rows.sort(key=lambda r: r["ts"])
    for i, r in enumerate(rows, 1):
        r["review_id"] = f"B{i:06d}"
        r["created_at"] = r["ts"].strftime("%Y/%m/%d %H:%M")
    per_slot = Counter((r["ts"].date(), r["product"]) for r in rows if r["kind"] == "normal")
    for target, kind in ((70, "empty_content"), (95, "bad_date")):
        i = target
        while not (
            rows[i]["kind"] == "normal"
            and per_slot[(rows[i]["ts"].date(), rows[i]["product"])] >= 2
        ):
            i += 1
        rows[i]["kind"] = kind
        if kind == "empty_content":
            rows[i]["content"] = ""
        else:
            rows[i]["created_at"] = "2026-13-45"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["评价编号", "商品名称", "评价时间", "评分", "评价内容"])
    for r in rows:
        w.writerow([r["review_id"], r["product"], r["created_at"], r["rating"], r["content"]])
    (HERE / "reviews_shop_b_gbk.csv").write_bytes(buf.getvalue().encode("gbk"))
    return rows


# ---------------------------------------------------------------------------
# Chats
# ---------------------------------------------------------------------------
# A topic: (category of the customer turns, [(customer, agent), ...] alternatives,
#           [(category, customer, agent), ...] optional follow-ups)
GIFT = {TSHIRT: "一双纯棉袜", EARBUDS: "一个硅胶保护套", NUTS: "一罐小罐果干"}

CHAT_TOPICS = {
    (TSHIRT, "pre"): [
        (
            SP,
            [
                (
                    "上次买的白色很好穿，面料很舒服，这次想再买两件黑色的",
                    "感谢亲的支持～黑色L和XL现在都有货，直接拍就可以哦",
                ),
                ("朋友穿了说版型很好看，我也来买一件", "谢谢亲的认可～需要帮您推荐尺码吗？"),
            ],
            [
                (NEED, "要的，我175，150斤", "亲，您这个身高体重拍XL会比较合适哦"),
            ],
        ),
        (
            NEED,
            [
                (
                    "我身高{170|172|175}，体重{130|135|140}斤，穿什么码？",
                    "亲，按您的身高体重建议拍L码，这款是标准版型，喜欢宽松的可以拍XL哦",
                ),
                (
                    "{180|178}的个子{160|165}斤，XL能穿吗",
                    "可以的亲，XL适合175到182cm、150到170斤左右，您穿XL刚好",
                ),
                ("平时穿L，这款要拍大一码吗？", "亲，这款尺码是标准的，按平时的码数拍L就可以哦"),
                ("这款偏大还是偏小呀", "亲，这款是正常尺码，不偏大也不偏小，按平时穿的拍就行～"),
            ],
            [
                (NEED, "那衣长多少", "L码衣长70cm，XL衣长72cm，详情页有完整的尺码表可以参考哦"),
                (NEED, "肩宽呢？", "L码肩宽46cm，XL码肩宽48cm"),
                (NEED, "会不会太紧", "不会的亲，胸围有放量，穿着是比较舒适的"),
            ],
        ),
        (
            NEED,
            [
                ("是纯棉的吗", "亲，这款是纯棉精梳棉面料，手感柔软透气哦"),
                ("面料是什么成分？", "亲，成分是100%棉，32支精梳棉"),
                ("这个是纯棉还是涤棉啊", "是纯棉的亲，不含涤纶"),
                ("纯棉的会起球吗？", "精梳棉表面比较光洁，正常穿着洗涤不容易起球哦"),
            ],
            [
                (NEED, "厚吗？白色透不透", "面料克重200g左右，属于中厚款，白色单穿不透的"),
                (NEED, "能机洗吗", "可以机洗的亲，建议翻面洗，水温不超过40度"),
            ],
        ),
        (
            NEED,
            [
                ("有几个颜色？", "亲，目前有白色、黑色、浅灰、藏青四个颜色哦"),
                ("黑色的会不会掉色", "深色刚开始洗会有少量浮色，建议单独冷水洗，之后就稳定了"),
                ("有没有浅蓝色的？", "暂时没有浅蓝色哦，后续上新会在店铺首页通知的"),
                ("白色和灰色哪个更耐脏", "浅灰色更耐脏一些，白色更百搭，看亲的喜好哦"),
            ],
            [],
        ),
        (
            NEED,
            [
                ("洗了会缩水吗", "纯棉刚开始洗会有轻微回缩，1到2cm以内属于正常范围哦"),
                ("会不会洗完领口变形", "领口是加厚螺纹的，正常洗涤不容易变形的亲"),
                ("买来送爸爸的，55岁穿哪个颜色好", "亲，长辈的话推荐藏青或者浅灰，比较稳重耐看"),
                ("三件装能选不同颜色吗", "可以的亲，下单时在备注里写上颜色就行"),
            ],
            [],
        ),
    ],
    (EARBUDS, "pre"): [
        (
            SP,
            [
                (
                    "同事用的这款，说降噪效果很好，我也想入一个",
                    "感谢亲的信任～现在下单今天就能发出",
                ),
                (
                    "之前买过一副，音质真的不错，想给老婆也买一副",
                    "谢谢亲的回购～白色款很受女生欢迎哦",
                ),
            ],
            [],
        ),
        (
            NEED,
            [
                ("能连iPhone吗？", "可以的亲，支持蓝牙5.3，苹果手机直接在蓝牙里搜索连接就可以"),
                ("安卓手机能用吗", "亲，安卓和苹果手机都可以连接使用的哦"),
                ("华为手机能连吗？", "可以的亲，华为、小米、OPPO等安卓手机都能正常连接"),
                ("能连电脑吗，笔记本上开会用", "可以的，带蓝牙的笔记本都能连，麦克风开会也没问题"),
            ],
            [
                (NEED, "能同时连两台吗", "支持双设备连接，在耳机设置里打开多点连接就可以啦"),
            ],
        ),
        (
            NEED,
            [
                ("续航多久？", "亲，单次续航约6小时，配合充电盒总共30小时左右"),
                ("充满电要多久", "耳机充满约1小时，充电盒充满约1.5小时"),
                ("开降噪能用多久", "开启降噪大约5小时，关闭降噪能到7小时左右"),
            ],
            [
                (NEED, "充电盒支持无线充吗", "支持的亲，Qi协议的无线充电板都可以用"),
            ],
        ),
        (
            NEED,
            [
                (
                    "降噪效果怎么样？地铁上能用吗",
                    "亲，主动降噪深度大概40dB，地铁里的轰鸣声能明显降低",
                ),
                ("有通透模式吗", "有的亲，长按左耳就能切换到通透模式，跟人说话不用摘耳机"),
                ("跑步出汗会坏吗", "耳机是IPX4防水，日常运动出汗没问题，不过不能泡水哦"),
                ("下雨天能戴吗", "小雨溅到没关系的，IPX4级别防泼溅"),
            ],
            [],
        ),
        (
            NEED,
            [
                ("有白色的吗？", "有的亲，目前有星光白和曜石黑两个颜色"),
                ("耳朵小戴着会掉吗", "包装里配了大中小三副耳塞，可以换成小号的，佩戴会更稳"),
                ("戴久了耳朵会疼吗", "耳机单只只有4.5克，大部分人戴两三个小时都不会有压迫感"),
                ("打游戏延迟高吗", "有游戏模式，开启后延迟在60ms左右，一般手游没问题的"),
                ("支持LDAC吗", "亲，支持AAC和SBC，暂不支持LDAC哦"),
            ],
            [],
        ),
    ],
    (NUTS, "pre"): [
        (
            SP,
            [
                (
                    "上个月买的那盒很新鲜，孩子特别爱吃，再来两盒",
                    "谢谢亲的支持～两盒一起拍还能用满减哦",
                ),
                (
                    "去年过年送人的，长辈都说好吃，今年还买这个",
                    "感谢亲的认可～礼盒装自带手提袋，送人很合适",
                ),
            ],
            [],
        ),
        (
            NEED,
            [
                ("现在发货的生产日期是几月的？", "亲，目前发的都是10月生产的新货哦"),
                ("生产日期新鲜吗", "都是近一个月内生产的，放心购买"),
                ("保质期多久？", "保质期是180天，开封后建议尽快食用哦"),
                ("开封了怎么保存", "放在阴凉干燥处就行，每包都是独立包装，一天一包刚好"),
            ],
            [
                (NEED, "产地是哪里？", "亲，工厂在浙江临安，原料产地外包装背面都写着的"),
            ],
        ),
        (
            NEED,
            [
                ("核桃是哪里产的", "核桃来自新疆阿克苏，巴旦木是进口原料，外包装上都有标注产地"),
                ("孕妇可以吃吗", "孕妇可以适量吃的，每天一包就够了"),
                ("三岁小孩能吃吗？", "三岁以下的宝宝建议家长把坚果压碎后看护食用，防止呛到哦"),
                ("糖尿病人能吃吗", "果干含糖，建议糖尿病人少量食用或咨询医生哦"),
            ],
            [],
        ),
        (
            NEED,
            [
                ("一盒有多少包", "一盒30包，每包25克，刚好吃一个月"),
                ("里面有哪几种？", "有核桃、腰果、巴旦木、榛子，还有蔓越莓干和蓝莓干"),
                (
                    "里面有花生吗，孩子花生过敏",
                    "这款不含花生，但生产车间也处理花生，过敏体质请谨慎购买哦",
                ),
                ("送人的话有手提袋吗", "礼盒装自带手提袋的亲，送人很合适"),
            ],
            [
                (
                    NEED,
                    "有没有不加糖的",
                    "有的亲，店里有一款原味无添加的，果干换成了冻干，需要的话我发链接给您",
                ),
            ],
        ),
    ],
    (None, "pre"): [
        (
            CAMP,
            [
                ("现在买有赠品吗？", "亲，现在下单送{gift}，赠品随主商品一起发出哦"),
                ("送什么赠品？", "活动期间下单就送{gift}，数量有限送完即止哦"),
                ("能用优惠券吗", "可以的亲，店铺券和平台券可以叠加，下单时系统会自动抵扣"),
                ("满减怎么算？", "亲，店铺现在满199减30，可以和其他商品一起凑单"),
                ("还能便宜点吗", "亲，已经是活动价了哦，领了店铺券还能再减10元"),
                (
                    "双十一还会降价吗",
                    "亲，活动价格以当天页面为准，现在下单有价保，降价可以申请退差价的",
                ),
                ("新疆包邮吗", "亲，新疆西藏等偏远地区需要补10元运费哦"),
            ],
            [],
        ),
        (
            LOG,
            [
                ("什么时候发货？", "下午4点前付款当天发货，4点以后次日发出哦"),
                ("今天下单今天能发吗", "亲，现在下单今天就能发出的"),
                ("发什么快递", "默认发中通，需要顺丰的话补5元差价就可以"),
                ("能发顺丰吗？", "可以的亲，拍下后联系客服补5元运费差价，我们给您改发顺丰"),
            ],
            [],
        ),
        (
            SERV,
            [
                ("可以开发票吗", "可以开电子发票的亲，下单后在订单详情里申请就行"),
                ("能用花呗分期吗", "支持的亲，结算时选择花呗分期就可以"),
            ],
            [],
        ),
    ],
    (TSHIRT, "post"): [
        (
            SERV,
            [
                (
                    "尺码买小了能换吗",
                    "可以的亲，在订单里申请换货，寄回时备注要换的尺码，运费险会承担运费",
                ),
                ("衣服有点大，想换M码", "好的亲，给您申请换货了，收到退回的衣服后马上给您发M码"),
            ],
            [],
        ),
        (
            Q,
            [
                (
                    "才洗了一次就掉色了，把别的衣服都染了",
                    "非常抱歉亲，深色纯棉前几次洗会有浮色，您这个情况比较严重，可以给您退货或者换新",
                ),
                (
                    "穿了两次就起球了",
                    "抱歉给您带来不好的体验，麻烦拍张照片发过来，我们核实后给您处理",
                ),
                (
                    "收到的衣服有线头，领口还有一块污渍",
                    "非常抱歉亲，是质检疏忽了，给您补发一件新的可以吗",
                ),
            ],
            [
                (SERV, "那我要退货", "好的亲，已经给您发起退货申请了，运费由我们承担"),
                (SERV, "怎么寄回去", "在订单里点退货，选择上门取件就可以，不用您垫付运费"),
            ],
        ),
    ],
    (EARBUDS, "post"): [
        (
            Q,
            [
                (
                    "耳机右耳没声音了",
                    "亲，先把两只耳机放回充电盒，长按盒子按键10秒恢复出厂设置再试试",
                ),
                (
                    "充电盒充不进电",
                    "麻烦换一根数据线和充电头试一下，如果还是不行，可以申请售后换新",
                ),
                ("左耳老是断连", "亲，可以在手机蓝牙里忽略设备后重新配对试一下"),
                ("降噪开了跟没开一样", "亲，降噪效果和耳塞贴合度关系很大，可以换大一号的耳塞试试"),
            ],
            [
                (Q, "试了还是不行", "好的亲，那给您申请换新，寄回后我们检测完马上发新的"),
                (SERV, "保修多久", "整机保修一年，一年内非人为损坏免费维修或换新"),
            ],
        ),
    ],
    (NUTS, "post"): [
        (
            Q,
            [
                (
                    "收到的坚果有好几颗坏果，还有哈喇味",
                    "非常抱歉亲，麻烦拍一下照片发过来，核实后给您补发或者退款",
                ),
                ("有一包核桃是苦的", "抱歉亲，可能是个别批次的问题，给您补发两包可以吗"),
                ("腰果都软了，一点不脆", "非常抱歉，可能是包装漏气受潮了，给您办理部分退款可以吗"),
            ],
            [
                (OTHER, "照片发你了", "收到了亲，已经给您登记补发，今天就寄出"),
                (SERV, "我要退款", "好的亲，已经给您申请了，1到3个工作日原路退回"),
            ],
        ),
        (
            LOG,
            [
                (
                    "礼盒被压扁了，送人的没法送了",
                    "非常抱歉亲，给您补发一个新的礼盒，这次会加固包装",
                ),
            ],
            [],
        ),
    ],
    (None, "post"): [
        (
            SERV,
            [
                ("我要退款", "好的亲，请问是什么原因呢？在订单页面申请后我们会尽快处理"),
                (
                    "申请退款三天了怎么还没到账",
                    "亲，退款已经审核通过了，一般1到3个工作日原路退回，请再耐心等一下",
                ),
                (
                    "退款为什么被驳回了",
                    "亲，驳回原因是商品已拆封影响二次销售，如果是质量问题可以重新申请并上传照片",
                ),
            ],
            [],
        ),
        (
            SERV,
            [
                ("发票怎么开", "亲，在订单详情里点申请开票，填好抬头和税号就可以"),
                ("发票抬头开错了能重开吗", "可以的亲，把正确的抬头和税号发给我，给您重新开具"),
                ("能开专票吗？", "可以的亲，需要提供公司的开票信息，专票会邮寄给您"),
            ],
            [],
        ),
        (
            LOG,
            [
                ("物流三天没更新了", "亲，这边帮您联系快递核实一下，有结果马上回复您"),
                ("快递怎么一直不动", "抱歉亲，中转站这几天件比较多，我帮您催一下"),
                (
                    "显示签收了但我没收到",
                    "亲别着急，可能是放在驿站或者快递柜了，我这边联系快递员确认一下",
                ),
                ("地址填错了能改吗", "亲，还没发货的话可以修改，请把新地址发给我"),
                ("能改一下收货地址吗", "可以的亲，订单还没出库，请提供新的地址"),
            ],
            [],
        ),
        (
            CAMP,
            [
                (
                    "我刚买就降价了，能退差价吗",
                    "亲，购买7天内降价可以申请价保，在订单页点价格保护，审核后会退回差价",
                ),
                ("价保怎么申请？", "在订单详情页点价格保护就可以，系统自动比对价格"),
                ("昨天买的今天便宜了20，太坑了吧", "抱歉亲，给您申请了价保，差价20元会原路退回"),
                ("赠品没收到", "抱歉亲，帮您查一下，漏发的话马上给您补寄"),
                ("说好的赠品怎么没有", "亲，赠品是单独发货的，预计明天到，请留意物流"),
                ("优惠券怎么用不了", "亲，这张券需要满199才能用，您的订单还差一点，可以凑单哦"),
            ],
            [],
        ),
    ],
}

C_GREET = ["在吗", "在吗？", "你好", "客服在吗", "在不在", "hello", "您好，咨询一下", "亲，在吗"]
A_GREET = [
    "亲，在的，请问有什么可以帮您？",
    "您好，欢迎光临{小店|本店}，请问有什么可以帮到您的呢？",
    "在的亲～有什么问题尽管问哦",
    "亲亲您好，客服{小美|小雨|阿杰}为您服务～",
]
C_CLOSE = {
    "pre": [
        "好的谢谢",
        "好的，谢谢",
        "嗯嗯，谢谢",
        "知道了，谢谢亲",
        "好的",
        "行吧",
        "那我下单了",
        "好的，那我{再看看|先拍了}",
        "👌",
        "谢谢客服",
        "OK",
    ],
    "post": ["好的谢谢", "好的，那我等消息", "行，尽快啊", "嗯嗯，麻烦了", "好吧", "谢谢🙏"],
}
A_CLOSE = {
    "pre": [
        "不客气亲，祝您生活愉快～",
        "感谢您的支持，有问题随时联系我们哦",
        "好的亲，有需要再联系～",
        "应该的亲，祝您购物愉快",
        "不客气，期待您再次光临～",
    ],
    "post": [
        "好的亲，给您带来不便非常抱歉",
        "处理好会马上通知您，请留意消息哦",
        "不客气亲，有问题随时找我们",
    ],
}
CLOSE_TEXTS = [t for texts in C_CLOSE.values() for t in texts]

# Planted agent-side service problems: (tag, product, session kind, customer turn, agent turn).
PLANTED_AGENT = [
    (
        "absolute_claim",
        EARBUDS,
        "pre",
        "这款耳机质量怎么样，容易坏吗",
        "亲放心，这是市面上最好的降噪耳机，绝对不会坏的",
    ),
    (
        "absolute_claim",
        TSHIRT,
        "pre",
        "你们家T恤跟别家比有什么区别？",
        "我们家T恤的面料是全网第一的，穿过的都说好～",
    ),
    (
        "absolute_claim",
        NUTS,
        "pre",
        "坚果新鲜吗？",
        "亲，我们是全网最新鲜的坚果，最好的原料，绝对不会有坏果哦",
    ),
    ("rude", TSHIRT, "pre", "这件肩宽多少？", "不知道，自己看详情页"),
    ("rude", NUTS, "pre", "能再便宜点吗？便宜点我就买两盒", "爱买不买"),
    (
        "off_platform",
        NUTS,
        "post",
        "退款申请了三天了怎么还没到？",
        "亲，平台退款流程比较慢，加我微信 kefu_nuts2026 私下给您转账更快",
    ),
]
PLANTED_CAT = {
    "这款耳机质量怎么样，容易坏吗": NEED,
    "你们家T恤跟别家比有什么区别？": NEED,
    "坚果新鲜吗？": NEED,
    "这件肩宽多少？": NEED,
    "能再便宜点吗？便宜点我就买两盒": CAMP,
    "退款申请了三天了怎么还没到？": SERV,
}
# PII in customer turns (all values fictitious).
PII_TURNS = [
    (
        NUTS,
        "post",
        Q,
        "订单号2026102012345678，收到的坚果有好几包漏气了",
        "非常抱歉亲，麻烦拍照片发过来，核实后给您补发",
    ),
    (
        EARBUDS,
        "post",
        LOG,
        "我的手机号13698765432，快递员说联系不上我",
        "好的亲，已经帮您把号码备注给快递员了",
    ),
    (
        TSHIRT,
        "post",
        LOG,
        "地址改成广州市天河区体育西路123号B座1802室，收件人王先生",
        "好的亲，还没发货，已经帮您修改好地址了",
    ),
    (
        EARBUDS,
        "post",
        SERV,
        "订单号：DD20261025007 申请退款了，麻烦处理一下",
        "收到亲，这边已经加急处理，1到3个工作日原路退回",
    ),
    (TSHIRT, "post", SERV, "换货有问题打我电话 150-0000-8888", "好的亲，有进展会电话联系您"),
    (
        NUTS,
        "post",
        SERV,
        "发票发到我邮箱 wangfang.demo@example.com 就行",
        "好的亲，电子发票开好后会发送到您的邮箱，请注意查收",
    ),
    (
        NUTS,
        "post",
        LOG,
        "新地址：杭州市西湖区文三路456号7幢2单元301，电话18900001234",
        "已为您修改，新地址会同步给快递",
    ),
    (
        EARBUDS,
        "post",
        CAMP,
        "订单编号 2026110312349876 的赠品保护套没收到",
        "抱歉亲，查到是漏发了，今天给您补寄",
    ),
]
# Two whole sessions in traditional characters: (product, kind, [(is_agent, cat, text)])
TRAD_SESSIONS = [
    (
        EARBUDS,
        "pre",
        [
            (0, NEED, "請問這款耳機能連iPhone嗎？"),
            (1, None, "親，可以的，蘋果和安卓手機都能連接哦"),
            (0, NEED, "降噪效果怎麼樣？坐捷運用"),
            (1, None, "主動降噪可以把大部分環境噪音壓下去，捷運上使用沒問題的"),
            (0, OTHER, "好的，謝謝"),
            (1, None, "不客氣，祝您購物愉快～"),
        ],
    ),
    (
        TSHIRT,
        "post",
        [
            (0, SERV, "在嗎？衣服尺碼買小了想換大一號"),
            (1, None, "親，在的，請在訂單頁面申請換貨，寄回時備註要換的尺碼就可以"),
            (0, SERV, "運費誰出？"),
            (1, None, "您購買時有運費險，來回運費由保險承擔哦"),
            (0, OTHER, "好的，謝謝"),
        ],
    ),
]
AGENT_FORBIDDEN = ["最", "第一", "绝对", "全网", "不知道", "爱买不买", "微信", "QQ", "加我"]
N_SESSIONS = 80


def topic_block(product, kind, used_topics):
    pools = CHAT_TOPICS.get((product, kind), []) + CHAT_TOPICS[(None, kind)]
    options = [t for t in pools if id(t) not in used_topics]
    topic = rng.choice(options)
    used_topics.add(id(topic))
    cat, exchanges, follows = topic
    c, a = rng.choice(exchanges)
    c, a = x(c), x(a.replace("{gift}", GIFT[product]))
    if (
        rng.random() < 0.2
        and ("吗" in c or c.endswith("？"))
        and not c.startswith(("请问", "我", "亲"))
    ):
        c = "请问" + c
    block = [(0, cat, c, None), (1, None, a, None)]
    if follows and rng.random() < 0.5:
        fcat, fc, fa = rng.choice(follows)
        block += [(0, fcat, fc, None), (1, None, fa, None)]
    return block


def build_session(product, kind, special_blocks):
    """Return a list of turns (is_agent, category, text, tag)."""
    used_topics: set[int] = set()
    greet = (
        [(0, OTHER, rng.choice(C_GREET), None), (1, None, x(rng.choice(A_GREET)), None)]
        if rng.random() < 0.65
        else []
    )
    n_topics = rng.choice([1, 1, 2, 2, 3] if kind == "pre" else [1, 1, 1, 2])
    blocks = [topic_block(product, kind, used_topics) for _ in range(n_topics)]
    for sb in special_blocks:
        blocks.insert(rng.randrange(len(blocks) + 1), sb)
    close = []
    if rng.random() < 0.85:
        close.append((0, OTHER, x(rng.choice(C_CLOSE[kind])), None))
        if rng.random() < 0.7:
            close.append((1, None, x(rng.choice(A_CLOSE[kind])), None))

    def total():
        return len(greet) + sum(map(len, blocks)) + len(close)

    while total() < 4:
        blocks.append(topic_block(product, kind, used_topics))
    while total() > 12:
        plain = [i for i, b in enumerate(blocks) if all(t[3] is None for t in b)]
        blocks.pop(plain[-1])
    return greet + [t for b in blocks for t in b] + close


def build_chats():
    # plan: at least two sessions per day, then a few extra days
    days = [d for d in DAYS for _ in range(2)] + [
        rng.choice(DAYS) for _ in range(N_SESSIONS - 2 * N_DAYS)
    ]
    plans = []
    for d in days:
        product = wchoice([(TSHIRT, 0.36), (EARBUDS, 0.32), (NUTS, 0.32)])
        kind = "pre" if rng.random() < 0.55 else "post"
        start = rand_time(d, hours=range(8, 22), weights=[2, 3, 3, 3, 2, 3, 3, 3, 3, 3, 4, 5, 5, 4])
        plans.append(dict(product=product, kind=kind, start=start, specials=[], trad=None))
    plans.sort(key=lambda p: p["start"])
    order = list(range(len(plans)))
    rng.shuffle(order)
    taken = set()

    def assign(product, kind):
        for i in order:
            if i not in taken and plans[i]["product"] == product and plans[i]["kind"] == kind:
                taken.add(i)
                return plans[i]
        # none left: convert a free plan (keeps the date)
        for i in order:
            if i not in taken:
                taken.add(i)
                plans[i].update(product=product, kind=kind)
                return plans[i]
        raise RuntimeError("no session left")

    for product, kind, turns in TRAD_SESSIONS:
        assign(product, kind)["trad"] = turns
    for tag, product, kind, c, a in PLANTED_AGENT:
        assign(product, kind)["specials"].append([(0, PLANTED_CAT[c], c, None), (1, None, a, tag)])
    for product, kind, cat, c, a in PII_TURNS:
        assign(product, kind)["specials"].append([(0, cat, c, "pii"), (1, None, a, None)])

    users = [f"U{10001 + i}" for i in range(64)]
    rows, customer_cats = [], Counter()
    for sid, p in enumerate(plans, 1):
        if p["trad"]:
            turns = [(ag, cat, text, "traditional") for ag, cat, text in p["trad"]]
        else:
            turns = build_session(p["product"], p["kind"], p["specials"])
        for ag, cat, text, tag in turns:
            if not ag:
                customer_cats[cat] += 1
            elif tag is None and any(w in text for w in AGENT_FORBIDDEN):
                raise AssertionError(f"unplanted agent problem: {text}")
        user = rng.choice(users)
        t = p["start"]
        for n, (ag, _cat, text, tag) in enumerate(turns):
            if n:
                t += dt.timedelta(seconds=rng.randint(10, 360) if ag else rng.randint(5, 240))
            rows.append(
                dict(
                    session_id=f"S{sid:04d}",
                    user_id=user,
                    is_agent=str(ag),
                    product=p["product"],
                    sent_at=t.strftime("%Y-%m-%d %H:%M:%S"),
                    text=text,
                    tag=tag,
                    kind=p["kind"],
                )
            )

    # Two malformed rows in the middle of the file.
    mid = len(rows) // 2
    i = mid - 40
    while not (rows[i]["is_agent"] == "1" and rows[i]["tag"] is None):
        i += 1
    rows[i]["is_agent"], rows[i]["tag"] = "x", "bad_is_agent"
    j = mid + 40
    while not (
        rows[j]["is_agent"] == "0" and rows[j]["tag"] is None and rows[j]["text"] in CLOSE_TEXTS
    ):
        j += 1
    rows[j]["text"], rows[j]["tag"] = "", "empty_text"

    buf = io.StringIO()
    header = ["session_id", "user_id", "is_agent", "product", "sent_at", "text"]
    buf.write("\t".join(header) + "\n")
    for r in rows:
        assert not any(ch in r["text"] for ch in '\t\n\r"'), r["text"]
        buf.write("\t".join(r[h] for h in header) + "\n")
    (HERE / "chats.tsv").write_bytes(buf.getvalue().encode("utf-8"))
    return rows, customer_cats


# ---------------------------------------------------------------------------
def main():
    a = build_shop_a()
    b = build_shop_b()
    chats, customer_cats = build_chats()

    print("== reviews_shop_a.csv ==")
    print(f"data rows: {len(a)} (physical lines incl. header: {len(a) + 1})")
    print("row kinds:", dict(Counter(r["kind"] for r in a)))
    for r_i, r in enumerate(a):
        if r["kind"] not in ("normal",):
            print(
                f"  line {r_i + 2:>3}  {r['review_id']}  {r['kind']:<20} {r['product']}  "
                f"{r['created_at']}  rating={r['rating']}  {r['content'][:40]!r}"
            )
    print("== reviews_shop_b_gbk.csv ==")
    print(f"data rows: {len(b)} (physical lines incl. header: {len(b) + 1})")
    for r_i, r in enumerate(b):
        if r["kind"] != "normal":
            print(
                f"  line {r_i + 2:>3}  {r['review_id']}  {r['kind']:<14} {r['product']}  "
                f"{r['created_at']}  rating={r['rating']}  {r['content'][:40]!r}"
            )
    print("== chats.tsv ==")
    sessions = Counter(r["session_id"] for r in chats)
    print(
        f"rows (turns): {len(chats)}  sessions: {len(sessions)}  turns/session: "
        f"{min(sessions.values())}-{max(sessions.values())}  "
        f"customer turns: {sum(r['is_agent'] == '0' for r in chats)}  "
        f"agent turns: {sum(r['is_agent'] == '1' for r in chats)}  "
        f"pre-sales sessions: {len({r['session_id'] for r in chats if r['kind'] == 'pre'})}  "
        f"after-sales sessions: {len({r['session_id'] for r in chats if r['kind'] == 'post'})}"
    )
    for r_i, r in enumerate(chats):
        if r["tag"] and r["tag"] != "traditional":
            print(
                f"  line {r_i + 2:>3}  {r['session_id']}  {r['tag']:<15} is_agent={r['is_agent']}  {r['text']!r}"
            )
    trad = sorted({r["session_id"] for r in chats if r["tag"] == "traditional"})
    print("  traditional-Chinese sessions:", trad)
    print("== clause categories (generator's own labels) ==")
    for tag, cnt in CLAUSE_COUNTS.items():
        print(f"  reviews_{tag}: {dict(cnt)}")
    print(f"  chat customer turns: {dict(customer_cats)}")
    texts = {r["content"] for r in a + b if r["content"].strip()}
    print(f"distinct non-empty review texts (A+B): {len(texts)}")


if __name__ == "__main__":
    main()
