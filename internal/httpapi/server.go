package httpapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/erasure"
	"github.com/ordercare/ordercare/internal/queue"
	"github.com/ordercare/ordercare/internal/steps"
)

// MaxBody is the largest request body accepted (1 MiB); larger gets 413.
const MaxBody = 1 << 20

// Config wires a Server. Store and Clock are required.
type Config struct {
	Store      care.CareStore
	Clock      clock.Clock
	AdminToken string       // the runtime's admin bearer token
	Logger     *slog.Logger // optional
	// DevClock, when set, serves GET/POST /v1/dev/clock (admin token) to
	// read and move the runtime's virtual time; nil (the real clock) leaves
	// the endpoint out entirely.
	DevClock DevClock
	// Resumer hands a completed task's outcome to its Step Functions
	// execution. Nil is allowed: completions are then stored unresumed
	// (queue.Queue.ResumePending delivers them later).
	Resumer queue.Resumer
	// Workflows are the registered care workflows (workflows.All): the
	// template routes serve these and no other.
	Workflows steps.Workflows
	// SessionKey signs console session cookies and CSRF tokens (at least 32
	// bytes). Empty: derived from AdminToken, so every instance sharing the
	// admin token accepts the same sessions.
	SessionKey []byte
	// SessionClock times console sessions (SessionTTL is a person's shift,
	// real time); nil is the wall clock. It is not Clock: a runtime on a
	// virtual clock moved ahead by days keeps its signed-in people.
	SessionClock clock.Clock
	// Unsubscribe, when set, serves GET and POST /unsubscribe/{token}: the
	// one-click unsubscribe (RFC 8058) of the email channel's marketing
	// messages, tokens checked with this signer.
	Unsubscribe *consent.Signer
	// Consents, when set, keeps buyers' per-channel statements: the
	// unsubscribe link records its scope there, and POST
	// /v1/shops/{shop}/consents is served.
	Consents consent.Store
	// Erasure, when set, serves DELETE /v1/buyers/{id} (ops).
	Erasure erasure.Store
	// TaskEvents tunes the task stream GET /v1/tasks/events (zero: the
	// defaults). Call Server.CloseStreams on shutdown.
	TaskEvents TaskEvents
}

