"""The OpenAPI document describes every API route and every parameter the code reads."""

from __future__ import annotations

import re


def test_every_api_route_is_documented(app, client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and doc["info"]["title"]
    documented = set(doc["paths"])
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule) for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/")}
    assert routes == documented


def test_documented_parameters_are_the_ones_the_code_reads(app, client):
    """Each query parameter the API source reads appears in its route's description."""
    import inspect

    from app import api, coverage_api, planner_api

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
