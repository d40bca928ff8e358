"""The numbers of a prospectivity model, vectorised with numpy and free of Django.

Evidence layers arrive as class codes on the model grid (0 = no data, 1..K = classes); the
study area is a boolean mask and training deposits are flat cell indices (a cell holding
several occurrences counts once: the unit of area is the cell).

Weights of evidence (Bonham-Carter 1994), for class B of a layer over the cells where the
layer has data, with D the deposit cells:

    W+ = ln( P(B | D) / P(B | ~D) )      W- = ln( P(~B | D) / P(~B | ~D) )
    C  = W+ - W-                          s(C) = sqrt(1/N(B∩D) + 1/N(B∩~D) + 1/N(~B∩D) + 1/N(~B∩~D))

A cell's posterior logit is the prior logit ln(N(D) / N(~D)) plus, for each layer, the W+ of
the class the cell is in; where a layer has no data it adds 0. For a two-class layer this is
the textbook W+ inside the pattern and W- outside it, since W+ of the complement equals W- of
the pattern. A class with a zero count gets 0.5 added to each of its four counts (flagged
`corrected`); a class that covers all the known area carries no information and weighs 0.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CURVE_POINTS = 101


@dataclass
class Evidence:
    """One evidence layer on the model grid."""

    name: str
    kind: str  # geology, structures, raster
    labels: list[str]  # class k is labels[k - 1]
    codes: np.ndarray  # uint16, same shape as the grid; 0 = no data
    weight: float = 1.0  # index overlay and fuzzy methods
    scores: list[float] = field(default_factory=list)  # per class, 0..1 (overlay methods)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ClassWeights:
    label: str
    cells: int
    deposits: int
    w_plus: float
    w_minus: float
    s_w_plus: float
    s_w_minus: float
    contrast: float
    s_contrast: float
    studentised: float
    corrected: bool

    def to_dict(self, cell_area_km2: float) -> dict[str, Any]:
        return {
            "class": self.label,
            "cells": self.cells,
            "area_km2": round(self.cells * cell_area_km2, 3),
            "deposits": self.deposits,
            "w_plus": _rounded(self.w_plus),
            "w_minus": _rounded(self.w_minus),
            "s_w_plus": _rounded(self.s_w_plus),
            "s_w_minus": _rounded(self.s_w_minus),
            "contrast": _rounded(self.contrast),
            "s_contrast": _rounded(self.s_contrast),
            "studentised_contrast": _rounded(self.studentised),
            "corrected": self.corrected,
        }


def _rounded(value: float) -> float | None:
    return round(float(value), 6) if np.isfinite(value) else None


def class_counts(
    codes: np.ndarray, n_classes: int, study: np.ndarray, deposits: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cells and deposit cells per class code (index 0 = no data) inside the study area."""
    flat = codes.reshape(-1)
    cells = np.bincount(flat[study.reshape(-1)], minlength=n_classes + 1)
    deposit_cells = np.bincount(flat[deposits], minlength=n_classes + 1)
    return cells.astype("int64"), deposit_cells.astype("int64")


def class_weights(
    cells: np.ndarray, deposit_cells: np.ndarray, labels: Sequence[str]
) -> list[ClassWeights]:
    """Weights of every class 1..K from the counts (index 0, no data, is left out)."""
    n_known = int(cells[1:].sum())
    d_known = int(deposit_cells[1:].sum())
    rows: list[ClassWeights] = []
    for k, label in enumerate(labels, start=1):
        n_b, d_b = int(cells[k]), int(deposit_cells[k])
        if n_b == 0 or n_b == n_known:
            rows.append(
                ClassWeights(label, n_b, d_b, 0.0, 0.0, np.nan, np.nan, 0.0, np.nan, np.nan, False)
            )
            continue
        a = float(d_b)  # B and D
        b = float(n_b - d_b)  # B and not D
        c = float(d_known - d_b)  # not B and D
        d = float(n_known - n_b - (d_known - d_b))  # not B and not D
        corrected = min(a, b, c, d) <= 0
        if corrected:
            a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
        w_plus = float(np.log((a / (a + c)) / (b / (b + d))))
        w_minus = float(np.log((c / (a + c)) / (d / (b + d))))
        var_plus = 1 / a + 1 / b
        var_minus = 1 / c + 1 / d
        s_contrast = float(np.sqrt(var_plus + var_minus))
        contrast = w_plus - w_minus
        rows.append(
            ClassWeights(
                label=label,
                cells=n_b,
                deposits=d_b,
                w_plus=w_plus,
                w_minus=w_minus,
                s_w_plus=float(np.sqrt(var_plus)),
                s_w_minus=float(np.sqrt(var_minus)),
                contrast=contrast,
                s_contrast=s_contrast,
                studentised=contrast / s_contrast,
                corrected=corrected,
            )
        )
    return rows


