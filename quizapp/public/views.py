from __future__ import annotations

from datetime import timedelta

from flask import (
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from quizapp import certs, throttle
from quizapp.extensions import db
from quizapp.models import Certificate, utcnow
from quizapp.public import bp
from quizapp.web import wants_json

# A dropped file may be a PDF (ours are about 30 KB) or a credential: the app's 64 KB
# request limit is raised for that form.
CHECK_LIMIT = 4 * 1024 * 1024
NOT_FOUND = ("No certificate has this code. Check it against the certificate; codes are"
             " 24 letters and digits.")
# Counted against one allowance per client address (see `_throttled`).
RATE_LIMITED = {"public.verify", "public.check", "public.status", "public.credential"}


class CheckForm(FlaskForm):
    file = FileField("The certificate's PDF, or its signed credential (.jwt)",
                     validators=[FileRequired("Choose the file to check.")])


@bp.url_value_preprocessor
def _request_limit(endpoint, _values):
    if endpoint == "public.check":
        request.max_content_length = CHECK_LIMIT


@bp.before_request
def _throttled():
    """Checks are rate-limited per client address against enumeration. The counts are
    in the database, so every worker shares them."""
    config = current_app.config
    # THROTTLE_ENABLED=false (a load test from one address) turns every limit off.
    if request.endpoint not in RATE_LIMITED or not config.get("THROTTLE_ENABLED", True):
        return None
    now = utcnow()
    verdict = throttle.hit(f"verify:{request.remote_addr}", config["VERIFY_RATE_LIMIT"],
                           config["VERIFY_RATE_WINDOW"], now)
    db.session.commit()
    if verdict.allowed:
        return None
    again = now + timedelta(seconds=verdict.retry_after)
    message = (f"Too many certificate checks from your address. Try again in"
               f" {verdict.retry_after} second{'s' if verdict.retry_after != 1 else ''}"
               f" (after {again:%H:%M:%S} UTC).")
    if wants_json() or request.endpoint in ("public.status", "public.credential"):
        response = jsonify(error=message, retry_after=verdict.retry_after)
    else:
        response = make_response(render_template("public/too_many.html", message=message))
    response.status_code = 429
    response.headers["Retry-After"] = str(verdict.retry_after)
    return _noindex(response)


def _noindex(response: Response) -> Response:
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _public_json(document: dict) -> Response:
    """JSON a verifier's code may fetch from anywhere, never from a stale cache."""
    response = jsonify(document)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    return _noindex(response)


@bp.get("/")
def index():
    return render_template("public/index.html")


@bp.get("/verify")
def verify_form():
    """Verify by typing the code printed on a certificate."""
    code = certs.normalise_code(request.args.get("code", ""))
    if code:
        return redirect(url_for("public.verify", code=code))
    return render_template("public/verify_form.html")


def _certificate(code: str) -> Certificate:
    certificate = certs.find(code) if len(code) <= 64 else None
    if certificate is None:
        abort(404, NOT_FOUND)
    return certificate


def _verify_page(certificate: Certificate, form: CheckForm, check: str | None = None,
                 status: int = 200):
    now = utcnow()
    return _noindex(make_response(render_template(
        "public/verify.html", certificate=certificate, status=certificate.status(now),
        now=now, form=form, check=check, labels=certs.STATUS_LABELS,
        reasons=certs.REASON_CATEGORIES, display_code=certs.display_code,
    ), status))


@bp.get("/verify/<code>")
def verify(code: str):
    """The certificate's printed fields and its status, for anyone, with no sign-in."""
    return _verify_page(_certificate(code), CheckForm(formdata=None))


@bp.post("/verify/<code>")
def check(code: str):
    """Check a dropped file: is it the very PDF we issued, or a credential we signed,
    for this certificate?"""
    certificate = _certificate(code)
    form = CheckForm()
    if not form.validate_on_submit():
        return _verify_page(certificate, form, status=400)
    data = form.file.data.read()
    if data.startswith(b"%PDF"):
        outcome = "pdf-match" if certs.matches_pdf(certificate, data) else "pdf-mismatch"
    elif data.count(b".") == 2 and len(data) < 64 * 1024:
        token = data.decode("ascii", "replace")
        outcome = ("credential-match" if certs.check_credential(certificate, token)
                   else "credential-mismatch")
    else:
        form.file.errors = ["This file is neither a PDF nor a signed credential."]
        return _verify_page(certificate, form, status=400)
    return _verify_page(certificate, CheckForm(formdata=None), outcome)


@bp.get("/verify/<code>/status.json")
def status(code: str):
    """The certificate's status for machines: its credential's `credentialStatus`."""
    certificate = certs.find(code) if len(code) <= 64 else None
    if certificate is None:
        response = _public_json({"error": NOT_FOUND})
        response.status_code = 404
        return response
    return _public_json(certs.status_document(certificate, utcnow()))


@bp.get("/verify/<code>/credential.jwt")
def credential(code: str):
    """The certificate's signed Open Badges 3.0 credential (VC-JWT), for verifiers."""
    certificate = _certificate(code)
    response = Response(certs.signed_credential(certificate), mimetype="application/jwt",
                        headers={"Content-Disposition": "attachment;"
                                 f' filename="{certs.credential_filename(certificate)}"'})
    response.headers["Access-Control-Allow-Origin"] = "*"
    return _noindex(response)


@bp.get("/.well-known/jwks.json")
def jwks():
    """The issuer's public keys, current and retired: all a verifier needs."""
    response = jsonify(certs.issuer_keys().jwks())
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/issuer.json")
def issuer():
    """The issuer's Open Badges profile: the credentials' `issuer.id`."""
    response = jsonify(certs.issuer_profile(certs.public_base_url()))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
