// The API's operations, one method each. Operations is the table the tests check against the OpenAPI document;
// TestEveryOperationIsAMethod checks that each entry has its method here.

package fentaweb

import "context"

// Operations maps resource.method to "VERB /path" for every endpoint a client calls.
var Operations = map[string]map[string]string{
	"auth": {
		"register":             "POST /v1/auth/register",
		"login":                "POST /v1/auth/login",
		"refresh":              "POST /v1/auth/refresh",
		"logout":               "POST /v1/auth/logout",
		"me":                   "GET /v1/auth/me",
		"sendVerification":     "POST /v1/auth/verify-email/send",
		"verifyEmail":          "POST /v1/auth/verify-email",
		"requestPasswordReset": "POST /v1/auth/password-reset",
		"confirmPasswordReset": "POST /v1/auth/password-reset/confirm",
	},
	"org": {
		"get":              "GET /v1/org",
		"listMembers":      "GET /v1/org/members",
		"invite":           "POST /v1/org/members",
		"changeRole":       "PATCH /v1/org/members/{memberId}",
		"removeMember":     "DELETE /v1/org/members/{memberId}",
		"listInvitations":  "GET /v1/org/invitations",
		"cancelInvitation": "DELETE /v1/org/invitations/{invitationId}",
		"acceptInvitation": "POST /v1/invitations/{token}/accept",
	},
	"apiKeys": {
		"create": "POST /v1/api-keys",
		"list":   "GET /v1/api-keys",
		"get":    "GET /v1/api-keys/{keyId}",
		"revoke": "DELETE /v1/api-keys/{keyId}",
		"roll":   "POST /v1/api-keys/{keyId}/roll",
	},
	"templates": {
		"create": "POST /v1/templates",
		"list":   "GET /v1/templates",
		"get":    "GET /v1/templates/{templateId}",
		"update": "PATCH /v1/templates/{templateId}",
		"delete": "DELETE /v1/templates/{templateId}",
		"copy":   "POST /v1/templates/{templateId}/copy",
	},
	"workflows": {
		"create":       "POST /v1/workflows",
		"list":         "GET /v1/workflows",
		"get":          "GET /v1/workflows/{workflowId}",
		"update":       "PATCH /v1/workflows/{workflowId}",
		"delete":       "DELETE /v1/workflows/{workflowId}",
		"listVersions": "GET /v1/workflows/{workflowId}/versions",
		"getVersion":   "GET /v1/workflows/{workflowId}/versions/{version}",
		"estimate":     "POST /v1/workflows/{workflowId}/estimate",
		"run":          "POST /v1/workflows/{workflowId}/run",
	},
	"nodes": {
		"list": "GET /v1/nodes",
	},
	"voices": {
		"list": "GET /v1/voices",
	},
	"models": {
		"list": "GET /v1/models",
		"get":  "GET /v1/models/{modelId}",
	},
	"jobs": {
		"create":   "POST /v1/jobs",
		"estimate": "POST /v1/jobs/estimate",
		"list":     "GET /v1/jobs",
		"get":      "GET /v1/jobs/{jobId}",
		"cancel":   "POST /v1/jobs/{jobId}/cancel",
		"retry":    "POST /v1/jobs/{jobId}/retry",
		"logs":     "GET /v1/jobs/{jobId}/logs",
		"events":   "GET /v1/jobs/{jobId}/events",
	},
	"generations": {
		"generateImage": "POST /v1/kai/generate-image",
		"generateVideo": "POST /v1/kai/generate-video",
		"editVideo":     "POST /v1/kai/edit-video",
		"generateMusic": "POST /v1/kai/generate-music",
		"list":          "GET /v1/kai/generations",
		"get":           "GET /v1/kai/generations/{generationId}",
	},
	"assets": {
		"init":        "POST /v1/assets/init",
		"complete":    "POST /v1/assets/complete",
		"searchStock": "GET /v1/assets/stock/search",
		"list":        "GET /v1/assets",
		"get":         "GET /v1/assets/{assetId}",
		"delete":      "DELETE /v1/assets/{assetId}",
	},
	"schedules": {
		"create": "POST /v1/schedules",
		"list":   "GET /v1/schedules",
		"get":    "GET /v1/schedules/{scheduleId}",
		"update": "PATCH /v1/schedules/{scheduleId}",
		"delete": "DELETE /v1/schedules/{scheduleId}",
	},
	"webhooks": {
		"create":         "POST /v1/webhooks",
		"list":           "GET /v1/webhooks",
		"get":            "GET /v1/webhooks/{webhookId}",
		"update":         "PATCH /v1/webhooks/{webhookId}",
		"delete":         "DELETE /v1/webhooks/{webhookId}",
		"rotateSecret":   "POST /v1/webhooks/{webhookId}/rotate-secret",
		"ping":           "POST /v1/webhooks/{webhookId}/ping",
		"listDeliveries": "GET /v1/webhooks/{webhookId}/deliveries",
		"redeliver":      "POST /v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
	},
	"usage": {
		"get":   "GET /v1/usage",
		"quota": "GET /v1/usage/quota",
	},
	"billing": {
		"get":      "GET /v1/billing",
		"invoices": "GET /v1/billing/invoices",
		"checkout": "POST /v1/billing/checkout",
		"portal":   "POST /v1/billing/portal",
	},
	"enrichment": {
		"generate": "POST /v1/enrichment/generate",
	},
	"integrations": {
		"platforms":  "GET /v1/integrations/platforms",
		"list":       "GET /v1/integrations",
		"get":        "GET /v1/integrations/{integrationId}",
		"connect":    "POST /v1/integrations/{platform}/connect",
		"callback":   "GET /v1/integrations/{platform}/callback",
		"options":    "GET /v1/integrations/{integrationId}/options",
		"disconnect": "DELETE /v1/integrations/{integrationId}",
	},
	"publications": {
		"publish": "POST /v1/jobs/{jobId}/publish",
		"list":    "GET /v1/publications",
		"get":     "GET /v1/publications/{publicationId}",
		"cancel":  "POST /v1/publications/{publicationId}/cancel",
	},
	"shareLinks": {
		"create": "POST /v1/share-links",
		"list":   "GET /v1/share-links",
		"get":    "GET /v1/share-links/{linkId}",
		"revoke": "DELETE /v1/share-links/{linkId}",
	},
	"analytics": {
		"overview":  "GET /v1/analytics/overview",
		"videos":    "GET /v1/analytics/videos",
		"platforms": "GET /v1/analytics/platforms",
	},
	"storyboards": {
		"create":          "POST /v1/storyboards",
		"list":            "GET /v1/storyboards",
		"get":             "GET /v1/storyboards/{storyboardId}",
		"update":          "PATCH /v1/storyboards/{storyboardId}",
		"delete":          "DELETE /v1/storyboards/{storyboardId}",
		"addScene":        "POST /v1/storyboards/{storyboardId}/scenes",
		"updateScene":     "PATCH /v1/storyboards/{storyboardId}/scenes/{n}",
		"deleteScene":     "DELETE /v1/storyboards/{storyboardId}/scenes/{n}",
		"regenerateScene": "POST /v1/storyboards/{storyboardId}/scenes/{n}/regenerate",
		"render":          "POST /v1/storyboards/{storyboardId}/render",
	},
}

