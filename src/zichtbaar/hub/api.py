"""Partner REST API: token per organisation, idempotent intake, the partner inbox.

Separate input and output serializers; views parse, call one service, and render. Every
error is a 400-class JSON answer with field messages, never a trace.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from zichtbaar.core.decorators import public

from . import codebook as codebook_mod
from . import services
from .models import Channel, Handover, IdempotencyRecord, Outcome, PersonRole
from .services import PersonInput, SignalInput

MAX_BODY_BYTES = 256 * 1024
MAX_PERSONS = 20


# --- authentication ------------------------------------------------------------------------

@dataclass
class OrganisationPrincipal:
    """Who calls the API: an organisation through one of its tokens, never a person."""

    token: Any

    is_authenticated = True
    is_active = True
    pk = None

    @property
    def organisation(self) -> Any:
        return self.token.organisation


class OrganisationTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[OrganisationPrincipal, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword or len(parts[1]) > 200:
            raise exceptions.AuthenticationFailed(_("Use the header 'Authorization: Bearer "
                                                    "<token>'."))
        token = services.api_token_check(parts[1])
        if token is None:
            raise exceptions.AuthenticationFailed(_("This token is not valid or was revoked."))
        return OrganisationPrincipal(token), token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "zichtbaar.hub.api.OrganisationTokenAuthentication"
    name = "organisationToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}


class _Base(APIView):
    authentication_classes = [OrganisationTokenAuthentication]
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    schema = AutoSchema()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            raise exceptions.ValidationError(
                {"detail": _("The request is too large (at most 256 KB).")}, code="too_large")
        super().initial(request, *args, **kwargs)


# --- serializers ---------------------------------------------------------------------------

# Art. 273f Sr in its present form dates from 2005; older dates are typing errors.
EARLIEST_SIGNAL_YEAR = 2000


class PersonInSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=PersonRole.choices, default=PersonRole.VICTIM)
    given_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    surname = serializers.CharField(max_length=100, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    sex = serializers.ChoiceField(choices=["", "f", "m", "x"], required=False)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    postcode = serializers.CharField(max_length=10, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def validate_date_of_birth(self, value: Any) -> Any:
        if value and (value > timezone.localdate() or value.year < 1900):
            raise serializers.ValidationError(_("Enter a date of birth in the past."))
        return value


class SignalInSerializer(serializers.Serializer):
    external_ref = serializers.CharField(max_length=100, required=False, allow_blank=True)
    received_at = serializers.DateTimeField(required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    municipality = serializers.CharField(max_length=100, required=False, allow_blank=True)
    forms = serializers.ListField(child=serializers.CharField(max_length=32), required=False,
                                  max_length=10)
    indicators = serializers.ListField(child=serializers.CharField(max_length=8),
                                       required=False, max_length=100)
    minor = serializers.BooleanField(required=False, allow_null=True, default=None)
    recruitment_method = serializers.CharField(max_length=32, required=False, allow_blank=True)
    recruiter_relation = serializers.CharField(max_length=32, required=False, allow_blank=True)
    persons = PersonInSerializer(many=True, required=False, max_length=MAX_PERSONS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Codes come from the codebook version in force, so the published schema lists them.

        The schema is generated per request, so a partner always sees the enumerations of
        the current codebook, and the same lists validate the request.
        """
        super().__init__(*args, **kwargs)
        try:
            data = services.current_codebook().data
        except DatabaseError:  # schema checks (`check --deploy`) may run before `migrate`
            data = codebook_mod.load_file()
        book = codebook_mod.Codebook(data)
        self.fields["forms"].child = serializers.ChoiceField(choices=sorted(book.forms))
        self.fields["indicators"].child = serializers.ChoiceField(
            choices=sorted(book.indicators))
        for name, kind in (("recruitment_method", "recruitment_methods"),
                           ("recruiter_relation", "recruiter_relations")):
            codes = [code for code, _label in book.choices(kind, "en")]
            self.fields[name] = serializers.ChoiceField(choices=codes, required=False,
                                                        allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        received = attrs.get("received_at")
        if received and received > timezone.now() + timezone.timedelta(minutes=5):
            errors["received_at"] = [_("This time lies in the future.")]
        elif received and received.year < EARLIEST_SIGNAL_YEAR:
            errors["received_at"] = [_("Signals received before %(year)s are not accepted.")
                                     % {"year": EARLIEST_SIGNAL_YEAR}]
        if not (attrs.get("description") or attrs.get("indicators") or attrs.get("forms")):
            errors["description"] = [_("Give a description, indicators or forms.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_input(self) -> SignalInput:
        data = self.validated_data
        persons = [PersonInput(
            role=p.get("role", PersonRole.VICTIM), given_name=p.get("given_name", ""),
            surname=p.get("surname", ""),
            date_of_birth=p["date_of_birth"].isoformat() if p.get("date_of_birth") else "",
            sex=p.get("sex", ""), phone=p.get("phone", ""), email=p.get("email", ""),
            postcode=p.get("postcode", ""), city=p.get("city", ""))
            for p in data.get("persons", [])]
        return SignalInput(
            indicators=data.get("indicators", []), forms=data.get("forms", []),
            minor=data.get("minor"), municipality=data.get("municipality", ""),
            description=data.get("description", ""),
            recruitment_method=data.get("recruitment_method", ""),
            recruiter_relation=data.get("recruiter_relation", ""), persons=persons,
            received_at=data.get("received_at"), external_ref=data.get("external_ref", ""))


class ContributionSerializer(serializers.Serializer):
    code = serializers.CharField()
    weight = serializers.CharField()
    points = serializers.IntegerField()


class ExplanationSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    band = serializers.CharField()
    urgent = serializers.BooleanField()
    urgency_reasons = serializers.ListField(child=serializers.CharField())
    contributions = ContributionSerializer(many=True)


class ProposalSerializer(serializers.Serializer):
    partner_type = serializers.CharField()
    rules = serializers.ListField(child=serializers.CharField())


class SignalOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.CharField()
    received_at = serializers.DateTimeField()
    target_at = serializers.DateTimeField()
    urgent = serializers.BooleanField()
    score = serializers.IntegerField()
    explanation = ExplanationSerializer()
    routing_proposal = ProposalSerializer(many=True)
    codebook_version = serializers.CharField(source="codebook.version")


class HandoverOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(source="signal.reference")
    created_at = serializers.DateTimeField()
    legal_basis = serializers.CharField()
    purpose = serializers.CharField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField()
    payload = serializers.SerializerMethodField()

    def get_payload(self, obj: Handover) -> dict[str, Any]:
        """Only the fields of the sharing agreement, exactly as handed over."""
        return services.handover_payload(obj)


class OutcomeInSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(required=False)


# --- views ---------------------------------------------------------------------------------

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Unique per logical request; a retry with the same key and body returns the "
                "first response and never creates a second signal.")


@extend_schema(request=SignalInSerializer, parameters=[IDEMPOTENCY_HEADER],
               responses={201: SignalOutSerializer, 400: ErrorSerializer,
                          401: ErrorSerializer, 422: ErrorSerializer}, summary="Submit a signal")
class SignalCreateView(_Base):
    def post(self, request: Request) -> Response:
        organisation = request.user.organisation
        key = request.META.get("HTTP_IDEMPOTENCY_KEY", "").strip()
        if len(key) > 100:
            raise exceptions.ValidationError({"Idempotency-Key": [_("At most 100 characters.")]})
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"detail": _("The body must be a JSON object.")})
        digest = hashlib.sha256(json.dumps(request.data, sort_keys=True, default=str)
                                .encode()).hexdigest()
        if key:
            replay = self._replay(organisation, key, digest)
            if replay is not None:
                return replay
        serializer = SignalInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                result = services.signal_submit(
                    channel=Channel.API, data=serializer.to_input(),
                    source_organisation=organisation)
                body = SignalOutSerializer(result.signal).data
                body = json.loads(json.dumps(body, default=str))
                if key:
                    IdempotencyRecord.objects.create(
                        organisation=organisation, key=key, request_hash=digest,
                        status_code=201, response=body, signal=result.signal)
        except IntegrityError:  # a concurrent retry with the same key won the race
            replay = self._replay(organisation, key, digest)
            if replay is not None:
                return replay
            raise
        except services.HubError as exc:
            raise exceptions.ValidationError({"detail": exc.code}) from None
        return Response(body, status=status.HTTP_201_CREATED)

    def _replay(self, organisation: Any, key: str, digest: str) -> Response | None:
        stored = IdempotencyRecord.objects.filter(organisation=organisation, key=key).first()
        if stored is None:
            return None
        if stored.request_hash != digest:
            return Response({"detail": _("This Idempotency-Key was used with a different "
                                         "request body.")},
                            status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        response = Response(stored.response, status=stored.status_code)
        response["Idempotent-Replayed"] = "true"
        return response


@extend_schema(responses={200: HandoverOutSerializer(many=True), 401: ErrorSerializer},
               summary="Partner inbox")
class HandoverListView(_Base):
    def get(self, request: Request) -> Response:
        handovers = (Handover.objects.filter(partner=request.user.organisation)
                     .select_related("signal").order_by("-created_at")[:500])
        return Response(HandoverOutSerializer(handovers, many=True).data)


@extend_schema(request=OutcomeInSerializer,
               parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH,
                                            description="Id of the handover.")],
               responses={200: HandoverOutSerializer, 400: ErrorSerializer,
                          401: ErrorSerializer, 404: ErrorSerializer},
               summary="Acknowledge and report outcome")
