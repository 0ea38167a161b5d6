"""The OpenAPI document describes every API route and every parameter the code reads."""

from __future__ import annotations

import re

import pytest


def test_every_api_route_is_documented(app, client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and doc["info"]["title"]
    documented = set(doc["paths"])
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule) for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/")}
    assert routes - {"/api/service-areas"} == documented  # only with a street graph loaded
    modes = {p["name"]: p["schema"].get("enum") for p in doc["paths"]["/api/nearest"]["get"][
        "parameters"]}["mode"]
    assert modes == ["straight"]


def test_documented_parameters_are_the_ones_the_code_reads(app, client):
    """Each query parameter the API source reads appears in its route's description."""
    import inspect

    from app.api import coverage as coverage_api
    from app.api import planner as planner_api
    from app.api import stations as api

    doc = client.get("/api/openapi.json").get_json()
    documented = {name for path in doc["paths"].values() for op in path.values()
                  for name in (p["name"] for p in op.get("parameters", []))}
    documented |= {name for path in doc["paths"].values() for op in path.values()
                   for name in op.get("requestBody", {}).get("content", {}).get(
                       "application/json", {}).get("schema", {}).get("properties", {})}
    source = inspect.getsource(api) + inspect.getsource(coverage_api) + \
        inspect.getsource(planner_api)
    read = set(re.findall(r'args\.get(?:list)?\("(\w+)"', source))
    read |= set(re.findall(r'a\.get(?:list)?\("(\w+)"', source))
    read |= set(re.findall(r'args\.get(?:list)?\("(\w+)"', source))
    assert read and read <= documented


def test_error_schema_matches_real_errors(client):
    doc = client.get("/api/openapi.json").get_json()
    required = doc["components"]["schemas"]["Error"]["required"]
    body = client.get("/api/nearest?lat=x&lng=1").get_json()
    assert set(required) <= set(body) and body["param"] == "lat"


def _json_schema(schema):
    """OpenAPI 3.0 to JSON Schema for validation: `nullable: true` becomes a null type."""
    if isinstance(schema, dict):
        out = {k: _json_schema(v) for k, v in schema.items() if k != "nullable"}
        if schema.get("nullable") and "type" in schema:
            out["type"] = [schema["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        return out
    if isinstance(schema, list):
        return [_json_schema(v) for v in schema]
    return schema


@pytest.mark.parametrize("path, url, media", [
    ("/api/nearest", "/api/nearest?lat=31.2304&lng=121.4737&k=8&open_at=now",
     "application/geo+json"),
    ("/api/nearest", "/api/nearest?lat=31.2&lng=121.4&out_crs=gcj02&type=health&lang=en",
     "application/geo+json"),
    ("/api/stations", "/api/stations?type=fitness", "application/geo+json"),
    ("/api/stations/{station_id}", "/api/stations/relay-0007", "application/geo+json"),
    ("/api/coverage", "/api/coverage?type=relay", "application/json"),
    ("/api/coverage/hourly", "/api/coverage/hourly?type=health&weekday=sa",
     "application/json")])
def test_real_answers_conform_to_their_documented_schemas(client, path, url, media):
    import jsonschema

    doc = client.get("/api/openapi.json").get_json()
    schema = doc["paths"][path]["get"]["responses"]["200"]["content"][media]["schema"]
    assert schema != {"type": "object"}  # a real description, not a placeholder
    body = client.get(url).get_json()
    jsonschema.validate(body, _json_schema(schema))
    if "features" in body:
        broken = {**body, "features": [{"type": "Feature"}]}
    elif "geometry" in body:
        broken = {k: v for k, v in body.items() if k != "geometry"}
    else:
        broken = {**body, "summary" if "summary" in body else "hours": None}
    with pytest.raises(jsonschema.ValidationError):  # the schema can tell wrong from right
        jsonschema.validate(broken, _json_schema(schema))


def test_station_lists_link_to_the_per_station_operations(client):
    doc = client.get("/api/openapi.json").get_json()
    ops = {op["operationId"]: (path, method) for path, item in doc["paths"].items()
           for method, op in item.items() if "operationId" in op}
    listed = client.get("/api/stations?type=fitness").get_json()["features"]
    for list_path in ("/api/stations", "/api/nearest"):
        links = doc["paths"][list_path]["get"]["responses"]["200"]["links"]
        assert {"station", "stationQuality", "stationCheckin", "stationReport"} <= set(links)
        for link in links.values():
            path, _ = ops[link["operationId"]]
            assert "{station_id}" in path
            assert link["parameters"] == {"station_id": "$response.body#/features/0/id"}
    # the expression names what the list really holds: its first feature's id is a station
    assert client.get(f"/api/stations/{listed[0]['id']}").status_code == 200
