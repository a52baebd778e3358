"""CIDEr-D: the scores of pycocoevalcap's CiderScorer, and behaviour a reader can check by hand."""

from __future__ import annotations

import copy
import math
import random
from collections import defaultdict

import numpy as np
import pytest

from mlsd.designs.captioning.cider import cider_d, tokenize

# ---------------------------------------------------------------------------------------------
# The reference implementation. Transcribed from pycocoevalcap/cider/cider_scorer.py of
# the COCO caption evaluation code (https://github.com/tylin/coco-caption, commit bfd15962; the
# same file is in salaniz/pycocoevalcap). Python 3 port only: the `builtins`/`past` imports and
# `import pdb` are dropped and `old_div(a, b)` is written `a / b` (both are floats). Its licence:
#
# Copyright (c) 2014, Xinlei Chen, Hao Fang, Tsung-Yi Lin, and Ramakrishna Vedantam
# All rights reserved.
#
# Redistribution and use in source and binary forms, with or without
# modification, are permitted provided that the following conditions are met:
#
# 1. Redistributions of source code must retain the above copyright notice, this
#    list of conditions and the following disclaimer.
# 2. Redistributions in binary form must reproduce the above copyright notice,
#    this list of conditions and the following disclaimer in the documentation
#    and/or other materials provided with the distribution.
#
# THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND
# ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
# WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
# DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT OWNER OR CONTRIBUTORS BE LIABLE FOR
# ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES
# (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES;
# LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND
# ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
# (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS
# SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
#
# The views and conclusions contained in the software and documentation are those
# of the authors and should not be interpreted as representing official policies,
# either expressed or implied, of the FreeBSD Project.
#
# Authors of cider_scorer.py: Tsung-Yi Lin <tl483@cornell.edu> and
# Ramakrishna Vedantam <vrama91@vt.edu>
# ---------------------------------------------------------------------------------------------

def precook(s, n=4, out=False):
    """
    Takes a string as input and returns an object that can be given to
    either cook_refs or cook_test. This is optional: cook_refs and cook_test
    can take string arguments as well.
    :param s: string : sentence to be converted into ngrams
    :param n: int    : number of ngrams for which representation is calculated
    :return: term frequency vector for occuring ngrams
    """
    words = s.split()
    counts = defaultdict(int)
    for k in range(1,n+1):
        for i in range(len(words)-k+1):
            ngram = tuple(words[i:i+k])
            counts[ngram] += 1
    return counts

def cook_refs(refs, n=4): ## lhuang: oracle will call with "average"
    '''Takes a list of reference sentences for a single segment
    and returns an object that encapsulates everything that BLEU
    needs to know about them.
    :param refs: list of string : reference sentences for some image
    :param n: int : number of ngrams for which (ngram) representation is calculated
    :return: result (list of dict)
    '''
    return [precook(ref, n) for ref in refs]

def cook_test(test, n=4):
    '''Takes a test sentence and returns an object that
    encapsulates everything that BLEU needs to know about it.
    :param test: list of string : hypothesis sentence for some image
    :param n: int : number of ngrams for which (ngram) representation is calculated
    :return: result (dict)
    '''
    return precook(test, n, True)

