"""Errors of the zflow package."""
import re

__all__ = ["PipelineError", "StepFailed", "ZflowWarning"]

_PLACE = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::\d+)?: ")
_STEP = re.compile(r'step "(?P<step>[^"]+)"')


class PipelineError(ValueError):
    """A mistake in a pipeline's declaration, found when it is compiled.

    The message reads ``file:line: what is wrong``: the file and line of the Python code (or
    YAML) that declared the step at fault. ``file``, ``line`` and ``step`` hold the same, or
    ``None`` when the message names no place or step.
    """

    def __init__(self, message):
        super().__init__(message)
        place = _PLACE.match(message)
        self.file = place.group("file") if place else None
        self.line = int(place.group("line")) if place else None
        step = _STEP.search(message)
        self.step = step.group("step") if step else None


class StepFailed(RuntimeError):
    """A step's Python function raised, and the run failed because of it.

    ``step`` is the step, ``execution`` the run's result (zflow.RunResult); the exception the
    function raised is this one's ``__cause__``.
    """

    def __init__(self, step, result):
        super().__init__(
            f'step "{step}" failed: {result.error}: {result.cause_message()}')
        self.step = step
        self.execution = result


class ZflowWarning(UserWarning):
    """Something that compiles but is likely a mistake (a result a raw state does not keep, a
    quota the definition gets close to)."""
