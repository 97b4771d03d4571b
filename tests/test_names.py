"""Bilingual names: Revised Romanization with Seoul place-name endings."""

from __future__ import annotations

import re

import pytest

from shuttle import names
from shuttle.config import Scenario
from shuttle.places import read_all_bus_stops


@pytest.mark.parametrize(
    ("ko", "en"),
    [
        ("서대문구청", "Seodaemun-gu Office"),
        ("은평구청", "Eunpyeong-gu Office"),
        ("연신내역", "Yeonsinnae Station"),
        ("망원동", "Mangwon-dong"),
        ("홍제3동", "Hongje 3-dong"),
        ("종로2가사거리", "Jongno 2-ga Intersection"),
        ("창경궁.서울대학교병원", "Changgyeonggung / Seoul University Hospital"),
        ("명륜3가.성대입구", "Myeongnyun 3-ga / Seongdae Entrance"),
        ("신촌오거리·현대백화점", "Sinchon Intersection / Hyeondae Department Store"),
        ("홍제1동주민센터", "Hongje 1-dong Community Service Center"),
        ("상암로 (신설)", "Sangam-ro (New)"),
        ("와우산로29길", "Wausan-ro 29-gil"),
        ("세종대로", "Sejong-daero"),
        ("DMC역", "DMC Station"),
        ("마포구청역 2번출구", "Mapo-gu Office Station Exit 2"),
        ("불광역3호선", "Bulgwang Station Line 3"),
        ("KT", "KT"),
        ("", ""),
    ],
)
def test_english_name(ko: str, en: str) -> None:
    assert names.english_name(ko) == en


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
        ("합정", "hapjeong"),  # no assimilation: tensing is not written
        ("신촌", "sinchon"),
    ],
)
def test_romanize_writes_assimilation(ko: str, rr: str) -> None:
    assert names.romanize(ko) == rr


def test_every_bus_stop_name_gets_ascii_words(scenario: Scenario) -> None:
    seen = {s.name_ko for s in read_all_bus_stops(scenario)}
    for ko in sorted(seen):
        en = names.english_name(ko)
        assert en == names.english_name(ko)  # deterministic
        assert not re.search(r"[\uac00-\ud7a3]", en), (ko, en)
        assert en == en.strip(), (ko, en)
        assert "  " not in en, (ko, en)
        if ko.strip():
            assert en, ko
