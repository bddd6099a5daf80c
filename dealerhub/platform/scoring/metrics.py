"""The metric registry: every process metric is one `Metric` declaration.

A metric is a ratio of two additive daily facts, numerator / denominator, per dealer
(and per advisor where the event names one). Each declaration lists, per event type, how
one event adds to the numerator and/or the denominator of one day (`Part`). Adding a
metric is adding one declaration to `METRICS`; bumping its `version` when its definition
changes keeps new figures apart from old ones (facts, rollups and benchmarks are keyed by
version and every read asks for the current one).

Event contract (what scoring reads, all emitted by their sources; reminders, request
channel, praise/criticism, insurance and campaign targeting are tested from their source
through the relay in tests/platform/scoring/test_source_events.py). Times are ISO-8601
UTC; ids only, no PII.

  event                         source        fields scoring reads
  appointment.booked            appointments  request_received_at, first_response_at,
                                              booked_at, starts_at, advisor_staff_id,
                                              request_channel (phone/sms/email/wechat/
                                              walk_in/self_service/api/sale)
  appointment.completed         appointments  delivered_at, advisor_staff_id
  appointment.reminder_sent     appointments  kind ("72h"/"24h"), starts_at
  repair_order.closed           repair_orders closed_at, ro_type, total_amount,
                                              advisor_staff_id, customer_id; scoring
                                              resolves from the dealer's repair orders
                                              when absent: previous_closed_at,
                                              dedicated_reception, after_sales_loyal
  touchpoint.due                survey        kind, mode ("call"/...), due_at
  touchpoint.completed          survey        kind, due_at, completed_at, outcome
  survey.invited                survey        invited_at
  survey.answered               survey        answered_at, complete, csat (1-5), nps (0-10),
                                              advisor_staff_id, praised_staff_ids,
                                              criticised_staff_ids, invitation_id, flagged
  survey.flag_reviewed          survey        invitation_id, state ("cleared"/"upheld")
  complaint.opened              survey        opened_at, concerned_staff_id
  complaint.interim_answered    survey        opened_at, interim_answered_at
  complaint.resolved            survey        opened_at, interim_answered_at, resolved_at
  callback.completed            survey        kind ("complaint"), resolved_at, callback_at
  insurance.renewal_due/renewed vehicles      due_at (the policy's expiry), staff_id
  campaign.targeted/converted   campaigns     targeted_at (converted: first conversion only)

An event adds to the day (in the dealer's time zone) of the business moment it names,
not the day it arrived, so a late event corrects the period it belongs to.

A survey answer flagged as possibly staged counts nowhere until headquarters clears its
response (`counts_after`); the survey metrics went to version 2 with that rule, so their
figures never mix with version 1's, which counted flagged answers too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

Payload = Mapping[str, Any]
Amount = float | Callable[[Payload], float]

# The survey component's call touchpoints (touchpoint.completed carries no mode).
CALL_TOUCHPOINTS = frozenset({"contact_48h", "care_call_15", "call_150", "return_180"})
REACHED = frozenset({"reached_ok", "reached_issue", "booked"})
SERVICE_CHAIN = (
    "retention",  # P: retention & acquisition
    "appointment",
    "reception",
    "estimate",
    "repair",
    "care",
    "delivery",
    "follow_up",
)
STEP_NAMES = {
    "retention": ("P 保客与招揽", "P Retention & acquisition"),
    "appointment": ("1 预约", "1 Appointment"),
    "reception": ("2 接待与预检", "2 Reception & pre-inspection"),
    "estimate": ("3 需求确认与报价", "3 Needs & estimate"),
    "repair": ("4 维修", "4 Repair"),
    "care": ("5 客户关怀", "5 Customer care"),
    "delivery": ("6 交车", "6 Delivery"),
    "follow_up": ("7 回访", "7 Follow-up"),
}
YEAR = timedelta(days=365)
TWO_DAYS, THREE_DAYS = timedelta(days=2), timedelta(days=3)


def moment(payload: Payload, name: str) -> datetime | None:
    """A timestamp field of a payload (ISO text or datetime), or None."""
    value = payload.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def within(payload: Payload, start: str, end: str, limit: timedelta) -> bool:
    """Both moments present and the second no later than `limit` after the first."""
    first, second = moment(payload, start), moment(payload, end)
    return first is not None and second is not None and second - first <= limit


@dataclass(frozen=True)
class Contribution:
    at: datetime
    numerator: float
    denominator: float
    staff_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True)
class Part:
    """How one event adds to a metric: on the day of `at` (+ `shift`), add `numerator` and
    `denominator` (numbers or functions of the payload) when `when` holds."""

    at: str
    numerator: Amount = 0.0
    denominator: Amount = 0.0
    when: Callable[[Payload], bool] = lambda _p: True
    staff: str | None = "advisor_staff_id"
    shift: timedelta = timedelta(0)

    def contribute(self, payload: Payload) -> Contribution | None:
        at = moment(payload, self.at)
        if at is None or not self.when(payload):
            return None
        num = self.numerator(payload) if callable(self.numerator) else self.numerator
        den = self.denominator(payload) if callable(self.denominator) else self.denominator
        if not num and not den:
            return None
        return Contribution(at + self.shift, float(num), float(den), _staff(payload, self.staff))


def _staff(payload: Payload, name: str | None) -> tuple[uuid.UUID, ...]:
    value = payload.get(name) if name else None
    if not value:
        return ()
    values = value if isinstance(value, list | tuple) else [value]
    return tuple(uuid.UUID(str(v)) for v in values)


def present(name: str) -> Callable[[Payload], bool]:
    return lambda p: p.get(name) is not None


def flag(name: str) -> Callable[[Payload], float]:
    return lambda p: 1.0 if p.get(name) else 0.0


@dataclass(frozen=True)
class Metric:
    key: str
    name_zh: str
    name_en: str
    description: str
    numerator: str
    denominator: str
    step: str
    sources: Mapping[str, tuple[Part, ...]]
    unit: str = "%"  # "%" (ratio shown ×100), "CNY", "NPS" (−100…100), "count"
    direction: str = "higher"  # or "lower": lower is better
    target: float = 0.8
    weight: float = 0.0
    version: int = 1
    min_sample: int = 20  # a dealer-period with a smaller denominator is low-confidence
    benchmarked: bool = True

    def contributions(self, event_type: str, payload: Payload) -> Iterable[Contribution]:
        for part in self.sources.get(event_type, ()):
            found = part.contribute(payload)
            if found is not None:
                yield found

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"

    def display(self, value: float | None) -> str:
        """The value as people read it; a zero denominator is "no data", never 0%."""
        if value is None:
            return "—"
        if self.unit in ("%", "NPS"):
            return f"{value * 100:.1f}{'%' if self.unit == '%' else ''}"
        if self.unit == "CNY":
            return f"¥{value:,.0f}"
        return f"{value:g}"


def sla_minutes(payload: Payload) -> timedelta:
    """DOMAIN: SMS answered within 60 min, e-mail within 30 min."""
    return timedelta(minutes=30 if payload.get("request_channel") == "email" else 60)


def responded_in_sla(payload: Payload) -> float:
    first = moment(payload, "request_received_at")
    answer = moment(payload, "first_response_at")
    return 1.0 if first and answer and answer - first <= sla_minutes(payload) else 0.0


def reminder_due(kind_hours: int) -> Callable[[Payload], bool]:
    """An appointment booked far enough ahead to get this reminder."""
    return lambda p: within(p, "booked_at", "starts_at", timedelta(days=3650)) and (
        moment(p, "starts_at") - moment(p, "booked_at") >= timedelta(hours=kind_hours)  # type: ignore[operator]
    )


def returned_within_year(payload: Payload) -> bool:
    return within(payload, "previous_closed_at", "closed_at", YEAR)


def contacted_within_48h(payload: Payload) -> bool:
    """The 48-hour touchpoint (due 48 h after the visit) done by its due time."""
    done, due = moment(payload, "completed_at"), moment(payload, "due_at")
    return (
        payload.get("kind") == "contact_48h"
        and payload.get("outcome") in REACHED
        and done is not None
        and due is not None
        and done <= due
    )


def reached_call(payload: Payload) -> bool:
    return payload.get("kind") in CALL_TOUCHPOINTS and payload.get("outcome") in REACHED


def resolved_at_once(payload: Payload) -> bool:
    """Solved within 3 days without an interim answer: the customer heard in time."""
    return payload.get("interim_answered_at") is None and within(
        payload, "opened_at", "resolved_at", THREE_DAYS
    )


ANSWERED, REVIEWED = "survey.answered", "survey.flag_reviewed"
# the events of one survey response (by invitation_id) that decide whether it counts
RESPONSE_EVENTS = frozenset({ANSWERED, REVIEWED})
# metrics of survey answers: version 2 leaves out answers flagged and not cleared
SURVEY_VERSION = 2


def counts_after(event_type: str, payload: Payload) -> bool:
    """Whether the response counts in the figures after this event of it: an answer says
    whether the response was flagged (and not cleared) when it was given; a review decision
    whether headquarters cleared it."""
    if event_type == REVIEWED:
        return payload.get("state") == "cleared"
    return not payload.get("flagged")


def nps_points(payload: Payload) -> float:
    score = int(payload["nps"])
    return 1.0 if score >= 9 else (-1.0 if score <= 6 else 0.0)


CLOSED_VISIT = Part("closed_at", denominator=1.0)
# A visit is "due" for retention one year after it; it counts as retained when the
# customer's next visit comes within that year (attributed back to the due day).
RETENTION_DUE = Part("closed_at", denominator=1.0, shift=YEAR)
RETURNED = Part("previous_closed_at", numerator=1.0, when=returned_within_year, shift=YEAR)


def ratio_of(event_num: str, event_den: str, at: str, staff: str | None = None) -> dict:
    """The common shape: one event counts the denominator, another the numerator."""
    return {
        event_den: (Part(at, denominator=1.0, staff=staff),),
        event_num: (Part(at, numerator=1.0, staff=staff),),
    }


def reminder_compliance(hours: int, ahead: str) -> Metric:
    """The 72 h and the 24 h reminder are one metric each, alike but for the hours."""
    return Metric(
        f"reminder_{hours}h", f"{hours}小时提醒执行率", f"{hours} h reminder compliance",
        f"Appointments booked {ahead} ahead that got the {hours} h reminder.",
        f"{hours} h reminders sent", f"appointments booked {hours} h+ ahead", "appointment",
        {"appointment.booked": (Part("starts_at", denominator=1.0, when=reminder_due(hours)),),
         "appointment.reminder_sent": (Part("starts_at", numerator=1.0, staff=None,
                                            when=lambda p: p.get("kind") == f"{hours}h"),)},
        target=0.95, weight=4,
    )


METRICS_LIST: list[Metric] = [
    Metric(
        "appointment_rate", "预约率", "Appointment rate",
        "Visits that came by appointment.",
        "appointments completed", "repair orders closed", "appointment",
        {"appointment.completed": (Part("delivered_at", numerator=1.0),),
         "repair_order.closed": (CLOSED_VISIT,)},
        target=0.6, weight=8,
    ),
    Metric(
        "response_sla", "短信/邮件响应及时率", "SMS/e-mail response within SLA",
        "Booking requests answered within 60 min (SMS) or 30 min (e-mail).",
        "requests answered within SLA", "requests received", "appointment",
        {"appointment.booked": (Part("request_received_at", numerator=responded_in_sla,
                                     denominator=1.0),)},
        target=0.95, weight=4,
    ),
    reminder_compliance(72, "3+ days"),
    reminder_compliance(24, "1+ day"),
    Metric(
        "contact_48h", "48小时回访率", "48-hour post-service contact rate",
        "Visits whose customer was contacted within 48 h after service.",
        "visits contacted within 48 h", "repair orders closed", "follow_up",
        {"repair_order.closed": (CLOSED_VISIT,),
         "touchpoint.completed": (Part("due_at", numerator=1.0, staff=None,
                                       shift=-TWO_DAYS, when=contacted_within_48h),)},
        target=0.9, weight=6,
    ),
    Metric(
        "callback_rate", "回访率", "Callback rate",
        "Follow-up calls due that reached the customer.",
        "calls that reached the customer", "calls due", "follow_up",
        {"touchpoint.due": (Part("due_at", denominator=1.0, staff=None,
                                 when=lambda p: p.get("mode") == "call"),),
         "touchpoint.completed": (Part("due_at", numerator=1.0, staff=None, when=reached_call),)},
        target=0.85, weight=6,
    ),
    Metric(
        "csat", "满意率", "CSAT (satisfaction rate)",
        "Survey answers rating 4 or 5 out of 5.",
        "answers rated 4–5", "answers with a rating", "follow_up",
        {"survey.answered": (Part("answered_at", denominator=1.0, staff=None,
                                  numerator=lambda p: 1.0 if int(p["csat"]) >= 4 else 0.0,
                                  when=present("csat")),)},
        target=0.9, weight=10, version=SURVEY_VERSION,
    ),
    Metric(
        "nps", "净推荐值", "NPS",
        "Promoters (9–10) minus detractors (0–6), of all answers.",
        "promoters − detractors", "answers with a 0–10 score", "follow_up",
        {"survey.answered": (Part("answered_at", numerator=nps_points, denominator=1.0,
                                  staff=None, when=present("nps")),)},
        unit="NPS", target=0.5, weight=6, version=SURVEY_VERSION,
    ),
    Metric(
        "survey_response", "问卷回复率", "Survey response rate",
        "Surveys answered in full per survey sent.",
        "surveys answered in full", "surveys sent", "follow_up",
        {"survey.invited": (Part("invited_at", denominator=1.0, staff=None),),
         "survey.answered": (Part("answered_at", numerator=1.0, staff=None,
                                  when=lambda p: bool(p.get("complete"))),)},
        target=0.3, weight=3, version=SURVEY_VERSION,
    ),
    Metric(
        "complaint_rate", "投诉率", "Complaint rate",
        "Complaints per closed visit.",
        "complaints opened", "repair orders closed", "follow_up",
        {"complaint.opened": (Part("opened_at", numerator=1.0, staff="concerned_staff_id"),),
         "repair_order.closed": (CLOSED_VISIT,)},
        direction="lower", target=0.02, weight=6,
    ),
    Metric(
        "complaint_interim_3d", "投诉3日内答复率", "Complaint interim answer within 3 days",
        "Complaints whose customer heard a decision within 3 days.",
        "complaints answered within 3 days", "complaints opened", "follow_up",
        {"complaint.opened": (Part("opened_at", denominator=1.0, staff=None),),
         "complaint.interim_answered": (Part("opened_at", numerator=1.0, staff=None,
                                             when=lambda p: within(p, "opened_at",
                                                                   "interim_answered_at",
                                                                   THREE_DAYS)),),
         "complaint.resolved": (Part("opened_at", numerator=1.0, staff=None,
                                     when=resolved_at_once),)},
        target=0.95, weight=4, min_sample=5,
    ),
    Metric(
        "complaint_call_2d", "投诉解决后2日内回访率", "Post-resolution call within 2 days",
        "Resolved complaints confirmed by a call within 2 days.",
        "confirmation calls within 2 days", "complaints resolved", "follow_up",
        {"complaint.resolved": (Part("resolved_at", denominator=1.0, staff=None),),
         "callback.completed": (Part("resolved_at", numerator=1.0, staff=None,
                                     when=lambda p: p.get("kind") == "complaint"
                                     and within(p, "resolved_at", "callback_at", TWO_DAYS)),)},
        target=0.95, weight=3, min_sample=5,
    ),
    Metric(
        "dedicated_reception", "专属接待率", "Dedicated-reception rate",
        "Returning customers received by the advisor who served them last time.",
        "visits with the same advisor as last time", "returning visits", "reception",
        {"repair_order.closed": (Part("closed_at", numerator=flag("dedicated_reception"),
                                      denominator=1.0,
                                      when=present("dedicated_reception")),)},
        target=0.7, weight=6,
    ),
    Metric(
        "rework_rate", "返修率", "Rework rate",
        "Visits that were rework of an earlier repair.",
        "rework repair orders", "repair orders closed", "repair",
        {"repair_order.closed": (Part("closed_at", denominator=1.0,
                                      numerator=lambda p: 1.0 if p.get("ro_type") == "rework"
                                      else 0.0),)},
        direction="lower", target=0.02, weight=6,
    ),
    Metric(
        "retention", "保客率", "Retention",
        "Visits followed by another visit within 12 months (counted when the year ends).",
        "visits followed by a return within 12 months", "visits a year earlier", "retention",
        {"repair_order.closed": (RETENTION_DUE, RETURNED)},
        target=0.7, weight=8,
    ),
    Metric(
        "lapsed_share", "流失率", "Lapsed share",
        "Visits not followed by another visit within 12 months.",
        "visits without a return within 12 months", "visits a year earlier", "retention",
        {"repair_order.closed": (
            Part("closed_at", numerator=1.0, denominator=1.0, shift=YEAR),
            Part("previous_closed_at", numerator=-1.0, when=returned_within_year, shift=YEAR),
        )},
        direction="lower", target=0.3, weight=0,
    ),
    Metric(
        "insurance_renewal", "续保率", "Insurance renewal rate",
        "Policies due for renewal that were renewed here.",
        "policies renewed", "policies due", "retention",
        ratio_of("insurance.renewed", "insurance.renewal_due", "due_at", "staff_id"),
        target=0.6, weight=4,
    ),
    Metric(
        "average_ticket", "单车产值", "Average ticket",
        "Average invoiced amount per closed visit.",
        "amount invoiced", "repair orders closed", "delivery",
        {"repair_order.closed": (Part("closed_at", denominator=1.0,
                                      numerator=lambda p: float(p.get("total_amount") or 0)),)},
        unit="CNY", target=1200.0, weight=4,
    ),
    Metric(
        "campaign_conversion", "活动转化率", "Campaign conversion",
        "Customers targeted by a campaign who booked or came in.",
        "customers converted", "customers targeted", "retention",
        ratio_of("campaign.converted", "campaign.targeted", "targeted_at"),
        target=0.15, weight=3,
    ),
    Metric(
        "loyal_share", "售后忠诚客户占比", "After-sales loyal share",
        "Visits by customers with 2+ visits or ¥3,000+ spent in the last 12 months.",
        "visits by loyal customers", "repair orders closed", "retention",
        {"repair_order.closed": (Part("closed_at", numerator=flag("after_sales_loyal"),
                                      denominator=1.0, when=present("after_sales_loyal")),)},
        target=0.5, weight=5,
    ),
    Metric(
        "staff_praise", "表扬次数", "Praise received",
        "Staff praised in a survey answer, and advisors of 5-out-of-5 answers.",
        "praises", "—", "follow_up",
        {"survey.answered": (
            Part("answered_at", numerator=lambda p: float(len(p["praised_staff_ids"])),
                 staff="praised_staff_ids", when=present("praised_staff_ids")),
            Part("answered_at", numerator=1.0, when=lambda p: p.get("csat") == 5),
        )},
        unit="count", benchmarked=False, min_sample=0, version=SURVEY_VERSION,
    ),
    Metric(
        "staff_criticism", "批评次数", "Criticism received",
        "Staff criticised in surveys (or advisors of 1–2 answers) and in complaints.",
        "criticisms", "—", "follow_up",
        {"survey.answered": (
            Part("answered_at", numerator=lambda p: float(len(p["criticised_staff_ids"])),
                 staff="criticised_staff_ids", when=present("criticised_staff_ids")),
            Part("answered_at", numerator=1.0,
                 when=lambda p: p.get("csat") is not None and int(p["csat"]) <= 2),
        ),
         "complaint.opened": (Part("opened_at", numerator=1.0, staff="concerned_staff_id",
                                   when=present("concerned_staff_id")),)},
        unit="count", benchmarked=False, min_sample=0, version=SURVEY_VERSION,
    ),
]
METRICS: dict[str, Metric] = {metric.key: metric for metric in METRICS_LIST}
EVENT_TYPES: frozenset[str] = frozenset(
    event_type for metric in METRICS_LIST for event_type in metric.sources
) | RESPONSE_EVENTS
BENCHMARKED: list[Metric] = [m for m in METRICS_LIST if m.benchmarked]


@dataclass(frozen=True)
class MetricValue:
    """A metric's value for one dealer-period; None when the denominator is zero."""

    metric: Metric
    numerator: float
    denominator: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        if self.metric.unit == "count":
            return self.numerator
        return self.numerator / self.denominator if self.denominator else None

    @property
    def low_confidence(self) -> bool:
        return self.metric.unit != "count" and 0 < self.denominator < self.metric.min_sample
