"""Demo data: a trainee who failed the certification two days ago, so a new user can
see a study plan and a retake without waiting a day; and simulated trainees whose
attempts give the manager's console something real to show."""

from __future__ import annotations

import math
import random
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm.attributes import set_committed_value

from quizapp import accounts, attempts, study
from quizapp.extensions import db
from quizapp.models import (
    AngoffRating,
    Attempt,
    Cohort,
    CohortManager,
    CohortMember,
    Exam,
    Question,
    QuestionVersion,
    User,
)


def fail_certification(user: User, now: datetime) -> None:
    """Sit and fail the certification as `user`, finished two days before `now`:
    every question right except one safety-critical question and one topic."""
    certification = db.session.get(Exam, "certification")
    if certification is None:
        return
    began = now - timedelta(days=2, minutes=30)
    attempt = attempts.start(user, certification, began)
    missed = next(i for i in attempt.items if i.version.content["safety_critical"])
    weak_topic = missed.version.question.topic_id
    for item in attempt.items:
        content = item.version.content
        wrong = item is missed or item.version.question.topic_id == weak_topic
        keyed = [o["id"] for o in content["options"] if o["correct"]]
        choice = [next(o["id"] for o in content["options"] if not o["correct"])] if wrong else keyed
        by_id = dict(zip(item.option_order, item.option_tokens, strict=True))
        attempts.save_answer(attempt, item.position,
                             attempts.Answer(tuple(by_id[c] for c in choice), item.sequence),
                             began + timedelta(minutes=20), timedelta(0))
    attempts.finish(attempt, began + timedelta(minutes=25))


# --- Simulated trainees, for the console's reports ---------------------------------
# `seed_attempts` fills the console with something real to show: trainees of varied
# ability in three cohorts take the certification (and practice) through the app's
# own attempt functions, at times spread over the past months, so the dashboard's
# charts and the item analysis read data made the way the app makes it.

DEMO_DOMAIN = "trainees.example.com"
SEED = 2026  # one seed: the same trainees, answers and times on every database
TRAINEES = 60
DAYS = 120
# The managed cohorts are the demo manager's; the third is nobody's, so the manager's
# console shows two cohorts where an admin's shows three.
COHORTS = (("Northside Clinic", "Practitioners of the Northside Clinic.", True),
           ("Spring intake 2026", "The spring 2026 training course.", True),
           ("Riverside Skin Studio", "Practitioners of the Riverside studio.", False))
# The planted wrong key. sess-014's key is c; the simulated trainees behave as if the
# bank's key were wrong and a were right: the more able a trainee, the likelier they
# choose a. Those who get it "right" by the bank are then the less able, so the item
# analysis gives it a negative discrimination: "check the key". sess-014 is drawn
# into most certification forms (its topic's pool is small once enemies are apart),
# so the first attempts alone give it well over the 30 responses flags need.
PLANTED_QUESTION = "sess-014"
PLANTED_CHOICE = "a"
FIRST_NAMES = ("Amara", "Ben", "Chloe", "Daniel", "Ella", "Farah", "George", "Hana",
               "Isaac", "Jade", "Kofi", "Lena", "Marco", "Nina", "Owen", "Priya",
               "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Will", "Xin", "Yara",
               "Zoe", "Aisha", "Bruno", "Carmen", "Dev")
LAST_NAMES = ("Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes",
              "Ito", "Jones", "Khan", "Lopez", "Murphy", "Novak", "Okafor", "Patel",
              "Quist", "Rossi", "Singh", "Turner", "Usman", "Varga", "Walsh", "Xu",
              "Young", "Zielinski", "Ahmed", "Brennan", "Costa", "Dubois")
DIFFICULTY = {"easy": -1.0, "medium": 0.0, "hard": 1.0}
GUESS_FLOOR = 0.2  # even the weakest trainee sometimes picks the key


