"""Train the care-text sentiment model from the labelled data in ../shared, and measure it.

``make sentiment-model`` (``python -m cxpulse.sentiment_train``) reads:

- SemEval-2017 task 4A tweets (``labeled/semeval-2017-task4a``; people's labels). The
  2016 test file (20,632 tweets) is held out; every other file trains.
- Trustpilot pet-insurance reviews (``real/trustpilot-pet-insurance``): 1-2 stars negative,
  3 neutral, 4-5 positive. One review in five (by a hash of its id) is held out; of the
  rest, five-star reviews are thinned to twice the negatives so they do not swamp them.
- TWCS care threads (``real/twcs-head5k``): a customer's tweet is labelled negative when
  the brand's reply apologises (sorry, apologise, unfortunately, frustrating, ...) and
  positive when it is glad to hear (glad you, happy to hear, great to hear, ...); weak labels,
  unlabelled otherwise. One thread in five is held out.

Text is cleaned by ``textclean.clean`` as at run time; rows are sorted by (source, id) so
that the same files give the same model. The method: hashed word 1-2 grams, TF-IDF,
multinomial logistic regression (``sentiment_model``): linear models on n-grams are the
strong baseline on tweet polarity (SemEval 2013-2017), train in seconds, are deterministic,
and score 20,000+ texts a second; the regularisation C and the class weights are chosen
on a validation tenth of the training rows (never on held-out rows), then the model is
refitted on all training rows.

It prints, and writes beside the model (``care-lr-<version>.json``, and
``vader-<version>.json`` for VADER): accuracy, macro-F1 and confusion on the held-out rows
of each source, for the model, VADER on raw text and VADER on cleaned text; agreement with
Trustpilot stars; share negative per brand on TWCS; and each engine's ``calibration`` (the
contract dict: mean posteriors, confusion, train priors, net-sentiment error of PACC on
resampled held-out groups).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cxpulse import sentiment, sentiment_eval, sentiment_model, textclean
from cxpulse.quantify import CLASSES, pacc

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
SEED = 2026
GRID = tuple((c, w) for c in (0.5, 1.0, 2.0, 4.0) for w in (None, "balanced"))
"""(C, class weights) tried on the validation tenth."""
HELD_OUT_SEMEVAL = "twitter-2016test-A.txt"
MIN_CLASS_TEXTS = 30
"""A held-out source counts for a class (calibration) with at least this many texts of it."""
APOLOGY = re.compile(
    r"\b(?:sorry|apolog\w*|unfortunately|frustrat\w*|inconvenience|not the experience|"
    r"not what we want|hear about th)",
    re.IGNORECASE,
)
GLAD = re.compile(
    r"\b(?:glad (?:to hear|to see|you|it|that|we)|happy to hear|great to hear|good to hear|"
    r"love to hear|thrilled|"
    r"thanks for the (?:love|kind|shout)|appreciate the kind|you're welcome)",
    re.IGNORECASE,
)
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def bucket(key: str, buckets: int = 5) -> int:
    """A stable bucket of ``key`` (the first 8 hex digits of its MD5, modulo ``buckets``)."""
    return int(hashlib.md5(key.encode("utf-8")).hexdigest()[:8], 16) % buckets


def read_semeval(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """(rows id, label, text of one SemEval file, lines skipped as ``file:line: why``).

    Tab-separated id, label, text; trailing columns ignored; ``\\uXXXX`` escapes decoded;
    a text written in CSV quotes ("...""...") unquoted.
    """
    rows, skipped = [], []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) < 3 or parts[1] not in CLASSES:
                skipped.append(f"{path.name}:{number}: not id<TAB>label<TAB>text")
                continue
            text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), parts[2])
            if len(text) > 1 and text[0] == text[-1] == '"':
                text = text[1:-1].replace('""', '"')
            rows.append((parts[0], parts[1], text))
    return pd.DataFrame(rows, columns=["id", "label", "text"]), skipped


def semeval(folder: Path) -> tuple[pd.DataFrame, list[str]]:
    """Every SemEval tweet once (first file in name order wins a repeated id), with
    ``split`` heldout for the 2016 test file (and any id it holds), else train."""
    frames, skipped = [], []
    for path in sorted(folder.glob("*.txt")):
        frame, bad = read_semeval(path)
        frame["split"] = "heldout" if path.name == HELD_OUT_SEMEVAL else "train"
        frames.append(frame)
        skipped += bad
    rows = pd.concat(frames, ignore_index=True)
    held = set(rows.loc[rows["split"] == "heldout", "id"])
    rows = rows[(rows["split"] == "heldout") | ~rows["id"].isin(held)]
    rows = rows.drop_duplicates("id").assign(source="semeval", group="semeval")
    return rows, skipped


def star_label(stars: pd.Series) -> pd.Series:
    """1-2 stars negative, 3 neutral, 4-5 positive."""
    return stars.map({1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"})


def trustpilot(folder: Path) -> pd.DataFrame:
    """Reviews labelled by stars; one in five held out; training five-stars thinned."""
    frames = []
    for path in sorted(folder.glob("*_reviews.csv")):
        frame = pd.read_csv(path, usecols=["id", "text", "rating"], dtype={"id": str})
        frame["group"] = path.name.removesuffix("_reviews.csv")
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True).dropna(subset=["text", "rating"])
    rows["label"] = star_label(rows["rating"].astype(int))
    rows["split"] = np.where(rows["id"].map(bucket) == 0, "heldout", "train")
    rows["source"] = "trustpilot"
    train = rows["split"] == "train"
    cap = 2 * int((train & (rows["label"] == "negative")).sum())
    five = rows[train & (rows["rating"] == 5)]
    keep = five.assign(h=five["id"].map(lambda i: hashlib.md5(i.encode()).hexdigest()))
    dropped = keep.sort_values("h").index[cap:]
    return rows.drop(index=dropped)


def twcs_inbound(folder: Path) -> pd.DataFrame:
    """Inbound customer tweets a brand answered: id, text, group (the brand's account) and
    a weak label from the brand's first reply: negative when it apologises, positive when
    it is glad to hear, empty otherwise. (A "DM us" alone says nothing: brands ask for a
    DM to answer questions too.)"""
    tweets = pd.read_csv(folder / "twcs.csv", index_col=0, lineterminator="\n")
    tweets["tweet_id"] = tweets["tweet_id"].astype(str)
    replies = tweets[~tweets["inbound"]].dropna(subset=["in_response_to_tweet_id"])
    replies = replies.assign(parent=replies["in_response_to_tweet_id"].astype("int64").astype(str))
    first = replies.sort_values("tweet_id").drop_duplicates("parent").set_index("parent")
    inbound = tweets[tweets["inbound"] & tweets["tweet_id"].isin(first.index)].copy()
    reply = pd.Series(first.loc[inbound["tweet_id"], "text"].to_numpy()).fillna("")
    inbound["group"] = first.loc[inbound["tweet_id"], "author_id"].to_numpy()
    sorry = reply.str.contains(APOLOGY).to_numpy()
    glad = reply.str.contains(GLAD).to_numpy()
    inbound["label"] = np.select([sorry & ~glad, glad & ~sorry], ["negative", "positive"], "")
    inbound["text"] = inbound["text"].fillna("").astype(str)
    return inbound.rename(columns={"tweet_id": "id"})[["id", "label", "text", "group"]]


def twcs(folder: Path) -> pd.DataFrame:
    """The weakly labelled inbound tweets; one thread in five held out."""
    inbound = twcs_inbound(folder)
    inbound = inbound[inbound["label"] != ""].copy()
    inbound["split"] = np.where(inbound["id"].map(bucket) == 0, "heldout", "train")
    inbound["source"] = "twcs"
    return inbound[["id", "label", "text", "split", "source", "group"]]


def load_data(shared: Path) -> tuple[pd.DataFrame, list[str]]:
    """All labelled rows (id, label, text, clean, y, split, source, group), sorted."""
    rows, skipped = semeval(shared / "labeled" / "semeval-2017-task4a")
    rows = pd.concat(
        [
            rows,
            trustpilot(shared / "real" / "trustpilot-pet-insurance"),
            twcs(shared / "real" / "twcs-head5k"),
        ],
        ignore_index=True,
    )[["id", "label", "text", "split", "source", "group"]]
    rows = rows.sort_values(["source", "id"], kind="stable", ignore_index=True)
    rows["clean"] = textclean.clean_all(rows["text"].astype(str))
    rows["y"] = sentiment_eval.label_index(rows["label"].tolist())
    return rows, skipped


def fit(features, y: np.ndarray, c: float, class_weight: str | None):
    """A multinomial logistic regression (lbfgs, deterministic)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight=class_weight, max_iter=3000).fit(features, y)


