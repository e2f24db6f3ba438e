"""A node's ``group`` that is not a group id (a list, a number) is a located file error, not a crash."""

from __future__ import annotations

import pytest

from studio.catalog import default_registry
from studio.io.errors import ProjectFileError
from studio.io.project_file import project_from_dict


@pytest.mark.parametrize("group", [[], {}, 3, "missing"])
def test_bad_group_reference_is_a_project_file_error(group):
    data = {"format": "nnstudio.project", "version": 3, "graphs": [{"id": "g", "name": "m", "groups": [], "edges": [],
            "nodes": [{"id": "a", "type": "io.input", "name": "x", "params": {}, "position": [0, 0], "group": group}]}]}
    with pytest.raises(ProjectFileError) as info:
        project_from_dict(data, default_registry())
    assert "group" in str(info.value)
