"""Model: logistic regression and LightGBM, each with three ways of handling a 0.5%
positive class, their ensemble, a rules engine beside them, and a threshold chosen
by expected cost. Baseline: the rules alone. Oracle: the generator's P(fraud)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mlsd.designs.fraud.costs import cost_curve
from mlsd.designs.fraud import rules as rules_engine
from mlsd.designs.fraud.features import FEATURES
from mlsd.designs.fraud.scoring import EnsembleScorer, LogisticScorer, TreeScorer
from mlsd.designs.fraud.world import PATTERNS
from mlsd.results import Chart, Series, StageResult, Table, metric
from mlsd.threads import training_threads

IMBALANCE = ("none", "class weights", "downsample + recalibrate")
REVIEW_PLAN_SHARE = 0.8


@dataclass
class Candidate:
    name: str
    scorer: object
    calibrated: bool
    fit_s: float
    recipe: tuple[tuple[str, str], ...]  # (family, imbalance method) of each member, to retrain it
    val_pr_auc: float = 0.0


def fit_candidate(family: str, method: str, X, y, cfg, rng) -> Candidate:
    """Train one model family with one imbalance method."""
    from lightgbm import LGBMClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    kept = 1.0
    if method == "downsample + recalibrate":
        keep = y | (rng.random(y.size) < cfg.downsample_rate)
        X, y, kept = X[keep], y[keep], cfg.downsample_rate
    weights = "balanced" if method == "class weights" else None
    started = time.perf_counter()
    if family == "logistic regression":
        pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000, class_weight=weights))
        pipeline.fit(X, y)
        scorer = LogisticScorer.from_pipeline(pipeline, kept)
    else:
        model = LGBMClassifier(
            n_estimators=cfg.n_trees, learning_rate=0.05, num_leaves=15, min_child_samples=20,
            subsample=0.8, subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0, class_weight=weights,
            n_jobs=training_threads(), deterministic=True, force_col_wise=True, random_state=int(rng.integers(2**31 - 1)),
            verbose=-1,
        )
        model.fit(X, y)
        scorer = TreeScorer(model.booster_, kept)
    return Candidate(f"{family} / {method}", scorer, method != "class weights", time.perf_counter() - started,
                     ((family, method),))


def fit_recipe(recipe, X, y, cfg, rng):
    """Retrain a champion from its recipe (monitoring uses this on fresh labels)."""
    members = [fit_candidate(family, method, X, y, cfg, rng).scorer for family, method in recipe]
    return members[0] if len(members) == 1 else EnsembleScorer(members)


def policy_stats(decline: np.ndarray, y: np.ndarray, amount: np.ndarray, friction: float) -> dict:
    """Precision, recall and cost of a two-action (approve / decline) policy."""
    from sklearn.metrics import precision_score, recall_score

    return {
        "declines": int(decline.sum()),
        "precision": float(precision_score(y, decline, zero_division=0)),
        "recall": float(recall_score(y, decline, zero_division=0)),
        "cost": float(amount[y & ~decline].sum() + friction * (~y & decline).sum()),
    }


def train_and_select(ctx, X_tr, y_tr, X_val, y_val) -> tuple[list[Candidate], Candidate]:
    """Six models (two families x three imbalance methods) and the ensemble of the best
    calibrated one of each family; the champion has the highest validation PR-AUC."""
    from sklearn.metrics import average_precision_score

    plan = [(f, m) for f in ("logistic regression", "LightGBM") for m in IMBALANCE]
    candidates = []
    for family, method in ctx.progress.track(plan, description="training 6 models"):
        c = fit_candidate(family, method, X_tr, y_tr, ctx.config, ctx.rng)
        c.val_pr_auc = float(average_precision_score(y_val, c.scorer.predict(X_val)))
        candidates.append(c)

    def best_calibrated(family):
        return max((c for c in candidates if c.name.startswith(family) and c.calibrated), key=lambda c: c.val_pr_auc)

    members = [best_calibrated("logistic regression"), best_calibrated("LightGBM")]
    ensemble = Candidate("ensemble: mean of " + " + ".join(m.name for m in members),
                         EnsembleScorer([m.scorer for m in members]), True, sum(m.fit_s for m in members),
                         tuple(r for m in members for r in m.recipe))
    ensemble.val_pr_auc = float(average_precision_score(y_val, ensemble.scorer.predict(X_val)))
    candidates.append(ensemble)
    return candidates, max(candidates, key=lambda c: c.val_pr_auc)


def review_threshold_for(p_val: np.ndarray, threshold: float, cfg) -> float:
    """The review band: the next most suspicious transactions after the declines, planned
    at 80% of what analysts can take a day, so an ordinary busy day does not overflow."""
    val_sorted = np.sort(p_val)[::-1]
    declined_val = int((p_val >= threshold).sum())
    review_slots = int(REVIEW_PLAN_SHARE * cfg.review_capacity_per_day * cfg.val_days)
    return float(val_sorted[min(declined_val + review_slots, val_sorted.size - 1)])


def run(ctx) -> StageResult:
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    from mlsd.blocks.uncertainty import average_precision, bootstrap, paired_difference

    cfg = ctx.config
    txns, X, day, splits = ctx.need("txns"), ctx.need("X"), ctx.need("day"), ctx.need("splits")
    known = ctx.need("known_labels")
    sel = {name: (day >= lo) & (day < hi) for name, (lo, hi) in splits.items()}
    X_tr, y_tr = X[sel["train"]], known[sel["train"]]
    X_val, y_val = X[sel["val"]], known[sel["val"]]
    X_te, y_te = X[sel["test"]], txns["is_fraud"][sel["test"]]
    amount_val, amount_te = txns["amount"][sel["val"]], txns["amount"][sel["test"]]
    oracle_p = txns["p_true"][sel["test"]]

    candidates, champion = train_and_select(ctx, X_tr, y_tr, X_val, y_val)
    rules = rules_engine.load_rules()
    rule_action_te = rules_engine.actions(rules, X_te)
    rule_score_te = rule_action_te / rules_engine.DECLINE
    p_val, p_te = champion.scorer.predict(X_val), champion.scorer.predict(X_te)

    # Threshold: minimum expected cost on validation (labels known at training time).
    curve = cost_curve(y_val, p_val, fn_cost=amount_val, fp_cost=cfg.friction_cost)
    threshold = curve.best_threshold
    review_threshold = review_threshold_for(p_val, threshold, cfg)

    flags = {
        "rules": rule_action_te > rules_engine.APPROVE,
        "model": p_te >= threshold,
        "model + rules": (p_te >= threshold) | (rule_action_te == rules_engine.DECLINE),
    }
    policies = decision_policies(flags, p_te, oracle_p, y_te, amount_te, cfg.friction_cost)

    scores = {"rules": rule_score_te, "champion": p_te, "oracle": oracle_p}
    pr = {k: float(average_precision_score(y_te, s)) for k, s in scores.items()}
    roc = {k: float(roc_auc_score(y_te, s)) for k, s in scores.items()}
    prior = float(y_tr.mean())
    ll_champion = float(log_loss(y_te, np.clip(p_te, 1e-7, 1 - 1e-7)))
    ll_prior = float(log_loss(y_te, np.full(y_te.size, prior)))
    ll_oracle = float(log_loss(y_te, oracle_p))
    test_scores = {c.name: c.scorer.predict(X_te) for c in candidates}
    # How sure the headline is: 58-105 test frauds, resampled by transaction.
    champion_ap, rules_ap = average_precision(y_te, p_te), average_precision(y_te, rule_score_te)
    pr_interval = bootstrap(champion_ap, y_te.size, ctx.seed)
    pr_gap = paired_difference(champion_ap, rules_ap, y_te.size, ctx.seed)

    model_rows = candidate_rows(candidates, champion, test_scores, y_te) + [
        ["rules only (baseline)", "", round(pr["rules"], 4), round(roc["rules"], 4), "", ""],
        ["oracle: true P(fraud)", "", round(pr["oracle"], 4), round(roc["oracle"], 4), round(ll_oracle, 4), ""],
    ]
    pattern_rows = recall_by_pattern(txns["pattern"][sel["test"]], y_te, flags)
    tree = next(c for c in candidates if c.name == "LightGBM / none").scorer.booster
    gain = tree.feature_importance(importance_type="gain")
    importance_rows = [[FEATURES[j], round(float(gain[j] / gain.sum()), 3)] for j in np.argsort(gain)[::-1][:8]]
    pr_series = precision_recall_series(y_te, scores)
    step = max(1, curve.thresholds.size // 80)  # about 80 points draw the cost curve
    chosen = policies["model + decline rules"]
    rules_policy = policies["rules only (baseline)"]
    bayes = policies["oracle: true P(fraud), Bayes decision"]

    return StageResult(
        stage="model",
        headline=f"Champion: {champion.name} (highest validation PR-AUC); threshold {threshold:.3f} by expected cost.",
        metrics=[
            metric("pr_auc", pr["champion"], baseline=pr["rules"], oracle=pr["oracle"],
                   **pr_interval.fields("ci"), **pr_gap.fields("vs_baseline")),
            metric("roc_auc", roc["champion"], baseline=roc["rules"], oracle=roc["oracle"]),
            metric("log_loss", ll_champion, baseline=ll_prior, oracle=ll_oracle),
            metric("precision_at_threshold", chosen["precision"], baseline=rules_policy["precision"],
                   oracle=bayes["precision"]),
            metric("recall_at_threshold", chosen["recall"], baseline=rules_policy["recall"], oracle=bayes["recall"]),
            metric("expected_cost", chosen["cost"], baseline=rules_policy["cost"], oracle=bayes["cost"],
                   label="cost on test days (model + decline rules)"),
        ],
        tables=[
            Table("Models x class-imbalance handling (test days, final labels)",
                  ["model", "val PR-AUC", "PR-AUC", "ROC-AUC", "log loss", "fit s"], model_rows,
                  caption="* champion. Class weights rank well but are not probabilities (see log loss); "
                          "downsampling is recalibrated. Log loss of predicting the base rate: "
                          f"{ll_prior:.4f}."),
            Table("Decision policies on the test days", ["policy", "declines", "precision", "recall", "cost $"],
                  [[k, v["declines"], round(v["precision"], 3), round(v["recall"], 3), round(v["cost"])]
                   for k, v in policies.items()]),
            Table("Recall by fraud pattern", ["pattern", "frauds", "rules", "model", "model + rules"], pattern_rows),
            Table("Top features (LightGBM gain share)", ["feature", "share"], importance_rows),
        ],
        charts=[
            Chart("Precision-recall on the test days", "recall", "precision", pr_series),
            Chart("Expected cost against threshold (validation)", "threshold", "cost $",
                  [Series("cost", curve.thresholds[::step].tolist(), curve.costs[::step].tolist())]),
        ],
        notes=[
            f"Threshold {threshold:.3f} minimises validation cost (a missed fraud costs its amount, a false decline "
            f"${cfg.friction_cost:.0f}); review band from {review_threshold:.3f} fills {cfg.review_capacity_per_day} "
            "analyst reviews a day.",
            f"The champion reaches {pr['champion'] / pr['oracle']:.0%} of the oracle's PR-AUC and "
            f"{pr['champion'] / max(pr['rules'], 1e-9):.1f}x the rules baseline.",
            "The Bayes decision declines when P(fraud) x amount exceeds (1 - P) x friction: amount-aware, which "
            "a single score threshold is not. It needs calibrated probabilities, one more reason to check log loss.",
        ],
        artifacts={"champion": champion.scorer, "champion_name": champion.name, "champion_recipe": champion.recipe,
                   "threshold": threshold, "val_recall": float((p_val[y_val] >= threshold).mean()),
                   "review_threshold": review_threshold, "rules": rules, "prior": prior},
        exports={"test_predictions": {
            "txn_id": txns["txn_id"][sel["test"]], "label": y_te.astype(int), "amount": amount_te,
            "champion_score": p_te, "rules_action": rule_action_te, "oracle_p_true": oracle_p,
            **{name: p for name, p in test_scores.items() if name != champion.name},
        }},
    )


def decision_policies(flags: dict, p_te, oracle_p, y_te, amount_te, friction: float) -> dict[str, dict]:
    """Each way of deciding, scored the same way on the test days. The Bayes decision
    declines when P x amount exceeds (1 - P) x friction: amount-aware."""
    bayes_flag = oracle_p * amount_te > (1 - oracle_p) * friction
    return {
        "always approve": policy_stats(np.zeros_like(y_te), y_te, amount_te, friction),
        "rules only (baseline)": policy_stats(flags["rules"], y_te, amount_te, friction),
        "model at cost threshold": policy_stats(flags["model"], y_te, amount_te, friction),
        "model + decline rules": policy_stats(flags["model + rules"], y_te, amount_te, friction),
        "model, amount-aware (Bayes rule on its P)": policy_stats(
            p_te * amount_te > (1 - p_te) * friction, y_te, amount_te, friction),
        "oracle: true P(fraud), Bayes decision": policy_stats(bayes_flag, y_te, amount_te, friction),
    }


def candidate_rows(candidates: list[Candidate], champion: Candidate, test_scores: dict, y_te) -> list[list]:
    """One row per trained candidate: validation PR-AUC (how it was chosen), test metrics, fit time."""
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    rows = []
    for c in candidates:
        p = test_scores[c.name]
        rows.append([c.name + (" *" if c is champion else ""), round(c.val_pr_auc, 4),
                     round(float(average_precision_score(y_te, p)), 4), round(float(roc_auc_score(y_te, p)), 4),
                     round(float(log_loss(y_te, np.clip(p, 1e-7, 1 - 1e-7))), 4), round(c.fit_s, 2)])
    return rows


def recall_by_pattern(pattern, y_te, flags: dict) -> list[list]:
    """Share of each fraud pattern's frauds that rules, model, and both together catch."""
    rows = []
    for k, name in enumerate(PATTERNS[1:], start=1):
        frauds = y_te & (pattern == k)
        if frauds.any():
            rows.append([name, int(frauds.sum())] + [f"{(flags[f] & frauds).sum() / frauds.sum():.0%}"
                                                     for f in ("rules", "model", "model + rules")])
    return rows


def precision_recall_series(y_te, scores: dict) -> list[Series]:
    """Precision-recall curves of the champion, the rules and the oracle, about 60 points each."""
    from sklearn.metrics import precision_recall_curve

    series = []
    for name in ("champion", "rules", "oracle"):
        precision, recall, _ = precision_recall_curve(y_te, scores[name])
        step = max(1, recall.size // 60)
        series.append(Series(name, recall[::step].tolist(), precision[::step].tolist()))
    return series
