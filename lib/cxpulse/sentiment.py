"""Sentiment engines, scored once at ingest and cached by engine, version and text.

Engines come in kinds and are looked up by name in ``ENGINES`` (``register`` adds one):
``care-lr``, the model trained for care text (``sentiment_model``; the default), and
``vader``. Every engine reads text cleaned by ``textclean`` and gives per text the class
probabilities (p_negative, p_neutral, p_positive), summing to 1, and ``sentiment``, a score
in [-1, 1]: p_positive - p_negative for a model; VADER's compound score for VADER, whose
probabilities are the one-hot of its label (positive >= 0.05, negative <= -0.05).

The warehouse records which engine and version scored its rows (``warehouse.scored_by``):
ingest refuses rows from another engine, and ``cxpulse sentiment rescore`` moves every row
to a new one, so a report never mixes two engines' figures.

``compound`` computes the score vaderSentiment 3.3.2 gives (``polarity_scores(text)
["compound"]``), step for step and in the same floating-point order, but about twice as
fast: each word is lower-cased once, not once per rule that looks at it, and texts
without an emoji skip the character-by-character emoji pass. ``tests/test_sentiment.py``
checks the two agree on real and generated texts.
"""

from __future__ import annotations

import ctypes
import functools
import json
import multiprocessing
import os
import signal
import string
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from vaderSentiment import vaderSentiment as vader

from cxpulse import sentiment_model, textclean, warehouse

POSITIVE = 0.05
NEGATIVE = -0.05
_PARALLEL_FROM = 20_000
_CHUNK = 5_000
_PR_SET_PDEATHSIG = 1
"""prctl option (linux/prctl.h): the signal a process gets when its parent dies."""
DEFAULT_ENGINE = sentiment_model.NAME
SCORE_COLUMNS: tuple[str, ...] = ("sentiment", "p_negative", "p_neutral", "p_positive")

_analyzer: vader.SentimentIntensityAnalyzer | None = None
_emoji: frozenset[str] = frozenset()
_NEGATE = frozenset(vader.NEGATE)
_BOOSTERS = vader.BOOSTER_DICT
_SPECIAL = vader.SPECIAL_CASES
_PUNCTUATION = string.punctuation


def analyzer() -> vader.SentimentIntensityAnalyzer:
    """The process's VADER analyzer (its lexicons load once, in about 0.1 s)."""
    global _analyzer, _emoji
    if _analyzer is None:
        _analyzer = vader.SentimentIntensityAnalyzer()
        # polarity_scores replaces emojis character by character: only one-character keys
        # can ever match.
        _emoji = frozenset(k for k in _analyzer.emojis if len(k) == 1)
    return _analyzer


def _negated(word: str) -> bool:
    """``vader.negated([word])`` for one (lower-case) word."""
    word = word.lower()
    return word in _NEGATE or "n't" in word


def _negation_check(valence: float, lower: list[str], start_i: int, i: int) -> float:
    """``SentimentIntensityAnalyzer._negation_check`` over the lower-cased words."""
    if start_i == 0 and _negated(lower[i - 1]):
        valence = valence * vader.N_SCALAR
    if start_i == 1:
        if lower[i - 2] == "never" and (lower[i - 1] == "so" or lower[i - 1] == "this"):
            valence = valence * 1.25
        elif lower[i - 2] == "without" and lower[i - 1] == "doubt":
            pass
        elif _negated(lower[i - 2]):
            valence = valence * vader.N_SCALAR
    if start_i == 2:
        if (
            lower[i - 3] == "never"
            and (lower[i - 2] == "so" or lower[i - 2] == "this")
            or (lower[i - 1] == "so" or lower[i - 1] == "this")
        ):
            valence = valence * 1.25
        elif lower[i - 3] == "without" and (lower[i - 2] == "doubt" or lower[i - 1] == "doubt"):
            pass
        elif _negated(lower[i - 3]):
            valence = valence * vader.N_SCALAR
    return valence


