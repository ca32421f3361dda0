package auth

import (
	"net/http"
	"slices"

	"github.com/teeup/teeup/tam/store"
)

// Route is one HTTP route of the TAM and who may call it. Its Name is the
// action the audit trail records.
type Route struct {
	Name    string
	Method  string
	Pattern string
	// Public routes take no credentials: the TEEP endpoint (its messages
	// are signed), payloads (integrity from the manifests), the TAM's
	// public key, and the login itself.
	Public bool
	// Roles are the roles allowed on a route that is not public; holding
	// any one of them is enough.
	Roles []store.Role
	// MaxBody bounds the request body (limits.go).
	MaxBody int64
	// RateLimited routes are throttled per source (Config.TEEPRate, or
	// Config.LoginRate for the login).
	RateLimited bool
	// Page routes are pages a browser opens: a GET of one that accepts
	// HTML, made without a live login or a token, is sent to the login
	// page (303) instead of answered 401.
	Page bool
}

// The route names: the actions of the audit trail.
const (
	RouteTEEP        = "teep"
	RoutePoll        = "poll"
	RoutePayload     = "payload"
	RouteTAMKey      = "tam-key"
	RouteAuthorAdd   = "author.add"
	RouteAuthorList  = "author.list"
	RoutePublish     = "publish"
	RoutePersonalize = "personalize"
	RouteDeviceAdd   = "device.add"
	RouteDeviceList  = "device.list"
	RouteStatus      = "status"
	RouteUserAdd     = "user.add"
	RouteTokenCreate = "token.create"
	RouteTokenRevoke = "token.revoke"
	RouteAudit       = "audit.list"
	// Issue 15's fleet: groups, releases, rollouts, device tags, metrics.
	RouteGroupAdd        = "group.add"
	RouteGroupList       = "group.list"
	RouteGroupGet        = "group.get"
	RouteReleaseAdd      = "release.add"
	RouteReleaseList     = "release.list"
	RouteRolloutCreate   = "rollout.create"
	RouteRolloutList     = "rollout.list"
	RouteRolloutGet      = "rollout.get"
	RouteRolloutProgress = "rollout.progress"
	RouteRolloutDevices  = "rollout.deliveries"
	RouteRolloutPause    = "rollout.pause"
	RouteRolloutResume   = "rollout.resume"
	RouteRolloutCancel   = "rollout.cancel"
	RouteDeviceTagsSet   = "device.tags.set"
	RouteDeviceTagsGet   = "device.tags.get"
	RouteMetrics         = "metrics"
	RouteLoginPage       = "login.page"
	RouteLogin           = "login"
	RouteLogout          = "logout"
	// Issue 15's dashboard (tam/dashboard): pages viewers read, buttons
	// operators press (POST forms with the session's CSRF token).
	RouteDashboard        = "dashboard"
	RouteDashboardAsset   = "dashboard.asset"
	RouteDashboardRollout = "dashboard.rollout"
	RouteDashboardDevice  = "dashboard.device"
	RouteDashboardPause   = "dashboard.rollout.pause"
	RouteDashboardResume  = "dashboard.rollout.resume"
	RouteDashboardCancel  = "dashboard.rollout.cancel"
)

// The routes of TA withdrawals: the TAM tells devices to unlink a TA.
const (
	RouteWithdrawalAdd    = "withdrawal.add"
	RouteWithdrawalList   = "withdrawal.list"
	RouteWithdrawalCancel = "withdrawal.cancel"
)

var (
	operator = []store.Role{store.RoleOperator}
	readers  = []store.Role{store.RoleOperator, store.RoleViewer}
	authors  = []store.Role{store.RoleTAAuthor, store.RoleFirmwareAuthor}
	everyone = []store.Role{store.RoleTAAuthor, store.RoleFirmwareAuthor, store.RoleOperator, store.RoleViewer}
)

// withdrawers take a TA off the fleet: an operator any TA, a TA author
// only its own (the handler scopes it to its author's prefixes, as
// publish does: withdrawing is the inverse of publishing, a power the
// author holds over its TA already; see tam/catalog/withdraw.go).
// Firmware authors withdraw nothing: firmware is never withdrawn.
var withdrawers = []store.Role{store.RoleOperator, store.RoleTAAuthor}

