"""The classes of mistakes the first blind replay found in what counted (issue 12), each on
invented headlines of its class in several languages: what must not count, what still must.
Pure: the shipped rules, matched, grouped and judged."""

from __future__ import annotations

from tests.test_tracks import CFG, M, events, report
from watcher.judge.criterion import evaluate
from watcher.models import Certainty, CriterionState, MatchedItem, Reason

JULY = CFG.baseline_at.replace(year=2026, month=7)


def twice(title: str, day: str, summary: str = "", tier: str = "outlet") -> list[MatchedItem]:
    """One headline from two independent publishers."""
    return report(title, day, "https://apnews.com/" + day, tier, summary or "AP reports.") + report(
        title, day, "https://www.reuters.com/" + day, tier, summary or "Reuters says so."
    )


def indicators(title: str, summary: str = "") -> dict[str, Certainty]:
    return {m.indicator: m.certainty for m in M.match(title, summary)}


# --- class 2: formalization is not a deal ------------------------------------------------------


def test_the_accession_signed_with_israel_and_the_us_named_counts_on_no_track() -> None:
    evs = events(
        twice(
            "Kazakhstan and Israel sign joint declaration as Astana formally joins Abraham Accords",
            "2026-04-02",
        )
    )
    assert {e.indicator for e in evs} == {"signing_ceremony", "kz_israel_deal"}
    v = evaluate(CFG, evs, JULY)
    assert all(t.state is CriterionState.WARN and not t.candidates for t in v.tracks)
    deal = next(v.judgement(e) for e in evs if e.indicator == "kz_israel_deal")
    assert deal is not None and deal.reason is Reason.FORMALIZATION
    assert v.formalization is not None and v.formalization.stage is not None
    assert v.formalization.stage.id == "signed"
    # a real deal beside it still counts
    water = events(twice("Kazakhstan and Israel sign water technology agreement", "2026-04-20"))
    assert evaluate(CFG, evs + water, JULY).tracks[0].state is CriterionState.FOLLOW_UP


def test_the_accessions_papers_are_no_deal_in_any_language() -> None:
    for title in (
        "Kazakhstan, US sign memorandum on Abraham Accords accession",
        "Kazakhstan and Israel sign accession agreement at White House",
        "Казахстан и Израиль подписали документ о присоединении Астаны к Соглашениям Авраама",
        "Qazaxıstan və İsrail İbrahim Sazişlərinə qoşulma bəyannaməsini imzalayıb",
        "哈萨克斯坦与美国签署加入亚伯拉罕协议的声明",
        "קזחסטן וישראל חתמו על הצהרת ההצטרפות להסכמי אברהם",
    ):
        found = indicators(title)
        assert not {"kz_israel_deal", "kz_us_deal", "agreement_content"} & set(found), title


# --- class 3: meetings, talks and dialogues are not deals ----------------------------------------

MEETINGS = [
    (
        "Kazakh and Israeli foreign ministers hold talks in Astana",
        "The ministers discussed the roadmap of cooperation within the Abraham Accords.",
    ),
    (
        "US, Kazakhstan hold Enhanced Strategic Partnership Dialogue on trade and investment",
        "The sides discussed investment in critical minerals and a $1bn financing package.",
    ),
    ("Kazakhstan, US discuss cooperation in critical minerals and investment", ""),
    ("Kazakh, Israeli officials meet in Astana to discuss cooperation roadmap", ""),
    ("Kazakh-Israeli intergovernmental commission meets for ninth time in Astana", ""),
    ("Kazakhstan and US hold talks on $5 billion investment package", ""),
    ("Казахстан и США провели стратегический диалог по инвестициям", ""),
    ("Казахстан и Израиль обсудили дорожную карту сотрудничества", ""),
    (
        "Қазақстан мен Израиль сыртқы істер министрлері Астанада келіссөз жүргізді",
        "Тараптар ынтымақтастықтың жол картасын талқылады.",
    ),
    (
        "Kazakistan ve ABD stratejik ortaklık diyaloğu toplantısı Washington'da yapıldı",
        "Taraflar yatırım ve kritik mineralleri görüştü.",
    ),
    ("哈萨克斯坦与美国举行战略伙伴关系对话，讨论投资合作", ""),
    ("كازاخستان والولايات المتحدة تعقدان حوار الشراكة الاستراتيجية حول الاستثمار", ""),
    ("Kazakhstan and Israel launch free trade talks", ""),
]


