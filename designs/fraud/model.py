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
            n_jobs=2, deterministic=True, force_col_wise=True, random_state=int(rng.integers(2**31 - 1)),
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


def run(ctx) -> StageResult:
    from sklearn.metrics import average_precision_score, log_loss, precision_recall_curve, roc_auc_score

    cfg = ctx.config
    txns, X, day, splits = ctx.need("txns"), ctx.need("X"), ctx.need("day"), ctx.need("splits")
    known = ctx.need("known_labels")
    sel = {name: (day >= lo) & (day < hi) for name, (lo, hi) in splits.items()}
    X_tr, y_tr = X[sel["train"]], known[sel["train"]]
    X_val, y_val = X[sel["val"]], known[sel["val"]]
    X_te, y_te = X[sel["test"]], txns["is_fraud"][sel["test"]]
    amount_val, amount_te = txns["amount"][sel["val"]], txns["amount"][sel["test"]]
    oracle_p = txns["p_true"][sel["test"]]

    plan = [(f, m) for f in ("logistic regression", "LightGBM") for m in IMBALANCE]
    candidates = []
    for family, method in ctx.progress.track(plan, description="training 6 models"):
        c = fit_candidate(family, method, X_tr, y_tr, cfg, ctx.rng)
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
    champion = max(candidates, key=lambda c: c.val_pr_auc)

    rules = rules_engine.load_rules()
    rule_action_te = rules_engine.actions(rules, X_te)
    rule_score_te = rule_action_te / rules_engine.DECLINE
    p_val, p_te = champion.scorer.predict(X_val), champion.scorer.predict(X_te)

    # Threshold: minimum expected cost on validation (labels known at training time).
    curve = cost_curve(y_val, p_val, fn_cost=amount_val, fp_cost=cfg.friction_cost)
    threshold = curve.best_threshold
    # Review band: the next most suspicious transactions, planned at 80% of what analysts can
    # take a day, so an ordinary busy day does not overflow the queue.
    val_sorted = np.sort(p_val)[::-1]
    declined_val = int((p_val >= threshold).sum())
    review_slots = int(REVIEW_PLAN_SHARE * cfg.review_capacity_per_day * cfg.val_days)
    review_threshold = float(val_sorted[min(declined_val + review_slots, val_sorted.size - 1)])

    rules_flag = rule_action_te > rules_engine.APPROVE
    model_flag = p_te >= threshold
    combined_flag = model_flag | (rule_action_te == rules_engine.DECLINE)
    bayes_flag = oracle_p * amount_te > (1 - oracle_p) * cfg.friction_cost  # decline when expected loss is larger
    policies = {
        "always approve": policy_stats(np.zeros_like(y_te), y_te, amount_te, cfg.friction_cost),
        "rules only (baseline)": policy_stats(rules_flag, y_te, amount_te, cfg.friction_cost),
        "model at cost threshold": policy_stats(model_flag, y_te, amount_te, cfg.friction_cost),
        "model + decline rules": policy_stats(combined_flag, y_te, amount_te, cfg.friction_cost),
        "model, amount-aware (Bayes rule on its P)": policy_stats(
            p_te * amount_te > (1 - p_te) * cfg.friction_cost, y_te, amount_te, cfg.friction_cost),
        "oracle: true P(fraud), Bayes decision": policy_stats(bayes_flag, y_te, amount_te, cfg.friction_cost),
    }

    scores = {
        "rules": rule_score_te,
        "champion": p_te,
        "oracle": oracle_p,
    }
    pr = {k: float(average_precision_score(y_te, s)) for k, s in scores.items()}
    roc = {k: float(roc_auc_score(y_te, s)) for k, s in scores.items()}
    prior = float(y_tr.mean())
    ll_champion = float(log_loss(y_te, np.clip(p_te, 1e-7, 1 - 1e-7)))
    ll_prior = float(log_loss(y_te, np.full(y_te.size, prior)))
    ll_oracle = float(log_loss(y_te, oracle_p))

    test_scores = {c.name: c.scorer.predict(X_te) for c in candidates}
    model_rows = []
    for c in candidates:
        p = test_scores[c.name]
        model_rows.append([c.name + (" *" if c is champion else ""), round(c.val_pr_auc, 4),
                           round(float(average_precision_score(y_te, p)), 4),
                           round(float(roc_auc_score(y_te, p)), 4),
                           round(float(log_loss(y_te, np.clip(p, 1e-7, 1 - 1e-7))), 4), round(c.fit_s, 2)])
    model_rows.append(["rules only (baseline)", "", round(pr["rules"], 4), round(roc["rules"], 4), "", ""])
    model_rows.append(["oracle: true P(fraud)", "", round(pr["oracle"], 4), round(roc["oracle"], 4),
                       round(ll_oracle, 4), ""])

    pattern = txns["pattern"][sel["test"]]
    pattern_rows = []
    for k, name in enumerate(PATTERNS[1:], start=1):
        frauds = y_te & (pattern == k)
        if frauds.any():
            pattern_rows.append([name, int(frauds.sum())] + [
                f"{(flag & frauds).sum() / frauds.sum():.0%}" for flag in (rules_flag, model_flag, combined_flag)])

    tree = next(c for c in candidates if c.name == "LightGBM / none").scorer.booster
    gain = tree.feature_importance(importance_type="gain")
    top = np.argsort(gain)[::-1][:8]
    importance_rows = [[FEATURES[j], round(float(gain[j] / gain.sum()), 3)] for j in top]

    pr_series = []
    for name, s in (("champion", p_te), ("rules", rule_score_te), ("oracle", oracle_p)):
        precision, recall, _ = precision_recall_curve(y_te, s)
        step = max(1, recall.size // 60)
        pr_series.append(Series(name, recall[::step].tolist(), precision[::step].tolist()))
    step = max(1, curve.thresholds.size // 80)
    chosen = policies["model + decline rules"]
    rules_policy = policies["rules only (baseline)"]
    bayes = policies["oracle: true P(fraud), Bayes decision"]

    return StageResult(
        stage="model",
        headline=f"Champion: {champion.name} (highest validation PR-AUC); threshold {threshold:.3f} by expected cost.",
        metrics=[
            metric("pr_auc", pr["champion"], baseline=pr["rules"], oracle=pr["oracle"]),
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
