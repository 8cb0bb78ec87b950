"""The direct route of creating Observations: sensors' POSTs without FastAPI's routing.

`POST /{tenant}/v1.1/Observations`, `.../Datastreams(id)/Observations` (and of
MultiDatastreams and FeaturesOfInterest) and `.../CreateObservations` are the platform's
most frequent requests. This route answers them as the ordinary SensorThings write route
does (`api.write_sta`), resolving its dependencies with the same functions in the same
order: the tenant, the module's guard, the caller and its access. Every other path takes
the ordinary route.
"""

from __future__ import annotations

from fastapi import Request, Response

from stadtkern.http.deps import get_tenant, module_enabled
from stadtkern.http.direct import DirectRoute
from stadtkern.platform import Platform
from stadtkern.sensorthings.api import VERSION, reader_access, sta_identity, write_sta
from stadtkern.sensorthings.dispatch import Dispatcher

# The tenant as the ordinary route takes it (at most 40 characters), and the paths whose
# POST the ingest pipeline takes.
PATTERN = (
    r"/(?P<tenant>[^/]{1,40})/v1\.1/(?P<path>CreateObservations|"
    r"(?:(?:Datastreams|MultiDatastreams|FeaturesOfInterest)\(\d{1,18}\)/)?Observations)"
)
TEMPLATE = f"/{{tenant}}/{VERSION}/{{path:path}}"


def direct_routes(dispatcher: Dispatcher, platform: Platform) -> list[DirectRoute]:
    """The direct route of creating Observations."""
    guard = module_enabled("sensorthings")

    async def create_observations(request: Request, params: dict[str, str]) -> Response:
        tenant = await get_tenant(platform, params["tenant"])
        await guard(tenant)
        identity = await sta_identity(request, platform, tenant)
        access = await reader_access(identity, tenant, platform)
        return await write_sta(dispatcher, params["path"], request, tenant, access)

    return [DirectRoute("POST", PATTERN, TEMPLATE, create_observations)]
