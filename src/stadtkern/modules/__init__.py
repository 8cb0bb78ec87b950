"""The module contract and the registry that discovers modules through entry points."""

from stadtkern.modules.contract import (
    BackgroundTask,
    BaseModule,
    ModuleContext,
    RoleSpec,
    StadtkernModule,
    TopicHandler,
)
from stadtkern.modules.registry import ENTRY_POINT_GROUP, ModuleError, discover_modules

__all__ = [
    "ENTRY_POINT_GROUP",
    "BackgroundTask",
    "BaseModule",
    "ModuleContext",
    "ModuleError",
    "RoleSpec",
    "StadtkernModule",
    "TopicHandler",
    "discover_modules",
]
