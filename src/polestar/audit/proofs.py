"""Inclusion and consistency proofs as values a regulator or witness can check on their own."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from polestar.audit.merkle import verify_consistency, verify_inclusion


class InclusionProof(BaseModel):
    """RFC 6962 §2.1.1 audit path: entry ``seq`` is in the tree of ``tree_size`` with ``root_hash``."""

    model_config = ConfigDict(frozen=True)

    seq: int = Field(description="The entry (leaf index).")
    tree_size: int
    leaf_hash: str = Field(description="Hex SHA-256(0x00 || leaf).")
    root_hash: str
    path: list[str] = Field(description="Hex sibling hashes, bottom first.")

    def verify(self) -> bool:
        """True when the path leads from the leaf hash to the root (RFC 9162 §2.1.3.2)."""
        return verify_inclusion(
            bytes.fromhex(self.leaf_hash),
            self.seq,
            self.tree_size,
            [bytes.fromhex(p) for p in self.path],
            bytes.fromhex(self.root_hash),
        )


class ConsistencyProof(BaseModel):
    """RFC 6962 §2.1.2: the tree of ``second`` is the tree of ``first`` with entries appended."""

    model_config = ConfigDict(frozen=True)

    first: int
    second: int
    first_root: str
    second_root: str
    path: list[str]

    def verify(self) -> bool:
        """True when the path proves the append-only extension (RFC 9162 §2.1.4.2)."""
        return verify_consistency(
            self.first,
            self.second,
            bytes.fromhex(self.first_root),
            bytes.fromhex(self.second_root),
            [bytes.fromhex(p) for p in self.path],
        )
