"""The numbers of the modeller, against values worked out by hand and known properties."""

import math

import numpy as np
import pytest

from prospectivity.engine import (
    Evidence,
    class_counts,
    class_weights,
    fuzzy_gamma,
    index_overlay,
    prior_logit,
    rate_curve,
    run_model,
    split_holdout,
    wofe_posterior,
)

# A 10 x 10 grid, every cell in the study area. The pattern B is the top two rows (20 cells);
# deposits lie in 5 cells, 4 of them in B.
STUDY = np.ones((10, 10), dtype=bool)
PATTERN = np.full((10, 10), 2, dtype="uint16")
PATTERN[:2, :] = 1
DEPOSITS = np.array([0, 3, 11, 17, 55])  # flat indices: four in rows 0-1, one in row 5


def pattern_layer() -> Evidence:
    return Evidence(name="B", kind="geology", labels=["in B", "outside B"], codes=PATTERN)


def test_weights_of_a_binary_pattern_match_the_hand_calculation() -> None:
    # N = 100, N(D) = 5; N(B∩D) = 4, N(B∩~D) = 16, N(~B∩D) = 1, N(~B∩~D) = 79.
    # W+ = ln((4/5) / (16/95)) = ln 4.75;  W- = ln((1/5) / (79/95)) = ln(19/79)
    # s(C) = sqrt(1/4 + 1/16 + 1/1 + 1/79)
    cells, deposits = class_counts(PATTERN, 2, STUDY, DEPOSITS)
    inside, outside = class_weights(cells, deposits, ["in B", "outside B"])

    assert (inside.cells, inside.deposits) == (20, 4)
    assert inside.w_plus == pytest.approx(math.log(4.75))
    assert inside.w_plus == pytest.approx(1.558145, abs=1e-6)
    assert inside.w_minus == pytest.approx(math.log(19 / 79))
    assert inside.w_minus == pytest.approx(-1.425009, abs=1e-6)
    assert inside.contrast == pytest.approx(2.983154, abs=1e-6)
    assert inside.s_contrast == pytest.approx(math.sqrt(1 / 4 + 1 / 16 + 1 + 1 / 79))
    assert inside.studentised == pytest.approx(2.983154 / 1.151155, abs=1e-5)
    assert inside.s_w_plus == pytest.approx(math.sqrt(1 / 4 + 1 / 16))
    assert not inside.corrected
    # The complement's W+ is the pattern's W-, and the other way round.
    assert outside.w_plus == pytest.approx(inside.w_minus)
    assert outside.w_minus == pytest.approx(inside.w_plus)


def test_the_posterior_matches_the_hand_calculation() -> None:
    # Prior logit ln(5/95); in B: -2.944439 + 1.558145 = ln(1/4), so P = 0.2 (= 4 of 20 cells);
    # outside: -2.944439 - 1.425009 = ln(1/79), so P = 1/80.
    layer = pattern_layer()
    cells, deposits = class_counts(PATTERN, 2, STUDY, DEPOSITS)
    weights = class_weights(cells, deposits, layer.labels)

    posterior = wofe_posterior([layer], [weights], STUDY, prior_logit(100, 5))

    assert prior_logit(100, 5) == pytest.approx(-2.944439, abs=1e-6)
    assert posterior[0, 0] == pytest.approx(0.2, abs=1e-6)
    assert posterior[9, 9] == pytest.approx(1 / 80, abs=1e-6)


def test_two_layers_add_their_weights_to_the_prior() -> None:
    second = np.tile(np.array([1, 2], dtype="uint16"), (10, 5))  # alternate columns
    layers = [
        pattern_layer(),
        Evidence(name="C", kind="raster", labels=["odd", "even"], codes=second),
    ]
    weights = [class_weights(*class_counts(e.codes, 2, STUDY, DEPOSITS), e.labels) for e in layers]

    posterior = wofe_posterior(layers, weights, STUDY, prior_logit(100, 5))

    logit = prior_logit(100, 5) + weights[0][0].w_plus + weights[1][1].w_plus  # cell (0, 1)
    assert posterior[0, 1] == pytest.approx(1 / (1 + math.exp(-logit)), rel=1e-6)


def test_missing_data_adds_no_weight_and_the_outside_is_nan() -> None:
    codes = PATTERN.copy()
    codes[9, 9] = 0
    study = STUDY.copy()
    study[0, 9] = False
    layer = Evidence(name="B", kind="geology", labels=["in B", "outside B"], codes=codes)
    weights = class_weights(*class_counts(codes, 2, study, DEPOSITS), layer.labels)

    posterior = wofe_posterior([layer], [weights], study, prior=-3.0)

    assert posterior[9, 9] == pytest.approx(1 / (1 + math.exp(3.0)), rel=1e-6)
    assert math.isnan(posterior[0, 9])


