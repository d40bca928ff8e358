"""Statistics for the landing page: indicators, their sources and their values per member state."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from landing.numbers import format_amount, format_number, ordinal

YEAR_MIN = 1000
YEAR_MAX = 2100
VALUE_DECIMAL_PLACES = 6


class IndicatorCategory(models.TextChoices):
    TRADE = "trade", _("Trade")
    PRODUCTION = "production", _("Production")
    RESERVES = "reserves", _("Reserves")
    ECONOMY = "economy", _("Economy")
    INVESTMENT = "investment", _("Investment")
    COOPERATION = "cooperation", _("Minerals cooperation")


class IndicatorKind(models.TextChoices):
    AMOUNT = "amount", _("Amount in the value's unit")
    PERCENT = "percent", _("Percentage (0 to 100)")
    RANK = "rank", _("Rank (1 is first)")
    DIRECTION = "direction", _("Direction (+1 net inflow, -1 net outflow)")


class Qualifier(models.TextChoices):
    """How the source states the figure: a bound or an approximation, not an exact value."""

    EXACT = "", _("as stated")
    ABOUT = "about", _("about")
    ALMOST = "almost", _("almost")
    MORE_THAN = "more_than", _("more than")
    UP_TO = "up_to", _("up to")


class Indicator(models.Model):
    """What is measured, e.g. the value of minerals exports or the mine production of a metal."""

    code = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=IndicatorCategory.choices)
    kind = models.CharField(
        max_length=20, choices=IndicatorKind.choices, default=IndicatorKind.AMOUNT
    )
    unit = models.CharField(
        max_length=30,
        blank=True,
        help_text="The unit every value must carry; empty when units differ (t for gold, kt for tin).",
    )
    by_commodity = models.BooleanField(
        default=False, help_text="Each value names a commodity (production, reserves)."
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name

    def value_problem(self, *, value: Decimal, unit: str, has_commodity: bool) -> str | None:
        """Why a value cannot belong to this indicator, or None when it can."""
        if self.unit and unit != self.unit:
            return f"the unit of {self.code} is {self.unit!r}, not {unit!r}"
        if self.by_commodity and not has_commodity:
            return f"{self.code} needs a commodity"
        if not self.by_commodity and has_commodity:
            return f"{self.code} takes no commodity"
        if self.kind == IndicatorKind.PERCENT and not Decimal(0) <= value <= Decimal(100):
            return f"a percentage must lie between 0 and 100, not {value}"
        if self.kind == IndicatorKind.RANK and (value < 1 or value != value.to_integral_value()):
            return f"a rank is a whole number from 1, not {value}"
        if self.kind == IndicatorKind.DIRECTION and value not in (Decimal(1), Decimal(-1)):
            return f"a direction is 1 (inflow) or -1 (outflow), not {value}"
        return None


class Source(models.Model):
    """Where figures come from; every chart names the sources of what it draws."""

    name = models.CharField(max_length=200, unique=True, help_text="Short name used in files")
    citation = models.TextField(blank=True)
    url = models.URLField(blank=True)
    licence = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IndicatorValue(models.Model):
    """One figure: an indicator for a member state (or ASEAN as a whole) in one year."""

    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="values")
    member_state = models.ForeignKey(
        "deposits.MemberState",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Empty for ASEAN as a whole.",
    )
    commodity = models.ForeignKey(
        "deposits.Commodity", null=True, blank=True, on_delete=models.PROTECT
    )
    year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(YEAR_MIN), MaxValueValidator(YEAR_MAX)]
    )
    value = models.DecimalField(max_digits=20, decimal_places=VALUE_DECIMAL_PLACES)
    unit = models.CharField(max_length=30)
    qualifier = models.CharField(
        max_length=20, choices=Qualifier.choices, blank=True, default=Qualifier.EXACT
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="values")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["indicator", "member_state", "commodity", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "member_state", "commodity", "year", "source"],
                nulls_distinct=False,
                name="indicatorvalue_one_per_key",
            )
        ]
        indexes = [models.Index(fields=["indicator", "commodity", "year"])]

    def __str__(self) -> str:
        where = self.member_state.code if self.member_state else "ASEAN"
        return f"{self.indicator.code} {where} {self.year}: {self.value} {self.unit}"

    def clean(self) -> None:
        if self.indicator_id is None or self.value is None:
            return
        problem = self.indicator.value_problem(
            value=self.value, unit=self.unit, has_commodity=self.commodity_id is not None
        )
        if problem:
            raise ValidationError(problem)

    @property
    def display(self) -> str:
        """The figure as people read it, in the active language: "about 25%", "3rd", "USD 1.7 billion"."""
        return self.formatted(with_unit=True)

    def formatted(self, *, with_unit: bool) -> str:
        """Without the unit, amounts read as bare numbers ("49" where a label says "action lines");
        currency, percentages, ranks and directions keep their form."""
        kind = self.indicator.kind
        if kind == IndicatorKind.DIRECTION:
            return gettext("net inflow") if self.value > 0 else gettext("net outflow")
        if kind == IndicatorKind.RANK:
            text = ordinal(int(self.value))
        elif kind == IndicatorKind.PERCENT:
            text = gettext("%(number)s%%") % {"number": format_number(self.value)}
        elif with_unit or self.unit == "USD":
            text = format_amount(self.value, self.unit)
        else:
            text = format_number(self.value)
        if self.qualifier:
            text = f"{Qualifier(self.qualifier).label} {text}"
        return text
