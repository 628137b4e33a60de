"""The lawful bases and conditions of DPA 2018 Part 3, as the codes audit entries carry.

Paraphrased for engineers; check the current text of the Act (as amended by the
Data (Use and Access) Act 2025) before quoting it to users.

=======================  =====================================================================
code                     meaning
=======================  =====================================================================
``s35(2)(a)``            the data subject consented to processing for that purpose
``s35(2)(b)``            necessary for a task carried out for that purpose by a competent authority
``s35(4)``               sensitive processing: the subject consented, and an appropriate policy is in place
``s35(5)-sch8-1``        sensitive, strictly necessary: statutory purposes (Schedule 8 para 1)
``s35(5)-sch8-2``        administration of justice (para 2)
``s35(5)-sch8-3``        protecting the vital interests of an individual (para 3)
``s35(5)-sch8-4``        safeguarding of children and of individuals at risk (para 4)
``s35(5)-sch8-5``        personal data already in the public domain (para 5)
``s35(5)-sch8-6``        legal claims (para 6)
``s35(5)-sch8-7``        judicial acts (para 7)
``s35(5)-sch8-8``        preventing fraud (para 8)
``s35(5)-sch8-9``        archiving, research and statistics (para 9)
``s36(3)``               further processing for another law enforcement purpose, authorised by law
``s44-s48``              exercising a data subject's rights (access, rectification, erasure, restriction)
``s62``                  keeping and using these logs (verifying lawfulness, self-monitoring, integrity)
=======================  =====================================================================
"""

from __future__ import annotations

from enum import StrEnum


class LegalBasis(StrEnum):
    """A DPA 2018 Part 3 basis (s35) or condition (Schedule 8), by its code."""

    CONSENT = "s35(2)(a)"
    LAW_ENFORCEMENT_TASK = "s35(2)(b)"
    SENSITIVE_CONSENT = "s35(4)"
    SENSITIVE_STATUTORY = "s35(5)-sch8-1"
    SENSITIVE_JUSTICE = "s35(5)-sch8-2"
    SENSITIVE_VITAL_INTERESTS = "s35(5)-sch8-3"
    SENSITIVE_SAFEGUARDING = "s35(5)-sch8-4"
    SENSITIVE_PUBLIC_DOMAIN = "s35(5)-sch8-5"
    SENSITIVE_LEGAL_CLAIMS = "s35(5)-sch8-6"
    SENSITIVE_JUDICIAL_ACTS = "s35(5)-sch8-7"
    SENSITIVE_FRAUD = "s35(5)-sch8-8"
    SENSITIVE_ARCHIVING = "s35(5)-sch8-9"
    FURTHER_LAW_ENFORCEMENT = "s36(3)"
    DATA_SUBJECT_RIGHTS = "s44-s48"
    AUDIT_LOGGING = "s62"
