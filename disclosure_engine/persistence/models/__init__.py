"""All models, importable from one place (Alembic autogenerate reads Base.metadata)."""
from .audit import GENESIS_HASH, AuditEvent, AuditHead
from .base import Base, JSONType, UTCDateTime, utcnow
from .cases import Case, Conviction
from .decisions import Decision
from .people import ApiToken, Area, User, UserArea, UserRole
from .workflows import DefinitionFile, HumanTask, ProcessDefinition, ProcessInstance

__all__ = [
    "GENESIS_HASH", "ApiToken", "Area", "AuditEvent", "AuditHead", "Base", "Case", "Conviction",
    "Decision", "DefinitionFile", "HumanTask", "JSONType", "ProcessDefinition", "ProcessInstance",
    "UTCDateTime", "User", "UserArea", "UserRole", "utcnow",
]
