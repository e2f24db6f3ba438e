"""``nnstudio grade EXERCISE SUBMISSION...``: check each submission against the exercise's goals."""

from __future__ import annotations

import argparse
import json

from studio.cli.command import Command
from studio.cli.common import load
from studio.cli.output import CliError, say


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("exercise", help="the exercise file (.nnstudio with an exercise)")
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION", help="students' project files")
    parser.add_argument("--json", action="store_true", help="print a gradebook as JSON instead of tables")
    parser.add_argument("--no-train", action="store_true", help="skip the goals that need training (they fail)")


def run(args: argparse.Namespace) -> int:
    from studio.exercises import ExerciseError, grade

    exercise, registry = load(args.exercise)
    book = []
    for path in args.submissions:
        submission, _ = load(path)
        try:
            results = grade(exercise, submission, registry, train=not args.no_train, source=path,
                            exercise_source=args.exercise)
        except ExerciseError as exc:
            raise CliError(str(exc), 2) from exc
        book.append({"submission": path, "passed": all(r.passed for r in results),
                     "score": f"{sum(r.passed for r in results)}/{len(results)}",
                     "goals": [r.to_dict() for r in results]})
        if not args.json:
            _table(path, results)
    if args.json:
        say(json.dumps({"exercise": args.exercise, "submissions": book}, indent=2, default=str))
    return 0 if all(entry["passed"] for entry in book) else 1


def _table(path: str, results: list) -> None:
    passed = sum(r.passed for r in results)
    say(f"{path}: {passed}/{len(results)} goals")
    width = max(len(r.goal) for r in results)
    for r in results:
        say(f"  {'PASS' if r.passed else 'FAIL'}  {r.goal.ljust(width)}  {r.detail}")


COMMAND = Command("grade", "check student submissions against an exercise's goals", arguments, run, order=45)
