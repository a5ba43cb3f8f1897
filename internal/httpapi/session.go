package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// SessionCookie is the name of the console's session cookie: HttpOnly,
// SameSite=Strict, Secure when the request came over TLS, Path /, expiring
// after SessionTTL. Its value is signed (HMAC-SHA256), never stored: it names
// the shop, role, agent and the hash of the credential signed in with, so a
// rotated key or a deactivated agent ends every session made with it.
const SessionCookie = "oc_session"

// CSRFHeader carries the session's CSRF token on every state-changing request
// authenticated by the session cookie (POST, PUT, PATCH, DELETE); the token
// comes with the session (POST or GET /v1/session). A bearer-token request
// needs none.
const CSRFHeader = "X-CSRF-Token"

// SessionTTL is how long a console session lasts (one shift).
const SessionTTL = 12 * time.Hour

// session is the signed content of the session cookie.
type session struct {
	Shop    string    `json:"s"`
	Role    care.Role `json:"r"`
	Agent   string    `json:"a,omitempty"` // agent id (personal key) or the name given with the shared agent key
	Shared  bool      `json:"x,omitempty"` // signed in with the shop's shared agent key
	Hash    string    `json:"h"`           // HashKey of the credential
	Expires int64     `json:"e"`           // Unix seconds, Config.SessionClock
	Nonce   string    `json:"n"`
}

// SessionRequest is the body of POST /v1/session. Key is an ops key, a
// personal agent key (oca_…), or the shop's shared agent key; with the shared
// key Agent names who is signing in (an agent id; refused when that id is a
// personal account, which must use its own key).
type SessionRequest struct {
	Key   string `json:"key"`
	Agent string `json:"agent,omitempty"`
}

// SessionView is the answer to POST and GET /v1/session: who is signed in and
// the CSRF token to send in X-CSRF-Token.
type SessionView struct {
	Shop      string    `json:"shop"`
	Role      care.Role `json:"role"`
	Agent     string    `json:"agent,omitempty"`
	AgentName string    `json:"agent_name,omitempty"`
	Shared    bool      `json:"shared,omitempty"`
	CSRF      string    `json:"csrf"`
	ExpiresAt time.Time `json:"expires_at"`
	Timezone  string    `json:"timezone"`
	Locale    string    `json:"locale"`
	ShopName  string    `json:"shop_name"`
}

func (s *Server) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.sessionKey)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

func (s *Server) encodeSession(ss session) string {
	body, _ := json.Marshal(ss)
	p := base64.RawURLEncoding.EncodeToString(body)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac("session", p))
}

func (s *Server) csrfToken(cookie string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", cookie))[:32]
}

// decodeSession verifies a cookie value's signature and expiry.
func (s *Server) decodeSession(v string) (session, bool) {
	p, sig, ok := strings.Cut(v, ".")
	if !ok {
		return session{}, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac("session", p)) {
		return session{}, false
	}
	body, err := base64.RawURLEncoding.DecodeString(p)
	var ss session
	if err != nil || json.Unmarshal(body, &ss) != nil || s.sessions.Now().Unix() >= ss.Expires {
		return session{}, false
	}
	return ss, true
}

var errSessionCSRF = errStatus(http.StatusForbidden, "csrf", "a state-changing request with the session cookie needs the session's X-CSRF-Token header and a same-origin Origin")

// fromSession authenticates a request by its session cookie: the signature,
// the expiry, the credential still valid (key not rotated, agent active), and
// for unsafe methods the CSRF token and a same-origin Origin.
func (s *Server) fromSession(r *http.Request, c *http.Cookie) (principal, error) {
	ss, ok := s.decodeSession(c.Value)
	if !ok {
		return principal{}, errReason(http.StatusUnauthorized, "unauthorized", "session_expired", "the session expired or is not valid: sign in again")
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		tok := r.Header.Get(CSRFHeader)
		if subtle.ConstantTimeCompare([]byte(tok), []byte(s.csrfToken(c.Value))) != 1 || !sameOrigin(r) {
			return principal{}, errSessionCSRF
		}
	}
	p := principal{Role: ss.Role, ShopID: ss.Shop, AgentID: ss.Agent, Session: true, Shared: ss.Shared}
	if ss.Role == care.RoleAgent && !ss.Shared {
		a, err := s.store.GetAgent(r.Context(), ss.Shop, ss.Agent)
		if errors.Is(err, care.ErrNotFound) || (err == nil && (!a.Active || a.KeyHash != ss.Hash)) {
			return principal{}, errReason(http.StatusUnauthorized, "unauthorized", "account_closed", "this agent account was deactivated or its key replaced: sign in again")
		}
		if err != nil {
			return principal{}, err
		}
		p.AgentName = a.Name
		return p, nil
	}
	k, err := s.store.KeyByHash(r.Context(), ss.Hash)
	if errors.Is(err, care.ErrNotFound) || (err == nil && (k.ShopID != ss.Shop || k.Role != ss.Role)) {
		return principal{}, errReason(http.StatusUnauthorized, "unauthorized", "key_replaced", "the key this session was made with was replaced: sign in again")
	}
	if err != nil {
		return principal{}, err
	}
	p.AgentName = ss.Agent
	return p, nil
}

