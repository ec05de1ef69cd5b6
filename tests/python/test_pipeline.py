"""The zflow Python module: declaring, compiling, drawing and running pipelines."""
import inspect
import json
import os
import subprocess
import sys
import warnings

import pytest

import zflow


def line_of(marker, path=__file__):
    """The line of this file holding `marker` (in a comment), for located errors."""
    with open(path, encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            if marker in text and "line_of(" not in text:
                return n
    raise AssertionError(marker)


# ---- declaring and compiling -------------------------------------------------------------

def small_pipeline():
    p = zflow.Pipeline("small")
    n = p.parameter("n", 3)
    first = p.lambda_function("first", function_name="double", payload={"n": n})
    p.lambda_function("second", function_name="double",
                      payload={"n": first.output("Payload.n")}, after=first)
    return p


def test_compiles_to_the_yaml_forms_state_machine(tmp_path):
    yaml_file = tmp_path / "small.yaml"
    yaml_file.write_text(
        "pipeline: small\n"
        "parameters: {n: 3}\n"
        "steps:\n"
        "  - name: first\n"
        "    lambda: {function_name: double, payload: {n: '{{ params.n }}'}}\n"
        "  - name: second\n"
        "    after: [first]\n"
        "    lambda: {function_name: double, payload: {n: '{{ steps.first.Payload.n }}'}}\n")
    subprocess.run([os.environ.get("ZFLOW_BIN", "zflow"), "compile", str(yaml_file), "-o",
                    str(tmp_path / "yaml")], check=True, capture_output=True)
    files = small_pipeline().compile(tmp_path / "py")
    for name in ("statemachine.asl.json", "template.json", "template.yaml", "graph.svg"):
        assert (tmp_path / "py" / name).read_text() == (tmp_path / "yaml" / name).read_text()
        assert files[name] == (tmp_path / "py" / name).read_text()


def test_compile_without_a_directory_writes_nothing(tmp_path):
    files = small_pipeline().compile()
    assert set(files) == {"statemachine.asl.json", "template.json", "template.yaml", "graph.svg"}
    definition = json.loads(files["statemachine.asl.json"])
    assert definition == small_pipeline().definition()
    assert definition["States"]["second"]["Parameters"]["Payload"]["n.$"] == \
        "$.steps['first'].Payload.n"


def test_query_language_jsonata_writes_and_runs_the_jsonata_form():
    p = zflow.Pipeline("small", query_language="JSONata")
    n = p.parameter("n", 3)
    first = p.lambda_function("first", function_name="double", payload={"n": n})
    p.lambda_function("second", function_name="double",
                      payload={"n": first.output("Payload.n")}, after=first)
    definition = p.definition()
    assert definition["QueryLanguage"] == "JSONata"
    assert definition["States"]["second"]["Arguments"]["Payload"]["n"] == \
        "{% $states.input.steps.first.Payload.n %}"
    assert "Parameters" not in definition["States"]["second"]
    with pytest.raises(ValueError, match="query_language"):
        zflow.Pipeline("bad", query_language="jsonata")


def test_values_in_f_strings_are_formatted_strings():
    p = zflow.Pipeline("fmt")
    day = p.parameter("day", "2026-11-21")
    bucket = p.external("Bucket", local="local-bucket")
    p.lambda_function("go", function_name="f", payload={"uri": f"s3://{bucket}/{day}/x"})
    payload = p.definition()["States"]["go"]["Parameters"]["Payload"]
    assert payload["uri.$"] == "States.Format('s3://${Bucket}/{}/x', $.params['day'])"


def test_a_reference_error_names_the_python_line_of_the_step():
    p = zflow.Pipeline("bad")
    a = p.lambda_function("a", function_name="f")
    p.lambda_function("b", function_name="f", payload={"x": a.output("Payload")})  # STEP-B
    with pytest.raises(zflow.PipelineError) as e:
        p.validate()
    assert e.value.file == __file__
    assert e.value.line == line_of("# STEP-B")
    assert e.value.step == "b"
    assert f"{__file__}:{line_of('# STEP-B')}: " in str(e.value)
    assert "does not run after" in str(e.value)


def test_a_field_error_names_the_python_line_and_the_field():
    p = zflow.Pipeline("bad-field")
    p.training("train", image="img", role_arn="arn:aws:iam::123456789012:role/r",  # TRAIN
               output_path="s3://b/m", instance_count="many")
    with pytest.raises(zflow.PipelineError) as e:
        p.compile()
    assert e.value.line == line_of("# TRAIN")
    assert "instance_count" in str(e.value) and "expected a number" in str(e.value)


def test_pipeline_errors_without_a_step_name_the_pipelines_line():
    p = zflow.Pipeline("bad-schedule", schedule="cron(nonsense)")  # PIPELINE
    p.wait("w", seconds=1)
    with pytest.raises(zflow.PipelineError) as e:
        p.validate()
    assert e.value.line == line_of("# PIPELINE")
    assert "schedule" in str(e.value)


def test_cycles_and_duplicates_are_located():
    p = zflow.Pipeline("cycle")
    a = p.wait("a", seconds=1)
    b = p.wait("b", seconds=1, after=a)
    a.after(b)
    with pytest.raises(zflow.PipelineError) as e:
        p.validate()
    assert e.value.step == "a" and e.value.line == line_of("a = p.wait(\"a\"")
    assert "cycle" in str(e.value)
    p = zflow.Pipeline("dup")
    p.wait("same", seconds=1)
    with pytest.raises(zflow.PipelineError) as e:
        p.wait("same", seconds=2)  # DUPLICATE
    assert e.value.line == line_of("# DUPLICATE") and e.value.step == "same"
    assert "two steps are named" in str(e.value)


def test_wrong_python_values_fail_where_they_are_passed():
    p = zflow.Pipeline("types")
    a = p.wait("a", seconds=1)
    with pytest.raises(TypeError, match="is a step"):
        p.lambda_function("b", function_name="f", payload={"x": a})
    with pytest.raises(TypeError, match="not a value zflow can pass"):
        p.lambda_function("c", function_name="f", payload={"x": object()})
    with pytest.raises(TypeError, match="no truth value"):
        if a.output("x") > 1:
            pass
    with pytest.raises(TypeError, match="unexpected keyword"):
        p.lambda_function("d", function_name="f", paylod={})
    with pytest.raises(TypeError, match="default must be"):
        p.parameter("p", [1])


def test_conditions_compile_to_choice_rules():
    p = zflow.Pipeline("cond")
    x = p.parameter("x", 1)
    mode = p.parameter("mode", "fast")
    p.wait("w", seconds=1, when=((x > 2) & (mode == "fast")) | ~(x <= 0))
    states = p.definition()["States"]
    choice = next(s for s in states.values() if s["Type"] == "Choice" and "Or" in
                  s["Choices"][0])
    rule = choice["Choices"][0]
    assert rule["Or"][0]["And"][0] == {"Variable": "$.params['x']", "NumericGreaterThan": 2}
    assert rule["Or"][0]["And"][1] == {"Variable": "$.params['mode']", "StringEquals": "fast"}
    assert rule["Or"][1]["Not"] == {"Variable": "$.params['x']", "NumericLessThanEquals": 0}


def test_raw_state_without_result_path_warns():
    p = zflow.Pipeline("raw")
    raw = p.raw_state("lookup", {"Type": "Pass", "Result": {"v": 1}})
    p.lambda_function("use", function_name="f", payload={"v": raw.output("v")}, after=raw)
    with pytest.warns(zflow.ZflowWarning, match="does not keep its result"):
        p.compile()
    p2 = zflow.Pipeline("raw-kept")
    raw = p2.raw_state("lookup", {"Type": "Pass", "Result": {"v": 1},
                                  "ResultPath": "$.steps['lookup']"})
    p2.lambda_function("use", function_name="f", payload={"v": raw.output("v")}, after=raw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p2.compile()


def test_graph_and_notebook_display():
    p = small_pipeline()
    svg = p._repr_svg_()
    assert "<svg" in svg and "first" in svg and "second" in svg
    dot = p.graph("dot", "steps")
    assert "first" in dot and "->" in dot
    assert "States" not in p.graph("mermaid", "states")
    with pytest.raises(ValueError, match="expected dot, mermaid or svg"):
        p.graph("png")


def test_help_describes_every_step_kind():
    for kind in ("lambda_function", "training", "processing", "transform", "tuning", "model",
                 "endpoint", "databricks", "wait", "pass_state", "fail", "raw_state",
                 "for_each"):
        method = getattr(zflow.Pipeline, kind)
        assert method.__doc__ and len(method.__doc__) > 30, kind
        assert "name" in inspect.signature(method).parameters
        assert "Also:" in method.__doc__ and "    after: " in method.__doc__
    assert "timeout_seconds" not in zflow.Pipeline.wait.__doc__
    doc = zflow.Pipeline.endpoint.__doc__
    assert "    instance_type: string (default ml.m5.large). " in doc
    assert "    endpoint_name: string, required. " in doc
    assert "Step Functions" in zflow.__doc__


# ---- running -----------------------------------------------------------------------------

def test_run_with_python_functions_and_their_logs(workdir):
    p = small_pipeline()

    @p.function("double")
    def double(event):
        print(f"doubling {event['n']}")
        return {"n": event["n"] * 2}

    result = p.run({"n": 5})
    assert result.succeeded, result
    assert result.output["steps"]["second"]["Payload"] == {"n": 20}
    assert result.log("first") == "doubling 5\n"
    assert result.log("second") == "doubling 10\n"
    assert result.history[0]["type"] == "ExecutionStarted"
    assert result.history[-1]["type"] == "ExecutionSucceeded"


def test_parallel_functions_keep_their_prints_apart(workdir):
    p = zflow.Pipeline("fan")
    for i in range(6):
        p.lambda_function(f"s{i}", function_name="work", payload={"i": i})

    @p.function("work")
    def work(event):
        for k in range(50):
            print(f"step {event['i']} line {k}")
        return event

    result = p.run()
    assert result.succeeded
    for i in range(6):
        assert result.log(f"s{i}") == "".join(f"step {i} line {k}\n" for k in range(50))


def test_an_exception_in_a_function_is_raised_with_the_step(workdir):
    p = small_pipeline()

    @p.function("double")
    def double(event):
        if event["n"] > 5:
            raise KeyError("too big")
        return {"n": event["n"] * 2}

    with pytest.raises(zflow.StepFailed) as e:
        p.run({"n": 3})
    assert e.value.step == "second"
    assert isinstance(e.value.__cause__, KeyError)
    assert e.value.execution.error == "KeyError"
    assert "too big" in str(e.value)
    assert "raise KeyError" in e.value.execution.log("second")
    result = p.run({"n": 3}, check=False)
    assert result.status == "FAILED" and result.error == "KeyError"
    assert json.loads(result.cause)["errorMessage"] == "'too big'"


def test_a_caught_exception_does_not_raise(workdir):
    p = zflow.Pipeline("caught")
    p.lambda_function("flaky", function_name="flaky", continue_on_failure=["Flaky"])

    @p.function("flaky")
    def flaky(event):
        raise zflow.FunctionError("Flaky", "not today")

    result = p.run()
    assert result.succeeded
    assert result.output["steps"]["flaky"]["Error"] == "Flaky"


def test_retry_reaches_the_python_function_again(workdir):
    p = zflow.Pipeline("retried")
    p.lambda_function("flaky", function_name="flaky",
                      retry=zflow.Retry("Flaky", interval_seconds=5, max_attempts=3))
    calls = []

    @p.function("flaky")
    def flaky(event):
        calls.append(1)
        if len(calls) < 3:
            raise zflow.FunctionError("Flaky", "again")
        return {"ok": True}

    result = p.run(virtual_clock=True)
    assert result.succeeded and len(calls) == 3


def test_a_result_json_cannot_hold_fails_the_task(workdir):
    p = zflow.Pipeline("marshal")
    p.lambda_function("bad", function_name="bad")
    p.function("bad")(lambda event: {"x": object()})
    result = p.run(check=False)
    assert result.status == "FAILED" and result.error == "Runtime.MarshalError"


def test_input_of_the_wrong_type_is_refused_before_any_step(workdir):
    p = small_pipeline()
    calls = []
    p.function("double")(lambda event: calls.append(event) or event)
    result = p.run({"n": "three"})
    assert result.status == "FAILED"
    assert result.error == "Pipeline.InvalidParameter"
    assert "n" in result.cause
    assert calls == []


def test_for_each_runs_its_body_per_item(workdir):
    p = zflow.Pipeline("each")
    regions = p.parameter("regions", "eu,us")
    split = p.lambda_function("split", function_name="split", payload={"s": regions})
    with p.for_each("score", items=split.output("Payload.items"), max_concurrency=2,
                    after=split) as each:
        each.lambda_function("one", function_name="score", payload={"region": each.item})
    p.function("split")(lambda e: {"items": e["s"].split(",")})
    p.function("score")(lambda e: {"region": e["region"], "score": len(e["region"])})
    result = p.run()
    assert result.succeeded, result
    scores = [r["one"]["Payload"] for r in result.output["steps"]["score"]]
    assert scores == [{"region": "eu", "score": 2}, {"region": "us", "score": 2}]


def test_the_fraud_example_runs_with_mocks(examples, workdir):
    sys.path.insert(0, str(examples / "fraud-detection"))
    try:
        p = zflow.load(examples / "fraud-detection" / "fraud_pipeline.py")
    finally:
        sys.path.pop(0)
    happy = p.run(virtual_clock=True, mocks=str(examples / "fraud-detection" / "mocks.json"),
                  test_case="HappyPath")
    assert happy.succeeded, happy
    states = {e["stateEnteredEventDetails"]["name"] for e in happy.history
              if "stateEnteredEventDetails" in e}
    assert "deploy" in " ".join(states)


def test_declared_objects_outlive_their_pipeline(workdir):
    declared = small_pipeline()._declared()
    import gc
    gc.collect()
    assert "first" in declared.definition()
    with pytest.raises(Exception):
        declared.run("{not json", "", "", "", "", "", "", False, False, [], None, None)


# ---- the command line ----------------------------------------------------------------------

PIPELINE_PY = '''
import zflow
p = zflow.Pipeline("cli-pipeline")
n = p.parameter("n", 2)
p.lambda_function("twice", function_name="twice", payload={"n": n})

@p.function("twice")
def twice(event):
    print("twice was called")
    return {"n": event["n"] * 2}
'''


def test_zflow_runs_a_python_pipeline_file(zflow_bin, workdir):
    (workdir / "pipeline.py").write_text(PIPELINE_PY)
    r = subprocess.run([zflow_bin, "run", "pipeline.py", "--input", '{"n": 21}', "-q",
                        "--result-json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["status"] == "SUCCEEDED"
    assert result["output"]["steps"]["twice"]["Payload"] == {"n": 42}
    logs = list((workdir / ".zflow" / "work" / "logs").rglob("*.log"))
    assert [l.read_text() for l in logs] == ["twice was called\n"]

    r = subprocess.run([zflow_bin, "compile", "pipeline.py", "-o", "out"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads((workdir / "out" / "statemachine.asl.json").read_text())["States"]
    r = subprocess.run([zflow_bin, "graph", "pipeline.py", "--format", "mermaid"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "twice" in r.stdout


def test_zflow_validate_locates_errors_in_a_python_file(zflow_bin, workdir):
    (workdir / "broken.py").write_text(
        "import zflow\n"
        "p = zflow.Pipeline('broken')\n"
        "a = p.wait('a', seconds=1)\n"
        "p.lambda_function('b', function_name='f', payload={'x': a.output('x')})\n")
    r = subprocess.run([zflow_bin, "validate", "broken.py"], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.startswith(f"{workdir / 'broken.py'}:4: ") or \
        r.stderr.startswith("broken.py:4: "), r.stderr
    (workdir / "none.py").write_text("x = 1\n")
    r = subprocess.run([zflow_bin, "validate", "none.py"], capture_output=True, text=True)
    assert r.returncode == 1 and "expected one zflow.Pipeline" in r.stderr


def test_step_methods_take_the_yaml_loaders_fields():
    """Each step method's keywords are its kind's fields in the loader's table (the one the
    field reference in docs/pipelines.md is generated from), required ones without defaults."""
    kinds, common = zflow._native().step_kinds()
    common_keys = {f["key"] for f in common} - {"name"}
    for kind in kinds:
        method = getattr(zflow.Pipeline, kind["python"])
        params = inspect.signature(method).parameters
        keywords = {n for n, p in params.items() if p.kind == p.KEYWORD_ONLY}
        table = {f["key"] for f in kind["fields"]} - {"steps"}
        if kind["kind"] == "state":
            table = {"state"}
            keywords |= {"state"}
        assert keywords - common_keys == table, kind["kind"]
        for f in kind["fields"]:
            if f["key"] in params and f["key"] != "steps":
                has_default = params[f["key"]].default is not inspect.Parameter.empty
                assert has_default != f["required"], (kind["kind"], f["key"])


def test_messages_speak_python():
    p = zflow.Pipeline("words")
    a = p.wait("a", seconds=1)
    p.lambda_function("b", function_name="f", payload={"x": a.output("x")})
    with pytest.raises(zflow.PipelineError, match='add the step "a" to its after='):
        p.validate()
    p = zflow.Pipeline("timeout")
    p.lambda_function("b", function_name="f", timeout_seconds=0)
    with pytest.raises(zflow.PipelineError, match="timeout_seconds= must be 1 to 99999999"):
        p.validate()


def test_an_interrupt_stops_the_run(workdir):
    """Ctrl-C (SIGINT) during run() stops the execution and raises KeyboardInterrupt."""
    import signal
    import threading
    p = zflow.Pipeline("long")
    p.wait("w", seconds=3600)
    threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    started = __import__("time").monotonic()
    with pytest.raises(KeyboardInterrupt):
        p.run()
    assert __import__("time").monotonic() - started < 30


def test_input_naming_no_parameter_is_refused(workdir):
    p = small_pipeline()
    with pytest.raises(ValueError, match='"m" is not a parameter of small; its parameters: n'):
        p.run({"m": 1})
    with pytest.raises(TypeError, match="a dict of the pipeline's parameters"):
        p.run([1])


def test_an_interrupt_while_a_python_function_runs(workdir):
    """Ctrl-C while a Python function is running: the run stops once it returns."""
    import signal
    import threading
    import time
    p = zflow.Pipeline("busy")
    first = p.lambda_function("slow", function_name="slow")
    p.wait("after", seconds=3600, after=first)

    @p.function("slow")
    def slow(event):
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # Python code: holds the GIL between checks
            sum(range(1000))
        return {}

    threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        p.run()
    assert time.monotonic() - started < 30