def _special_idioms_check(valence: float, lower: list[str], i: int) -> float:
    """``SentimentIntensityAnalyzer._special_idioms_check`` over the lower-cased words."""
    onezero = f"{lower[i - 1]} {lower[i]}"
    twoonezero = f"{lower[i - 2]} {lower[i - 1]} {lower[i]}"
    twoone = f"{lower[i - 2]} {lower[i - 1]}"
    threetwoone = f"{lower[i - 3]} {lower[i - 2]} {lower[i - 1]}"
    threetwo = f"{lower[i - 3]} {lower[i - 2]}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in _SPECIAL:
            valence = _SPECIAL[seq]
            break
    if len(lower) - 1 > i:
        zeroone = f"{lower[i]} {lower[i + 1]}"
        if zeroone in _SPECIAL:
            valence = _SPECIAL[zeroone]
    if len(lower) - 1 > i + 1:
        zeroonetwo = f"{lower[i]} {lower[i + 1]} {lower[i + 2]}"
        if zeroonetwo in _SPECIAL:
            valence = _SPECIAL[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in _BOOSTERS:
            valence = valence + _BOOSTERS[n_gram]
    return valence


def _without_emoji(a: vader.SentimentIntensityAnalyzer, text: str) -> str:
    """``polarity_scores``' emoji pass: each emoji replaced by its description."""
    out = ""
    prev_space = True
    for char in text:
        if char in a.emojis:
            if not prev_space:
                out += " "
            out += a.emojis[char]
            prev_space = False
        else:
            out += char
            prev_space = char == " "
    return out


def compound(text: str) -> float:
    """VADER's compound score of ``text``, as ``polarity_scores(text)["compound"]``."""
    a = analyzer()
    if not _emoji.isdisjoint(text):
        text = _without_emoji(a, text)
    text = text.strip()
    words = []
    for token in text.split():
        stripped = token.strip(_PUNCTUATION)
        words.append(token if len(stripped) <= 2 else stripped)
    lower = [w.lower() for w in words]
    lexicon = a.lexicon
    is_cap_diff = vader.allcap_differential(words)
    last = len(words) - 1
    sentiments: list[float] = []
    for i, item in enumerate(words):
        low = lower[i]
        if low in _BOOSTERS or (i < last and low == "kind" and lower[i + 1] == "of"):
            sentiments.append(0)
            continue
        valence = 0
        if low in lexicon:
            valence = lexicon[low]
            if low == "no" and i != last and lower[i + 1] in lexicon:
                valence = 0.0
            if (
                (i > 0 and lower[i - 1] == "no")
                or (i > 1 and lower[i - 2] == "no")
                or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in ("or", "nor"))
            ):
                valence = lexicon[low] * vader.N_SCALAR
            if item.isupper() and is_cap_diff:
                if valence > 0:
                    valence += vader.C_INCR
                else:
                    valence -= vader.C_INCR
            for start_i in range(0, 3):
                if i > start_i and lower[i - (start_i + 1)] not in lexicon:
                    s = vader.scalar_inc_dec(words[i - (start_i + 1)], valence, is_cap_diff)
                    if start_i == 1 and s != 0:
                        s = s * 0.95
                    if start_i == 2 and s != 0:
                        s = s * 0.9
                    valence = valence + s
                    valence = _negation_check(valence, lower, start_i, i)
                    if start_i == 2:
                        valence = _special_idioms_check(valence, lower, i)
            if i > 1 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
                if lower[i - 2] != "at" and lower[i - 2] != "very":
                    valence = valence * vader.N_SCALAR
            elif i > 0 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
                valence = valence * vader.N_SCALAR
        sentiments.append(valence)
    if "but" in lower:
        sentiments = a._but_check(words, sentiments)
    if not sentiments:
        return round(0.0, 4)
    sum_s = float(sum(sentiments))
    punct_emph_amplifier = a._amplify_ep(text) + a._amplify_qm(text)
    if sum_s > 0:
        sum_s += punct_emph_amplifier
    elif sum_s < 0:
        sum_s -= punct_emph_amplifier
    return round(vader.normalize(sum_s), 4)


_POOLS: dict[int, ProcessPoolExecutor] = {}
"""The ``_worker_pool``s started, by their number of processes."""