def prior_logit(study_cells: int, deposit_cells: int) -> float:
    return float(np.log(deposit_cells / (study_cells - deposit_cells)))


def wofe_posterior(
    evidence: Sequence[Evidence],
    weights: Sequence[Sequence[ClassWeights]],
    study: np.ndarray,
    prior: float,
) -> np.ndarray:
    """Posterior probability per cell (float32), NaN outside the study area."""
    logit = np.full(study.shape, prior, dtype="float64")
    for layer, rows in zip(evidence, weights, strict=True):
        lookup = np.zeros(len(rows) + 1, dtype="float64")  # no data adds nothing
        lookup[1:] = [r.w_plus for r in rows]
        logit += lookup[layer.codes]
    posterior = 1.0 / (1.0 + np.exp(-logit))
    out = posterior.astype("float32")
    out[~study] = np.nan
    return out


def _score_lookup(layer: Evidence) -> np.ndarray:
    lookup = np.full(len(layer.labels) + 1, np.nan, dtype="float64")
    lookup[1:] = layer.scores
    return lookup


def index_overlay(evidence: Sequence[Evidence], study: np.ndarray) -> np.ndarray:
    """Weighted mean of class scores over the layers with data at each cell, in [0, 1]."""
    total = np.zeros(study.shape, dtype="float64")
    weight_sum = np.zeros(study.shape, dtype="float64")
    for layer in evidence:
        scores = _score_lookup(layer)[layer.codes]
        known = np.isfinite(scores)
        total += np.where(known, scores * layer.weight, 0.0)
        weight_sum += known * layer.weight
    with np.errstate(invalid="ignore", divide="ignore"):
        index = total / weight_sum
    out = index.astype("float32")
    out[~study] = np.nan
    return out


def fuzzy_gamma(evidence: Sequence[Evidence], study: np.ndarray, gamma: float) -> np.ndarray:
    """Fuzzy gamma operator: (algebraic sum)^gamma x (algebraic product)^(1 - gamma).

    A layer's membership is its class score scaled by its weight relative to the heaviest
    layer; layers without data at a cell are left out of both terms there.
    """
    heaviest = max(layer.weight for layer in evidence)
    log_product = np.zeros(study.shape, dtype="float64")
    log_complement = np.zeros(study.shape, dtype="float64")
    any_known = np.zeros(study.shape, dtype=bool)
    for layer in evidence:
        membership = _score_lookup(layer)[layer.codes] * (layer.weight / heaviest)
        known = np.isfinite(membership)
        m = np.clip(np.where(known, membership, 1.0), 1e-6, 1.0)
        log_product += np.log(m)
        c = np.clip(np.where(known, 1.0 - membership, 1.0), 1e-12, 1.0)
        log_complement += np.log(c)
        any_known |= known
    algebraic_sum = 1.0 - np.exp(log_complement)
    algebraic_product = np.exp(log_product)
    result = algebraic_sum**gamma * algebraic_product ** (1.0 - gamma)
    out = result.astype("float32")
    out[~(study & any_known)] = np.nan
    return out


