"""``lakefs://REPO/REF/PATH`` URIs, parsed the way lakectl does."""

from __future__ import annotations

from dataclasses import dataclass

from versioning.lake.errors import InvalidInputError
from versioning.lake.validation import validate_path, validate_repository

SCHEME = "lakefs://"


@dataclass(frozen=True)
class LakeURI:
    repository: str
    ref: str | None = None
    path: str | None = None

    def __str__(self) -> str:
        parts = [self.repository, self.ref or "", self.path or ""]
        return SCHEME + "/".join(p for p in parts if p)

    def require_ref(self) -> str:
        if not self.ref:
            raise InvalidInputError(
                f"{self}: a branch, tag or commit is required (lakefs://REPO/REF)"
            )
        return self.ref

    def require_path(self) -> str:
        if not self.path:
            raise InvalidInputError(f"{self}: an object path is required (lakefs://REPO/REF/PATH)")
        return self.path


def parse_uri(text: str, *, allow_prefix: bool = True) -> LakeURI:
    """Parse ``lakefs://repo[/ref[/path]]``; the path keeps a trailing '/' as a prefix."""
    if not text.startswith(SCHEME):
        raise InvalidInputError(f"invalid URI {text!r}: expected lakefs://REPO/REF/PATH")
    rest = text[len(SCHEME) :]
    repository, _, rest = rest.partition("/")
    validate_repository(repository)
    ref, _, path = rest.partition("/")
    if path:
        validate_path(path, allow_prefix=allow_prefix)
    return LakeURI(repository, ref or None, path or None)
