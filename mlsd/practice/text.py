"""Reading an answer the way the scorer needs it: one spelling per concept, sentences of
stemmed tokens, and for each sentence what a human reader would notice first.

- which words sit under a negation ("we would not use accuracy", "instead of a random
  split", "it is false that ..."), so a rejected idea earns nothing;
- whether the sentence gives a reason, a trade-off or a number, which separates an
  explanation from naming a term;
- whether it is prose at all: a keyword dump, or words shuffled into salad, reads as a
  list of terms however many function words it has.

Everything here is deterministic and offline; docs/scoring.md explains the rules and
their limits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

FUNCTION_WORDS = frozenset("""
a an the is are was were be been being am do does did to of for and or but nor so
because since as if then than that this these those which who whom whose what when
where why how while until before after into onto from with without within by on in
at it its we our us i my me you your they their them he she his her not no can could
will would should must may might shall each every per any all some both either more
most less least very also just only about over under between through there here
""".split())

# Negation words stay meaningful inside a rubric phrase ("no random split"): a phrase
# keeps them as content so that it matches only where they are said.
NEGATIONS = frozenset({"not", "no", "never", "without", "nor", "neither"})

# A clause is prose when it has at least PROSE_MIN_WORDS words, PROSE_MIN_FUNCTION_WORDS
# of them function words; a sentence of LIST_MIN_ITEMS or more comma-separated items,
# most of them not clauses, is a keyword list however long.
PROSE_MIN_WORDS = 6
PROSE_MIN_FUNCTION_WORDS = 2
LIST_MIN_ITEMS = 4
WRAPPED_LINE_CHARS = 60

# Canonical spellings, applied in order to lower-cased text (answer and rubric alike).
# Long forms become the abbreviation, so either spelling meets the other.
_CANONICAL: tuple[tuple[str, str], ...] = (
    (r"(?<=\d),(?=\d{3}\b)", ""),                                   # 1,000 -> 1000
    (r"\bcan['’]t\b", "can not"),
    (r"n['’]t\b", " not"),                                           # don't -> do not
    (r"\b(it|that|what|there|here|who)['’]s\b", r"\1 is"),          # it's -> it is
    (r"\blet['’]s\b", "let us"),
    (r"['’]re\b", " are"),
    (r"\bi['’]m\b", "i am"),
    (r"['’]ve\b", " have"),
    (r"['’]ll\b", " will"),
    (r"\b(i|we|you|they|he|she)['’]d\b", r"\1 would"),
    (r"\bcannot\b", "can not"),
    (r"\b(\d{2,3})(?:st|nd|rd|th)[ -]?percentile", r"p\1"),         # 99th percentile -> p99
    (r"\bpercentile[ -]?(\d{2,3})\b", r"p\1"),
    (r"\bp[ -](\d{2,3})\b", r"p\1"),                                 # p 99, p-99 -> p99
    (r"\bmean average precision\b", "map"),
    (r"\barea under (?:the )?(?:precision[ -]recall|pr) curve\b", "prauc"),
    (r"\b(?:precision[ -]recall|pr)[ -]?auc\b|\bau[ -]?prc?\b|\baverage precision\b", "prauc"),
    (r"\barea under (?:the )?(?:roc|receiver operating characteristic) curve\b", "rocauc"),
    (r"\broc[ -]?auc\b|\bauc[ -]?roc\b|\bauroc\b", "rocauc"),
    (r"\bnormali[sz]ed discounted cumulative gain\b", "ndcg"),
    (r"\bmean reciprocal rank\b", "mrr"),
    (r"\bclick[ -]?through[ -]rates?\b", "ctr"),
    (r"\bword error rates?\b", "wer"),
    (r"\bcharacter error rates?\b", "cer"),
    (r"\bdiari[sz]ation error rates?\b", "der"),
    (r"\breal[ -]?time factor\b", "rtf"),
    (r"\bsignal[ -]to[ -]noise(?: ratio)?\b", "snr"),
    (r"\bconnectionist temporal classification\b", "ctc"),
    (r"\bvoice activity detect(?:ion|or)\b", "vad"),
    (r"\bautomatic speech recognition\b", "asr"),
    (r"\bapproximate nearest[ -]neighbou?rs?\b", "ann"),
    (r"\bk[ -]nearest[ -]neighbou?rs?\b", "knn"),
    (r"\bgradient[ -]boosted (?:decision )?trees?\b|\bgradient boosting(?: machines?)?\b|\bgbdts?\b|\bgbms?\b", "gbdt"),
    (r"\bpopulation stability index\b", "psi"),
    (r"\bkullback[ -]leibler\b", "kl"),
    (r"\btime[ -]to[ -]live\b", "ttl"),
    (r"\bservice[ -]level objectives?\b", "slo"),
    (r"\bservice[ -]level agreements?\b", "sla"),
    (r"\bout[ -]of[ -]vocabulary\b", "oov"),
    (r"\blearning[ -]to[ -]rank\b", "ltr"),
    (r"\btf[ -]idf\b", "tfidf"),
    (r"\bexpected calibration error\b", "ece"),
    (r"\bend[ -]to[ -]end\b", "e2e"),
    (r"\bpoint[ -]in[ -]time\b", "pointintime"),
    (r"\bjudgement", "judgment"),
    (r"(\d)\s*(?:ms|msec|millisecond|milliseconds)\b", r"\1 ms"),   # 100ms -> 100 ms
    (r"\bmilliseconds?\b", "ms"),
    (r"(\d)\s*(?:x|times)\b", r"\1x"),                               # 10 times -> 10x
    (r"\bten ?x\b|\bten times\b", "10x"),
    (r"\ba\s*/\s*b\b", "ab"),
    (r"\bqueries per second\b|\bquery per second\b", "qps"),
    (r"\brequests per second\b", "rps"),
    (r"\btransactions per second\b", "tps"),
    (r"\b(real|on|off|near)[ -](time|line)\b", r"\1\2"),
    (r"\b(data|time|look|work|down|up)[ -](set|stamp|ahead|load|sample|sampling|sampled)\b", r"\1\2"),
    (r"\bfine[ -](?=tun)", "fine"),                                   # fine-tune -> finetune
    (r"\b(re|pre|co|non|de|un|multi|sub|post)-(?=[a-z])", r"\1"),   # re-rank -> rerank
    (r"\b(fall|roll|look|back|warm|shut|cool)[ -](back|up|down|fill|off)s?\b", r"\1\2"),  # fall back -> fallback
    (r"isation", "ization"),
    (r"\b(authori|normali|optimi|recogni|summari|categori|prioriti|regulari|tokeni|materiali|"
     r"initiali|randomi|personali|utili|minimi|maximi|standardi|characteri|generali|visuali|"
     r"penali|quanti|parallel|seriali|vectori|customi|memori|featuri|stabili|synthesi|emphasi)"
     r"s(e|ed|es|er|ers|ing)\b", r"\1z\2"),
    (r"\banaly[sz](e|ed|es|ing)\b", r"analyz\1"),
    (r"\b(behavi|col|neighb|fav|lab|hon)our", r"\1or"),
    (r"\b(label|model|cancel|travel|signal|channel|level|fuel)l(ed|ing|er)\b", r"\1\2"),
    (r"\b(cent|met|lit)re\b", r"\1er"),
    (r"\bcatalogue\b", "catalog"),
)
_CANONICAL_RE = tuple((re.compile(pattern), repl) for pattern, repl in _CANONICAL)
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_WORD_OR_PUNCTUATION = re.compile(r"[a-z0-9][a-z0-9-]*|[,;:()\"]")
_WORD_OR_COMMA = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?|,")
_PARENTHESES = re.compile(r"\([^()]*\)")
_CONJUNCTIONS = frozenset({"and", "or", "then", "but", "so", "plus", "while"})
_BULLET = re.compile(r"\s*([-*•>]|\d+[.)])\s")
# A sentence ends at . ! ? (closing bold, quotes or brackets may follow), a semicolon, a
# line break or a dash between spaces. Not at a colon: "Selection bias: declined
# transactions have no outcome, so ..." is one statement with its reason.
_SENTENCE_END = re.compile(r"(?<=[.!?])[*_\"'”’)\]]*\s+|[;\n]+|\s+[-–—]\s+")
_STEMMER = snowballstemmer.stemmer("english")

# --- negation ----------------------------------------------------------------
# A cue negates the words after it up to the end of its clause: a contrast ("but",
# "instead", "rather"), a reason ("because", "so", "since", "which") or a comma.
# "instead of X" and "rather than X" reject X. A denial of the whole statement ("it is
# false that", "not true that", "we would not do this") negates the rest of the sentence.
_LOCAL_CUES = frozenset({"not", "no", "never", "without", "nor", "neither", "avoid", "avoiding"})
_TWO_WORD_CUES = frozenset({("instead", "of"), ("rather", "than"), ("as", "opposed"), ("stay", "away"),
                            ("steer", "clear"), ("do", "away")})
_SCOPE_BREAKS = frozenset({"but", "however", "instead", "rather", "whereas", "although", "though", "yet",
                           "because", "so", "since", "which", "therefore", "thus", "hence", "while"})
_BLANKET_DENIALS: tuple[tuple[str, ...], ...] = (
    ("false", "that"), ("not", "true"), ("untrue",), ("not", "the", "case"), ("wrong", "that"),
    ("not", "do", "this"), ("not", "do", "that"), ("not", "do", "any"), ("none", "of", "this"),
    ("never", "do"), ("nothing", "like", "this"), ("not", "do", "it"), ("disagree",), ("not", "agree"),
    ("reject", "the", "idea"), ("bad", "idea"), ("not", "a", "good", "idea"), ("mistake", "to"),
    ("wrong", "to"),
)
# "No, we would not: ..." and "Not this: ..." deny what the colon introduces.
_DENIAL_BEFORE_COLON = re.compile(r"^\W*(?:\w+\W+){0,6}?(?:not|no|never)\W*:")

# --- reasons -----------------------------------------------------------------
# Words that make a sentence give a reason, a consequence, a comparison, a mechanism or a
# trade-off; compared by stem, so "captures" and "needed" count too. Deliberately not here:
# words that only announce a topic ("consider", "important", "think about").
REASON_WORDS = frozenset(_STEMMER.stemWords("""
because since so therefore thus hence otherwise why means meaning given due avoid prevent
ensure tradeoff versus vs than whereas but however unless if risk leak cause lead result
allow cheaper faster slower better worse cheap expensive instead rather reason which
handle capture need require help robust catch reduce increase improve protect miss hurt
break fail dominate outperform beat cost costs penalize affect depend compare
""".split()))
NUMBER_WORDS = frozenset("""
one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
hundred hundreds thousand thousands million millions billion billions half quarter
percent twice double triple
""".split())
# The first words of a sentence that continues the one before ("This is because ...").
_CONTINUATIONS = frozenset({"this", "that", "it", "these", "those", "so", "because", "otherwise", "hence",
                            "therefore", "thus", "which", "reason", "since", "why"})

# --- word salad --------------------------------------------------------------
# Neighbour pairs English does not write (see _broken_pair): a determiner is followed by a
# noun phrase, almost never by another function word ("the of", "a because") or by the end
# of the sentence; shuffled words break such rules every few dozen words, careful prose
# about never.
_DETERMINERS = frozenset({"the", "a", "an", "its", "our", "their", "your", "my"})
_AFTER_DETERMINER_OK = frozenset({"more", "most", "less", "least", "very", "only", "other", "all", "same"})
# A sentence's first word, when it is a function word ("The", "We", "At"), lands in the
# middle of the sentence when the words are shuffled, still capitalised; careful prose
# only capitalises a function word at a sentence start.
SALAD_MIN_BAD = 3          # over a whole answer: at least this many broken pairs ...
SALAD_SHARE = 0.012        # ... in at least this share of its words (prose: under 0.5%; shuffled: 1-10%),
SHORT_SENTENCE = 10       # words: in a sentence this short one broken pair is enough
SALAD_SENTENCES = ((2, 0.3), (3, 0.15))  # or (at least N, this share) of its sentences disordered
_TITLE_WORD = re.compile(r"(?<=\s)([A-Z][a-z]+)\b")


def canonical(text: str) -> str:
    """Lower-case ASCII text with the spellings above made uniform."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    for pattern, repl in _CANONICAL_RE:
        text = pattern.sub(repl, text)
    return text


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """Snowball's English (Porter2) stem of a canonical word; numbers stay as they are."""
    return _STEMMER.stemWord(word) if word.isalpha() else word


