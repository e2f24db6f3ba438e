import pytest

from studio.core.registry import DuplicateNodeType, Registry, UnknownNodeType
from studio.core.spec import NodeSpec, ParamError, ParamSpec, resolve_params, validate_params

INT = ParamSpec("units", "int", 8, minimum=1, maximum=100)


def test_param_check_refuses_with_reason():
    assert INT.check(5) == 5
    assert INT.check(5.0) == 5
    with pytest.raises(ParamError, match="at least 1"):
        INT.check(0)
    with pytest.raises(ParamError, match="at most 100"):
        INT.check(101)
    with pytest.raises(ParamError, match="whole number"):
        INT.check("7")
    with pytest.raises(ParamError, match="whole number"):
        INT.check(True)


def test_float_choice_bool_list_kinds():
    f = ParamSpec("p", "float", 0.5, minimum=0.0, maximum=1.0)
    assert f.check(1) == 1.0
    with pytest.raises(ParamError, match="finite"):
        f.check(float("nan"))
    c = ParamSpec("mode", "choice", "a", choices=("a", "b"))
    with pytest.raises(ParamError, match="one of a, b"):
        c.check("z")
    b = ParamSpec("flag", "bool", True)
    with pytest.raises(ParamError, match="true or false"):
        b.check(1)
    ints = ParamSpec("shape", "ints", [1], minimum=1)
    assert ints.check([1, 28, 28]) == (1, 28, 28)
    with pytest.raises(ParamError, match="at least 1"):
        ints.check([1, 0])
    with pytest.raises(ParamError, match="list"):
        ints.check(3)


def test_inferred_param_resolves_from_input_shape():
    spec = NodeSpec("t.lin", "Lin", "Dense", params=(
        ParamSpec("in_features", "int", None, minimum=1, infer=lambda s: s[0][-1]), INT))
    assert spec.default_params() == {"in_features": None, "units": 8}
    assert resolve_params(spec, spec.default_params(), [(2, 300)]) == {"in_features": 300, "units": 8}
    # a typed value wins over inference
    assert resolve_params(spec, {"in_features": 7, "units": 8}, [(2, 300)])["in_features"] == 7
    with pytest.raises(ParamError, match="not connected"):
        resolve_params(spec, spec.default_params(), [None])


def test_validate_params_reports_each_problem_by_name():
    spec = NodeSpec("t.x", "X", "Dense", params=(INT,),
                    check=lambda p: "units must be even" if p["units"] % 2 else None)
    assert validate_params(spec, {"units": 0, "bogus": 1}) == {
        "bogus": "X has no parameter 'bogus'", "units": "'units' must be at least 1, got 0"}
    assert validate_params(spec, {"units": 3}) == {"*": "units must be even"}


def test_registry_refuses_duplicates_and_resolves_legacy_ids():
    a = NodeSpec("t.a", "A", "Cat", legacy_ids=("old.a",))
    reg = Registry([a])
    with pytest.raises(DuplicateNodeType):
        reg.register(NodeSpec("t.a", "A2", "Cat"))
    with pytest.raises(DuplicateNodeType):
        reg.register(NodeSpec("old.a", "A3", "Cat"))
    assert reg.get("old.a") is a
    with pytest.raises(UnknownNodeType, match="unknown node type 'nope'"):
        reg.get("nope")


def test_default_registry_has_unique_ids_and_complete_specs(registry):
    ids = [s.type_id for s in registry]
    assert len(ids) == len(set(ids))
    for spec in registry:
        assert spec.title and spec.category and spec.description, spec.type_id
        for p in spec.params:
            assert p.help, f"{spec.type_id}.{p.name} has no help text"
        if spec.role == "layer":
            assert (spec.module is None) != (spec.function is None), spec.type_id
            assert spec.export is not None, spec.type_id


def test_search_finds_by_title_and_tag(registry):
    assert registry.search("linear")[0].type_id == "nn.linear"
    assert any(s.type_id == "nn.linear" for s in registry.search("fully connected"))
