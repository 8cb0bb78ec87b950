"""API-key secrets are stored under the platform's secret key, not as a plain hash."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from stadtkern.core import keys
from stadtkern.core.models import ApiKey, Principal
from stadtkern.db import Database
from tests.conftest import TEST_PEPPER, issue_token


def test_write_access_to_the_database_alone_cannot_mint_a_key(database: Database) -> None:
    genuine = issue_token(database, tenant=None, roles=["platform_admin"])
    key_id, _ = keys.split_token(genuine) or ("", "")
    with database.write() as session:
        principal_id = session.scalar(select(ApiKey.principal_id).where(ApiKey.key_id == key_id))
        forged_secret = "x" * 43
        session.add(
            ApiKey(
                key_id="0123456789ab",
                secret_hash=hashlib.sha256(forged_secret.encode()).digest(),
                principal_id=principal_id,
                tenant_id=None,
                label="forged",
            )
        )
    with database.read() as session:
        assert keys.verify_token(session, genuine, TEST_PEPPER) is not None
        assert keys.verify_token(session, f"sk_0123456789ab_{forged_secret}", TEST_PEPPER) is None
        # The same secret stored under the platform's key would have worked:
        assert (
            keys.token_digest(TEST_PEPPER, forged_secret)
            != hashlib.sha256(forged_secret.encode()).digest()
        )
        assert session.get(Principal, principal_id) is not None