// AuthService holds the auth operations.
type AuthService struct{ client *Client }

// Register calls POST /v1/auth/register.
func (s *AuthService) Register(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "auth.register", []string{}, body, opts)
}

// Login calls POST /v1/auth/login.
func (s *AuthService) Login(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "auth.login", []string{}, body, opts)
}

// Refresh calls POST /v1/auth/refresh.
func (s *AuthService) Refresh(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "auth.refresh", []string{}, body, opts)
}

// Logout calls POST /v1/auth/logout.
func (s *AuthService) Logout(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "auth.logout", []string{}, body, opts)
}

// Me calls GET /v1/auth/me.
func (s *AuthService) Me(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "auth.me", []string{}, nil, opts)
}

// SendVerification calls POST /v1/auth/verify-email/send.
func (s *AuthService) SendVerification(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "auth.sendVerification", []string{}, body, opts)
}

// VerifyEmail calls POST /v1/auth/verify-email.
func (s *AuthService) VerifyEmail(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "auth.verifyEmail", []string{}, body, opts)
}

// RequestPasswordReset calls POST /v1/auth/password-reset.
func (s *AuthService) RequestPasswordReset(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "auth.requestPasswordReset", []string{}, body, opts)
}

// ConfirmPasswordReset calls POST /v1/auth/password-reset/confirm.
func (s *AuthService) ConfirmPasswordReset(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "auth.confirmPasswordReset", []string{}, body, opts)
}

