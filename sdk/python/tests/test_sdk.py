"""The client against a running API: FENTAWEB_BASE_URL and FENTAWEB_API_KEY (a key with every scope) name it, and the
API's workers run jobs (tests/Functions.Api.Tests/SdkTests.cs starts it all and runs ``python3 -m unittest`` here)."""
import hashlib
import hmac
import io
import os
import struct
import sys
import time
import unittest
import urllib.error
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from fentaweb import FentaWeb, FentaWebError, verify_webhook  # noqa: E402

GRAPH = {
    "nodes": [
        {"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=2 about {{topic}}"}},
        {"id": "st", "type": "Input.Stock", "params": {"query": "sleep=50"}},
        {"id": "t", "type": "Edit.Timeline"},
    ],
    "edges": [{"from": "s", "to": "st"}, {"from": "st", "to": "t"}],
}


def png(width, height):
    """A valid grey PNG of width x height (what the API probes with ffprobe)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class AgainstTheApi(unittest.TestCase):
    client = FentaWeb()

    def test_workflows_are_created_changed_with_if_match_and_listed_page_by_page(self):
        names = [f"py {n} {time.time()}" for n in ("one", "two", "three")]
        created = [self.client.workflows.create({"name": name, "graph": GRAPH, "variables": {"topic": "cats"}}) for name in names]
        first = created[0]
        self.assertEqual(self.client.workflows.get(first["id"])["name"], names[0])

        updated = self.client.workflows.update(first["id"], {"description": "changed"}, if_match=first["version"])
        self.assertEqual(updated["version"], first["version"] + 1)
        with self.assertRaises(FentaWebError) as stale:
            self.client.workflows.update(first["id"], {"description": "stale"}, if_match=first["version"])
        self.assertEqual(stale.exception.status, 412)
        self.assertEqual(sorted(v["version"] for v in self.client.workflows.list_versions(first["id"])["data"]), [1, 2])

        seen = [w["id"] for w in self.client.paginate(self.client.workflows.list, {"limit": 2})]
        for workflow in created:
            self.assertIn(workflow["id"], seen)
        self.assertEqual(len(set(seen)), len(seen))

    def test_errors_carry_the_problem_code_and_the_fields_named(self):
        with self.assertRaises(FentaWebError) as invalid:
            self.client.workflows.create({"name": "", "graph": GRAPH})
        self.assertEqual((invalid.exception.status, invalid.exception.code), (400, "VALIDATION_FAILED"))
        self.assertIn("name", [e["field"] for e in invalid.exception.errors])

        with self.assertRaises(FentaWebError) as missing:
            self.client.jobs.get("job_does_not_exist")
        self.assertEqual((missing.exception.status, missing.exception.code), (404, "NOT_FOUND"))
        with self.assertRaisesRegex(TypeError, "takes jobId first"):
            self.client.jobs.get()
        with self.assertRaises(FentaWebError) as stranger:
            FentaWeb(api_key="fw_not_a_key").templates.list()
        self.assertEqual(stranger.exception.status, 401)

    def test_a_run_is_followed_by_its_events_and_waited_for_and_a_repeated_key_returns_the_same_job(self):
        workflow = self.client.workflows.create({"name": f"py run {time.time()}", "graph": GRAPH, "variables": {"topic": "cats"}})
        started = self.client.workflows.run(workflow["id"], {"variables": {"topic": "dogs"}})
        self.assertTrue(started["id"].startswith("job_"))

        events = list(self.client.jobs.events(started["id"]))
        self.assertEqual([e for e in events if e["event"] == "job"][-1]["data"]["status"], "completed")
        self.assertTrue(any(e["event"] == "node" and e["data"]["node_id"] == "st" and e["data"]["status"] == "succeeded" for e in events))

        self.assertEqual(self.client.jobs.wait(started["id"], interval=0.1)["status"], "completed")
        self.assertTrue(self.client.jobs.logs(started["id"])["data"])

        key = f"py-{time.time()}"
        once = self.client.workflows.run(workflow["id"], {}, idempotency_key=key)
        twice = self.client.workflows.run(workflow["id"], {}, idempotency_key=key)
        self.assertEqual(twice["id"], once["id"])
        self.assertEqual(self.client.jobs.wait(once["id"], interval=0.1)["status"], "completed")

    def test_the_readmes_direct_render_job_is_accepted_and_cancelled_idempotently(self):
        body = {
            "template_id": "tmpl_shorts_v1",
            "config": {"sources": [{"type": "stock", "query": "city night", "count": 3}], "script": {"prompt": "Night buses start running in the city"}},
        }
        estimate = self.client.jobs.estimate(body)
        self.assertIn("render", [node["node_id"] for node in estimate["nodes"]])
        job = self.client.jobs.create(body)
        self.assertTrue(job["id"].startswith("job_"))
        # The tests' workers stand in for the media steps, so the job may end on its own before the cancel arrives.
        try:
            self.assertEqual(self.client.jobs.cancel(job["id"])["status"], "cancelled")
        except FentaWebError as finished:
            self.assertEqual(finished.code, "JOB_FINISHED")
        ended = self.client.jobs.wait(job["id"], interval=0.1)
        if ended["status"] == "cancelled":
            self.assertEqual(self.client.jobs.cancel(job["id"])["status"], "cancelled")
        else:
            with self.assertRaises(FentaWebError) as again:
                self.client.jobs.cancel(job["id"])
            self.assertEqual(again.exception.code, "JOB_FINISHED")

    def test_a_file_is_uploaded_through_the_signed_storage_link_and_probed(self):
        data = png(16, 9)
        asset = self.client.assets.upload(data, "frame.png", "image/png")
        self.assertEqual((asset["status"], asset["size_bytes"]), ("ready", len(data)))
        self.assertEqual(self.client.assets.get(asset["id"])["id"], asset["id"])
        self.assertIsNone(self.client.assets.delete(asset["id"]))

    def test_publishing_platforms_say_what_they_lack_and_nothing_is_published_yet(self):
        platforms = self.client.integrations.platforms()
        self.assertEqual([p["platform"] for p in platforms], ["youtube", "tiktok", "instagram"])
        for p in platforms:
            self.assertFalse(p["configured"])
            self.assertRegex(p["missing_setting"], r"^FENTA_[A-Z]+_CLIENT_(ID|SECRET)$")
        with self.assertRaises(FentaWebError) as refused:
            self.client.integrations.connect("tiktok", {"return_to": "/settings/integrations"})
        self.assertEqual((refused.exception.status, refused.exception.code), (409, "PLATFORM_NOT_CONFIGURED"))
        self.assertIn("FENTA_TIKTOK_CLIENT_", refused.exception.detail)
        with self.assertRaises(FentaWebError) as replayed:
            self.client.integrations.callback("tiktok", {"code": "c", "state": "never-issued"})
        self.assertEqual(replayed.exception.status, 400)
        self.assertEqual(self.client.integrations.list()["data"], [])
        with self.assertRaises(FentaWebError) as missing:
            self.client.integrations.options("int_missing")
        self.assertEqual(missing.exception.status, 404)

        self.assertEqual(self.client.publications.list({"status": "published"})["data"], [])
        with self.assertRaises(FentaWebError) as missing:
            self.client.publications.get("pub_missing")
        self.assertEqual(missing.exception.status, 404)
        self.assertEqual(self.client.share_links.list({"job_id": "job_missing"})["data"], [])
        with self.assertRaises(FentaWebError) as refused:
            self.client.share_links.create({"job_id": "job_missing"})
        self.assertEqual((refused.exception.status, refused.exception.errors[0]["field"]), (400, "job_id"))
        self.assertEqual(self.client.analytics.overview()["videos"], 0)
        self.assertEqual(self.client.analytics.videos({"platform": "youtube"}), [])
        self.assertEqual(self.client.analytics.platforms({"to": "2030-01-01T00:00:00Z"}), [])


class Offline(unittest.TestCase):
    def test_a_rate_limited_or_failing_call_is_retried_with_the_same_idempotency_key(self):
        calls = []

        class Answer(io.BytesIO):
            status = 202

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

        def opener(request, timeout):
            calls.append(request.get_header("Idempotency-key"))
            if len(calls) == 1:
                raise urllib.error.HTTPError(request.full_url, 429, "Too Many Requests", {"Retry-After": "1"}, io.BytesIO(b'{"code":"RATE_LIMITED"}'))
            if len(calls) == 2:
                raise urllib.error.HTTPError(request.full_url, 503, "Unavailable", {}, io.BytesIO(b'{"code":"INTERNAL"}'))
            return Answer(b'{"id":"job_1"}')

        flaky = FentaWeb(api_key="fw_test", base_url="http://api.test", opener=opener)
        self.assertEqual(flaky.jobs.create({"template_id": "tpl"}), {"id": "job_1"})
        self.assertEqual(len(calls), 3)
        self.assertTrue(calls[0])
        self.assertEqual(len(set(calls)), 1)

        posts = []

        def failing(request, timeout):
            posts.append(request)
            raise urllib.error.HTTPError(request.full_url, 503, "Unavailable", {}, io.BytesIO(b"{}"))

        with self.assertRaises(FentaWebError):
            FentaWeb(api_key="fw_test", base_url="http://api.test", opener=failing).workflows.create({"name": "x"})
        self.assertEqual(len(posts), 1, "a POST without an idempotency key is not repeated")

    def test_webhook_signatures_are_verified_over_the_timestamp_and_the_raw_body(self):
        secret, body, t = "whsec_test", b'{"id":"evt_1","type":"job.completed"}', int(time.time())
        header = f"t={t},v1=" + hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        self.assertTrue(verify_webhook(body, header, secret))
        self.assertTrue(FentaWeb.verify_webhook(body.decode(), header, secret))
        self.assertFalse(verify_webhook(body.replace(b"completed", b"failed"), header, secret))
        self.assertFalse(verify_webhook(body, header, "whsec_other"))
        self.assertFalse(verify_webhook(body, header, secret, now=t + 301))
        self.assertFalse(verify_webhook(body, "garbage", secret))


if __name__ == "__main__":
    unittest.main()