def words(text: str) -> list[str]:
    return _WORD.findall(canonical(text))


def phrase_stems(phrase: str) -> tuple[str, ...]:
    """The stems of a rubric phrase that must appear, in order: its words minus function
    words (negations kept), without repeats."""
    seen: dict[str, None] = {}
    for w in words(phrase):
        if w not in FUNCTION_WORDS or w in NEGATIONS:
            seen.setdefault(stem(w), None)
    return tuple(seen)


@dataclass(frozen=True)
class Sentence:
    text: str                     # as the user wrote it, for showing evidence
    tokens: tuple[str, ...]       # canonical words
    stems: tuple[str, ...]        # one per token
    negated: frozenset[int]       # token positions under a negation
    is_prose: bool
    gives_reason: frozenset[int]  # positions of reason words and numbers
    continues: bool               # starts by referring to the sentence before

    def reason_outside(self, positions: frozenset[int]) -> bool:
        """A reason or a number somewhere other than in the matched words themselves."""
        return bool(self.gives_reason - positions)


def is_clause(tokens: list[str] | tuple[str, ...]) -> bool:
    function_words = sum(t in FUNCTION_WORDS for t in tokens)
    return len(tokens) >= PROSE_MIN_WORDS and function_words >= PROSE_MIN_FUNCTION_WORDS


