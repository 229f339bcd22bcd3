"""Write ``tests/data/pii_cases.csv``: a synthetic PII test set for ``tests/test_pii_recall.py``.

Every value is made up: phone numbers, e-mails, ID and bank-card numbers (with valid check
digits, so they look real to a pattern) and addresses built from common place and road
names. Each PII row holds exactly one PII span inside a review or chat sentence; each
``none`` row holds an ordinary number (size, price, model, date, quantity) that must stay.

Run from the repo root (the output is committed; the seed keeps it reproducible)::

    .venv/bin/python tests/data/make_pii_cases.py
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

OUT = Path(__file__).with_name("pii_cases.csv")
SEED = 20261123


def luhn_complete(prefix: str) -> str:
    """``prefix`` plus the Luhn check digit (bank cards carry one)."""
    total = 0
    for position, char in enumerate(reversed(prefix)):
        value = int(char)
        if position % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return prefix + str((10 - total % 10) % 10)


def id_check_digit(first17: str) -> str:
    """GB 11643 check character of a resident ID number (may be X)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def groups(number: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, start = [], 0
    for size in sizes:
        parts.append(number[start : start + size])
        start += size
    if start < len(number):
        parts.append(number[start:])
    return sep.join(p for p in parts if p)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in text)


# --- PII generators: each returns the span as it appears in the sentence -------------------


def mobile(rng: random.Random) -> str:
    number = rng.choice(["13", "15", "17", "18", "19", "16", "14"]) + digits(rng, 9)
    form = rng.randrange(11)
    if form == 0:
        return groups(number, (3, 4, 4), " ")
    if form == 1:
        return groups(number, (3, 4, 4), "-")
    if form == 2:
        return "+86 " + number
    if form == 3:
        return "+86-" + groups(number, (3, 4, 4), "-")
    if form == 4:
        return "+86 " + groups(number, (3, 4, 4), " ")
    if form == 5:
        return "(+86)" + number
    if form == 6:
        return "86-" + number
    if form == 7:
        return fullwidth(number)
    if form == 8:
        return groups(number, (3, 4, 4), " ").replace(" ", "-", 1)
    return number


AREA_CODES = [
    "010",
    "021",
    "022",
    "023",
    "020",
    "0755",
    "0571",
    "025",
    "027",
    "028",
    "0512",
    "0731",
]


def landline(rng: random.Random) -> str:
    area = rng.choice(AREA_CODES)
    local = rng.choice("2345678") + digits(rng, 7 if len(area) == 3 else rng.choice([6, 7]))
    form = rng.randrange(9)
    if form == 0:
        return f"({area}){local}"
    if form == 1:
        return f"（{area}）{local}"
    if form == 2:
        return f"{area} {local}"
    if form == 3:
        return f"{area}-{local[:4]} {local[4:]}"
    if form == 4:
        return f"{area}-{local}转{rng.randint(100, 8999)}"
    if form == 5:
        return f"{area}-{local}-{rng.randint(10, 999)}"
    if form == 6:
        return f"{area}{local}"
    return f"{area}-{local}"


EMAIL_DOMAINS = ["qq.com", "163.com", "126.com", "gmail.com", "foxmail.com", "sina.com.cn",
                 "outlook.com", "yeah.net", "hotmail.com", "example.com.cn", "shop-demo.cn"]  # fmt: skip
PINYIN = ["zhang", "wang", "li", "zhao", "liu", "chen", "yang", "huang", "wu", "zhou", "xu", "sun",
          "ma", "zhu", "hu", "guo", "he", "lin", "luo", "gao"]  # fmt: skip


def email(rng: random.Random) -> str:
    form = rng.randrange(6)
    if form == 0:
        local = digits(rng, rng.randint(6, 11)).lstrip("0") or "8"
        return f"{local}@qq.com"
    first, second = rng.choice(PINYIN), rng.choice(PINYIN)
    local = rng.choice([f"{first}.{second}", f"{first}_{second}{rng.randint(1, 99)}",
                        f"{first}{second}{rng.randint(1970, 2005)}", f"{first}-{second}",
                        f"{first}+shop"])  # fmt: skip
    if form == 1:
        local = local.capitalize()
    address = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
    return address.upper() if form == 2 else address


