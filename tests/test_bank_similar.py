"""Near-duplicate questions: the words compared, the measure, and the threshold on real
pairs taken from the bank as it stood when issue 6 was filed."""

from __future__ import annotations

import pytest

from quizapp.bank import similar
from quizapp.bank.model import Citation, Option, Question
from quizapp.bank.wording import content_words, fold_plural

CITATION = Citation("doc-002", "The Treatment Experience", "Scar tissue is broken down.")
TITLES = ("Beyond the Surface", "the article on fine lines and acne scarring",
          "Understanding the Process of Microneedling")


def question(qid: str, stem: str, *keys: str, wrong: str = "Something else entirely",
             status: str = "published") -> Question:
    options = [Option("abcdef"[i], key, True) for i, key in enumerate(keys)]
    options.append(Option("abcdef"[len(keys)], wrong, False, "Not what the source says."))
    return Question(id=qid, topic="mechanism", type="single" if len(keys) == 1 else "multiple",
                    stem=stem, options=tuple(options), explanation="Because.",
                    difficulty="easy", safety_critical=False, sources=(CITATION,),
                    status=status)


# --- the words compared --------------------------------------------------------------------


def test_content_words_drop_function_and_frame_words_and_fold_plurals():
    words = content_words("A client asks: which treatments soften her acne scars? Choose all"
                          " that apply.")
    assert words == ["soften", "acne", "scar"]


def test_content_words_leave_out_the_given_phrases():
    """A document's title says where a fact comes from, not what it is."""
    text = "According to Beyond the Surface, what breaks down scar tissue?"
    assert content_words(text, ["Beyond the Surface", "according to"]) == [
        "break", "down", "scar", "tissue"]


@pytest.mark.parametrize(("word", "folded"), [
    ("scars", "scar"), ("therapies", "therapy"), ("needles", "needle"), ("less", "less"),
    ("gas", "gas"), ("thickness", "thickness"),
])
def test_fold_plural(word, folded):
    assert fold_plural(word) == folded


def test_possessive_is_the_word_itself():
    assert content_words("the needling's depth") == ["needling", "depth"]


def test_question_words_are_the_stem_and_every_correct_option():
    q = question("mech-901", "Which sensations may be felt?", "Warmth", "A scratching feeling",
                 wrong="Numbness")
    assert similar.question_words(q) == {"sensation", "may", "felt", "warmth", "scratching",
                                         "feeling"}


def test_jaccard():
    assert similar.jaccard(frozenset("ab"), frozenset("bc")) == pytest.approx(1 / 3)
    assert similar.jaccard(frozenset(), frozenset()) == 0.0


# --- the threshold on real pairs -----------------------------------------------------------

REAL_PAIRS = {
    # Listed in issue 6 as near-duplicates.
    "scar tissue (77%)": (
        question("ind-022", "According to Beyond the Surface, how do repeated microneedling"
                            " sessions soften old scars?",
                 "They break down old scar tissue and encourage new, healthy skin cells"),
        question("mech-015", "A client with acne scars asks how microneedling softens them."
                             " According to Beyond the Surface, what does the treatment do to"
                             " scar tissue?",
                 "Breaks down the old scar tissue and encourages new, healthy skin cells to"
                 " form")),
    "hands (38%)": (
        question("dev-009", "A client pleased with the results on her face asks whether the"
                            " backs of her hands, which show signs of ageing, could also be"
                            " treated. What is the accurate answer?",
                 "Yes; other skin showing ageing or damage, such as the hands, can be"
                 " treated"),
        question("ind-007", "A client pleased with her facial results asks whether the aged,"
                            " damaged skin on the backs of her hands could be treated as well."
                            " What is the best reply?",
                 "Yes; beyond the face it can be used on aged or damaged skin elsewhere, hands"
                 " included")),
    "bleeding (25%)": (
        question("dev-006", "A client booked for deep needling of significant acne scarring"
                            " asks whether she might bleed. What should the practitioner tell"
                            " her?",
                 "A little bleeding can happen when the needles go deep"),
        question("day-009", "According to the article on fine lines and acne scarring, in which"
                            " situation may there be a little bleeding during treatment?",
                 "When the needles are being used to go deep into the skin")),
}
UNRELATED_PAIRS = {
    # Same article, same question frame, different facts (19%; 38% if the title counted).
    "sensations": (
        question("after-007", "According to the article on fine lines and acne scarring, which"
                              " of these may a client notice in the days and weeks after"
                              " treatment? Choose all that apply.",
                 "Skin that feels tight", "A slight burning feeling", "Dry, peeling skin"),
        question("dev-008", "Which sensations does the article on fine lines and acne scarring"
                            " say a client may feel while the needles are working? Choose all"
                            " that apply.",
                 "Warmth", "A scratching feeling")),
    "course and mechanism": (
        question("sess-002", "A client who has just booked her first microneedling appointment"
                             " asks how many sessions a typical course involves. According to"
                             " the article on fine lines and acne scarring, what is the usual"
                             " number?",
                 "Three to six sessions"),
        question("mech-001", "What does microneedling rely on to improve the look of the skin?",
                 "The skin's own repair of tiny, controlled injuries made by needles")),
}


@pytest.mark.parametrize("name", REAL_PAIRS)
def test_near_duplicates_from_the_issue_reach_the_threshold(name):
    first, second = REAL_PAIRS[name]
    found = similar.similar_pairs([first, second], ignore_phrases=TITLES)
    assert [(p.first, p.second) for p in found] == [(first.id, second.id)]


@pytest.mark.parametrize("name", UNRELATED_PAIRS)
def test_different_questions_in_the_same_frame_stay_below(name):
    first, second = UNRELATED_PAIRS[name]
    assert similar.similar_pairs([first, second], ignore_phrases=TITLES) == []


def test_titles_do_not_make_questions_alike():
    """Without leaving out the titles, naming the same article would add shared words."""
    first, second = UNRELATED_PAIRS["sensations"]
    with_titles = similar.jaccard(similar.question_words(first), similar.question_words(second))
    without = similar.jaccard(similar.question_words(first, TITLES),
                              similar.question_words(second, TITLES))
    assert with_titles > similar.NEAR_DUPLICATE_THRESHOLD > without


def test_pairs_come_most_similar_first_with_their_shared_words():
    questions = [q for pair in REAL_PAIRS.values() for q in pair]
    found = similar.similar_pairs(questions, ignore_phrases=TITLES)
    assert [(p.first, p.second) for p in found] == [
        ("ind-022", "mech-015"), ("dev-009", "ind-007"), ("dev-006", "day-009")]
    assert found[0].similarity == pytest.approx(10 / 13)
    assert found[0].shared == ("break", "cell", "down", "encourage", "healthy", "new", "old",
                               "scar", "soften", "tissue")
    assert found[2].similarity == pytest.approx(0.25)
