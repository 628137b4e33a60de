"""Code lists for Events: calls, incidents, crimes, arrests, custody, stops, force, intelligence.

The conventions are those of :mod:`polestar.model.codes`: outside standards keep
their own codes, Polestar's own lists use lower-case kebab-case values.
"""

from __future__ import annotations

from polestar.model.codes import CodeList


class CallChannel(CodeList):
    """How a call for service reached the force. Defined by Polestar."""

    EMERGENCY = "999", "Emergency call on 999 or 112."
    NON_EMERGENCY = "101", "Non-emergency call on 101."
    ONLINE = "online", "Online report or web chat."
    IN_PERSON = "in-person", "Reported in person at a front counter or to an officer."
    ALARM = "alarm", "Alarm activation or automated call."
    PARTNER = "partner", "Passed by another agency, e.g. ambulance service."


class CrimeIndicator(CodeList):
    """Indicators a call handler flags that suggest a crime may have been committed."""

    VIOLENCE = "violence", "Violence against the person."
    WEAPON = "weapon", "A weapon is mentioned or seen."
    DOMESTIC_ABUSE = "domestic-abuse", "Domestic abuse."
    HATE = "hate", "Perceived hate motivation."
    SEXUAL_OFFENCE = "sexual-offence", "A sexual offence."
    THEFT = "theft", "Theft, robbery or burglary."
    CRIMINAL_DAMAGE = "criminal-damage", "Criminal damage or arson."
    DRUGS = "drugs", "Drugs offences."
    VULNERABLE_PERSON = "vulnerable-person", "A vulnerable person or child at risk."
    ROAD_TRAFFIC = "road-traffic", "Road traffic offence or collision."


class IncidentGrade(CodeList):
    """The response grade given to an incident (National Contact Management principles)."""

    IMMEDIATE = "immediate", "Grade 1: immediate threat to life, property or an offence in progress."
    PRIORITY = "priority", "Grade 2: genuine concern, attended as soon as possible."
    SCHEDULED = "scheduled", "Grade 3: attendance arranged at an agreed time."
    RESOLUTION_WITHOUT_DEPLOYMENT = (
        "resolution-without-deployment",
        "Grade 4: resolved by phone, online or by referral, without sending anyone.",
    )


class IncidentStatus(CodeList):
    """Where an incident is in its life in computer-aided dispatch. Defined by Polestar."""

    CREATED = "created", "Created from a call; not yet graded."
    GRADED = "graded", "Graded; waiting for a resource."
    ASSIGNED = "assigned", "A unit is assigned."
    EN_ROUTE = "en-route", "The assigned unit is travelling to the scene."
    ON_SCENE = "on-scene", "The unit is at the scene."
    CLEARED = "cleared", "Units have left the scene; the incident awaits closing."
    CLOSED = "closed", "Closed with a result; no further work in dispatch."


class CrimeStatus(CodeList):
    """The state of a crime report in crime recording. Defined by Polestar."""

    DRAFT = "draft", "Drafted, e.g. from a call with crime indicators; not yet submitted."
    SUBMITTED = "submitted", "Submitted to crime recording; awaiting a crime reference."
    RECORDED = "recorded", "Recorded as a crime with a crime reference number."
    CANCELLED = "cancelled", "Cancelled or transferred under the Home Office Counting Rules."
    FINALISED = "finalised", "An outcome has been assigned."


class ArrestNecessity(CodeList):
    """The necessity criteria for an arrest without warrant (PACE s24(5), Code G para 2.9)."""

    NAME = "name", "To enable the person's name to be ascertained."
    ADDRESS = "address", "To enable the person's address to be ascertained."
    PREVENT_HARM = "prevent-harm", "To prevent physical injury, loss of or damage to property."
    PREVENT_INDECENCY = "prevent-indecency", "To prevent an offence against public decency."
    PREVENT_OBSTRUCTION = "prevent-obstruction", "To prevent an unlawful obstruction of the highway."
    PROTECT_VULNERABLE = "protect-vulnerable", "To protect a child or other vulnerable person."
    PROMPT_INVESTIGATION = "prompt-investigation", "To allow the prompt and effective investigation."
    PREVENT_DISAPPEARANCE = (
        "prevent-disappearance",
        "To prevent the person disappearing hindering prosecution.",
    )