def test_meetings_talks_and_dialogues_are_no_deals_in_any_language() -> None:
    deals = {"kz_israel_deal", "kz_us_deal", "agreement_content", "gulf_trilateral_investment"}
    for title, summary in MEETINGS:
        found = {k: c for k, c in indicators(title, summary).items() if k in deals}
        assert all(c is Certainty.EXPECTED for c in found.values()), (title, found)
    evs = events(*[twice(t, "2026-03-02", s) for t, s in MEETINGS])
    v = evaluate(CFG, evs, JULY)
    assert v.tracks[0].state is CriterionState.WARN and not v.tracks[0].candidates


def test_a_meeting_that_signs_or_agrees_a_text_has_its_deal() -> None:
    for title in (
        "Kazakhstan and Israel hold talks, sign water memorandum",
        "Kazakhstan, US agree roadmap for critical minerals cooperation",
        "Kazakhstan and Israel set up working groups on water and agritech under Abraham Accords",
        "Trump hosts Tokayev, touts '$10 billion' in new Kazakhstan deals",
        "Казахстан и Израиль по итогам переговоров подписали меморандум о водных ресурсах",
    ):
        assert Certainty.CONFIRMED in indicators(title).values(), title


# --- class 4: intent is not the act --------------------------------------------------------------

INTENT = [
    "Uzbekistan says it will seek to join the Abraham Accords",
    "Azerbaijan says it will join the Abraham Accords",
    "Uzbekistan will apply to join the Abraham Accords, minister says",
    "Oman ready to join Abraham Accords if Israel halts settlements",
    "Mauritania plans to join the Abraham Accords by year end",
    "Узбекистан намерен присоединиться к Соглашениям Авраама",
    "Азербайджан станет участником Соглашений Авраама",
    "Өзбекстан Авраам келісімдеріне қосылмақ",
    "Azərbaycan İbrahim Sazişlərinə qoşulacaq",
    "Özbekistan İbrahim Anlaşmaları'na katılacak",
    "O'zbekiston Ibrohim kelishuvlariga qo'shilmoqchi",
    "Ўзбекистон Иброҳим келишувларига қўшилмоқчи",
    "ازبکستان به پیمان ابراهیم خواهد پیوست",
    "乌兹别克斯坦将加入亚伯拉罕协议",
    "أوزبكستان تسعى للانضمام إلى اتفاقيات إبراهيم",
    "אזרבייג'ן מתכוונת להצטרף להסכמי אברהם",
]
JOINED = [
    "Azerbaijan joins the Abraham Accords",
    "Azerbaijan becomes the sixth country to join the Abraham Accords",
    "Azərbaycan İbrahim Sazişlərinə qoşuldu",
    "Özbekistan İbrahim Anlaşmaları'na katıldı",
    "أذربيجان تنضم رسمياً إلى الاتفاقيات الإبراهيمية",
    "阿塞拜疆加入亚伯拉罕协议",
    "Ozarbayjon Ibrohim kelishuvlariga qo‘shildi",
    "Азербайджан присоединился к Соглашениям Авраама",
]


def test_intent_and_the_future_are_expected_in_every_language() -> None:
    for title in INTENT:
        assert indicators(title).get("new_signatory") is Certainty.EXPECTED, title
    for title in JOINED:
        assert indicators(title).get("new_signatory") is Certainty.CONFIRMED, title
    v = evaluate(CFG, events(*[twice(t, "2026-03-02") for t in INTENT]), JULY)
    assert v.tracks[1].state is CriterionState.WARN and not v.tracks[1].candidates


# --- class 5: appeals and possibilities in the region's languages --------------------------------

APPEALS = [
    "Tramp Azərbaycanı İbrahim Sazişlərinə qoşulmağa çağırıb",
    "Tramp İlham Əliyevi İbrahim Sazişlərinə qoşulmağa çağırıb",
    "Trump Aliyev'i İbrahim Anlaşmaları'na katılmaya çağırdı",
    "Trump Mirziyoyevni Ibrohim kelishuvlariga qo'shilishga chaqirdi",
    "Трамп Әлиевті Авраам келісімдеріне қосылуға шақырды",
    "Трамп призвал Алиева присоединиться к Соглашениям Авраама",
    "Trump asks Aliyev to join Abraham Accords",
    "טראמפ קרא לאזרבייג'ן להצטרף להסכמי אברהם",
    "ترامپ از آذربایجان خواست به پیمان ابراهیم بپیوندد",
    "特朗普呼吁阿塞拜疆加入亚伯拉罕协议",
    "Узбекистан и Азербайджан могут стать участниками Соглашений Авраама",
    "Узбекистан и Азербайджан смогут присоединиться к Соглашениям Авраама",
    "Azerbaijan seen as next candidate to join Abraham Accords",
]


