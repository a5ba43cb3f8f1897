// Package console is the browser console of ordercare: the page agents work
// their queue in and ops run their workflows from. It is static files
// carried by the binary (go:embed) plus one server-rendered entry page; every
// action the page takes is a call of the public HTTP API (internal/httpapi)
// with the session cookie that POST /v1/session sets. The console adds no
// endpoint of its own beyond its files.
//
// Handler serves GET / (the page, its language chosen from the oc_lang cookie
// or Accept-Language) and GET /console/… (the scripts, styles and message
// catalogue), with a Content-Security-Policy that allows only these files and
// calls to the same origin; everything else goes to the API handler.
package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed assets
var assets embed.FS

// CSP is the Content-Security-Policy of every console response: scripts,
// styles and images only from the console's own files (no inline script or
// style), API calls to the same origin, no framing, no plugins.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Languages are the console's languages, from the one catalogue
// assets/i18n.json; the first is the fallback.
var Languages = []string{"en", "zh-CN"}

var page = template.Must(template.ParseFS(assets, "assets/index.html"))

// Handler returns the console in front of api. The handler has a
// CloseStreams method too, which calls api's (httpapi.Server.CloseStreams)
// when api has one: register it with http.Server.RegisterOnShutdown.
func Handler(api http.Handler) http.Handler {
	static, _ := fs.Sub(assets, "assets")
	files := http.StripPrefix("/console/", http.FileServerFS(static))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		headers(w)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		var b bytes.Buffer
		if err := page.Execute(&b, struct{ Lang string }{Language(r)}); err != nil {
			http.Error(w, "console unavailable", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(b.Bytes())
	})
	mux.HandleFunc("GET /console/", func(w http.ResponseWriter, r *http.Request) {
		headers(w)
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
	mux.Handle("/", api)
	return withStreams{mux, api}
}

// withStreams is the console's handler: its mux, and the API whose open
// streams CloseStreams ends.
type withStreams struct {
	http.Handler
	api http.Handler
}

// CloseStreams ends the API's open event streams, if it has any.
func (h withStreams) CloseStreams() {
	if c, ok := h.api.(interface{ CloseStreams() }); ok {
		c.CloseStreams()
	}
}

func headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

// Language picks the console language: the oc_lang cookie when it names one
// of Languages, else the first Accept-Language entry whose language is zh
// (→ zh-CN) or en, else en. (q-values are honoured by order: browsers send
// entries most-preferred first.)
func Language(r *http.Request) string {
	if c, err := r.Cookie("oc_lang"); err == nil {
		for _, l := range Languages {
			if c.Value == l {
				return l
			}
		}
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.Contains(q, "q=0") && !strings.Contains(q, "q=0.") {
			continue // q=0: not acceptable
		}
		switch strings.ToLower(strings.SplitN(strings.TrimSpace(tag), "-", 2)[0]) {
		case "zh":
			return "zh-CN"
		case "en":
			return "en"
		}
	}
	return Languages[0]
}

// Catalogue returns the message catalogue: language → key → text.
func Catalogue() (map[string]map[string]string, error) {
	b, err := assets.ReadFile("assets/i18n.json")
	if err != nil {
		return nil, err
	}
	var c map[string]map[string]string
	return c, json.Unmarshal(b, &c)
}
