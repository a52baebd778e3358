"""LambdaMART (lightgbm lambdarank): fitting, scoring many queries in one call, and
out-of-fold scores for the training queries, which is what a stage trained on
LambdaMART's scores must learn from (in-sample scores are better than any it will see)."""

from __future__ import annotations

import numpy as np

from mlsd.threads import training_threads

TRUNCATION = 15  # lambdas from pairs touching the current top 15 only: NDCG@10 looks no deeper, and it halves the fit
OUT_OF_FOLD_SPLITS = 3  # folds over training queries; each score comes from a model that never saw its query


def fit_lambdamart(X: np.ndarray, y: np.ndarray, groups: list[int], n_trees: int, seed: int):
    import lightgbm as lgb

    model = lgb.LGBMRanker(objective="lambdarank", n_estimators=n_trees, learning_rate=0.1, num_leaves=31,
                           min_child_samples=20, subsample=0.8, subsample_freq=1, colsample_bytree=0.9,
                           lambdarank_truncation_level=TRUNCATION, random_state=seed, n_jobs=training_threads(),
                           verbose=-1)
    model.fit(X, y, group=groups)
    return model


def fit_on(rows: list[tuple[np.ndarray, np.ndarray]], n_trees: int, seed: int):
    """LambdaMART on per-query (feature rows, grades)."""
    return fit_lambdamart(np.vstack([x for x, _ in rows]), np.concatenate([g for _, g in rows]),
                          [len(g) for _, g in rows], n_trees, seed)


def scores_per_query(model, rows: list[np.ndarray]) -> list[np.ndarray]:
    """One predict call for many queries (a call per query costs more in overhead than in trees)."""
    flat = model.predict(np.vstack(rows))
    return np.split(flat, np.cumsum([len(r) for r in rows])[:-1])


def out_of_fold_scores(rows: list[tuple[np.ndarray, np.ndarray]], n_trees: int, seed: int) -> list[np.ndarray]:
    """Each training query's scores from a LambdaMART fitted on the other folds' queries."""
    fold = np.arange(len(rows)) % OUT_OF_FOLD_SPLITS
    scores: list[np.ndarray] = [np.empty(0)] * len(rows)
    for k in range(OUT_OF_FOLD_SPLITS):
        model = fit_on([r for r, f in zip(rows, fold) if f != k], n_trees, seed)
        held = np.flatnonzero(fold == k)
        for i, s in zip(held, scores_per_query(model, [rows[i][0] for i in held])):
            scores[i] = s
    return scores
