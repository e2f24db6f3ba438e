"""Teacher exercises: a project with goals that are checked automatically (headless, no Qt).

An exercise lives in ``project.meta["exercise"]`` (see :mod:`studio.exercises.format`); a student's
submission is the same project after editing, so it carries the same exercise id.
:func:`studio.exercises.grade.grade` checks a submission against the exercise it came from.
"""

from studio.exercises.format import Exercise, ExerciseError, Goal, exercise_of, set_exercise
from studio.exercises.grade import GoalResult, grade, grade_structure

__all__ = ["Exercise", "ExerciseError", "Goal", "GoalResult", "exercise_of", "grade", "grade_structure",
           "set_exercise"]