REGIONS = ["110105", "110108", "310104", "310115", "440305", "440106", "330106", "320102",
           "510107", "420106", "610113", "370202", "350203", "500103", "120101"]  # fmt: skip


def id_number(rng: random.Random) -> str:
    born = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randrange(365 * 50))
    first17 = rng.choice(REGIONS) + born.strftime("%Y%m%d") + digits(rng, 3)
    number = first17 + id_check_digit(first17)
    form = rng.randrange(10)
    if form == 0 and number.endswith("X"):
        return number[:-1] + "x"
    if form == 1:
        return groups(number, (6, 8, 4), " ")
    return number


CARD_PREFIXES = ["622202", "622848", "621700", "622588", "621483", "622609", "436742",
                 "518710", "625965", "621226", "603367", "622700"]  # fmt: skip


def bank_card(rng: random.Random) -> str:
    length = rng.choice([16, 16, 17, 18, 19, 19])
    number = luhn_complete(rng.choice(CARD_PREFIXES) + digits(rng, length - 7))
    form = rng.randrange(4)
    if form == 0:
        return groups(number, (4, 4, 4, 4), " ")
    if form == 1:
        return groups(number, (4, 4, 4, 4), "-")
    return number


def order_number(rng: random.Random) -> str:
    form = rng.randrange(8)
    if form == 0:  # JD: 12 digits
        return rng.choice("23") + digits(rng, 11)
    if form == 1:  # Taobao/Tmall: 18-19 digits
        return rng.choice("123") + digits(rng, rng.choice([17, 18]))
    if form == 2:  # Pinduoduo: yymmdd-15 digits
        return f"{rng.randint(23, 26)}{rng.randint(10, 12)}{rng.randint(10, 28)}-" + digits(rng, 15)
    if form == 3:  # express waybills
        return rng.choice(["SF", "YT", "JT", "ZTO", "YD", "JD"]) + digits(rng, rng.randint(12, 13))
    if form == 4:
        return "DD" + digits(rng, rng.randint(10, 14))
    if form == 5:
        return "E" + digits(rng, 18)
    if form == 6:
        return digits(rng, 1).replace("0", "7") + digits(rng, 15)
    return "7" + digits(rng, 13)


PLACES = [
    ("", "北京市", ["朝阳区", "海淀区", "东城区", "丰台区"]),
    ("", "上海市", ["浦东新区", "徐汇区", "静安区", "闵行区"]),
    ("广东省", "深圳市", ["南山区", "福田区", "宝安区", "龙岗区"]),
    ("广东省", "广州市", ["天河区", "越秀区", "番禺区"]),
    ("浙江省", "杭州市", ["西湖区", "余杭区", "滨江区"]),
    ("江苏省", "南京市", ["鼓楼区", "玄武区", "江宁区"]),
    ("江苏省", "苏州市", ["工业园区", "姑苏区", "吴中区"]),
    ("四川省", "成都市", ["武侯区", "锦江区", "高新区"]),
    ("湖北省", "武汉市", ["洪山区", "江汉区", "武昌区"]),
    ("", "重庆市", ["渝北区", "江北区", "九龙坡区"]),
    ("山东省", "青岛市", ["市南区", "崂山区"]),
    ("福建省", "厦门市", ["思明区", "湖里区"]),
    ("河南省", "郑州市", ["金水区", "二七区"]),
    ("陕西省", "西安市", ["雁塔区", "碑林区"]),
]  # fmt: skip
ROADS = ["中山路", "人民南路", "建设大道", "解放路", "文三路", "长江中路", "学院路", "科技南路",
         "南京西路", "滨江大道", "和平街", "幸福巷", "金沙江路", "东风路", "花园街"]  # fmt: skip
