// Package fentaweb is FentaWeb's API client for Go. Standard library only.
//
//	client := fentaweb.NewClient("YOUR_KEY")
//	job, err := client.Jobs.Create(ctx, map[string]any{"template_id": "tmpl_shorts_v1", "config": config})
//
// Every endpoint is a method, client.<Resource>.<Method>(ctx, path values…, body for POST and PATCH, options…);
// answers are the API's JSON as an Object. A call that failed to connect, was rate limited or hit a 5xx is retried
// when repeating it is safe (reads, deletes, and POSTs with an Idempotency-Key, which the client makes for job
// creation, runs and checkout).
package fentaweb

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mathrand "math/rand"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Version of this client, sent in its User-Agent.
const Version = "1.0.0"

// Object is a JSON object of the API's answers.
type Object = map[string]any

// Query holds a list's or a search's query parameters.
type Query = map[string]string

// idempotentPosts create a job or a payment session: the client sends an Idempotency-Key, so a retried call never makes two.
var idempotentPosts = map[string]bool{"jobs.create": true, "workflows.run": true, "billing.checkout": true}

var pathValue = regexp.MustCompile(`\{(\w+)\}`)

// Error is an answer other than 2xx, from the API's problem+json body (RFC 9457).
type Error struct {
	Status  int
	Code    string
	Title   string
	Detail  string
	Errors  []FieldError
	Problem Object
}

// FieldError names a field of a VALIDATION_FAILED answer.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	NodeID  string `json:"node_id,omitempty"`
}

func (e *Error) Error() string {
	return strings.TrimSpace(fmt.Sprintf("%d %s: %s", e.Status, firstOf(e.Code, e.Title, "error"), firstOf(e.Detail, e.Title)))
}

// Client calls one FentaWeb environment.
type Client struct {
	APIKey     string
	BaseURL    string
	OrgID      string
	MaxRetries int
	HTTP       *http.Client

	Auth         *AuthService
	Org          *OrgService
	APIKeys      *APIKeysService
	Templates    *TemplatesService
	Workflows    *WorkflowsService
	Nodes        *NodesService
	Voices       *VoicesService
	Models       *ModelsService
	Jobs         *JobsService
	Generations  *GenerationsService
	Assets       *AssetsService
	Schedules    *SchedulesService
	Webhooks     *WebhooksService
	Usage        *UsageService
	Billing      *BillingService
	Enrichment   *EnrichmentService
	Integrations *IntegrationsService
	Publications *PublicationsService
	Analytics    *AnalyticsService
	Storyboards  *StoryboardsService
	ShareLinks   *ShareLinksService
}

// Option changes a new client.
type Option func(*Client)

// WithBaseURL sets the environment's API address (default FENTAWEB_BASE_URL, else the local stack).
func WithBaseURL(baseURL string) Option {
	return func(c *Client) { c.BaseURL = strings.TrimRight(baseURL, "/") }
}

// WithOrg sets the org of every call (X-Org-Id), for users in several orgs.
func WithOrg(orgID string) Option { return func(c *Client) { c.OrgID = orgID } }

// WithHTTPClient sets the HTTP client (default: one with a 60 s timeout).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.HTTP = h } }

// WithMaxRetries sets how often a call that can safely be repeated is retried (default 2).
func WithMaxRetries(n int) Option { return func(c *Client) { c.MaxRetries = n } }