@dataclass
class SeedReport:
    """What `seed_attempts` did, for the command to say."""

    already_ran: bool = False
    trainees_created: int = 0
    cohorts: dict[str, int] = field(default_factory=dict)  # name -> members
    certification_attempts: int = 0
    practice_attempts: int = 0
    certified: int = 0
    planted: str | None = None  # the planted question and its keys, when planted
    manager: str | None = None  # the demo manager's email, if found
    angoff_ratings: int = 0  # ratings given by the demo's standard-setting panel


def _p_right(ability: float, difficulty: str) -> float:
    """The chance of a right answer: rises with ability, falls with difficulty (a
    three-parameter logistic curve with a floor for lucky guesses)."""
    logistic = 1 / (1 + math.exp(-1.4 * (ability - DIFFICULTY.get(difficulty, 0.0))))
    return GUESS_FLOOR + (1 - GUESS_FLOOR) * logistic


def _appeal(question_id: str, distractors: list[str]) -> list[float]:
    """How tempting each wrong option is: fixed per question, uneven as in real
    exams (some distractors draw many, some almost nobody)."""
    rng = random.Random(f"{SEED}:{question_id}")
    return [0.02 + rng.random() ** 2 for _ in distractors]


def _choice(question_id: str, content: dict, ability: float, rng: random.Random) -> list[str]:
    """The option ids this trainee picks on this question."""
    options = [o["id"] for o in content["options"]]
    keyed = sorted(o["id"] for o in content["options"] if o["correct"])
    p = _p_right(ability, content["difficulty"])
    if question_id == PLANTED_QUESTION and PLANTED_CHOICE in options:
        if rng.random() < p:
            return [PLANTED_CHOICE]
        return [rng.choice([o for o in options if o != PLANTED_CHOICE])]
    if rng.random() < p:
        return keyed
    distractors = [o for o in options if o not in keyed]
    tempting = rng.choices(distractors, weights=_appeal(question_id, distractors))[0]
    if content["type"] == "multiple" and len(keyed) > 1 and rng.random() < 0.5:
        return sorted(set(keyed) - {rng.choice(keyed)})  # left one out
    if content["type"] == "multiple":
        return sorted({*keyed, tempting})  # ticked one too many
    return [tempting]


def _sit(user: User, exam: Exam, ability: float, began: datetime,
         rng: random.Random) -> Attempt:
    """Take one attempt as the pages would: each question shown, answered a little
    later, then submitted."""
    attempt = attempts.start(user, exam, began, seed=rng.getrandbits(63))
    moment = began
    for item in attempt.items:
        # The moment the page showed the question. The page stores it (`mark_shown`),
        # and the save counts the time from the item as loaded, then stores its own
        # moment in its place; giving the item the moment directly stores the same rows
        # without an UPDATE and a commit for each of thousands of questions.
        set_committed_value(item, "shown_at", moment)
        moment += timedelta(seconds=rng.randint(20, 80))
        token_of = dict(zip(item.option_order, item.option_tokens, strict=True))
        choice = _choice(item.version.question_id, item.version.content, ability, rng)
        attempts.save_answer(attempt, item.position,
                             attempts.Answer(tuple(token_of[o] for o in choice), item.sequence),
                             moment, timedelta(0))
    return attempts.finish(attempt, moment + timedelta(seconds=rng.randint(30, 240)))


# The standard-setting panel: three trainers who rated every published question for
# the modified Angoff method, so a manager can switch the certification to it and see
# each form get its own pass mark. They picture a practitioner just good enough to
# certify (the ability below) and differ a little in leniency, as real panels do.
PANEL = (("Ines Varga", "ines.varga@panel.example.com", -0.03),
         ("Ruth Okafor", "ruth.okafor@panel.example.com", 0.0),
         ("Samir Haddad", "samir.haddad@panel.example.com", 0.04))
BORDERLINE_ABILITY = 0.8


