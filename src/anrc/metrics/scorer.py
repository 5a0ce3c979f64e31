"""The official SemEval-2010 Task 8 scorer (v1.2), as pure functions over labels.

Reproduces ``semeval2010_task8_scorer-v1.2.pl``: three evaluations, each with a
confusion matrix, per-relation P/R/F1 and micro/macro averages excluding the
negative class:

(i)   ``directed``:   (2*9+1)-way, labels with their direction;
(ii)  ``undirected``: (9+1)-way, directions stripped;
(iii) ``official``:   (9+1)-way, directions stripped for the matrix, but a
      prediction of the right relation in the wrong direction ("xDIRx") counts
      as wrong: it is kept out of the matrix, yet still counts in the precision
      denominator of the predicted relation (the v1.2 fix).

The official score is the macro-averaged F1 of (iii).

Semantics copied from the Perl scorer (and checked against the organisers' test
vectors in ``scorer_vectors/``): key ids missing from the predictions are
"skipped" (they count in recall's denominator, not in the matrix); predicted
labels the key never uses are shown as extra, starred columns and count as the
negative class in the averages; the macro average runs over the relations that
occur in the key, and averages the per-relation F1 values (not F1 of the averaged
P and R). A prediction for an id the key does not hold is an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from anrc.data.labels import RELATION_PHRASES, split_direction, strip_direction

MODES = ("directed", "undirected", "official")


class ScorerError(ValueError):
    """Predictions that cannot be scored against the key (e.g. an unknown id)."""


@dataclass
class RelationScore:
    label: str
    correct: int
    proposed: int  # column sum of the matrix
    wrong_direction: int  # xDIRx; only non-zero in the official evaluation
    actual: int  # gold count, skipped ones included
    precision: float  # percent
    recall: float
    f1: float


@dataclass
class Evaluation:
    """One of the scorer's three evaluations; figures in percent."""

    mode: str
    negative: str
    rows: list[str]
    columns: list[str]
    extra_columns: list[str]
    matrix: dict[str, dict[str, int]]
    skipped: dict[str, int]
    wrong_direction: dict[str, int]
    covered: int
    total: int
    correct: int
    skipped_negative: int
    relations: list[RelationScore]
    micro_correct: int
    micro_proposed: int
    micro_actual: int
    micro_precision: float
    micro_recall: float
    micro_f1: float
    macro_precision: float
    macro_recall: float
    macro_f1: float

    @property
    def coverage(self) -> float:
        return _pct(self.covered, self.total)

    @property
    def accuracy(self) -> float:
        """Accuracy over the predictions given (the matrix, xDIRx included)."""
        return _pct(self.correct, self.covered)

    @property
    def accuracy_skipped_wrong(self) -> float:
        return _pct(self.correct, self.total)

    @property
    def accuracy_skipped_negative(self) -> float:
        return _pct(self.correct + self.skipped_negative, self.total)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(
            coverage=self.coverage,
            accuracy=self.accuracy,
            accuracy_skipped_wrong=self.accuracy_skipped_wrong,
            accuracy_skipped_negative=self.accuracy_skipped_negative,
        )
        return d


@dataclass
class ScoreReport:
    """Everything the official scorer prints."""

    negative: str
    warnings: list[tuple[str, int]]  # (label absent from the key, times predicted)
    directed: Evaluation
    undirected: Evaluation
    official: Evaluation
    n_relations: int = field(default=9)

    @property
    def official_f1(self) -> float:
        return self.official.macro_f1

    @property
    def directed_labels(self) -> bool:
        """Whether the key's labels carry directions (else the official metric is the
        macro-F1 over the undirected non-negative labels)."""
        return any(split_direction(lab)[1] is not None for lab in self.directed.rows)

    @property
    def has_negative(self) -> bool:
        """Whether the key holds the negative class at all (a corpus may have none)."""
        return self.negative in self.directed.rows

    @property
    def ways(self) -> int:
        """The relations the official line counts: SemEval's 9 whenever the key's relations
        are SemEval's (as its scorer prints, even for a subset missing one), else the
        key's own number of non-negative relations."""
        names = {strip_direction(lab) for lab in self.directed.rows if lab != self.negative}
        return 9 if names and names <= set(RELATION_PHRASES) else self.n_relations

    def to_dict(self) -> dict:
        return {
            "official_macro_f1": self.official_f1,
            "negative": self.negative,
            "warnings": [{"label": lab, "count": n} for lab, n in self.warnings],
            "directed": self.directed.to_dict(),
            "undirected": self.undirected.to_dict(),
            "official": self.official.to_dict(),
        }


