"""What the ranker may read: text-match scores from the retrievers and the document
signals a real engine has (a link prior, click history, age, length). Never the
generator's quality or its freshness term: those are hidden in the utility, and a
feature that reads them would hand the ranker the answer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlsd.designs.search_ranking.ranking import Retrievers

FEATURES = ("bm25", "tfidf_cosine", "dense_cosine", "link_prior", "click_prior", "age_days", "log_length",
            "query_length")
PRIOR_IMPRESSIONS = 10  # pseudo-impressions at the mean click rate: a thin click history stays near the mean


@dataclass
class ClickPrior:
    """Each document's propensity-corrected click rate in the click log (clicks divided
    by the examination propensity of their rank, over impressions), shrunk toward the
    log's mean. A training query's own sessions are left out of its documents' prior:
    a test query was never logged, so a prior that counted the query's own clicks would
    teach the ranker a signal it never gets at serving time."""

    weighted_clicks: np.ndarray  # per document
    impressions: np.ndarray      # per document
    own: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]  # logged query -> (docs, weighted clicks, impressions)
    mean: float

    @classmethod
    def from_log(cls, log, propensity: np.ndarray, n_docs: int) -> ClickPrior:
        weights = log.click / propensity[log.rank - 1]
        pair, inverse = np.unique(log.query.astype(np.int64) * n_docs + log.doc, return_inverse=True)
        pair_clicks = np.bincount(inverse, weights=weights)
        pair_shown = np.bincount(inverse).astype(float)
        query, doc = pair // n_docs, pair % n_docs
        own = {}
        bounds = np.flatnonzero(np.diff(np.r_[-1, query, -1]))  # pairs are sorted by query
        for start, stop in zip(bounds[:-1], bounds[1:]):
            own[int(query[start])] = (doc[start:stop], pair_clicks[start:stop], pair_shown[start:stop])
        return cls(np.bincount(doc, weights=pair_clicks, minlength=n_docs),
                   np.bincount(doc, weights=pair_shown, minlength=n_docs),
                   own, float(weights.sum() / len(weights)))

    def of(self, docs: np.ndarray, query_id: int | None = None) -> np.ndarray:
        clicks, shown = self.weighted_clicks[docs].copy(), self.impressions[docs].copy()
        if query_id in self.own:
            own_docs, own_clicks, own_shown = self.own[query_id]
            at = np.searchsorted(own_docs, docs).clip(max=len(own_docs) - 1)
            mine = own_docs[at] == docs
            clicks[mine] -= own_clicks[at[mine]]
            shown[mine] -= own_shown[at[mine]]
        return (clicks + PRIOR_IMPRESSIONS * self.mean) / (shown + PRIOR_IMPRESSIONS)

    def padded(self, n_docs: int) -> ClickPrior:
        """The same history over a larger corpus: documents added since have none."""
        extra = n_docs - len(self.impressions)
        return ClickPrior(np.r_[self.weighted_clicks, np.zeros(extra)], np.r_[self.impressions, np.zeros(extra)],
                          self.own, self.mean)


@dataclass
class Features:
    """One row per (query, document): the ranker's inputs, in the order of FEATURES."""

    retrievers: Retrievers
    clicks: ClickPrior

    def rows(self, query: np.ndarray, docs: np.ndarray, query_id: int | None = None) -> np.ndarray:
        r, corpus = self.retrievers, self.retrievers.corpus
        dense = r.doc_vectors[docs] @ r.query_vector(query)
        return np.column_stack([
            r.bm25.score_pairs(query, docs), r.tfidf.cosine(query, docs), dense,
            corpus.link_prior[docs], self.clicks.of(docs, query_id), corpus.age_days[docs],
            r.log_length[docs], np.full(len(docs), len(query)),
        ]).astype(np.float32)