def _seed_angoff_panel(now: datetime, report: SeedReport) -> None:
    """The panel's ratings, in steps of 5% as judges give them (skipped for a judge
    whose account exists already: their ratings are theirs)."""
    rng = random.Random(f"{SEED}:angoff")
    published = [(qid, content["difficulty"]) for qid, content in db.session.execute(
        select(Question.id, QuestionVersion.content)
        .join(QuestionVersion, (QuestionVersion.question_id == Question.id)
              & (QuestionVersion.version == Question.current_version))
        .where(Question.status == "published").order_by(Question.id))]
    for name, email, leniency in PANEL:
        if db.session.scalar(select(User.id).where(User.email == email)) is not None:
            continue
        judge = accounts.create_user(email, name, secrets.token_urlsafe(12), ["trainer"],
                                     how="by the demo's Angoff panel")
        for question_id, difficulty in published:
            p = _p_right(BORDERLINE_ABILITY, difficulty) + leniency + rng.gauss(0, 0.05)
            rating = min(0.95, max(0.25, round(p * 20) / 20))
            db.session.add(AngoffRating(question_id=question_id, user_id=judge.id,
                                        rating=rating, rated_at=now - timedelta(days=DAYS)))
            report.angoff_ratings += 1
    db.session.commit()


def _demo_trainees() -> list[tuple[str, str]]:
    """(name, email) of the demo trainees, always the same."""
    people = []
    for n in range(TRAINEES):
        first = FIRST_NAMES[n % len(FIRST_NAMES)]
        last = LAST_NAMES[(n + 7 * (n // len(FIRST_NAMES))) % len(LAST_NAMES)]
        people.append((f"{first} {last}", f"{first}.{last}@{DEMO_DOMAIN}".lower()))
    return people


def _seeded_already() -> bool:
    return db.session.scalar(
        select(func.count()).select_from(Attempt).join(User, User.id == Attempt.user_id)
        .where(User.email.like(f"%@{DEMO_DOMAIN}"))) > 0


def _cohort(name: str, description: str, now: datetime) -> Cohort:
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == name))
    if cohort is None:
        cohort = Cohort(name=name, description=description, created_at=now - timedelta(days=DAYS))
        db.session.add(cohort)
        db.session.flush()
    return cohort


def _trainees_in_cohorts(now: datetime, manager: User | None,
                         report: SeedReport) -> list[User]:
    """The demo trainees, made if missing, each in one of the cohorts."""
    made = [_cohort(name, text, now) for name, text, _ in COHORTS]
    for cohort, (_, _, managed) in zip(made, COHORTS, strict=True):
        if managed and manager is not None and db.session.get(
                CohortManager, (cohort.id, manager.id)) is None:
            db.session.add(CohortManager(cohort_id=cohort.id, user_id=manager.id))
    people = []
    for n, (name, email) in enumerate(_demo_trainees()):
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = accounts.create_user(email, name, secrets.token_urlsafe(12), ["trainee"],
                                        how="by the demo's simulated attempts")
            user.created_at = now - timedelta(days=DAYS + 5)
            report.trainees_created += 1
        cohort = made[n % len(made)]
        if db.session.get(CohortMember, (cohort.id, user.id)) is None:
            db.session.add(CohortMember(cohort_id=cohort.id, user_id=user.id))
        report.cohorts[cohort.name] = report.cohorts.get(cohort.name, 0) + 1
        people.append(user)
    db.session.commit()
    return people


def _join_first_cohort(emails: tuple[str, ...], report: SeedReport) -> None:
    first = db.session.scalar(select(Cohort).where(Cohort.name == COHORTS[0][0]))
    for user in db.session.scalars(select(User).where(User.email.in_(emails))):
        if db.session.get(CohortMember, (first.id, user.id)) is None:
            db.session.add(CohortMember(cohort_id=first.id, user_id=user.id))
            report.cohorts[first.name] = report.cohorts.get(first.name, 0) + 1
    db.session.commit()


def _remediate(user: User, failed: Attempt, ability: float, until: datetime,
               rng: random.Random, report: SeedReport) -> tuple[datetime, bool]:
    """Do the study plan a failed attempt set: open the notes, then practise each weak
    topic until passed (two tries at most), all before `until`. Returns when it was
    done, and whether."""
    plan = study.remediation_for(user, failed)
    at = failed.finished_at + timedelta(hours=rng.randint(2, 20))
    if at > until:
        return at, False
    study.record_study(user, plan.facts_to_study, at)
    db.session.commit()
    for topic in plan.topics_to_practise:
        practice = db.session.get(Exam, f"practice-{topic}")
        for _ in range(2):
            at += timedelta(hours=rng.randint(1, 5))
            if at > until:
                return at, False
            report.practice_attempts += 1
            if _sit(user, practice, ability, at, rng).passed:
                break
            ability += 0.25  # practice with feedback teaches
        else:
            return at, False
    return at, True


@contextmanager
def _quick_commits():
    """Every answer commits, as in the app: thousands of commits. Two settings keep
    them quick without changing what is stored: the session keeps its objects after a
    commit (instead of reloading an attempt's thirty items for the next answer), and
    SQLite in WAL mode syncs at checkpoints rather than at every commit (a crash could
    lose the last simulated answers, never corrupt the file)."""
    session = db.session()
    session.expire_on_commit = False
    sqlite = db.engine.dialect.name == "sqlite"
    if sqlite:
        before = session.execute(text("PRAGMA synchronous")).scalar()
        session.execute(text("PRAGMA synchronous=NORMAL"))
    try:
        yield
    finally:
        session.expire_on_commit = True
        if sqlite:
            session.execute(text(f"PRAGMA synchronous={int(before)}"))
        session.expire_all()


def seed_attempts(now: datetime, manager_email: str | None = None,
                  joining: tuple[str, ...] = ()) -> SeedReport:
    """Simulate the demo trainees' attempts, once (a second run changes nothing).
    The accounts of `joining` (emails; the demo's own trainees) join the first cohort,
    so the demo manager sees them too; they get no simulated attempts."""
    report = SeedReport()
    if _seeded_already():
        report.already_ran = True
        return report
    certification = db.session.get(Exam, "certification")
    if certification is None:
        raise LookupError("no certification exam: import the bank first")
    manager = (db.session.scalar(select(User).where(User.email == manager_email))
               if manager_email else None)
    report.manager = manager.email if manager is not None else None
    planted = db.session.get(Question, PLANTED_QUESTION)
    if planted is not None and planted.status == "published":
        key = ", ".join(sorted(planted.latest.correct_ids))
        report.planted = (f"{PLANTED_QUESTION} (the bank's key is {key}; the able trainees"
                          f" choose {PLANTED_CHOICE})")
    trainees = _trainees_in_cohorts(now, manager, report)
    _join_first_cohort(joining, report)
    _seed_angoff_panel(now, report)
    with _quick_commits():
        _simulate(trainees, certification, now, report)
    return report


def _simulate(trainees: list[User], certification: Exam, now: datetime,
              report: SeedReport) -> None:
    """Each trainee's months: the certification, and after a fail the study plan
    (notes, then practice on each weak topic) and a retake, while attempts and time
    are left. Practice comes after a first sitting, never before: a practice quiz on
    the planted question's topic would steer it off the trainee's form (the draw
    prefers questions a trainee has not seen), and first attempts are what the item
    analysis reads."""
    rng = random.Random(SEED)
    last_moment = now - timedelta(hours=2)  # every simulated attempt is over by then
    for user in trainees:
        ability = rng.gauss(1.0, 1.0)
        at = now - timedelta(days=rng.uniform(10, DAYS), hours=rng.uniform(0, 8))
        while at < last_moment:
            if not attempts.eligibility(user, certification, at).allowed:
                break
            report.certification_attempts += 1
            result = _sit(user, certification, ability, at, rng)
            if result.passed:
                report.certified += 1
                break
            if rng.random() < 0.4:
                break  # gives up for now
            at, done = _remediate(user, result, ability, last_moment, rng, report)
            if not done:
                break
            ability += 0.35  # studied since
            at = max(at, result.finished_at + certification.rules.retake_wait)
            at += timedelta(hours=rng.randint(1, 48))
