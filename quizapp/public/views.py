from __future__ import annotations

from flask import abort, make_response, redirect, render_template, request, url_for

from quizapp import certs
from quizapp.models import utcnow
from quizapp.public import bp


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


@bp.get("/verify/<code>")
def verify(code: str):
    certificate = certs.find(code) if len(code) <= 64 else None
    if certificate is None:
        abort(404, "No certificate has this code. Check it against the certificate;"
                   " codes are 24 letters and digits.")
    response = make_response(render_template(
        "public/verify.html", certificate=certificate, status=certificate.status(utcnow()),
        display_code=certs.display_code,
    ))
    response.headers["X-Robots-Tag"] = "noindex"
    return response