ESTATES = ["阳光花园", "万科城市花园", "碧桂园", "金地小区", "幸福里小区", "锦绣家园", "翠苑小区",
           "世纪公寓", "绿城桂花园", "保利香槟花园"]  # fmt: skip


def address(rng: random.Random) -> str:
    province, city, districts = rng.choice(PLACES)
    district = rng.choice(districts)
    road = rng.choice(ROADS) + f"{rng.randint(1, 999)}号"
    building = rng.choice(
        [f"{rng.randint(1, 30)}栋", f"{rng.randint(1, 20)}号楼", f"{rng.randint(1, 12)}幢"]
    )
    unit = f"{rng.randint(1, 6)}单元"
    room = f"{rng.randint(1, 33)}{rng.randint(1, 9):02d}" + rng.choice(["室", "", "室"])
    estate = rng.choice(ESTATES)
    form = rng.randrange(7)
    if form == 0:
        return f"{province}{city}{district}{road}"
    if form == 1:
        return f"{city}{district}{road}{building}{unit}{room}"
    if form == 2:
        return f"{city}{district}{estate}{building}{unit}{room}"
    if form == 3:
        return f"{district}{road}{estate}{building}{room}"
    if form == 4:
        return f"{province}{city}{district}{road}{estate}{building}{room}"
    if form == 5:
        return f"{city}{district}{rng.choice(ROADS)}{rng.randint(1, 300)}弄{rng.randint(1, 40)}号{room}"
    return f"{city}{district}{estate}{rng.randint(1, 30)}-{rng.randint(1, 6)}-{rng.randint(1, 33)}0{rng.randint(1, 4)}"


# --- sentences ---------------------------------------------------------------------------

TEMPLATES = {
    "mobile": [
        "快递一直不送，我的电话{pii}，麻烦尽快联系", "收货人手机：{pii}，请派送前打电话",
        "客服你好，手机号是{pii}，退款还没到", "联系方式 {pii} 白天都在", "打{pii}没人接，物流太慢了",
        "有问题请拨打{pii}（本人）", "换货的话联系我{pii}就行", "请让师傅到了打{pii}，谢谢",
        "电话{pii}，耳机左边没声音", "我手机{pii}，帮我改个地址",
    ],
    "landline": [
        "公司座机{pii}，工作日送货", "收件电话：{pii}，找前台", "单位电话{pii}，麻烦送到门卫",
        "家里座机是{pii}，下午有人", "打过去{pii}一直占线，客服态度差", "发票问题请打{pii}联系财务",
    ],
    "email": [
        "电子发票发到{pii}，谢谢", "邮箱：{pii}，请把保修卡发我", "我的邮箱是{pii}，收不到验证码",
        "麻烦把说明书发到{pii}", "发票抬头个人，邮箱{pii}", "联系邮箱 {pii} 有消息通知我",
    ],
    "id_number": [
        "身份证号{pii}，实名认证一直失败", "报关要身份证：{pii}，烦死了", "我的身份证是{pii}，帮我查下",
        "清关信息 {pii} 已经填了", "保修登记要身份证号码{pii}，太麻烦了", "实名：{pii}",
    ],
    "bank_card": [
        "退款打到我的卡上吧，卡号{pii}", "银行卡：{pii}，退款三天了还没到", "请退到{pii}这张卡",
        "建行卡号 {pii} 户名本人", "我的卡号是{pii}，怎么还没收到钱", "打款账号{pii}，谢谢",
    ],
    "order_number": [
        "订单号：{pii}，到现在还没发货", "订单号{pii}的赠品没收到", "单号 {pii} 物流三天没动了",
        "运单号{pii}显示签收了但我没收到", "订单编号 {pii} 申请退款", "快递单号：{pii}，催一下",
        "我的订单{pii}少发了一件", "order no: {pii} 没到", "订单号是{pii}，麻烦查一下",
        "帮我查下这个单{pii}",
    ],
    "address": [
        "收货地址：{pii}，麻烦放快递柜", "地址改成{pii}，谢谢", "寄到{pii}就行", "送到{pii}门口就走了",
        "我住在{pii}，快递说找不到", "新地址{pii}，电话不变", "麻烦发到{pii}，周末在家",
        "发货地址写错了，应该是{pii}",
    ],
}  # fmt: skip
GENERATORS = {
    "mobile": mobile, "landline": landline, "email": email, "id_number": id_number,
    "bank_card": bank_card, "order_number": order_number, "address": address,
}  # fmt: skip
COUNTS = {"mobile": 70, "landline": 45, "email": 40, "id_number": 40, "bank_card": 40,
          "order_number": 50, "address": 55}  # fmt: skip

