"""The Composite resource (``POST /composite``) and sObject Collections delete (``DELETE /composite/sobjects``).

Composite, as Salesforce documents it (REST API Developer Guide, "Send Multiple Requests Using Composite",
https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-composite-post.html):
"Executes a series of REST API requests in a single call… The entire series of requests counts as a single
call toward your API limits"; up to 25 subrequests, of which up to 5 may be sObject Collections or query
operations; subrequests run in order as the same user, each with its own ``httpHeaders``; the answer is
``{"compositeResponse": [{"body", "httpHeaders", "httpStatusCode", "referenceId"}, …]}`` in request order.
With ``allOrNone: false`` a failing subrequest costs only itself (and the subrequests referring to it, which
the simulator does not model: ``@{ref}`` references are refused, the product sends none).

sObject Collections delete ("Delete Multiple Records Using sObject Collections",
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_delete.htm):
``?ids=a,b,c&allOrNone=false``, up to 200 ids, a per-record ``{"id", "success", "errors"}`` each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from . import ids
from .errors import SalesforceError

if TYPE_CHECKING:
    from .rest import RestApi

MAX_SUBREQUESTS = 25
MAX_COLLECTION_OR_QUERY_SUBREQUESTS = 5
MAX_DELETE_IDS = 200


def composite(api: RestApi, body: Any, user: str | None) -> tuple[int, Any]:
    """Run the subrequests in order; 200 with each one's status and body (see the module docstring)."""
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "Expected a JSON object with a 'compositeRequest' array")
    if body.get("allOrNone") is True:
        raise SalesforceError(400, "NOT_SIMULATED", "allOrNone: true is not simulated (the product sends false)")
    subrequests = body["compositeRequest"]
    if len(subrequests) > MAX_SUBREQUESTS:
        raise SalesforceError(
            400, "LIMIT_EXCEEDED", f"A composite request can have up to {MAX_SUBREQUESTS} subrequests"
        )
    heavy = sum(1 for s in subrequests if isinstance(s, dict) and _collection_or_query(str(s.get("url", ""))))
    if heavy > MAX_COLLECTION_OR_QUERY_SUBREQUESTS:
        raise SalesforceError(
            400,
            "LIMIT_EXCEEDED",
            f"Up to {MAX_COLLECTION_OR_QUERY_SUBREQUESTS} subrequests can be sObject Collections or query operations",
        )
    return 200, {"compositeResponse": [_run(api, s, user) for s in subrequests]}


def _collection_or_query(url: str) -> bool:
    path = urlsplit(url).path
    return "/composite/sobjects" in path or "/query" in path


def _run(api: RestApi, subrequest: Any, user: str | None) -> dict[str, Any]:
    reference = subrequest.get("referenceId") if isinstance(subrequest, dict) else None
    try:
        if not isinstance(subrequest, dict) or not reference or not subrequest.get("url"):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "Each subrequest needs method, url and referenceId")
        if "@{" in str(subrequest["url"]) or "@{" in str(subrequest.get("body")):
            raise SalesforceError(400, "NOT_SIMULATED", "references between subrequests are not simulated")
        url = urlsplit(str(subrequest["url"]))
        headers = {str(k).lower(): str(v) for k, v in (subrequest.get("httpHeaders") or {}).items()}
        method = str(subrequest.get("method", "GET")).upper()
        route = api.route(method, url.path, url.query, subrequest.get("body"), headers, user)
        if route is None or route.kind == "composite":
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        status, payload = route.handler()
    except SalesforceError as exc:
        status, payload = exc.status, exc.rest_body()
    return {"body": payload, "httpHeaders": {}, "httpStatusCode": status, "referenceId": reference}


def delete_collection(api: RestApi, query: str) -> tuple[int, Any]:
    """``DELETE /composite/sobjects?ids=…``: soft-delete each record; one result per id, in order."""
    params = parse_qs(query)
    wanted = [i for i in ",".join(params.get("ids", [""])).split(",") if i]
    if not wanted:
        raise SalesforceError(400, "MISSING_ARGUMENT", "ids parameter is required")
    if len(wanted) > MAX_DELETE_IDS:
        raise SalesforceError(
            400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call"
        )
    results = []
    for raw_id in wanted:
        canonical = ids.canonical(raw_id)
        obj = api.schema.by_prefix(canonical[:3]) if canonical else None
        record = api.store.find(obj.name, canonical) if obj and canonical else None
        if obj is None or record is None or record["IsDeleted"]:
            code, message = ("ENTITY_IS_DELETED", "entity is deleted") if record else ("MALFORMED_ID", "bad id")
            results.append({"id": canonical, "success": False, "errors": [{"statusCode": code, "message": message}]})
            continue
        api.store.delete(obj.name, record["Id"])
        results.append({"id": record["Id"], "success": True, "errors": []})
    return 200, results
