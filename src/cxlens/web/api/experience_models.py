"""Request and response models of the experience API (``web/api/experience.py``).

Input models are the query of one endpoint (unknown parameters are refused, so a misspelt
``metrc=`` is a 422 rather than a silent default); output models are what it answers,
copied field by field from the analytics results by the ``*_out`` functions, which compute
nothing. Non-finite numbers (an undefined share of R²) become ``null``.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from cxlens.analytics import drivers as drv
from cxlens.analytics import experience as exp
from cxlens.analytics import people as ppl
from cxlens.analytics import weighting as wgt
from cxlens.analytics._intervals import Estimate
from cxlens.web.params import Day

Metric = Literal["nps", "enps", "csat", "ces"]
Grain = Literal["day", "week", "month", "quarter"]
On = Literal["value", "mean", "share"]
Dimension = Literal["touchpoint", "channel", "store_id", "team_id", "language", "survey_id",
                    "source", "segment", "country", "city", "customer.language"]
WeightBy = Literal["segment", "country", "city", "customer.language"]
GROUP_DIMENSIONS: tuple[str, ...] = get_args(Dimension)
"""Groups and filters the API accepts: what describes groups of answers. Arbitrary
``customer.<column>`` (names, e-mail addresses) would make a 'group' of one person."""


# --- queries -------------------------------------------------------------------------------

class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Day | None = Field(None, description="First day (YYYY-MM-DD), inclusive.")
    end: Day | None = Field(None, description="The day after the last (YYYY-MM-DD).")


class WeightedQuery(_Query):
    metric: Metric = Field("nps", description="nps, enps, csat or ces.")
    filter: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20,
        description="dimension:value, repeatable (values of one dimension are alternatives),"
                    " e.g. filter=country:FI&filter=segment:B2B.")
    weights: str | None = Field(
        None, min_length=1, max_length=120,
        description="A properties key holding each answer's weight (its name contains "
                    "weight, paino or vikt).")
    weight_by: WeightBy | None = Field(
        None, description="Weight the answers so this customer attribute has the "
                          "population's shares (post-stratification).")
    shares: str | None = Field(
        None, max_length=2000,
        description="The population's shares for weight_by, e.g. FI:60,SE:40; default: "
                    "the shares among the workspace's customers.")


class ScoreQuery(WeightedQuery):
    by: Dimension | None = Field(None, description="Group the answers by this dimension.")
    period: Grain | None = Field(None, description="Bucket the answers by day … quarter.")


class ChangesQuery(WeightedQuery):
    by: Dimension = Field("touchpoint", description="Test each group against the rest.")
    grain: Grain = Field("month", description="Compare this period with the one before.")
    as_of: Day | None = Field(None, description="A day in the current period (default: "
                                                 "the day of the latest answer).")
    on: On = Field("value", description="What to compare: the headline value, the mean "
                                        "score or the share.")


class DriversQuery(_Query):
    metric: Metric = Field("csat", description="The overall score the ratings explain.")
    method: Literal["johnson", "shapley"] = Field(
        "johnson", description="Johnson's relative weights or the Shapley value of R².")
    n_boot: int = Field(500, ge=50, le=2000, description="Bootstrap replicates.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the bootstrap.")


class PeopleQuery(_Query):
    min_answers: int = Field(exp.MIN_SAMPLE, ge=1, le=1_000_000,
                             description="Customer answers a team needs to enter the "
                                         "correlation.")


class ValueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[Annotated[int, Field(ge=1, le=3650)]] = Field(
        default_factory=lambda: [90, 180], min_length=1, max_length=6,
        description="Horizons in days after the answer, repeatable.")
    as_of: Day | None = Field(None, description="Observed until this day (default: the "
                                                 "last order date in the data).")
    n_boot: int = Field(2000, ge=200, le=10000,
                        description="Bootstrap replicates of revenue per customer.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the bootstrap.")


# --- results -------------------------------------------------------------------------------

class EstimateOut(BaseModel):
    value: float | None
    se: float | None
    low: float | None = Field(description="95 % interval, lower end")
    high: float | None = Field(description="95 % interval, upper end")
    method: str = Field(description="How the interval was made (docs/methods.md)")


class ScoreOut(BaseModel):
    bucket: date | None
    group: str | None
    n: int
    n_eff: float = Field(description="Kish's effective n; equals n without weights")
    too_small: bool = Field(description="n_eff below min_sample: too uncertain to act on")
    value: EstimateOut = Field(description="NPS/eNPS points, CSAT top-two-box %, CES mean")
    mean: EstimateOut
    share: EstimateOut = Field(description="% promoters (NPS), top-two-box (CSAT), easy (CES)")
    detractors: EstimateOut | None


class CellOut(BaseModel):
    group: str
    population: float = Field(description="% of the population")
    answers: int
    sample: float = Field(description="% of the weighted answers")
    weight: float | None


class WeightingOut(BaseModel):
    weights: str | None = Field(description="The properties key, when the answers carry "
                                            "their weights")
    weight_by: str | None
    population: Literal["customers", "given"] | None
    answers: int | None
    left_out: int | None = Field(description="Answers that could not be weighted")
    uncovered: float | None = Field(description="% of the population without answers")
    cells: list[CellOut]


class ScoresOut(BaseModel):
    ok: bool = True
    metric: str
    by: str | None
    period: str | None
    start: date | None
    end: date | None
    filters: dict[str, list[str]]
    weighting: WeightingOut | None
    min_sample: int
    scores: list[ScoreOut]
    group_names: dict[str, str] = Field(default_factory=dict, description=(
        "The groups' names where the HR list gives them (stores, teams): code → name"))


class PeriodChangeOut(BaseModel):
    current_period: tuple[date, date]
    previous_period: tuple[date, date]
    current: ScoreOut
    previous: ScoreOut
    difference: EstimateOut = Field(description="current − previous")
    p_value: float | None


class SegmentTestOut(BaseModel):
    group: str | None
    segment: ScoreOut
    rest: ScoreOut
    difference: EstimateOut = Field(description="segment − rest")
    p_value: float | None
    q_value: float | None = Field(description="Benjamini–Hochberg adjusted p")
    significant: bool


class ChangesOut(BaseModel):
    ok: bool = True
    metric: str
    on: str
    by: str
    grain: str
    start: date | None
    end: date | None
    filters: dict[str, list[str]]
    weighting: WeightingOut | None
    alpha: float
    min_sample: int
    periods: PeriodChangeOut
    segments: list[SegmentTestOut]
    group_names: dict[str, str] = Field(default_factory=dict, description=(
        "The groups' names where the HR list gives them (stores, teams): code → name"))


class DriverOut(BaseModel):
    rank: int
    attribute: str
    key: str
    importance: EstimateOut = Field(description="Share of R² (raw), bootstrap interval")
    share: float | None = Field(description="importance / R² in %")
    performance: EstimateOut = Field(description="Mean rating, t interval")
    quadrant: str


class DriversOut(BaseModel):
    ok: bool = True
    metric: str
    method: str
    available: bool = True
    reason: str | None = None
    n: int = 0
    too_small: bool = True
    min_sample: int
    r2: EstimateOut | None = None
    importance_line: float | None = None
    performance_line: float | None = None
    n_boot: int | None = None
    seed: int | None = None
    drivers: list[DriverOut] = Field(default_factory=list)


class TeamTestOut(BaseModel):
    difference: EstimateOut = Field(description="team − other teams (eNPS points)")
    p_value: float | None
    q_value: float | None
    significant: bool


class TeamOut(BaseModel):
    team_id: str
    team_name: str | None
    store_id: str | None
    enps: ScoreOut | None
    customer_nps: ScoreOut | None
    enps_vs_rest: TeamTestOut | None
    low_enps: bool


class PeopleOut(BaseModel):
    ok: bool = True
    start: date | None
    end: date | None
    min_answers: int
    min_sample: int
    teams: list[TeamOut]
    correlation: EstimateOut = Field(description="Pearson r of team eNPS and customers' NPS, "
                                                 "Fisher's z interval")
    p_value: float | None
    n_teams: int
    too_small: bool = Field(description="Too few teams for an interval")
    low_enps_teams: list[str]
    leave_one_out: list[float] | None = Field(
        None, description="The lowest and highest r with each team left out in turn")
    influential_team: str | None = Field(
        None, description="The team whose absence moves r the most")
    fragile: bool = Field(False, description="Under 10 teams, or one team moves r by more "
                                             "than 0.3 or across zero")


class GroupValueOut(BaseModel):
    days: int
    group: str
    n: int
    too_small: bool
    revenue: EstimateOut = Field(description="Revenue per customer, BCa bootstrap interval "
                                             "over the group's customers (none under 10)")
    repurchase: EstimateOut = Field(description="% with an order, Wilson interval")


class WorthOut(BaseModel):
    days: int
    promoter_minus_detractor: EstimateOut = Field(description="Revenue per promoter − per "
                                                              "detractor, Welch interval")
    p_value: float | None
    repurchase_difference: EstimateOut = Field(
        description="% of promoters − % of detractors who bought again, in percentage "
                    "points, Newcombe's interval")
    repurchase_p_value: float | None = Field(description="Pooled two-proportion z-test")
    n_promoters: int
    n_detractors: int
    too_small: bool


class ValueOut(BaseModel):
    ok: bool = True
    observed_until: datetime | None
    min_sample: int
    n_boot: int = Field(description="Bootstrap replicates behind the revenue intervals")
    seed: int
    currency: str = Field("EUR", description="The currency revenue is summed in")
    other_currency_orders: int = Field(
        0, description="Orders in other currencies, not added to revenue (no conversion)")
    note: str = ("Revenue is summed in one currency (orders in other currencies are left "
                 "out and counted, not converted). The worth is an association, not the "
                 "effect of changing a customer's mind.")
    groups: list[GroupValueOut]
    worth: list[WorthOut]


# --- from the analytics results --------------------------------------------------------------

def _num(x: Any) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def estimate_out(e: Estimate) -> EstimateOut:
    return EstimateOut(value=_num(e.value), se=_num(e.se), low=_num(e.low), high=_num(e.high),
                       method=e.method)


def _group(g: Any) -> str | None:
    return None if g is None else str(g)


def score_out(s: exp.Score) -> ScoreOut:
    return ScoreOut(bucket=s.bucket, group=_group(s.group), n=s.n, n_eff=_num(s.n_eff) or 0.0,
                    too_small=s.too_small, value=estimate_out(s.value),
                    mean=estimate_out(s.mean), share=estimate_out(s.share),
                    detractors=None if s.detractors is None else estimate_out(s.detractors))


def weighting_out(key: str | None, w: wgt.Weighting | None) -> WeightingOut:
    if w is None:
        return WeightingOut(weights=key, weight_by=None, population=None, answers=None,
                            left_out=None, uncovered=None, cells=[])
    return WeightingOut(
        weights=None, weight_by=w.by, population=w.population,  # type: ignore[arg-type]
        answers=w.answers, left_out=w.left_out, uncovered=w.uncovered,
        cells=[CellOut(group=c.group, population=c.population, answers=c.answers,
                       sample=c.sample, weight=c.weight) for c in w.cells])


def period_change_out(c: exp.Comparison) -> PeriodChangeOut:
    return PeriodChangeOut(current_period=c.current_period, previous_period=c.previous_period,
                           current=score_out(c.current), previous=score_out(c.previous),
                           difference=estimate_out(c.difference), p_value=_num(c.p_value))


def segment_test_out(t: exp.SegmentTest) -> SegmentTestOut:
    return SegmentTestOut(group=_group(t.group), segment=score_out(t.segment),
                          rest=score_out(t.rest), difference=estimate_out(t.difference),
                          p_value=_num(t.p_value), q_value=_num(t.q_value),
                          significant=t.significant)


def drivers_out(kd: drv.KeyDrivers) -> DriversOut:
    return DriversOut(
        metric=kd.metric, method=kd.method, n=kd.n, too_small=kd.too_small,
        min_sample=exp.MIN_SAMPLE, r2=estimate_out(kd.r2),
        importance_line=_num(kd.importance_line), performance_line=_num(kd.performance_line),
        n_boot=kd.n_boot, seed=kd.seed,
        drivers=[DriverOut(rank=d.rank, attribute=d.attribute, key=d.key,
                           importance=estimate_out(d.importance), share=_num(d.share),
                           performance=estimate_out(d.performance), quadrant=d.quadrant)
                 for d in kd.drivers])


def people_out(link: ppl.PeopleLink, start: date | None, end: date | None) -> PeopleOut:
    def test(t: exp.SegmentTest | None) -> TeamTestOut | None:
        if t is None:
            return None
        return TeamTestOut(difference=estimate_out(t.difference), p_value=_num(t.p_value),
                           q_value=_num(t.q_value), significant=t.significant)

    teams = [TeamOut(team_id=str(t.team_id), team_name=_group(t.team_name),
                     store_id=_group(t.store_id),
                     enps=None if t.enps is None else score_out(t.enps),
                     customer_nps=None if t.customer_nps is None else score_out(t.customer_nps),
                     enps_vs_rest=test(t.enps_test), low_enps=t.low_enps) for t in link.teams]
    return PeopleOut(start=start, end=end, min_answers=link.min_answers,
                     min_sample=exp.MIN_SAMPLE, teams=teams,
                     correlation=estimate_out(link.correlation), p_value=_num(link.p_value),
                     n_teams=link.n_teams, too_small=link.correlation.low is None,
                     low_enps_teams=link.low_enps_teams,
                     leave_one_out=None if link.leave_one_out is None
                     else list(link.leave_one_out),
                     influential_team=link.influential_team, fragile=link.fragile)


def value_out(v: exp.ValueByGroup) -> ValueOut:
    groups = [GroupValueOut(days=g.days, group=g.group, n=g.n, too_small=g.too_small,
                            revenue=estimate_out(g.revenue),
                            repurchase=estimate_out(g.repurchase)) for g in v.groups]
    worth = [WorthOut(days=w.days, promoter_minus_detractor=estimate_out(w.difference),
                      p_value=_num(w.p_value),
                      repurchase_difference=estimate_out(w.repurchase_difference),
                      repurchase_p_value=_num(w.repurchase_p_value), n_promoters=w.n_promoters,
                      n_detractors=w.n_detractors, too_small=w.too_small) for w in v.worth()]
    return ValueOut(observed_until=v.observed_until, min_sample=exp.MIN_SAMPLE,
                    n_boot=v.n_boot, seed=v.seed, currency=v.currency,
                    other_currency_orders=v.other_currency_orders, groups=groups, worth=worth)