// OrgService holds the org operations.
type OrgService struct{ client *Client }

// Get calls GET /v1/org.
func (s *OrgService) Get(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "org.get", []string{}, nil, opts)
}

// ListMembers calls GET /v1/org/members.
func (s *OrgService) ListMembers(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "org.listMembers", []string{}, nil, opts)
}

// Invite calls POST /v1/org/members.
func (s *OrgService) Invite(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "org.invite", []string{}, body, opts)
}

// ChangeRole calls PATCH /v1/org/members/{memberId}.
func (s *OrgService) ChangeRole(ctx context.Context, memberID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "org.changeRole", []string{memberID}, body, opts)
}

// RemoveMember calls DELETE /v1/org/members/{memberId}.
func (s *OrgService) RemoveMember(ctx context.Context, memberID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "org.removeMember", []string{memberID}, nil, opts)
}

// ListInvitations calls GET /v1/org/invitations.
func (s *OrgService) ListInvitations(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "org.listInvitations", []string{}, nil, opts)
}

// CancelInvitation calls DELETE /v1/org/invitations/{invitationId}.
func (s *OrgService) CancelInvitation(ctx context.Context, invitationID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "org.cancelInvitation", []string{invitationID}, nil, opts)
}

// AcceptInvitation calls POST /v1/invitations/{token}/accept.
func (s *OrgService) AcceptInvitation(ctx context.Context, token string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "org.acceptInvitation", []string{token}, body, opts)
}

// APIKeysService holds the apiKeys operations.
type APIKeysService struct{ client *Client }

// Create calls POST /v1/api-keys.
func (s *APIKeysService) Create(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "apiKeys.create", []string{}, body, opts)
}

// List calls GET /v1/api-keys.
func (s *APIKeysService) List(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "apiKeys.list", []string{}, nil, opts)
}

// Get calls GET /v1/api-keys/{keyId}.
func (s *APIKeysService) Get(ctx context.Context, keyID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "apiKeys.get", []string{keyID}, nil, opts)
}

// Revoke calls DELETE /v1/api-keys/{keyId}.
func (s *APIKeysService) Revoke(ctx context.Context, keyID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "apiKeys.revoke", []string{keyID}, nil, opts)
}

// Roll calls POST /v1/api-keys/{keyId}/roll.
func (s *APIKeysService) Roll(ctx context.Context, keyID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "apiKeys.roll", []string{keyID}, body, opts)
}

// TemplatesService holds the templates operations.
type TemplatesService struct{ client *Client }

// Create calls POST /v1/templates.
func (s *TemplatesService) Create(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "templates.create", []string{}, body, opts)
}

// List calls GET /v1/templates.
func (s *TemplatesService) List(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "templates.list", []string{}, nil, opts)
}

// Get calls GET /v1/templates/{templateId}.
func (s *TemplatesService) Get(ctx context.Context, templateID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "templates.get", []string{templateID}, nil, opts)
}

// Update calls PATCH /v1/templates/{templateId}.
func (s *TemplatesService) Update(ctx context.Context, templateID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "templates.update", []string{templateID}, body, opts)
}

// Delete calls DELETE /v1/templates/{templateId}.
func (s *TemplatesService) Delete(ctx context.Context, templateID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "templates.delete", []string{templateID}, nil, opts)
}

// Copy calls POST /v1/templates/{templateId}/copy.
func (s *TemplatesService) Copy(ctx context.Context, templateID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "templates.copy", []string{templateID}, body, opts)
}

// WorkflowsService holds the workflows operations.
type WorkflowsService struct{ client *Client }

// Create calls POST /v1/workflows.
func (s *WorkflowsService) Create(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "workflows.create", []string{}, body, opts)
}