def _worker_pool(workers: int) -> ProcessPoolExecutor:
    """Processes that score in parallel and never outlive us, started once per process
    until ``stop_workers`` (each pays about 0.7 s of imports). Spawned, not forked: a
    forked worker inherits our open files, and with them the flocks on the warehouse and
    delivery locks. (A fork server's workers are its children, not ours, and it lives as
    long as they do: nothing would end them.)"""
    if workers not in _POOLS:
        _POOLS[workers] = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_die_with_parent,
            initargs=(os.getpid(),),
        )
    return _POOLS[workers]


def stop_workers() -> None:
    """End the scoring processes started, if any (the next scoring starts them again): a
    caller that will not score for a while gives their memory back (some 200 MB each)."""
    while _POOLS:
        _POOLS.popitem()[1].shutdown()


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this worker when ``parent``, the process that started it,
    dies; exit at once when it died before we asked."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        os._exit(1)


def label(compound: float) -> str:
    """'positive', 'negative' or 'neutral' by the VADER thresholds."""
    if compound >= POSITIVE:
        return "positive"
    if compound <= NEGATIVE:
        return "negative"
    return "neutral"


def vader_scores(texts: Sequence[str]) -> np.ndarray:
    """(compound, one-hot of its label) of each text: ``SCORE_COLUMNS`` per row."""
    out = np.zeros((len(texts), 4))
    for i, text in enumerate(texts):
        score = compound(text)
        out[i, 0] = score
        out[i, 1 if score <= NEGATIVE else 3 if score >= POSITIVE else 2] = 1.0
    return out


@dataclass(frozen=True)
class Engine:
    """A sentiment engine: ``score`` maps cleaned texts to rows of ``SCORE_COLUMNS``;
    ``info`` is the JSON shipped beside it (training data, held-out figures, calibration)."""

    name: str
    version: str
    score: Callable[[list[str]], np.ndarray]
    info_path: Path

    @property
    def label(self) -> str:
        """Name and version, as the metric contract lines print them."""
        return f"{self.name} {self.version}"


ENGINES: dict[str, Callable[[], Engine]] = {}
"""Engine name -> a function building it (called once per process, on first use)."""


def register(name: str) -> Callable[[Callable[[], Engine]], Callable[[], Engine]]:
    """Decorator: make an engine factory available under ``name``."""

    def add(factory: Callable[[], Engine]) -> Callable[[], Engine]:
        ENGINES[name] = factory
        return factory

    return add


class EngineError(ValueError):
    """An unknown engine, or rows scored by an engine other than the warehouse's."""


@functools.cache
def get_engine(name: str | None = None) -> Engine:
    """The engine called ``name`` (default ``DEFAULT_ENGINE``), built once per process."""
    name = name or DEFAULT_ENGINE
    if name not in ENGINES:
        raise EngineError(f"unknown sentiment engine {name!r}; expected one of {sorted(ENGINES)}")
    return ENGINES[name]()


def vader_version() -> str:
    """vaderSentiment's version and the cleaning rule's, e.g. ``3.3.2+c1``."""
    return f"{metadata.version('vaderSentiment')}+{textclean.CLEAN_VERSION}"


@register("vader")
def _vader() -> Engine:
    version = vader_version()
    info = sentiment_model.model_dir() / f"vader-{version}.json"
    return Engine("vader", version, vader_scores, info)


@register(sentiment_model.NAME)
def _care_lr() -> Engine:
    model = sentiment_model.load()
    if model.info.get("clean") != textclean.CLEAN_VERSION:
        raise EngineError(
            f"{sentiment_model.NAME} {sentiment_model.VERSION} was trained on text cleaned by "
            f"rule {model.info.get('clean')}, not {textclean.CLEAN_VERSION}; run "
            "'make sentiment-model'"
        )

    def score(texts: list[str]) -> np.ndarray:
        p = model.probabilities(texts)
        return np.column_stack([p[:, 2] - p[:, 0], p])

    _, info = sentiment_model.model_paths()
    return Engine(sentiment_model.NAME, sentiment_model.VERSION, score, info)


def engine_label(engine: str | None = None) -> str:
    """Name and version of an engine (default: the default engine), e.g. ``care-lr 2026.12``."""
    return get_engine(engine).label


