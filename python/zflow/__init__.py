"""zflow: ML pipelines declared in Python, compiled to AWS Step Functions, run locally.

A pipeline is a set of steps (Lambda functions, SageMaker training, processing, batch
transform, tuning, models and endpoints, Databricks jobs, waits, ...) and their dependencies::

    import zflow

    p = zflow.Pipeline("fraud-scoring", schedule="cron(0 6 * * ? *)")
    day = p.parameter("day", "2026-11-21")
    min_auc = p.parameter("min_auc", 0.9)
    role = p.external("SageMakerRoleArn", description="Role SageMaker jobs run as",
                      local="arn:aws:iam::123456789012:role/local")
    prep = p.lambda_function("prepare", function_name="prep", payload={"day": day})
    train = p.training("train", image="fraud-gbm:latest", role_arn=role,
                       channels={"train": prep.output("Payload.uri")},
                       output_path=f"s3://bucket/models/{day}", after=prep,
                       metric_definitions={"validation:auc": "validation auc: ([0-9.]+)"})
    p.endpoint("deploy", endpoint_name="fraud", model_name=..., after=train,
               when=train.metric("validation:auc") >= min_auc)

    p.compile("out/")                      # statemachine.asl.json, template.json/.yaml, graph.svg
    result = p.run(virtual_clock=True, mocks="mocks.json", test_case="HappyPath")

The pipeline compiles to exactly the state machine the same pipeline written in YAML (or C++)
compiles to: this package builds the YAML form's document and zflow's C++ core does the rest
(checks, compiler, engine, local stand-ins). References (``day``, ``prep.output(...)``) are
evaluated when the step runs; inside f-strings they make formatted strings.
"""
from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
import sys
import threading
import traceback
import warnings as _warnings
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

from ._errors import PipelineError, StepFailed, ZflowWarning

__all__ = [
    "Pipeline", "Step", "ForEach", "Value", "External", "Condition", "Retry", "OnFailure",
    "Continuous", "Integer", "Categorical", "ProcessingInput", "ProcessingOutput",
    "RunResult", "TaskLog", "FunctionError", "PipelineError", "StepFailed", "ZflowWarning",
    "present", "absent", "execution_name", "execution_id", "execution_start_time",
    "failure_error", "load",
]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _native():
    from . import _core as core  # the compiled part; loaded on first use
    return core


def _caller_place():
    """The file and line of the first frame outside this package."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if os.path.dirname(path) != _PACKAGE_DIR:
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return "<unknown>", 0


# ---- Values and conditions ----------------------------------------------------------------

class Value:
    """A value known when a step runs: a parameter, part of an earlier step's result, the
    execution's name, the current item of a for_each.

    Use it as a field's value, inside an f-string (``f"s3://bucket/{day}/"`` makes a formatted
    string), in comparisons that make a step's ``when=`` condition (``auc >= min_auc``), or
    index it to read part of it (``prep.output("Payload")["uri"]``).
    """

    __slots__ = ("_ref", "_type")

    def __init__(self, ref: str, type: str = "any"):
        self._ref = ref
        self._type = type

    def __str__(self):
        return "{{ " + self._ref + " }}"

    def __format__(self, spec):
        if spec:
            raise ValueError(f"{self!s}: a reference takes no format spec (got {spec!r}); it is "
                             "filled in when the step runs")
        return str(self)

    def __repr__(self):
        return f"zflow.Value({self._ref!r})"

    def __getitem__(self, key):
        if isinstance(key, int):
            return Value(f"{self._ref}[{key}]")
        if not isinstance(key, str) or "'" in key:
            raise TypeError(f"{self!r}[{key!r}]: index with a name (str) or a position (int)")
        if key.isidentifier():
            return Value(f"{self._ref}.{key}")
        return Value(f"{self._ref}['{key}']")

    def __bool__(self):
        raise TypeError(f"{self!r} has no truth value in Python: it is known only when the step "
                        "runs. Pass comparisons to when=, and join them with &, | and ~")

    __hash__ = object.__hash__

    def _compare(self, op, other, reflected=False):
        left, right = (other, self) if reflected else (self, other)
        return Condition(f"{_operand(left)} {op} {_operand(right)}")

    def __eq__(self, other): return self._compare("==", other)  # noqa: E704
    def __ne__(self, other): return self._compare("!=", other)  # noqa: E704
    def __lt__(self, other): return self._compare("<", other)  # noqa: E704
    def __le__(self, other): return self._compare("<=", other)  # noqa: E704
    def __gt__(self, other): return self._compare(">", other)  # noqa: E704
    def __ge__(self, other): return self._compare(">=", other)  # noqa: E704


class External:
    """A resource that exists outside the pipeline (a role ARN, a bucket): a parameter of the
    CloudFormation template, ``${Name}`` in the definition. ``local`` stands in for it in local
    runs. Use it as a value or inside f-strings."""

    __slots__ = ("name", "description", "local")

    def __init__(self, name: str, description: str, local: str):
        self.name, self.description, self.local = name, description, local

    def __str__(self):
        return "${" + self.name + "}"

    __format__ = lambda self, spec: str(self)  # noqa: E731

    def __repr__(self):
        return f"zflow.External({self.name!r})"


def _operand(v):
    if isinstance(v, Value):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        if "'" not in v:
            return f"'{v}'"
        if '"' not in v:
            return f'"{v}"'
        raise ValueError(f"{v!r}: a compared string holds both kinds of quote")
    raise TypeError(f"{v!r} ({type(v).__name__}) cannot be compared in a condition; compare a "
                    "zflow value with a string, a number, a boolean or another value")


class Condition:
    """When a step runs (``when=``): comparisons of values joined with ``&`` (and), ``|`` (or)
    and ``~`` (not); ``present(v)`` / ``absent(v)`` test whether a value exists."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __and__(self, other): return Condition(f"({self.text}) and ({_cond(other).text})")  # noqa: E704
    def __or__(self, other): return Condition(f"({self.text}) or ({_cond(other).text})")  # noqa: E704
    def __invert__(self): return Condition(f"not ({self.text})")  # noqa: E704

    def __bool__(self):
        raise TypeError("a zflow condition has no truth value in Python (it is decided when the "
                        "pipeline runs); join conditions with &, | and ~, not and, or, not")

    def __repr__(self):
        return f"zflow.Condition({self.text!r})"