class CustodyReviewKind(CodeList):
    """Reviews and extensions of detention without charge (PACE ss40-44)."""

    INSPECTOR_REVIEW = "inspector-review", "Review by an inspector (s40): by 6 hours, then every 9 hours."
    SUPERINTENDENT_EXTENSION = (
        "superintendent-extension",
        "Extension to 36 hours by a superintendent (s42), indictable offences only.",
    )
    WARRANT_OF_FURTHER_DETENTION = (
        "warrant-of-further-detention",
        "Warrant of further detention from magistrates (ss43-44), up to 96 hours in all.",
    )


class CustodyReviewOutcome(CodeList):
    """The result of a detention review. Defined by Polestar."""

    CONTINUED = "continued", "Further detention authorised."
    RELEASE_ORDERED = "release-ordered", "Release ordered."
    EXTENDED = "extended", "The detention limit was extended."
    REFUSED = "refused", "An extension was refused."


class CustodyOutcome(CodeList):
    """How a custody episode ended. Defined by Polestar."""

    CHARGED_REMANDED = "charged-remanded", "Charged and kept in custody for court."
    CHARGED_BAILED = "charged-bailed", "Charged and bailed to court."
    PRE_CHARGE_BAIL = "pre-charge-bail", "Released on pre-charge bail with conditions or a return date."
    RELEASED_UNDER_INVESTIGATION = "released-under-investigation", "Released under investigation."
    NO_FURTHER_ACTION = "no-further-action", "Released; no further action."
    CAUTION = "caution", "Released after a simple or conditional caution."
    COMMUNITY_RESOLUTION = "community-resolution", "Released after a community resolution."
    PENALTY_NOTICE = "penalty-notice", "Released after a penalty notice."
    TRANSFERRED = "transferred", "Transferred to another force, hospital or agency."
    RECALLED_TO_PRISON = "recalled-to-prison", "Handed to prison on recall or warrant."


class SearchPower(CodeList):
    """The legal power a stop and search was carried out under (PACE Code A, Annex A)."""

    PACE_S1 = "pace-s1", "Police and Criminal Evidence Act 1984 s1: stolen or prohibited articles."
    MISUSE_OF_DRUGS_S23 = "misuse-of-drugs-s23", "Misuse of Drugs Act 1971 s23: controlled drugs."
    FIREARMS_S47 = "firearms-s47", "Firearms Act 1968 s47: firearms."
    CJPOA_S60 = (
        "cjpoa-s60",
        "Criminal Justice and Public Order Act 1994 s60: authorised, no suspicion needed.",
    )
    TERRORISM_S43 = "terrorism-s43", "Terrorism Act 2000 s43: a person reasonably suspected of terrorism."
    TERRORISM_S43A = "terrorism-s43a", "Terrorism Act 2000 s43A: vehicles reasonably suspected."
    TERRORISM_S47A = "terrorism-s47a", "Terrorism Act 2000 s47A: authorised, no suspicion needed."
    PSYCHOACTIVE_S36 = "psychoactive-s36", "Psychoactive Substances Act 2016 s36: psychoactive substances."
    OTHER = "other", "Another statutory power, named in the grounds."

    @property
    def needs_authorisation(self) -> bool:
        """True for powers that need a senior officer's authorisation instead of suspicion."""
        return self in {SearchPower.CJPOA_S60, SearchPower.TERRORISM_S47A}