// List calls GET /v1/workflows.
func (s *WorkflowsService) List(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "workflows.list", []string{}, nil, opts)
}

// Get calls GET /v1/workflows/{workflowId}.
func (s *WorkflowsService) Get(ctx context.Context, workflowID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "workflows.get", []string{workflowID}, nil, opts)
}

// Update calls PATCH /v1/workflows/{workflowId}.
func (s *WorkflowsService) Update(ctx context.Context, workflowID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "workflows.update", []string{workflowID}, body, opts)
}

// Delete calls DELETE /v1/workflows/{workflowId}.
func (s *WorkflowsService) Delete(ctx context.Context, workflowID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "workflows.delete", []string{workflowID}, nil, opts)
}

// ListVersions calls GET /v1/workflows/{workflowId}/versions.
func (s *WorkflowsService) ListVersions(ctx context.Context, workflowID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "workflows.listVersions", []string{workflowID}, nil, opts)
}

// GetVersion calls GET /v1/workflows/{workflowId}/versions/{version}.
func (s *WorkflowsService) GetVersion(ctx context.Context, workflowID string, version string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "workflows.getVersion", []string{workflowID, version}, nil, opts)
}

// Estimate calls POST /v1/workflows/{workflowId}/estimate.
func (s *WorkflowsService) Estimate(ctx context.Context, workflowID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "workflows.estimate", []string{workflowID}, body, opts)
}

// Run calls POST /v1/workflows/{workflowId}/run.
func (s *WorkflowsService) Run(ctx context.Context, workflowID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "workflows.run", []string{workflowID}, body, opts)
}

// NodesService holds the nodes operations.
type NodesService struct{ client *Client }

// List calls GET /v1/nodes.
func (s *NodesService) List(ctx context.Context, opts ...CallOption) ([]Object, error) {
	return s.client.callList(ctx, "nodes.list", []string{}, opts)
}

// VoicesService holds the voices operations.
type VoicesService struct{ client *Client }

// List calls GET /v1/voices.
func (s *VoicesService) List(ctx context.Context, opts ...CallOption) ([]Object, error) {
	return s.client.callList(ctx, "voices.list", []string{}, opts)
}

// ModelsService holds the models operations.
type ModelsService struct{ client *Client }

// List calls GET /v1/models.
func (s *ModelsService) List(ctx context.Context, opts ...CallOption) ([]Object, error) {
	return s.client.callList(ctx, "models.list", []string{}, opts)
}

// Get calls GET /v1/models/{modelId}.
func (s *ModelsService) Get(ctx context.Context, modelID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "models.get", []string{modelID}, nil, opts)
}

// JobsService holds the jobs operations.
type JobsService struct{ client *Client }

// Create calls POST /v1/jobs.
func (s *JobsService) Create(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "jobs.create", []string{}, body, opts)
}

// Estimate calls POST /v1/jobs/estimate.
func (s *JobsService) Estimate(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "jobs.estimate", []string{}, body, opts)
}

// List calls GET /v1/jobs.
func (s *JobsService) List(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "jobs.list", []string{}, nil, opts)
}

// Get calls GET /v1/jobs/{jobId}.
func (s *JobsService) Get(ctx context.Context, jobID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "jobs.get", []string{jobID}, nil, opts)
}

// Cancel calls POST /v1/jobs/{jobId}/cancel.
func (s *JobsService) Cancel(ctx context.Context, jobID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "jobs.cancel", []string{jobID}, body, opts)
}

// Retry calls POST /v1/jobs/{jobId}/retry.
func (s *JobsService) Retry(ctx context.Context, jobID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "jobs.retry", []string{jobID}, body, opts)
}

// Logs calls GET /v1/jobs/{jobId}/logs.
func (s *JobsService) Logs(ctx context.Context, jobID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "jobs.logs", []string{jobID}, nil, opts)
}

// GenerationsService holds the generations operations.
type GenerationsService struct{ client *Client }

// GenerateImage calls POST /v1/kai/generate-image.
func (s *GenerationsService) GenerateImage(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "generations.generateImage", []string{}, body, opts)
}

