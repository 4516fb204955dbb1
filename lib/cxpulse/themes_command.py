"""The edge of themes: fits kept beside the warehouse, ``cxpulse themes fit | assign``.

Fits are JSON files (``themes.ThemeModel.to_dict``) in ``<warehouse>.themes/<brand>/``,
one per scope and window: ``negative-2026-11-19-90d.json``. ``cxpulse themes fit`` reads
the window's messages, matches the new themes to the brand's latest earlier fit (so ids
carry on) and writes the file; a report loads the latest fit of its window's end
(``load_fit``) and only assigns.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pandas as pd

from cxpulse import config, periods, themes
from cxpulse.config import ParamsError


def fits_dir(warehouse: Path) -> Path:
    """Where the fits of ``warehouse`` live: ``data/warehouse.themes`` beside
    ``data/warehouse.duckdb``."""
    return Path(warehouse).with_suffix(".themes")


def fit_path(warehouse: Path, model: themes.ThemeModel) -> Path:
    name = f"{model.scope}-{model.last_day}-{model.days}d.json"
    return fits_dir(warehouse) / themes.slug(model.brand) / name


def save_fit(warehouse: Path, model: themes.ThemeModel) -> Path:
    """Write ``model`` (atomically: a reader never sees half a file); its path."""
    path = fit_path(warehouse, model)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(model.to_dict(), indent=1), encoding="utf-8")
    partial.replace(path)
    return path


def list_fits(warehouse: Path, brand: str, scope: str) -> list[Path]:
    """The brand's fit files of ``scope``, oldest window end first."""
    folder = fits_dir(warehouse) / themes.slug(brand)
    return sorted(folder.glob(f"{scope}-*.json")) if folder.is_dir() else []


def _last_day(path: Path) -> str:
    return path.stem.split("-", 1)[1].rsplit("-", 1)[0]


def load_fit(
    warehouse: Path, brand: str, scope: str, last_day: dt.date | None = None, before: bool = False
) -> themes.ThemeModel | None:
    """The brand's fit of ``scope`` with the latest window end on or before ``last_day``
    (strictly before with ``before``), else its earliest; None when it has none."""
    fits = list_fits(warehouse, brand, scope)
    if last_day is not None:
        day = last_day.isoformat()
        earlier = [p for p in fits if (_last_day(p) < day if before else _last_day(p) <= day)]
        fits = earlier or ([] if before else fits[:1])
    if not fits:
        return None
    return themes.ThemeModel.from_dict(json.loads(fits[-1].read_text(encoding="utf-8")))


def taxonomy_of(params: config.ThemesParams) -> themes.Taxonomy:
    def parts(items: list[config.ThemePhrases]) -> tuple[themes.PinnedTheme, ...]:
        return tuple(themes.PinnedTheme(p.name, tuple(p.phrases)) for p in items)

    return themes.Taxonomy(
        pinned=parts(params.pinned),
        names=dict(params.names),
        merge=dict(params.merge),
        split={k: parts(v) for k, v in params.split.items()},
    )


def check_taxonomy(
    taxonomy: themes.Taxonomy, model: themes.ThemeModel | None, params_dir: Path
) -> themes.Taxonomy:
    """``taxonomy`` when every theme id it names is one of ``model``'s, else
    ``ParamsError`` naming themes.yaml, the key and the ids there are."""
    known = [t.id for t in model.themes] if model else []
    path = Path(params_dir) / "themes.yaml"
    for section, keys in (
        ("names", taxonomy.names),
        ("merge", taxonomy.merge),
        ("split", taxonomy.split),
    ):
        for key in keys:
            if key not in known:
                raise ParamsError(
                    f"{path}: key '{section}.{key}': no theme {key} in the fit of "
                    f"{model.brand if model else 'this brand'}; its themes: "
                    f"{', '.join(known) or 'none (run cxpulse themes fit)'}"
                )
    for key, target in taxonomy.merge.items():
        if target not in known or target in taxonomy.merge:
            raise ParamsError(
                f"{path}: key 'merge.{key}': {target!r} is not a theme that stays; "
                f"expected one of {', '.join(k for k in known if k not in taxonomy.merge)}"
            )
    return taxonomy