// NewClient makes a client with an API key (fw_…) or an access token; "" takes FENTAWEB_API_KEY.
func NewClient(apiKey string, options ...Option) *Client {
	if apiKey == "" {
		apiKey = os.Getenv("FENTAWEB_API_KEY")
	}
	c := &Client{APIKey: apiKey, BaseURL: strings.TrimRight(firstOf(os.Getenv("FENTAWEB_BASE_URL"), "http://127.0.0.1:8080"), "/"),
		MaxRetries: 2, HTTP: &http.Client{Timeout: 60 * time.Second}}
	for _, option := range options {
		option(c)
	}
	c.Auth, c.Org, c.APIKeys, c.Templates = &AuthService{c}, &OrgService{c}, &APIKeysService{c}, &TemplatesService{c}
	c.Workflows, c.Nodes, c.Voices, c.Models = &WorkflowsService{c}, &NodesService{c}, &VoicesService{c}, &ModelsService{c}
	c.Jobs, c.Generations, c.Assets, c.Schedules = &JobsService{c}, &GenerationsService{c}, &AssetsService{c}, &SchedulesService{c}
	c.Webhooks, c.Usage, c.Billing = &WebhooksService{c}, &UsageService{c}, &BillingService{c}
	c.Enrichment, c.Integrations, c.Publications, c.Analytics = &EnrichmentService{c}, &IntegrationsService{c}, &PublicationsService{c}, &AnalyticsService{c}
	c.Storyboards = &StoryboardsService{c}
	c.ShareLinks = &ShareLinksService{c}
	return c
}

// CallOption sets something of one call.
type CallOption func(*callSettings)

type callSettings struct {
	query          Query
	ifMatch        string
	idempotencyKey string
	orgID          string
}

// WithQuery sets the call's query parameters (a list's filters, limit and cursor).
func WithQuery(query Query) CallOption { return func(s *callSettings) { s.query = query } }

// WithIfMatch sends If-Match: "<version>" (PATCH /v1/workflows/{id}: 412 when the version is stale).
func WithIfMatch(version int) CallOption {
	return func(s *callSettings) { s.ifMatch = `"` + strconv.Itoa(version) + `"` }
}

// WithIdempotencyKey sets the call's Idempotency-Key (job creation, runs and checkout get one made when not set).
func WithIdempotencyKey(key string) CallOption {
	return func(s *callSettings) { s.idempotencyKey = key }
}

// WithCallOrg sets this call's org (X-Org-Id).
func WithCallOrg(orgID string) CallOption { return func(s *callSettings) { s.orgID = orgID } }

func (c *Client) call(ctx context.Context, name string, values []string, body any, opts []CallOption) (Object, error) {
	var answer Object
	err := c.callInto(ctx, name, values, body, opts, &answer)
	return answer, err
}

// callList calls an operation whose answer is a JSON array (GET /v1/nodes, /v1/integrations/platforms, ...).
func (c *Client) callList(ctx context.Context, name string, values []string, opts []CallOption) ([]Object, error) {
	var answer []Object
	err := c.callInto(ctx, name, values, nil, opts, &answer)
	return answer, err
}

func (c *Client) callInto(ctx context.Context, name string, values []string, body any, opts []CallOption, out any) error {
	resource, method, _ := strings.Cut(name, ".")
	verb, template, _ := strings.Cut(Operations[resource][method], " ")
	i := 0
	path := pathValue.ReplaceAllStringFunc(template, func(string) string { i++; return url.PathEscape(values[i-1]) })
	settings := callSettings{}
	for _, opt := range opts {
		opt(&settings)
	}
	if settings.idempotencyKey == "" && idempotentPosts[name] {
		settings.idempotencyKey = newKey()
	}
	if (verb == "POST" || verb == "PATCH") && body == nil {
		body = Object{}
	}
	headers := http.Header{}
	if settings.ifMatch != "" {
		headers.Set("If-Match", settings.ifMatch)
	}
	if settings.orgID != "" {
		headers.Set("X-Org-Id", settings.orgID)
	}
	return c.Request(ctx, verb, path, settings.query, body, headers, settings.idempotencyKey, out)
}

