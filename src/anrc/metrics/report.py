"""The official scorer's text layout (semeval2010_task8_scorer-v1.2.pl), line for line."""

from __future__ import annotations

import re

from anrc.metrics.scorer import Evaluation, ScoreReport

_SEMEVAL_NAME = re.compile(r"^([A-Za-z])[^-]*-([A-Za-z])[^(]*(?:\((e[12]),e[12]\))?$")


def short_name(label: str, negative: str) -> str:
    """``Cause-Effect(e1,e2) -> C-E1``, ``Cause-Effect -> C-E``, negative -> ``_O_``."""
    if label == negative:
        return "_O_"
    m = _SEMEVAL_NAME.match(label)
    if m:
        suffix = "" if m.group(3) is None else m.group(3)[1]
        return f"{m.group(1)}-{m.group(2)}{suffix}"
    # Other datasets: initials of the name's parts, as compact as the original.
    base, _, direction = label.partition("(")
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", base) if p]
    initials = "-".join(p[0] for p in parts[:2]) or base[:3]
    if direction:
        initials += direction[1]
    return initials


def display_name(label: str, negative: str) -> str:
    # The Perl scorer renames the negative class "_Other" so it sorts last.
    return f"_{label}" if label == negative else label


def _matrix(ev: Evaluation) -> list[str]:
    neg = ev.negative
    official = ev.mode == "official"
    heads = []
    for c in ev.columns:
        s = short_name(c, neg)
        heads.append("*" + s.replace("-", "") if c in ev.extra_columns else s)
    width = 5 * len(ev.columns)
    totals = " -SUM- xDIRx skip  ACTUAL" if official else " -SUM- skip ACTUAL"
    lines = [
        "Confusion matrix:",
        "       " + "".join(f" {h:>4}" for h in heads) + " <-- classified as",
        "      +" + "-" * width + "+" + totals,
    ]
    col_sum = dict.fromkeys(ev.columns, 0)
    sum_all = 0
    for r in ev.rows:
        cells = [ev.matrix[r].get(c, 0) for c in ev.columns]
        for c, n in zip(ev.columns, cells, strict=True):
            col_sum[c] += n
        row_sum = sum(cells)
        sum_all += row_sum
        actual = row_sum + ev.skipped[r] + ev.wrong_direction[r]
        line = f" {short_name(r, neg):>4} |" + "".join(f"{n:4d} " for n in cells) + "|"
        if official:
            line += f"{row_sum:5d}{ev.wrong_direction[r]:6d}{ev.skipped[r]:6d}{actual:7d}"
        else:
            line += f"{row_sum:5d}{ev.skipped[r]:5d}{actual:5d}"
        lines.append(line)
    lines.append("      +" + "-" * width + "+")
    skipped = sum(ev.skipped.values())
    line = " -SUM- " + "".join(f"{col_sum[c]:4d} " for c in ev.columns)
    if official:
        wrong = sum(ev.wrong_direction.values())
        line += f"{sum_all:6d}{wrong:6d}{skipped:6d}{ev.total:7d}"
    else:
        line += f"{sum_all:6d}{skipped:5d}{ev.total:5d}"
    lines.append(line)
    return lines


def _evaluation(ev: Evaluation) -> list[str]:
    neg = ev.negative
    lines = _matrix(ev)
    lines += [
        "",
        f"Coverage = {ev.covered}/{ev.total} = {ev.coverage:5.2f}%",
        "Accuracy (calculated for the above confusion matrix) = "
        f"{ev.correct}/{ev.covered} = {ev.accuracy:5.2f}%",
        "Accuracy (considering all skipped examples as Wrong) = "
        f"{ev.correct}/{ev.total} = {ev.accuracy_skipped_wrong:5.2f}%",
        f"Accuracy (considering all skipped examples as {neg}) = "
        f"{ev.correct + ev.skipped_negative}/{ev.total} = {ev.accuracy_skipped_negative:5.2f}%",
        "",
        "Results for the individual relations:",
    ]
    for s in ev.relations:
        if ev.mode == "official":
            p = f"P = {s.correct:4d}/({s.proposed:4d} +{s.wrong_direction:4d}) = {s.precision:6.2f}%"
        else:
            p = f"P = {s.correct:4d}/{s.proposed:4d} = {s.precision:6.2f}%"
        lines.append(
            f"{display_name(s.label, neg):>25} :    {p}     "
            f"R = {s.correct:4d}/{s.actual:4d} = {s.recall:6.2f}%     F1 = {s.f1:6.2f}%"
        )
    lines += [
        "",
        f"Micro-averaged result (excluding {neg}):",
        f"P = {ev.micro_correct:4d}/{ev.micro_proposed:4d} = {ev.micro_precision:6.2f}%     "
        f"R = {ev.micro_correct:4d}/{ev.micro_actual:4d} = {ev.micro_recall:6.2f}%     "
        f"F1 = {ev.micro_f1:6.2f}%",
        "",
        f"MACRO-averaged result (excluding {neg}):",
        f"P = {ev.macro_precision:6.2f}%\tR = {ev.macro_recall:6.2f}%\tF1 = {ev.macro_f1:6.2f}%",
    ]
    return lines


def format_report(report: ScoreReport) -> str:
    """The scorer's full text report, ending with the official-score line. Directed
    labels get the scorer's three sections; undirected ones one, as the three agree."""
    n = report.ways
    neg = report.negative
    lines: list[str] = []
    for label, count in report.warnings:
        lines += [
            f"!!!WARNING!!! The proposed file contains {count} label(s) of type "
            f"'{display_name(label, neg)}', which is NOT present in the key file.",
            "",
        ]
    sections = [
        (f"<<< (2*{n}+1)-WAY EVALUATION (USING DIRECTIONALITY)>>>:", report.directed),
        (f"<<< ({n}+1)-WAY EVALUATION IGNORING DIRECTIONALITY >>>:", report.undirected),
        (
            f"<<< ({n}+1)-WAY EVALUATION TAKING DIRECTIONALITY INTO ACCOUNT -- OFFICIAL >>>:",
            report.official,
        ),
    ]
    if not report.directed_labels:
        ways = f"{n}+1" if report.has_negative else f"{n}"
        sections = [(f"<<< ({ways})-WAY EVALUATION (the labels carry no direction) >>>:",
                     report.official)]  # fmt: skip
    for title, ev in sections:
        lines += [title, ""] + _evaluation(ev) + ["", "", ""]
    lines.append(
        official_line(
            report.official_f1,
            n,
            report.directed_labels,
            report.official.micro_f1,
            negative=neg if report.has_negative else None,
        )  # fmt: skip
    )
    return "\n".join(lines) + "\n"


def official_line(
    f1: float, n: int = 9, directed: bool = True, micro: float | None = None,
    negative: str | None = "Other",
) -> str:  # fmt: skip
    """The scorer's last line. With undirected labels (no ``(e1,e2)``) the official
    metric is the macro-averaged F1 over the n labels other than the negative class
    (every label, when the data has none), and says so."""
    if not directed:
        extra = f" (micro-averaged F1 = {micro:0.2f}%)" if micro is not None else ""
        which = f"labels other than {negative}" if negative else "labels (no negative class)"
        return (
            f"<<< Undirected labels: macro-averaged F1 over the {n} {which} = {f1:0.2f}%{extra} >>>"
        )
    return (
        f"<<< The official score is ({n}+1)-way evaluation with directionality taken "
        f"into account: macro-averaged F1 = {f1:0.2f}% >>>"
    )
