"""Code lists for People, Objects, Locations and links: the coded values of the data dictionary.

Every code list is a :class:`CodeList`: a ``StrEnum`` whose members carry a
human description, so the Markdown data dictionary and the JSON Schema can be
generated from the code (``[(m.value, m.description) for m in Gender]``) and
the class docstring names the source of the list.

Values follow one rule: a list defined by an outside standard keeps that
standard's codes (``"1"`` for male, ``"IC1"``, ``"A"``); a list Polestar defines
uses lower-case kebab-case values (``"en-route"``, ``"reporting-person"``),
the same spelling as schema names and event-type segments.

Code lists for events live in :mod:`polestar.model.event_codes`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


class CodeList(StrEnum):
    """Base of every code list: a string enum whose members also carry a description."""

    _value_: str
    description: str

    def __new__(cls, value: str, description: str = "") -> Self:
        """A member with code ``value`` described by ``description``."""
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # Descriptions go into the schema so generated docs and forms can show them.
        json_schema = handler.resolve_ref_schema(handler(schema))
        json_schema["x-enum-descriptions"] = {m.value: m.description for m in cls}
        return json_schema

    @classmethod
    def describe(cls) -> list[tuple[str, str]]:
        """Every ``(code, description)`` pair, in declaration order."""
        return [(m.value, m.description) for m in cls]


def code_lists() -> dict[str, type[CodeList]]:
    """Every code list the model defines, by class name, for the data dictionary.

    Import :mod:`polestar.model` first so every module's lists are loaded.
    """
    found: dict[str, type[CodeList]] = {}
    pending = list(CodeList.__subclasses__())
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return dict(sorted(found.items()))


class Gender(CodeList):
    """Gender as recorded by police systems.

    Source: ISO/IEC 5218 codes, as used by the Police National Computer and the
    public iHub Standard Data Model (which labels 9 "not specified").
    """

    NOT_KNOWN = "0", "Not known: the gender has not been recorded."
    MALE = "1", "Male."
    FEMALE = "2", "Female."
    NOT_SPECIFIED = "9", "Not specified: recorded, but the person did not state one or it does not apply."


class NameType(CodeList):
    """What kind of other name a person is (or was) known by. Defined by Polestar."""

    ALIAS = "alias", "A false or assumed name the person has used."
    MAIDEN = "maiden", "Family name before marriage or civil partnership."
    NICKNAME = "nickname", "An informal name or street name."
    PREVIOUS = "previous", "A former legal name, e.g. before a deed poll."
    BIRTH = "birth", "The name registered at birth, where it differs from the current one."


class IdentifierType(CodeList):
    """Kinds of identifier a person can hold; each is validated against its real format."""

    PNC = "PNC", "Police National Computer ID, canonical long form YYYY/NNNNNNNA."
    CRO = "CRO", "Criminal Records Office number: NNNNNN/YYA or SFYY/NNNNNNA."
    DRIVING_LICENCE = "DRIVING-LICENCE", "DVLA driving licence number, 16 characters."
    PASSPORT = "PASSPORT", "Passport number; UK passports are 9 digits."
    NINO = "NINO", "National Insurance number issued by HMRC/DWP, e.g. AB123456C."


class Build(CodeList):
    """Body build as described by a witness or officer. Defined by Polestar."""

    SLIGHT = "slight", "Slight or thin."
    SLIM = "slim", "Slim."
    MEDIUM = "medium", "Medium or average."
    STOCKY = "stocky", "Stocky or thickset."
    MUSCULAR = "muscular", "Muscular or athletic."
    LARGE = "large", "Large or heavy."


class EyeColour(CodeList):
    """Eye colour. Defined by Polestar after the PNC description categories."""

    BLUE = "blue", "Blue."
    BROWN = "brown", "Brown."
    GREEN = "green", "Green."
    GREY = "grey", "Grey."
    HAZEL = "hazel", "Hazel."
    OTHER = "other", "Another colour, or eyes of different colours."
    NOT_KNOWN = "not-known", "Not known."


class HairColour(CodeList):
    """Hair colour. Defined by Polestar after the PNC description categories."""

    BLACK = "black", "Black."
    BROWN = "brown", "Brown."
    BLONDE = "blonde", "Blonde or fair."
    RED = "red", "Red or ginger."
    GREY = "grey", "Grey."
    WHITE = "white", "White."
    BALD = "bald", "Bald or shaven."
    DYED = "dyed", "Dyed an unnatural colour."
    NOT_KNOWN = "not-known", "Not known."


class EthnicAppearance(CodeList):
    """Officer-defined ethnicity: the IC codes used on PNC and in stop and search returns."""

    IC1 = "IC1", "White - North European."
    IC2 = "IC2", "White - South European."
    IC3 = "IC3", "Black."
    IC4 = "IC4", "Asian."
    IC5 = "IC5", "Chinese, Japanese or other South East Asian."
    IC6 = "IC6", "Arab or North African."
    IC9 = "IC9", "Not known."


class SelfDefinedEthnicity(CodeList):
    """Self-defined ethnicity: the 2011/2021 census categories used by the Home Office (18+1)."""

    A1 = "A1", "Asian or Asian British - Indian."
    A2 = "A2", "Asian or Asian British - Pakistani."
    A3 = "A3", "Asian or Asian British - Bangladeshi."
    A4 = "A4", "Asian or Asian British - Chinese."
    A5 = "A5", "Asian or Asian British - any other Asian background."
    B1 = "B1", "Black or Black British - Caribbean."
    B2 = "B2", "Black or Black British - African."
    B3 = "B3", "Black or Black British - any other Black background."
    M1 = "M1", "Mixed - White and Black Caribbean."
    M2 = "M2", "Mixed - White and Black African."
    M3 = "M3", "Mixed - White and Asian."
    M4 = "M4", "Mixed - any other mixed background."
    O1 = "O1", "Other ethnic group - Arab."
    O2 = "O2", "Other ethnic group - any other ethnic group."
    W1 = "W1", "White - English, Welsh, Scottish, Northern Irish or British."
    W2 = "W2", "White - Irish."
    W3 = "W3", "White - Gypsy or Irish Traveller."
    W4 = "W4", "White - any other White background."
    W5 = "W5", "White - Roma."
    NS = "NS", "Not stated."


class MarkType(CodeList):
    """Kinds of distinguishing mark (scars, marks and tattoos, 'SMT'). Defined by Polestar."""

    SCAR = "scar", "A scar."
    TATTOO = "tattoo", "A tattoo."
    BIRTHMARK = "birthmark", "A birthmark or mole."
    PIERCING = "piercing", "A piercing."
    DEFORMITY = "deformity", "A deformity, amputation or missing part."
    OTHER = "other", "Another mark."


class ContactUse(CodeList):
    """What a contact point is used for. Defined by Polestar."""

    HOME = "home", "Home."
    WORK = "work", "Work."
    MOBILE = "mobile", "Personal mobile."
    TEMPORARY = "temporary", "Temporary, e.g. while on bail at another address."


class VehicleColour(CodeList):
    """Vehicle colour: the basic colours DVLA records on the vehicle register."""

    BEIGE = "beige", "Beige."
    BLACK = "black", "Black."
    BLUE = "blue", "Blue."
    BRONZE = "bronze", "Bronze."
    BROWN = "brown", "Brown."
    CREAM = "cream", "Cream."
    GOLD = "gold", "Gold."
    GREEN = "green", "Green."
    GREY = "grey", "Grey."
    MAROON = "maroon", "Maroon."
    MULTICOLOUR = "multicolour", "Multi-coloured."
    ORANGE = "orange", "Orange."
    PINK = "pink", "Pink."
    PURPLE = "purple", "Purple."
    RED = "red", "Red."
    SILVER = "silver", "Silver."
    TURQUOISE = "turquoise", "Turquoise."
    WHITE = "white", "White."
    YELLOW = "yellow", "Yellow."


class WeaponType(CodeList):
    """Kinds of weapon. Defined by Polestar after the Home Office weapon categories."""

    FIREARM = "firearm", "A firearm, including air weapons."
    IMITATION_FIREARM = "imitation-firearm", "An imitation or replica firearm."
    KNIFE = "knife", "A knife or other bladed or pointed article."
    BLUNT_INSTRUMENT = "blunt-instrument", "A bat, bar, hammer or other blunt instrument."
    CORROSIVE = "corrosive", "A corrosive substance, e.g. acid."
    OFFENSIVE_WEAPON = "offensive-weapon", "Another article made or adapted to cause injury."
    OTHER = "other", "Another weapon."


class DrugClass(CodeList):
    """Legal class of a controlled drug (Misuse of Drugs Act 1971, Psychoactive Substances Act 2016)."""

    CLASS_A = "A", "Class A, e.g. heroin, cocaine, MDMA."
    CLASS_B = "B", "Class B, e.g. cannabis, amphetamine, ketamine."
    CLASS_C = "C", "Class C, e.g. benzodiazepines, anabolic steroids."
    PSYCHOACTIVE = "psychoactive", "A psychoactive substance not otherwise controlled."
    NOT_KNOWN = "not-known", "Not yet known (e.g. awaiting analysis)."


class QuantityUnit(CodeList):
    """Units for a quantity of drugs or property. Defined by Polestar."""

    GRAM = "g", "Grams."
    KILOGRAM = "kg", "Kilograms."
    MILLILITRE = "ml", "Millilitres."
    ITEM = "item", "Individual items: tablets, wraps, plants."


class PropertyCategory(CodeList):
    """Kinds of property item. Defined by Polestar."""

    CASH = "cash", "Cash."
    JEWELLERY = "jewellery", "Jewellery or watches."
    ELECTRONICS = "electronics", "Electronic devices other than phones."
    BICYCLE = "bicycle", "A bicycle or e-scooter."
    CLOTHING = "clothing", "Clothing or footwear."
    BAG = "bag", "A bag, wallet or purse."
    TOOL = "tool", "A tool."
    OTHER = "other", "Anything else."


class DocumentType(CodeList):
    """Kinds of document seized, found or produced. Defined by Polestar."""

    PASSPORT = "passport", "A passport."
    DRIVING_LICENCE = "driving-licence", "A driving licence."
    IDENTITY_CARD = "identity-card", "A national identity card or residence permit."
    BANK_CARD = "bank-card", "A bank or credit card."
    VEHICLE_DOCUMENT = "vehicle-document", "A vehicle registration certificate (V5C) or insurance."
    OTHER = "other", "Another document."


class EntityType(CodeList):
    """The kinds of POLE entity a link can point at; each value is the entity's schema name."""

    PERSON = "person", "A person."
    VEHICLE = "vehicle", "A vehicle."
    PHONE = "phone", "A mobile phone or other telephone device."
    WEAPON = "weapon", "A weapon."
    DRUG = "drug", "A controlled drug or psychoactive substance."
    PROPERTY_ITEM = "property-item", "An item of property."
    DOCUMENT = "document", "A document."
    LOCATION = "location", "A location: address, coordinates, area or description."
    CALL = "call", "A call for service."
    INCIDENT = "incident", "An incident in computer-aided dispatch."
    CRIME = "crime", "A crime report."
    ARREST = "arrest", "An arrest."
    CUSTODY_EPISODE = "custody-episode", "A detainee's time in custody under one custody record."
    STOP_SEARCH = "stop-search", "A stop and search (PACE Code A)."
    USE_OF_FORCE = "use-of-force", "A use of force."
    INTELLIGENCE_REPORT = "intelligence-report", "An intelligence report graded 3x5x2."
    WITNESS_STATEMENT = "witness-statement", "A witness statement (MG11)."

    @property
    def is_person(self) -> bool:
        """True for people."""
        return self is EntityType.PERSON

    @property
    def is_object(self) -> bool:
        """True for the Objects of POLE."""
        return self in _OBJECTS

    @property
    def is_event(self) -> bool:
        """True for the Events of POLE."""
        return self not in _OBJECTS and self not in {EntityType.PERSON, EntityType.LOCATION}


_OBJECTS = frozenset(
    {
        EntityType.VEHICLE,
        EntityType.PHONE,
        EntityType.WEAPON,
        EntityType.DRUG,
        EntityType.PROPERTY_ITEM,
        EntityType.DOCUMENT,
    }
)