def is_list(text: str) -> bool:
    """LIST_MIN_ITEMS or more comma-separated items (outside parentheses), mostly not
    clauses, none joined by 'and'/'or' as an enumeration in prose is, and not introduced
    by a clause and a colon. An enumeration
    whose items mostly carry figures ("noise at 0-20 dB SNR, speed perturbation 0.9-1.1,
    ...") is a terse expert's sentence, not a list of buzzwords."""
    lead, colon, _ = text.partition(":")
    if colon and is_clause(words(lead)):
        return False  # "What works is velocity and novelty: ..." introduces its items
    items = [words(item) for item in _PARENTHESES.sub("", text).split(",")]
    items = [item for item in items if item]
    if len(items) < LIST_MIN_ITEMS or any(item[0] in _CONJUNCTIONS for item in items[1:]):
        return False
    with_figures = sum(any(any(c.isdigit() for c in t) for t in item) for item in items)
    return 2 * (sum(is_clause(item) for item in items) + with_figures) < len(items)


_SUBJECTS = frozenset({"we", "i", "they", "he", "she"})
_PREPOSITIONS = frozenset({"of", "to", "for", "by", "on", "in", "at", "with", "without", "within", "from", "into",
                           "onto", "per", "about", "between", "through", "under", "over"})
_MODALS = frozenset({"is", "are", "was", "were", "can", "could", "will", "would", "should", "must", "may", "might",
                     "shall"})