def _cond(c):
    if not isinstance(c, Condition):
        raise TypeError(f"{c!r} is not a condition; compare values (a > b) to make one")
    return c


def present(v: Value) -> Condition:
    """True when ``v`` exists in the data when the step runs (e.g. an optional result field)."""
    return Condition(f"present({_operand(v)})")


def absent(v: Value) -> Condition:
    """True when ``v`` does not exist in the data when the step runs."""
    return Condition(f"absent({_operand(v)})")


def execution_name() -> Value:
    """The execution's name ($$.Execution.Name), e.g. to name output prefixes."""
    return Value("execution.name", "str")


def execution_id() -> Value:
    """The execution's ARN ($$.Execution.Id)."""
    return Value("execution.id", "str")


def execution_start_time() -> Value:
    """When the execution started ($$.Execution.StartTime)."""
    return Value("execution.start_time", "str")


def failure_error() -> Value:
    """In the on_failure handler's payload: the failed step's {"Error", "Cause"}."""
    return Value("error")


# ---- Settings ---------------------------------------------------------------------------

class Retry:
    """How a step retries: errors matched, first interval, attempts, backoff, jitter."""

    def __init__(self, errors: Union[str, Sequence[str]] = ("States.ALL",), *,
                 interval_seconds: int = 1, max_attempts: int = 3, backoff_rate: float = 2.0,
                 max_delay_seconds: Optional[int] = None, jitter: bool = False):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        self.interval_seconds = interval_seconds
        self.max_attempts = max_attempts
        self.backoff_rate = backoff_rate
        self.max_delay_seconds = max_delay_seconds
        self.jitter = jitter

    def _doc(self):
        d = {"errors": self.errors, "interval_seconds": self.interval_seconds,
             "max_attempts": self.max_attempts, "backoff_rate": float(self.backoff_rate),
             "jitter": self.jitter}
        if self.max_delay_seconds is not None:
            d["max_delay_seconds"] = self.max_delay_seconds
        return d

    def __repr__(self):
        return f"zflow.Retry({self._doc()!r})"


class OnFailure:
    """A Lambda function the pipeline calls when a step fails (after its retries); the
    execution then fails with the step's error. In ``payload``, ``zflow.failure_error()`` is the
    failed step's {"Error", "Cause"}."""

    def __init__(self, name: str, function_name: Any, payload: Optional[Mapping] = None):
        self.name, self.function_name, self.payload = name, function_name, dict(payload or {})

    def _doc(self):
        d = {"name": self.name, "function_name": _plain(self.function_name, "function_name")}
        if self.payload:
            d["payload"] = _plain(self.payload, "payload")
        return d


class Continuous:
    """A tuning range of real numbers (``scaling``: Auto, Linear, Logarithmic,
    ReverseLogarithmic)."""

    def __init__(self, min_value: float, max_value: float, *, scaling: str = "Auto"):
        self.min_value, self.max_value, self.scaling = min_value, max_value, scaling

    def _doc(self):
        d = {"continuous": [self.min_value, self.max_value]}
        if self.scaling != "Auto":
            d["scaling"] = self.scaling
        return d


class Integer(Continuous):
    """A tuning range of whole numbers."""

    def _doc(self):
        d = {"integer": [self.min_value, self.max_value]}
        if self.scaling != "Auto":
            d["scaling"] = self.scaling
        return d


class Categorical:
    """A tuning range of listed values."""

    def __init__(self, values: Iterable[str]):
        self.values = [str(v) for v in values]

    def _doc(self):
        return {"categorical": self.values}


class ProcessingInput:
    """An input of a processing job: ``s3_uri`` is copied to ``local_path`` in the container."""

    def __init__(self, name: str, s3_uri: Any, local_path: str):
        self.name, self.s3_uri, self.local_path = name, s3_uri, local_path

    def _doc(self):
        return {"name": self.name, "s3_uri": _plain(self.s3_uri, "s3_uri"),
                "local_path": self.local_path}


class ProcessingOutput(ProcessingInput):
    """An output of a processing job: ``local_path`` is uploaded to ``s3_uri``."""


# ---- Values to the document -----------------------------------------------------------

def _plain(v, field):
    """A field's value as the YAML document holds it."""
    if isinstance(v, (Value, External)):
        return str(v)
    if isinstance(v, Step):
        raise TypeError(f"{field}: {v!r} is a step; pass a part of its result, e.g. "
                        f"{v.name!r} step.output(\"Payload\")")
    if isinstance(v, Condition):
        raise TypeError(f"{field}: a condition is a step's when=, not a value")
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    if isinstance(v, Mapping):
        out = {}
        for k, item in v.items():
            if not isinstance(k, str):
                raise TypeError(f"{field}: key {k!r} is not a string")
            out[k] = _plain(item, f"{field}.{k}")
        return out
    if isinstance(v, (list, tuple)):
        return [_plain(item, f"{field}[{i}]") for i, item in enumerate(v)]
    if hasattr(v, "_doc"):
        return v._doc()
    raise TypeError(f"{field}: {v!r} ({type(v).__name__}) is not a value zflow can pass; use "
                    "str, int, float, bool, None, lists and dicts of them, or zflow values")


