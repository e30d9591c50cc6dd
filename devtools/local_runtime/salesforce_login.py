"""The integration user's login to the org simulator: a connected app and the JWT bearer flow's secret.

Salesforce's OAuth 2.0 JWT bearer flow: the connected app holds the certificate's public key, the integration
user signs a JWT with the private key ("OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration",
https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm).
"""

from __future__ import annotations

import uuid
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def rsa_key_pair() -> tuple[str, str]:
    """(private PEM, public PEM) for the JWT bearer flow against the simulator."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def jwt_credentials(sim: Any) -> dict[str, str]:
    """Register a connected app and an integration user in the simulator; the JWT-bearer secret for them."""
    private_pem, public_pem = rsa_key_pair()
    consumer_key = f"3MVG9{uuid.uuid4().hex}"
    sim.add_connected_app(consumer_key, public_key_pem=public_pem)
    sim.add_user("integration@example.com", uuid.uuid4().hex)
    # docs/salesforce-setup.md, step 5: the integration user holds the package's permission set, whose custom
    # permission keeps the Account and Contact Flows from sending the sync's own write-backs back.
    sim.assign_permission_set("integration@example.com", "Stripe_Sync_Integration")
    return {
        "auth": "jwt",
        "username": "integration@example.com",
        "consumer_key": consumer_key,
        "private_key": private_pem,
        "domain": "login",
        "login_url": sim.instance_url,
    }
