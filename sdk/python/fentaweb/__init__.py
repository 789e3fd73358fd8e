"""FentaWeb's API client for Python 3.9+. Standard library only.

Every operation is one entry of OPERATIONS: ``resource.method`` -> ``VERB /path``. A call takes the path's parameters
in order, then the body (POST, PATCH) or the query (GET, DELETE), then keyword options. The test suite checks this
table against the API's OpenAPI document, so a new endpoint without an entry fails the build.
"""
import hashlib
import hmac
import json
import os
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime

__all__ = ["FentaWeb", "FentaWebError", "OPERATIONS", "verify_webhook"]
__version__ = "1.0.0"

OPERATIONS = {
    "auth": {
        "register": "POST /v1/auth/register",
        "login": "POST /v1/auth/login",
        "refresh": "POST /v1/auth/refresh",
        "logout": "POST /v1/auth/logout",
        "me": "GET /v1/auth/me",
        "send_verification": "POST /v1/auth/verify-email/send",
        "verify_email": "POST /v1/auth/verify-email",
        "request_password_reset": "POST /v1/auth/password-reset",
        "confirm_password_reset": "POST /v1/auth/password-reset/confirm",
    },
    "org": {
        "get": "GET /v1/org",
        "list_members": "GET /v1/org/members",
        "invite": "POST /v1/org/members",
        "change_role": "PATCH /v1/org/members/{memberId}",
        "remove_member": "DELETE /v1/org/members/{memberId}",
        "list_invitations": "GET /v1/org/invitations",
        "cancel_invitation": "DELETE /v1/org/invitations/{invitationId}",
        "accept_invitation": "POST /v1/invitations/{token}/accept",
    },
    "api_keys": {
        "create": "POST /v1/api-keys",
        "list": "GET /v1/api-keys",
        "get": "GET /v1/api-keys/{keyId}",
        "revoke": "DELETE /v1/api-keys/{keyId}",
        "roll": "POST /v1/api-keys/{keyId}/roll",
    },
    "templates": {
        "create": "POST /v1/templates",
        "list": "GET /v1/templates",
        "get": "GET /v1/templates/{templateId}",
        "update": "PATCH /v1/templates/{templateId}",
        "delete": "DELETE /v1/templates/{templateId}",
        "copy": "POST /v1/templates/{templateId}/copy",
    },
    "workflows": {
        "create": "POST /v1/workflows",
        "list": "GET /v1/workflows",
        "get": "GET /v1/workflows/{workflowId}",
        "update": "PATCH /v1/workflows/{workflowId}",
        "delete": "DELETE /v1/workflows/{workflowId}",
        "list_versions": "GET /v1/workflows/{workflowId}/versions",
        "get_version": "GET /v1/workflows/{workflowId}/versions/{version}",
        "estimate": "POST /v1/workflows/{workflowId}/estimate",
        "run": "POST /v1/workflows/{workflowId}/run",
    },
    "nodes": {"list": "GET /v1/nodes"},
    "voices": {"list": "GET /v1/voices"},
    "models": {"list": "GET /v1/models", "get": "GET /v1/models/{modelId}"},
    "jobs": {
        "create": "POST /v1/jobs",
        "estimate": "POST /v1/jobs/estimate",
        "list": "GET /v1/jobs",
        "get": "GET /v1/jobs/{jobId}",
        "cancel": "POST /v1/jobs/{jobId}/cancel",
        "retry": "POST /v1/jobs/{jobId}/retry",
        "logs": "GET /v1/jobs/{jobId}/logs",
        "events": "GET /v1/jobs/{jobId}/events",
    },
    "generations": {
        "generate_image": "POST /v1/kai/generate-image",
        "generate_video": "POST /v1/kai/generate-video",
        "edit_video": "POST /v1/kai/edit-video",
        "generate_music": "POST /v1/kai/generate-music",
        "list": "GET /v1/kai/generations",
        "get": "GET /v1/kai/generations/{generationId}",
    },
    "assets": {
        "init": "POST /v1/assets/init",
        "complete": "POST /v1/assets/complete",
        "search_stock": "GET /v1/assets/stock/search",
        "list": "GET /v1/assets",
        "get": "GET /v1/assets/{assetId}",
        "delete": "DELETE /v1/assets/{assetId}",
    },
    "schedules": {
        "create": "POST /v1/schedules",
        "list": "GET /v1/schedules",
        "get": "GET /v1/schedules/{scheduleId}",
        "update": "PATCH /v1/schedules/{scheduleId}",
        "delete": "DELETE /v1/schedules/{scheduleId}",
    },
    "webhooks": {
        "create": "POST /v1/webhooks",
        "list": "GET /v1/webhooks",
        "get": "GET /v1/webhooks/{webhookId}",
        "update": "PATCH /v1/webhooks/{webhookId}",
        "delete": "DELETE /v1/webhooks/{webhookId}",
        "rotate_secret": "POST /v1/webhooks/{webhookId}/rotate-secret",
        "ping": "POST /v1/webhooks/{webhookId}/ping",
        "list_deliveries": "GET /v1/webhooks/{webhookId}/deliveries",
        "redeliver": "POST /v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
    },
    "usage": {"get": "GET /v1/usage", "quota": "GET /v1/usage/quota"},
    "billing": {
        "get": "GET /v1/billing",
        "invoices": "GET /v1/billing/invoices",
        "checkout": "POST /v1/billing/checkout",
        "portal": "POST /v1/billing/portal",
    },
    "enrichment": {"generate": "POST /v1/enrichment/generate"},
    "integrations": {
        "platforms": "GET /v1/integrations/platforms",
        "list": "GET /v1/integrations",
        "get": "GET /v1/integrations/{integrationId}",
        "connect": "POST /v1/integrations/{platform}/connect",
        "callback": "GET /v1/integrations/{platform}/callback",
        "options": "GET /v1/integrations/{integrationId}/options",
        "disconnect": "DELETE /v1/integrations/{integrationId}",
    },
    "publications": {
        "publish": "POST /v1/jobs/{jobId}/publish",
        "list": "GET /v1/publications",
        "get": "GET /v1/publications/{publicationId}",
        "cancel": "POST /v1/publications/{publicationId}/cancel",
    },
    "share_links": {
        "create": "POST /v1/share-links",
        "list": "GET /v1/share-links",
        "get": "GET /v1/share-links/{linkId}",
        "revoke": "DELETE /v1/share-links/{linkId}",
    },
    "analytics": {
        "overview": "GET /v1/analytics/overview",
        "videos": "GET /v1/analytics/videos",
        "platforms": "GET /v1/analytics/platforms",
    },
    "storyboards": {
        "create": "POST /v1/storyboards",
        "list": "GET /v1/storyboards",
        "get": "GET /v1/storyboards/{storyboardId}",
        "update": "PATCH /v1/storyboards/{storyboardId}",
        "delete": "DELETE /v1/storyboards/{storyboardId}",
        "add_scene": "POST /v1/storyboards/{storyboardId}/scenes",
        "update_scene": "PATCH /v1/storyboards/{storyboardId}/scenes/{n}",
        "delete_scene": "DELETE /v1/storyboards/{storyboardId}/scenes/{n}",
        "regenerate_scene": "POST /v1/storyboards/{storyboardId}/scenes/{n}/regenerate",
        "render": "POST /v1/storyboards/{storyboardId}/render",
    },
}