class CiderScorer(object):
    """CIDEr scorer.
    """

    def copy(self):
        ''' copy the refs.'''
        new = CiderScorer(n=self.n)
        new.ctest = copy.copy(self.ctest)
        new.crefs = copy.copy(self.crefs)
        return new

    def __init__(self, test=None, refs=None, n=4, sigma=6.0):
        ''' singular instance '''
        self.n = n
        self.sigma = sigma
        self.crefs = []
        self.ctest = []
        self.document_frequency = defaultdict(float)
        self.cook_append(test, refs)
        self.ref_len = None

    def cook_append(self, test, refs):
        '''called by constructor and __iadd__ to avoid creating new instances.'''

        if refs is not None:
            self.crefs.append(cook_refs(refs))
            if test is not None:
                self.ctest.append(cook_test(test)) ## N.B.: -1
            else:
                self.ctest.append(None) # lens of crefs and ctest have to match

    def size(self):
        assert len(self.crefs) == len(self.ctest), "refs/test mismatch! %d<>%d" % (len(self.crefs), len(self.ctest))
        return len(self.crefs)

    def __iadd__(self, other):
        '''add an instance (e.g., from another sentence).'''

        if type(other) is tuple:
            ## avoid creating new CiderScorer instances
            self.cook_append(other[0], other[1])
        else:
            self.ctest.extend(other.ctest)
            self.crefs.extend(other.crefs)

        return self
    def compute_doc_freq(self):
        '''
        Compute term frequency for reference data.
        This will be used to compute idf (inverse document frequency later)
        The term frequency is stored in the object
        :return: None
        '''
        for refs in self.crefs:
            # refs, k ref captions of one image
            for ngram in set([ngram for ref in refs for (ngram,count) in ref.items()]):
                self.document_frequency[ngram] += 1
            # maxcounts[ngram] = max(maxcounts.get(ngram,0), count)

    def compute_cider(self):
        def counts2vec(cnts):
            """
            Function maps counts of ngram to vector of tfidf weights.
            The function returns vec, an array of dictionary that store mapping of n-gram and tf-idf weights.
            The n-th entry of array denotes length of n-grams.
            :param cnts:
            :return: vec (array of dict), norm (array of float), length (int)
            """
            vec = [defaultdict(float) for _ in range(self.n)]
            length = 0
            norm = [0.0 for _ in range(self.n)]
            for (ngram,term_freq) in cnts.items():
                # give word count 1 if it doesn't appear in reference corpus
                df = np.log(max(1.0, self.document_frequency[ngram]))
                # ngram index
                n = len(ngram)-1
                # tf (term_freq) * idf (precomputed idf) for n-grams
                vec[n][ngram] = float(term_freq)*(self.ref_len - df)
                # compute norm for the vector.  the norm will be used for computing similarity
                norm[n] += pow(vec[n][ngram], 2)

                if n == 1:
                    length += term_freq
            norm = [np.sqrt(n) for n in norm]
            return vec, norm, length

        def sim(vec_hyp, vec_ref, norm_hyp, norm_ref, length_hyp, length_ref):
            '''
            Compute the cosine similarity of two vectors.
            :param vec_hyp: array of dictionary for vector corresponding to hypothesis
            :param vec_ref: array of dictionary for vector corresponding to reference
            :param norm_hyp: array of float for vector corresponding to hypothesis
            :param norm_ref: array of float for vector corresponding to reference
            :param length_hyp: int containing length of hypothesis
            :param length_ref: int containing length of reference
            :return: array of score for each n-grams cosine similarity
            '''
            delta = float(length_hyp - length_ref)
            # measure consine similarity
            val = np.array([0.0 for _ in range(self.n)])
            for n in range(self.n):
                # ngram
                for (ngram,count) in vec_hyp[n].items():
                    # vrama91 : added clipping
                    val[n] += min(vec_hyp[n][ngram], vec_ref[n][ngram]) * vec_ref[n][ngram]

                if (norm_hyp[n] != 0) and (norm_ref[n] != 0):
                    val[n] /= (norm_hyp[n]*norm_ref[n])

                assert(not math.isnan(val[n]))
                # vrama91: added a length based gaussian penalty
                val[n] *= np.e**(-(delta**2) / (2*self.sigma**2))
            return val

        # compute log reference length
        self.ref_len = np.log(float(len(self.crefs)))

        scores = []
        for test, refs in zip(self.ctest, self.crefs):
            # compute vector for test captions
            vec, norm, length = counts2vec(test)
            # compute vector for ref captions
            score = np.array([0.0 for _ in range(self.n)])
            for ref in refs:
                vec_ref, norm_ref, length_ref = counts2vec(ref)
                score += sim(vec, vec_ref, norm, norm_ref, length, length_ref)
            # change by vrama91 - mean of ngram scores, instead of sum
            score_avg = np.mean(score)
            # divide by number of references
            score_avg /= len(refs)
            # multiply score by 10
            score_avg *= 10.0
            # append score of an image to the score list
            scores.append(score_avg)
        return scores

    def compute_score(self, option=None, verbose=0):
        # compute idf
        self.compute_doc_freq()
        # assert to check document frequency
        assert(len(self.ctest) >= max(self.document_frequency.values()))
        # compute cider score
        score = self.compute_cider()
        # debug
        # print score
        return np.mean(np.array(score)), np.array(score)

# ---------------------------------------------------------------------------------------------
# End of the transcribed reference implementation.
# ---------------------------------------------------------------------------------------------


def pycocoevalcap_scores(hypotheses, references):
    """Feed the reference implementation as pycocoevalcap's Cider.compute_score does, on our tokens."""
    scorer = CiderScorer(n=4, sigma=6.0)
    for hyp, refs in zip(hypotheses, references):
        scorer += (" ".join(tokenize(hyp)), [" ".join(tokenize(r)) for r in refs])
    return scorer.compute_score()


