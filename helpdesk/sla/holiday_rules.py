"""What the ``holidays`` package says about closed days and half days, cached per year.

Why a module of its own: building a ``holidays`` entity is slow (the first one loads
translations, tens of milliseconds), so every lookup goes through a per-year cache, and
the calendar arithmetic never touches the package directly.

What ``holidays`` 0.108 offers for Sweden (``SE``), so that calendars can name it:

* ``public`` – the allmänna helgdagar (Långfredagen, Annandag påsk, Midsommardagen, …).
* ``de_facto`` – Midsommarafton, Julafton and Nyårsafton: not public holidays, but treated
  as Sundays by the Annual Leave Act (SFS 1977:480, 7 §), so offices are closed. No rule of
  our own is needed for them.
* ``bank`` – the de facto eves plus the days banks close early, named
  "… (från kl. 14.00)": Trettondagsafton, Skärtorsdagen, Valborgsmässoafton, the days before
  Kristi himmelsfärdsdag, Pingstafton, Midsommarafton, Julafton and Nyårsafton, and
  Allahelgonsafton.
* ``optional`` – Påskafton, Pingstafton, Klämdag and four of the "från kl. 14.00" days.

Sweden has no ``half_day`` category; half days are recognised by the country's
``begin_time_label`` ("%s (från kl. 14.00)") in the names of any category asked for, and
every day of a ``half_day`` category counts for countries that have one.

Names are always taken in the country's own default language (Swedish for ``SE``): without
an explicit language the package follows the process locale, and the reasons shown to
people must not depend on how the server was started.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from types import MappingProxyType

import holidays
from holidays.constants import HALF_DAY

_SEPARATOR = "; "  # how ``holidays`` joins two names that fall on the same date


def check(country: str, categories: tuple[str, ...]) -> None:
    """Fail early, with a readable message, on a country or category the package lacks."""
    try:
        holidays.country_holidays(country, categories=categories or None)
    except (NotImplementedError, ValueError) as exc:
        raise ValueError(f"holidays: {exc}") from exc


@lru_cache(maxsize=64)
def _language(country: str) -> str | None:
    language: str | None = holidays.country_holidays(country).default_language
    return language


@lru_cache(maxsize=1024)
def _entity(country: str, category: str, year: int) -> Mapping[date, str]:
    entity = holidays.country_holidays(
        country, years=year, categories=(category,), language=_language(country)
    )
    return MappingProxyType(dict(entity))


@lru_cache(maxsize=1024)
def holiday_names(country: str, categories: tuple[str, ...], year: int) -> Mapping[date, str]:
    """Closed days of ``year`` in ``categories``, date -> name (names joined by "; ")."""
    names: dict[date, list[str]] = {}
    for category in categories:
        for day, name in _entity(country, category, year).items():
            for part in name.split(_SEPARATOR):
                if part not in names.setdefault(day, []):
                    names[day].append(part)
    return MappingProxyType({day: _SEPARATOR.join(parts) for day, parts in names.items()})


@lru_cache(maxsize=1024)
def half_day_names(country: str, categories: tuple[str, ...], year: int) -> Mapping[date, str]:
    """Half days of ``year`` found in ``categories``, date -> the package's name for it."""
    label = getattr(holidays.country_holidays(country), "begin_time_label", None)
    prefix, suffix = label.split("%s", 1) if label and "%s" in label else (None, None)
    found: dict[date, str] = {}
    for category in categories:
        for day, name in _entity(country, category, year).items():
            parts = name.split(_SEPARATOR)
            marked = (
                prefix is not None
                and suffix is not None
                and any(part.startswith(prefix) and part.endswith(suffix) for part in parts)
            )
            if category == HALF_DAY or marked:
                found[day] = name
    return MappingProxyType(found)