# POSTs that create a job or a payment session: the client sends an Idempotency-Key, so a retried call never makes two.
_IDEMPOTENT_POSTS = {"jobs.create", "workflows.run", "billing.checkout"}
_FINISHED = {"completed", "failed", "cancelled"}


class FentaWebError(Exception):
    """An answer other than 2xx, from the API's problem+json body (RFC 9457)."""

    def __init__(self, status, problem):
        self.status = status
        self.code = problem.get("code")
        self.title = problem.get("title")
        self.detail = problem.get("detail")
        #: For VALIDATION_FAILED: ``[{"field", "message", "node_id"}]``.
        self.errors = problem.get("errors") or []
        self.problem = problem
        super().__init__(f"{status} {self.code or self.title or 'error'}: {self.detail or self.title or ''}".strip())


class _Resource:
    pass


class FentaWeb:
    """A client of one FentaWeb environment.

    ``api_key`` is an API key (``fw_...``) or an access token (default: FENTAWEB_API_KEY); ``base_url`` the environment's
    API address (default: FENTAWEB_BASE_URL, else the local stack); ``org_id`` the org of every call (X-Org-Id).
    Calls that failed to connect, were rate limited or hit a 5xx are retried ``max_retries`` times when repeating them
    is safe (reads, deletes, and POSTs with an Idempotency-Key).
    """

    def __init__(self, api_key=None, base_url=None, org_id=None, max_retries=2, timeout=60.0, opener=None):
        self.api_key = api_key or os.environ.get("FENTAWEB_API_KEY")
        self.base_url = (base_url or os.environ.get("FENTAWEB_BASE_URL") or "http://127.0.0.1:8080").rstrip("/")
        self.org_id = org_id
        self.max_retries = max_retries
        self.timeout = timeout
        self._open = opener or urllib.request.urlopen
        for resource, methods in OPERATIONS.items():
            holder = _Resource()
            for method, operation in methods.items():
                setattr(holder, method, self._operation(f"{resource}.{method}", operation))
            setattr(self, resource, holder)
        self.jobs.wait = self._wait_for_job
        self.jobs.events = self._events
        self.assets.upload = self._upload

    def request(self, method, path, query=None, body=None, headers=None, idempotency_key=None):
        """Calls any endpoint; returns the parsed body (None for 204)."""
        url = self.base_url + path
        query = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in (query or {}).items() if v is not None}
        if query:
            url += "?" + urllib.parse.urlencode(query)
        sent = {**self._headers(), **(headers or {})}
        data = None
        if body is not None:
            sent["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        if idempotency_key:
            sent["Idempotency-Key"] = idempotency_key
        retriable = method in ("GET", "DELETE") or bool(idempotency_key)
        attempt = 0
        while True:
            try:
                with self._open(urllib.request.Request(url, data=data, headers=sent, method=method), timeout=self.timeout) as response:
                    raw = response.read()
                    return json.loads(raw) if response.status != 204 and raw else None
            except urllib.error.HTTPError as error:
                raw = error.read()
                again = error.code == 429 or (error.code >= 500 and retriable)
                if attempt < self.max_retries and again:
                    retry_after = error.headers.get("Retry-After")
                    time.sleep(min(float(retry_after), 60) if retry_after and retry_after.isdigit() else _backoff(attempt))
                    attempt += 1
                    continue
                try:
                    problem = json.loads(raw)
                except ValueError:
                    problem = {"title": error.reason, "detail": raw.decode(errors="replace")}
                raise FentaWebError(error.code, problem) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if attempt < self.max_retries and retriable:
                    time.sleep(_backoff(attempt))
                    attempt += 1
                    continue
                raise

    def paginate(self, list_method, query=None):
        """Every item of a list, page by page: ``for job in client.paginate(client.jobs.list, {"status": "completed"})``."""
        cursor = None
        while True:
            page = list_method({**(query or {}), **({"cursor": cursor} if cursor else {})})
            yield from page["data"]
            if not page.get("has_more") or not page.get("next_cursor"):
                return
            cursor = page["next_cursor"]

    def _headers(self):
        headers = {"Accept": "application/json", "User-Agent": f"fentaweb-python/{__version__}"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.org_id:
            headers["X-Org-Id"] = self.org_id
        return headers

    def _operation(self, name, operation):
        method, template = operation.split(" ")
        names = re.findall(r"\{(\w+)\}", template)
        has_body = method in ("POST", "PATCH")

        def call(*args, if_match=None, idempotency_key=None, org_id=None, query=None):
            if len(args) < len(names) or any(not isinstance(v, (str, int)) for v in args[: len(names)]):
                raise TypeError(f"{name}() takes {', '.join(names) or 'no path values'} first")
            path = template
            for key, value in zip(names, args):
                path = path.replace("{" + key + "}", urllib.parse.quote(str(value), safe=""))
            payload = args[len(names)] if len(args) > len(names) else None
            headers = {}
            if if_match is not None:
                headers["If-Match"] = f'"{if_match}"'
            if org_id:
                headers["X-Org-Id"] = org_id
            if idempotency_key is None and name in _IDEMPOTENT_POSTS:
                idempotency_key = str(uuid.uuid4())
            return self.request(method, path, query=query if has_body else payload, body=(payload or {}) if has_body else None,
                                headers=headers, idempotency_key=idempotency_key)

        call.__name__ = name.split(".")[1]
        call.__doc__ = operation
        return call

    def _wait_for_job(self, job_id, interval=2.0, timeout=1800.0):
        """Polls a job until it is completed, failed or cancelled, and returns it; raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.jobs.get(job_id)
            if job["status"] in _FINISHED:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} is still {job['status']} after {timeout} s")
            time.sleep(interval)

    def _events(self, job_id):
        """The job's Server-Sent Events (``{"event": "node" | "job", "id", "data"}``) until it ends."""
        headers = {**self._headers(), "Accept": "text/event-stream"}
        request = urllib.request.Request(f"{self.base_url}/v1/jobs/{urllib.parse.quote(job_id, safe='')}/events", headers=headers)
        try:
            # No read timeout: the stream is quiet while nothing changes, and lasts as long as the job.
            response = self._open(request, timeout=None)
        except urllib.error.HTTPError as error:
            raise FentaWebError(error.code, json.loads(error.read() or b"{}")) from None
        with response:
            event = {"event": "message", "id": None, "data": ""}
            for raw in response:
                line = raw.decode().rstrip("\r\n")
                if not line:
                    if event["data"]:
                        yield {**event, "data": json.loads(event["data"])}
                    event = {"event": "message", "id": None, "data": ""}
                    continue
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "data":
                    event["data"] += ("\n" if event["data"] else "") + value
                elif field in ("event", "id"):
                    event[field] = value

    def _upload(self, data, filename, content_type):
        """Uploads bytes as an asset: init, PUT to the signed Blob Storage link, complete; returns the ready asset."""
        ticket = self.assets.init({"filename": filename, "size_bytes": len(data), "content_type": content_type})
        put = urllib.request.Request(ticket["upload_url"], data=data, headers=ticket.get("upload_headers") or {},
                                     method=ticket.get("upload_method") or "PUT")
        try:
            with self._open(put, timeout=self.timeout):
                pass
        except urllib.error.HTTPError as error:
            raise FentaWebError(error.code, {"title": "Upload to storage failed", "detail": error.read().decode(errors="replace")}) from None
        return self.assets.complete({"asset_id": ticket["asset"]["id"]})


def verify_webhook(raw_body, header, secret, tolerance=300, now=None):
    """Checks a delivery's ``Fenta-Signature: t=<unix>,v1=<hex>`` header: HMAC-SHA256 with the webhook's secret over
    ``<t>.<raw body>``, at most ``tolerance`` seconds old. Pass the raw body (bytes or str), before any JSON parsing."""
    try:
        parts = dict(part.strip().split("=", 1) for part in (header or "").split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError):
        return False
    body = raw_body.encode() if isinstance(raw_body, str) else raw_body
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given) and abs((time.time() if now is None else now) - timestamp) <= tolerance


FentaWeb.verify_webhook = staticmethod(verify_webhook)


def _backoff(attempt):
    return min(0.5 * 2 ** attempt, 8.0) * random.uniform(0.8, 1.2)