def fit_command(
    warehouse: Path,
    params_dir: Path,
    brand: str | None = None,
    window_days: int | None = None,
    as_of: str | None = None,
) -> tuple[themes.ThemeModel, Path]:
    """Fit the themes of ``brand`` (default brand.yaml's) over the ``window_days`` (default
    themes.yaml's) ending on ``as_of`` (default the last full day of data), matched to its
    latest earlier fit; write it (``save_fit``). The fit and its path."""
    from cxpulse.metrics.command import choose_period, open_table
    from cxpulse.metrics.themes import scope_texts

    params_dir = Path(params_dir)
    brand_params = config.load_brand(params_dir)
    settings = config.load_themes(params_dir)
    brand = brand or brand_params.brand
    days = window_days or settings.window_days
    t = open_table(warehouse)
    tz = brand_params.timezone
    last = choose_period(t, tz, cadence="daily", as_of=as_of).last_day
    window = periods.span(last - dt.timedelta(days=days - 1), last, tz)
    texts = scope_texts(
        t, window.start, window.end, brand, settings.scope,
        brand_params.sentiment.negative_probability,
    )  # fmt: skip
    if texts.empty:
        raise ParamsError(
            f"no {settings.scope} inbound messages of {brand!r} from {window.first_day} to "
            f"{last}: nothing to fit (check --brand and --window)"
        )
    previous = load_fit(warehouse, brand, settings.scope, last, before=True)
    model = themes.fit(
        themes.cleaned(texts, (*config.brand_names(params_dir), brand)),
        brand,
        window.first_day.isoformat(),
        last.isoformat(),
        n_themes=settings.themes,
        scope=settings.scope,
        previous=previous,
        pinned=taxonomy_of(settings).pinned,
        min_similarity=settings.min_similarity,
    )
    return model, save_fit(warehouse, model)


def fit_text(model: themes.ThemeModel, path: Path) -> str:
    """What ``cxpulse themes fit`` prints: the window, each theme with its phrases."""
    lines = [
        f"{path}: {len(model.themes)} themes of {model.messages:,} {model.scope} messages of "
        f"{model.brand}, {model.first_day} to {model.last_day}; other "
        f"{model.other_share:.0%} of the fitted sample"
    ]
    for theme in model.themes:
        new = " (new)" if theme.first_seen == model.last_day else ""
        lines.append(f"  {theme.id:<5} {theme.label}{new}: {', '.join(theme.phrases[:5])}")
    return "\n".join(lines)


def assign_command(
    file: Path,
    text_column: str,
    params_dir: Path,
    brand: str | None = None,
    warehouse: Path | None = None,
) -> pd.DataFrame:
    """Each row of the CSV ``file`` with its theme_id and theme_label: the brand's fitted
    themes when ``warehouse`` is given (``load_fit``, the latest), else themes
    discovered in the file's own texts."""
    from cxpulse.sentiment_check import read_rows

    frame, _ = read_rows(Path(file), [text_column])
    params_dir = Path(params_dir)
    settings = config.load_themes(params_dir)
    has_brand = (params_dir / "brand.yaml").exists()
    brand = brand or (config.load_brand(params_dir).brand if has_brand else "")
    names = (*(config.brand_names(params_dir) if has_brand else ()), brand)
    texts = themes.cleaned(frame[text_column].fillna("").astype(str), names)
    taxonomy = taxonomy_of(settings)
    if warehouse is not None:
        model = load_fit(warehouse, brand, settings.scope)
        if model is None:
            raise ParamsError(
                f"{fits_dir(warehouse)}: no themes fitted for {brand!r}; run "
                f"'cxpulse themes fit --brand \"{brand}\" --warehouse {warehouse}' first"
            )
    else:
        model = themes.fit(
            texts, brand or "file", "", "", n_themes=settings.themes,
            pinned=taxonomy.pinned, min_similarity=settings.min_similarity,
        )  # fmt: skip
    check_taxonomy(taxonomy, model, params_dir)
    assigned = themes.assign(texts, model, taxonomy)
    return frame.assign(theme_id=assigned.theme_id, theme_label=assigned.label)
