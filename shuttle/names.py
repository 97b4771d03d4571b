"""English names of Seoul places: Revised Romanization with place-name suffixes.

:func:`english_name` turns a Korean place or bus stop name into the form used on Seoul signs:
the Hangul is romanized with the Revised Romanization of Korean (via ``korean-romanizer``, plus the
consonant assimilations the official system writes: 종로 Jongno, 신림 Sillim, 독립문 Dongnimmun,
왕십리 Wangsimni), and the common generic endings are translated or hyphenated:

=====================  ====================================
Korean ending          English
=====================  ====================================
…역                    … Station
…구청                  …-gu Office
…동주민센터            …-dong Community Service Center
…동 / …구 / …로 / …길  …-dong / …-gu / …-ro / …-gil
2가, 1동, 29길         2-ga, 1-dong, 29-gil (after a number)
…사거리, …삼거리       … Intersection
…입구                  … Entrance
…병원, …대학교, …시장  … Hospital, … University, … Market
…앞                    (dropped: "in front of")
=====================  ====================================

Bus stop names join several places with ``.`` or ``·``; they become `` / `` separated
("창경궁.서울대학교병원" -> "Changgyeonggung / Seoul University Hospital"). ASCII letters and digits
are kept as they are; every romanized word starts with a capital. The function is pure and
deterministic. It is a readable transcription, not the official English name of a place: anchors
that have an official English name give it in the scenario (``name_en``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from korean_romanizer.romanizer import Romanizer

__all__ = ["english_name", "romanize"]

_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+|[^\uac00-\ud7a3]+")
_SEPARATORS = re.compile(
    r"\s*[.·ㆍ・]\s*(?!\d)"
)  # "1.5" keeps its dot: a separator is not before a digit

# Endings translated as English words: (Korean ending, English, shortest stem in syllables).
_WORD_SUFFIXES: tuple[tuple[str, str, int], ...] = (
    ("동주민센터", "-dong Community Service Center", 1),
    ("주민센터", "Community Service Center", 0),
    ("초등학교", "Elementary School", 0),
    ("중학교", "Middle School", 0),
    ("고등학교", "High School", 0),
    ("대학교", "University", 1),
    ("대학병원", "University Hospital", 1),
    ("병원", "Hospital", 1),
    ("학교", "School", 1),
    ("구청", "-gu Office", 1),
    ("시청", "City Hall", 1),
    ("우체국", "Post Office", 0),
    ("경찰서", "Police Station", 1),
    ("소방서", "Fire Station", 1),
    ("도서관", "Library", 0),
    ("사거리", "Intersection", 1),
    ("삼거리", "Intersection", 1),
    ("오거리", "Intersection", 1),
    ("교차로", "Intersection", 1),
    ("입구", "Entrance", 1),
    ("시장", "Market", 1),
    ("백화점", "Department Store", 1),
    ("보건소", "Public Health Center", 1),
    ("법원", "Court", 1),
    ("센터", "Center", 1),
    ("공원", "Park", 1),
    ("아파트", "Apartment", 0),
    ("터미널", "Terminal", 0),
    ("차고지", "Bus Depot", 0),
    ("교회", "Church", 1),
    ("성당", "Cathedral", 1),
    ("역", "Station", 1),
    ("앞", "", 1),
)
# Administrative and road units written with a hyphen: (ending, romanized, shortest stem).
_UNIT_SUFFIXES: tuple[tuple[str, str, int], ...] = (
    ("대로", "daero", 1),
    ("동", "dong", 2),
    ("구", "gu", 2),
    ("로", "ro", 2),
    ("길", "gil", 2),
)
# Units that follow a number: 종로2가 -> Jongno 2-ga, 홍제1동 -> Hongje 1-dong.
_NUMBER_UNITS: tuple[tuple[str, str], ...] = (
    ("가", "ga"),
    ("동", "dong"),
    ("길", "gil"),
    ("로", "ro"),
)
# Words that follow a number: 2번출구 -> Exit 2, 3호선 -> Line 3.
_NUMBER_WORDS: tuple[tuple[str, str], ...] = (
    ("번출구", "Exit {}"),
    ("호선", "Line {}"),
    ("번", "No. {}"),
)
# Whole words with a fixed translation.
_WORDS: dict[str, str] = {"신설": "New", "방면": "Direction", "출구": "Exit"}

_BASE = 0xAC00
_N_MEDIAL, _N_FINAL = 21, 28
# initial indices
_I_N, _I_R, _I_M = 2, 5, 6
# final indices
_F_NONE, _F_K, _F_N, _F_R, _F_M, _F_P, _F_NG = 0, 1, 4, 8, 16, 17, 21
_F_VELAR = {1, 2, 3, 9, 24}  # ㄱ ㄲ ㄳ ㄺ ㅋ -> ㅇ before a nasal
_F_DENTAL = {7, 19, 20, 22, 23, 25, 27}  # ㄷ ㅅ ㅆ ㅈ ㅊ ㅌ ㅎ -> ㄴ before a nasal
_F_LABIAL = {17, 18, 26, 14}  # ㅂ ㅄ ㅍ ㄿ -> ㅁ before a nasal


def _decompose(ch: str) -> tuple[int, int, int]:
    code = ord(ch) - _BASE
    return code // (_N_MEDIAL * _N_FINAL), (code // _N_FINAL) % _N_MEDIAL, code % _N_FINAL


def _compose(i: int, m: int, f: int) -> str:
    return chr(_BASE + (i * _N_MEDIAL + m) * _N_FINAL + f)


def _assimilate(word: str) -> str:
    """Apply the consonant assimilations that Revised Romanization writes (Hangul in, Hangul out).

    Liquidization (ㄴ+ㄹ, ㄹ+ㄴ -> ㄹㄹ), ㄹ after other consonants -> ㄴ, and nasalization of
    stops before ㄴ/ㅁ. Tensification and aspiration are not written in RR and are ignored.
    """
    syl = [list(_decompose(c)) for c in word]
    for a, b in zip(syl, syl[1:], strict=False):
        fin, ini = a[2], b[0]
        if fin == _F_NONE:
            continue
        if ini == _I_R:
            if fin in (_F_N, _F_R):
                a[2], b[0] = _F_R, _I_R  # 신림 -> 실림
            else:
                b[0] = _I_N  # 종로 -> 종노, 독립 -> 독닙 (then nasalized below)
        elif ini == _I_N and fin == _F_R:
            b[0] = _I_R  # 설날 -> 설랄
        if b[0] in (_I_N, _I_M):
            if a[2] in _F_VELAR:
                a[2] = _F_NG
            elif a[2] in _F_DENTAL:
                a[2] = _F_N
            elif a[2] in _F_LABIAL:
                a[2] = _F_M
    return "".join(_compose(*s) for s in syl)


@lru_cache(maxsize=4096)
def romanize(hangul: str) -> str:
    """Romanize a run of Hangul syllables (lower case, Revised Romanization with assimilation).

    Parameters
    ----------
    hangul
        Hangul syllables only (U+AC00..U+D7A3).

    Returns
    -------
    str
        The romanized text in lower case, e.g. ``"jongno"`` for ``"종로"``.
    """
    if not hangul:
        return ""
    out = Romanizer(_assimilate(hangul)).romanize()
    return out.replace("lr", "ll")


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


def _run(hangul: str, *, min_stem: int | None = None) -> str:
    """English form of one run of Hangul (no digits or spaces), endings handled recursively.

    ``min_stem`` overrides the shortest stem of the first ending (0 after an ASCII word, so that
    "DMC역" becomes "DMC Station").
    """
    if not hangul:
        return ""
    if hangul in _WORDS:
        return _WORDS[hangul]
    for ko, en, least in _WORD_SUFFIXES:
        stem = hangul[: -len(ko)]
        if hangul.endswith(ko) and len(stem) >= (least if min_stem is None else min_stem):
            head = _run(stem)
            if en.startswith("-"):
                return f"{head}{en}" if head else en[1:].capitalize()
            return f"{head} {en}".strip()
    for ko, en, least in _UNIT_SUFFIXES:
        stem = hangul[: -len(ko)]
        if hangul.endswith(ko) and len(stem) >= least:
            return f"{_run(stem)}-{en}"
    return _cap(romanize(hangul))


def _word(word: str) -> str:
    """English form of one space-free word that may mix Hangul, digits and ASCII."""
    pieces: list[str] = []
    for tok in _HANGUL_RUN.findall(word):
        if not ("\uac00" <= tok[0] <= "\ud7a3"):
            pieces.append(tok)
            continue
        if pieces and pieces[-1][-1:].isdigit():
            number = pieces[-1]
            for ko, fmt in _NUMBER_WORDS:
                if tok.startswith(ko):
                    pieces[-1] = fmt.format(number)
                    tok = tok[len(ko) :]
                    break
            else:
                for ko, en in _NUMBER_UNITS:
                    if tok.startswith(ko):
                        pieces[-1] = f"{number}-{en}"
                        tok = tok[len(ko) :]
                        break
            if not tok:
                continue
        en = _run(tok, min_stem=0 if pieces else None)
        if en:
            pieces.append(en)
    return " ".join(pieces)


def _phrase(text: str) -> str:
    """English form of one place name without separators (may contain parentheses)."""
    out: list[str] = []
    for chunk in re.split(r"(\(|\)|\[|\])", text):
        if chunk in ("(", "[", ")", "]"):
            out.append(chunk)
            continue
        words = [_word(w) for w in chunk.split()]
        out.append(" ".join(w for w in words if w))
    s = "".join(out)
    s = re.sub(r"\s*\(\s*", " (", s)
    s = re.sub(r"\s*\)", ")", s)
    return re.sub(r"\s+", " ", s).strip()


@lru_cache(maxsize=16384)
def english_name(name_ko: str) -> str:
    """Return a readable English (romanized) name of a Korean place or bus stop name.

    Parameters
    ----------
    name_ko
        Korean name, e.g. ``"서대문구청"``, ``"연신내역"``, ``"창경궁.서울대학교병원"``.

    Returns
    -------
    str
        E.g. ``"Seodaemun-gu Office"``, ``"Yeonsinnae Station"``,
        ``"Changgyeonggung / Seoul University Hospital"``. Text without Hangul is returned
        stripped but otherwise unchanged.

    Examples
    --------
    >>> english_name("종로2가사거리")
    'Jongno 2-ga Intersection'
    >>> english_name("홍제1동주민센터")
    'Hongje 1-dong Community Service Center'
    """
    text = name_ko.strip()
    if not text:
        return ""
    parts = [p for p in _SEPARATORS.split(text) if p.strip()]
    return " / ".join(_phrase(p) for p in parts)
