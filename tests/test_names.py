"""English names: Revised Romanization, words split at generic parts, anchors' English winning.

Every expected English name below was written by hand from the Revised Romanization rules (2000)
and the generic-word table in the brief (역 Station, 입구 Entrance, 삼거리 Junction, ...), not
copied from the code's output.
"""

from __future__ import annotations

import re

import pytest

from shuttle import gazetteer, names, places
from shuttle.config import Scenario

# A small hand-made lexicon: stems a visitor would split at.
LEX = names.Lexicon(stems=frozenset({"서울", "홍제", "남가좌", "현대", "응암", "도화"}))

WORD = re.compile(r"[A-Za-z']+")


@pytest.mark.parametrize(
    ("ko", "en"),
    [
        # stations, with the sound changes RR writes
        ("신림역", "Sillim Station"),  # ㄴ+ㄹ -> ㄹ+ㄹ
        ("종로3가역", "Jongno 3-ga Station"),  # ㅇ+ㄹ -> ㅇ+ㄴ
        ("왕십리역", "Wangsimni Station"),  # ㅂ+ㄹ -> ㅁ+ㄴ
        ("독립문역", "Dongnimmun Station"),  # ㄱ+ㄹ -> ㅇ+ㄴ, ㅂ+ㅁ -> ㅁ+ㅁ
        ("합정역", "Hapjeong Station"),  # tensing not written
        ("신촌역", "Sinchon Station"),
        ("망원역", "Mangwon Station"),
        ("불광역", "Bulgwang Station"),
        ("녹번역", "Nokbeon Station"),
        ("연신내역", "Yeonsinnae Station"),
        ("응암역", "Eungam Station"),
        ("가좌역", "Gajwa Station"),
        ("아현역", "Ahyeon Station"),
        ("공덕역", "Gongdeok Station"),
        ("서울역", "Seoul Station"),
        ("마포구청역", "Mapo-gu Office Station"),
        # administrative units and roads: hyphen, no assimilation across it
        ("서대문구청", "Seodaemun-gu Office"),
        ("망원1동주민센터", "Mangwon 1-dong Community Service Center"),
        ("연희동주민센터", "Yeonhui-dong Community Service Center"),
        ("갈현1동", "Galhyeon 1-dong"),
        ("신사동", "Sinsa-dong"),
        ("아현동", "Ahyeon-dong"),
        ("역촌동", "Yeokchon-dong"),  # 역 at the start is no "Station"
        ("연희로", "Yeonhui-ro"),
        ("성지3길", "Seongji 3-gil"),
        ("세종대로", "Sejong-daero"),
        ("신문로", "Sinmun-ro"),  # not "Sinmunno": the unit stands apart
        ("불광천", "Bulgwangcheon"),  # a natural feature: one word
        # generic words
        ("홍제네거리", "Hongje Intersection"),
        ("동교동삼거리", "Donggyo-dong Junction"),
        ("신촌오거리", "Sinchon Five-way Intersection"),
        ("응암초등학교", "Eungam Elementary School"),
        ("상암중학교", "Sangam Middle School"),
        ("충암고등학교", "Chungam High School"),
        ("서강대학교후문", "Seogang University Back Gate"),
        ("연서시장", "Yeonseo Market"),
        ("망원시장앞", "Mangwon Market"),  # 앞 "in front of" is dropped
        ("은평경찰서", "Eunpyeong Police Station"),
        ("마포우체국", "Mapo Post Office"),
        ("서대문도서관", "Seodaemun Library"),
        ("독립문공원", "Dongnimmun Park"),
        ("불광교회", "Bulgwang Church"),
        ("진관공영차고지", "Jingwan Public Garage"),
        ("수색차고지", "Susaek Garage"),
        ("구파발종점", "Gupabal Terminus"),
        ("성산대교북단", "Seongsan Bridge North End"),
        ("월드컵경기장남측", "World Cup Stadium South Side"),
        ("세브란스병원", "Severance Hospital"),
        ("용약국", "Yong Pharmacy"),
        ("홍제역 건너편", "Hongje Station (Opposite)"),
        ("동교동삼거리연희동방면", "Donggyo-dong Junction (toward Yeonhui-dong)"),
        ("홍제역 방면", "(toward Hongje Station)"),
        ("성산대교(가상)", "Seongsan Bridge (Virtual)"),
        ("연희3거리", "Yeonhui Junction"),  # 3거리 is 삼거리
        ("충정로역", "Chungjeongno Station"),  # a station's name is one word
        ("하나로마트", "Hanaro Mart"),  # no road: 로 inside a word
        # numbers, exits, lines, separators
        ("홍대입구역 2번출구", "Hongdae Entrance Station Exit 2"),
        ("홍제역.3번출구", "Hongje Station Exit 3"),
        ("불광역3.6호선", "Bulgwang Station Lines 3 & 6"),
        ("현대아파트212동", "Hyeondae Apartments Bldg. 212"),
        ("연신내역.연서시장", "Yeonsinnae Station / Yeonseo Market"),
        ("창경궁.서울대학교병원", "Changgyeonggung / Seoul University Hospital"),
        ("종로2가사거리", "Jongno 2-ga Intersection"),
        ("상암로 (신설)", "Sangam-ro (New)"),
        ("DMC역", "DMC Station"),
        ("KT", "KT"),
        ("", ""),
        # run-ons split at known stems
        ("서울홍제초등학교병설유치원", "Seoul Hongje Elementary School Kindergarten"),
        ("남가좌동현대아파트후문", "Namgajwa-dong Hyeondae Apartments Back Gate"),
        ("도화현대1차아파트", "Dohwa Hyeondae Phase 1 Apartments"),
    ],
)
def test_english_name(ko: str, en: str) -> None:
    assert names.english_name(ko, LEX) == en