// GenerateVideo calls POST /v1/kai/generate-video.
func (s *GenerationsService) GenerateVideo(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "generations.generateVideo", []string{}, body, opts)
}

// EditVideo calls POST /v1/kai/edit-video.
func (s *GenerationsService) EditVideo(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "generations.editVideo", []string{}, body, opts)
}

// GenerateMusic calls POST /v1/kai/generate-music.
func (s *GenerationsService) GenerateMusic(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "generations.generateMusic", []string{}, body, opts)
}

// List calls GET /v1/kai/generations.
func (s *GenerationsService) List(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "generations.list", []string{}, nil, opts)
}

// Get calls GET /v1/kai/generations/{generationId}.
func (s *GenerationsService) Get(ctx context.Context, generationID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "generations.get", []string{generationID}, nil, opts)
}

// AssetsService holds the assets operations.
type AssetsService struct{ client *Client }

// Init calls POST /v1/assets/init.
func (s *AssetsService) Init(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "assets.init", []string{}, body, opts)
}

// Complete calls POST /v1/assets/complete.
func (s *AssetsService) Complete(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "assets.complete", []string{}, body, opts)
}

// SearchStock calls GET /v1/assets/stock/search.
func (s *AssetsService) SearchStock(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "assets.searchStock", []string{}, nil, opts)
}

// List calls GET /v1/assets.
func (s *AssetsService) List(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "assets.list", []string{}, nil, opts)
}

// Get calls GET /v1/assets/{assetId}.
func (s *AssetsService) Get(ctx context.Context, assetID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "assets.get", []string{assetID}, nil, opts)
}

// Delete calls DELETE /v1/assets/{assetId}.
func (s *AssetsService) Delete(ctx context.Context, assetID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "assets.delete", []string{assetID}, nil, opts)
}

// SchedulesService holds the schedules operations.
type SchedulesService struct{ client *Client }

// Create calls POST /v1/schedules.
func (s *SchedulesService) Create(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "schedules.create", []string{}, body, opts)
}

// List calls GET /v1/schedules.
func (s *SchedulesService) List(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "schedules.list", []string{}, nil, opts)
}

// Get calls GET /v1/schedules/{scheduleId}.
func (s *SchedulesService) Get(ctx context.Context, scheduleID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "schedules.get", []string{scheduleID}, nil, opts)
}

// Update calls PATCH /v1/schedules/{scheduleId}.
func (s *SchedulesService) Update(ctx context.Context, scheduleID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "schedules.update", []string{scheduleID}, body, opts)
}

// Delete calls DELETE /v1/schedules/{scheduleId}.
func (s *SchedulesService) Delete(ctx context.Context, scheduleID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "schedules.delete", []string{scheduleID}, nil, opts)
}

// WebhooksService holds the webhooks operations.
type WebhooksService struct{ client *Client }

// Create calls POST /v1/webhooks.
func (s *WebhooksService) Create(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "webhooks.create", []string{}, body, opts)
}

// List calls GET /v1/webhooks.
func (s *WebhooksService) List(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "webhooks.list", []string{}, nil, opts)
}

// Get calls GET /v1/webhooks/{webhookId}.
func (s *WebhooksService) Get(ctx context.Context, webhookID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "webhooks.get", []string{webhookID}, nil, opts)
}

// Update calls PATCH /v1/webhooks/{webhookId}.
func (s *WebhooksService) Update(ctx context.Context, webhookID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "webhooks.update", []string{webhookID}, body, opts)
}

// Delete calls DELETE /v1/webhooks/{webhookId}.
func (s *WebhooksService) Delete(ctx context.Context, webhookID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "webhooks.delete", []string{webhookID}, nil, opts)
}

// RotateSecret calls POST /v1/webhooks/{webhookId}/rotate-secret.
func (s *WebhooksService) RotateSecret(ctx context.Context, webhookID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "webhooks.rotateSecret", []string{webhookID}, body, opts)
}

// Ping calls POST /v1/webhooks/{webhookId}/ping.
func (s *WebhooksService) Ping(ctx context.Context, webhookID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "webhooks.ping", []string{webhookID}, body, opts)
}