# Ordinary numbers: each sentence's number must survive masking unchanged.
ORDINARY = [
    ("身高175体重130斤，买的{n}刚好", ["175/80A", "180/96A", "170/88A", "165/84A", "XL", "2XL"]),
    ("平时穿{n}，这次大了一码", ["42码", "M码", "L码", "39码", "XXL", "36B"]),
    ("到手价{n}，很划算", ["¥199.00", "¥59.9", "89.9元", "1299元", "￥3999", "¥12.80"]),
    ("原价{n}，活动价便宜了不少", ["1299元", "¥2599.00", "699块", "4999元", "¥1,299.00"]),
    ("满{n}不能用，券有问题", ["300减50", "199减20", "1000减100", "99减10"]),
    ("手机是{n}，连接蓝牙没问题", ["iPhone 15", "iPhone 13 Pro Max", "小米13", "华为Mate 60 Pro",
                                   "OPPO Reno10", "Redmi K70", "vivo X100"]),
    ("型号{n}，和描述一致", ["A1234", "WH-1000XM4", "XM5", "RTX 4090", "i7-13700K", "KD-65X85L",
                            "M2 Pro", "SM-S9180"]),
    ("电池{n}，续航很久", ["5000mAh", "4500毫安", "20000毫安", "10000mAh", "3300mAh"]),
    ("内存{n}够用了", ["128GB", "256G", "8G+256G", "16GB", "1TB", "512GB"]),
    ("{n}下单的，第二天就到了", ["2023-11-05", "11月11日", "2023年11月11日", "双11当天", "2024/06/18",
                                "11.11", "6月18号"]),
    ("{n}送到的，挺快", ["20:30", "早上9点", "下午3点半", "2023-11-12 14:05", "晚上10:45"]),
    ("买了{n}，家里人都说好吃", ["3件", "一箱24瓶", "2盒", "500g", "3kg", "5斤", "12包"]),
    ("尺寸{n}，放得下", ["120x60cm", "1.5米", "1.8m", "32寸", "65英寸", "40*30*20cm", "180×200"]),
    ("屏幕{n}，画面清楚", ["4K", "144Hz", "2560x1440", "27英寸", "120Hz", "HDR10"]),
    ("快充{n}，充电很快", ["65W", "120W", "33W", "20W", "PD 30W"]),
    ("容量{n}，一家人够用", ["2000ml", "5L", "1.5L", "500毫升", "300L"]),
    ("防晒{n}，不油腻", ["SPF50+", "SPF30", "PA+++", "SPF50 PA++++"]),
    ("等了{n}才到，太慢了", ["15天", "一个星期", "3天", "72小时", "两周", "10天"]),
    ("保修{n}，售后还行", ["3年", "一年", "24个月", "2年", "365天"]),
    ("第{n}次回购了，一直用这个", ["2", "3", "5", "10", "N"]),
    ("评分{n}，推荐", ["4.8", "5.0", "9.5分", "4.9"]),
    ("空气净化器PM2.5从{n}降到了个位数", ["150", "80", "200", "99"]),
    ("跑了{n}，鞋底没问题", ["10公里", "42km", "500公里", "5km"]),
    ("{n}的价格买到很值", ["百元内", "不到200", "三百多", "1k出头"]),
    ("功率{n}，声音不大", ["2200W", "1800瓦", "800W", "1500W"]),
    ("重量{n}，拿着轻", ["180g", "1.2kg", "350克", "2.5斤"]),
    ("分辨率{n}，拍照清楚", ["5000万像素", "1亿像素", "4800万", "200MP"]),
    ("卫生纸{n}，量很足", ["4层", "10卷", "3层120抽", "27卷"]),
    ("鞋子{n}码，偏大半码", ["43", "38", "40.5", "44"]),
    ("货号{n}，和实体店一样", ["20231105", "A8836", "KX-2023", "9981"]),
    ("客服电话{n}打了没人接", ["400-820-8820", "95118", "400 600 7777", "10086", "95533"]),
    ("{n}点击领券，结果用不了", ["8点", "20点", "零点", "0点"]),
    ("鞋盒上写的{n}，是正品", ["EUR 42", "US 9", "UK 8.5", "CN 265"]),
    ("{n}的宝宝穿正合适", ["3岁", "18个月", "6-12个月", "100cm"]),
    ("房间{n}平米，空调够用", ["15", "20", "25", "12"]),
    ("尺码表写{n}，实际偏小", ["胸围108cm", "衣长72cm", "腰围2尺4", "肩宽46", "裤长102cm"]),
    ("一共花了{n}，不算贵", ["358.6元", "¥1,088", "两千多", "1088.00"]),
    ("优惠券{n}，叠加后便宜", ["减30", "满99减15", "9折", "8.8折"]),
    ("笔记本{n}，打游戏不卡", ["i5-12450H", "R7 7840HS", "RTX 3060 6G", "16G+512G", "Y9000P 2023"]),
    ("耳机{n}，音质不错", ["AirPods Pro 2", "FreeBuds 5i", "QC45", "WF-1000XM5", "Buds2 Pro"]),
    ("{n}的版本没有这个功能", ["V2.1.3", "14.0.2", "iOS 17.1", "HarmonyOS 4.0", "MIUI 14"]),
    ("电视{n}，客厅刚好", ["75英寸", "85寸", "55吋", "4K 120Hz"]),
    ("洗衣机{n}，一家四口够用", ["10公斤", "8kg", "12KG", "滚筒10kg"]),
    ("温度调到{n}，很舒服", ["26度", "26℃", "18-22℃", "40°C"]),
    ("打开包装是{n}的", ["2023年10月生产", "2023.09.15生产", "保质期12个月", "生产日期20231012"]),
    ("取件码{n}，快递柜拿的", ["3-2-1048", "8826", "A12-3045", "15-6-2011"]),
    ("排在第{n}位，发货慢", ["1520", "3", "99+"]),
]  # fmt: skip


def build(rng: random.Random) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for kind, count in COUNTS.items():
        seen: set[str] = set()
        while len(seen) < count:
            span = GENERATORS[kind](rng)
            if span in seen:
                continue
            seen.add(span)
            text = rng.choice(TEMPLATES[kind]).format(pii=span)
            rows.append(
                {"case_id": f"{kind}-{len(seen):03d}", "kind": kind, "text": text, "span": span}
            )
    number = 0
    for template, values in ORDINARY:
        for value in values:
            number += 1
            rows.append(
                {
                    "case_id": f"none-{number:03d}",
                    "kind": "none",
                    "text": template.format(n=value),
                    "span": value,
                }
            )
    return rows


def main() -> None:
    rows = build(random.Random(SEED))
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["case_id", "kind", "text", "span"])
        writer.writeheader()
        writer.writerows(rows)
    kinds = {}
    for row in rows:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
    print(f"wrote {len(rows)} rows to {OUT}: {kinds}")


if __name__ == "__main__":
    main()