class SearchObject(CodeList):
    """What an officer was looking for (the object of the search)."""

    STOLEN_PROPERTY = "stolen-property", "Stolen property."
    CONTROLLED_DRUGS = "controlled-drugs", "Controlled drugs."
    OFFENSIVE_WEAPON = "offensive-weapon", "Offensive weapons."
    BLADED_ARTICLE = "bladed-article", "Bladed or pointed articles."
    FIREARM = "firearm", "Firearms."
    GOING_EQUIPPED = "going-equipped", "Articles for use in burglary, theft or fraud."
    CRIMINAL_DAMAGE = "criminal-damage", "Articles for use in criminal damage."
    FIREWORKS = "fireworks", "Prohibited fireworks."
    TERRORISM = "terrorism", "Articles evidencing terrorism."
    PSYCHOACTIVE_SUBSTANCES = "psychoactive-substances", "Psychoactive substances."
    OTHER = "other", "Something else, described in the grounds."


class SearchSubject(CodeList):
    """Who or what was searched. Defined by Polestar."""

    PERSON = "person", "A person."
    VEHICLE = "vehicle", "A vehicle only."
    PERSON_AND_VEHICLE = "person-and-vehicle", "A person and a vehicle."


class SearchOutcome(CodeList):
    """The outcome of a stop and search, as in the Home Office annual data return."""

    NO_FURTHER_ACTION = "no-further-action", "Nothing found or no further action."
    ARREST = "arrest", "Arrest."
    SUMMONS = "summons", "Summons or charged by post."
    CAUTION = "caution", "Caution (simple or conditional)."
    DRUGS_WARNING = "drugs-warning", "Khat or cannabis warning."
    PENALTY_NOTICE = "penalty-notice", "Penalty notice for disorder."
    COMMUNITY_RESOLUTION = "community-resolution", "Community resolution."


class ForceTactic(CodeList):
    """Tactics reported on a use-of-force form (after the national use of force data return)."""

    HANDCUFFING_COMPLIANT = "handcuffing-compliant", "Compliant handcuffing."
    HANDCUFFING_NON_COMPLIANT = "handcuffing-non-compliant", "Non-compliant handcuffing."
    UNARMED_SKILLS = "unarmed-skills", "Unarmed skills: holds, pressure points, strikes, takedowns."
    LIMB_RESTRAINTS = "limb-restraints", "Limb or body restraints."
    BATON = "baton", "Baton drawn or used."
    IRRITANT_SPRAY = "irritant-spray", "Irritant spray drawn or used."
    SPIT_GUARD = "spit-guard", "Spit and bite guard."
    TASER = "taser", "Conducted energy device drawn, aimed or fired."
    DOG = "dog", "Police dog deployed."
    FIREARM = "firearm", "Firearm aimed or fired."
    OTHER = "other", "Another tactic, described in the narrative."


class ForceReason(CodeList):
    """Why force was used. Defined by Polestar after the national data return."""

    PROTECT_SELF = "protect-self", "To protect the officer."
    PROTECT_OTHERS = "protect-others", "To protect the public or other officers."
    PROTECT_SUBJECT = "protect-subject", "To protect the subject from self-harm."
    EFFECT_ARREST = "effect-arrest", "To effect an arrest or search."
    PREVENT_ESCAPE = "prevent-escape", "To prevent escape."
    PREVENT_OFFENCE = "prevent-offence", "To prevent an offence or damage to property."
    OTHER = "other", "Another reason, described in the narrative."


class SourceEvaluation(CodeList):
    """3x5x2 grading, source evaluation (College of Policing APP on intelligence management)."""

    RELIABLE = "1", "Reliable."
    UNTESTED = "2", "Untested."
    NOT_RELIABLE = "3", "Not reliable."


class IntelligenceAssessment(CodeList):
    """3x5x2 grading, intelligence assessment (College of Policing APP on intelligence management)."""

    KNOWN_DIRECTLY = "A", "Known directly to the source."
    KNOWN_INDIRECTLY_CORROBORATED = "B", "Known indirectly to the source, but corroborated."
    KNOWN_INDIRECTLY = "C", "Known indirectly to the source."
    NOT_KNOWN = "D", "Not known."
    SUSPECTED_FALSE = "E", "Suspected to be false or malicious."


class HandlingCode(CodeList):
    """3x5x2 grading, handling code (College of Policing APP on intelligence management)."""

    PERMITTED = "P", "Lawful sharing permitted."
    CONDITIONS = "C", "Lawful sharing permitted with conditions, which must be stated."