// Routes is the policy: every route of the TAM, in one table, so that the
// route × role test iterates the same table the server is built from.
// A handler is registered only through Gate.Handle, which finds its route
// here by name.
var Routes = []Route{
	{Name: RouteTEEP, Method: http.MethodPost, Pattern: "/tam", Public: true, MaxBody: MaxTEEPBody, RateLimited: true},
	{Name: RoutePoll, Method: http.MethodGet, Pattern: "/tam/poll", Public: true, MaxBody: MaxNoBody, RateLimited: true},
	{Name: RoutePayload, Method: http.MethodGet, Pattern: "/payloads/{digest}", Public: true, MaxBody: MaxNoBody},
	{Name: RouteTAMKey, Method: http.MethodGet, Pattern: "/api/v1/tam-key", Public: true, MaxBody: MaxNoBody},

	{Name: RouteAuthorAdd, Method: http.MethodPost, Pattern: "/api/v1/authors", Roles: operator, MaxBody: MaxJSONBody},
	{Name: RouteAuthorList, Method: http.MethodGet, Pattern: "/api/v1/authors", Roles: readers, MaxBody: MaxNoBody},
	// The publish handler scopes to the principal's own author.
	{Name: RoutePublish, Method: http.MethodPost, Pattern: "/api/v1/publish", Roles: authors, MaxBody: MaxPublishBody},
	{Name: RoutePersonalize, Method: http.MethodPost, Pattern: "/api/v1/personalize", Roles: operator, MaxBody: MaxPersonalizeBody},
	{Name: RouteDeviceAdd, Method: http.MethodPost, Pattern: "/api/v1/devices", Roles: operator, MaxBody: MaxDeviceBody},
	{Name: RouteDeviceList, Method: http.MethodGet, Pattern: "/api/v1/devices", Roles: readers, MaxBody: MaxNoBody},
	{Name: RouteStatus, Method: http.MethodGet, Pattern: "/api/v1/status", Roles: readers, MaxBody: MaxNoBody},

	{Name: RouteUserAdd, Method: http.MethodPost, Pattern: "/api/v1/users", Roles: operator, MaxBody: MaxJSONBody},
	{Name: RouteTokenCreate, Method: http.MethodPost, Pattern: "/api/v1/tokens", Roles: operator, MaxBody: MaxJSONBody},
	{Name: RouteTokenRevoke, Method: http.MethodPost, Pattern: "/api/v1/tokens/{id}/revoke", Roles: operator, MaxBody: MaxNoBody},
	{Name: RouteAudit, Method: http.MethodGet, Pattern: "/api/v1/audit", Roles: operator, MaxBody: MaxNoBody},

	// The fleet (issue 15): operators change, viewers read. The metrics
	// are read like the status: fleet size, appraisal failures and
	// rollout timing are the operator's business, not the public's (a
	// scraper holds a viewer token).
	{Name: RouteGroupAdd, Method: http.MethodPost, Pattern: "/api/v1/groups", Roles: operator, MaxBody: MaxFleetBody},
	{Name: RouteGroupList, Method: http.MethodGet, Pattern: "/api/v1/groups", Roles: readers, MaxBody: MaxNoBody},
	{Name: RouteGroupGet, Method: http.MethodGet, Pattern: "/api/v1/groups/{name}", Roles: readers, MaxBody: MaxNoBody},
	{Name: RouteReleaseAdd, Method: http.MethodPost, Pattern: "/api/v1/releases", Roles: operator, MaxBody: MaxFleetBody},
	{Name: RouteReleaseList, Method: http.MethodGet, Pattern: "/api/v1/releases", Roles: readers, MaxBody: MaxNoBody},
	{Name: RouteRolloutCreate, Method: http.MethodPost, Pattern: "/api/v1/rollouts", Roles: operator, MaxBody: MaxFleetBody},
	{Name: RouteRolloutList, Method: http.MethodGet, Pattern: "/api/v1/rollouts", Roles: readers, MaxBody: MaxNoBody},
	{Name: RouteRolloutGet, Method: http.MethodGet, Pattern: "/api/v1/rollouts/{rollout}", Roles: readers, MaxBody: MaxNoBody},
	{Name: RouteRolloutProgress, Method: http.MethodGet, Pattern: "/api/v1/rollouts/{rollout}/progress", Roles: readers, MaxBody: MaxNoBody},
	{Name: RouteRolloutDevices, Method: http.MethodGet, Pattern: "/api/v1/rollouts/{rollout}/deliveries", Roles: readers, MaxBody: MaxNoBody},
	{Name: RouteRolloutPause, Method: http.MethodPost, Pattern: "/api/v1/rollouts/{rollout}/pause", Roles: operator, MaxBody: MaxJSONBody},
	{Name: RouteRolloutResume, Method: http.MethodPost, Pattern: "/api/v1/rollouts/{rollout}/resume", Roles: operator, MaxBody: MaxJSONBody},
	{Name: RouteRolloutCancel, Method: http.MethodPost, Pattern: "/api/v1/rollouts/{rollout}/cancel", Roles: operator, MaxBody: MaxJSONBody},
	{Name: RouteDeviceTagsSet, Method: http.MethodPut, Pattern: "/api/v1/devices/{device}/tags", Roles: operator, MaxBody: MaxFleetBody},
	{Name: RouteDeviceTagsGet, Method: http.MethodGet, Pattern: "/api/v1/devices/{device}/tags", Roles: readers, MaxBody: MaxNoBody},
	{Name: RouteMetrics, Method: http.MethodGet, Pattern: "/metrics", Roles: readers, MaxBody: MaxNoBody},

	{Name: RouteWithdrawalAdd, Method: http.MethodPost, Pattern: "/api/v1/withdrawals", Roles: withdrawers, MaxBody: MaxJSONBody},
	{Name: RouteWithdrawalList, Method: http.MethodGet, Pattern: "/api/v1/withdrawals", Roles: readers, MaxBody: MaxNoBody},
	{Name: RouteWithdrawalCancel, Method: http.MethodPost, Pattern: "/api/v1/withdrawals/cancel", Roles: withdrawers, MaxBody: MaxJSONBody},

	{Name: RouteLoginPage, Method: http.MethodGet, Pattern: "/login", Public: true, MaxBody: MaxNoBody},
	{Name: RouteLogin, Method: http.MethodPost, Pattern: "/login", Public: true, MaxBody: MaxFormBody, RateLimited: true},
	{Name: RouteLogout, Method: http.MethodPost, Pattern: "/logout", Roles: everyone, MaxBody: MaxFormBody},

	// The dashboard: the same readers and operator as the fleet's API.
	{Name: RouteDashboard, Method: http.MethodGet, Pattern: "/{$}", Roles: readers, MaxBody: MaxNoBody, Page: true},
	{Name: RouteDashboardAsset, Method: http.MethodGet, Pattern: "/dashboard/assets/{file}", Roles: readers, MaxBody: MaxNoBody},
	{Name: RouteDashboardRollout, Method: http.MethodGet, Pattern: "/dashboard/rollouts/{rollout}", Roles: readers, MaxBody: MaxNoBody, Page: true},
	{Name: RouteDashboardDevice, Method: http.MethodGet, Pattern: "/dashboard/devices/{device}", Roles: readers, MaxBody: MaxNoBody, Page: true},
	{Name: RouteDashboardPause, Method: http.MethodPost, Pattern: "/dashboard/rollouts/{rollout}/pause", Roles: operator, MaxBody: MaxFormBody},
	{Name: RouteDashboardResume, Method: http.MethodPost, Pattern: "/dashboard/rollouts/{rollout}/resume", Roles: operator, MaxBody: MaxFormBody},
	{Name: RouteDashboardCancel, Method: http.MethodPost, Pattern: "/dashboard/rollouts/{rollout}/cancel", Roles: operator, MaxBody: MaxFormBody},
}

// RouteByName is the route of that name in Routes.
func RouteByName(name string) (Route, bool) {
	i := slices.IndexFunc(Routes, func(r Route) bool { return r.Name == name })
	if i < 0 {
		return Route{}, false
	}
	return Routes[i], true
}

// Allows reports whether a principal with roles may call the route.
func (rt Route) Allows(roles []store.Role) bool {
	if rt.Public {
		return true
	}
	for _, r := range roles {
		if slices.Contains(rt.Roles, r) {
			return true
		}
	}
	return false
}

// changesState reports whether a request of this method is a state
// change: it needs a CSRF token when made with a session cookie, and it
// leaves an audit row.
func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}
