"""All models, importable from one place (Alembic autogenerate reads Base.metadata)."""
from .audit import GENESIS_HASH, AuditEvent, AuditHead
from .authoring import ProcessMigration, WorkflowDraft
from .base import Base, JSONType, UTCDateTime, utcnow
from .cases import Case, Conviction
from .decisions import Decision
from .escalation import (
                         LEVEL_ESCALATED,
                         LEVEL_NAMES,
                         LEVEL_OVERDUE,
                         LEVEL_REMINDED,
                         EscalationStep,
                         Notification,
)
from .people import ApiToken, Area, User, UserArea, UserRole, WebSession
from .sign_in import KIND_PASSWORD, KIND_TOKEN, SignInFailure
from .workflows import DefinitionFile, HumanTask, ProcessDefinition, ProcessInstance

__all__ = [
    "ProcessMigration", "WorkflowDraft",
    "GENESIS_HASH", "ApiToken", "Area", "AuditEvent", "AuditHead", "Base", "Case", "Conviction",
    "Decision", "DefinitionFile", "EscalationStep", "LEVEL_ESCALATED", "LEVEL_NAMES", "LEVEL_OVERDUE",
    "LEVEL_REMINDED", "Notification", "HumanTask", "JSONType", "ProcessDefinition", "ProcessInstance",
    "UTCDateTime", "User", "UserArea", "UserRole", "WebSession", "utcnow",
    "KIND_PASSWORD", "KIND_TOKEN", "SignInFailure",
]
