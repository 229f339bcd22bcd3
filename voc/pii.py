"""Mask personal data (PII) in Chinese customer text before anything is stored.

Each kind of PII is one regular expression with a placeholder; :func:`mask_pii`
applies them most-specific first, so an 18-digit ID number is not mistaken for an
order number, nor the middle of a grouped bank-card number for a phone number.
Placeholders look like ``[电话]`` so the text stays readable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PiiPattern:
    kind: str
    placeholder: str
    pattern: re.Pattern[str]


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


_NOT_DIGIT_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_DIGIT_AFTER = r"(?![0-9A-Za-z])"
_HAN = r"[\u4e00-\u9fa5]"
# An address is an administrative part (省/市/区/县…), a road or estate, and a number:
# "上海市浦东新区张江路88弄3号501室". Requiring all three keeps "超市的味道" or "区别" out.
# Place names are short (黑龙江省, 乌鲁木齐市, 浦东新区); longer runs would swallow the
# customer's own words before the address.
# Provinces by name: "any two or three characters + 省" would take the 址 of 新地址山东省.
_PROVINCE = (
    r"(?:河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川"
    r"|贵州|云南|陕西|甘肃|青海|台湾)省|(?:内蒙古|广西壮族|广西|西藏|宁夏回族|宁夏|新疆维吾尔|新疆)自治区"
)
_ADDRESS_ADMIN = rf"(?:{_PROVINCE})?(?:{_HAN}{{2,4}}市)?(?:{_HAN}{{1,4}}(?:区|县|旗|镇|乡))?"
# Housing estates (小区, 花园, 家园, 碧桂园, 翠苑, 环球中心) name a place as a road does.
_ESTATE = r"(?:小区|花园|家园|公寓|大厦|大楼|园区|园|苑|广场|中心)"
_ADDRESS_ROAD = (
    rf"{_HAN}{{1,10}}?(?:大道|大街|路|街|巷|弄|胡同|村|{_ESTATE})"
    r"(?:[一二三四五六七八九十\d]{1,2}段)?"
)
_ADDRESS_NUMBER = (
    r"(?:[\dA-Za-z一二三四五六七八九十百零]{1,5}"
    r"(?:号院|号楼|号|弄|巷|栋|幢|座|楼|单元|室|层|-))+(?:\d{1,5}(?:室|号)?)?"
)
# After the road number an estate with its own building and room numbers may follow:
# 中山路861号阳光花园12幢109.
_ADDRESS = (
    r"(?=[^，,。]{0,40}?(?:省|市|区|县))"
    + _ADDRESS_ADMIN
    + _ADDRESS_ROAD
    + _ADDRESS_NUMBER
    + rf"(?:{_HAN}{{1,10}}?{_ESTATE}{_ADDRESS_NUMBER})*"
)
# Without a number, three administrative levels down to the subdistrict still locate a person.
_LOCALITY = rf"{_HAN}{{2,4}}市{_HAN}{{1,4}}(?:区|县){_HAN}{{1,8}}?(?:街道|镇|乡|村)"

PATTERNS: tuple[PiiPattern, ...] = (
    PiiPattern(
        "email",
        "[邮箱]",
        re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    ),
    PiiPattern(
        "id_number",
        "[身份证号]",
        re.compile(
            _NOT_DIGIT_BEFORE  # also written in groups: 110105 19880808 321X
            + r"[1-9]\d{5}\s?(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s?\d{3}[\dXx]"
            + _NOT_DIGIT_AFTER
        ),
    ),
    PiiPattern(
        "order_number",
        "[订单号]",
        re.compile(
            r"(?:订单(?:号|编号)?|单号|运单号|快递单号|order(?:\s*(?:no|id|number))?)"
            r"\s*[:：#]?\s*(?:是|为)?\s*[A-Za-z]{0,4}\d[\dA-Za-z-]{5,}",
            re.IGNORECASE,
        ),
    ),
    PiiPattern(
        "bank_card",
        "[银行卡号]",
        re.compile(_NOT_DIGIT_BEFORE + r"(?:\d[\s-]?){15,18}\d" + _NOT_DIGIT_AFTER),
    ),
    PiiPattern(
        "mobile",
        "[电话]",
        re.compile(
            _NOT_DIGIT_BEFORE
            + r"(?:(?:\(\+?86\)|\+?86)[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}"
            + _NOT_DIGIT_AFTER
        ),
    ),
    PiiPattern(
        "landline",
        "[电话]",
        # (010)12345678, 0571 8888 6666, 021-6666 8888转123: area code, 7-8 digits, extension
        re.compile(
            r"(?:\(0\d{2,3}\)|" + _NOT_DIGIT_BEFORE + r"0\d{2,3})[\s-]?\d{3,4}[\s-]?\d{4}"
            r"(?:(?:-|转|ext\.?\s?)\d{1,5})?" + _NOT_DIGIT_AFTER
        ),
    ),
    PiiPattern(
        # Order and waybill codes without a lead-in word: JD386338295107, SF1234567890123,
        # Pinduoduo's 231105-123456789012345. Model numbers have far fewer digits.
        "order_code",
        "[订单号]",
        re.compile(
            _NOT_DIGIT_BEFORE + r"(?:[A-Za-z]{1,4}\d{10,}|\d{6}-\d{10,})" + _NOT_DIGIT_AFTER
        ),
    ),
    PiiPattern(
        "long_number",
        "[编号]",
        re.compile(_NOT_DIGIT_BEFORE + r"\d{11,}" + _NOT_DIGIT_AFTER),
    ),
    PiiPattern("address", "[地址]", re.compile(_ADDRESS)),
    PiiPattern("locality", "[地址]", re.compile(_LOCALITY)),
)


# Words customers put before an address; they stay in the text ("改成[地址]").
_LEAD_IN = re.compile(
    r"^(?:收货地址|新地址|地址|改成|改为|换成|寄到|送到|发到|寄往|发往|住在|送至|寄至|到了|到|在|是|了)+"
)


def _place(match: re.Match[str]) -> str:
    lead = _LEAD_IN.match(match.group(0))
    return (lead.group(0) if lead else "") + "[地址]"


def _bank_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[银行卡号]" if _luhn_ok(digits) else match.group(0)


def mask_pii(text: str) -> str:
    """Replace phone numbers, emails, ID/bank-card/order numbers and addresses.

    Args:
        text: Any text.

    Returns:
        The text with each PII span replaced by a placeholder such as ``[电话]``.
    """
    for item in PATTERNS:
        if item.kind == "bank_card":
            text = item.pattern.sub(_bank_card, text)
        elif item.placeholder == "[地址]":
            text = item.pattern.sub(_place, text)
        else:
            text = item.pattern.sub(item.placeholder, text)
    return text