def _broken_pair(word: str, following: str | None) -> bool:
    """Two neighbours English does not put side by side: a determiner before another
    function word or at the end ("the of", "a because"), a function word twice ("and
    and"), two conjunctions ("and or"), a subject pronoun after a preposition ("of we"),
    a subject pronoun before a determiner or preposition ("we the", "they of"), two modal
    or auxiliary verbs ("is would")."""
    if word in _DETERMINERS:
        return following is None or (following in FUNCTION_WORDS and following not in _AFTER_DETERMINER_OK)
    if following is None:
        return False
    if word == following and word in FUNCTION_WORDS:
        return True                                      # "and and", "the the"
    if word in ("and", "or", "than"):
        return following in ("and", "or", "but", "than")
    if word in _PREPOSITIONS:
        return following in _SUBJECTS
    if word in _SUBJECTS:
        return following in _DETERMINERS or following in _PREPOSITIONS
    return word in _MODALS and following in _MODALS


def broken_pairs(text: str) -> tuple[int, int]:
    """(neighbour pairs English does not allow, see _broken_pair; words). Hyphenated
    compounds count as one word, so "the in-batch negatives" is fine."""
    raw = [w for w in _WORD_OR_PUNCTUATION.findall(canonical(text)) if w.strip("-")]
    bad = 0
    for i, word in enumerate(raw):
        following = raw[i + 1] if i + 1 < len(raw) else None
        if following is not None and not following[0].isalnum():   # across a comma or bracket
            bad += word in _DETERMINERS
        else:
            bad += _broken_pair(word, following)
    return bad, sum(w[0].isalnum() for w in raw)


def tokens_and_commas(text: str) -> tuple[tuple[str, ...], frozenset[int]]:
    """Canonical words, and the positions of the words a comma precedes."""
    tokens: list[str] = []
    commas: set[int] = set()
    for item in _WORD_OR_COMMA.findall(canonical(text)):
        if item == ",":
            commas.add(len(tokens))
        else:
            tokens.append(item)
    return tuple(tokens), frozenset(commas)