def _pct(num: float, den: float) -> float:
    return 100.0 * num / den if den else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _sort_key(negative: str):
    # The Perl scorer renames Other to "_Other", which ASCII-sorts after every
    # capitalised SemEval label; for any dataset we put the negative class last.
    return lambda lab: (lab == negative, lab)


def evaluate(
    key: Mapping[str, str],
    proposed: Mapping[str, str],
    mode: str = "official",
    negative: str = "Other",
) -> Evaluation:
    """Score ``proposed`` (id -> label) against ``key`` (id -> label) in one mode."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    for pid in proposed:
        if pid not in key:
            raise ScorerError(f"prediction id {pid!r} is not in the answer key")
    view = (lambda lab: lab) if mode == "directed" else strip_direction

    rows = sorted({view(lab) for lab in key.values()}, key=_sort_key(negative))
    row_set = set(rows)
    matrix: dict[str, dict[str, int]] = {r: {} for r in rows}
    skipped = dict.fromkeys(rows, 0)
    wrong_dir = dict.fromkeys(rows, 0)
    col_sum: dict[str, int] = {}
    for kid, gold_full in key.items():
        gold = view(gold_full)
        if kid not in proposed:
            skipped[gold] += 1
            continue
        pred_full = proposed[kid]
        pred = view(pred_full)
        if mode == "official" and pred == gold and pred_full != gold_full:
            wrong_dir[gold] += 1
            continue
        matrix[gold][pred] = matrix[gold].get(pred, 0) + 1
        col_sum[pred] = col_sum.get(pred, 0) + 1

    extra = sorted({c for c in col_sum if c not in row_set and c != negative})
    columns = list(rows)
    if negative not in row_set:
        columns.append(negative)
    columns += extra

    relations = []
    for r in rows:
        correct = matrix[r].get(r, 0)
        prop = col_sum.get(r, 0)
        actual = sum(matrix[r].values()) + skipped[r] + wrong_dir[r]
        p = _pct(correct, prop + wrong_dir[r])
        rec = _pct(correct, actual)
        relations.append(RelationScore(r, correct, prop, wrong_dir[r], actual, p, rec, _f1(p, rec)))

    positives = [s for s in relations if s.label != negative]
    m_correct = sum(s.correct for s in positives)
    m_prop = sum(s.proposed + s.wrong_direction for s in positives)
    m_actual = sum(s.actual for s in positives)
    m_p, m_r = _pct(m_correct, m_prop), _pct(m_correct, m_actual)
    n = len(positives)
    macro_p = sum(s.precision for s in positives) / n if n else 0.0
    macro_r = sum(s.recall for s in positives) / n if n else 0.0
    macro_f = sum(s.f1 for s in positives) / n if n else 0.0

    return Evaluation(
        mode=mode,
        negative=negative,
        rows=rows,
        columns=columns,
        extra_columns=extra,
        matrix=matrix,
        skipped=skipped,
        wrong_direction=wrong_dir,
        covered=len(proposed),
        total=len(key),
        correct=sum(s.correct for s in relations),
        skipped_negative=skipped.get(negative, 0),
        relations=relations,
        micro_correct=m_correct,
        micro_proposed=m_prop,
        micro_actual=m_actual,
        micro_precision=m_p,
        micro_recall=m_r,
        micro_f1=_f1(m_p, m_r),
        macro_precision=macro_p,
        macro_recall=macro_r,
        macro_f1=macro_f,
    )


def score(
    key: Mapping[str, str], proposed: Mapping[str, str], negative: str = "Other"
) -> ScoreReport:
    """All three evaluations plus the scorer's warnings about unknown labels."""
    key_labels = set(key.values())
    unknown: dict[str, int] = {}
    for lab in proposed.values():
        if lab not in key_labels:
            unknown[lab] = unknown.get(lab, 0) + 1
    warnings = sorted(unknown.items(), key=lambda kv: _sort_key(negative)(kv[0]))
    evals = {m: evaluate(key, proposed, m, negative) for m in MODES}
    n_rel = len({split_direction(lab)[0] for lab in key_labels if lab != negative})
    return ScoreReport(negative, warnings, n_relations=n_rel, **evals)


def official_f1(gold: Sequence[str], predicted: Sequence[str], negative: str = "Other") -> float:
    """The official score (macro F1 of evaluation iii, percent) of two aligned label lists."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    key = {str(i): g for i, g in enumerate(gold)}
    prop = {str(i): p for i, p in enumerate(predicted)}
    return evaluate(key, prop, "official", negative).macro_f1


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Plain accuracy (percent) over directed labels."""
    if not gold:
        return 0.0
    return _pct(sum(g == p for g, p in zip(gold, predicted, strict=True)), len(gold))
