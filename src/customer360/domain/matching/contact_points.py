"""E-mail addresses, phone numbers, web domains, tax ids and national ids in comparable form.

Each normaliser returns ``None`` for values that carry no usable identity (blank, or unparseable and
too short to mean anything), so "missing" has a single spelling downstream.
"""

from __future__ import annotations

import re
from contextlib import suppress
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, ValidatedEmail, validate_email
from stdnum.eu import vat as eu_vat
from stdnum.util import get_cc_module

_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_WWW = re.compile(r"^www\d*\.")
_MIN_FALLBACK_PHONE_DIGITS = 6


@lru_cache(maxsize=4096)
def checked_email(value: str) -> ValidatedEmail:
    """``validate_email`` of the syntax only (never deliverability), cached: a profile's address is checked
    when the profile is built (``EmailAddress.parse``) and again, as it was stored, when matching
    normalises it (a bulk import does both for each row, one after the other). Raises EmailNotValidError
    (not cached); the result is only read, never changed."""
    return validate_email(value, check_deliverability=False)


@lru_cache(maxsize=65536)
def normalise_email(raw: str) -> str | None:
    """Lower-cased address without plus-tag; Gmail's ignored dots removed and googlemail.com unified.

    Only the syntax is checked (never deliverability: matching must not touch the network).

    >>> normalise_email("John.Doe+newsletter@GoogleMail.com")
    'johndoe@gmail.com'
    """
    value = raw.strip()
    if not value:
        return None
    try:
        parsed = checked_email(value)
        local, domain = parsed.local_part, parsed.ascii_domain
    except EmailNotValidError:
        # Invalid addresses still identify a customer if two records share the same typo.
        if "@" not in value:
            return None
        local, _, domain = value.rpartition("@")
    local, domain = local.lower(), domain.lower().strip(".")
    # Sub-addressing ("+tag") is honoured by all large providers; the tag never names another mailbox.
    local = local.split("+", 1)[0] or local
    if domain in _GMAIL_DOMAINS:
        domain = "gmail.com"
        local = local.replace(".", "")
    if not local or not domain:
        return None
    return f"{local}@{domain}"


@lru_cache(maxsize=65536)
def normalise_phone(raw: str, default_region: str | None = None) -> str | None:
    """E.164 ("+4930123456") when the number can be parsed, else its digits (if there are enough).

    ``default_region`` (ISO alpha-2) is how national numbers such as "030 123456" get a country code.

    >>> normalise_phone("030 1234567", "DE")
    '+49301234567'
    """
    value = raw.strip()
    if not value:
        return None
    if value.startswith("+"):
        number = international_number(value)
    else:
        try:
            number = phonenumbers.parse(value, default_region.upper() if default_region else None)
        except phonenumbers.NumberParseException:
            number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    digits = "".join(c for c in value if c.isdigit())
    return digits if len(digits) >= _MIN_FALLBACK_PHONE_DIGITS else None


_SHARED_LINE_TYPES = frozenset(
    (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
        phonenumbers.PhoneNumberType.VOIP,
    )
)


@lru_cache(maxsize=65536)
def is_shared_line(e164: str) -> bool:
    """Whether a normalised number is a line a household or a site shares (a landline, a switchboard),
    as opposed to a personal one (a mobile). Numbers that cannot be classified count as personal."""
    if not e164.startswith("+"):
        return False
    number = international_number(e164)
    return number is not None and phonenumbers.number_type(number) in _SHARED_LINE_TYPES


@lru_cache(maxsize=4096)
def international_number(value: str) -> phonenumbers.PhoneNumber | None:
    """A number written with its country code ("+…", no default region applies), parsed; None if it
    cannot be. Cached: preparing one record parses each of its numbers three times (normalising, then
    telling landlines from personal lines), and a new profile's stored E.164 is parsed again for its
    exact-look-up key (``PhoneNumber.national_number``); the objects are only read, never changed."""
    try:
        return phonenumbers.parse(value)
    except phonenumbers.NumberParseException:
        return None