# Words that do not end an English sentence ("... of the.", "... because and."): the end of
# a shuffled sentence is a random word, the end of prose almost never one of these.
_NEVER_FINAL = frozenset({"the", "a", "an", "and", "or", "but", "because", "if", "than", "into", "onto", "per",
                          "our", "their", "its", "my", "your", "we", "i", "they", "can", "will", "would", "should",
                          "must", "while", "whereas"})


def ends_on_a_function_word(text: str) -> bool:
    tokens = _WORD.findall(canonical(text))
    return bool(tokens) and tokens[-1] in _NEVER_FINAL


def capitalised_function_word_inside(text: str) -> bool:
    """A capitalised function word after the first word ("decision the At time")."""
    return any(match.lower() in FUNCTION_WORDS for match in _TITLE_WORD.findall(text.strip()))


def negated_positions(tokens: tuple[str, ...], commas: frozenset[int] = frozenset()) -> frozenset[int]:
    """Token positions a negation covers (see the cue and scope rules above)."""
    n = len(tokens)
    for i in range(n):
        for denial in _BLANKET_DENIALS:
            if tokens[i:i + len(denial)] == denial:
                return frozenset(range(i, n))
    negated: set[int] = set()
    i = 0
    while i < n:
        two = tuple(tokens[i:i + 2])
        if tokens[i] in _LOCAL_CUES or two in _TWO_WORD_CUES:
            start = i + (2 if two in _TWO_WORD_CUES else 1)
            j = start
            while j < n and (j == start or (tokens[j] not in _SCOPE_BREAKS and j not in commas)):
                negated.add(j)
                j += 1
            i = j
        else:
            i += 1
    return frozenset(negated)


def _reason_positions(tokens: tuple[str, ...]) -> frozenset[int]:
    return frozenset(i for i, t in enumerate(tokens)
                     if stem(t) in REASON_WORDS or t in NUMBER_WORDS or any(c.isdigit() for c in t))


def unwrap(answer: str) -> str:
    """Join hard-wrapped lines back into their sentence: a line continues the one
    before when that one is long (WRAPPED_LINE_CHARS or more), does not end a
    sentence, and the line is not a new bullet."""
    lines: list[str] = []
    for line in answer.splitlines():
        previous = lines[-1].rstrip() if lines else ""
        if (len(previous) >= WRAPPED_LINE_CHARS and previous[-1] not in ".!?:;"
                and line.strip() and not _BULLET.match(line)):
            lines[-1] = previous + " " + line.strip()
        else:
            lines.append(line)
    return "\n".join(lines)


def sentences(answer: str) -> list[Sentence]:
    """Split an answer into sentences (sentence ends, semicolons, lines, bullets, spaced
    dashes) and read each. An answer disordered as often as shuffled text (SALAD_*) is
    word salad: none of its sentences counts as prose."""
    pieces = [raw.strip(" \t-*•>#") for raw in _SENTENCE_END.split(unwrap(answer or ""))]
    pieces = [p for p in pieces if _WORD.search(canonical(p))]
    counts = [broken_pairs(p) for p in pieces]
    disordered = [bad >= 2 or (bad == 1 and words_in <= SHORT_SENTENCE) or capitalised_function_word_inside(p)
                  or ends_on_a_function_word(p) for p, (bad, words_in) in zip(pieces, counts)]
    bad, total = sum(c[0] for c in counts), sum(c[1] for c in counts)
    salad = ((bad >= SALAD_MIN_BAD and bad >= SALAD_SHARE * total)
             or any(sum(disordered) >= n and sum(disordered) >= share * len(pieces) for n, share in SALAD_SENTENCES))
    result = []
    for piece, sentence_salad in zip(pieces, disordered):
        tokens, commas = tokens_and_commas(piece)
        reasons = _reason_positions(tokens)
        # Terse expert prose ("Features: 80-bin log-mel, 25/10 ms, 16 kHz.") has few function
        # words but carries figures or reasons; a keyword dump carries neither.
        telegraphic = sum(len(t) > 1 and t.isalpha() for t in tokens) >= PROSE_MIN_WORDS and bool(reasons)
        prose = (is_clause(tokens) or telegraphic) and not is_list(piece) and not salad and not sentence_salad
        negated = (frozenset(range(len(tokens))) if _DENIAL_BEFORE_COLON.match(canonical(piece))
                   else negated_positions(tokens, commas))
        result.append(Sentence(piece, tokens, tuple(stem(t) for t in tokens), negated, prose,
                               reasons, bool(tokens) and tokens[0] in _CONTINUATIONS))
    return result
