"""HTTP adapters: problem+json errors, request context, dependencies for tenants and roles."""