# Mailboxes of a role, not of a person: several companies of a group, or a household, may share one.
_ROLE_MAILBOXES = frozenset(
    (
        *("info", "office", "contact", "kontakt", "sales", "hello", "hallo", "mail", "service", "support"),
        *("admin", "team", "accounts", "accounting", "billing", "invoice", "invoices", "rechnung", "buchhaltung"),
        *("verkauf", "vertrieb", "bonjour", "contacto", "empfang", "reception", "enquiries", "post", "familie"),
    )
)


# Mailbox providers open to anyone: their domain says nothing about whose address it is.
_PUBLIC_MAIL_DOMAINS = frozenset(
    (
        *("gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "hotmail.com", "outlook.com", "live.com"),
        *("msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me", "protonmail.com", "gmx.com"),
        *("gmx.net", "gmx.de", "gmx.at", "gmx.ch", "web.de", "t-online.de", "freenet.de", "arcor.de", "posteo.de"),
        *("mail.de", "outlook.de", "hotmail.de", "yahoo.de", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr"),
        *("laposte.net", "hotmail.fr", "yahoo.fr", "outlook.fr", "btinternet.com", "sky.com", "virginmedia.com"),
        *("hotmail.co.uk", "yahoo.co.uk", "outlook.co.uk", "talktalk.net", "ziggo.nl", "kpnmail.nl", "xs4all.nl"),
        *("planet.nl", "hetnet.nl", "hotmail.nl", "live.nl", "home.nl", "telenet.be", "skynet.be", "bluewin.ch"),
        *("libero.it", "virgilio.it", "mail.ru", "yandex.ru", "seznam.cz", "wp.pl", "onet.pl", "o2.pl"),
    )
)


def organisation_domain(email: str) -> str | None:
    """The domain of a company's e-mail address, unless it is a public mailbox provider's."""
    domain = email.rpartition("@")[2]
    return None if not domain or domain in _PUBLIC_MAIL_DOMAINS else domain


def is_role_address(email: str) -> bool:
    """Whether a normalised e-mail address names a role mailbox (``info@``, ``office@``...)."""
    return email.partition("@")[0] in _ROLE_MAILBOXES


@lru_cache(maxsize=65536)
def is_valid_tax_id(compact: str) -> bool:
    """Whether a normalised, country-prefixed tax id passes its country's check digits (python-stdnum)."""
    country = compact[:2].lower()
    if not country.isalpha():
        return False
    try:
        module = eu_vat if country in eu_vat.MEMBER_STATES or country == "el" else get_cc_module(country, "vat")
        return bool(module is not None and module.is_valid(compact))
    except (ValueError, ImportError):
        return False


def normalise_domain(raw: str) -> str | None:
    """The host name of a web address, without scheme, ``www.``, port, path or query.

    >>> normalise_domain("https://www.Example.com:443/about?x=1")
    'example.com'
    """
    value = raw.strip().lower()
    if "://" in value:
        value = value.split("://", 1)[1]
    value = re.split(r"[/?#]", value, maxsplit=1)[0]
    value = value.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    value = _WWW.sub("", value)
    # an undecodable Unicode host is kept as it is: two records spelling it alike still match
    with suppress(UnicodeError):
        value = value.encode("idna").decode("ascii")
    return value or None


def normalise_tax_id(raw: str) -> str | None:
    """Country-prefixed compact form as python-stdnum produces it ("DE 136 695 976" -> "DE136695976").

    >>> normalise_tax_id("de 136.695.976")
    'DE136695976'
    """
    value = raw.strip()
    if not value:
        return None
    country = value[:2].lower()
    try:
        if country in eu_vat.MEMBER_STATES or country == "el":
            return str(eu_vat.compact(value)).upper()
        module = get_cc_module(country, "vat") if country.isalpha() else None
        if module is not None:
            compacted = str(module.compact(value)).upper()
            # some national modules drop the country prefix, others (CHE...) keep it
            return compacted if compacted.startswith(country.upper()) else country.upper() + compacted
    except ValueError:
        pass  # malformed for its country: fall back to the generic compaction below
    return _NOT_ALNUM.sub("", value).upper() or None


def normalise_national_id(raw: str) -> str | None:
    """Upper-case letters and digits only (separators differ between sources, the id does not)."""
    return _NOT_ALNUM.sub("", raw).upper() or None