// sameOrigin: a request without Origin (not a browser's cross-site request)
// passes; one with Origin passes only when it names the request's own host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// agentKey authenticates a personal agent key (oca_…).
func (s *Server) agentKey(r *http.Request, tok string) (principal, error) {
	shop, id, ok := care.ParseAgentKey(tok)
	if !ok {
		return principal{}, errUnauthorized
	}
	a, err := s.store.GetAgent(r.Context(), shop, id)
	if errors.Is(err, care.ErrNotFound) {
		return principal{}, errUnauthorized
	}
	if err != nil {
		return principal{}, err
	}
	if subtle.ConstantTimeCompare([]byte(a.KeyHash), []byte(care.HashKey(tok))) != 1 {
		return principal{}, errUnauthorized
	}
	if !a.Active {
		return principal{}, errReason(http.StatusUnauthorized, "unauthorized", "agent_inactive", "this agent account is deactivated")
	}
	return principal{Role: care.RoleAgent, ShopID: shop, AgentID: id, AgentName: a.Name}, nil
}

func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// createSession is POST /v1/session: exchange a shop key for a session cookie.
func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	var req SessionRequest
	err := decodeStrict(r, &req)
	var ss session
	if err == nil {
		ss, err = s.signIn(r, req)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	ss.Nonce = base64.RawURLEncoding.EncodeToString(nonce[:])
	ss.Expires = s.sessions.Now().Add(SessionTTL).Unix()
	v := s.encodeSession(ss)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: v, Path: "/", MaxAge: int(SessionTTL / time.Second),
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
	view, err := s.sessionView(r, ss, v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

func (s *Server) signIn(r *http.Request, req SessionRequest) (session, error) {
	key := strings.TrimSpace(req.Key)
	if key == "" {
		return session{}, care.Invalid("key", "required")
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(s.admin)) == 1 {
		return session{}, &apiError{Status: http.StatusForbidden, Code: "forbidden", Field: "key", Reason: "admin_no_session", Message: "the admin token opens no console session: sign in with a shop's ops or agent key"}
	}
	if strings.HasPrefix(key, care.AgentKeyPrefix) {
		if req.Agent != "" {
			return session{}, care.Invalid("agent", "only with the shop's shared agent key: a personal key names its agent")
		}
		p, err := s.agentKey(r, key)
		if err != nil {
			return session{}, err
		}
		return session{Shop: p.ShopID, Role: care.RoleAgent, Agent: p.AgentID, Hash: care.HashKey(key)}, nil
	}
	k, err := s.store.KeyByHash(r.Context(), care.HashKey(key))
	if errors.Is(err, care.ErrNotFound) {
		return session{}, &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Field: "key", Reason: "unknown_key", Message: "unknown or replaced key"}
	}
	if err != nil {
		return session{}, err
	}
	ss := session{Shop: k.ShopID, Role: k.Role, Hash: k.Hash}
	switch k.Role {
	case care.RoleOps:
		if req.Agent != "" {
			return session{}, care.Invalid("agent", "only with the shop's shared agent key")
		}
	case care.RoleAgent:
		if err := care.ValidateAgentID("agent", req.Agent); err != nil {
			return session{}, care.Invalid("agent", "the shared agent key needs your agent name: 2-40 characters, lower-case letters, digits, - and _")
		}
		if _, err := s.store.GetAgent(r.Context(), k.ShopID, req.Agent); err == nil {
			return session{}, &apiError{Status: http.StatusForbidden, Code: "forbidden", Field: "agent", Reason: "personal_key", Args: map[string]string{"agent": req.Agent}, Message: "agent " + req.Agent + " has a personal key: sign in with it"}
		} else if !errors.Is(err, care.ErrNotFound) {
			return session{}, err
		}
		ss.Agent, ss.Shared = req.Agent, true
	default:
		return session{}, errUnauthorized
	}
	return ss, nil
}

func (s *Server) sessionView(r *http.Request, ss session, cookie string) (SessionView, error) {
	shop, err := s.store.GetShop(r.Context(), ss.Shop)
	if err != nil {
		return SessionView{}, err
	}
	v := SessionView{Shop: ss.Shop, Role: ss.Role, Agent: ss.Agent, AgentName: ss.Agent, Shared: ss.Shared, CSRF: s.csrfToken(cookie),
		ExpiresAt: time.Unix(ss.Expires, 0).UTC(), Timezone: shop.Timezone, Locale: shop.Locale, ShopName: shop.Name}
	if ss.Role == care.RoleAgent && !ss.Shared {
		if a, err := s.store.GetAgent(r.Context(), ss.Shop, ss.Agent); err == nil {
			v.AgentName = a.Name
		}
	}
	return v, nil
}

// getSession is GET /v1/session: the signed-in session (401 without one).
func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		s.writeError(w, r, errReason(http.StatusUnauthorized, "unauthorized", "not_signed_in", "not signed in"))
		return
	}
	if _, err := s.fromSession(r, c); err != nil {
		s.writeError(w, r, err)
		return
	}
	ss, _ := s.decodeSession(c.Value)
	view, err := s.sessionView(r, ss, c.Value)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// deleteSession is DELETE /v1/session: sign out (the cookie is cleared; the
// CSRF token is required like any state-changing request).
func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if _, err := s.fromSession(r, c); err != nil && !isUnauthorized(err) {
			s.writeError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

func isUnauthorized(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == http.StatusUnauthorized
}
