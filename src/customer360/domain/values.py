"""Value objects of the customer master: immutable, validated on construction, compared by value.

The domain may use pure, I/O-free libraries made for these jobs (phonenumbers, python-stdnum,
email-validator without deliverability checks, pycountry); see docs/architecture.md.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from urllib.parse import urlsplit

import phonenumbers
import pycountry
import stdnum
from email_validator import EmailNotValidError
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumValidationError

from customer360.domain.errors import InvalidValue
from customer360.domain.matching.contact_points import checked_email, international_number


class CustomerKind(StrEnum):
    ORGANIZATION = "ORGANIZATION"
    PERSON = "PERSON"


class CustomerStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    ON_HOLD = "ON_HOLD"
    # Set only by the merge workflow; a merged profile is kept and points at its survivor.
    MERGED = "MERGED"
    # Set only by GDPR erasure; the tombstone keeps ids and dates, no personal data.
    ERASED = "ERASED"


SETTABLE_STATUSES = frozenset({CustomerStatus.ACTIVE, CustomerStatus.INACTIVE, CustomerStatus.ON_HOLD})


class ContactRole(StrEnum):
    BILLING = "BILLING"
    SERVICE = "SERVICE"
    SALES = "SALES"
    TECHNICAL = "TECHNICAL"


class Channel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    CALL = "CALL"
    POST = "POST"


class EmailType(StrEnum):
    WORK = "WORK"
    PERSONAL = "PERSONAL"
    BILLING = "BILLING"
    OTHER = "OTHER"


class PhoneType(StrEnum):
    MOBILE = "MOBILE"
    LANDLINE = "LANDLINE"
    FAX = "FAX"
    OTHER = "OTHER"


class AddressType(StrEnum):
    BILLING = "BILLING"
    SHIPPING = "SHIPPING"
    REGISTERED = "REGISTERED"
    OTHER = "OTHER"


class TaxIdType(StrEnum):
    VAT = "VAT"
    TIN = "TIN"
    COMPANY_REGISTRATION = "COMPANY_REGISTRATION"
    OTHER = "OTHER"


class FrequencyPeriod(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


# Unicode categories that never belong in a stored name: controls, formats (zero-width and bidi
# overrides, a classic spoofing trick), surrogates, private use and unassigned code points.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_WHITESPACE = re.compile(r"\s+")


def clean_text(value: str, field: str, *, max_length: int = 200) -> str:
    """NFC-normalise, trim and collapse whitespace; reject controls, invisible characters and empties."""
    text = unicodedata.normalize("NFC", value)
    # A printable string holds no character of the "Other" categories (each of FORBIDDEN_CATEGORIES): the
    # check per character (most of a bulk import's text cleaning) is needed only for the rest.
    if not text.isprintable() and any(
        unicodedata.category(ch) in FORBIDDEN_CATEGORIES for ch in text if ch not in "\t\n\r"
    ):
        raise InvalidValue(field, "contains control or invisible characters")
    text = _WHITESPACE.sub(" ", text).strip()
    if not text:
        raise InvalidValue(field, "must not be blank")
    if len(text) > max_length:
        raise InvalidValue(field, f"must be at most {max_length} characters")
    return text


def clean_optional_text(value: str | None, field: str, *, max_length: int = 200) -> str | None:
    return None if value is None else clean_text(value, field, max_length=max_length)


@cache
def _country_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def _currency_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def country_code(value: str, field: str) -> str:
    """An ISO 3166-1 alpha-2 country code, upper-cased."""
    code = value.strip().upper()
    if code not in _country_codes():
        raise InvalidValue(field, "is not an ISO 3166-1 alpha-2 country code")
    return code


@dataclass(frozen=True, slots=True)
class EmailAddress:
    address: str
    type: EmailType = EmailType.WORK
    primary: bool = False

    @classmethod
    def parse(cls, raw: str, field: str, *, type: EmailType = EmailType.WORK, primary: bool = False) -> EmailAddress:
        if len(raw) > 320:
            raise InvalidValue(field, "must be at most 320 characters")
        try:
            validated = checked_email(raw.strip())
        except EmailNotValidError:
            # The library's message repeats the address; ours must not carry personal data.
            raise InvalidValue(field, "is not a valid e-mail address") from None
        return cls(address=validated.normalized, type=type, primary=primary)

    @property
    def key(self) -> str:
        """The comparison key: e-mail local parts are case-insensitive in practice."""
        return self.address.lower()


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A phone number as given (``original``) and in E.164.

    A number that cannot be a phone number ("not possible": digits lost or added) is kept, not refused:
    real CRM feeds are full of them and the rest of the record is worth having. It is stored with
    ``validated`` False and its reason, and ``e164`` holds its digits (after "+" and the country code
    when the number says which), the normalised string that search, consent and matching compare.
    """

    e164: str
    original: str
    type: PhoneType = PhoneType.OTHER
    country: str | None = None
    validated: bool = True
    invalid_reason: str | None = None

    @classmethod
    def parse(
        cls, raw: str, field: str, *, default_region: str | None, type: PhoneType = PhoneType.OTHER
    ) -> PhoneNumber:
        original = clean_text(raw, field, max_length=64)
        number = parse_phone(original, default_region)
        if number is None:
            return cls._unvalidated(original, field, default_region, type)
        return cls(
            e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
            original=original,
            type=type,
            country=phonenumbers.region_code_for_number(number),
        )

    @classmethod
    def _unvalidated(cls, original: str, field: str, default_region: str | None, type: PhoneType) -> PhoneNumber:
        digits = "".join(ch for ch in original if ch.isdigit())
        if not digits:
            raise InvalidValue(field, "has no digits (give it in international format)")
        region = default_region if default_region and not original.lstrip().startswith("+") else None
        try:
            number = phonenumbers.parse(original, region)
        except phonenumbers.NumberParseException:
            international = original.lstrip().startswith(("+", "00"))
            normalised = "+" + digits.removeprefix("00") if international else digits
            country = None
        else:
            normalised = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            country = phonenumbers.region_code_for_country_code(number.country_code or 0)
        return cls(
            e164=normalised,
            original=original,
            type=type,
            country=None if country == phonenumbers.UNKNOWN_REGION else country,
            validated=False,
            invalid_reason="is not a possible phone number",
        )

    @property
    def national_number(self) -> str:
        number = international_number(self.e164)  # parsed once for matching too (cached)
        if number is None:
            return self.e164.lstrip("+")  # an unvalidated number without a country code
        return str(number.national_number)