def rate_curve(score: np.ndarray, study: np.ndarray, deposits: np.ndarray) -> dict[str, Any]:
    """Success- or prediction-rate curve: share of deposits captured against share of the
    study area, cells taken from the highest score down; tied scores form one step.

    `deposits` are flat cell indices; the area under the curve is exact (trapezoids over the
    steps), the returned points are resampled at 101 evenly spaced area shares.
    """
    flat = score.reshape(-1)
    in_study = study.reshape(-1)
    values = np.where(np.isfinite(flat), flat, -np.inf)
    order_values, inverse = np.unique(values[in_study], return_inverse=True)
    area = np.bincount(inverse, minlength=order_values.size)[::-1]
    position = np.full(flat.size, -1, dtype="int64")
    position[np.flatnonzero(in_study)] = inverse
    deposit_steps = position[deposits]
    deposit_steps = deposit_steps[deposit_steps >= 0]
    hits = np.bincount(deposit_steps, minlength=order_values.size)[::-1]
    x = np.concatenate([[0.0], np.cumsum(area) / max(area.sum(), 1)])
    y = np.concatenate([[0.0], np.cumsum(hits) / max(hits.sum(), 1)])
    auc = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2)) if hits.sum() else float("nan")
    grid = np.linspace(0, 1, CURVE_POINTS)
    return {
        "area": [round(float(v), 4) for v in grid],
        "deposits": [round(float(v), 4) for v in np.interp(grid, x, y)],
        "auc": round(auc, 4) if np.isfinite(auc) else None,
        "points": int(hits.sum()),
    }


def split_holdout(ids: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (train, test) over `ids`, the same for the same ids, fraction and seed."""
    test = np.zeros(ids.size, dtype=bool)
    n_test = round(ids.size * fraction)
    if n_test:
        order = np.argsort(ids, kind="stable")
        chosen = np.random.default_rng(seed).permutation(ids.size)[:n_test]
        test[order[chosen]] = True
    return ~test, test


def run_model(
    *,
    method: str,
    evidence: Sequence[Evidence],
    study: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    cell_area_km2: float,
    gamma: float = 0.9,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Fits the model and validates it: (values per cell, NaN outside the study area; report).

    `train` and `test` are flat indices of the cells holding training and held-out deposits.
    """
    study_cells = int(study.sum())
    layers: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    if method == "wofe":
        if train.size >= study_cells:
            raise ValueError("every cell of the study area holds a training deposit")
        weights = []
        for layer in evidence:
            cells, deposit_cells = class_counts(layer.codes, len(layer.labels), study, train)
            rows = class_weights(cells, deposit_cells, layer.labels)
            weights.append(rows)
            layers.append(
                _layer_report(layer, [r.to_dict(cell_area_km2) for r in rows], int(cells[0]))
            )
        prior = prior_logit(study_cells, int(train.size))
        values = wofe_posterior(evidence, weights, study, prior)
        expected = float(np.nansum(values))
        summary = {
            "prior_probability": round(float(train.size / study_cells), 8),
            # Observed over expected training deposits: well below 1 warns of conditional dependence.
            "conditional_independence_ratio": round(train.size / expected, 4)
            if expected > 0
            else None,
        }
    else:
        for layer in evidence:
            cells, deposit_cells = class_counts(layer.codes, len(layer.labels), study, train)
            table: list[dict[str, Any]] = [
                {
                    "class": label,
                    "cells": int(cells[k]),
                    "area_km2": round(int(cells[k]) * cell_area_km2, 3),
                    "deposits": int(deposit_cells[k]),
                    "score": layer.scores[k - 1],
                }
                for k, label in enumerate(layer.labels, start=1)
            ]
            layers.append(_layer_report(layer, table, int(cells[0])))
        values = (
            index_overlay(evidence, study)
            if method == "index_overlay"
            else fuzzy_gamma(evidence, study, gamma)
        )
    finite = values[np.isfinite(values)]
    report = {
        **summary,
        "layers": layers,
        "value_range": [float(finite.min()), float(finite.max())] if finite.size else [0.0, 1.0],
        "success_rate": rate_curve(values, study, train),
        "prediction_rate": rate_curve(values, study, test) if test.size else None,
    }
    return values, report


def _layer_report(
    layer: Evidence, rows: list[dict[str, Any]], no_data_cells: int
) -> dict[str, Any]:
    return {
        "name": layer.name,
        "type": layer.kind,
        "weight": layer.weight,
        "no_data_cells": no_data_cells,
        "classes": rows,
        **layer.extra,
    }
