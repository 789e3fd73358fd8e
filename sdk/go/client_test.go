// The client against a running API: FENTAWEB_BASE_URL and FENTAWEB_API_KEY (a key with every scope) name it, and the
// API's workers run jobs (tests/Functions.Api.Tests/SdkTests.cs starts it all and runs `go test` here).
package fentaweb

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var graph = Object{
	"nodes": []Object{
		{"id": "s", "type": "Script.Generate", "params": Object{"prompt": "scenes=2 about {{topic}}"}},
		{"id": "st", "type": "Input.Stock", "params": Object{"query": "sleep=50"}},
		{"id": "t", "type": "Edit.Timeline"},
	},
	"edges": []Object{{"from": "s", "to": "st"}, {"from": "st", "to": "t"}},
}

func TestEveryOperationIsAMethod(t *testing.T) {
	client := reflect.ValueOf(NewClient("fw_test")).Elem()
	for resource, methods := range Operations {
		field := client.FieldByName(exported(resource))
		if !field.IsValid() {
			t.Fatalf("Client has no field for %s", resource)
		}
		for method := range methods {
			if !field.MethodByName(exported(method)).IsValid() {
				t.Errorf("%s has no method for %s.%s", field.Type(), resource, method)
			}
		}
	}
}

func exported(name string) string {
	if strings.HasPrefix(name, "api") {
		return "API" + name[3:]
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

func TestWorkflowsAreCreatedChangedWithIfMatchAndListedPageByPage(t *testing.T) {
	ctx, client := context.Background(), NewClient("")
	var created []Object
	for _, n := range []string{"one", "two", "three"} {
		workflow, err := client.Workflows.Create(ctx, Object{"name": fmt.Sprintf("go %s %d", n, time.Now().UnixNano()), "graph": graph, "variables": Object{"topic": "cats"}})
		must(t, err)
		created = append(created, workflow)
	}
	first := created[0]
	id, version := first["id"].(string), int(first["version"].(float64))
	got, err := client.Workflows.Get(ctx, id)
	must(t, err)
	equal(t, got["name"], first["name"])

	updated, err := client.Workflows.Update(ctx, id, Object{"description": "changed"}, WithIfMatch(version))
	must(t, err)
	equal(t, int(updated["version"].(float64)), version+1)
	_, err = client.Workflows.Update(ctx, id, Object{"description": "stale"}, WithIfMatch(version))
	stale, ok := AsError(err)
	if !ok || stale.Status != 412 {
		t.Fatalf("a stale If-Match: %v", err)
	}
	versions, err := client.Workflows.ListVersions(ctx, id)
	must(t, err)
	equal(t, len(versions["data"].([]any)), 2)

	seen := map[string]int{}
	must(t, client.Paginate(ctx, client.Workflows.List, Query{"limit": "2"}, func(w Object) error { seen[w["id"].(string)]++; return nil }))
	for _, workflow := range created {
		equal(t, seen[workflow["id"].(string)], 1)
	}
}

func TestErrorsCarryTheProblemCodeAndTheFieldsNamed(t *testing.T) {
	ctx, client := context.Background(), NewClient("")
	_, err := client.Workflows.Create(ctx, Object{"name": "", "graph": graph})
	invalid, ok := AsError(err)
	if !ok || invalid.Status != 400 || invalid.Code != "VALIDATION_FAILED" {
		t.Fatalf("an empty name: %v", err)
	}
	named := false
	for _, field := range invalid.Errors {
		named = named || field.Field == "name"
	}
	equal(t, named, true)

	_, err = client.Jobs.Get(ctx, "job_does_not_exist")
	missing, _ := AsError(err)
	equal(t, fmt.Sprint(missing.Status, " ", missing.Code), "404 NOT_FOUND")
	_, err = NewClient("fw_not_a_key").Templates.List(ctx)
	stranger, _ := AsError(err)
	equal(t, stranger.Status, 401)
}

func TestARunIsFollowedByItsEventsAndWaitedForAndARepeatedKeyReturnsTheSameJob(t *testing.T) {
	ctx, client := context.Background(), NewClient("")
	workflow, err := client.Workflows.Create(ctx, Object{"name": fmt.Sprintf("go run %d", time.Now().UnixNano()), "graph": graph, "variables": Object{"topic": "cats"}})
	must(t, err)
	id := workflow["id"].(string)
	started, err := client.Workflows.Run(ctx, id, Object{"variables": Object{"topic": "dogs"}})
	must(t, err)
	jobID := started["id"].(string)

	var last Object
	nodeSucceeded := false
	must(t, client.Jobs.Events(ctx, jobID, func(e Event) error {
		if e.Event == "job" {
			last = e.Data
		}
		nodeSucceeded = nodeSucceeded || (e.Event == "node" && e.Data["node_id"] == "st" && e.Data["status"] == "succeeded")
		return nil
	}))
	equal(t, last["status"], "completed")
	equal(t, nodeSucceeded, true)
	job, err := client.Jobs.Wait(ctx, jobID, 100*time.Millisecond)
	must(t, err)
	equal(t, job["status"], "completed")
	logs, err := client.Jobs.Logs(ctx, jobID)
	must(t, err)
	if len(logs["data"].([]any)) == 0 {
		t.Fatal("the job has no log lines")
	}

	key := fmt.Sprintf("go-%d", time.Now().UnixNano())
	once, err := client.Workflows.Run(ctx, id, nil, WithIdempotencyKey(key))
	must(t, err)
	twice, err := client.Workflows.Run(ctx, id, nil, WithIdempotencyKey(key))
	must(t, err)
	equal(t, twice["id"], once["id"])
	done, err := client.Jobs.Wait(ctx, once["id"].(string), 100*time.Millisecond)
	must(t, err)
	equal(t, done["status"], "completed")
}

func TestTheReadmesDirectRenderJobIsAcceptedAndCancelledIdempotently(t *testing.T) {
	ctx, client := context.Background(), NewClient("")
	body := Object{
		"template_id": "tmpl_shorts_v1",
		"config": Object{
			"sources": []Object{{"type": "stock", "query": "city night", "count": 3}},
			"script":  Object{"prompt": "Night buses start running in the city"},
		},
	}
	estimate, err := client.Jobs.Estimate(ctx, body)
	must(t, err)
	nodes := estimate["nodes"].([]any)
	equal(t, nodes[len(nodes)-1].(map[string]any)["node_id"], "render")
	job, err := client.Jobs.Create(ctx, body)
	must(t, err)
	jobID := job["id"].(string)
	// The tests' workers stand in for the media steps, so the job may end on its own before the cancel arrives.
	if cancelled, err := client.Jobs.Cancel(ctx, jobID, nil); err != nil {
		finished, _ := AsError(err)
		equal(t, finished.Code, "JOB_FINISHED")
	} else {
		equal(t, cancelled["status"], "cancelled")
	}
	ended, err := client.Jobs.Wait(ctx, jobID, 100*time.Millisecond)
	must(t, err)
	again, err := client.Jobs.Cancel(ctx, jobID, nil)
	if ended["status"] == "cancelled" {
		must(t, err)
		equal(t, again["status"], "cancelled")
	} else {
		finished, _ := AsError(err)
		equal(t, finished.Code, "JOB_FINISHED")
	}
}

func TestAFileIsUploadedThroughTheSignedStorageLinkAndProbed(t *testing.T) {
	ctx, client := context.Background(), NewClient("")
	frame := image.NewGray(image.Rect(0, 0, 16, 9))
	for i := range frame.Pix {
		frame.Pix[i] = 0x80
	}
	var data bytes.Buffer
	must(t, png.Encode(&data, frame))
	asset, err := client.Assets.Upload(ctx, data.Bytes(), "frame.png", "image/png")
	must(t, err)
	equal(t, fmt.Sprint(asset["status"], " ", asset["size_bytes"]), fmt.Sprint("ready ", data.Len()))
	fetched, err := client.Assets.Get(ctx, asset["id"].(string))
	must(t, err)
	equal(t, fetched["id"], asset["id"])
	deleted, err := client.Assets.Delete(ctx, asset["id"].(string))
	must(t, err)
	equal(t, deleted == nil, true)
}

func TestCatalogListsAreReadAsArrays(t *testing.T) {
	ctx, client := context.Background(), NewClient("")
	nodes, err := client.Nodes.List(ctx)
	must(t, err)
	voices, err := client.Voices.List(ctx)
	must(t, err)
	models, err := client.Models.List(ctx)
	must(t, err)
	if len(nodes) == 0 || len(voices) == 0 || len(models) == 0 {
		t.Fatalf("%d node types, %d voice providers, %d models", len(nodes), len(voices), len(models))
	}
}

func TestPublishingPlatformsSayWhatTheyLackAndNothingIsPublishedYet(t *testing.T) {
	ctx, client := context.Background(), NewClient("")
	platforms, err := client.Integrations.Platforms(ctx)
	must(t, err)
	var names []string
	for _, p := range platforms {
		names = append(names, p["platform"].(string))
		equal(t, p["configured"], false)
		if setting, _ := p["missing_setting"].(string); !strings.HasPrefix(setting, "FENTA_") {
			t.Fatalf("%s names no missing setting: %v", p["platform"], p)
		}
	}
	equal(t, names, []string{"youtube", "tiktok", "instagram"})
	_, err = client.Integrations.Connect(ctx, "instagram", Object{"return_to": "/settings/integrations"})
	refused, ok := AsError(err)
	if !ok || refused.Status != 409 || refused.Code != "PLATFORM_NOT_CONFIGURED" || !strings.Contains(refused.Detail, "FENTA_INSTAGRAM_CLIENT_") {
		t.Fatalf("connecting an unconfigured platform: %v", err)
	}
	_, err = client.Integrations.Callback(ctx, "instagram", WithQuery(Query{"code": "c", "state": "never-issued"}))
	if replayed, ok := AsError(err); !ok || replayed.Status != 400 {
		t.Fatalf("a callback with an unknown state: %v", err)
	}
	integrations, err := client.Integrations.List(ctx)
	must(t, err)
	equal(t, len(integrations["data"].([]any)), 0)
	_, err = client.Integrations.Disconnect(ctx, "int_missing")
	if missing, ok := AsError(err); !ok || missing.Status != 404 {
		t.Fatalf("disconnecting an unknown integration: %v", err)
	}

	publications, err := client.Publications.List(ctx)
	must(t, err)
	equal(t, len(publications["data"].([]any)), 0)
	_, err = client.Publications.Publish(ctx, "job_missing", Object{"targets": []Object{{"integration_id": "int_missing"}}})
	if missing, ok := AsError(err); !ok || missing.Status != 404 {
		t.Fatalf("publishing an unknown job: %v", err)
	}
	links, err := client.ShareLinks.List(ctx, WithQuery(Query{"job_id": "job_missing"}))
	must(t, err)
	equal(t, len(links["data"].([]any)), 0)
	_, err = client.ShareLinks.Create(ctx, Object{"job_id": "job_missing"})
	if refused, ok := AsError(err); !ok || refused.Status != 400 || refused.Errors[0].Field != "job_id" {
		t.Fatalf("sharing an unknown job: %v", err)
	}
	overview, err := client.Analytics.Overview(ctx, WithQuery(Query{"from": time.Now().AddDate(0, 0, -7).UTC().Format(time.RFC3339)}))
	must(t, err)
	equal(t, overview["videos"], float64(0))
	videos, err := client.Analytics.Videos(ctx)
	must(t, err)
	equal(t, len(videos), 0)
	byPlatform, err := client.Analytics.Platforms(ctx)
	must(t, err)
	equal(t, len(byPlatform), 0)
}

func TestARateLimitedOrFailingCallIsRetriedWithTheSameIdempotencyKey(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		switch len(keys) {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"id":"job_1"}`))
		}
	}))
	defer server.Close()
	job, err := NewClient("fw_test", WithBaseURL(server.URL)).Jobs.Create(context.Background(), Object{"template_id": "tpl"})
	must(t, err)
	equal(t, job["id"], "job_1")
	equal(t, len(keys), 3)
	equal(t, keys[0] != "" && keys[0] == keys[1] && keys[1] == keys[2], true)

	posts := 0
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		posts++
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	_, err = NewClient("fw_test", WithBaseURL(failing.URL)).Workflows.Create(context.Background(), Object{"name": "x"})
	if answer, ok := AsError(err); !ok || answer.Status != 503 {
		t.Fatalf("a failing create: %v", err)
	}
	equal(t, posts, 1) // a POST without an idempotency key is not repeated
}

func TestWebhookSignaturesAreVerifiedOverTheTimestampAndTheRawBody(t *testing.T) {
	secret, body, now := "whsec_test", []byte(`{"id":"evt_1","type":"job.completed"}`), time.Now()
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.%s", now.Unix(), body)
	header := fmt.Sprintf("t=%d,v1=%s", now.Unix(), hex.EncodeToString(mac.Sum(nil)))
	equal(t, VerifyWebhook(body, header, secret, 5*time.Minute, now), true)
	equal(t, VerifyWebhook(bytes.Replace(body, []byte("completed"), []byte("failed"), 1), header, secret, 5*time.Minute, now), false)
	equal(t, VerifyWebhook(body, header, "whsec_other", 5*time.Minute, now), false)
	equal(t, VerifyWebhook(body, header, secret, 5*time.Minute, now.Add(301*time.Second)), false)
	equal(t, VerifyWebhook(body, "garbage", secret, 5*time.Minute, now), false)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func equal(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