def parse_phone(text: str, default_region: str | None) -> phonenumbers.PhoneNumber | None:
    """Parse a phone number in any common format; ``None`` when it cannot be a phone number."""
    region = default_region if default_region and not text.lstrip().startswith("+") else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(number):
        return number
    # A possible number of reasonable length is kept even when phonenumbers' metadata does not know its
    # range yet (new ranges appear every year); refusing it would lose a real customer's number.
    possible = phonenumbers.is_possible_number(number) and len(str(number.national_number)) >= 6
    return number if possible else None


@dataclass(frozen=True, slots=True)
class PostalAddress:
    type: AddressType
    lines: tuple[str, ...]
    city: str
    country: str
    postal_code: str | None = None
    region: str | None = None

    @classmethod
    def create(
        cls,
        field: str,
        *,
        type: AddressType,
        lines: list[str],
        city: str,
        country: str,
        postal_code: str | None = None,
        region: str | None = None,
    ) -> PostalAddress:
        if not 1 <= len(lines) <= 4:
            raise InvalidValue(f"{field}.lines", "must have between 1 and 4 lines")
        return cls(
            type=type,
            lines=tuple(clean_text(line, f"{field}.lines[{i}]") for i, line in enumerate(lines)),
            city=clean_text(city, f"{field}.city", max_length=100),
            country=country_code(country, f"{field}.country"),
            postal_code=None
            if postal_code is None
            else clean_text(postal_code, f"{field}.postalCode", max_length=20).upper(),
            region=clean_optional_text(region, f"{field}.region", max_length=100),
        )


@dataclass(frozen=True, slots=True)
class TaxId:
    """A tax id, validated by python-stdnum where it has a module for the country and type.

    ``validated`` False means either that no module exists (``invalid_reason`` None: not checked) or
    that the value fails the check (``invalid_reason`` says how). A failing value is kept in its compact
    form, not refused: the rest of the record is worth having, and two records sharing the same mistyped
    number are still evidence for matching (never as a valid id of a legal entity).
    """

    country: str
    type: TaxIdType
    value: str
    validated: bool
    invalid_reason: str | None = None

    @classmethod
    def parse(cls, field: str, *, country: str, type: TaxIdType, value: str) -> TaxId:
        cc = country_code(country, f"{field}.country")
        raw = clean_text(value, f"{field}.value", max_length=64)
        module_name = {TaxIdType.VAT: "vat", TaxIdType.TIN: "tin"}.get(type)
        module = stdnum.get_cc_module(cc.lower(), module_name) if module_name else None
        compact = re.sub(r"[\s.\-/]", "", raw).upper()
        if not compact:
            raise InvalidValue(f"{field}.value", "has no letters or digits")
        if module is None:
            return cls(country=cc, type=type, value=compact, validated=False)
        try:
            compact = module.validate(raw)
        except StdnumValidationError as error:
            return cls(country=cc, type=type, value=compact, validated=False, invalid_reason=_tax_id_failure(error))
        if type is TaxIdType.VAT:
            prefix = "EL" if cc == "GR" else cc
            compact = compact if compact.startswith(prefix) else prefix + compact
        return cls(country=cc, type=type, value=compact, validated=True)

    @property
    def key(self) -> str:
        return f"{self.country}:{self.type.value}:{self.value}"