@pytest.mark.parametrize(
    ("ko", "rr"),
    [
        ("종로", "jongno"),  # ㅇ+ㄹ -> ㅇ+ㄴ
        ("신림", "sillim"),  # ㄴ+ㄹ -> ㄹ+ㄹ
        ("독립문", "dongnimmun"),  # ㄱ+ㄹ -> ㅇ+ㄴ, ㅂ+ㅁ -> ㅁ+ㅁ
        ("왕십리", "wangsimni"),
        ("선릉", "seolleung"),
        ("한라", "halla"),
        ("국민", "gungmin"),
        ("백마", "baengma"),  # ㄱ+ㅁ -> ㅇ+ㅁ
        ("별내", "byeollae"),  # ㄹ+ㄴ -> ㄹ+ㄹ
        ("청량리", "cheongnyangni"),
        ("대관령", "daegwallyeong"),
        ("해돋이", "haedoji"),  # palatalization
        ("같이", "gachi"),
        ("묵호", "mukho"),  # aspiration after ㄱ in a noun is not written
        ("집현전", "jiphyeonjeon"),
        ("합정", "hapjeong"),  # tensing is not written
        ("압구정", "apgujeong"),
        ("광희문", "gwanghuimun"),  # ㅢ is ui
        ("신촌", "sinchon"),
        ("녹번", "nokbeon"),
        ("응암", "eungam"),
        ("가좌", "gajwa"),
        ("아현", "ahyeon"),
        ("공덕", "gongdeok"),
    ],
)
def test_romanize_writes_sound_changes(ko: str, rr: str) -> None:
    assert names.romanize(ko) == rr


def test_long_unknown_run_is_cut_in_pairs() -> None:
    # generic words inside a run: "Daehanmingugimsijeongbu" would be 23 letters
    en = names.english_name("대한민국임시정부")
    assert en == "Korea Provisional Government"
    en = names.english_name("가나다라마바사아자차")  # ten unknown syllables, 19 letters
    assert en == "Gana Dara Maba Saa Jacha"


def test_learn_stems_strips_generic_parts_and_drops_run_ons() -> None:
    got = names.learn_stems(
        [
            "남가좌1동",
            "연신내역",
            "현대아파트",
            "도화현대아파트",
            "도화동",
            "서울홍제초등학교",
            "역",
        ]
    )
    assert got == {"남가좌", "연신내", "현대", "도화", "서울홍제"}


ANCHORS = {
    "홍대입구": "Hongik Univ. Station",
    "신촌": "Sinchon Station",
    "서대문구청": "Seodaemun-gu Office",
    "마포구청": "Mapo-gu Office",
}