// Server is the HTTP API. It is safe for concurrent use.
type Server struct {
	store care.CareStore
	queue *queue.Queue
	clock clock.Clock
	admin string
	log   *slog.Logger
	mux   *http.ServeMux

	workflows  steps.Workflows
	sessionKey []byte
	sessions   clock.Clock
	consents   consent.Store
	erasure    erasure.Store
	events     *taskHub
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Clock == nil {
		return nil, errors.New("httpapi: Store and Clock are required")
	}
	if len(cfg.AdminToken) < 16 {
		return nil, errors.New("httpapi: admin token must be at least 16 characters")
	}
	s := &Server{store: cfg.Store, clock: cfg.Clock, admin: cfg.AdminToken, log: cfg.Logger, mux: http.NewServeMux(), workflows: cfg.Workflows, consents: cfg.Consents, erasure: cfg.Erasure,
		queue: &queue.Queue{Store: cfg.Store, Clock: cfg.Clock, Resumer: cfg.Resumer}}
	if s.log == nil {
		s.log = slogDiscard
	}
	s.events = newTaskHub(cfg.TaskEvents, s.taskFingerprint)
	s.sessionKey, s.sessions = cfg.SessionKey, cfg.SessionClock
	if s.sessions == nil {
		s.sessions = clock.Real{}
	}
	if len(s.sessionKey) == 0 {
		sum := sha256.Sum256([]byte("ordercare console session v1\x00" + cfg.AdminToken))
		s.sessionKey = sum[:]
	} else if len(s.sessionKey) < 32 {
		return nil, errors.New("httpapi: SessionKey must be at least 32 bytes")
	}
	s.mux.HandleFunc("POST /v1/session", s.createSession)
	s.mux.HandleFunc("GET /v1/session", s.getSession)
	s.mux.HandleFunc("DELETE /v1/session", s.deleteSession)
	s.mux.HandleFunc("GET /v1/agents", s.listAgents)
	s.mux.HandleFunc("POST /v1/agents", s.createAgent)
	s.mux.HandleFunc("PATCH /v1/agents/{id}", s.patchAgent)
	s.mux.HandleFunc("POST /v1/agents/{id}/key", s.reissueAgentKey)
	s.mux.HandleFunc("GET /v1/tasks/{id}", s.getTask)
	s.mux.HandleFunc("GET /v1/workflows", s.listWorkflows)
	s.mux.HandleFunc("GET /v1/workflows/{workflow}/schema", s.getWorkflowSchema)
	s.mux.HandleFunc("GET /v1/shops/{shop}/sources", s.listSources)
	s.mux.HandleFunc("POST /v1/templates/{workflow}/preview", s.previewTemplate)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("POST /webhooks/{shop}/{source}", s.webhook)
	s.mux.HandleFunc("POST /v1/shops", s.createShop)
	s.mux.HandleFunc("GET /v1/shops", s.listShops)
	s.mux.HandleFunc("POST /v1/shops/{shop}/keys/{role}", s.reissueKey)
	s.mux.HandleFunc("GET /v1/orders", s.listOrders)
	s.mux.HandleFunc("GET /v1/shops/{shop}", s.getShop)
	s.mux.HandleFunc("PUT /v1/shops/{shop}/sources/{source}", s.putSource)
	s.mux.HandleFunc("GET /v1/orders/{id}", s.getOrder)
	s.mux.HandleFunc("GET /v1/orders/{id}/events", s.listEvents)
	s.mux.HandleFunc("GET /v1/orders/{id}/messages", s.listOrderMessages)
	s.mux.HandleFunc("GET /v1/messages", s.listMessages)
	s.mux.HandleFunc("GET /v1/runs", s.listRuns)
	s.mux.HandleFunc("GET /v1/metrics", s.getMetrics)
	s.mux.HandleFunc("GET /v1/tasks", s.listTasks)
	s.mux.HandleFunc("GET /v1/tasks/events", s.taskEvents)
	s.mux.HandleFunc("POST /v1/tasks/{id}/claim", taskAction(s, s.claimTask))
	s.mux.HandleFunc("POST /v1/tasks/{id}/notes", taskAction(s, s.noteTask))
	s.mux.HandleFunc("POST /v1/tasks/{id}/complete", taskAction(s, s.completeTask))
	s.mux.HandleFunc("POST /v1/tasks/{id}/malicious", s.markMalicious)
	s.mux.HandleFunc("POST /v1/tasks/{id}/appeal-result", taskAction(s, s.appealResult))
	s.mux.HandleFunc("GET /v1/tasks/{id}/evidence", s.getEvidence(false))
	s.mux.HandleFunc("GET /v1/tasks/{id}/evidence.html", s.getEvidence(true))
	s.mux.HandleFunc("GET /v1/templates/{workflow}", s.getTemplate)
	s.mux.HandleFunc("PUT /v1/templates/{workflow}", s.putTemplate)
	s.mux.HandleFunc("GET /v1/templates/{workflow}/versions", s.listTemplateVersions)
	s.mux.HandleFunc("GET /v1/templates/{workflow}/versions/{version}", s.getTemplateVersion)
	s.mux.HandleFunc("PUT /v1/shops/{shop}/channels/webhook", s.putWebhookChannel)
	s.mux.HandleFunc("PUT /v1/shops/{shop}/channels/email", s.putEmailChannel)
	s.mux.HandleFunc("GET /v1/shops/{shop}/channels/email", s.getEmailChannel)
	if cfg.Erasure != nil {
		s.mux.HandleFunc("DELETE /v1/buyers/{id}", s.eraseBuyer)
		s.mux.HandleFunc("PUT /v1/shops/{shop}/retention", s.putRetention)
	}
	if cfg.Consents != nil {
		s.mux.HandleFunc("POST /v1/shops/{shop}/consents", s.postConsent)
		s.mux.HandleFunc("POST /v1/receipts/ses", s.sesReceipt)
	}
	if u := cfg.Unsubscribe; u != nil {
		s.mux.HandleFunc("GET /unsubscribe/{token}", func(w http.ResponseWriter, r *http.Request) { s.unsubscribePage(w, r, *u) })
		s.mux.HandleFunc("POST /unsubscribe/{token}", func(w http.ResponseWriter, r *http.Request) { s.unsubscribe(w, r, *u) })
	}
	s.mux.HandleFunc("GET /v1/shops/{shop}/service-hours", s.getServiceHours)
	s.mux.HandleFunc("PUT /v1/shops/{shop}/service-hours", s.putServiceHours)
	s.mux.HandleFunc("DELETE /v1/shops/{shop}/service-hours", s.deleteServiceHours)
	if cfg.DevClock != nil {
		s.mux.HandleFunc("GET /v1/dev/clock", func(w http.ResponseWriter, r *http.Request) { s.devClock(w, r, cfg.DevClock) })
		s.mux.HandleFunc("POST /v1/dev/clock", func(w http.ResponseWriter, r *http.Request) { s.devClock(w, r, cfg.DevClock) })
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.writeError(w, r, errNotFound) })
	return s, nil
}

// ServeHTTP logs each request by route pattern (never by body or query).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(sw, r)
	s.log.DebugContext(r.Context(), "http", "method", r.Method, "route", r.Pattern, "status", sw.status, "ms", time.Since(start).Milliseconds())
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

// Unwrap lets http.ResponseController reach the connection's writer (to
// flush the task stream).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Health is the answer to GET /healthz. Now is the server's clock, which
// webhook timestamps are checked against (with a virtual clock it is not the
// wall clock): a Standard Webhooks sender may sign with Unix.
type Health struct {
	Status string    `json:"status"` // "ok"
	Now    time.Time `json:"now"`
	Unix   int64     `json:"unix"` // Now in Unix seconds
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	now := s.now().UTC()
	writeJSON(w, http.StatusOK, Health{Status: "ok", Now: now, Unix: now.Unix()})
}

