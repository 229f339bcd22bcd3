"""PII masking: phones, e-mails, ID/order/bank-card numbers and addresses go; other numbers stay."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voc.pii import mask_pii


def luhn_complete(prefix: str) -> str:
    """``prefix`` plus the check digit that makes it pass the Luhn test."""
    total = 0
    for position, char in enumerate(reversed(prefix)):
        value = int(char)
        if position % 2 == 0:  # doubled once the check digit is appended
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return prefix + str((10 - total % 10) % 10)


CARD = luhn_complete("622848001234567")  # 16 digits
CARD_19 = luhn_complete("621700123456789012")  # 19 digits


def test_luhn_helper_matches_a_known_number() -> None:
    # 4111 1111 1111 1111 is the classic valid test card.
    assert luhn_complete("411111111111111") == "4111111111111111"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的电话13812345678", "我的电话[电话]"),
        ("电话138-1234-5678谢谢", "电话[电话]谢谢"),
        ("电话 +86 138 1234 5678", "电话 [电话]"),
        ("电话+8613812345678", "电话[电话]"),
        ("打我电话 186 0000 2233", "打我电话 [电话]"),
        ("手机号15900001111，希望联系我", "手机号[电话]，希望联系我"),
        ("座机0571-88886666", "座机[电话]"),
        ("电话：010-12345678", "电话：[电话]"),
        ("请发到lihua.demo@example.com，谢谢", "请发到[邮箱]，谢谢"),
        ("邮箱 wangfang.demo@example.com 就行", "邮箱 [邮箱] 就行"),
        ("身份证号11010519880808321X才给退款", "身份证号[身份证号]才给退款"),
        ("身份证号110105198808083216", "身份证号[身份证号]"),
        ("订单号：DD20261031001 退款没到账", "[订单号] 退款没到账"),
        ("订单号 2026103112345678 的赠品没收到", "[订单号] 的赠品没收到"),
        ("订单编号 2026110312349876 的赠品", "[订单号] 的赠品"),
        ("order no: DD20261025007", "[订单号]"),
        (f"退款打到卡号{CARD}吧", "退款打到卡号[银行卡号]吧"),
        (f"卡号 {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}", "卡号 [银行卡号]"),
        (f"卡号{CARD_19}", "卡号[银行卡号]"),
    ],
)
def test_pii_is_masked(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


def test_bank_card_needs_a_valid_check_digit() -> None:
    wrong = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)

    masked = mask_pii(f"卡号{wrong}")

    assert "[银行卡号]" not in masked
    # Still a long number: masked, but not called a bank card.
    assert masked == "卡号[编号]"


@pytest.mark.parametrize(
    ("text", "pii"),
    [
        ("快递送到上海市浦东新区张江路88弄3号501室门口就不管了", "上海市浦东新区张江路88弄3号501室"),
        ("新地址：杭州市西湖区文三路456号7幢2单元301，电话", "杭州市西湖区文三路456号7幢2单元301"),
        ("地址北京市朝阳区建国路100号院2号楼1单元602，快递说找不到地方", "北京市朝阳区建国路100号院2号楼1单元602"),
        ("地址改成广州市天河区体育西路123号B座1802室，收件人王先生", "广州市天河区体育西路123号B座1802室"),
        ("浙江省杭州市余杭区文一西路969号", "浙江省杭州市余杭区文一西路969号"),
        ("深圳市南山区深南大道9988号", "深圳市南山区深南大道9988号"),
        ("包裹到了北京市朝阳区望京街道了", "北京市朝阳区望京街道"),
        ("寄到成都市武侯区人民南路四段1号", "成都市武侯区人民南路四段1号"),
    ],
    ids=["shanghai", "hangzhou", "beijing-unit-flat", "guangzhou-block-room", "province",
         "avenue", "locality", "road-section"],
)  # fmt: skip
def test_address_is_masked(text: str, pii: str) -> None:
    masked = mask_pii(text)

    assert "[地址]" in masked
    assert pii not in masked
    # Building, unit and room numbers go with the rest of the address.
    assert not re.search(r"\d", masked), masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "地址改成广州市天河区体育西路123号B座1802室，收件人王先生",
            "地址改成[地址]，收件人王先生",
        ),
        ("快递送到上海市浦东新区张江路88弄3号501室门口就不管了", "快递送到[地址]门口就不管了"),
    ],
    ids=["change-address", "delivered-to"],
)
def test_address_keeps_the_words_before_it(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


def test_address_keeps_the_words_after_it() -> None:
    masked = mask_pii("地址：南京市鼓楼区中山路100号，麻烦改一下")

    assert masked == "地址：[地址]，麻烦改一下"


@pytest.mark.parametrize(
    "text",
    [
        "XL",
        "平时穿XL，这次买了2XL",
        "42码",
        "身高175体重65",
        "身高175cm体重130斤穿L码",
        "199元",
        "¥59.9",
        "价格12999元",
        "WH-1000XM4",
        "索尼WH-1000XM4降噪不错",
        "iPhone 15",
        "iPhone 13 Pro Max 256G",
        "2026-10-01",
        "2026-10-01 12:00:00",
        "2026年10月1日到的",
        "买了3件",
        "充电宝20000毫安",
        "满300减50",
        "第1000个评价",
        "订单已经收到了",
        "我在上海市区买的",
        "从杭州市发货到北京市朝阳区三天就到了",
        "快递员把东西放在小区门口快递柜里了",
    ],
)
def test_ordinary_text_is_not_masked(text: str) -> None:
    assert mask_pii(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "跟在超市买的味道一样",
        "和实体店的区别是味道更浓",
        "这个区别不大，路上摔了一下",
        "市面上同类产品这款最好",
        "这个市面上最好的耳机走路听歌很舒服",
        "县城里买不到，网上买的XL号",
        "超市里的散装坚果3号柜的",
    ],
    ids=["supermarket-taste", "difference", "on-the-road", "market", "walking", "county", "shelf"],
)
def test_everyday_words_are_not_addresses(text: str) -> None:
    assert mask_pii(text) == text


def test_several_kinds_in_one_text() -> None:
    text = "新地址：杭州市西湖区文三路456号7幢2单元301，电话18900001234，邮箱a.b@example.com"

    masked = mask_pii(text)

    assert masked == "新地址：[地址]，电话[电话]，邮箱[邮箱]"


def test_id_number_is_not_taken_for_a_phone_or_order_number() -> None:
    assert mask_pii("110105198808083216") == "[身份证号]"


def test_empty_text() -> None:
    assert mask_pii("") == ""


# Fragments that make PII-like text far more often than uniform random text would.
FRAGMENTS = st.sampled_from(
    [
        "13812345678", "138-1234-5678", "+86 ", "0571-88886666", "a.b@example.com", "@", ".",
        "11010519880808321X", "订单号：", "订单号 ", "DD", "2026103112345678", CARD, " ", "-",
        "上海市", "浦东新区", "张江路", "88弄", "3号", "501室", "味道", "[电话]", "[地址]",
        "1", "0", "X", "号", "楼", "单元", "，", "好评",
    ]
)  # fmt: skip
PII_LIKE = st.lists(FRAGMENTS, max_size=12).map("".join)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=200))
def test_mask_pii_never_raises_and_is_idempotent(text: str) -> None:
    once = mask_pii(text)

    assert isinstance(once, str)
    assert mask_pii(once) == once


@settings(max_examples=300, deadline=None, database=None)
@given(st.one_of(PII_LIKE, st.tuples(st.text(max_size=20), PII_LIKE).map("".join)))
def test_mask_pii_is_idempotent_on_pii_like_text(text: str) -> None:
    once = mask_pii(text)

    assert mask_pii(once) == once