@pytest.mark.parametrize(
    ("ko", "anchor", "en"),
    [
        ("홍대입구역", "홍대입구", "Hongik Univ. Station"),
        ("홍대입구", "홍대입구", "Hongik Univ. Station"),
        ("홍대입구역 2번출구", "홍대입구", "Hongik Univ. Station Exit 2"),
        ("공항철도.홍대입구역", "홍대입구", "Airport Railroad / Hongik Univ. Station"),
        ("용약국", "신촌", "Yong Pharmacy (Sinchon Station)"),
        ("서대문구청", "서대문구청", "Seodaemun-gu Office"),
        ("마포구청.마포구청역", "마포구청", "Mapo-gu Office / Mapo-gu Office Station"),
        ("홍대입구역", None, "Hongdae Entrance Station"),
        ("홍대입구역", "연신내", "Hongdae Entrance Station"),  # anchor without English
    ],
)
def test_anchor_name_en(ko: str, anchor: str | None, en: str) -> None:
    assert names.anchor_name_en(ko, anchor, ANCHORS) == en


def test_anchor_words_and_station_names() -> None:
    assert names.anchor_words({"홍대입구": "Hongik Univ. Station", "연신내": ""}) == {
        "홍대입구역": "Hongik Univ. Station",
        "홍대입구": "Hongik Univ.",
    }
    assert names.station_name_en("연신내") == "Yeonsinnae Station"
    assert names.station_name_en("디지털미디어시티역") == "Digital Media City Station"
    assert names.station_name_en("서울역(1호선)") == "Seoul Station"
    lex = names.Lexicon(fixed=names.anchor_words(ANCHORS))
    assert names.station_name_en("홍대입구", lex) == "Hongik Univ. Station"


def _three_district_stop_names(scenario: Scenario) -> list[str]:
    wanted = set(scenario.districts)
    return sorted(
        {
            s.name_ko
            for s in places.read_all_bus_stops(scenario)
            if places.district_of(scenario, s.lat, s.lon) in wanted
        }
    )


def test_three_districts_stop_names_have_no_word_over_18_letters(scenario: Scenario) -> None:
    stop_names = _three_district_stop_names(scenario)
    assert len(stop_names) > 900  # 1,552 stops, 947 distinct names (SOURCES.md: 468+503+581)
    lex = gazetteer.scenario_lexicon(scenario)
    for lexicon in (None, lex):
        for ko in stop_names:
            en = names.english_name(ko, lexicon)
            assert not re.search(r"[\uac00-\ud7a3]", en), (ko, en)
            longest = max((len(w) for w in WORD.findall(en)), default=0)
            assert longest <= names.MAX_WORD, (ko, en)


def test_scenario_lexicon_knows_dongs_stations_and_anchors(scenario: Scenario) -> None:
    lex = gazetteer.scenario_lexicon(scenario)
    assert {"남가좌", "연신내", "홍제", "현대"} <= lex.stems
    assert lex.fixed["홍대입구역"] == "Hongik Univ. Station"  # nw3.toml's name_en
    assert names.english_name("남가좌동현대아파트후문", lex) == (
        "Namgajwa-dong Hyeondae Apartments Back Gate"
    )
    assert names.english_name("서울홍제초등학교병설유치원", lex) == (
        "Seoul Hongje Elementary School Kindergarten"
    )


def test_every_bus_stop_name_gets_ascii_words(scenario: Scenario) -> None:
    seen = {s.name_ko for s in places.read_all_bus_stops(scenario)}
    for ko in sorted(seen):
        en = names.english_name(ko)
        assert en == names.english_name(ko)  # deterministic
        assert not re.search(r"[\uac00-\ud7a3]", en), (ko, en)
        assert en == en.strip(), (ko, en)
        assert "  " not in en, (ko, en)
        if ko.strip():
            assert en, ko


@pytest.mark.parametrize(
    ("ko", "anchor", "en"),
    [
        ("홍대입구역", "홍대입구", "Hongik Univ. Station"),  # nw3.toml: name_en wins
        ("홍대입구", "홍대입구", "Hongik Univ. Station"),  # a new stop named after its anchor
        ("디지털미디어시티", "디지털미디어시티", "Digital Media City Station"),
        ("용약국", "신촌", "Yong Pharmacy (Sinchon Station)"),
        ("공항철도.홍대입구역", None, "Airport Railroad / Hongik Univ. Station"),
        ("남가좌동현대아파트후문", None, "Namgajwa-dong Hyeondae Apartments Back Gate"),
    ],
)
def test_stop_name_en_of_the_scenario(
    scenario: Scenario, ko: str, anchor: str | None, en: str
) -> None:
    assert gazetteer.stop_name_en(scenario, ko, anchor) == en