// ListDeliveries calls GET /v1/webhooks/{webhookId}/deliveries.
func (s *WebhooksService) ListDeliveries(ctx context.Context, webhookID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "webhooks.listDeliveries", []string{webhookID}, nil, opts)
}

// Redeliver calls POST /v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver.
func (s *WebhooksService) Redeliver(ctx context.Context, webhookID string, deliveryID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "webhooks.redeliver", []string{webhookID, deliveryID}, body, opts)
}

// UsageService holds the usage operations.
type UsageService struct{ client *Client }

// Get calls GET /v1/usage.
func (s *UsageService) Get(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "usage.get", []string{}, nil, opts)
}

// Quota calls GET /v1/usage/quota.
func (s *UsageService) Quota(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "usage.quota", []string{}, nil, opts)
}

// BillingService holds the billing operations.
type BillingService struct{ client *Client }

// Get calls GET /v1/billing.
func (s *BillingService) Get(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "billing.get", []string{}, nil, opts)
}

// Invoices calls GET /v1/billing/invoices.
func (s *BillingService) Invoices(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "billing.invoices", []string{}, nil, opts)
}

// Checkout calls POST /v1/billing/checkout.
func (s *BillingService) Checkout(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "billing.checkout", []string{}, body, opts)
}

// Portal calls POST /v1/billing/portal.
func (s *BillingService) Portal(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "billing.portal", []string{}, body, opts)
}

// EnrichmentService holds the enrichment operations.
type EnrichmentService struct{ client *Client }

// Generate calls POST /v1/enrichment/generate.
func (s *EnrichmentService) Generate(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "enrichment.generate", []string{}, body, opts)
}

// IntegrationsService holds the integrations operations: accounts connected on YouTube, TikTok and Instagram.
type IntegrationsService struct{ client *Client }

// Platforms calls GET /v1/integrations/platforms: each platform, whether it is configured (else the setting it
// lacks), the scopes asked for and the videos it takes.
func (s *IntegrationsService) Platforms(ctx context.Context, opts ...CallOption) ([]Object, error) {
	return s.client.callList(ctx, "integrations.platforms", []string{}, opts)
}

// List calls GET /v1/integrations.
func (s *IntegrationsService) List(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "integrations.list", []string{}, nil, opts)
}

// Get calls GET /v1/integrations/{integrationId}.
func (s *IntegrationsService) Get(ctx context.Context, integrationID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "integrations.get", []string{integrationID}, nil, opts)
}

// Connect calls POST /v1/integrations/{platform}/connect: the answer's authorization_url is where to send the person.
func (s *IntegrationsService) Connect(ctx context.Context, platform string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "integrations.connect", []string{platform}, body, opts)
}

// Callback calls GET /v1/integrations/{platform}/callback with the code and state of the platform's redirect
// (WithQuery); a browser follows that redirect itself.
func (s *IntegrationsService) Callback(ctx context.Context, platform string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "integrations.callback", []string{platform}, nil, opts)
}

// Options calls GET /v1/integrations/{integrationId}/options: what the account may post now.
func (s *IntegrationsService) Options(ctx context.Context, integrationID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "integrations.options", []string{integrationID}, nil, opts)
}

// Disconnect calls DELETE /v1/integrations/{integrationId}.
func (s *IntegrationsService) Disconnect(ctx context.Context, integrationID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "integrations.disconnect", []string{integrationID}, nil, opts)
}

// PublicationsService holds the publications operations.
type PublicationsService struct{ client *Client }

// Publish calls POST /v1/jobs/{jobId}/publish: a completed job's video to connected accounts (202, the publication).
func (s *PublicationsService) Publish(ctx context.Context, jobID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "publications.publish", []string{jobID}, body, opts)
}

// List calls GET /v1/publications.
func (s *PublicationsService) List(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "publications.list", []string{}, nil, opts)
}

// Get calls GET /v1/publications/{publicationId}.
func (s *PublicationsService) Get(ctx context.Context, publicationID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "publications.get", []string{publicationID}, nil, opts)
}

// Cancel calls POST /v1/publications/{publicationId}/cancel.
func (s *PublicationsService) Cancel(ctx context.Context, publicationID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "publications.cancel", []string{publicationID}, body, opts)
}

