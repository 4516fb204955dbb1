"""Themes: what customers complain about, named, each keeping its identity from fit to fit.

A theme is a direction in the TF-IDF space of a brand's messages: its terms (words and
pairs of words) with their weights, a readable label made from its members' own words,
and an id it keeps across fits.

Fit (``fit``): the messages of a window (a brand's negative inbound messages; all inbound
as a setting) are cleaned as for sentiment (``textclean.clean``: handles, URLs, masks and
the brand names removed) and cut into terms by ``metrics.issues.phrases`` (words and
pairs of neighbouring words within a clause; stop words, greetings, venting, words of time
and numbers dropped). TF-IDF of up to ``SAMPLE`` messages (binary term frequency, smoothed
idf, rows of unit length; a term in at least ``MIN_DF`` messages and at most half of
them), then NMF with ``n_themes`` components (nndsvda start, ``random_state`` 0: the
same messages give the same themes). Components alike (``merged``: average cosine >=
``MERGE_SIMILARITY``: one reason written several ways) are summed; each, scaled to unit
length, is a theme.

Assign (``assign``): a message holding a phrase of a pinned theme (params/themes.yaml)
belongs to the first such theme; else to the discovered theme whose term vector is most
similar to its TF-IDF row (cosine), when that similarity is at least ``min_similarity``;
else to ``OTHER``, shown as "other". Merges and splits of the analysts' taxonomy apply
after that. A report only assigns; it never fits.

Identity (``match``): the themes of a new fit are paired with the previous fit's by
Hungarian matching on the cosine of their term vectors; a pair at least
``MATCH_SIMILARITY`` alike keeps the previous id and first-seen day, and its label while
the label still fits its members (``KEEP_LABEL``), the others
get new ids, first seen on this fit's last day (so "new" means new since the last fit);
the themes of a brand's first fit are first seen on its window's first day.

Label (``label_candidates``): among the two- to four-word runs of the members' cleaned
text that start and end on a word saying something (not a ``STOP_WORDS`` word nor a
number) and hold one of the theme's top words, the one with the highest
members x precision (members holding it x the share of all messages holding it that are
members): frequent in the theme and rare outside it. Never a single word.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cxpulse import textclean
from cxpulse.metrics.issues import STOP_WORDS, phrases

VERSION = 1
OTHER = "other"
"""Theme id (and label) of the messages that fit no theme."""
SAMPLE = 20_000
"""Most messages a fit reads (a seeded random sample of the window's messages)."""
MIN_DF = 3
MIN_MEMBERS = 0.01
"""A discovered theme with fewer members (share of the fit's messages) is dropped."""
MIN_SIMILARITY = 0.1
MATCH_SIMILARITY = 0.3
MERGE_SIMILARITY = 0.3
MAX_SHARE = 0.25
"""A discovered theme holding more of the messages is split (``discover``)."""
SPLIT_THEMES = 5
TOP_TERMS = 200
"""Terms kept of each theme's vector (the rest weigh next to nothing)."""
PHRASES_SHOWN = 8
KEEP_LABEL = 10
"""A theme carried on from the previous fit keeps its label while the label is still
among this many of its best candidates (``_label``)."""
SEED = 0

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
_CLAUSE = re.compile(r"[.,!?;:()\[\]\"…]+|\s[-–—]+\s")
_NUMBER = re.compile(r"\d+(?:st|nd|rd|th|am|pm|k|p)?")


@dataclass(frozen=True)
class Theme:
    """One theme: id, label, its top terms (``phrases``), its term vector, first seen."""

    id: str
    label: str
    phrases: tuple[str, ...]
    terms: dict[str, float] = field(default_factory=dict, repr=False)
    first_seen: str = ""
    """ISO day: the last day of the window of the fit that found it (of a brand's first
    fit: the first day of its window)."""
    pinned: bool = False


@dataclass(frozen=True)
class ThemeModel:
    """A fit: the vocabulary (term -> idf), the discovered themes, and how it was made."""

    brand: str
    scope: str
    first_day: str
    last_day: str
    messages: int
    vocabulary: dict[str, float]
    themes: tuple[Theme, ...]
    next_id: int
    min_similarity: float = MIN_SIMILARITY
    other_share: float = 0.0

    @property
    def days(self) -> int:
        return (pd.Timestamp(self.last_day) - pd.Timestamp(self.first_day)).days + 1

    def to_dict(self) -> dict:
        """Plain JSON values (``from_dict`` reads them back)."""
        return {
            "version": VERSION,
            "brand": self.brand,
            "scope": self.scope,
            "first_day": self.first_day,
            "last_day": self.last_day,
            "messages": self.messages,
            "min_similarity": self.min_similarity,
            "other_share": self.other_share,
            "next_id": self.next_id,
            "themes": [
                {
                    "id": t.id,
                    "label": t.label,
                    "phrases": list(t.phrases),
                    "first_seen": t.first_seen,
                    "terms": {k: round(v, 6) for k, v in t.terms.items()},
                }
                for t in self.themes
            ],
            "vocabulary": {k: round(v, 6) for k, v in self.vocabulary.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> ThemeModel:
        themes = tuple(
            Theme(
                id=t["id"],
                label=t["label"],
                phrases=tuple(t["phrases"]),
                terms=dict(t["terms"]),
                first_seen=t["first_seen"],
            )
            for t in data["themes"]
        )
        return cls(
            brand=data["brand"],
            scope=data["scope"],
            first_day=data["first_day"],
            last_day=data["last_day"],
            messages=int(data["messages"]),
            vocabulary=dict(data["vocabulary"]),
            themes=themes,
            next_id=int(data["next_id"]),
            min_similarity=float(data["min_similarity"]),
            other_share=float(data.get("other_share", 0.0)),
        )


@dataclass(frozen=True)
class PinnedTheme:
    """An analyst's theme: a name and the phrases whose messages belong to it."""

    name: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    """params/themes.yaml as the assignment reads it (see ``config.ThemesParams``)."""

    pinned: tuple[PinnedTheme, ...] = ()
    names: dict[str, str] = field(default_factory=dict)
    merge: dict[str, str] = field(default_factory=dict)
    split: dict[str, tuple[PinnedTheme, ...]] = field(default_factory=dict)


NO_TAXONOMY = Taxonomy()


def slug(name: str) -> str:
    """``name`` in lower case, runs of other characters as one ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def pinned_id(name: str) -> str:
    return f"pin-{slug(name)}"


def cleaned(texts: Iterable[str], names: Sequence[str] = ()) -> list[str]:
    """Each text as themes read it: ``textclean.clean`` (``names`` removed), lower case,
    typographic apostrophes straightened."""
    pattern = textclean.names_pattern(tuple(names))
    return [textclean.clean(t, pattern).lower().replace("\u2019", "'") for t in texts]


def terms_of(text: str) -> list[str]:
    """The terms of one cleaned text (``metrics.issues.phrases``), sorted."""
    return sorted(phrases(text))


def _counts(texts: Sequence[str], vocabulary: dict[str, int]) -> sp.csr_matrix:
    """Binary document-term matrix of ``texts`` over ``vocabulary`` (term -> column)."""
    rows, cols = [], []
    for i, text in enumerate(texts):
        for term in terms_of(text):
            j = vocabulary.get(term)
            if j is not None:
                rows.append(i)
                cols.append(j)
    data = np.ones(len(rows))
    return sp.csr_matrix((data, (rows, cols)), shape=(len(texts), len(vocabulary)))


def _unit_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.diags(1.0 / norms) @ m


def tfidf(texts: Sequence[str], vocabulary: dict[str, float]) -> sp.csr_matrix:
    """Unit-length TF-IDF rows of cleaned ``texts`` over ``vocabulary`` (term -> idf)."""
    columns = {term: j for j, term in enumerate(vocabulary)}
    idf = np.fromiter(vocabulary.values(), float, len(vocabulary))
    return _unit_rows(_counts(texts, columns) @ sp.diags(idf))


def build_vocabulary(texts: Sequence[str], min_df: int = MIN_DF) -> dict[str, float]:
    """Term -> smoothed idf, ln((1 + n) / (1 + df)) + 1, of the terms of ``texts`` in at
    least ``min_df`` texts and at most half of them, sorted by term."""
    df: Counter[str] = Counter()
    for text in texts:
        df.update(terms_of(text))
    n = len(texts)
    kept = sorted(t for t, d in df.items() if d >= min_df and d <= max(n // 2, min_df))
    return {t: float(np.log((1 + n) / (1 + df[t])) + 1) for t in kept}


def _theme_matrix(themes: Sequence[Theme], vocabulary: dict[str, float]) -> np.ndarray:
    """Themes x vocabulary, each row its unit term vector."""
    columns = {term: j for j, term in enumerate(vocabulary)}
    m = np.zeros((len(themes), len(vocabulary)))
    for i, theme in enumerate(themes):
        for term, weight in theme.terms.items():
            j = columns.get(term)
            if j is not None:
                m[i, j] = weight
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1.0, norms)


def similarities(texts: Sequence[str], model: ThemeModel) -> np.ndarray:
    """Cosine of each cleaned text's TF-IDF row with each theme of ``model`` (texts x themes)."""
    x = tfidf(texts, model.vocabulary)
    return np.asarray(x @ _theme_matrix(model.themes, model.vocabulary).T)


def nearest(sims: np.ndarray, minimum: float) -> tuple[np.ndarray, np.ndarray]:
    """(index of the most similar theme or -1 below ``minimum``, that similarity) per row."""
    if sims.shape[1] == 0:
        return np.full(len(sims), -1), np.zeros(len(sims))
    best = sims.argmax(axis=1)
    top = sims[np.arange(len(sims)), best]
    return np.where(top >= minimum, best, -1), top


def _phrase_pattern(phrases_: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(r"\s+".join(map(re.escape, p.lower().split())) for p in phrases_)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def pinned_members(texts: Sequence[str], pinned: Sequence[PinnedTheme]) -> np.ndarray:
    """Index into ``pinned`` of the first pinned theme whose phrase each cleaned text holds
    (whole words, any case), or -1."""
    out = np.full(len(texts), -1)
    for k, theme in reversed(list(enumerate(pinned))):
        pattern = _phrase_pattern(theme.phrases)
        hits = np.fromiter((bool(pattern.search(t)) for t in texts), bool, len(texts))
        out[hits] = k
    return out


def _words(clause: str) -> list[str]:
    return [w.removesuffix("'s") for w in _WORD.findall(clause)]


def _says_something(word: str) -> bool:
    return len(word) > 1 and word not in STOP_WORDS and not _NUMBER.fullmatch(word)


def runs(text: str) -> set[str]:
    """The label candidates of one cleaned text: runs of 2-4 words within a clause that
    start and end on a word saying something (``_says_something``)."""
    found = set()
    for clause in _CLAUSE.split(text):
        words = _words(clause)
        for i, first in enumerate(words):
            if not _says_something(first):
                continue
            for j in range(i + 1, min(i + 4, len(words))):
                if _says_something(words[j]):
                    found.add(" ".join(words[i : j + 1]))
    return found


def label_candidates(
    members: Sequence[str], everyone: Counter[str], weights: dict[str, float]
) -> list[str]:
    """Runs (``runs``) of the ``members``' cleaned texts, best first: members holding it
    x members holding it / all messages holding it (``everyone``: run -> messages) x the
    mean weight of its words saying something (``weights``: word -> weight in the
    theme, the top word 1), then longer, then alphabetical; runs without a weighed word
    are left out."""
    inside: Counter[str] = Counter()
    for text in members:
        inside.update(runs(text))
    scored = []
    for run, n in inside.items():
        words = [w for w in run.split() if _says_something(w)]
        fit = sum(weights.get(w, 0.0) for w in words) / len(words)
        if n >= 2 and fit > 0:
            scored.append((n * n / everyone[run] * fit, len(run.split()), run))
    scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
    return [run for _, _, run in scored]


def top_terms(theme: Theme, count: int = PHRASES_SHOWN) -> tuple[str, ...]:
    return tuple(sorted(theme.terms, key=lambda t: (-theme.terms[t], t))[:count])


def _label(members: Sequence[str], everyone: Counter[str], theme: Theme, taken: set[str]) -> str:
    """The theme's label kept when it is still among its ``KEEP_LABEL`` best candidates,
    else the best candidate not ``taken``; without one, its two top words."""
    words = [t for t in top_terms(theme, 20) if " " not in t][:5]
    top = max((theme.terms[w] for w in words), default=1.0)
    weights = {w: theme.terms[w] / top for w in words}
    candidates = [c for c in label_candidates(members, everyone, weights) if c not in taken]
    if theme.label and theme.label in candidates[:KEEP_LABEL]:
        return theme.label
    if candidates:
        return candidates[0]
    pairs = [t for t in top_terms(theme, 20) if " " in t and t not in taken]
    return pairs[0] if pairs else " / ".join(words[:2]) or theme.id


def merged(components: np.ndarray, threshold: float) -> np.ndarray:
    """``components`` (rows) with the groups of alike rows summed: average-linkage
    clustering on the cosine of the rows, joining while two groups are at least
    ``threshold`` alike on average (NMF splits one reason written several ways)."""
    unit = components / np.maximum(np.linalg.norm(components, axis=1, keepdims=True), 1e-12)
    cosine = unit @ unit.T
    groups = [[i] for i in range(len(unit))]
    while len(groups) > 1:
        best, pair = threshold, None
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                link = cosine[np.ix_(groups[a], groups[b])].mean()
                if link >= best:
                    best, pair = link, (a, b)
        if pair is None:
            break
        a, b = pair
        groups[a] = groups[a] + groups.pop(b)
    return np.vstack([unit[g].sum(axis=0) for g in groups])


def _sizes(x: sp.csr_matrix, vectors, vocabulary, minimum: float) -> tuple[np.ndarray, np.ndarray]:
    """(theme index or -1 of each row of ``x``, members of each theme)."""
    matrix = _theme_matrix([Theme(str(i), "", (), v) for i, v in enumerate(vectors)], vocabulary)
    best, _ = nearest(np.asarray(x @ matrix.T), minimum)
    return best, np.bincount(best[best >= 0], minlength=len(vectors))


def discover(
    texts: Sequence[str], n_themes: int, min_similarity: float = MIN_SIMILARITY, split: bool = True
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """(vocabulary, term vectors of the themes) of cleaned ``texts``: TF-IDF and NMF as
    in the module docstring; themes with fewer than ``MIN_MEMBERS`` of the texts
    assigned (cosine >= ``min_similarity``) are dropped. With ``split``, a theme holding
    more than ``MAX_SHARE`` of the texts (a catch-all of the words every message uses) is
    replaced by the themes discovered among its own members, when they are two or more."""
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning

    vocabulary = build_vocabulary(texts)
    k = min(n_themes, len(vocabulary), max(len(texts) // 20, 1))
    if not vocabulary or k < 1:
        return vocabulary, []
    x = tfidf(texts, vocabulary)
    nmf = NMF(n_components=k, init="nndsvda", random_state=SEED, max_iter=500)
    with warnings.catch_warnings():
        # a few hundred long reviews may stop at max_iter: the components are usable
        # and the same every time, so the warning would only be noise in every fit
        warnings.simplefilter("ignore", ConvergenceWarning)
        nmf.fit(x)
    terms = list(vocabulary)
    vectors = []
    for row in merged(nmf.components_, MERGE_SIMILARITY):
        top = np.argsort(-row, kind="stable")[:TOP_TERMS]
        top = top[row[top] > 0]
        norm = np.linalg.norm(row[top]) or 1.0
        vectors.append({terms[j]: float(row[j] / norm) for j in top})
    best, sizes = _sizes(x, vectors, vocabulary, min_similarity)
    if split:
        for i in np.flatnonzero(sizes > MAX_SHARE * len(texts))[::-1]:
            members = [t for t, b in zip(texts, best, strict=True) if b == i]
            _, parts = discover(members, SPLIT_THEMES, min_similarity, split=False)
            if len(parts) >= 2:
                vectors[i : i + 1] = [
                    {t: w for t, w in p.items() if t in vocabulary} for p in parts
                ]
    while vectors:
        _, sizes = _sizes(x, vectors, vocabulary, min_similarity)
        smallest = int(sizes.argmin())
        if sizes[smallest] >= max(MIN_MEMBERS * len(texts), 2):
            break
        vectors.pop(smallest)
    return vocabulary, vectors


def match(
    previous: Sequence[Theme], vectors: Sequence[dict[str, float]], threshold: float
) -> dict[int, Theme]:
    """New theme index -> the previous theme it continues: Hungarian matching on the
    cosine of the term vectors, pairs at least ``threshold`` alike."""
    from scipy.optimize import linear_sum_assignment

    if not previous or not vectors:
        return {}
    union = {t: 0.0 for v in [*vectors, *(p.terms for p in previous)] for t in v}
    new = _theme_matrix([Theme("", "", (), v) for v in vectors], union)
    old = _theme_matrix(list(previous), union)
    cosine = new @ old.T
    rows, cols = linear_sum_assignment(-cosine)
    pairs = zip(rows, cols, strict=True)
    return {int(i): previous[j] for i, j in pairs if cosine[i, j] >= threshold}


def fit(
    texts: Sequence[str],
    brand: str,
    first_day: str,
    last_day: str,
    n_themes: int = 12,
    scope: str = "negative",
    previous: ThemeModel | None = None,
    pinned: Sequence[PinnedTheme] = (),
    min_similarity: float = MIN_SIMILARITY,
) -> ThemeModel:
    """Themes of the cleaned ``texts`` (``cleaned``) of ``brand``'s window
    [``first_day``, ``last_day``] (ISO days), matched to ``previous`` (``match``);
    the messages of ``pinned`` themes are left out (they are the analysts')."""
    texts = list(texts)
    messages = len(texts)
    if len(texts) > SAMPLE:
        pick = np.random.default_rng(SEED).choice(len(texts), SAMPLE, replace=False)
        texts = [texts[i] for i in sorted(pick)]
    free = [t for t, p in zip(texts, pinned_members(texts, pinned), strict=True) if p < 0]
    vocabulary, vectors = discover(free, n_themes, min_similarity)
    continued = match(previous.themes if previous else (), vectors, MATCH_SIMILARITY)
    next_id = previous.next_id if previous else 1
    themes: list[Theme] = []
    for i, vector in enumerate(vectors):
        before = continued.get(i)
        if before is None:
            theme = Theme(f"T{next_id}", "", (), vector, last_day if previous else first_day)
            next_id += 1
        else:
            theme = replace(before, terms=vector)
        themes.append(replace(theme, phrases=top_terms(theme)))
    model = ThemeModel(
        brand, scope, first_day, last_day, messages, vocabulary, tuple(themes), next_id,
        min_similarity,
    )  # fmt: skip
    best, _ = nearest(similarities(free, model), min_similarity)
    everyone: Counter[str] = Counter()
    for text in free:
        everyone.update(runs(text))
    taken: set[str] = set()
    labelled = []
    for i, theme in enumerate(themes):
        members = [t for t, b in zip(free, best, strict=True) if b == i]
        theme = replace(theme, label=_label(members, everyone, theme, taken))
        taken.add(theme.label)
        labelled.append(theme)
    other = float((best < 0).mean()) if len(best) else 0.0
    return replace(model, themes=tuple(labelled), other_share=other)


@dataclass(frozen=True)
class Assignment:
    """Each text's theme: ``theme_id`` and ``label`` per text, and ``similarity`` (cosine
    with its discovered theme; 1 for a pinned phrase, NaN for other)."""

    theme_id: list[str]
    label: list[str]
    similarity: np.ndarray

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"theme_id": self.theme_id, "label": self.label, "similarity": self.similarity}
        )


def labels(model: ThemeModel | None, taxonomy: Taxonomy) -> dict[str, str]:
    """Theme id -> label, after the taxonomy (pinned, names, merges, splits), ``OTHER`` last."""
    out = {pinned_id(p.name): p.name for p in taxonomy.pinned}
    for theme in model.themes if model else ():
        if theme.id in taxonomy.merge:
            continue
        out[theme.id] = taxonomy.names.get(theme.id, theme.label)
        for part in taxonomy.split.get(theme.id, ()):
            out[f"{theme.id}-{slug(part.name)}"] = part.name
    out[OTHER] = OTHER
    return out


def assign(
    texts: Sequence[str], model: ThemeModel | None, taxonomy: Taxonomy = NO_TAXONOMY
) -> Assignment:
    """The theme of each cleaned text (``cleaned``): pinned phrase first, else the most
    similar discovered theme at ``model.min_similarity`` or more, else ``OTHER``; then a
    merged theme's texts go to the theme it merges into and a split theme's texts holding
    a part's phrase to that part."""
    texts = list(texts)
    names = labels(model, taxonomy)
    ids = np.full(len(texts), OTHER, dtype=object)
    sims = np.full(len(texts), np.nan)
    if model is not None and model.themes:
        best, top = nearest(similarities(texts, model), model.min_similarity)
        found = best >= 0
        ids[found] = np.array([t.id for t in model.themes], dtype=object)[best[found]]
        sims[found] = top[found]
    for source, target in taxonomy.merge.items():
        ids[ids == source] = target
    for parent, parts in taxonomy.split.items():
        inside = np.flatnonzero(ids == parent)
        which = pinned_members([texts[i] for i in inside], parts)
        for k, part in enumerate(parts):
            ids[inside[which == k]] = f"{parent}-{slug(part.name)}"
    pin = pinned_members(texts, taxonomy.pinned)
    for k, part in enumerate(taxonomy.pinned):
        ids[pin == k] = pinned_id(part.name)
        sims[pin == k] = 1.0
    return Assignment(list(ids), [names.get(i, i) for i in ids], sims)