def _fields(kind, values):
    body = {}
    for key, v in values.items():
        if v is None:
            continue
        body[key] = _plain(v, f"{kind}.{key}")
    return body


# ---- Steps ------------------------------------------------------------------------------

class Step:
    """A step of a pipeline: refer to its result with ``output()`` (and ``metric()``,
    ``model_artifacts``, ``model_name``), order it with ``after()``."""

    def __init__(self, owner, name, kind):
        self._owner = owner
        self.name = name
        self.kind = kind
        self._after: list = []

    def __repr__(self):
        return f"<zflow step {self.name!r} ({self.kind})>"

    def output(self, path: str = "") -> Value:
        """Part of the step's result, e.g. ``output("Payload.auc")``; the whole result without
        a path. Known when a later step runs."""
        if not path:
            return Value(f"steps.{self.name}")
        sep = "" if path.startswith("[") else "."
        return Value(f"steps.{self.name}{sep}{path}")

    def metric(self, name: str) -> Value:
        """A training step's final value of one of its metric_definitions."""
        return Value(f"steps.{self.name}.Metrics['{name}']", "number")

    @property
    def model_artifacts(self) -> Value:
        """Training: the model.tar.gz URI; tuning: the best training job's."""
        if self.kind == "tuning":
            return self.output("BestModelArtifacts")
        return self.output("ModelArtifacts.S3ModelArtifacts")

    @property
    def model_name(self) -> Value:
        """A model step's created model name."""
        return self.output("ModelName")

    def after(self, *steps: "Step") -> "Step":
        """Runs after ``steps`` (in addition to those it reads results of)."""
        for s in steps:
            _check_step(s, self._owner)
            if s.name not in self._after:
                self._after.append(s.name)
        return self


def _check_step(s, owner):
    if not isinstance(s, Step):
        raise TypeError(f"after: {s!r} is not a step")
    if s._owner is not owner:
        raise ValueError(f"after: step {s.name!r} belongs to another pipeline or for_each body")


StepArg = Union[Step, Sequence[Step], None]


