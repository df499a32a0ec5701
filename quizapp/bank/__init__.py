"""The question bank: its files, its checker and its place in the database."""

from quizapp.bank.check import check_bank, check_question, uncovered_facts
from quizapp.bank.files import load_bank, write_questions
from quizapp.bank.model import Bank, Problem, Question

__all__ = [
    "Bank", "Problem", "Question", "check_bank", "check_question", "load_bank",
    "uncovered_facts", "write_questions",
]