// principal is who a request authenticated as. ShopID is empty for admin.
// AgentID is set for a personal agent key and for a console session of an
// agent (then task actions are recorded as that agent, and no other).
type principal struct {
	Role      care.Role
	ShopID    string
	AgentID   string
	AgentName string
	Session   bool // authenticated by the console's session cookie
	Shared    bool // a session made with the shop's shared agent key
}

// bearer returns the token of "Authorization: Bearer <token>"; the scheme
// is case-insensitive (RFC 9110 section 11.1).
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	tok = strings.TrimSpace(tok)
	return tok, ok && strings.EqualFold(scheme, "Bearer") && tok != ""
}

// authenticate reads "Authorization: Bearer <token>": the admin token, a
// shop key or a personal agent key; without that header, the console's
// session cookie (see fromSession). A missing or unknown token is
// errUnauthorized (401).
func (s *Server) authenticate(r *http.Request) (principal, error) {
	if r.Header.Get("Authorization") == "" {
		if c, err := r.Cookie(SessionCookie); err == nil {
			return s.fromSession(r, c)
		}
	}
	tok, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return principal{}, errUnauthorized
	}
	if strings.HasPrefix(tok, care.AgentKeyPrefix) {
		return s.agentKey(r, tok)
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.admin)) == 1 {
		return principal{Role: care.RoleAdmin}, nil
	}
	k, err := s.store.KeyByHash(r.Context(), care.HashKey(tok))
	if errors.Is(err, care.ErrNotFound) {
		return principal{}, errUnauthorized
	}
	if err != nil {
		return principal{}, err
	}
	return principal{Role: k.Role, ShopID: k.ShopID}, nil
}

// requireAdmin authenticates and refuses anything but the admin token: a
// valid shop key gets errForbidden (403), a missing or invalid one 401.
func (s *Server) requireAdmin(r *http.Request) error {
	p, err := s.authenticate(r)
	if err == nil && p.Role != care.RoleAdmin {
		err = errForbidden
	}
	return err
}

// shopScope authenticates and returns the shop a request may act on, for the
// given roles. A shop key names its own shop; the admin token names one with
// ?shop=. A key of another shop gets 404, never 403, so ids do not leak.
func (s *Server) shopScope(r *http.Request, pathShop string, roles ...care.Role) (string, error) {
	p, err := s.shopPrincipal(r, pathShop, roles...)
	return p.ShopID, err
}

// shopPrincipal is shopScope returning who asked as well; for the admin
// token ShopID is the shop it named.
func (s *Server) shopPrincipal(r *http.Request, pathShop string, roles ...care.Role) (principal, error) {
	p, err := s.authenticate(r)
	if err != nil {
		return principal{}, err
	}
	if p.Role == care.RoleAdmin {
		shop := pathShop
		if shop == "" {
			shop = r.URL.Query().Get("shop")
		}
		if shop == "" {
			return principal{}, &apiError{Status: 400, Code: "invalid", Field: "shop", Message: "the admin token must name a shop with ?shop="}
		}
		p.ShopID = shop
		return p, nil
	}
	if pathShop != "" && pathShop != p.ShopID {
		return principal{}, errNotFound
	}
	for _, role := range roles {
		if p.Role == role {
			return p, nil
		}
	}
	return principal{}, errForbidden
}

// readBody reads at most MaxBody bytes; larger bodies get 413.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, &apiError{Status: 400, Code: "invalid", Message: "could not read the body"}
	}
	if len(body) > MaxBody {
		return nil, &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: fmt.Sprintf("body over %d bytes", MaxBody)}
	}
	return body, nil
}

// requireJSON answers 415 unless the Content-Type is JSON.
func requireJSON(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "Content-Type must be application/json"}
	}
	return nil
}

// decodeStrict decodes a JSON body into v, refusing unknown fields and
// trailing data, and names the offending field.
func decodeStrict(r *http.Request, v any) error {
	if err := requireJSON(r); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return DecodeStrict(body, v)
}

// DecodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data; errors are *care.FieldError naming the field.
func DecodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonFieldError(err)
	}
	if dec.More() {
		return care.Invalid("", "trailing data after the JSON value")
	}
	return nil
}

func jsonFieldError(err error) error {
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &ute):
		return care.Invalid(ute.Field, "must be a JSON %s, not %s", ute.Type.Kind(), ute.Value)
	case errors.As(err, &se):
		return care.Invalid("", "malformed JSON at byte %d: %s", se.Offset, se.Error())
	case errors.Is(err, io.EOF):
		return care.Invalid("", "empty body")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return care.Invalid(strings.Trim(f, `"`), "unknown field")
	}
	if strings.HasPrefix(msg, "parsing time") {
		return care.Invalid("", "times must be RFC 3339: %s", msg)
	}
	return care.Invalid("", "%s", msg)
}

// now is the server's clock reading.
func (s *Server) now() time.Time { return s.clock.Now() }