def test_appeals_and_possibilities_are_expected_in_every_language_and_inflection() -> None:
    for title in APPEALS:
        found = indicators(title)
        assert found.get("new_signatory") is Certainty.EXPECTED, (title, found)
    v = evaluate(CFG, events(*[twice(t, "2026-03-02") for t in APPEALS]), JULY)
    assert v.tracks[1].state is CriterionState.WARN and not v.tracks[1].candidates


# Appeals in the present tense, pressing, and 'may' with a deal (issue 13 item 3): a Hebrew
# addressee carries its prefix letter ("קורא לאוזבקיסטן", so "קורא ל" alone never matched), a
# Persian appeal is split by a zero-width joiner ("فرا می‌خواند"), Arabic "قد" before the
# present is 'may'.
PRESENT_APPEALS = [
    ("טראמפ קורא לאוזבקיסטן להצטרף להסכמי אברהם", "new_signatory"),
    ('ארה"ב לוחצת על אוזבקיסטן להצטרף להסכמי אברהם', "new_signatory"),
    ("קזחסטן וישראל עשויות לחתום על הסכם מים", "kz_israel_deal"),
    ("США давят на Узбекистан, чтобы он присоединился к Соглашениям Авраама", "new_signatory"),
    ("آمریکا ازبکستان را به پیوستن به پیمان ابراهیم فرا می‌خواند", "new_signatory"),
    ("كازاخستان وإسرائيل قد توقعان اتفاقية مياه", "kz_israel_deal"),
]


def test_appeals_in_the_present_and_possible_deals_are_expected() -> None:
    for title, indicator in PRESENT_APPEALS:
        assert indicators(title).get(indicator) is Certainty.EXPECTED, (title, indicators(title))
    # the act itself stays confirmed
    assert indicators("אוזבקיסטן הצטרפה להסכמי אברהם")["new_signatory"] is Certainty.CONFIRMED
    assert indicators("كازاخستان وإسرائيل وقعتا اتفاقية مياه")["kz_israel_deal"] is \
        Certainty.CONFIRMED


def test_a_headline_leaving_who_joins_to_the_summary_lets_the_summarys_doubt_speak() -> None:
    """'могут стать' (may become) in the summary, the state it names only there."""
    title = "Уиткофф рассказал о вступлении в Соглашения Авраама"
    assert (
        indicators(
            title, "Азербайджан и Узбекистан могут стать участниками соглашений в этом году."
        )["new_signatory"]
        is Certainty.EXPECTED
    )
    assert (
        indicators(title, "Азербайджан и Узбекистан стали участниками соглашений.")["new_signatory"]
        is Certainty.CONFIRMED
    )


def test_a_headline_without_the_claim_still_speaks_for_its_doubt() -> None:
    found = indicators(
        "Tashkent: consultations on the Abraham Accords continue",
        "Uzbekistan's accession to the accords was discussed in Washington.",
    )
    assert found and set(found.values()) == {Certainty.EXPECTED}
    # a denial in the summary still wins over the headline's expectation
    found = indicators(
        "Syria to sign security agreement with Israel within days",
        "The president stressed it does not mean normalisation or Syria's accession "
        "to the Abraham Accords.",
    )
    assert found.get("new_signatory", Certainty.DENIED) is Certainty.DENIED


# --- class 6: one happening in many languages is one event --------------------------------------