class _Steps:
    """The step kinds, shared by a pipeline and a for_each body."""

    def _init_steps(self):
        self._steps: list = []  # (Step, kind, body, common, place)

    def _add(self, kind, name, body, common, step=None):
        if not isinstance(name, str):
            raise TypeError(f"a step's name is a string, got {name!r}")
        place = _caller_place()
        root = self
        while isinstance(root, ForEach):
            root = root._owner
        if name in root._names:
            other = root._names[name]
            raise PipelineError(f'{place[0]}:{place[1]}: step "{name}": two steps are named '
                                f'"{name}" (the other is at {other[0]}:{other[1]})')
        root._names[name] = place
        step = step or Step(self, name, kind)
        after, when, retry, timeout_seconds, continue_on_failure = common
        if after is not None:
            step.after(*([after] if isinstance(after, Step) else after))
        extra = {}
        if when is not None:
            extra["when"] = _cond(when).text
        if retry is not None:
            if not isinstance(retry, Retry):
                raise TypeError(f"retry: expected zflow.Retry(...), got {retry!r}")
            extra["retry"] = retry._doc()
        if timeout_seconds is not None:
            extra["timeout_seconds"] = timeout_seconds
        if continue_on_failure is not None and continue_on_failure is not False:
            extra["continue_on_failure"] = (True if continue_on_failure is True
                                            else [continue_on_failure]
                                            if isinstance(continue_on_failure, str)
                                            else list(continue_on_failure))
        self._steps.append((step, kind, body, extra, place))
        return step

    def _step_docs(self, places):
        docs = []
        for step, kind, body, extra, place in self._steps:
            d = {"name": step.name}
            if isinstance(step, ForEach):
                body = dict(body)
                body["steps"] = step._step_docs(places)
            d[kind] = body
            if step._after:
                d["after"] = list(step._after)
            d.update(extra)
            docs.append(d)
            places.setdefault(step.name, place)
        return docs

    # Every step method takes these keywords:
    #   after: the steps it runs after (besides those whose results it reads)
    #   when: a condition; when false the step is skipped and its dependents go on
    #   retry: zflow.Retry(...)
    #   timeout_seconds: the task's timeout
    #   continue_on_failure: True (any error), or the error names, recorded as the result

    def lambda_function(self, name: str, *, function_name: Any, payload: Optional[Mapping] = None,
                        after: StepArg = None, when: Optional[Condition] = None,
                        retry: Optional[Retry] = None, timeout_seconds: Optional[int] = None,
                        continue_on_failure: Union[bool, str, Sequence[str], None] = None) -> Step:
        """Invokes a Lambda function (arn:aws:states:::lambda:invoke). Result: {"Payload":
        what it returned}. Locally: a function of the profile, or a Python function registered
        with @pipeline.function(name)."""
        return self._add("lambda", name, _fields("lambda", {
            "function_name": function_name, "payload": payload}),
            (after, when, retry, timeout_seconds, continue_on_failure))

    def training(self, name: str, *, image: Any, role_arn: Any, output_path: Any,
                 channels: Optional[Mapping] = None, hyperparameters: Optional[Mapping] = None,
                 content_type: Any = None, instance_type: Any = None, instance_count: Any = None,
                 volume_size_gb: Any = None, max_runtime_seconds: Any = None,
                 metric_definitions: Optional[Mapping[str, str]] = None,
                 environment: Optional[Mapping] = None,
                 after: StepArg = None, when: Optional[Condition] = None,
                 retry: Optional[Retry] = None, timeout_seconds: Optional[int] = None,
                 continue_on_failure: Union[bool, str, Sequence[str], None] = None) -> Step:
        """A SageMaker training job (createTrainingJob.sync), named "<step>-<execution>".
        Result: TrainingJobName, ModelArtifacts.S3ModelArtifacts, and with metric_definitions
        ({"name": "regex over the job's log"}) Metrics (see Step.metric)."""
        return self._add("training", name, _training_body(locals()),
                         (after, when, retry, timeout_seconds, continue_on_failure))

    def processing(self, name: str, *, image: Any, role_arn: Any,
                   entrypoint: Optional[Sequence[str]] = None,
                   arguments: Optional[Sequence] = None,
                   inputs: Optional[Sequence[ProcessingInput]] = None,
                   outputs: Optional[Sequence[ProcessingOutput]] = None,
                   instance_type: Any = None, instance_count: Any = None,
                   volume_size_gb: Any = None, max_runtime_seconds: Any = None,
                   environment: Optional[Mapping] = None,
                   after: StepArg = None, when: Optional[Condition] = None,
                   retry: Optional[Retry] = None, timeout_seconds: Optional[int] = None,
                   continue_on_failure: Union[bool, str, Sequence[str], None] = None) -> Step:
        """A SageMaker processing job (createProcessingJob.sync). Result: ProcessingJobName,
        ProcessingOutputConfig."""
        return self._add("processing", name, _fields("processing", {
            "image": image, "role_arn": role_arn, "entrypoint": entrypoint,
            "arguments": arguments, "inputs": inputs, "outputs": outputs,
            "instance_type": instance_type, "instance_count": instance_count,
            "volume_size_gb": volume_size_gb, "max_runtime_seconds": max_runtime_seconds,
            "environment": environment}),
            (after, when, retry, timeout_seconds, continue_on_failure))

    def transform(self, name: str, *, model_name: Any, input_uri: Any, output_uri: Any,
                  content_type: Optional[str] = None, split_type: Optional[str] = None,
                  strategy: Optional[str] = None, assemble_with: Optional[str] = None,
                  accept: Optional[str] = None, max_payload_mb: Optional[int] = None,
                  instance_type: Any = None, instance_count: Any = None,
                  environment: Optional[Mapping] = None,
                  after: StepArg = None, when: Optional[Condition] = None,
                  retry: Optional[Retry] = None, timeout_seconds: Optional[int] = None,
                  continue_on_failure: Union[bool, str, Sequence[str], None] = None) -> Step:
        """A SageMaker batch transform job (createTransformJob.sync). Result:
        TransformJobName, TransformOutput.S3OutputPath."""
        return self._add("transform", name, _fields("transform", {
            "model_name": model_name, "input_uri": input_uri, "output_uri": output_uri,
            "content_type": content_type, "split_type": split_type, "strategy": strategy,
            "assemble_with": assemble_with, "accept": accept, "max_payload_mb": max_payload_mb,
            "instance_type": instance_type, "instance_count": instance_count,
            "environment": environment}),
            (after, when, retry, timeout_seconds, continue_on_failure))

    def tuning(self, name: str, *, training: Mapping, objective_metric: str,
               ranges: Mapping[str, Union[Continuous, Integer, Categorical]],
               objective_type: Optional[str] = None, strategy: Optional[str] = None,
               max_jobs: Optional[int] = None, max_parallel_jobs: Optional[int] = None,
               after: StepArg = None, when: Optional[Condition] = None,
               retry: Optional[Retry] = None, timeout_seconds: Optional[int] = None,
               continue_on_failure: Union[bool, str, Sequence[str], None] = None) -> Step:
        """A SageMaker hyperparameter tuning job (createHyperParameterTuningJob.sync) over
        ``training`` (the keyword arguments of training(), as a dict). Result:
        HyperParameterTuningJobName, BestTrainingJob, BestModelArtifacts."""
        return self._add("tuning", name, _fields("tuning", {
            "training": _training_body(dict(training)), "objective_metric": objective_metric,
            "objective_type": objective_type, "ranges": ranges, "strategy": strategy,
            "max_jobs": max_jobs, "max_parallel_jobs": max_parallel_jobs}),
            (after, when, retry, timeout_seconds, continue_on_failure))

    def model(self, name: str, *, image: Any, model_data_url: Any, role_arn: Any,
              environment: Optional[Mapping] = None,
              after: StepArg = None, when: Optional[Condition] = None,
              retry: Optional[Retry] = None, timeout_seconds: Optional[int] = None,
              continue_on_failure: Union[bool, str, Sequence[str], None] = None) -> Step:
        """A SageMaker model (createModel), named "<step>-<execution>". Result: ModelArn,
        ModelName (see Step.model_name)."""
        return self._add("model", name, _fields("model", {
            "image": image, "model_data_url": model_data_url, "role_arn": role_arn,
            "environment": environment}),
            (after, when, retry, timeout_seconds, continue_on_failure))

    def endpoint(self, name: str, *, endpoint_name: Any, model_name: Any,
                 instance_type: Any = None, initial_instance_count: Any = None,
                 variant_name: Optional[str] = None, poll_seconds: Optional[int] = None,
                 after: StepArg = None, when: Optional[Condition] = None,
                 retry: Optional[Retry] = None, timeout_seconds: Optional[int] = None,
                 continue_on_failure: Union[bool, str, Sequence[str], None] = None) -> Step:
        """Deploys a model to a real-time endpoint (created or updated, then waited for until
        InService). Result: EndpointName, EndpointConfigName."""
        return self._add("endpoint", name, _fields("endpoint", {
            "endpoint_name": endpoint_name, "model_name": model_name,
            "instance_type": instance_type, "initial_instance_count": initial_instance_count,
            "variant_name": variant_name, "poll_seconds": poll_seconds}),
            (after, when, retry, timeout_seconds, continue_on_failure))

    def databricks(self, name: str, *, workspace_url: Any, connection_arn: Any,
                   python_file: Any, parameters: Optional[Sequence] = None,
                   existing_cluster_id: Any = None, spark_version: Optional[str] = None,
                   node_type_id: Optional[str] = None, num_workers: Optional[int] = None,
                   poll_seconds: Optional[int] = None,
                   after: StepArg = None, when: Optional[Condition] = None,
                   retry: Optional[Retry] = None, timeout_seconds: Optional[int] = None,
                   continue_on_failure: Union[bool, str, Sequence[str], None] = None) -> Step:
        """A Databricks job run (Jobs API 2.1 runs/submit, then runs/get until it ends) over
        HTTP tasks with an EventBridge connection. Result: run_id, state."""
        return self._add("databricks", name, _fields("databricks", {
            "workspace_url": workspace_url, "connection_arn": connection_arn,
            "python_file": python_file, "parameters": parameters,
            "existing_cluster_id": existing_cluster_id, "spark_version": spark_version,
            "node_type_id": node_type_id, "num_workers": num_workers,
            "poll_seconds": poll_seconds}),
            (after, when, retry, timeout_seconds, continue_on_failure))

    def wait(self, name: str, *, seconds: Any, after: StepArg = None,
             when: Optional[Condition] = None) -> Step:
        """Waits ``seconds`` (a number or a value)."""
        return self._add("wait", name, _fields("wait", {"seconds": seconds}),
                         (after, when, None, None, None))

    def pass_state(self, name: str, *, result: Any = None, after: StepArg = None,
                   when: Optional[Condition] = None) -> Step:
        """A fixed result (JSON), e.g. a placeholder while a step is written."""
        body = {} if result is None else {"result": _plain(result, "pass.result")}
        return self._add("pass", name, body, (after, when, None, None, None))

    def fail(self, name: str, *, error: Optional[str] = None, cause: Optional[str] = None,
             after: StepArg = None, when: Optional[Condition] = None) -> Step:
        """Ends the execution as failed with ``error`` and ``cause``."""
        return self._add("fail", name, _fields("fail", {"error": error, "cause": cause}),
                         (after, when, None, None, None))

    def raw_state(self, name: str, state: Mapping, *, after: StepArg = None,
                  when: Optional[Condition] = None, retry: Optional[Retry] = None,
                  timeout_seconds: Optional[int] = None,
                  continue_on_failure: Union[bool, str, Sequence[str], None] = None) -> Step:
        """Escape hatch: one ASL state (a dict, without Next or End; zflow links it). Give it
        "ResultPath": "$.steps['<name>']" when later steps read its result."""
        return self._add("state", name, _plain(state, "state"),
                         (after, when, retry, timeout_seconds, continue_on_failure))

    def for_each(self, name: str, *, items: Any, max_concurrency: Optional[int] = None,
                 after: StepArg = None, when: Optional[Condition] = None,
                 retry: Optional[Retry] = None, timeout_seconds: Optional[int] = None,
                 continue_on_failure: Union[bool, str, Sequence[str], None] = None
                 ) -> "ForEach":
        """Runs a body of steps once per item of ``items`` (a Map state)::

            with p.for_each("score-regions", items=regions, max_concurrency=4) as each:
                each.lambda_function("score", function_name="score",
                                     payload={"region": each.item})

        Inside, ``each.item`` is the item. Result: one object per item with the body's step
        results."""
        fe = ForEach(self, name)
        return self._add("for_each", name, _fields("for_each", {
            "items": items, "max_concurrency": max_concurrency}),
            (after, when, retry, timeout_seconds, continue_on_failure), step=fe)


