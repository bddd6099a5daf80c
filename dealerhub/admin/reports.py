"""Downloads for the monthly review meeting: CSV tables and a one-page PNG scorecard."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from dealerhub.platform.scoring.metrics import Metric
from dealerhub.platform.scoring.service import LeagueRow, MetricLine, Scorecard

CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "DejaVu Sans"]


def metric_name(line: MetricLine, locale: str) -> str:
    return line.metric.name_zh if locale == "zh-CN" else line.metric.name_en


def _fmt(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def scorecard_csv(card: Scorecard, dealer_name: str, locale: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["dealer", dealer_name, "grain", card.grain, "period", card.period_start])
    writer.writerow(["composite_score", _fmt(card.score, 1)])
    writer.writerow(
        ["metric", "name", "step", "value", "denominator", "low_confidence", "previous",
         "target", "weight", "national_rank", "quartile", "suggested_target",
         "p10", "p25", "p50", "p75", "p90", "mean", "n"]
    )
    for line in card.lines:
        dist = line.distribution
        writer.writerow(
            [line.metric.key, metric_name(line, locale), line.metric.step, _fmt(line.value),
             _fmt(line.denominator, 0), "yes" if line.low_confidence else "",
             _fmt(line.previous), _fmt(line.target), _fmt(line.weight, 0), _fmt(line.rank, 1),
             line.quartile or "", _fmt(line.suggested_target),
             *([_fmt(getattr(dist, q)) for q in ("p10", "p25", "p50", "p75", "p90", "mean")]
               if dist else [""] * 6),
             dist.n if dist else ""]
        )
    return out.getvalue()


def league_csv(rows: Iterable[LeagueRow], metric_keys: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["rank", "code", "dealer", "score", "previous_score", *metric_keys])
    for index, row in enumerate(rows, start=1):
        values = [row.values[k].value if k in row.values else None for k in metric_keys]
        writer.writerow(
            [index, row.dealer["code"], row.dealer["name"], _fmt(row.score, 1),
             _fmt(row.previous_score, 1), *[_fmt(v) for v in values]]
        )
    return out.getvalue()


def scorecard_png(card: Scorecard, dealer_name: str, locale: str) -> bytes:
    """A one-page (A4 landscape) scorecard: score, percentile bars, weakest three."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    matplotlib.rcParams["font.sans-serif"] = CJK_FONTS
    matplotlib.rcParams["axes.unicode_minus"] = False
    zh = locale == "zh-CN"
    lines = [line for line in card.lines]
    figure = plt.figure(figsize=(11.69, 8.27), dpi=110)
    score = "—" if card.score is None else f"{card.score:.1f}"
    title = (f"{dealer_name} · {card.period_start:%Y-%m} · "
             f"{'综合得分' if zh else 'Composite score'} {score}")
    figure.suptitle(title, fontsize=15, fontweight="bold")
    bars = figure.add_axes((0.30, 0.08, 0.38, 0.80))
    names = [metric_name(line, locale) for line in lines]
    ranks = [line.rank if line.rank is not None else 0 for line in lines]
    colours = ["#c0392b" if (line.quartile or 4) >= 4 else "#e67e22" if line.quartile == 3
               else "#27ae60" for line in lines]
    bars.barh(range(len(lines)), ranks, color=colours)
    bars.set_yticks(range(len(lines)), names, fontsize=8)
    bars.invert_yaxis()
    bars.set_xlim(0, 100)
    for x in (25, 50, 75):
        bars.axvline(x, color="#999", linewidth=0.6, linestyle="--")
    for index, line in enumerate(lines):
        text = line.metric.display(line.value) + (" *" if line.low_confidence else "")
        bars.text(101, index, text, va="center", fontsize=7)
    bars.set_xlabel("全国百分位" if zh else "National percentile rank")
    side = figure.add_axes((0.74, 0.08, 0.24, 0.80))
    side.axis("off")
    heading = "最弱的三项指标" if zh else "Weakest three metrics"
    body = [heading, ""]
    for line in card.weakest:
        target = line.metric.display(line.suggested_target) if line.suggested_target else "—"
        body += [
            metric_name(line, locale),
            f"  {'本期' if zh else 'value'} {line.metric.display(line.value)}"
            f"  {'建议目标' if zh else 'suggested target'} {target}",
            "",
        ]
    body += ["* " + ("样本不足，仅供参考" if zh else "low confidence: small sample")]
    side.text(0, 1, "\n".join(body), va="top", fontsize=9)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _chart_row(metric: Metric, locale: str, value: float | None, dist: Any) -> dict[str, Any]:
    return {
        "key": metric.key,
        "name": metric.name_zh if locale == "zh-CN" else metric.name_en,
        "scale": 100 if metric.unit in ("%", "NPS") else 1,
        "value": value,
        "dist": None if dist is None else {
            q: getattr(dist, q) for q in ("p10", "p25", "p50", "p75", "p90", "mean")
        },
    }


def chart_data(card: Scorecard, locale: str) -> dict[str, Any]:
    """What the page's chart script draws: the dealer's value inside each distribution."""
    return {"metrics": [
        _chart_row(line.metric, locale, line.value, line.distribution) for line in card.lines
    ]}


def distribution_chart(
    metrics: Iterable[Metric], distributions: dict[str, Any], locale: str
) -> dict[str, Any]:
    """The national distributions alone (headquarters dashboard)."""
    return {"metrics": [_chart_row(m, locale, None, distributions.get(m.key)) for m in metrics]}
