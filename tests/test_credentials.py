"""The signed credential: an Open Badges 3.0 OpenBadgeCredential as a VC-JWT, checked
with PyJWT (a JOSE library we do not sign with) using only the JWKS the app publishes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest
import time_machine
from cert_support import pass_certification

from quizapp import certs, credentials
from quizapp.extensions import db

ISSUED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def app_config(tmp_path):
    return {"ISSUER_KEY_DIR": str(tmp_path / "keys"),
            "PUBLIC_BASE_URL": "https://academy.example.com"}


@pytest.fixture
def certificate(bank_loaded, users):
    return pass_certification(users["trainee"], ISSUED)


def _jwks(client) -> dict:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def _verify_independently(token: str, jwks: dict, **options) -> dict:
    """What a verifier does with a few lines of PyJWT: find the key the header names
    in the published set, accept RS256 only."""
    kid = pyjwt.get_unverified_header(token)["kid"]
    key = next(pyjwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
    return pyjwt.decode(token, key, algorithms=["RS256"], options=options)


def _credential(client, certificate) -> str:
    response = client.get(f"/verify/{certificate.code}/credential.jwt")
    assert response.status_code == 200 and response.mimetype == "application/jwt"
    return response.get_data(as_text=True)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _part(token: str, n: int) -> dict:
    piece = token.split(".")[n]
    return json.loads(base64.urlsafe_b64decode(piece + "=" * (-len(piece) % 4)))


def test_the_jwks_publishes_public_keys_only(app, client):
    jwks = _jwks(client)
    assert len(jwks["keys"]) == 1
    key = jwks["keys"][0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    assert client.get("/.well-known/jwks.json").get_json() == jwks  # made once, kept


def test_the_key_pair_is_made_once_in_the_key_folder_and_kept_private(app, tmp_path):
    folder = tmp_path / "keys"
    first = credentials.load_keys(folder)
    assert stat.S_IMODE((folder / "signing.pem").stat().st_mode) == 0o600
    assert credentials.load_keys(folder).kid == first.kid


def test_the_keys_are_parsed_once_and_a_rotation_is_seen_at_once(tmp_path):
    folder = tmp_path / "keys"
    first = credentials.load_keys(folder)
    again = credentials.load_keys(folder)
    assert again.signing is first.signing and again.public[0] is first.public[0]
    new_kid, old_kid = credentials.rotate(folder)
    rotated = credentials.load_keys(folder)
    assert (rotated.kid, old_kid) == (new_kid, first.kid)
    assert {credentials.kid_of(key) for key in rotated.public} == {new_kid, old_kid}


def test_the_credential_verifies_with_an_independent_library_and_the_jwks(
        certificate, client):
    token = _credential(client, certificate)
    with time_machine.travel(ISSUED + timedelta(days=1)):
        claims = _verify_independently(token, _jwks(client))
    base = "https://academy.example.com"
    assert claims["iss"] == f"{base}/issuer.json" == claims["issuer"]["id"]
    assert claims["jti"] == f"{base}/verify/{certificate.code}/credential.jwt" == claims["id"]
    assert claims["nbf"] == int(ISSUED.timestamp() + 600)
    assert claims["exp"] == int(certificate.expires_at.timestamp())
    assert "sub" not in claims  # the holder has no id of their own
    assert _part(token, 0) == {"alg": "RS256", "typ": "JWT",
                               "kid": _jwks(client)["keys"][0]["kid"]}


def test_every_required_open_badges_member_is_present(certificate, client):
    credential = _part(_credential(client, certificate), 1)
    assert credential["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert credential["id"].startswith("https://")
    assert {"VerifiableCredential", "OpenBadgeCredential"} <= set(credential["type"])
    assert credential["name"] == certificate.title
    issuer = credential["issuer"]
    assert issuer["id"].startswith("https://") and "Profile" in issuer["type"]
    assert issuer["name"] == "Microneedling Academy"
    assert credential["validFrom"] == "2026-03-02T09:10:00Z"
    assert credential["validUntil"] == "2028-03-02T09:10:00Z"
    subject = credential["credentialSubject"]
    assert "AchievementSubject" in subject["type"]
    email_id = next(i for i in subject["identifier"] if i["identityType"] == "emailAddress")
    assert email_id["type"] == "IdentityObject" and email_id["hashed"] is True
    assert email_id["identityHash"] == "sha256$" + hashlib.sha256(
        ("trainee@example.com" + email_id["salt"]).encode()).hexdigest()
    achievement = subject["achievement"]
    assert achievement["id"].startswith("https://") and "Achievement" in achievement["type"]
    assert achievement["achievementType"] == "Certification"
    assert achievement["name"] == certificate.title
    assert achievement["description"] == certificate.scope
    assert achievement["criteria"]["narrative"]
    assert credential["credentialStatus"] == {
        "id": f"https://academy.example.com/verify/{certificate.code}/status.json",
        "type": "1EdTechRevocationList"}
    assert "trainee@example.com" not in json.dumps(credential)


def test_a_tampered_credential_is_refused(certificate, client):
    token = _credential(client, certificate)
    jwks = _jwks(client)
    header, payload, signature = token.split(".")
    claims = _part(token, 1)
    claims["credentialSubject"]["identifier"][1]["identityHash"] = "Mallory"
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    flipped = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    for bad in (forged, flipped):
        with pytest.raises(pyjwt.InvalidSignatureError):
            _verify_independently(bad, jwks, verify_exp=False)
        with pytest.raises(credentials.CredentialError):
            credentials.verify(bad, jwks)
    assert credentials.verify(token, jwks)["jti"] == claims["jti"]


def test_alg_none_and_hs256_with_the_public_key_are_refused(certificate, client):
    token = _credential(client, certificate)
    jwks = _jwks(client)
    payload = token.split(".")[1]
    kid = jwks["keys"][0]["kid"]
    none = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    unsigned = f"{none}.{payload}."
    # HS256 "signed" with the public key as the HMAC secret: the classic confusion.
    public_pem = credentials.load_keys(certs.key_folder()).signing.as_pem(private=False)
    hs_header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    mac = hmac.new(public_pem, f"{hs_header}.{payload}".encode(), hashlib.sha256).digest()
    confused = f"{hs_header}.{payload}.{_b64(mac)}"
    for bad in (unsigned, confused):
        with pytest.raises(credentials.CredentialError):
            credentials.verify(bad, jwks)
        with pytest.raises(pyjwt.InvalidTokenError):
            _verify_independently(bad, jwks, verify_exp=False)


def test_rotation_keeps_old_credentials_verifiable(certificate, client, runner):
    old = _credential(client, certificate)
    result = runner.invoke(args=["certs", "rotate-key"])
    assert result.exit_code == 0 and "retired, still published" in result.output
    new = _credential(client, certificate)
    jwks = _jwks(client)
    assert len(jwks["keys"]) == 2
    assert _part(old, 0)["kid"] != _part(new, 0)["kid"]
    for token in (old, new):
        assert _verify_independently(token, jwks, verify_exp=False)["jti"].endswith(
            f"/verify/{certificate.code}/credential.jwt")
    retired = list((certs.key_folder() / "retired").glob("*.pem"))
    assert len(retired) == 1 and b"PRIVATE" not in retired[0].read_bytes()


def test_a_configured_signing_key_is_used(app, tmp_path, certificate, client):
    from joserfc.jwk import RSAKey

    key = RSAKey.generate_key(2048)
    app.config["ISSUER_SIGNING_KEY"] = key.as_pem(private=True).decode()
    jwks = _jwks(client)
    assert [k["kid"] for k in jwks["keys"]] == [key.thumbprint()]
    assert _part(_credential(client, certificate), 0)["kid"] == key.thumbprint()


def test_after_revocation_it_verifies_but_the_status_says_revoked(certificate, client, users):
    token = _credential(client, certificate)
    certs.revoke(certificate, users["admin"], "issued_in_error", "wrong person", ISSUED)
    db.session.commit()
    claims = _verify_independently(token, _jwks(client), verify_exp=False)
    status = client.get(claims["credentialStatus"]["id"].removeprefix(
        "https://academy.example.com")).get_json()
    assert status["status"] == "revoked" and status["reason"] == "Issued in error"
    assert status["revokedCredentials"] == [
        {"id": claims["jti"], "revoked": True, "revocationReason": "Issued in error"}]


def test_after_valid_until_the_credential_is_expired(certificate, client):
    token = _credential(client, certificate)
    jwks = _jwks(client)
    with time_machine.travel(certificate.expires_at + timedelta(days=1)), \
            pytest.raises(pyjwt.ExpiredSignatureError):
        _verify_independently(token, jwks)
    with time_machine.travel(certificate.expires_at + timedelta(days=1)):
        status = client.get(f"/verify/{certificate.code}/status.json").get_json()
    assert status["status"] == "expired"


def test_the_holder_downloads_the_credential(certificate, auth, client):
    auth.login()
    response = client.get(f"/trainee/certificates/{certificate.code}/credential.jwt")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    claims = _verify_independently(response.get_data(as_text=True), _jwks(client),
                                   verify_exp=False)
    assert claims["credentialSubject"]["achievement"]["name"] == certificate.title
    auth.login("other")
    assert client.get(f"/trainee/certificates/{certificate.code}/credential.jwt"
                      ).status_code == 404


def test_the_issuer_profile_is_published(app, client):
    profile = client.get("/issuer.json").get_json()
    assert profile["id"] == "https://academy.example.com/issuer.json"
    assert profile["type"] == ["Profile"] and profile["name"] == "Microneedling Academy"
