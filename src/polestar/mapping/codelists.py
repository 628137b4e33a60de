"""Code lists: a system's own codes (``M``, ``F``, ``U``) to the canonical ones (``1``, ``2``, ``0``).

A list is declared in YAML under ``code_lists:``, in a mapping file or a file
of its own; every list loaded together shares one namespace. ``code(list,
value)`` looks a system code up; ``decode(list, value)`` goes back from a
canonical code to the system's (the first system code listed for it wins).
A miss is a ``MappingFailed`` naming the list and the value, unless the list
declares a ``default`` (``reverse_default`` for ``decode``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from polestar.errors import MappingFailed


def _text_code(value: Any) -> Any:
    # YAML 1.1 reads yes/no/on/off as booleans and 01 as the number 1: a code must be quoted.
    if isinstance(value, bool):
        raise ValueError(  # noqa: TRY004 - pydantic reports ValueError as a validation error
            "YAML reads yes, no, on, off, true and false unquoted as true/false: quote the code"
        )
    if isinstance(value, int | float):
        raise ValueError(  # noqa: TRY004 - as above
            f"YAML read this code as the number {value} (losing any leading 0): quote the code"
        )
    return value


Code = Annotated[str, BeforeValidator(_text_code)]


class CodeListSpec(BaseModel):
    """One code list: each of a system's codes and the canonical code it stands for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = Field(
        default=None,
        description="What the list is for.",
        examples=["Custody system sex codes to ISO/IEC 5218 gender codes."],
    )
    canonical: str | None = Field(
        default=None,
        description=(
            "The canonical code list the target codes belong to (a class name from "
            "`polestar.model.code_lists()`); every target and the default are checked against it "
            "when the file is loaded."
        ),
        examples=["Gender", "IncidentGrade"],
    )
    codes: dict[Code, Code] = Field(
        description="System code to canonical code. Quote codes: YAML reads `01` and `no` as other types.",
        examples=[{"M": "1", "F": "2", "U": "0"}],
    )
    default: Code | None = Field(
        default=None,
        description="Canonical code for a system code the list does not hold; without it a miss fails.",
        examples=["0"],
    )
    reverse_default: Code | None = Field(
        default=None,
        description="System code `decode()` gives for a canonical code the list does not hold.",
        examples=["U"],
    )
    ignore_case: bool = Field(
        default=False, description="Match system codes without regard to case (`m` finds `M`)."
    )

    @model_validator(mode="after")
    def _codes_distinct_without_case(self) -> CodeListSpec:
        if self.ignore_case:
            folded = [code.casefold() for code in self.codes]
            repeated = sorted({code for code in folded if folded.count(code) > 1})
            if repeated:
                raise ValueError(f"codes {repeated} differ only in case but ignore_case is set")
        return self


class CodeList:
    """A loaded code list: forward and reverse lookup with the list's defaults."""

    def __init__(self, name: str, spec: CodeListSpec) -> None:
        self.name = name
        self.spec = spec
        self._forward = {self._key(code): target for code, target in spec.codes.items()}
        self._reverse: dict[str, str] = {}
        for code, target in spec.codes.items():
            self._reverse.setdefault(target, code)

    def _key(self, code: str) -> str:
        code = code.strip()
        return code.casefold() if self.spec.ignore_case else code

    def lookup(self, value: str) -> str:
        """The canonical code for system code ``value``; ``MappingFailed`` on a miss without default."""
        found = self._forward.get(self._key(value))
        if found is not None:
            return found
        if self.spec.default is not None:
            return self.spec.default
        raise MappingFailed(f"code list {self.name!r} has no code {value!r} and no default")

    def reverse(self, value: str) -> str:
        """The system code for canonical code ``value``; ``MappingFailed`` on a miss without default."""
        found = self._reverse.get(value.strip())
        if found is not None:
            return found
        if self.spec.reverse_default is not None:
            return self.spec.reverse_default
        raise MappingFailed(f"code list {self.name!r} has no canonical code {value!r} and no reverse_default")


def canonical_problems(spec: CodeListSpec, lists: Mapping[str, type[Any]]) -> list[tuple[str, str]]:
    """Problems with ``spec``'s targets against the canonical list it names, as (key, reason)."""
    if spec.canonical is None:
        return []
    enum = lists.get(spec.canonical)
    if enum is None:
        known = ", ".join(sorted(lists))
        return [("canonical", f"no canonical code list is named {spec.canonical!r}; known: {known}")]
    allowed = {member.value for member in enum}
    shown = ", ".join(sorted(allowed))
    problems = [
        (f"codes.{code}", f"{target!r} is not a {spec.canonical} code ({shown})")
        for code, target in spec.codes.items()
        if target not in allowed
    ]
    if spec.default is not None and spec.default not in allowed:
        problems.append(("default", f"{spec.default!r} is not a {spec.canonical} code ({shown})"))
    return problems