// Request calls any endpoint and decodes its JSON answer into out (left alone for 204).
func (c *Client) Request(ctx context.Context, method, path string, query Query, body any, headers http.Header, idempotencyKey string, out any) error {
	target := c.BaseURL + path
	if len(query) > 0 {
		values := url.Values{}
		for key, value := range query {
			values.Set(key, value)
		}
		target += "?" + values.Encode()
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	retriable := method == http.MethodGet || method == http.MethodDelete || idempotencyKey != ""
	for attempt := 0; ; attempt++ {
		request, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		c.sign(request.Header)
		for key, values := range headers {
			request.Header[key] = values
		}
		if body != nil {
			request.Header.Set("Content-Type", "application/json")
		}
		if idempotencyKey != "" {
			request.Header.Set("Idempotency-Key", idempotencyKey)
		}
		response, err := c.HTTP.Do(request)
		if err != nil {
			if attempt < c.MaxRetries && retriable && ctx.Err() == nil {
				sleep(ctx, backoff(attempt))
				continue
			}
			return err
		}
		raw, err := io.ReadAll(response.Body)
		response.Body.Close()
		if err != nil {
			return err
		}
		if response.StatusCode < 300 {
			if response.StatusCode == http.StatusNoContent || len(raw) == 0 || out == nil {
				return nil
			}
			return json.Unmarshal(raw, out)
		}
		again := response.StatusCode == http.StatusTooManyRequests || (response.StatusCode >= 500 && retriable)
		if attempt < c.MaxRetries && again {
			wait := backoff(attempt)
			if seconds, err := strconv.Atoi(response.Header.Get("Retry-After")); err == nil && seconds > 0 {
				wait = time.Duration(math.Min(float64(seconds), 60)) * time.Second
			}
			sleep(ctx, wait)
			continue
		}
		return problem(response.StatusCode, response.Status, raw)
	}
}

// Paginate calls each item of a list, page by page, until the list ends or each returns an error.
func (c *Client) Paginate(ctx context.Context, list func(context.Context, ...CallOption) (Object, error), query Query, each func(Object) error) error {
	page := Query{}
	for key, value := range query {
		page[key] = value
	}
	for {
		answer, err := list(ctx, WithQuery(page))
		if err != nil {
			return err
		}
		items, _ := answer["data"].([]any)
		for _, item := range items {
			object, _ := item.(Object)
			if err := each(object); err != nil {
				return err
			}
		}
		next, _ := answer["next_cursor"].(string)
		if more, _ := answer["has_more"].(bool); !more || next == "" {
			return nil
		}
		page["cursor"] = next
	}
}

// Wait polls a job until it is completed, failed or cancelled, and returns it.
func (s *JobsService) Wait(ctx context.Context, jobID string, interval time.Duration) (Object, error) {
	for {
		job, err := s.Get(ctx, jobID)
		if err != nil {
			return nil, err
		}
		switch job["status"] {
		case "completed", "failed", "cancelled":
			return job, nil
		}
		if !sleep(ctx, interval) {
			return nil, ctx.Err()
		}
	}
}

// Event is one Server-Sent Event of a job: Event is "node" or "job".
type Event struct {
	Event string
	ID    string
	Data  Object
}

// Events calls each for the job's Server-Sent Events (GET /v1/jobs/{jobId}/events) until the job ends.
func (s *JobsService) Events(ctx context.Context, jobID string, each func(Event) error) error {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, s.client.BaseURL+"/v1/jobs/"+url.PathEscape(jobID)+"/events", nil)
	if err != nil {
		return err
	}
	s.client.sign(request.Header)
	request.Header.Set("Accept", "text/event-stream")
	stream := *s.client.HTTP
	stream.Timeout = 0 // the stream lasts as long as the job; ctx ends it sooner
	response, err := stream.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	if response.StatusCode >= 300 {
		raw, _ := io.ReadAll(response.Body)
		return problem(response.StatusCode, response.Status, raw)
	}
	event, data := Event{Event: "message"}, ""
	lines := bufio.NewScanner(response.Body)
	lines.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for lines.Scan() {
		line := strings.TrimRight(lines.Text(), "\r")
		if line == "" {
			if data != "" {
				if err := json.Unmarshal([]byte(data), &event.Data); err != nil {
					return err
				}
				if err := each(event); err != nil {
					return err
				}
			}
			event, data = Event{Event: "message"}, ""
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "data":
			if data != "" {
				data += "\n"
			}
			data += value
		case "event":
			event.Event = value
		case "id":
			event.ID = value
		}
	}
	return lines.Err()
}