def _training_body(args):
    return _fields("training", {k: args.get(k) for k in (
        "image", "role_arn", "hyperparameters", "channels", "content_type", "output_path",
        "instance_type", "instance_count", "volume_size_gb", "max_runtime_seconds",
        "metric_definitions", "environment")})


class ForEach(Step, _Steps):
    """A for_each step: a Step for the steps after it, and a context manager (and step
    methods) for its body."""

    def __init__(self, owner, name):
        Step.__init__(self, owner, name, "for_each")
        self._init_steps()

    @property
    def item(self) -> Value:
        """The current item."""
        return Value("item")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ---- Runs -------------------------------------------------------------------------------

class FunctionError(Exception):
    """Raised by a Python Lambda function to fail with a named error (Retry and Catch match
    ``error_type``), as a Lambda function's exception type does."""

    def __init__(self, error_type: str, message: str = ""):
        super().__init__(message)
        self.error_type = error_type


class TaskLog:
    """What one task printed: ``state``, the ``event_id`` of its answer, ``text``."""

    __slots__ = ("state", "event_id", "text")

    def __init__(self, state, event_id, text):
        self.state, self.event_id, self.text = state, event_id, text

    def __repr__(self):
        return f"<zflow task log {self.state!r}, event {self.event_id}, {len(self.text)} chars>"