RESOLUTION = [
    (
        "2025-11-17",
        "https://www.reuters.com/un",
        "UN Security Council adopts resolution backing Gaza stabilization force",
    ),
    (
        "2025-11-18",
        "https://tass.ru/un",
        ("Совбез ООН принял резолюцию о международных силах стабилизации в Газе"),
    ),
    (
        "2025-11-18",
        "https://www.ynet.co.il/un",
        "מועצת הביטחון אישרה את הצעת ההחלטה על כוח הייצוב בעזה",
    ),
    (
        "2025-11-18",
        "https://www.aljazeera.net/un",
        "مجلس الأمن يتبنى قرارا بشأن قوة الاستقرار الدولية في غزة",
    ),
    (
        "2025-11-18",
        "http://www.xinhuanet.com/un",
        "联合国安理会通过决议 支持在加沙部署国际稳定部队",
    ),
    (
        "2025-11-18",
        "https://report.az/un",
        ("BMT Təhlükəsizlik Şurası Qəzzada sabitləşdirmə qüvvələri haqqında qətnamə qəbul edib"),
    ),
]
DEPLOYMENT = [
    (
        "2026-03-10",
        "https://astanatimes.com/m",
        "Kazakhstan deploys military medics to Gaza stabilization force",
    ),
    (
        "2026-03-10",
        "https://tengrinews.kz/m",
        ("Казахстан направил военных медиков в международные силы стабилизации в Газе"),
    ),
    ("2026-03-11", "https://www.ynet.co.il/m", "קזחסטן שלחה חובשים צבאיים לכוח הייצוב בעזה"),
    (
        "2026-03-11",
        "https://www.aljazeera.net/m",
        "كازاخستان ترسل أطباء عسكريين إلى قوة الاستقرار في غزة",
    ),
    ("2026-03-11", "http://www.xinhuanet.com/m", "哈萨克斯坦向加沙国际稳定部队派遣军医"),
]


def reports(*rows: tuple[str, str, str]) -> list[MatchedItem]:
    return [m for day, url, title in rows for m in report(title, day, url)]


def test_one_happening_reported_in_many_languages_is_one_corroborated_event() -> None:
    for rows in (RESOLUTION, DEPLOYMENT):
        (ev,) = events(reports(*rows))
        assert len(ev.items) == len(rows) and ev.independent == len(rows)
    v = evaluate(CFG, events(reports(*DEPLOYMENT)), JULY)
    assert (
        v.tracks[2].state is CriterionState.FOLLOW_UP
        and v.tracks[2].since.isoformat() == "2026-03-10"
    )


def test_distinct_happenings_stay_apart_across_languages() -> None:
    # another state's deployment, the same days and words: the actors differ
    indonesia = (
        "2026-03-11",
        "https://tass.ru/i",
        ("Индонезия направила войска в международные силы стабилизации в Газе"),
    )
    # another step of the plan, the same days: the topics differ
    phase = (
        "2026-03-11",
        "https://www.reuters.com/p",
        "Gaza ceasefire enters second phase, mediators say",
    )
    evs = events(reports(*DEPLOYMENT, indonesia, phase))
    assert sorted(len(e.items) for e in evs) == [1, 1, len(DEPLOYMENT)]
    # another resolution (its number), or a happening dated to another day
    numbered = events(
        reports(
            (
                "2025-11-17",
                "https://www.reuters.com/r",
                "UN Security Council adopts resolution 2803 on Gaza stabilization force",
            ),
            (
                "2025-11-18",
                "https://tass.ru/r",
                "Совбез ООН принял резолюцию 2804 о силах стабилизации в Газе",
            ),
        )
    )
    dated = events(
        reports(
            (
                "2026-05-06",
                "https://www.reuters.com/b",
                "Board of Peace convened on Monday to approve Gaza reconstruction plan",
            ),
            (
                "2026-05-07",
                "https://tass.ru/b",
                "Совет мира в четверг одобрил план восстановления Газы",
            ),
        )
    )
    assert len(numbered) == 2 and len(dated) == 2


# --- class 7: reactions are not the step ---------------------------------------------------------

REACTIONS = [
    "Kazakhstan welcomes UN Security Council adoption of Gaza stabilization force resolution",
    "МИД Казахстана приветствует принятие резолюции Совбеза ООН о силах стабилизации в Газе",
    "Қазақстан БҰҰ Қауіпсіздік Кеңесінің Газа бойынша тұрақтандыру күштері туралы қарарын құптады",
    "Kazakistan, BM Güvenlik Konseyi'nin Gazze istikrar gücü kararını memnuniyetle karşıladı",
    "كازاخستان ترحب بقرار مجلس الأمن بشأن قوة الاستقرار في غزة",
    "קזחסטן מברכת על החלטת מועצת הביטחון על כוח הייצוב בעזה",
    "哈萨克斯坦欢迎安理会通过加沙国际稳定部队决议",
]


