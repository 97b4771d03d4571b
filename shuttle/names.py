"""English names of Seoul places: Revised Romanization, words split, generic parts in English.

:func:`english_name` turns a Korean place or bus stop name into a name a visitor can read:

1. The name is split into places at the separators ``.`` and ``·`` (not between two digits), which
   become `` / ``; an exit number after a separator stays with its station ("홍제역.3번출구" ->
   "Hongje Station Exit 3").
2. Each run of Hangul is segmented into words: *generic words* with a usual English form
   (:data:`GENERIC`: 역 Station, 입구 Entrance, 사거리 Intersection, 삼거리 Junction, 초등학교
   Elementary School, 아파트 Apartments, 주민센터 Community Service Center, 구청 -gu Office, 앞
   dropped, 건너편 (Opposite), ...), *units* written with a hyphen (:data:`UNITS`: 동 -dong,
   구 -gu, 로 -ro, 길 -gil, 대로 -daero; after a number 2-ga, 3-dong, 29-gil, Exit 2, Line 3),
   *known stems* (the place-name stems of a :class:`Lexicon` learned from the data: dong, station
   and bus stop names) and *unknown* syllables. The segmentation is the cheapest one under a fixed
   cost (one unit per word, more per unknown syllable), so known words win over run-ons.
3. Proper-name words are romanized by the Revised Romanization of Korean (Ministry of Culture and
   Tourism, 2000) with the sound changes it writes: nasalization and liquidization (종로 Jongno,
   신림 Sillim, 독립문 Dongnimmun, 왕십리 Wangsimni, 백마 Baengma) and palatalization (해돋이
   haedoji, 같이 gachi); tensification and aspiration after ㄱ ㄷ ㅂ in nouns are not written
   (합정 Hapjeong, 묵호 Mukho), nor is assimilation across the hyphen of a unit (Sinmun-ro).
   Each word starts with a capital.
4. No word is longer than :data:`MAX_WORD` letters: an unknown run that would be longer is cut into
   two-syllable words (Sino-Korean morphemes pair up that way).

Anchors: :func:`anchor_name_en` gives the English of a stop or terminal that serves an anchor, with
the scenario's ``name_en`` in place of the anchor's own words ("홍대입구역 2번출구" ->
"Hongik Univ. Station Exit 2"). :func:`lexicon_from_names` builds the :class:`Lexicon` from names
found in the data (no file is read here); :func:`station_name_en` names a subway station.

Every function is pure and deterministic. The result is a readable transcription, not the official
English name of a place: anchors that have one give it in the scenario (``name_en``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from korean_romanizer.romanizer import Romanizer

from .config import DISTRICTS

__all__ = [
    "GENERIC",
    "MAX_WORD",
    "UNITS",
    "Lexicon",
    "anchor_name_en",
    "anchor_words",
    "english_name",
    "learn_stems",
    "lexicon_from_names",
    "romanize",
    "station_name_en",
]

#: Longest English word (letters) :func:`english_name` writes.
MAX_WORD = 18

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_TOKENS = re.compile(r"[\uac00-\ud7a3]+|[0-9]+(?:\.[0-9]+)*|[^\uac00-\ud7a30-9]+")
# A separator: "·" (and look-alikes) always, "." unless it stands between two digits ("1.5").
_SEPARATORS = re.compile(r"\s*(?:[·ㆍ・]|(?<![0-9])\.|\.(?![0-9]))\s*")
# The apartment brand "e편한세상" is also written "e.편한세상": that dot is not a separator.
_E_BRAND = re.compile(r"(?<![A-Za-z])e[.-]?(?=편한세상)")

#: Generic words and their usual English. An English form starting with "-" joins the word before
#: ("서대문구청" -> "Seodaemun-gu Office"); an empty form drops the word; a form in parentheses is
#: a remark. One-syllable words count only at the end of a run or before another generic word.
GENERIC: dict[str, str] = {
    # transport and streets
    "역": "Station",
    "전철역": "Station",
    "지하철역": "Station",
    "입구": "Entrance",
    "출구": "Exit",
    "사거리": "Intersection",
    "네거리": "Intersection",
    "삼거리": "Junction",
    "오거리": "Five-way Intersection",
    "육거리": "Six-way Intersection",
    "교차로": "Intersection",
    "로터리": "Rotary",
    "거리": "Street",
    "고개": "Pass",
    "다리": "Bridge",
    "대교": "Bridge",
    "육교": "Footbridge",
    "지하차도": "Underpass",
    "고가차도": "Overpass",
    "터널": "Tunnel",
    "종점": "Terminus",
    "기점": "Terminus",
    "회차지": "Turnaround",
    "차고지": "Garage",
    "공영차고지": "Public Garage",
    "정류장": "Stop",
    "정류소": "Stop",
    "환승센터": "Transfer Center",
    "환승정류장": "Transfer Stop",
    "터미널": "Terminal",
    "주차장": "Parking Lot",
    "공영주차장": "Public Parking Lot",
    "광장": "Plaza",
    "권역": "Area",
    "공항철도": "Airport Railroad",
    "기차역": "Railway Station",
    "교통": "Transport",
    "굴다리": "Underpass",
    "철도": "Railroad",
    "전철": "Subway",
    "지하철": "Subway",
    "주유소": "Gas Station",
    "충전소": "Charging Station",
    "북단": "North End",
    "남단": "South End",
    "동단": "East End",
    "서단": "West End",
    "북측": "North Side",
    "남측": "South Side",
    "동측": "East Side",
    "서측": "West Side",
    "방면": "(toward)",
    "방향": "(toward)",
    "건너편": "(Opposite)",
    "맞은편": "(Opposite)",
    "앞": "",
    "뒤": "",
    "옆": "",
    "부근": "",
    "근처": "",
    # schools
    "초등학교": "Elementary School",
    "초교": "Elementary School",
    "초중교": "Elementary and Middle School",
    "초중학교": "Elementary and Middle School",
    "중학교": "Middle School",
    "고등학교": "High School",
    "고교": "High School",
    "여자중학교": "Girls' Middle School",
    "여자고등학교": "Girls' High School",
    "여중": "Girls' Middle School",
    "여고": "Girls' High School",
    "중고": "Middle and High School",
    "여중고": "Girls' Middle and High School",
    "중고등학교": "Middle and High School",
    "여자중고등학교": "Girls' Middle and High School",
    "중고교": "Middle and High School",
    "대학교": "University",
    "대학": "College",
    "대학원": "Graduate School",
    "학교": "School",
    "전문학교": "College",
    "직업전문학교": "Vocational College",
    "유치원": "Kindergarten",
    "병설유치원": "Kindergarten",
    "어린이집": "Daycare Center",
    "학원": "Academy",
    "교육원": "Education Center",
    "사회교육원": "Continuing Education Center",
    "교육청": "Office of Education",
    "교육지원청": "Office of Education",
    "부속": "Affiliated",
    "부설": "Affiliated",
    "캠퍼스": "Campus",
    "정문": "Main Gate",
    "후문": "Back Gate",
    "쪽문": "Side Gate",
    "기숙사": "Dormitory",
    # public offices
    "구청": "-gu Office",
    "시청": "City Hall",
    "구의회": "-gu Council",
    "의회": "Council",
    "주민센터": "Community Service Center",
    "행정복지센터": "Community Service Center",
    "우체국": "Post Office",
    "우편취급국": "Post Office",
    "경찰서": "Police Station",
    "경찰청": "Police Agency",
    "지구대": "Police Station",
    "파출소": "Police Box",
    "치안센터": "Police Box",
    "소방서": "Fire Station",
    "안전센터": "Safety Center",
    "세무서": "Tax Office",
    "보건소": "Public Health Center",
    "보건지소": "Public Health Center",
    "법원": "Court",
    "등기소": "Registry Office",
    "출장소": "Branch Office",
    "구민회관": "Community Hall",
    "회관": "Hall",
    "동창회관": "Alumni Hall",
    "가옥": "House",
    "문화센터": "Culture Center",
    "문화원": "Cultural Center",
    "문화회관": "Arts Center",
    "복지관": "Welfare Center",
    "복지센터": "Welfare Center",
    "사회복지관": "Social Welfare Center",
    "종합사회복지관": "Community Welfare Center",
    "노인복지관": "Senior Welfare Center",
    "장애인": "Disabled",
    "경로당": "Senior Center",
    "노인정": "Senior Center",
    "수련관": "Youth Center",
    "청소년": "Youth",
    "체육관": "Gymnasium",
    "체육센터": "Sports Center",
    "체육공원": "Sports Park",
    "수영장": "Swimming Pool",
    "도서관": "Library",
    "박물관": "Museum",
    "미술관": "Art Museum",
    "기념관": "Memorial Hall",
    "역사관": "History Hall",
    "전시관": "Exhibition Hall",
    "과학관": "Science Museum",
    "극장": "Theater",
    "소극장": "Theater",
    "공연장": "Concert Hall",
    "방송국": "Broadcasting Station",
    "방송": "Broadcasting",
    "사옥": "Building",
    "본사": "Headquarters",
    "공사": "Corporation",
    "공단": "Corporation",
    "연구원": "Institute",
    "연구소": "Research Institute",
    "협회": "Association",
    "관리사무소": "Management Office",
    "사무소": "Office",
    "국립": "National",
    "시립": "Municipal",
    "구립": "Public",
    "서울시": "Seoul",
    "서울특별시": "Seoul",
    "대통령": "President",
    "임시정부": "Provisional Government",
    "대한민국": "Korea",
    # health and worship
    "병원": "Hospital",
    "대학병원": "University Hospital",
    "요양병원": "Care Hospital",
    "의원": "Clinic",
    "한의원": "Korean Medicine Clinic",
    "치과": "Dental Clinic",
    "외과": "Surgery",
    "정형외과": "Orthopedic Clinic",
    "내과": "Internal Medicine Clinic",
    "소아과": "Pediatric Clinic",
    "안과": "Eye Clinic",
    "약국": "Pharmacy",
    "교회": "Church",
    "성당": "Catholic Church",
    "수도원": "Monastery",
    "사찰": "Temple",
    # shops and business
    "시장": "Market",
    "전통시장": "Traditional Market",
    "백화점": "Department Store",
    "마트": "Mart",
    "슈퍼": "Supermarket",
    "슈퍼마켓": "Supermarket",
    "편의점": "Convenience Store",
    "문구": "Stationery",
    "가구단지": "Furniture Complex",
    "신문사": "Newspaper",
    "문방구": "Stationery Store",
    "상가": "Shopping Arcade",
    "쇼핑센터": "Shopping Center",
    "아울렛": "Outlet",
    "은행": "Bank",
    "지점": "Branch",
    "본점": "Main Branch",
    "점": "Branch",
    "금고": "Credit Union",
    "새마을금고": "Saemaeul Credit Union",
    "마을금고": "Village Credit Union",
    "신협": "Credit Union",
    "호텔": "Hotel",
    "빌딩": "Building",
    "타워": "Tower",
    "센터": "Center",
    "플라자": "Plaza",
    "프라자": "Plaza",
    "스퀘어": "Square",
    "오피스텔": "Officetel",
    "공장": "Factory",
    "식당": "Restaurant",
    "가게": "Shop",
    "쇼핑": "Shopping",
    "사우나": "Sauna",
    "목욕탕": "Bathhouse",
    "부동산": "Real Estate",
    "공인중개사": "Real Estate Agency",
    "검사소": "Inspection Center",
    "자동차검사소": "Vehicle Inspection Center",
    "시험장": "Test Center",
    "면허시험장": "Driver's License Test Center",
    "발전소": "Power Plant",
    "화력발전소": "Thermal Power Plant",
    "진흥원": "Promotion Agency",
    "재단": "Foundation",
    "수양관": "Retreat Center",
    "기념비": "Monument",
    "유래비": "Monument",
    "산업": "Industry",
    "첨단산업": "High-tech Industry",
    "과학": "Science",
    "기술": "Technology",
    "정보": "Information",
    "문화": "Culture",
    "예술": "Arts",
    "체육": "Sports",
    "여성": "Women's",
    "환경": "Environment",
    "출판": "Publishing",
    "창고": "Warehouse",
    "세차장": "Car Wash",
    # homes
    "아파트": "Apartments",
    "단지": "Complex",
    "빌라": "Villa",
    "맨션": "Mansion",
    "주택": "Housing",
    "임대주택": "Rental Housing",
    "연립": "Row Houses",
    "타운": "Town",
    "마을": "Village",
    "하우스": "House",
    "캐슬": "Castle",
    "하이츠": "Heights",
    "팰리스": "Palace",
    # parks and places
    "공원": "Park",
    "근린공원": "Neighborhood Park",
    "어린이공원": "Children's Park",
    "놀이터": "Playground",
    "운동장": "Sports Ground",
    "경기장": "Stadium",
    "구장": "Field",
    "다목적구장": "Multipurpose Field",
    "약수터": "Spring",
    "등산로": "Trailhead",
    "둘레길": "Trail",
    "숲": "Forest",
    "숲길": "Forest Trail",
    "소공원": "Small Park",
    "뉴타운": "New Town",
    "홈타운": "Hometown",
    "파크": "Park",
    "센트럴": "Central",
    "월드컵": "World Cup",
    "디지털": "Digital",
    "미디어": "Media",
    "시티": "City",
    "그랜드": "Grand",
    "스튜디오": "Studio",
    "로데오": "Rodeo",
    "스포츠": "Sports",
    "패션": "Fashion",
    "에코": "Eco",
    "세브란스": "Severance",
    # apartment brands, written as their builders write them
    "래미안": "Raemian",
    "힐스테이트": "Hillstate",
    "아이파크": "I-Park",
    "푸르지오": "Prugio",
    "자이": "Xi",
    "편한세상": "Pyeonhansesang",
    "롯데캐슬": "Lotte Castle",
    "센트레빌": "Centreville",
    "두산위브": "Doosan We've",
    # whole-word remarks
    "신설": "(New)",
    "임시": "(Temporary)",
    "가상": "(Virtual)",
}

#: Administrative and road units, written after a hyphen (Revised Romanization, article 5).
UNITS: dict[str, str] = {"동": "dong", "구": "gu", "로": "ro", "길": "gil", "대로": "daero"}

# Words after a number: 2번출구 -> Exit 2, 3호선 -> Line 3, 2가 -> 2-ga, 1동 -> 1-dong.
_NUMBER_WORDS: tuple[tuple[str, str], ...] = (
    ("번출구", "Exit {}"),
    ("번게이트", "Gate {}"),
    ("호선", "Line {}"),
    ("번길", "{}beon-gil"),
    ("단지", "Complex {}"),
    ("차", "Phase {}"),
    ("번지", "No. {}"),
    ("번", "No. {}"),
    ("교", "Bridge {}"),
    ("통", "{}-tong"),
    ("가", "{}-ga"),
    ("동", "{}-dong"),
    ("길", "{}-gil"),
    ("로", "{}-ro"),
)
_GU_STEMS = frozenset(ko[:-1] for ko, _ in DISTRICTS.values())  # 마포, 은평, 서대문, ...
# generic words that follow a road's name inside a run: 동교로사거리, 북아현로입구
_ROAD_NEXT = frozenset(
    ("입구", "사거리", "네거리", "삼거리", "오거리", "육거리", "교차로")
    + ("방면", "방향", "앞", "건너편", "맞은편", "종점", "출구")
)
_JUNCTIONS = re.compile(r"(?<![0-9])([3-6])거리")  # 3거리 is 삼거리
_JUNCTION_WORDS = {"3": "삼거리", "4": "사거리", "5": "오거리", "6": "육거리"}
_LISTS = re.compile(r"([0-9]+(?:[.·,][0-9]+)+)(호선|단지)")  # 3.6호선 -> Lines 3 & 6
_PLURALS = {"호선": "Lines", "단지": "Complexes"}
_STARTERS = ("국립", "시립", "구립", "서울특별시", "서울시", "공항철도")  # may begin a run

# Segmentation costs: a word costs 1; an unknown syllable 1.2 more; a lone unknown syllable 2
# more unless it begins the run before a generic word (용약국); a hyphenated unit 0.1; an
# anchor's words 0.3; a dropped word (앞) 0.5.
_C_WORD, _C_SYL, _C_LONE, _C_UNIT, _C_FIXED, _C_DROP = 1.0, 1.2, 2.0, 0.1, 0.3, 0.5

_BASE = 0xAC00
_N_MEDIAL, _N_FINAL = 21, 28
# initial indices
_I_G, _I_N, _I_D, _I_R, _I_M, _I_J, _I_CH, _I_NONE, _I_H = 0, 2, 3, 5, 6, 12, 14, 11, 18
_M_I = 20  # medial ㅣ
# final indices
_F_NONE, _F_K, _F_N, _F_T, _F_R, _F_M, _F_P, _F_NG = 0, 1, 4, 7, 8, 16, 17, 21
_F_TH = 25  # ㅌ
_F_VELAR = {1, 2, 3, 9, 24}  # ㄱ ㄲ ㄳ ㄺ ㅋ -> ㅇ before a nasal
_F_DENTAL = {7, 19, 20, 22, 23, 25, 27}  # ㄷ ㅅ ㅆ ㅈ ㅊ ㅌ ㅎ -> ㄴ before a nasal
_F_LABIAL = {17, 18, 26, 14}  # ㅂ ㅄ ㅍ ㄿ -> ㅁ before a nasal


@dataclass(frozen=True, eq=False)
class Lexicon:
    """Known words for :func:`english_name`, learned from data.

    Attributes
    ----------
    stems
        Place-name stems in Hangul (two syllables or more), e.g. dong and station names without
        their endings: "남가좌", "연신내", "홍제". A stem is kept whole and romanized as one word.
    fixed
        Korean words with a given English that wins over every rule, e.g. the scenario's anchors
        (``{"홍대입구역": "Hongik Univ. Station"}``).
    """

    stems: frozenset[str] = frozenset()
    fixed: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def longest(self) -> int:
        """Length of the longest stem or fixed word, in syllables."""
        return max((len(k) for k in (*self.stems, *self.fixed)), default=0)

    def with_fixed(self, fixed: Mapping[str, str]) -> Lexicon:
        """Return a copy with more fixed words (``fixed`` wins over this lexicon's)."""
        return Lexicon(stems=self.stems, fixed={**self.fixed, **fixed})


_EMPTY = Lexicon()


def _decompose(ch: str) -> list[int]:
    code = ord(ch) - _BASE
    return [code // (_N_MEDIAL * _N_FINAL), (code // _N_FINAL) % _N_MEDIAL, code % _N_FINAL]


def _compose(i: int, m: int, f: int) -> str:
    return chr(_BASE + (i * _N_MEDIAL + m) * _N_FINAL + f)


def _assimilate(word: str) -> str:
    """Apply the sound changes that Revised Romanization writes (Hangul in, Hangul out).

    Liquidization (ㄴ+ㄹ, ㄹ+ㄴ -> ㄹㄹ), ㄹ after other consonants -> ㄴ, nasalization of stops
    before ㄴ/ㅁ, and palatalization (ㄷ/ㅌ before 이 -> 지/치, ㄷ before 히 -> 치). Tensification
    and the aspiration of ㄱ ㄷ ㅂ before ㅎ are not written in nouns and are left alone.
    """
    syl = [_decompose(c) for c in word]
    for a, b in zip(syl, syl[1:], strict=False):
        fin, ini = a[2], b[0]
        if fin == _F_NONE:
            continue
        if ini == _I_NONE and b[1] == _M_I and fin in (_F_T, _F_TH):
            a[2], b[0] = _F_NONE, _I_J if fin == _F_T else _I_CH  # 해돋이 -> 해도지, 같이 -> 가치
            continue
        if ini == _I_H and b[1] == _M_I and fin == _F_T:
            a[2], b[0] = _F_NONE, _I_CH  # 굳히 -> 구치
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


@lru_cache(maxsize=8192)
def romanize(hangul: str) -> str:
    """Romanize a run of Hangul syllables (lower case, Revised Romanization with sound changes).

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


def _proper(hangul: str) -> str:
    """Romanize a proper-name run as one capitalized word, or several if it would be too long."""
    word = romanize(hangul)
    if len(word) <= MAX_WORD:
        return _cap(word)
    sounds = _assimilate(hangul)  # sound changes over the whole run, then cut in pairs
    n = len(sounds)
    cuts = list(range(0, n - 3, 2)) + [n - 3 if n % 2 else n - 2]
    chunks = [sounds[a:b] for a, b in zip(cuts, [*cuts[1:], n], strict=False)]
    return " ".join(_cap(Romanizer(c).romanize().replace("lr", "ll")) for c in chunks)


# ----------------------------------------------------------------------------------------------
# segmentation of one run of Hangul


@dataclass(frozen=True, slots=True)
class _Piece:
    # "gen" (generic word), "fixed" (given English, e.g. an anchor), "word" (proper name),
    # "unit" (hyphenated unit), "raw" (not Hangul)
    kind: str
    ko: str
    en: str  # English of "gen", "unit" and "raw"; a "word" is romanized when rendered


_MAX_GEN = max(len(k) for k in GENERIC)


def _generic_at(run: str, i: int) -> list[str]:
    return [run[i:j] for j in range(i + 1, min(len(run), i + _MAX_GEN) + 1) if run[i:j] in GENERIC]


def _segment(run: str, lex: Lexicon, *, first: bool) -> tuple[_Piece, ...]:
    """Cheapest segmentation of one Hangul run into generic words, units and proper words.

    ``first`` is True when the run begins a word (nothing before it), so that a suffix-like
    generic word ("역", "구청") cannot stand first unless the run is that word alone.
    """
    n = len(run)
    longest = lex.longest
    stem_at = [_is_stem(run, j, lex) for j in range(n + 1)]
    # an unknown word does not swallow a generic word at its end (하나로마트 is not "Romateu"),
    # nor the 역 that ends the run (충정로역 is "Chungjeongno Station")
    gen_end = [0] * (n + 1)  # length of the longest generic word (2+ syllables) ending at j
    for a in range(n):
        for g in _generic_at(run, a):
            if len(g) >= 2 or (g == "역" and a + 1 == n):
                gen_end[a + len(g)] = max(gen_end[a + len(g)], len(g))

    def starts_known(j: int) -> bool:
        return j == n or bool(_generic_at(run, j)) or run[j : j + 1] in UNITS

    # best[i] = (cost, pieces, kind of first piece) for run[i:], computed right to left
    best: list[tuple[float, tuple[_Piece, ...], str] | None] = [None] * (n + 1)
    best[n] = (0.0, (), "end")

    def offer(i: int, cost: float, pieces: tuple[_Piece, ...]) -> None:
        cur = best[i]
        if cur is None or cost < cur[0] - 1e-9:
            best[i] = (cost, pieces, pieces[0].kind)

    for i in range(n - 1, -1, -1):
        # generic words
        for g in _generic_at(run, i):
            j = i + len(g)
            rest = best[j]
            if rest is None:
                continue
            if len(g) == 1 and not starts_known(j):
                continue  # one-syllable words only at the end or before another known word
            if (len(g) == 1 or GENERIC[g].startswith("-")) and i == 0 and first and n > len(g):
                continue  # "역촌", "구청": a suffix does not begin a name
            if i == 0 and first and g in ("대학", "중고") and n > len(g):
                continue
            cost = _C_DROP if GENERIC[g] == "" else _C_WORD
            offer(i, rest[0] + cost, (_Piece("gen", g, GENERIC[g]), *rest[1]))
        # fixed words (anchors) and known stems, each optionally followed by a unit
        for j in range(i + 2, min(n, i + longest) + 1):
            w = run[i:j]
            if w in lex.fixed:
                rest = best[j]
                if rest is not None:
                    offer(i, rest[0] + _C_FIXED, (_Piece("fixed", w, lex.fixed[w]), *rest[1]))
            if w in lex.stems:
                _offer_word(run, i, j, best, offer, cost=_C_WORD, lex=lex)
        # unknown syllables: a maximal run up to the next known piece or the end
        for j in range(i + 1, n + 1):
            rest = best[j]
            if rest is None or 0 < gen_end[j] < j - i:
                continue
            cost = _C_WORD + _C_SYL * (j - i)
            if j - i == 1 and n > 1 and not (i == 0 and rest[2] in ("gen", "fixed")):
                cost += _C_LONE  # a lone syllable is a word only first and before a generic
            # two unknown words in a row are one word: plain only before a known piece
            plain = rest[2] != "word" or j == n or stem_at[j]
            _offer_word(run, i, j, best, offer, cost=cost, plain=plain, lex=lex)
    result = best[0]
    if result is None:  # cannot happen: unknown syllables always fit
        return (_Piece("word", run, ""),)
    return result[1]


def _is_stem(run: str, j: int, lex: Lexicon) -> bool:
    return any(run[j:k] in lex.stems or run[j:k] in lex.fixed for k in range(j + 2, len(run) + 1))


def _offer_word(run, i, j, best, offer, *, cost, plain=True, lex=None):  # noqa: ANN001, ANN202
    """Offer run[i:j] as a proper word, alone (if ``plain``) or followed by a hyphenated unit.

    A unit at the end of the run is a unit ("역촌동", "연희로"); inside the run only where the
    words around it are known ("남가좌동현대", "동교로사거리"), so that 운동, 아동, 하나로 and
    으로 stay words. "-gu" follows only a gu's name; "X로역" is a station named as one word
    (충정로역 Chungjeongno Station).
    """
    word = _Piece("word", run[i:j], "")
    stems = lex.stems if lex is not None else frozenset()
    rest = best[j]
    if rest is not None and plain:
        offer(i, rest[0] + cost, (word, *rest[1]))
    if j - i < 2:
        return
    for u in UNITS:
        k = j + len(u)
        if run[j:k] != u or best[k] is None:
            continue
        after = best[k]
        nxt = after[1][0] if after[1] else None
        if u == "구" and run[i:j] not in _GU_STEMS:
            continue  # "-gu" only after a gu's name: 문방구, 마포구민 are no gu
        if u in ("로", "길", "대로"):
            if run[j - 1] == "으" or (nxt is not None and nxt.ko == "역"):
                continue  # the particle 으로; a station's name is one word
            if nxt is not None and not (nxt.kind == "gen" and nxt.ko in _ROAD_NEXT):
                continue  # 하나로마트, 해모로아파트: no road
        if u == "동" and nxt is not None:
            known = run[i:j] in stems or (nxt.kind == "word" and nxt.ko in stems)
            if not (known or nxt.kind in ("gen", "fixed")):
                continue  # 독서운동본부, 홀트아동복지회: no dong
        offer(i, after[0] + cost + _C_UNIT, (word, _Piece("unit", u, UNITS[u]), *after[1]))


# ----------------------------------------------------------------------------------------------
# words and phrases


def _word_pieces(word: str, lex: Lexicon) -> list[_Piece]:
    """Pieces of one space-free word that may mix Hangul, digits and other characters."""
    pieces: list[_Piece] = []
    toks = _TOKENS.findall(word)
    for t, tok in enumerate(toks):
        if not _HANGUL.match(tok):
            pieces.append(_Piece("raw", tok, tok))
            continue
        if pieces and pieces[-1].kind == "raw" and pieces[-1].ko[:1].isdigit():
            number = pieces.pop().ko
            for ko, fmt in _NUMBER_WORDS:
                if tok.startswith(ko):
                    if ko == "동" and len(number) > 2:
                        fmt = "Bldg. {}"  # 212동 of an apartment complex, not a dong
                    pieces.append(_Piece("gen", number + ko, fmt.format(number)))
                    tok = tok[len(ko) :]
                    break
            else:
                pieces.append(_Piece("raw", number, number))
            if not tok:
                continue
        if tok in lex.fixed:
            pieces.append(_Piece("fixed", tok, lex.fixed[tok]))
            continue
        if tok in GENERIC and (len(tok) > 1 or t > 0 or len(toks) == 1):
            pieces.append(_Piece("gen", tok, GENERIC[tok]))
            continue
        pieces.extend(_segment(tok, lex, first=t == 0))
    return pieces


def _render(pieces: list[_Piece]) -> str:
    """Join pieces into English: units hyphenated, "-gu Office" attached, remarks wrapped."""
    words: list[str] = []
    attachable = False  # the last word is a proper name that a "-" ending may join
    start = 0  # index in words of the last place's first word, which "(toward ...)" wraps
    for p in pieces:
        if p.kind == "unit":
            if words:
                words[-1] = f"{words[-1]}-{p.en}"
            else:
                words.append(_cap(p.en))
            attachable = False
            continue
        if p.kind == "gen" and p.en == "(toward)":
            if words:
                words[start:] = [f"(toward {' '.join(words[start:])})"]
            attachable = False
            continue
        if p.kind == "gen" and p.en.startswith("-"):
            if words and attachable:
                words[-1] = f"{words[-1]}{p.en}"
            else:
                words.append(_cap(p.en[1:]))
            attachable = False
            continue
        en = _proper(p.ko) if p.kind == "word" else p.en
        if en:
            if p.kind in ("word", "fixed", "raw"):
                start = len(words)
            words.append(en)
        attachable = p.kind == "word"
    return " ".join(words)


def _phrase(text: str, lex: Lexicon) -> str:
    """English form of one place name without separators (may contain parentheses)."""
    out: list[str] = []
    text = text.replace("[", "(").replace("]", ")")
    for chunk in re.split(r"(\(|\))", text):
        if chunk in ("(", ")"):
            out.append(chunk)
            continue
        pieces: list[_Piece] = []
        for w in chunk.split():
            pieces.extend(_word_pieces(w, lex))
        out.append(_render(pieces))
    s = "".join(out)
    s = re.sub(r"\s*\(\s*", " (", s)
    s = re.sub(r"\s*\)", ")", s)
    s = re.sub(r"\(\s*\)", "", s)
    s = re.sub(r"\(\s*\((.*?)\)\s*\)", r"(\1)", s)
    return re.sub(r"\s+", " ", s).strip()


@lru_cache(maxsize=32768)
def english_name(name_ko: str, lexicon: Lexicon | None = None) -> str:
    """Return a readable English name of a Korean place or bus stop name.

    Parameters
    ----------
    name_ko
        Korean name, e.g. ``"서대문구청"``, ``"연신내역"``, ``"창경궁.서울대학교병원"``.
    lexicon
        Known stems and fixed words (see :func:`lexicon_from_names`); without it only the generic
        words and units are known and the rest is segmented by syllables.

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
    lex = lexicon or _EMPTY
    text = _E_BRAND.sub("e", name_ko.strip())
    text = _JUNCTIONS.sub(lambda m: _JUNCTION_WORDS[m.group(1)], text)
    text = _LISTS.sub(
        lambda m: f" {_PLURALS[m.group(2)]} {' & '.join(re.split(r'[.·,]', m.group(1)))} ", text
    )
    if not text:
        return ""
    out: list[str] = []
    for part in _SEPARATORS.split(text):
        if not part.strip():
            continue
        en = re.sub(r"(?<![A-Za-z])e Pyeonhansesang", "e-Pyeonhansesang", _phrase(part, lex))
        if out and re.match(r"(Exit|Gate|Line|No\.) \d", en):
            out[-1] = f"{out[-1]} {en}"  # "홍제역.3번출구": the exit belongs to the station
        elif en:
            out.append(en)
    return " / ".join(out)


# ----------------------------------------------------------------------------------------------
# lexicon, stations and anchors


def _strip_generic(run: str) -> str:
    """Strip generic words and units from both ends of a Hangul run (for stem learning)."""
    changed = True
    while changed and run:
        changed = False
        for n in range(min(len(run) - 1, _MAX_GEN), 0, -1):  # longest generic ending first
            if run[-n:] in GENERIC:
                run, changed = run[:-n], True
                break
        else:
            for u in ("대로", "동", "구", "로", "길"):
                if run.endswith(u) and len(run) >= len(u) + 2:
                    run, changed = run[: -len(u)], True
                    break
        for k in _STARTERS:
            if run.startswith(k) and len(run) > len(k):
                run, changed = run[len(k) :], True
    return run


def learn_stems(names: Iterable[str], *, longest: int = 4) -> frozenset[str]:
    """Return the place-name stems of Korean names: what is left once the generic parts are off.

    Each name is cut at every character that is not Hangul; from each run the generic words and
    units are stripped at both ends ("남가좌1동" -> "남가좌", "연신내역" -> "연신내",
    "현대아파트" -> "현대"); what is left is a stem if it has 2 to ``longest`` syllables, is not
    itself a generic word and is not two other stems run together.

    Parameters
    ----------
    names
        Korean names from the data: dong, station, gu and bus stop names.
    longest
        Longest stem kept, in syllables (longer leftovers are run-ons, not stems).

    Returns
    -------
    frozenset of str
    """
    out: set[str] = set()
    for name in names:
        for run in re.findall(r"[\uac00-\ud7a3]+", name):
            stem = _strip_generic(run)
            if 2 <= len(stem) <= longest and stem not in GENERIC:
                out.add(stem)
    # a stem made of two others is a run-on ("도화현대" = "도화" + "현대"), and so is a unit
    # followed by a stem ("동현대", the tail of "중동현대"): neither is a stem
    return frozenset(
        s
        for s in out
        if not any(s[:k] in out and s[k:] in out for k in range(2, len(s) - 1))
        and not (s[0] in UNITS and s[1:] in out)
    )


def lexicon_from_names(
    names: Iterable[str], anchors: Mapping[str, str] | None = None, *, longest: int = 4
) -> Lexicon:
    """Build the :class:`Lexicon` of a scenario from place names found in the data.

    Parameters
    ----------
    names
        Korean names: administrative dongs, subway stations, districts, bus stops.
    anchors
        Korean name -> English name of the scenario's anchors (``name_en`` wins); see
        :func:`anchor_words`.
    longest
        Longest stem kept, in syllables.

    Returns
    -------
    Lexicon
    """
    return Lexicon(stems=learn_stems(names, longest=longest), fixed=anchor_words(anchors or {}))


def anchor_words(anchors: Mapping[str, str]) -> dict[str, str]:
    """Fixed words for anchors: the anchor's Korean name, and "X역" for a station "X ... Station".

    An anchor "홍대입구" named "Hongik Univ. Station" gives ``{"홍대입구역": "Hongik Univ.
    Station", "홍대입구": "Hongik Univ."}`` (the bare name inside a longer stop name is the place,
    not the station); an anchor "서대문구청" named "Seodaemun-gu Office" gives itself. Anchors
    without an English name are skipped.
    """
    out: dict[str, str] = {}
    for ko, en in sorted(anchors.items()):
        ko, en = ko.strip(), en.strip()
        if not ko or not en:
            continue
        stem = ko[:-1] if ko.endswith("역") and len(ko) > 2 else ko
        if en.endswith(" Station"):
            out[f"{stem}역"] = en
            out[stem] = en[: -len(" Station")].strip()
        else:
            out[ko] = en
    return out


def station_name_en(name_ko: str, lexicon: Lexicon | None = None) -> str:
    """Return the English name of a subway station: its romanized name and " Station".

    The station master and the metro graph in the data have no English names, so the name is the
    romanization of the station name (without "역" and a parenthesized remark) plus " Station";
    generic words keep their English ("홍대입구" -> "Hongdae Entrance Station").

    Examples
    --------
    >>> station_name_en("연신내역")
    'Yeonsinnae Station'
    """
    n = name_ko.strip()
    if "(" in n:
        n = n[: n.index("(")].strip()
    if n.endswith("역") and len(n) > 2:
        n = n[:-1]
    if not n:
        return ""
    return english_name(f"{n}역", lexicon)


def anchor_name_en(
    name_ko: str,
    anchor_ko: str | None,
    anchors: Mapping[str, str],
    lexicon: Lexicon | None = None,
) -> str:
    """Return the English name of a stop or terminal, the anchor's ``name_en`` winning.

    Parameters
    ----------
    name_ko
        The stop's Korean name, e.g. ``"홍대입구역 2번출구"`` or ``"용약국"``.
    anchor_ko
        Korean name of the anchor the stop serves (``Stop.anchor``), or None.
    anchors
        Korean name -> English name of every anchor of the scenario (``Place.name_ko`` ->
        ``Place.name_en``).
    lexicon
        Lexicon for the rest of the name (:func:`lexicon_from_names`).

    Returns
    -------
    str
        * the anchor's English when the stop is named after the anchor ("홍대입구",
          "홍대입구역" -> "Hongik Univ. Station");
        * the stop's English with the anchor's words replaced when its name contains the anchor
          ("홍대입구역 2번출구" -> "Hongik Univ. Station Exit 2", "공항철도.홍대입구역" ->
          "Airport Railroad / Hongik Univ. Station");
        * else the stop's own English followed by the anchor in parentheses ("용약국" ->
          "Yong Pharmacy (Sinchon Station)"), so that the visitor finds the anchor.

        Without an anchor (or one with no English), :func:`english_name`.
    """
    lex = lexicon or _EMPTY
    ko = name_ko.strip()
    anchor_en = anchors.get(anchor_ko, "").strip() if anchor_ko else ""
    if not anchor_ko or not anchor_en:
        return english_name(ko, lex)
    a = anchor_ko.strip()
    stem = a[:-1] if a.endswith("역") and len(a) > 2 else a
    squeezed = re.sub(r"\s+", "", ko)
    if squeezed in (a, stem, f"{stem}역"):
        return anchor_en
    words = anchor_words({anchor_ko: anchor_en})
    if any(w in squeezed for w in words):
        return english_name(ko, lex.with_fixed(words))
    own = english_name(ko, lex)
    return f"{own} ({anchor_en})" if own else anchor_en