def calibration(engine: str | None = None) -> dict:
    """The engine's calibration on held-out labelled texts (SENTIMENT-CONTRACT.md), as
    shipped beside it by ``make sentiment-model``."""
    found = get_engine(engine)
    if not found.info_path.is_file():
        raise FileNotFoundError(
            f"{found.info_path}: no calibration for {found.label}; run 'make sentiment-model'"
        )
    return json.loads(found.info_path.read_text())["calibration"]


def _score_chunk(engine: str, names: tuple[str, ...], texts: Sequence[str]) -> np.ndarray:
    """``SCORE_COLUMNS`` of each text, cleaned first (brand ``names`` removed)."""
    return get_engine(engine).score(textclean.clean_all(texts, textclean.names_pattern(names)))


def _pool_map(
    work: Callable[[Sequence[str]], np.ndarray], chunks: Iterable[Sequence[str]], workers: int
) -> Iterator[np.ndarray]:
    """``map(work, chunks)`` in ``workers`` processes (``_worker_pool``), results in order."""
    yield from _worker_pool(workers).map(work, chunks)


def score_texts(
    texts: Sequence[str],
    engine: str | None = None,
    names: tuple[str, ...] = (),
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Rows of ``SCORE_COLUMNS`` for each text, in order; parallel across cores for big
    lists. ``names`` (our brand, competitors) are removed before scoring."""
    engine = get_engine(engine).name  # fails here, not in a worker, for an unknown name
    chunks = [texts[i : i + _CHUNK] for i in range(0, len(texts), _CHUNK)]
    workers = workers or os.cpu_count() or 1
    work = functools.partial(_score_chunk, engine, tuple(names))
    if len(texts) < _PARALLEL_FROM or workers == 1:
        results = map(work, chunks)
    else:
        results = _pool_map(work, chunks, workers)
    parts = [np.zeros((0, 4))]
    for part in results:
        parts.append(part)
        if progress:
            progress(len(part))
    return np.concatenate(parts)


def attach_sentiment(
    con: duckdb.DuckDBPyConnection,
    rows: pd.DataFrame,
    engine: str | None = None,
    names: tuple[str, ...] = (),
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, int]:
    """Return ``rows`` with ``SCORE_COLUMNS`` filled from the cache, scoring texts not yet
    seen by this engine and version.

    Rows without text keep null scores. New scores are added to ``sentiment_cache``
    (inside the caller's transaction). Returns the frame and how many texts were scored.
    """
    found = get_engine(engine)
    key = [found.name, found.version]
    texts = pd.DataFrame({"text": rows["text"].to_numpy(), "pos": range(len(rows))})
    with warehouse.registered(con, "texts", texts):
        missing = con.execute(
            # an anti join, not NOT IN: DuckDB may build its hash table on the few texts
            # of this call rather than on the whole cache
            "SELECT DISTINCT t.text FROM texts t ANTI JOIN "
            "(SELECT text_md5 FROM sentiment_cache WHERE engine = ? AND version = ?) c "
            "ON c.text_md5 = md5(t.text) WHERE t.text IS NOT NULL AND t.text <> ''",
            key,
        ).df()["text"]
        if len(missing):
            scores = score_texts(list(missing), found.name, names, progress=progress)
            new = pd.DataFrame(scores, columns=list(SCORE_COLUMNS))
            new.insert(0, "text", missing.to_numpy())
            with warehouse.registered(con, "new_scores", new):
                con.execute(
                    "INSERT INTO sentiment_cache SELECT ?, ?, md5(text), "
                    f"{', '.join(SCORE_COLUMNS)} FROM new_scores",
                    key,
                )
        scored = con.execute(
            f"SELECT {', '.join('c.' + c for c in SCORE_COLUMNS)} FROM texts t LEFT JOIN "
            "(SELECT * FROM sentiment_cache WHERE engine = ? AND version = ?) c "
            "ON c.text_md5 = md5(t.text) ORDER BY t.pos",
            key,
        ).df()
    out = rows.copy()
    for column in SCORE_COLUMNS:
        out[column] = pd.array(scored[column].to_numpy(), dtype="Float64")
    return out, len(missing)