@dataclass(frozen=True)
class Trained:
    model: sentiment_model.Model
    validation: list[dict]


def train(
    texts: list[str], y: np.ndarray, ids: list[str], info: dict, grid: tuple = GRID
) -> Trained:
    """Tune C and class weights over ``grid`` on a validation tenth (by id hash), refit on
    everything."""
    counts = sentiment_model.counts(texts)
    val = np.array([bucket(i, 10) == 0 for i in ids])
    idf = sentiment_model.fit_idf(counts[~val])
    features = sentiment_model.weigh(counts, idf)
    scores = []
    for c, weight in grid:
        found = fit(features[~val], y[~val], c, weight)
        matrix = sentiment_eval.confusion(y[val], found.predict(features[val]))
        scores.append({"C": c, "class_weight": weight, "macro_f1": sentiment_eval.macro_f1(matrix)})
    best = max(scores, key=lambda s: (round(s["macro_f1"], 6), -s["C"]))
    idf = sentiment_model.fit_idf(counts)
    final = fit(sentiment_model.weigh(counts, idf), y, best["C"], best["class_weight"])
    model = sentiment_model.Model(
        idf=idf,
        weights=final.coef_.T.astype(np.float32),
        bias=final.intercept_.astype(np.float64),
        info={**info, "tuned": {"C": best["C"], "class_weight": best["class_weight"]}},
    )
    return Trained(model, scores)


