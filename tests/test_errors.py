"""One error hierarchy, turned into HTTP in one place and into a CLI exit in one place: a
GeoError is the user's to mend (4xx JSON; `error:` and exit 2), anything else is a bug (a 500
with a request id logged with its traceback; a traceback and exit 1)."""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner

from geo import errors
from geo.errors import GeoError

KINDS = [errors.QueryError("k", "k must be 1-50"),
         errors.StationFileError("list.geojson", 3, "type", "unknown type 'bus'"),
         errors.TableError("no header row found"), errors.NetworkError("no walk graph"),
         errors.DatasetError("no live version"), errors.HoursFormError("what is 早上?"),
         errors.OsmPlacesError("unknown host 'zoo'"), errors.SettingError("bad", "STATIONS_X"),
         errors.DemandFileError("d.csv", [{"row": 3, "column": "人数", "reason": "negative"}])]


def test_every_error_kind_is_a_geo_error_and_a_value_error():
    kinds = {c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)}
    assert kinds == {GeoError, *(type(e) for e in KINDS)}
    assert all(isinstance(e, GeoError) and isinstance(e, ValueError) for e in KINDS)


@pytest.fixture(scope="module")
def raising_views():
    """A fresh app whose /api/districts and /planner views raise whatever a test puts in the
    list (one app for the module: building one per test cost a second each)."""
    from app import create_app

    app = create_app({"STATIONS_TILES": "none", "TESTING": False})
    boom: list[BaseException] = []

    def view():
        raise boom[-1]

    app.view_functions["api.districts"] = app.view_functions["pages.planner"] = view
    return app, boom


@pytest.fixture()
def raising_app(raising_views):
    app, boom = raising_views
    boom.clear()
    return app, boom


@pytest.mark.parametrize("exc", KINDS, ids=lambda e: type(e).__name__)
def test_a_geo_error_from_any_view_is_a_4xx_json_naming_its_parameter(raising_app, exc):
    app, boom = raising_app
    boom.append(exc)
    r = app.test_client().get("/api/districts")
    assert r.status_code == type(exc).status == 400
    assert r.get_json() == {"error": str(exc), **({"param": exc.param} if exc.param else {})}


def test_anything_else_is_a_500_with_a_request_id_logged_with_its_traceback(raising_app,
                                                                               caplog):
    app, boom = raising_app
    boom.append(ZeroDivisionError("a bug"))
    with caplog.at_level(logging.ERROR):
        r = app.test_client().get("/api/districts")
    body = r.get_json()
    assert r.status_code == 500 and r.headers["X-Request-Id"] == body["request_id"]
    assert "a bug" not in body["error"] and body["request_id"] in body["error"]
    logged = [rec for rec in caplog.records if body["request_id"] in rec.getMessage()]
    assert logged and logged[0].exc_info and logged[0].exc_info[0] is ZeroDivisionError


def test_a_page_bug_is_a_page_with_its_request_id(raising_app):
    app, boom = raising_app
    boom.append(KeyError("bug"))
    r = app.test_client().get("/planner")
    assert r.status_code == 500 and r.headers["X-Request-Id"] in r.get_data(as_text=True)


def test_the_cli_turns_a_geo_error_into_one_line_and_a_bug_into_a_traceback(monkeypatch):
    from app.cli.main import cli
    from geo.atlas import Atlas

    def load(*args, **kwargs):
        raise raised[0]

    monkeypatch.setattr(Atlas, "load", load)
    raised: list[BaseException] = [errors.DatasetError("no live version in /data")]
    with pytest.raises(SystemExit) as exit_:
        cli.main(["info"], prog_name="stations")
    assert exit_.value.code == 2
    raised[0] = ZeroDivisionError("a bug")
    with pytest.raises(ZeroDivisionError):  # not swallowed: Python prints it and exits 1
        cli.main(["info"], prog_name="stations")
    result = CliRunner().invoke(cli, ["info"])
    assert result.exit_code == 1 and isinstance(result.exception, ZeroDivisionError)


def test_the_cli_error_line_says_what_to_mend(monkeypatch, capsys):
    from app.cli.main import cli
    from geo.atlas import Atlas

    def load(*args, **kwargs):
        raise errors.DatasetError("no live version in /data")

    monkeypatch.setattr(Atlas, "load", load)
    with pytest.raises(SystemExit):
        cli.main(["info"], prog_name="stations")
    assert capsys.readouterr().err == "error: no live version in /data\n"
