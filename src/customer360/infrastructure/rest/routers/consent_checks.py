"""The consent policy over HTTP: single and bulk checks, expiring grants, double opt-in, purpose policies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from customer360.application import consent_checks as checks
from customer360.application import consent_workflows as uc
from customer360.application.privacy_ports import StoredPolicy
from customer360.application.queries import Answer
from customer360.domain.consent_policy import DEFAULT_POLICIES, ConsentDecision, PurposePolicy
from customer360.domain.errors import InvalidValue
from customer360.domain.primitives import iso_millis
from customer360.domain.values import Channel
from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import Services, require
from customer360.infrastructure.rest.dispatch import IDEMPOTENT, IfMatch, Rendered, etag, render, run_command
from customer360.infrastructure.rest.models.common import SPACE, TOPIC_PATTERN, headers
from customer360.infrastructure.rest.models.consent_checks import (
    BulkCheckIn,
    BulkCheckOut,
    ConfirmIn,
    ConsentCheckOut,
    ExpiringPage,
    PurposePolicyIn,
    PurposePolicyList,
    PurposePolicyOut,
)
from customer360.infrastructure.rest.models.consents import ConsentRecordOut
from customer360.infrastructure.rest.parameters import Cursor, CustomerId, Limit

BULK_CHECK_PATH = "/api/v1/crm/consent/check"
router = APIRouter(prefix="/api/v1/crm", tags=["consent"])

ConsentReader = Annotated[Principal, Depends(require("crm.consent:read"))]
ConsentWriter = Annotated[Principal, Depends(require("crm.consent:write"))]
PolicyAdmin = Annotated[Principal, Depends(require("crm.consent:admin"))]
PurposeQuery = Annotated[str, Query(min_length=1, max_length=40, pattern=TOPIC_PATTERN, examples=["MARKETING"])]
PurposePath = Annotated[str, Path(min_length=1, max_length=40, pattern="^[A-Za-z][A-Za-z0-9_]{0,39}$")]


def _contact_point(point: Any) -> dict[str, str] | None:
    return None if point is None else {"kind": point.kind.value, "value": point.value}


def decision_document(customer_id: str, channel: Channel, decision: ConsentDecision, point: Any) -> dict[str, Any]:
    record = decision.deciding_record
    quiet = decision.quiet_hours
    cap = decision.frequency_cap
    return {
        "customerId": customer_id,
        "channel": channel.value,
        "purpose": record.purpose if record else None,
        "contactPoint": _contact_point(point),
        "allowed": decision.allowed,
        "reason": decision.reason.value,
        "rule": decision.rule,
        "decidingConsentId": record.id if record else None,
        "legalBasis": record.legal_basis.value if record else None,
        "expiresAt": record.expires_at if record else None,
        "allowedNow": decision.allowed_now,
        "nextAllowedAt": decision.next_allowed_at,
        "timeZone": decision.time_zone,
        "quietHours": {"start": quiet.start, "end": quiet.end, "timeZone": decision.time_zone} if quiet else None,
        "frequencyCap": {"maxMessages": cap.max_messages, "period": cap.period.value} if cap else None,
        "checkedAt": decision.checked_at,
    }


@router.get(
    "/customers/{customerId}/consent/check",
    response_model=ConsentCheckOut,
    summary="May we contact the customer on this channel for this purpose? (ConsentPolicyService)",
)
async def check_consent(
    customer_id: CustomerId,
    principal: ConsentReader,
    services: Services,
    channel: Channel,
    purpose: PurposeQuery = "MARKETING",
    contact_point: Annotated[
        str | None, Query(alias="contactPoint", max_length=320, description="An e-mail, a phone or a contact id")
    ] = None,
) -> Response:
    point = checks.contact_point_of(contact_point, region=services.settings.phone_default_region)
    decision = await checks.check_consent(
        services.consent_checks,
        principal.tenant_id,
        customer_id,
        channel=channel,
        purpose=purpose,
        contact_point=point,
        now=services.clock.now(),
    )
    document = decision_document(customer_id, channel, decision, point)
    document["purpose"] = document["purpose"] or purpose.strip().upper()
    return render(ConsentCheckOut, document).response()


def _json_schema() -> dict[str, Any]:
    schema = BulkCheckIn.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)  # Channel is in the document's components already (ConsentIn uses it)
    return schema


_BULK_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": _json_schema()},
        "text/plain": {"schema": {"type": "string", "description": "One customer id per line"}},
        "application/x-ndjson": {"schema": {"type": "string", "description": "One JSON string per line"}},
    },
}


def _ids_from_lines(body: bytes, ndjson: bool) -> list[str]:
    ids = []
    for number, raw in enumerate(body.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if ndjson:
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise InvalidValue(f"line {number}", "is not JSON") from None
            if isinstance(value, dict):
                value = value.get("customerId")
            if not isinstance(value, str):
                raise InvalidValue(f"line {number}", 'must be a JSON string or {"customerId": …}')
            ids.append(value)
        else:
            try:
                ids.append(line.decode())
            except UnicodeDecodeError:
                raise InvalidValue(f"line {number}", "is not UTF-8") from None
    return ids


def _ids_from_json(body: bytes) -> tuple[list[str], str | None, str | None]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidValue("body", "is not valid JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("customerIds"), list):
        raise InvalidValue("customerIds", "is required: a list of customer ids")
    unknown = set(document) - {"channel", "purpose", "customerIds"}
    if unknown:
        raise InvalidValue(sorted(unknown)[0], "is not a field of this request")
    channel, purpose = document.get("channel"), document.get("purpose")
    if not all(isinstance(v, str | None) for v in (channel, purpose)):
        raise InvalidValue("channel", "channel and purpose must be strings")
    return document["customerIds"], channel, purpose


@router.post(
    "/consent/check",
    summary="Bulk check for campaigns: the allowed subset of up to 100,000 customers",
    responses={200: {"model": BulkCheckOut, "description": "The allowed subset"}},
    openapi_extra={"requestBody": _BULK_BODY},
)
async def check_consent_bulk(
    request: Request,
    principal: ConsentReader,
    services: Services,
    channel: Annotated[Channel | None, Query(description="Required unless given in a JSON body")] = None,
    purpose: Annotated[str | None, Query(min_length=1, max_length=40, pattern=TOPIC_PATTERN)] = None,
) -> Response:
    body = await request.body()
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media == "application/json":
        ids, body_channel, body_purpose = _ids_from_json(body)
        channel_value, purpose = body_channel or (channel.value if channel else None), body_purpose or purpose
    elif media in ("text/plain", "application/x-ndjson"):
        ids, channel_value = _ids_from_lines(body, media == "application/x-ndjson"), channel.value if channel else None
    else:
        raise InvalidValue("Content-Type", "must be application/json, text/plain or application/x-ndjson")
    if any(not isinstance(i, str) or len(i) > 64 for i in ids):
        raise InvalidValue("customerIds", "must be customer ids (strings of at most 64 characters)")
    try:
        checked_channel = Channel(channel_value or "")
    except ValueError:
        raise InvalidValue("channel", "must be EMAIL, SMS, CALL or POST") from None
    now = services.clock.now()
    allowed = await checks.check_bulk(
        services.consent_checks,
        principal.tenant_id,
        ids,
        channel=checked_channel,
        purpose=purpose or "MARKETING",
        now=now,
    )
    payload = {
        "channel": checked_channel.value,
        "purpose": (purpose or "MARKETING").strip().upper(),
        "checked": len(set(ids)),
        "allowedCount": len(allowed),
        "allowed": allowed,
        "checkedAt": iso_millis(now),
    }
    return Response(orjson.dumps(payload), media_type="application/json")


@router.get("/consent/expiring", response_model=ExpiringPage, summary="Grants that expire soon: customers to ask again")
async def expiring_consents(
    principal: ConsentReader,
    services: Services,
    within: Annotated[
        str, Query(max_length=8, pattern=f"^{SPACE}*[0-9]+[dDhH]{SPACE}*$", description="30d, 12h…", examples=["30d"])
    ] = "30d",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    now = services.clock.now()
    grants, next_cursor = await services.consent_checks.expiring(
        principal.tenant_id, now, now + checks.parse_within(within), cursor, limit
    )
    items = [
        {
            "customerId": g.customer_id,
            "consentId": g.consent_id,
            "channel": g.channel,
            "purpose": g.purpose,
            "contactPoint": _contact_point(g.contact_point),
            "expiresAt": g.expires_at,
        }
        for g in grants
    ]
    return render(ExpiringPage, {"items": items, "nextCursor": next_cursor}).response()


def _render_confirmed(answer: Answer[uc.ConsentConfirmed]) -> Rendered:
    return render(ConsentRecordOut, answer.documents[answer.result.consent_id], 201)


@router.post(
    "/consent/confirm",
    status_code=201,
    response_model=ConsentRecordOut,
    summary="Double opt-in: confirm a pending grant with its single-use token",
    dependencies=[IDEMPOTENT],
)
async def confirm_consent(body: ConfirmIn, request: Request, principal: ConsentWriter) -> Response:
    command = uc.ConfirmConsent(body.token, body.ip_address, body.user_agent)
    return await run_command(request, principal, uc.confirm_consent, command, _render_confirmed, uc.confirmed_answer)


def _policy_document(
    policy: PurposePolicy, *, version: int, updated_at: datetime | None, updated_by: str | None
) -> dict[str, Any]:
    return {
        "purpose": policy.purpose,
        "legalBases": sorted(b.value for b in policy.legal_bases),
        "grantValidityDays": None if policy.grant_validity is None else policy.grant_validity.days,
        "doubleOptInSources": sorted(s.value for s in policy.double_opt_in_sources),
        "source": "TENANT" if version else "DEFAULT",
        "version": version,
        "updatedAt": updated_at,
        "updatedBy": updated_by,
    }


def _policy_list(stored: list[StoredPolicy]) -> list[dict[str, Any]]:
    by_purpose = {s.policy.purpose: s for s in stored}
    documents = [
        _policy_document(s.policy, version=s.version, updated_at=s.updated_at, updated_by=s.updated_by)
        for s in by_purpose.values()
    ]
    documents += [
        _policy_document(p, version=0, updated_at=None, updated_by=None)
        for purpose, p in DEFAULT_POLICIES.items()
        if purpose not in by_purpose
    ]
    return sorted(documents, key=lambda d: d["purpose"])


@router.get(
    "/consent/policies",
    response_model=PurposePolicyList,
    summary="The tenant's consent purpose policies (stored ones, and the defaults of the others)",
)
async def list_consent_policies(principal: ConsentReader, services: Services) -> Response:
    stored = await services.consent_checks.stored_policies(principal.tenant_id)
    return render(PurposePolicyList, {"items": _policy_list(stored)}).response()


@router.put(
    "/consent/policies/{purpose}",
    response_model=PurposePolicyOut,
    summary="Set the tenant's policy of a purpose (legal bases, grant validity, double opt-in sources)",
    responses={200: headers("ETag")},
)
async def set_consent_policy(
    purpose: PurposePath, body: PurposePolicyIn, request: Request, principal: PolicyAdmin, version: IfMatch
) -> Response:
    command = uc.SetPurposePolicy(
        purpose=purpose,
        legal_bases=[b.value for b in body.legal_bases],
        grant_validity_days=body.grant_validity_days,
        double_opt_in_sources=[s.value for s in body.double_opt_in_sources],
        expected_version=version,
    )

    return await run_command(request, principal, uc.set_purpose_policy, command, _render_policy, uc.policy_answer)


def _render_policy(stored: StoredPolicy) -> Rendered:
    document = _policy_document(
        stored.policy, version=stored.version, updated_at=stored.updated_at, updated_by=stored.updated_by
    )
    return render(PurposePolicyOut, document, ETag=etag(stored.version))
