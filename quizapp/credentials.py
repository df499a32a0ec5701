"""Signed credentials: an Open Badges 3.0 `OpenBadgeCredential` as a VC-JWT, and the
issuer's key pairs.

No Flask and no database: the caller passes the certificate's facts and the key
folder. The issuer signs with one RSA key (RS256, the algorithm every Open Badges 3.0
verifier must support). Rotating makes a new signing key and keeps the public half of
the old one, so credentials signed before stay verifiable; every public key is
published as a JWKS and never the private part.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

ALGORITHM = "RS256"
KEY_BITS = 2048
SIGNING_FILE = "signing.pem"
RETIRED_FOLDER = "retired"
CONTEXTS = (
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
)
STATUS_TYPE = "1EdTechRevocationList"


class CredentialError(ValueError):
    """A credential that does not verify; the message says why, for the verifier."""


# --- Keys ---------------------------------------------------------------------------


def kid_of(key: RSAKey) -> str:
    """A key's id: its RFC 7638 thumbprint, the same wherever it is computed."""
    return key.thumbprint()


@dataclass(frozen=True)
class IssuerKeys:
    signing: RSAKey  # private
    public: tuple[RSAKey, ...]  # every key a credential may have been signed with

    @property
    def kid(self) -> str:
        return kid_of(self.signing)

    def jwks(self) -> dict:
        """The public keys as a JSON Web Key Set (never a private member)."""
        keys = []
        for key in self.public:
            public = {k: v for k, v in key.as_dict(private=False).items()
                      if k in ("kty", "n", "e")}
            keys.append({**public, "kid": kid_of(key), "use": "sig", "alg": ALGORITHM})
        return {"keys": keys}