def test_a_reaction_alone_is_a_candidate_at_most_even_from_an_official_source() -> None:
    for n, title in enumerate(REACTIONS):
        evs = events(report(title, "2025-11-19", f"https://www.gov.kz/r{n}", "official"))
        assert [e.indicator for e in evs] == ["israel_palestine_progress"], title
        v = evaluate(CFG, evs, JULY)
        j = v.judgement(evs[0])
        assert j is not None and j.reason is Reason.REACTION and j.candidate, title
        assert v.tracks[2].state is CriterionState.WARN


def test_a_reaction_corroborates_the_step_it_reacts_to() -> None:
    step = report(
        "UN Security Council adopts resolution backing Gaza stabilization force",
        "2025-11-17",
        "https://www.reuters.com/un",
        "wire",
    )
    welcome = report(REACTIONS[0], "2025-11-18", "https://www.gov.kz/welcome", "official")
    (ev,) = events(step + welcome)
    v = evaluate(CFG, [ev], JULY)
    j = v.judgement(ev)
    assert j is not None and j.counts and j.sources == 2 and not j.official
    assert v.tracks[2].since is not None and v.tracks[2].since.isoformat() == "2025-11-18"
    # the actor's own welcome beside its act is the act: the Council adopts and welcomes
    for title in ("UN Security Council adopts resolution 2803, welcomes Board of Peace",
                  'مجلس الأمن يعتمد القرار 2803 بشأن غزة ويرحب بتشكيل "مجلس السلام"'):
        (act,) = events(report(title, "2025-11-18", "https://www.un.org/a", "official"))
        assert evaluate(CFG, [act], JULY).judgement(act).counts, title  # type: ignore[union-attr]
    # the host welcoming a delegation that signs is no reaction
    (deal,) = events(
        report(
            "Tokayev welcomes Israeli delegation, sides sign water memorandum",
            "2026-02-01",
            "https://www.akorda.kz/d",
            "official",
        )
    )
    assert evaluate(CFG, [deal], JULY).judgement(deal).counts  # type: ignore[union-attr]


# --- class 8: the baseline's occasion reported later ---------------------------------------------


def test_the_summits_deals_reported_months_later_are_the_baseline() -> None:
    finalised = events(
        twice(
            "Boeing, Air Astana finalise order for 15 Dreamliners",
            "2026-04-14",
            "The order was first announced at the White House summit in November.",
        )
    )
    firmed = events(
        twice(
            "Казахстан и США подписали контракт на поставку локомотивов Wabtec",
            "2026-05-20",
            "Соглашение было объявлено в ноябре на саммите в Вашингтоне.",
        )
    )
    roundup = events(
        twice(
            "Kazakhstan and US firms signed $17bn in deals at C5+1 summit, ministry tallies",
            "2026-03-03",
        )
    )
    # a round-up naming only the summit is no deal at all
    assert not events(twice("C5+1 summit deals: Kazakhstan's $17bn haul takes shape", "2026-03-03"))
    placed = events(
        twice(
            "Air Astana, Boeing'e 15 adet 787 siparişini kesinleştirdi",
            "2026-04-14",
            "Air Astana, Washington'daki C5+1 zirvesinde Boeing ile anlaşma imzaladı.",
        )
    )
    for evs in (finalised, firmed, roundup, placed):
        assert evs, "no deal matched"
        v = evaluate(CFG, evs, JULY)
        assert {v.judgement(e).why_not for e in evs} == {"within the grace period"}  # type: ignore[union-attr]
        assert v.tracks[0].state is CriterionState.WARN
    # a new deal that only dates itself after the summit is follow-up
    new = events(
        twice(
            "Kazakhstan, US sign minerals deal, the first since the White House summit",
            "2026-04-14",
        )
    )
    assert evaluate(CFG, new, JULY).tracks[0].state is CriterionState.FOLLOW_UP


def test_approaching_and_readiness_are_not_the_act() -> None:
    for title in (
        "Azerbaijan edges closer to joining Abraham Accords",
        "Azerbaijan on the verge of joining the Abraham Accords",
        "Uzbekistan signals readiness to join Abraham Accords",
        "Азербайджан приблизился к вступлению в Соглашения Авраама",
        "Узбекистан заявил о готовности присоединиться к Соглашениям Авраама",
        "O'zbekiston Ibrohim kelishuvlariga qo'shilishga tayyorligini bildirdi",
    ):
        assert indicators(title).get("new_signatory") is Certainty.EXPECTED, title
    assert indicators("Kazakhstan and Israel sign deal to forge closer ties")[
        "kz_israel_deal"] is Certainty.CONFIRMED