HAND_CORPUS = (
    ["a man riding a horse on a beach",
     "two dogs dogs playing in the snow",
     "a plate of food",
     "a red double decker bus driving down a city street near a tall building",
     "cat",
     "a kitchen with a stove and a sink sink"],
    [["a man rides a horse along the beach", "a person riding a brown horse on the sand",
      "a man on horseback at the beach"],
     ["two dogs play in the snow", "a pair of dogs running through snow",
      "dogs dogs everywhere in the white snow", "two puppies in the snow", "snow snow snow"],
     ["a plate of food with broccoli and rice", "a white plate holding a meal"],
     ["a red bus on a city street", "a double decker bus drives down the street",
      "a red double decker bus in a city", "a bus near a tall building"],
     ["a cat", "a black cat sleeping on a couch", "cat"],
     ["a kitchen with a stove and a sink", "a small kitchen", "a stove next to a sink in a kitchen",
      "an old kitchen with white cabinets"]],
)


def random_corpus(images=200, seed=7):
    rng = random.Random(seed)
    vocab = ("a an the man woman dog cat horse bus car street beach snow red blue two small big "
             "on in with near riding playing sitting standing food plate of table").split()
    assert len(vocab) == 30

    def sentence():
        return " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 12)))

    return ([sentence() for _ in range(images)],
            [[sentence() for _ in range(rng.randint(1, 5))] for _ in range(images)])


@pytest.mark.parametrize("corpus", [HAND_CORPUS, random_corpus()], ids=["hand", "random"])
def test_matches_pycocoevalcap(corpus):
    hyps, refs = corpus
    score, per_image = cider_d(hyps, refs)
    expected, expected_per_image = pycocoevalcap_scores(hyps, refs)
    assert per_image.shape == (len(hyps),)
    np.testing.assert_allclose(per_image, expected_per_image, rtol=0, atol=1e-9)
    assert score == pytest.approx(float(expected), abs=1e-9)
    assert per_image.max() > 0  # the comparison is not vacuous


def test_empty_and_one_word_captions_match_pycocoevalcap_without_nan():
    # pycocoevalcap measures length in bigrams; only these edge cases could tell the two apart.
    hyps = ["", "dog", "a dog", "dog"]
    refs = [["a dog"], ["dog", "a dog"], ["", "dog"], ["a cat", "cat"]]
    score, per_image = cider_d(hyps, refs)
    np.testing.assert_allclose(per_image, pycocoevalcap_scores(hyps, refs)[1], rtol=0, atol=1e-9)
    assert per_image[0] == 0.0 and not np.isnan(per_image).any() and not math.isnan(score)


def test_scores_do_not_depend_on_earlier_calls():
    # cider_d caches each caption's n-gram row and keeps one column per n-gram for the life
    # of the process: a corpus scored after others (new n-grams, new columns) scores the same.
    hyps, refs = random_corpus(images=60, seed=11)
    first = cider_d(hyps, refs)[1]
    cider_d(*HAND_CORPUS)
    cider_d(*random_corpus(images=80, seed=12))
    again = cider_d(hyps, refs)[1]
    np.testing.assert_array_equal(again, first)
    np.testing.assert_allclose(again, pycocoevalcap_scores(hyps, refs)[1], rtol=0, atol=1e-9)


def test_exact_copy_beats_a_paraphrase():
    hyps, refs = HAND_CORPUS
    refs = [list(r) for r in refs]
    refs[0] = ["a man riding a horse on a beach"] * 3
    _, exact = cider_d(hyps, refs)
    _, para = cider_d(["a person rides a horse along the sand"] + hyps[1:], refs)
    assert exact[0] > para[0] > 0


def test_unrelated_hypothesis_scores_zero():
    hyps, refs = HAND_CORPUS
    _, per_image = cider_d(["purple giraffes juggling umbrellas"] + hyps[1:], refs)
    assert per_image[0] == 0.0


def test_reference_order_does_not_matter():
    hyps, refs = random_corpus(images=50, seed=3)
    shuffled = [list(reversed(r)) for r in refs]
    np.testing.assert_allclose(cider_d(hyps, shuffled)[1], cider_d(hyps, refs)[1],
                               rtol=0, atol=1e-12)


def test_tokenize():
    assert tokenize("A Red, circle.") == ["a", "red", "circle"]
    assert tokenize("  Don't STOP!  it's 2 o'clock ") == ["don't", "stop", "it's", "2", "o'clock"]
    assert tokenize("'quoted' -- ...") == ["quoted"]


@pytest.mark.parametrize("hyps, refs, match", [
    (["a cat"], [["a cat"], ["a dog"]], "2 reference sets"),
    (["a cat", "a dog"], [["a cat"], []], "image 1"),
    (["a cat"], ["a cat"], "image 0"),  # a bare string is not a list of references
    ([], [], "at least one image"),
])
def test_invalid_input_raises(hyps, refs, match):
    with pytest.raises(ValueError, match=match):
        cider_d(hyps, refs)