def _tax_id_failure(error: StdnumValidationError) -> str:
    """Why a tax id failed its country's check, in words that name no value."""
    if isinstance(error, InvalidChecksum):
        return "fails its check digits"
    if isinstance(error, InvalidLength):
        return "has the wrong length"
    if isinstance(error, InvalidFormat):
        return "has the wrong format"
    if isinstance(error, InvalidComponent):
        return "has an invalid component"
    return "fails its country's check"


_SOURCE_SYSTEM = re.compile(r"^[A-Z0-9][A-Z0-9_.\-]{0,39}$")


@dataclass(frozen=True, slots=True)
class ExternalReference:
    """Another system's id for this customer, unique per tenant (source system + id)."""

    source_system: str
    external_id: str

    @classmethod
    def create(cls, field: str, *, source_system: str, external_id: str) -> ExternalReference:
        system = source_system.strip().upper()
        if not _SOURCE_SYSTEM.match(system):
            raise InvalidValue(
                f"{field}.sourceSystem",
                "must be 1-40 letters, digits, '_', '.' or '-', starting alphanumeric",
            )
        return cls(source_system=system, external_id=clean_text(external_id, f"{field}.externalId", max_length=100))


_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")


@dataclass(frozen=True, slots=True)
class LocalePreferences:
    language: str | None = None
    time_zone: str | None = None
    currency: str | None = None

    @classmethod
    def create(
        cls, field: str, *, language: str | None, time_zone: str | None, currency: str | None
    ) -> LocalePreferences:
        if language is not None and not _LANGUAGE_TAG.match(language):
            raise InvalidValue(f"{field}.language", "must be a BCP 47 tag such as 'de' or 'de-CH'")
        if time_zone is not None and time_zone not in _time_zones():
            raise InvalidValue(f"{field}.timeZone", "is not an IANA time zone")
        if currency is not None and currency.upper() not in _currency_codes():
            raise InvalidValue(f"{field}.currency", "is not an ISO 4217 currency code")
        return cls(language=language, time_zone=time_zone, currency=None if currency is None else currency.upper())


_TOPIC = re.compile(r"^[A-Z][A-Z0-9_]{0,39}$")
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def topic_code(value: str, field: str) -> str:
    """Purposes and topics are tenant-defined upper-case codes such as MARKETING or NEWSLETTER."""
    code = value.strip().upper()
    if not _TOPIC.match(code):
        raise InvalidValue(field, "must be an upper-case code of letters, digits and '_' (max 40)")
    return code


@dataclass(frozen=True, slots=True)
class ChannelPreference:
    channel: Channel
    topic: str
    opt_in: bool


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: str
    end: str

    @classmethod
    def create(cls, field: str, *, start: str, end: str) -> QuietHours:
        for name, value in (("start", start), ("end", end)):
            if not _CLOCK.match(value):
                raise InvalidValue(f"{field}.{name}", "must be a time of day HH:MM")
        if start == end:
            raise InvalidValue(field, "start and end must differ")
        return cls(start=start, end=end)


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    max_messages: int
    period: FrequencyPeriod

    @classmethod
    def create(cls, field: str, *, max_messages: int, period: FrequencyPeriod) -> FrequencyCap:
        if not 1 <= max_messages <= 1000:
            raise InvalidValue(f"{field}.maxMessages", "must be between 1 and 1000")
        return cls(max_messages=max_messages, period=period)


@dataclass(frozen=True, slots=True)
class CommunicationPreferences:
    preferred_channel: Channel | None = None
    channels: tuple[ChannelPreference, ...] = ()
    quiet_hours: QuietHours | None = None
    frequency_cap: FrequencyCap | None = None

    def __post_init__(self) -> None:
        seen: set[tuple[Channel, str]] = set()
        for pref in self.channels:
            if (pref.channel, pref.topic) in seen:
                raise InvalidValue("communication.channels", "lists a channel and topic twice")
            seen.add((pref.channel, pref.topic))

    def opted_out(self, channel: Channel) -> bool:
        """A channel is opted out when every topic listed for it is opted out."""
        prefs = [p for p in self.channels if p.channel is channel]
        return bool(prefs) and not any(p.opt_in for p in prefs)


def website_and_domain(raw: str, field: str) -> tuple[str, str]:
    """Validate a web site address; return it and its registrable host (lower-case, without www.)."""
    text = clean_text(raw, field, max_length=255)
    candidate = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(candidate)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:  # an unbalanced "[" (IPv6 literal) or a bad port
        raise InvalidValue(field, "is not a web address") from None
    if parts.scheme not in ("http", "https") or "." not in host or " " in host:
        raise InvalidValue(field, "is not a web address")
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidValue(field, "has an invalid host name") from None
    return candidate, ascii_host.removeprefix("www.")


_TAG = re.compile(r"^[\w][\w .:/\-]{0,49}$")


def tag(value: str, field: str) -> str:
    text = clean_text(value, field, max_length=50)
    if not _TAG.match(text):
        raise InvalidValue(field, "must be up to 50 letters, digits, spaces or . : / - _")
    return text