def figures(truth: np.ndarray, probabilities: np.ndarray) -> dict:
    """Accuracy, macro-F1 and confusion of argmax labels against ``truth``."""
    matrix = sentiment_eval.confusion(truth, probabilities.argmax(axis=1))
    return {
        "n": int(len(truth)),
        "accuracy": round(sentiment_eval.accuracy(matrix), 4),
        "macro_f1": round(sentiment_eval.macro_f1(matrix), 4),
        "confusion": matrix.tolist(),
    }


def calibration(
    truth: np.ndarray,
    probabilities: np.ndarray,
    sources: np.ndarray,
    train_priors: np.ndarray,
    seed: int,
) -> dict:
    """The contract's calibration dict, measured on all held-out rows (mostly tweets: M fits
    tweets best). ``net_error``: M from one half of the rows; resampled groups from the
    other half, each group from one source (a brand's messages are one kind of text), for
    every source holding ``MIN_CLASS_TEXTS`` of each class: it shows what one M costs on
    another kind of text (reviews) too."""
    rng = np.random.default_rng(seed)
    half = rng.permutation(len(truth)) % 2 == 0
    m_half = sentiment_eval.mean_posteriors(truth[half], probabilities[half])
    errors = []
    for source in sorted(set(sources.tolist())):
        rows = ~half & (sources == source)
        if all((truth[rows] == i).sum() >= MIN_CLASS_TEXTS for i in range(3)):
            errors += sentiment_eval.net_errors(truth[rows], probabilities[rows], m_half, rng)
    if not errors:  # no source holds every class (a small run): groups from all of them
        errors = sentiment_eval.net_errors(truth[~half], probabilities[~half], m_half, rng)
    matrix = sentiment_eval.mean_posteriors(truth, probabilities)
    return {
        "classes": list(CLASSES),
        "mean_posteriors": np.round(matrix, 5).tolist(),
        "confusion": sentiment_eval.confusion(truth, probabilities.argmax(axis=1)).tolist(),
        "train_priors": np.round(train_priors, 5).tolist(),
        "n_heldout": int(len(truth)),
        "net_error": sentiment_eval.error_summary(errors),
    }


