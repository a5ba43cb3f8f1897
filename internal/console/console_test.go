package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/console"
	"github.com/ordercare/ordercare/internal/httpapi"
)

func TestLanguage(t *testing.T) {
	for _, tc := range []struct{ name, accept, cookie, want string }{
		{"chinese browser", "zh-CN,zh;q=0.9,en;q=0.8", "", "zh-CN"},
		{"traditional chinese", "zh-TW", "", "zh-CN"},
		{"english first", "en-GB,en;q=0.9,zh;q=0.5", "", "en"},
		{"unknown falls back to en", "fr-FR,de;q=0.5", "", "en"},
		{"none", "", "", "en"},
		{"q=0 skipped", "zh;q=0, en;q=0.5", "", "en"},
		{"cookie wins", "zh-CN", "en", "en"},
		{"bad cookie ignored", "zh-CN", "xx", "zh-CN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Accept-Language", tc.accept)
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: "oc_lang", Value: tc.cookie})
			}
			if got := console.Language(r); got != tc.want {
				t.Errorf("Language = %q; want %q", got, tc.want)
			}
		})
	}
}

// TestCatalogue: every language has the same keys, no empty text, and every
// key the script asks for literally exists.
func TestCatalogue(t *testing.T) {
	cat, err := console.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]string) []string {
		var ks []string
		for k, v := range m {
			if strings.TrimSpace(v) == "" {
				t.Errorf("empty text for %q", k)
			}
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	}
	en := keys(cat["en"])
	for _, l := range console.Languages {
		if diff := cmp.Diff(en, keys(cat[l])); diff != "" {
			t.Errorf("keys of %s differ from en (-en +%s):\n%s", l, l, diff)
		}
	}
	// Every error code and reason the API answers is translated.
	for _, code := range httpapi.ErrorCodes {
		if _, ok := cat["en"]["apierr."+code]; !ok {
			t.Errorf("the catalogue does not translate the API's error code %q (apierr.%s)", code, code)
		}
	}
	for _, reason := range httpapi.ErrorReasons {
		if _, ok := cat["en"]["apierr."+reason]; !ok {
			t.Errorf("the catalogue does not translate the API's error reason %q (apierr.%s)", reason, reason)
		}
	}
	srv := httptest.NewServer(console.Handler(http.NotFoundHandler()))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/console/app.js")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, m := range regexp.MustCompile(`\bt\('([a-z][a-zA-Z]*\.[a-zA-Z.]*[a-zA-Z])'`).FindAllStringSubmatch(string(js), -1) {
		if _, ok := cat["en"][m[1]]; !ok {
			t.Errorf("app.js uses %q, which the catalogue lacks", m[1])
		}
	}
}

func TestHandler(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(console.Handler(api))
	defer srv.Close()
	for _, tc := range []struct {
		path, accept string
		status       int
		contains     string
		csp          bool
	}{
		{"/", "zh-CN", 200, `<html lang="zh-CN">`, true},
		{"/", "en", 200, `<html lang="en">`, true},
		{"/console/app.js", "", 200, "X-CSRF-Token", true},
		{"/console/i18n.json", "", 200, `"zh-CN"`, true},
		{"/console/nope.js", "", 404, "", true},
		{"/v1/tasks", "", http.StatusTeapot, "", false},
		{"/healthz", "", http.StatusTeapot, "", false},
	} {
		t.Run(tc.path+" "+tc.accept, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
			req.Header.Set("Accept-Language", tc.accept)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status || !strings.Contains(string(b), tc.contains) {
				t.Errorf("GET %s = %d (%d bytes); want %d containing %q", tc.path, res.StatusCode, len(b), tc.status, tc.contains)
			}
			if got := res.Header.Get("Content-Security-Policy"); (got == console.CSP) != tc.csp {
				t.Errorf("CSP = %q; want set: %v", got, tc.csp)
			}
		})
	}
	if res, _ := http.Post(srv.URL+"/", "text/plain", nil); res.StatusCode != http.StatusTeapot {
		t.Errorf("POST / went to the console (%d), not the API", res.StatusCode)
	}
}
