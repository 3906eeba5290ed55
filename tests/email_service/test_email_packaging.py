"""The deployed shape: Lambda imports handler.py as a top-level module, without local.py."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.email_service.email_testkit import expected_message_id

SERVICE_DIR = Path(__file__).resolve().parents[2] / "email_service"
# What serverless.yml's package patterns leave out of the bundle.
NOT_DEPLOYED = ("local.py", "config", "README.md", "package.json", "requirements.txt")

SCRIPT = """
import hashlib, hmac, json, sys
import handler
assert "email_service" not in sys.modules, "the bundle must not need the package"
body = json.dumps({
    "id": "bundle-1", "action": "SIGNUP_WELCOME", "to": "a@example.org",
    "data": {"full_name": "A", "role": "doctor"},
})
signature = "sha256=" + hmac.new(b"bundle-secret", body.encode(), hashlib.sha256).hexdigest()
event = {"body": body, "headers": {"X-Signature": signature}, "isBase64Encoded": False}
print(json.dumps(handler.send_email(event, None)))
"""


def test_handler_runs_from_the_flat_lambda_bundle(tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(
        SERVICE_DIR, bundle, ignore=shutil.ignore_patterns(*NOT_DEPLOYED, "__pycache__")
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SMTP_", "PYTHON", "MAIL_"))
    }
    env.update(EMAIL_SERVICE_SECRET="bundle-secret", MAIL_DIR=str(tmp_path / "mail"))

    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=bundle,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"])["message_id"] == expected_message_id("bundle-1")
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
