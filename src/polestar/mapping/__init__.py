"""Mappings between a system's own format and the canonical model.

Declarative YAML mappings (JMESPath expressions, code lists, field trees)
cover the common case; Python covers the rest. ``docs/mappings.md`` says how
to write one. The public surface::

    mappings = load_mappings([Path("mappings/")])       # ConfigError lists every problem, located
    events = mappings.inbound("custody-csv").to_canonical(row, context)
    record = mappings.outbound("warehouse-csv").from_canonical(envelope)
    report = run_mapping_tests(mappings)                 # the fixtures loaded with them
"""

from polestar.mapping.codelists import CodeList, CodeListSpec
from polestar.mapping.contract import InboundMapping, MappingContext, OutboundMapping
from polestar.mapping.fixtures import FixtureResult, MappingTestReport, run_mapping_tests
from polestar.mapping.functions import CUSTOM_FUNCTIONS, ENTITY_NAMESPACE, PolicingFunctions
from polestar.mapping.loader import Fixture, MappingSet, load_mappings, mapping_files
from polestar.mapping.records import read_records
from polestar.mapping.spec import MappingFile

__all__ = [
    "CUSTOM_FUNCTIONS",
    "ENTITY_NAMESPACE",
    "CodeList",
    "CodeListSpec",
    "Fixture",
    "FixtureResult",
    "InboundMapping",
    "MappingContext",
    "MappingFile",
    "MappingSet",
    "MappingTestReport",
    "OutboundMapping",
    "PolicingFunctions",
    "load_mappings",
    "mapping_files",
    "read_records",
    "run_mapping_tests",
]
