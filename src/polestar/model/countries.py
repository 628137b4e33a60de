"""Country codes: ISO 3166-1 alpha-3 everywhere in the model (nationality, plates, documents).

Alpha-3 is the one choice used throughout, because it is what passports'
machine-readable zones carry (ICAO Doc 9303). Besides the 249 ISO codes, five
codes ICAO and the European Commission use for people without an ISO country
are accepted: ``XKX`` (Kosovo), ``XXA`` (stateless), ``XXB`` (refugee under the
1951 Convention), ``XXC`` (other refugee) and ``XXX`` (unspecified nationality).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

_ISO_BLOCK = """
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA
    BGD BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN
    CIV CMR COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU
    EGY ERI ESH ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB
    GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL
    ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO
    LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR
    MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER
    PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM
    SLB SLE SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK
    TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM
    VUT WLF WSM YEM ZAF ZMB ZWE
"""

ISO_3166_ALPHA3 = frozenset(_ISO_BLOCK.split())
"""The ISO 3166-1 alpha-3 codes officially assigned (249)."""

EXTRA_NATIONALITY_CODES = frozenset({"XKX", "XXA", "XXB", "XXC", "XXX"})
"""Codes outside ISO 3166-1 that travel documents use for nationality."""

COUNTRY_CODES = ISO_3166_ALPHA3 | EXTRA_NATIONALITY_CODES

UNITED_KINGDOM = "GBR"


def check_country_code(value: str) -> str:
    """Upper-case ``value`` and check it is an ISO 3166-1 alpha-3 code (or an ICAO extra)."""
    code = value.strip().upper()
    if code not in COUNTRY_CODES:
        hint = " (use alpha-3, e.g. 'GBR', not alpha-2)" if len(code) == 2 else ""
        raise ValueError(f"country code {value!r} is not an ISO 3166-1 alpha-3 code{hint}")
    return code


CountryCode = Annotated[
    str,
    AfterValidator(check_country_code),
    Field(
        description="ISO 3166-1 alpha-3 country code (ICAO extras XKX, XXA, XXB, XXC, XXX accepted).",
        examples=["GBR", "IRL", "POL"],
    ),
]