def _write_new(path: Path, data: bytes) -> bool:
    """Write a file only if it does not exist yet, atomically (two workers starting at
    once both see the one key that won); say whether this call wrote it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".new-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o600)
        os.link(temporary, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary)


def _public_pem(key: RSAKey) -> bytes:
    return key.as_pem(private=False)


def load_keys(folder: Path, signing_pem: str | None = None) -> IssuerKeys:
    """The issuer's keys: the signing key from `signing_pem` (configuration) or the
    folder, made on first use; the retired public keys from the folder."""
    folder = Path(folder)
    if signing_pem:
        signing = _read_key(signing_pem)
    else:
        path = folder / SIGNING_FILE
        if not path.exists():
            _write_new(path, RSAKey.generate_key(KEY_BITS).as_pem(private=True))
        signing = _read_key(path.read_bytes())
    if not signing.is_private:
        raise CredentialError("the issuer's signing key must be a private key")
    public = [_read_key(_public_pem(signing))]
    retired = folder / RETIRED_FOLDER
    if retired.is_dir():
        for path in sorted(retired.glob("*.pem")):
            key = _read_key(path.read_bytes())
            if kid_of(key) != kid_of(signing):
                public.append(key)
    return IssuerKeys(signing, tuple(public))


@functools.lru_cache(maxsize=64)
def _read_key(pem: str | bytes) -> RSAKey:
    """The key a PEM text holds, read once per process. Reading a private RSA key
    checks it (about 60 ms), and the keys are read for every signature, JWKS and
    uploaded credential; the files are still read each time, so a rotated or imported
    key counts at once."""
    return RSAKey.import_key(pem)


def public_key(pem: str) -> RSAKey:
    """An RSA public key from PEM text; anything else (a private key, text that is no
    key) is refused: only public halves travel between installations."""
    try:
        key = RSAKey.import_key(pem)
    except ValueError as error:
        raise CredentialError("an issuer key in the file is not an RSA public key") from error
    if key.is_private:
        raise CredentialError("the file holds a private key; only public keys are kept")
    return key


def keep_public(folder: Path, key: RSAKey, signing: RSAKey) -> bool:
    """Keep another installation's public key (brought by `data import`) among the
    retired ones, so the credentials it signed still verify here; say whether it was
    new."""
    if kid_of(key) == kid_of(signing):
        return False
    return _write_new(Path(folder) / RETIRED_FOLDER / f"{kid_of(key)}.pem", _public_pem(key))


def rotate(folder: Path) -> tuple[str, str | None]:
    """Make a new signing key; keep the old one's public half. Returns (new kid, old
    kid or None)."""
    folder = Path(folder)
    path = folder / SIGNING_FILE
    old = RSAKey.import_key(path.read_bytes()) if path.exists() else None
    if old is not None:
        _write_new(folder / RETIRED_FOLDER / f"{kid_of(old)}.pem", _public_pem(old))
    new = RSAKey.generate_key(KEY_BITS)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".new-")
    with os.fdopen(handle, "wb") as out:
        out.write(new.as_pem(private=True))
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return kid_of(new), kid_of(old) if old is not None else None


# --- The credential -----------------------------------------------------------------


@dataclass(frozen=True)
class CredentialFacts:
    """What an Open Badges credential says about one certificate."""

    credential_id: str  # a URL
    issuer_id: str
    issuer_name: str
    issuer_url: str
    achievement_id: str
    title: str
    description: str
    criteria: str
    holder_name: str
    holder_email: str
    salt: str
    valid_from: datetime
    valid_until: datetime | None
    status_url: str


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def identity_hash(value: str, salt: str) -> str:
    """The Open Badges hashed identifier: "sha256$" and the hex digest of value + salt."""
    return "sha256$" + hashlib.sha256((value + salt).encode()).hexdigest()


def build(facts: CredentialFacts) -> dict:
    """The `OpenBadgeCredential` with every member Open Badges 3.0 requires. The holder
    is named, and identified by a salted hash of their email (never the email)."""
    profile = {"id": facts.issuer_id, "type": ["Profile"], "name": facts.issuer_name,
               "url": facts.issuer_url}
    credential = {
        "@context": list(CONTEXTS),
        "id": facts.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": facts.title,
        "issuer": profile,
        "validFrom": timestamp(facts.valid_from),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                 "identityHash": identity_hash(facts.holder_email.lower(), facts.salt),
                 "salt": facts.salt},
                {"type": "IdentityObject", "identityType": "name", "hashed": False,
                 "identityHash": facts.holder_name},
            ],
            "achievement": {
                "id": facts.achievement_id,
                "type": ["Achievement"],
                "achievementType": "Certification",
                "name": facts.title,
                "description": facts.description or facts.title,
                "criteria": {"narrative": facts.criteria},
                "creator": profile,
            },
        },
        "credentialStatus": {"id": facts.status_url, "type": STATUS_TYPE},
    }
    if facts.valid_until is not None:
        credential["validUntil"] = timestamp(facts.valid_until)
    return credential


def claims_of(credential: dict, facts: CredentialFacts) -> dict:
    """The JWT payload: the credential itself plus the registered claims VC-JWT maps
    from it (there is no `sub`: the holder has no id of their own)."""
    claims = {**credential, "iss": facts.issuer_id, "jti": facts.credential_id,
              "nbf": int(facts.valid_from.timestamp()),
              "iat": int(facts.valid_from.timestamp())}
    if facts.valid_until is not None:
        claims["exp"] = int(facts.valid_until.timestamp())
    return claims


def sign(facts: CredentialFacts, keys: IssuerKeys) -> str:
    """The credential as a compact JWS (VC-JWT), signed with the current key."""
    header = {"alg": ALGORITHM, "typ": "JWT", "kid": keys.kid}
    return jwt.encode(header, claims_of(build(facts), facts), keys.signing)


def verify(token: str, jwks: dict) -> dict:
    """The claims of a credential whose RS256 signature one of `jwks` made.

    Only RS256 is accepted: `alg: none`, and HMAC with a public key as the secret,
    are refused whatever the token says.
    :raise CredentialError: the token is malformed or its signature does not verify.
    """
    try:
        key_set = KeySet.import_key_set(jwks)
        return dict(jwt.decode(token.strip(), key_set, algorithms=[ALGORITHM]).claims)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise CredentialError("The credential's signature does not verify with our"
                              " published keys.") from error