def test_a_class_without_deposits_gets_finite_corrected_weights() -> None:
    codes = PATTERN.copy()
    codes[9, :] = 3  # the bottom row: no deposit
    cells, deposits = class_counts(codes, 3, STUDY, DEPOSITS)
    rows = class_weights(cells, deposits, ["a", "b", "c"])

    assert rows[2].deposits == 0 and rows[2].corrected
    assert all(math.isfinite(v) for v in (rows[2].w_plus, rows[2].w_minus, rows[2].studentised))
    assert rows[2].w_plus < 0


def test_the_posterior_is_a_probability_on_random_evidence() -> None:
    rng = np.random.default_rng(7)
    study = rng.random((200, 200)) < 0.9
    layers = [
        Evidence(name=f"L{i}", kind="raster", labels=[str(k) for k in range(1, 8)],
                 codes=rng.integers(0, 8, (200, 200)).astype("uint16"))
        for i in range(5)
    ]  # fmt: skip
    deposits = rng.choice(np.flatnonzero(study), 300, replace=False)

    values, report = run_model(
        method="wofe",
        evidence=layers,
        study=study,
        train=deposits,
        test=deposits[:10],
        cell_area_km2=1.0,
    )

    inside = values[study]
    assert np.all((inside >= 0) & (inside <= 1))
    assert np.isnan(values[~study]).all()
    assert len(report["layers"]) == 5 and len(report["layers"][0]["classes"]) == 7


def test_a_perfect_predictor_has_an_area_under_the_curve_near_one() -> None:
    rng = np.random.default_rng(1)
    study = np.ones((100, 100), dtype=bool)
    deposits = rng.choice(10_000, 40, replace=False)
    codes = np.full((100, 100), 2, dtype="uint16")
    codes.reshape(-1)[deposits] = 1
    layer = Evidence(name="perfect", kind="raster", labels=["deposit", "barren"], codes=codes)

    _values, report = run_model(
        method="wofe", evidence=[layer], study=study, train=deposits, test=np.array([], dtype="int64"),
        cell_area_km2=1.0,
    )  # fmt: skip

    assert report["success_rate"]["auc"] > 0.99
    assert report["prediction_rate"] is None


def test_a_random_predictor_has_an_area_under_the_curve_near_a_half() -> None:
    rng = np.random.default_rng(2)
    study = np.ones((300, 300), dtype=bool)
    score = rng.random((300, 300)).astype("float32")
    deposits = rng.choice(90_000, 2000, replace=False)

    curve = rate_curve(score, study, deposits)

    assert curve["auc"] == pytest.approx(0.5, abs=0.03)
    assert curve["area"][0] == 0 and curve["area"][-1] == 1
    assert curve["deposits"][-1] == 1


def test_tied_scores_make_one_diagonal_step() -> None:
    curve = rate_curve(np.ones((10, 10), dtype="float32"), STUDY, DEPOSITS)

    assert curve["auc"] == pytest.approx(0.5)


def test_index_overlay_is_the_weighted_mean_of_class_scores() -> None:
    a = Evidence(
        name="a",
        kind="structures",
        labels=["near", "far"],
        codes=PATTERN,
        weight=3,
        scores=[1.0, 0.0],
    )
    b_codes = np.ones((10, 10), dtype="uint16")
    b_codes[5:, :] = 0  # no data in the lower half
    b = Evidence(name="b", kind="raster", labels=["x"], codes=b_codes, weight=1, scores=[0.5])

    index = index_overlay([a, b], STUDY)

    assert index[0, 0] == pytest.approx((3 * 1.0 + 1 * 0.5) / 4)
    assert index[3, 0] == pytest.approx((3 * 0.0 + 1 * 0.5) / 4)
    assert index[9, 0] == pytest.approx(0.0)  # only layer a has data there


def test_fuzzy_gamma_runs_from_the_product_to_the_algebraic_sum() -> None:
    codes = np.ones((2, 2), dtype="uint16")
    study = np.ones((2, 2), dtype=bool)
    layers = [
        Evidence(name="a", kind="raster", labels=["x"], codes=codes, scores=[0.6]),
        Evidence(name="b", kind="raster", labels=["x"], codes=codes, scores=[0.5]),
    ]

    assert fuzzy_gamma(layers, study, 0.0)[0, 0] == pytest.approx(0.3)
    assert fuzzy_gamma(layers, study, 1.0)[0, 0] == pytest.approx(1 - 0.4 * 0.5)
    assert fuzzy_gamma(layers, study, 0.5)[0, 0] == pytest.approx(math.sqrt(0.3 * 0.8), rel=1e-5)


def test_the_holdout_split_is_reproducible() -> None:
    ids = np.arange(100, 140)

    train, test = split_holdout(ids, 0.25, seed=3)
    _again_train, again_test = split_holdout(ids[::-1].copy(), 0.25, seed=3)

    assert test.sum() == 10 and (train ^ test).all()
    assert set(ids[test]) == set(ids[::-1][again_test])
