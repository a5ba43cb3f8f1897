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

// TestVisibleTextInCatalogue: the page's words come from the catalogue. It
// scans app.js's string literals (comments left out) for text a person
// would read: Chinese characters, phrases of two or more words (CSS class
// lists aside), and single words put on the page as a child or appended to
// a value; and index.html's text. The few words allowed are language names
// in their own language and an example name.
func TestVisibleTextInCatalogue(t *testing.T) {
	allowed := map[string]bool{"中文": true, "English": true, "李娜": true, "ordercare": true}
	js := asset(t, "app.js")
	code := regexp.MustCompile(`(?m)^\s*//.*$|\s//\s.*$`).ReplaceAllString(string(js), "")
	cjk := regexp.MustCompile(`\p{Han}`)
	phrase := regexp.MustCompile(`[A-Za-z]{2,}[,.:!?]?\s+[A-Za-z]{2,}`)
	word := regexp.MustCompile(`^\s*[A-Za-z]{2,}[.:!?]?\s*$`)
	lits := regexp.MustCompile("'((?:[^'\\\\\\n]|\\\\.)*)'|`((?:[^`\\\\]|\\\\.)*)`")
	for _, m := range lits.FindAllStringSubmatchIndex(code, -1) {
		lit := code[m[0]+1 : m[1]-1]
		before := strings.TrimRight(code[max(0, m[0]-16):m[0]], " ")
		if allowed[lit] || strings.HasSuffix(before, "class:") {
			continue
		}
		child := strings.HasSuffix(before, "},") || strings.HasSuffix(before, "+") || strings.HasSuffix(before, ":") && strings.HasSuffix(before, "?")
		switch {
		case cjk.MatchString(lit):
			t.Errorf("app.js shows %q: Chinese text belongs in i18n.json", lit)
		case phrase.MatchString(lit) && !strings.Contains(lit, "${") && !strings.ContainsAny(lit, "#/[]()=<>"):
			t.Errorf("app.js has the phrase %q: visible text belongs in i18n.json", lit)
		case word.MatchString(lit) && child:
			t.Errorf("app.js puts the word %q on the page: visible text belongs in i18n.json", lit)
		}
	}
	html := asset(t, "index.html")
	text := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(string(html), " ")
	for _, w := range strings.Fields(text) {
		if !allowed[w] && w != "…" {
			t.Errorf("index.html shows %q: visible text belongs in i18n.json (the script sets it)", w)
		}
	}
}

// asset reads one of the console's files as the handler serves it.
func asset(t *testing.T, name string) []byte {
	t.Helper()
	srv := httptest.NewServer(console.Handler(http.NotFoundHandler()))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/console/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET /console/%s: %d", name, res.StatusCode)
	}
	return b
}