def vader_probabilities(texts: list[str]) -> np.ndarray:
    """VADER's one-hot class probabilities of each text as given."""
    return sentiment.vader_scores(texts)[:, 1:]


def evaluate(rows: pd.DataFrame, engines: dict[str, np.ndarray]) -> dict:
    """Held-out figures per engine: all held-out rows, and per source."""
    out = {}
    held = rows["split"] == "heldout"
    for name, probabilities in engines.items():
        per = {"all": figures(rows.loc[held, "y"].to_numpy(), probabilities[held.to_numpy()])}
        for source in sorted(rows["source"].unique()):
            mask = (held & (rows["source"] == source)).to_numpy()
            per[source] = figures(rows["y"].to_numpy()[mask], probabilities[mask])
        out[name] = per
    return out


def twcs_by_brand(
    inbound: pd.DataFrame, model: sentiment_model.Model, matrix: np.ndarray, top: int = 8
) -> list[dict]:
    """Share negative of the inbound TWCS tweets each brand answered (its ``top`` brands
    by tweets): as the model labels them, PACC-corrected with ``matrix``, as VADER labels
    the raw and the cleaned text, and the share of weak labels that are negative. (Four
    in five weakly labelled tweets trained the model: descriptive, not held out.)"""
    clean = textclean.clean_all(inbound["text"])
    p_model = model.probabilities(clean)
    p_raw = vader_probabilities(inbound["text"].tolist())
    p_clean = vader_probabilities(clean)
    out = []
    for brand in inbound["group"].value_counts().head(top).index:
        mask = (inbound["group"] == brand).to_numpy()
        weak = inbound.loc[mask, "label"]
        weak = weak[weak != ""]
        out.append(
            {
                "brand": brand,
                "n": int(mask.sum()),
                "care-lr": round(float((p_model[mask].argmax(axis=1) == 0).mean()), 3),
                "care-lr PACC": round(float(pacc(p_model[mask].mean(axis=0), matrix).shares[0]), 3),
                "vader-raw": round(float((p_raw[mask].argmax(axis=1) == 0).mean()), 3),
                "vader-cleaned": round(float((p_clean[mask].argmax(axis=1) == 0).mean()), 3),
                "weak labels": round(float((weak == "negative").mean()), 3),
            }
        )
    return out


def print_report(report: dict, stream=sys.stdout) -> None:
    """The held-out figures as plain text."""
    w = stream.write
    w("Held-out evaluation (accuracy / macro-F1; n):\n")
    for engine, per in report["heldout"].items():
        cells = ", ".join(
            f"{source} {f['accuracy']:.3f} / {f['macro_f1']:.3f} (n={f['n']:,})"
            for source, f in per.items()
        )
        w(f"  {engine:13s} {cells}\n")
    for engine, per in report["heldout"].items():
        w(f"Confusion, all held-out, {engine} (rows human neg/neu/pos, columns engine):\n")
        for row in per["all"]["confusion"]:
            w("    " + " ".join(f"{v:7d}" for v in row) + "\n")
    w("Trustpilot held-out agreement with stars (share whose label matches 1-2/3/4-5):\n")
    for engine, per in report["heldout"].items():
        w(f"  {engine:13s} {per['trustpilot']['accuracy']:.3f}\n")
    w("TWCS share negative per brand (inbound tweets the brand answered):\n")
    for entry in report["twcs_share_negative"]:
        cells = ", ".join(f"{k} {v:.2f}" for k, v in entry.items() if k not in ("brand", "n"))
        w(f"  {entry['brand']:16s} n={entry['n']:4d}  {cells}\n")
    for engine, cal in report["calibration"].items():
        err = cal["net_error"]
        w(
            f"PACC net-sentiment error on held-out groups, {engine}: mean {err['mean_abs']} "
            f"points, p90 {err['p90_abs']}\n"
        )