// Upload sends bytes as an asset: init, PUT to the signed Blob Storage link, complete; returns the ready asset.
func (s *AssetsService) Upload(ctx context.Context, data []byte, filename, contentType string) (Object, error) {
	ticket, err := s.Init(ctx, Object{"filename": filename, "size_bytes": len(data), "content_type": contentType})
	if err != nil {
		return nil, err
	}
	uploadURL, _ := ticket["upload_url"].(string)
	method, _ := ticket["upload_method"].(string)
	put, err := http.NewRequestWithContext(ctx, firstOf(method, http.MethodPut), uploadURL, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	headers, _ := ticket["upload_headers"].(Object)
	for key, value := range headers {
		put.Header.Set(key, fmt.Sprint(value))
	}
	response, err := s.client.HTTP.Do(put)
	if err != nil {
		return nil, err
	}
	raw, _ := io.ReadAll(response.Body)
	response.Body.Close()
	if response.StatusCode >= 300 {
		return nil, &Error{Status: response.StatusCode, Title: "Upload to storage failed", Detail: string(raw)}
	}
	asset, _ := ticket["asset"].(Object)
	return s.Complete(ctx, Object{"asset_id": asset["id"]})
}

// VerifyWebhook checks a delivery's Fenta-Signature header (t=<unix>,v1=<hex>): HMAC-SHA256 with the webhook's secret
// over "<t>.<raw body>", at most tolerance old. Pass the raw body, before any JSON decoding.
func VerifyWebhook(rawBody []byte, header, secret string, tolerance time.Duration, now time.Time) bool {
	parts := map[string]string{}
	for _, part := range strings.Split(header, ",") {
		if key, value, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
			parts[key] = value
		}
	}
	timestamp, err := strconv.ParseInt(parts["t"], 10, 64)
	given, hexErr := hex.DecodeString(parts["v1"])
	if err != nil || hexErr != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts["t"] + "."))
	mac.Write(rawBody)
	age := now.Sub(time.Unix(timestamp, 0))
	return hmac.Equal(given, mac.Sum(nil)) && age <= tolerance && age >= -tolerance
}

func (c *Client) sign(header http.Header) {
	header.Set("Accept", "application/json")
	header.Set("User-Agent", "fentaweb-go/"+Version)
	if c.APIKey != "" {
		header.Set("Authorization", "Bearer "+c.APIKey)
	}
	if c.OrgID != "" {
		header.Set("X-Org-Id", c.OrgID)
	}
}

func problem(status int, statusText string, raw []byte) error {
	answer := &Error{Status: status}
	if json.Unmarshal(raw, &answer.Problem) != nil {
		answer.Title, answer.Detail = statusText, string(raw)
		return answer
	}
	answer.Code, _ = answer.Problem["code"].(string)
	answer.Title, _ = answer.Problem["title"].(string)
	answer.Detail, _ = answer.Problem["detail"].(string)
	if list, ok := answer.Problem["errors"]; ok {
		encoded, _ := json.Marshal(list)
		_ = json.Unmarshal(encoded, &answer.Errors)
	}
	return answer
}

// AsError returns the API's answer inside err, if it is one.
func AsError(err error) (*Error, bool) {
	var answer *Error
	ok := errors.As(err, &answer)
	return answer, ok
}

func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func backoff(attempt int) time.Duration {
	base := math.Min(500*math.Pow(2, float64(attempt)), 8000)
	return time.Duration(base*(0.8+mathrand.Float64()*0.4)) * time.Millisecond
}

// sleep waits d unless ctx ends first; it says whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func firstOf(values ...string) string {
	for _, value := range values {
		if value != "" {
			return value
		}
	}
	return ""
}