class RunResult:
    """How a local run ended: ``status`` (SUCCEEDED, FAILED, TIMED_OUT, ABORTED), ``output``
    (on success), ``error`` and ``cause`` (otherwise), ``history`` (the events, as
    GetExecutionHistory returns them), ``logs`` (what each task printed)."""

    def __init__(self, raw):
        self.status = raw["status"]
        self.output = json.loads(raw["output"])
        self.error = raw["error"] or None
        self.cause = raw["cause"] or None
        self.history = json.loads(raw["history"])["events"]
        self.execution_arn = raw["execution_arn"]
        self.name = raw["name"]
        self.logs = [TaskLog(*entry) for entry in raw["logs"]]

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    def log(self, step: str) -> str:
        """All a step's tasks printed (its states are "<step>" and "<step>: ...")."""
        return "".join(l.text for l in self.logs
                       if l.state == step or l.state.startswith(step + ": "))

    def cause_message(self) -> str:
        """The cause's errorMessage when it is a Lambda-style error document, else the cause."""
        try:
            doc = json.loads(self.cause or "")
            if isinstance(doc, dict) and "errorMessage" in doc:
                return str(doc["errorMessage"])
        except ValueError:
            pass
        return self.cause or ""

    def failed_state(self) -> Optional[str]:
        """The state whose task failure ended the run (the last task that failed)."""
        state = failed = None
        for e in self.history:
            details = e.get("stateEnteredEventDetails")
            if details:
                state = details["name"]
            if e["type"] in ("TaskFailed", "LambdaFunctionFailed", "TaskTimedOut"):
                failed = state
        return failed

    def __repr__(self):
        if self.succeeded:
            return f"<zflow run {self.name}: SUCCEEDED>"
        return f"<zflow run {self.name}: {self.status}: {self.error}: {self.cause_message()[:200]}>"


class _CapturedOutput(io.TextIOBase):
    """sys.stdout / sys.stderr while Python functions run: each worker thread's prints go to
    its task's log, other threads' to the real stream."""

    def __init__(self, base, local):
        super().__init__()
        self._base, self._local = base, local

    def write(self, s):
        buf = getattr(self._local, "buffer", None)
        return (buf if buf is not None else self._base).write(s)

    def flush(self):
        if getattr(self._local, "buffer", None) is None:
            self._base.flush()

    def isatty(self):
        return False


class _Invoker:
    """Calls Python Lambda functions for the engine: JSON in and out, prints captured, and an
    exception turned into the error a Lambda function's exception makes."""

    def __init__(self, functions):
        self.functions = functions
        self.raised = []  # (function, exception)
        self._local = threading.local()

    def __call__(self, name, event_text):
        fn = self.functions[name]
        buffer = io.StringIO()
        self._local.buffer = buffer
        try:
            result = fn(json.loads(event_text))
            try:
                text = json.dumps(result, allow_nan=False)
            except (TypeError, ValueError) as e:
                return ("Runtime.MarshalError",
                        json.dumps({"errorMessage": f"function {name} returned what JSON cannot "
                                    f"hold: {e}", "errorType": "Runtime.MarshalError"}),
                        buffer.getvalue())
            return (None, text, buffer.getvalue())
        except Exception as e:  # the function's failure is the task's
            error_type = e.error_type if isinstance(e, FunctionError) else type(e).__name__
            trace = traceback.format_exception(type(e), e, e.__traceback__)
            self.raised.append((error_type, e))
            cause = {"errorMessage": str(e), "errorType": error_type,
                     "stackTrace": [line.rstrip("\n") for line in trace[1:]]}
            return (error_type, json.dumps(cause), buffer.getvalue() + "".join(trace))
        finally:
            self._local.buffer = None

    @contextlib.contextmanager
    def capturing(self):
        saved = sys.stdout, sys.stderr
        sys.stdout = _CapturedOutput(saved[0], self._local)
        sys.stderr = _CapturedOutput(saved[1], self._local)
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved


# ---- Pipelines --------------------------------------------------------------------------