class HandoverOutcomeView(_Base):
    def post(self, request: Request, pk: str) -> Response:
        # The route takes any segment so that a malformed id is a JSON 404, not a page.
        if not (pk.isascii() and pk.isdigit()) or len(pk) > 18:
            raise exceptions.NotFound()
        handover = Handover.objects.filter(pk=int(pk),
                                           partner=request.user.organisation).first()
        if handover is None:
            raise exceptions.NotFound()
        serializer = OutcomeInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.handover_report_outcome(actor=None, handover=handover,
                                         outcome=serializer.validated_data["outcome"],
                                         note=serializer.validated_data.get("note", ""))
        return Response(HandoverOutSerializer(handover).data)


signal_create = public(SignalCreateView.as_view())
handover_list = public(HandoverListView.as_view())
handover_outcome = public(HandoverOutcomeView.as_view())


def schema_view(patterns: list[Any]) -> Any:
    """The OpenAPI document of exactly these patterns (the hub API, not other apps' views)."""
    return public(SpectacularJSONAPIView.as_view(serve_public=True, patterns=patterns,
                                                 custom_settings={
        "TITLE": "zichtbaar hub API", "VERSION": "1.0.0",
        "DESCRIPTION": "Signal intake and partner inbox of the zichtbaar signal hub.",
        "COMPONENT_SPLIT_REQUEST": True}))
