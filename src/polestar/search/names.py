"""Name keys for search: normalised spelling, a phonetic code and nickname groups.

Phonetic code: NYSIIS. Soundex keeps only the first letter and three consonant
classes, so at a million people one code holds thousands of surnames (S530:
Smith, Smythe, Sheehan, Sanchez...); Metaphone's single key splits common British
variants (Stephenson/Stevenson agree, but it maps "Th" and "Gh" in ways that part
Thompson/Tomson). NYSIIS is built for surnames, folds the variants police
records hold (Davies/Davis, Stephens/Stevens, Reid/Reed/Read, Mac/Mc), and is
selective enough to block on. Typos that change the code are caught by the
other blocking rules (given-name group with the date of birth, see ``people``).

Nickname groups are package data (``nicknames.txt``): a name may belong to more
than one group (Chris: Christopher, Christine, Christian).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

import jellyfish

_NOT_LETTERS = re.compile(r"[^a-z]")


def normalise(name: str | None) -> str:
    """Lower case ASCII letters only: ``O'Neill`` -> ``oneill``, ``Zoë`` -> ``zoe``."""
    if not name:
        return ""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _NOT_LETTERS.sub("", folded.lower())


def first_token(name: str | None) -> str:
    """The first word of a name field (``"John Paul"`` -> ``"John"``); empty if none."""
    if not name:
        return ""
    parts = name.split()
    return parts[0] if parts else ""


@cache
def phonetic(name: str) -> str:
    """The NYSIIS code of a normalised name (empty for an empty name)."""
    return jellyfish.nysiis(name) if name else ""


@cache
def _groups() -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    groups: dict[str, set[str]] = {}
    primary: dict[str, str] = {}
    text = resources.files("polestar.search").joinpath("nicknames.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        words = [normalise(w) for w in line.split("#", 1)[0].split()]
        words = [w for w in words if w]
        if not words:
            continue
        head = words[0]
        for word in words:
            groups.setdefault(word, set()).add(head)
            primary.setdefault(word, head)
    return {name: frozenset(heads) for name, heads in groups.items()}, primary


def name_groups(name: str) -> frozenset[str]:
    """The formal names whose group holds normalised ``name`` (itself alone if it has none)."""
    return _groups()[0].get(name, frozenset({name}) if name else frozenset())


def canonical(name: str) -> str:
    """The formal name a normalised given name is filed under (``bob`` -> ``robert``)."""
    return _groups()[1].get(name, name)


def same_group(a: str, b: str) -> bool:
    """True if two normalised given names are nicknames or variants of one name."""
    return bool(a and b and name_groups(a) & name_groups(b))


def group_count() -> int:
    """How many nickname groups the package data holds."""
    return len(set(_groups()[1].values()))
