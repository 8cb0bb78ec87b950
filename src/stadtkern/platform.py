"""The running platform: settings, storage, modules, MQTT and auth wired together once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta

import anyio.to_thread
from prometheus_client import CollectorRegistry, Gauge, PlatformCollector, ProcessCollector

from stadtkern.core import tenants
from stadtkern.core.authn import Authenticator
from stadtkern.core.oidc import OidcVerifier
from stadtkern.core.ratelimit import FailureLimiter
from stadtkern.core.refs import TenantRef
from stadtkern.core.ttl_cache import TtlCache
from stadtkern.db import Database
from stadtkern.db.migrations import check_current
from stadtkern.modules import ModuleContext, StadtkernModule, TopicHandler, discover_modules
from stadtkern.mqtt import EmbeddedBroker, MqttService
from stadtkern.mqtt.access import MqttAccess
from stadtkern.mqtt.broker_log import MosquittoLogFeed
from stadtkern.mqtt.credentials import ApiKeyLogin, ServiceLogin
from stadtkern.mqtt.subscriptions import SubscriptionRegistry
from stadtkern.settings import Settings

log = logging.getLogger(__name__)


class InsecureSettings(RuntimeError):
    """Start-up refused: secrets are empty or defaults outside dev mode."""


class Platform:
    """Everything one Stadtkern process runs, started and stopped as a whole."""

    def __init__(self, settings: Settings) -> None:
        reasons = settings.insecure_reasons()
        if reasons and not settings.dev_mode:
            raise InsecureSettings(
                "refusing to start outside dev mode: "
                + "; ".join(reasons)
                + ". Set real secrets or STADTKERN_DEV_MODE=true for a laptop."
            )
        self.settings = settings
        self.installed: Sequence[StadtkernModule] = discover_modules(None)
        self.modules: Sequence[StadtkernModule] = discover_modules(settings.modules)
        self.database = Database(settings.database_url)
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        Gauge(
            "stadtkern_modules_loaded", "Modules loaded in this process", registry=self.registry
        ).set(len(self.modules))
        self.limiter = FailureLimiter(
            limit=settings.auth_failure_limit, window=settings.auth_failure_window_seconds
        )
        self.tenant_cache: TtlCache[str, TenantRef] = TtlCache(settings.auth_cache_seconds)
        self.oidc = OidcVerifier(settings.oidc) if settings.oidc.enabled else None
        self.authenticator = Authenticator(
            database=self.database,
            limiter=self.limiter,
            oidc=self.oidc,
            pepper=settings.token_pepper,
            cache_seconds=settings.auth_cache_seconds,
        )
        self.contexts = {
            module.name: ModuleContext(
                platform=self,
                settings=module.settings_model.model_validate(
                    settings.module_settings.get(module.name, {})
                ),
            )
            for module in self.modules
        }
        handlers: list[tuple[str, TopicHandler]] = [
            (module.name, handler)
            for module in self.modules
            for handler in module.topic_handlers(self.contexts[module.name])
        ]
        # Topics clients subscribe to (the SensorThings MQTT extension publishes only there),
        # and the tenants whose tenant topics anyone may read (kept current by the modules).
        self.subscriptions = SubscriptionRegistry()
        self.open_data_tenants: set[str] = set()
        embedded = settings.mqtt.url == "embedded"
        service_login = ServiceLogin.generate() if embedded else None
        self.broker = (
            EmbeddedBroker(
                bind=settings.mqtt.embedded_bind,
                login=ApiKeyLogin(authenticator=self.authenticator, service=service_login),
                access=MqttAccess(anonymous_read=self.open_data_tenants.__contains__),
                subscriptions=self.subscriptions,
            )
            if embedded
            else None
        )
        self.mqtt = MqttService(
            settings=settings.mqtt,
            database=self.database,
            resolve_tenant=self.resolve_tenant,
            handlers=handlers,
            registry=self.registry,
            outbox_lease=timedelta(seconds=settings.mqtt.outbox_lease_seconds),
            credentials=(
                (service_login.username, service_login.password) if service_login else None
            ),
            broker_log=None if embedded else MosquittoLogFeed(self.subscriptions).handle,
        )
        self.stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    def find_tenant(self, slug: str) -> TenantRef | None:
        """The enabled tenant with this slug, remembered for `auth_cache_seconds`."""
        cached = self.tenant_cache.get(slug)
        if cached is not None:
            return cached
        with self.database.read() as session:
            found = tenants.find_active(session=session, slug=slug)
        if found is not None:
            self.tenant_cache.put(slug, found)
        return found

    async def resolve_tenant(self, slug: str) -> TenantRef | None:
        """The enabled tenant with this slug (for MQTT messages and requests)."""
        cached = self.tenant_cache.get(slug)
        if cached is not None:
            return cached
        return await anyio.to_thread.run_sync(self.find_tenant, slug)

    def forget_cached_access(self) -> None:
        """Forget remembered tenants and keys after this process changed them."""
        self.tenant_cache.clear()
        self.authenticator.cache.clear()

    async def start(self) -> None:
        """Check the schema, start the broker, MQTT, the modules and their background tasks."""
        await anyio.to_thread.run_sync(check_current, self.database, self.installed)
        if self.broker is not None:
            await self.broker.start()
        await self.mqtt.start()
        for module in self.modules:
            context = self.contexts[module.name]
            await module.on_start(context)
            for task in module.background_tasks(context):
                self._tasks.append(asyncio.create_task(task(), name=f"{module.name}:{task}"))
        log.info(
            "platform started: %s backend, modules %s",
            self.database.backend,
            ", ".join(m.name for m in self.modules),
        )

    async def stop(self) -> None:
        """Stop in reverse order; in-flight HTTP requests have drained before this runs."""
        self.stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for module in reversed(self.modules):
            try:
                await module.on_stop(self.contexts[module.name])
            except Exception:
                log.exception("module %s failed to stop cleanly", module.name)
        await self.mqtt.stop(timeout=self.settings.shutdown_grace_seconds)
        if self.broker is not None:
            await self.broker.stop()
        self.database.dispose()
        log.info("platform stopped")