class Pipeline(_Steps):
    """An ML pipeline: parameters, externals and steps, compiled to one AWS Step Functions
    state machine (and a CloudFormation template that deploys it with its schedule).

    Keywords: ``schedule`` (an EventBridge expression: "cron(0 6 * * ? *)", "rate(1 day)"),
    ``comment``, ``tags`` (on the state machine and SageMaker jobs), ``default_retry`` and
    ``default_timeout_seconds`` (for task steps without their own), ``on_failure``
    (zflow.OnFailure: a Lambda function called when a step fails), ``query_language``
    ("JSONPath", the default, or "JSONata": the state machine written in JSONata, computing
    the same data).
    """

    def __init__(self, name: str, *, schedule: Optional[str] = None,
                 comment: Optional[str] = None, tags: Optional[Mapping[str, str]] = None,
                 default_retry: Optional[Retry] = None,
                 default_timeout_seconds: Optional[int] = None,
                 on_failure: Optional[OnFailure] = None,
                 query_language: Optional[str] = None):
        if query_language not in (None, "JSONPath", "JSONata"):
            raise ValueError(f"query_language: expected 'JSONPath' or 'JSONata', not "
                             f"{query_language!r}")
        self.name = name
        self.query_language = query_language
        self.schedule = schedule
        self.comment = comment
        self.tags = dict(tags or {})
        self.default_retry = default_retry
        self.default_timeout_seconds = default_timeout_seconds
        self.on_failure = on_failure
        self._parameters: dict = {}
        self._externals: dict = {}
        self._functions: dict = {}
        self._file, self._line = _caller_place()
        self._names: dict = {}  # every step's name (for_each bodies too) -> where declared
        self._init_steps()

    def __repr__(self):
        return f"<zflow pipeline {self.name!r}: {len(self._steps)} steps>"

    def parameter(self, name: str, default: Union[str, int, float, bool]) -> Value:
        """An input of the execution with its default; the execution input overrides it
        ({"day": "2026-11-22"}). Its type is the default's: an input of another type fails
        the run before any step runs (Pipeline.InvalidParameter)."""
        if isinstance(default, bool):
            kind = "boolean"
        elif isinstance(default, (int, float)):
            kind = "number"
        elif isinstance(default, str):
            kind = "str"
        else:
            raise TypeError(f"parameter {name!r}: the default must be a str, a number or a "
                            f"bool, got {type(default).__name__}")
        self._parameters[name] = default
        return Value(f"params.{name}", kind)

    def external(self, name: str, *, description: str = "", local: str = "") -> External:
        """A resource outside the pipeline (a CloudFormation parameter, "${name}" in the
        definition); ``local`` stands in for it in local runs."""
        e = External(name, description or name, local)
        self._externals[name] = e
        return e

    def function(self, name: str) -> Callable:
        """Decorator: the Python function that serves Lambda function ``name`` in local runs
        (run() and `zflow run`). It takes the event (JSON as Python) and returns the
        payload; an exception fails the task with its class name as the error (or
        zflow.FunctionError's error_type)."""
        def register(fn):
            self._functions[name] = fn
            return fn
        return register

    # ---- the document and the core ----

    def document(self) -> dict:
        """The pipeline as the YAML form's document (what `zflow compile` reads from YAML)."""
        return self._document_and_places()[0]

    def _document_and_places(self):
        doc: dict = {"pipeline": self.name}
        if self.comment:
            doc["comment"] = self.comment
        if self.schedule:
            doc["schedule"] = self.schedule
        if self.query_language:
            doc["query_language"] = self.query_language
        if self.tags:
            doc["tags"] = dict(self.tags)
        if self._parameters:
            doc["parameters"] = dict(self._parameters)
        if self._externals:
            doc["externals"] = {n: {"description": e.description, "local": e.local}
                                for n, e in self._externals.items()}
        defaults = {}
        if self.default_retry is not None:
            defaults["retry"] = self.default_retry._doc()
        if self.default_timeout_seconds is not None:
            defaults["timeout_seconds"] = self.default_timeout_seconds
        if defaults:
            doc["defaults"] = defaults
        if self.on_failure is not None:
            doc["on_failure"] = self.on_failure._doc()
        places: dict = {}
        doc["steps"] = self._step_docs(places)
        return doc, places

    def _declared(self):
        doc, places = self._document_and_places()
        lines = {name: line for name, (file, line) in places.items() if file == self._file}
        return _native().load(json.dumps(doc, allow_nan=False), self._file, self._line, lines)

    # ---- what users call ----

    def validate(self) -> dict:
        """Compiles and validates the pipeline; raises PipelineError (with the file and line
        that declared the faulty step). Returns {"states", "schedule", "actions" (what the
        execution role may do), "warnings"}."""
        summary = self._declared().summary()
        for w in summary["warnings"]:
            _warnings.warn(w, ZflowWarning, stacklevel=2)
        return summary

    def definition(self) -> dict:
        """The compiled Amazon States Language definition."""
        return json.loads(self._declared().definition())

    def compile(self, out_dir: Optional[Union[str, os.PathLike]] = None) -> dict:
        """Writes statemachine.asl.json, template.json, template.yaml and graph.svg to
        ``out_dir`` (all or nothing), the same files `zflow compile` writes. Returns {file
        name: contents}; without ``out_dir`` nothing is written."""
        built = self._declared().files("" if out_dir is None else os.fspath(out_dir))
        for w in built["warnings"]:
            _warnings.warn(w, ZflowWarning, stacklevel=2)
        return {name: data.decode() for name, data in built["files"].items()}

    def graph(self, format: str = "svg", level: str = "steps") -> str:
        """The pipeline drawn: its steps and dependencies (level="steps"), or the compiled state
        machine (level="states"); format "svg", "dot" or "mermaid"."""
        return self._declared().graph(format, level)

    def _repr_svg_(self):
        try:
            return self.graph("svg", "steps")
        except Exception:  # a notebook shows the text repr instead
            return None

    def run(self, input: Optional[Mapping] = None, *, profile: Optional[str] = None,
            mocks: Union[str, Mapping, None] = None, test_case: Optional[str] = None,
            virtual_clock: bool = False, functions: Optional[Mapping[str, Callable]] = None,
            work_dir: Optional[str] = None, s3_root: Optional[str] = None,
            name: Optional[str] = None, echo_tasks: bool = False, logs: bool = False,
            check: bool = True) -> RunResult:
        """Runs the compiled state machine on zflow's engine with the local stand-ins.

        ``input``: the execution input (parameters); ``profile``: zflow.profile.yaml (default:
        ./zflow.profile.yaml when present); ``mocks`` and ``test_case``: a Step Functions Local
        mock configuration (a file or a dict) and its test case; ``virtual_clock``: waits and
        backoffs take no time; ``functions``: Python functions serving Lambda functions (with
        those from @pipeline.function); ``logs``: print what each task printed as it ends.

        When a Python function's exception fails the run, StepFailed is raised (the exception is
        its __cause__) unless ``check`` is False; otherwise the result says how it ended.
        """
        if mocks is not None and test_case is None:
            raise ValueError("mocks need a test_case")
        if input is not None and not isinstance(input, Mapping):
            raise TypeError(f"input: a dict of the pipeline's parameters, not {input!r}")
        for key in input or {}:
            if key not in self._parameters:
                import difflib
                close = difflib.get_close_matches(key, list(self._parameters), 1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                names = ", ".join(self._parameters) or "none"
                raise ValueError(f'input: "{key}" is not a parameter of {self.name}{hint}; its '
                                 f"parameters: {names}; nothing was run")
        if isinstance(mocks, (str, os.PathLike)):
            with open(mocks, encoding="utf-8") as f:
                mock_text = f.read()
        elif mocks is not None:
            mock_text = json.dumps(mocks)
        else:
            mock_text = ""
        table = dict(self._functions)
        table.update(functions or {})
        for fname, fn in table.items():
            if not callable(fn):
                raise TypeError(f"functions[{fname!r}] is not callable")
        invoker = _Invoker(table)
        on_log = None
        if logs:
            def on_log(state, event_id, text):
                sys.__stderr__.write(f"── {state} (event {event_id}) printed:\n{text}"
                                     f"{'' if text.endswith(chr(10)) else chr(10)}")
        declared = self._declared()
        with invoker.capturing():
            raw = declared.run(json.dumps(dict(input or {}), allow_nan=False), name or "",
                               profile or "", work_dir or "", s3_root or "", mock_text,
                               test_case or "", virtual_clock, echo_tasks, list(table),
                               invoker, on_log)
        result = RunResult(raw)
        if check and result.status == "FAILED":
            for error_type, exc in reversed(invoker.raised):
                if error_type == result.error:
                    state = result.failed_state() or "?"
                    raise StepFailed(state.split(": ")[0], result) from exc
        return result

    def main(self, argv: Optional[Sequence[str]] = None) -> int:
        """The zflow command line for this pipeline: validate, compile -o DIR, graph, run
        [--input ... --mock-config ... --virtual-clock ...]. With
        ``if __name__ == "__main__": sys.exit(p.main())``, `python3 pipeline.py run` works
        like `zflow run pipeline.py`."""
        args = list(sys.argv if argv is None else argv)
        if args:
            args[0] = os.path.basename(args[0]) or "zflow"
        try:
            declared = self._declared()
        except PipelineError as e:
            print(e, file=sys.stderr)
            return 1
        invoker = _Invoker(dict(self._functions))
        with invoker.capturing():
            return declared.main(args, list(self._functions), invoker)


    def deploy(self, *, endpoint_url: Optional[str] = None, name: Optional[str] = None,
               schedule: Optional[str] = None, time_zone: str = "UTC",
               input: Optional[Mapping] = None) -> None:
        """Creates or updates the pipeline on a running `zflow serve` (default:
        $ZFLOW_ENDPOINT or http://127.0.0.1:8083), with its schedule and step graph, as
        `zflow deploy --local pipeline.py` does. To deploy to AWS, compile() and deploy the
        CloudFormation template. Raises RuntimeError when the server refuses it."""
        argv = ["zflow", "deploy", "--local", "--time-zone", time_zone]
        for flag, value in (("--endpoint-url", endpoint_url), ("--name", name),
                            ("--schedule", schedule)):
            if value is not None:
                argv += [flag, value]
        if input is not None:
            argv += ["--input", json.dumps(dict(input))]
        code = self._declared().main(argv, [], _Invoker({}))
        if code != 0:
            raise RuntimeError(f"deploying {self.name} failed (exit {code}); see the message above")


def _document_fields():
    """Appends each step method's fields, from the table the YAML loader reads its keys from
    (the same text as the field reference in docs/pipelines.md), to its docstring."""
    try:
        kinds, common = _native().step_kinds()
    except ImportError:  # the compiled part is missing: the docstrings stay short
        return

    def lines(fields):
        out = []
        for f in fields:
            if f["key"] in ("name", "steps"):
                continue
            default = f" (default {f['default']})" if f["default"] else ""
            required = ", required" if f["required"] else ""
            out.append(f"    {f['key']}: {f['type']}{required}{default}. {f['doc']}")
        return "\n".join(out)

    for kind in kinds:
        method = getattr(_Steps, kind["python"], None)
        if method is None or not method.__doc__:
            continue
        text = method.__doc__.rstrip()
        if kind["fields"]:
            text += "\n\nFields:\n" + lines(kind["fields"])
        taken = inspect.signature(method).parameters
        text += "\n\nAlso:\n" + lines([f for f in common if f["key"] in taken])
        method.__doc__ = text


_document_fields()


def load(path: Union[str, os.PathLike], name: Optional[str] = None) -> Pipeline:
    """The pipeline a Python file declares (runs the file; its ``__name__`` is not
    "__main__"). With several pipelines in the file, ``name`` picks one."""
    import runpy
    path = os.fspath(path)
    found = [v for v in runpy.run_path(path, run_name="__zflow__").values()
             if isinstance(v, Pipeline)]
    if name is not None:
        found = [p for p in found if p.name == name]
    unique = list({id(p): p for p in found}.values())
    if len(unique) != 1:
        names = ", ".join(p.name for p in unique) or "none"
        raise PipelineError(f"{path}: expected one zflow.Pipeline at the top level of the file"
                            f"{' named ' + repr(name) if name else ''}; found {names}")
    return unique[0]