// ShareLinksService holds the shareLinks operations: public pages (/s/{token}) of a job's video or an asset.
type ShareLinksService struct{ client *Client }

// Create calls POST /v1/share-links: a link for a completed job's video (job_id) or an asset (asset_id), with its url.
func (s *ShareLinksService) Create(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "shareLinks.create", []string{}, body, opts)
}

// List calls GET /v1/share-links (query job_id, asset_id).
func (s *ShareLinksService) List(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "shareLinks.list", []string{}, nil, opts)
}

// Get calls GET /v1/share-links/{linkId}.
func (s *ShareLinksService) Get(ctx context.Context, linkID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "shareLinks.get", []string{linkID}, nil, opts)
}

// Revoke calls DELETE /v1/share-links/{linkId}: its page answers 410 from now on (idempotent).
func (s *ShareLinksService) Revoke(ctx context.Context, linkID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "shareLinks.revoke", []string{linkID}, nil, opts)
}

// AnalyticsService holds the analytics operations (query from and to: ISO 8601; the last 30 days by default).
type AnalyticsService struct{ client *Client }

// Overview calls GET /v1/analytics/overview.
func (s *AnalyticsService) Overview(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "analytics.overview", []string{}, nil, opts)
}

// Videos calls GET /v1/analytics/videos.
func (s *AnalyticsService) Videos(ctx context.Context, opts ...CallOption) ([]Object, error) {
	return s.client.callList(ctx, "analytics.videos", []string{}, opts)
}

// Platforms calls GET /v1/analytics/platforms.
func (s *AnalyticsService) Platforms(ctx context.Context, opts ...CallOption) ([]Object, error) {
	return s.client.callList(ctx, "analytics.platforms", []string{}, opts)
}

// StoryboardsService holds the storyboards operations ({n} is a scene's 1-based position).
type StoryboardsService struct{ client *Client }

// Create calls POST /v1/storyboards.
func (s *StoryboardsService) Create(ctx context.Context, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "storyboards.create", []string{}, body, opts)
}

// List calls GET /v1/storyboards.
func (s *StoryboardsService) List(ctx context.Context, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "storyboards.list", []string{}, nil, opts)
}

// Get calls GET /v1/storyboards/{storyboardId}.
func (s *StoryboardsService) Get(ctx context.Context, storyboardID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "storyboards.get", []string{storyboardID}, nil, opts)
}

// Update calls PATCH /v1/storyboards/{storyboardId}.
func (s *StoryboardsService) Update(ctx context.Context, storyboardID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "storyboards.update", []string{storyboardID}, body, opts)
}

// Delete calls DELETE /v1/storyboards/{storyboardId}.
func (s *StoryboardsService) Delete(ctx context.Context, storyboardID string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "storyboards.delete", []string{storyboardID}, nil, opts)
}

// AddScene calls POST /v1/storyboards/{storyboardId}/scenes.
func (s *StoryboardsService) AddScene(ctx context.Context, storyboardID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "storyboards.addScene", []string{storyboardID}, body, opts)
}

// UpdateScene calls PATCH /v1/storyboards/{storyboardId}/scenes/{n}.
func (s *StoryboardsService) UpdateScene(ctx context.Context, storyboardID string, n string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "storyboards.updateScene", []string{storyboardID, n}, body, opts)
}

// DeleteScene calls DELETE /v1/storyboards/{storyboardId}/scenes/{n}.
func (s *StoryboardsService) DeleteScene(ctx context.Context, storyboardID string, n string, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "storyboards.deleteScene", []string{storyboardID, n}, nil, opts)
}

// RegenerateScene calls POST /v1/storyboards/{storyboardId}/scenes/{n}/regenerate.
func (s *StoryboardsService) RegenerateScene(ctx context.Context, storyboardID string, n string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "storyboards.regenerateScene", []string{storyboardID, n}, body, opts)
}

// Render calls POST /v1/storyboards/{storyboardId}/render.
func (s *StoryboardsService) Render(ctx context.Context, storyboardID string, body any, opts ...CallOption) (Object, error) {
	return s.client.call(ctx, "storyboards.render", []string{storyboardID}, body, opts)
}