def build(shared: Path, out_dir: Path, limit: int | None = None, grid: tuple = GRID) -> dict:
    """Train, evaluate and write the model and both engines' JSON; return the report.
    ``limit``: at most this many rows per source and split (tests)."""
    started = time.perf_counter()
    rows, skipped = load_data(shared)
    if limit is not None:
        rows = rows.groupby(["source", "split"], group_keys=False).head(limit)
        rows = rows.reset_index(drop=True)
    train_rows = rows[rows["split"] == "train"]
    priors = np.bincount(train_rows["y"], minlength=3) / len(train_rows)
    info = {
        "engine": sentiment_model.NAME,
        "version": sentiment_model.VERSION,
        "clean": textclean.CLEAN_VERSION,
        "features": {
            "hashing": "pandas hash_array (SipHash-2-4) modulo n_features",
            "n_features": sentiment_model.N_FEATURES,
            "ngram_range": list(sentiment_model.NGRAMS),
            "token_pattern": sentiment_model.TOKEN_PATTERN,
            "tf": "1 + ln(count)",
            "idf": "ln((1 + n) / (1 + df)) + 1",
        },
        "training": {
            "rows": int(len(train_rows)),
            "per_source": train_rows["source"].value_counts().sort_index().to_dict(),
            "seed": SEED,
            "skipped_lines": skipped,
        },
    }
    trained = train(
        train_rows["clean"].tolist(),
        train_rows["y"].to_numpy(),
        train_rows["id"].astype(str).tolist(),
        info,
        grid,
    )
    model = trained.model
    engines = {
        "care-lr": model.probabilities(rows["clean"].tolist()),
        "vader-raw": vader_probabilities(rows["text"].astype(str).tolist()),
        "vader-cleaned": vader_probabilities(rows["clean"].tolist()),
    }
    held = (rows["split"] == "heldout").to_numpy()
    truth = rows["y"].to_numpy()[held]
    sources = rows["source"].to_numpy()[held]
    cal = {
        "care-lr": calibration(truth, engines["care-lr"][held], sources, priors, SEED),
        # VADER was fitted on no data of ours: its "train" priors are the held-out shares.
        "vader": calibration(
            truth,
            engines["vader-cleaned"][held],
            sources,
            np.bincount(truth, minlength=3) / len(truth),
            SEED,
        ),
    }
    report = {
        "heldout": evaluate(rows, engines),
        "twcs_share_negative": twcs_by_brand(
            twcs_inbound(shared / "real" / "twcs-head5k"),
            model,
            np.asarray(cal["care-lr"]["mean_posteriors"]),
        ),
        "calibration": cal,
        "validation": trained.validation,
    }
    model.info.update(
        heldout=report["heldout"],
        twcs_share_negative=report["twcs_share_negative"],
        validation=trained.validation,
        calibration=cal["care-lr"],
    )
    sentiment_model.save(model, out_dir / f"{sentiment_model.NAME}-{sentiment_model.VERSION}.npz")
    vader_info = {
        "engine": "vader",
        "version": sentiment.vader_version(),
        "clean": textclean.CLEAN_VERSION,
        "heldout": {k: v for k, v in report["heldout"].items() if k.startswith("vader")},
        "calibration": cal["vader"],
    }
    vader_path = out_dir / f"vader-{sentiment.vader_version()}.json"
    vader_path.write_text(json.dumps(vader_info, indent=1) + "\n")
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cxpulse.sentiment_train",
        description="Train the care-lr sentiment model from ../shared/data, print its "
        "held-out evaluation against VADER and write both into the package.",
    )
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder")
    parser.add_argument(
        "--out", type=Path, default=sentiment_model.model_dir(), help="where the model goes"
    )
    parser.add_argument("--limit", type=int, help="at most this many rows per source and split")
    args = parser.parse_args(argv)
    if not (args.shared / "labeled" / "semeval-2017-task4a").is_dir():
        parser.error(f"{args.shared}: no labeled/semeval-2017-task4a here (give --shared)")
    report = build(args.shared, args.out, args.limit)
    print_report(report)
    print(f"written to {args.out} in {report['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
