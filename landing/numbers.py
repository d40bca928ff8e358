"""Figures written for people, in the active language (1,7 miliar in Indonesian, 1.7 billion in English)."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext, pgettext


def _plain(value: Decimal) -> Decimal:
    """Without trailing zeros and never in exponent form (Decimal("1.7E+9") reads badly)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def format_number(value: Decimal | int | float, *, decimals: int | None = None) -> str:
    number = Decimal(str(value))
    if decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return number_format(_plain(number), use_l10n=True, force_grouping=True)


def _scaled(value: Decimal, scale: int) -> str:
    return format_number(value / Decimal(scale), decimals=1)


def format_amount(value: Decimal, unit: str) -> str:
    """An amount with its unit; US dollars in billions or millions."""
    if unit == "USD":
        size = abs(value)
        if size >= 1_000_000_000:
            return gettext("USD %(amount)s billion") % {"amount": _scaled(value, 1_000_000_000)}
        if size >= 1_000_000:
            return gettext("USD %(amount)s million") % {"amount": _scaled(value, 1_000_000)}
        return gettext("USD %(amount)s") % {"amount": format_number(value)}
    return f"{format_number(value)} {gettext(unit)}".strip()


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 11th in English; ke-1, ke-2 in Indonesian."""
    if number % 100 in (11, 12, 13):
        template = pgettext("ordinal 11, 12, 13", "{}th")
    else:
        template = {
            1: pgettext("ordinal 1", "{}st"),
            2: pgettext("ordinal 2", "{}nd"),
            3: pgettext("ordinal 3", "{}rd"),
        }.get(number % 10, pgettext("ordinal 0, 4-9", "{}th"))
    return template.format(number)
