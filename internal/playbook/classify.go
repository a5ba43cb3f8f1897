package playbook

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ordercare/ordercare/internal/care"
)

// Answer is what a buyer's reply to a yes-or-no question (a COD confirmation, an address check) means.
type Answer string

// Answers.
const (
	AnswerYes     Answer = "yes"     // confirms
	AnswerNo      Answer = "no"      // refuses
	AnswerStop    Answer = "stop"    // opts out of messages
	AnswerUnclear Answer = "unclear" // anything else: a person must look
)

// stopWords are the built-in opt-out replies, whatever the template says.
var stopWords = []string{"退订", "td", "t", "unsubscribe", "stop"}

// cjkNegations negate a following yes keyword ("不确认", "没同意", "别发").
var cjkNegations = []rune{'不', '没', '别'}

// latinNegations negate a following yes keyword ("not ok", "don't confirm").
var latinNegations = map[string]bool{"not": true, "dont": true, "didnt": true, "never": true,
	"cant": true, "cannot": true, "wont": true, "doesnt": true, "isnt": true}

// particles are trailing Chinese modal particles ignored when a reply is
// compared whole ("好吧" is "好").
const particles = "啊吧呀哦噢呢了啦嘛哈的"

type keywordSet struct{ yes, no []string }

// ReplyWords recognise a buyer's yes or no in the locales of a template
// (a workflow's params hold the keywords: CompileReplies).
type ReplyWords struct {
	defaultLocale string
	sets          map[string]*keywordSet
}

// CompileReplies checks the keywords per locale of a template whose default
// locale is defaultLocale and readies them for Classify. path is where they
// are in the template ("params.replies"): an error is a *care.FieldError
// under it (the default locale missing, a keyword without letters or
// digits, a keyword both yes and no), the first in document order.
func CompileReplies(replies map[string]Keywords, defaultLocale, path string) (*ReplyWords, error) {
	rw := &ReplyWords{defaultLocale: defaultLocale, sets: map[string]*keywordSet{}}
	if _, ok := replies[defaultLocale]; !ok {
		return nil, care.Invalid(path, "missing the default locale %s", defaultLocale)
	}
	for _, loc := range sortedKeys(replies) {
		kw := replies[loc]
		ks := &keywordSet{}
		yes := map[string]bool{}
		for i, w := range kw.Yes {
			n := normalize(w)
			if n == "" {
				return nil, care.Invalid(fmt.Sprintf("%s.%s.yes[%d]", path, loc, i), "has no letters or digits")
			}
			yes[n] = true
			ks.yes = append(ks.yes, n)
		}
		for i, w := range kw.No {
			n := normalize(w)
			if n == "" {
				return nil, care.Invalid(fmt.Sprintf("%s.%s.no[%d]", path, loc, i), "has no letters or digits")
			}
			if yes[n] {
				return nil, care.Invalid(fmt.Sprintf("%s.%s.no[%d]", path, loc, i), "%q is also a yes keyword", w)
			}
			ks.no = append(ks.no, n)
		}
		rw.sets[loc] = ks
	}
	return rw, nil
}

// Classify says what a buyer's reply means. The text is normalised (trimmed,
// lower-cased, full-width folded to half-width, apostrophes dropped,
// punctuation, symbols and emoji removed). An opt-out word (退订, TD, T,
// unsubscribe, stop) gives AnswerStop. Otherwise the keywords of the locale
// resolved as in Render and of the default locale are looked for: the whole
// reply equal to a keyword; a keyword of two or more letters of Latin script
// as whole words; a CJK keyword of two or more characters as a substring.
// Single-character and all-digit keywords ("是", "y", "1") count only as the
// whole reply (trailing particles ignored). A keyword inside a longer keyword
// of the other kind does not count ("不要" hides "要"). A yes keyword after a
// negation (不/没/别, or not/don't/didn't…) counts as no. Yes alone gives
// AnswerYes, no alone AnswerNo; both or neither give AnswerUnclear.
// Classify is safe for concurrent use; a nil *ReplyWords knows only the opt-out words.
func (t *ReplyWords) Classify(text, locale string) Answer {
	reply := normalize(text)
	if reply == "" {
		return AnswerUnclear
	}
	bare := strings.TrimRight(reply, particles+" ")
	if bare == "" {
		bare = reply
	}
	for _, w := range stopWords {
		if len(matches(reply, bare, w)) > 0 {
			return AnswerStop
		}
	}
	var yes, no []span
	for _, loc := range t.replyLocales(locale) {
		ks := t.sets[loc]
		for _, w := range ks.yes {
			yes = append(yes, matches(reply, bare, w)...)
		}
		for _, w := range ks.no {
			no = append(no, matches(reply, bare, w)...)
		}
	}
	yes, no = dropInside(yes, no), dropInside(no, yes)
	hasYes, hasNo := false, len(no) > 0
	for _, s := range yes {
		if negated(reply, s) {
			hasNo = true
		} else {
			hasYes = true
		}
	}
	switch {
	case hasYes && !hasNo:
		return AnswerYes
	case hasNo && !hasYes:
		return AnswerNo
	}
	return AnswerUnclear
}

func (t *ReplyWords) replyLocales(locale string) []string {
	if t == nil || len(t.sets) == 0 {
		return nil
	}
	loc := resolveLocale(locale, sortedKeys(t.sets), t.defaultLocale)
	if loc == t.defaultLocale {
		return []string{loc}
	}
	return []string{loc, t.defaultLocale}
}

// span is a byte range of the normalised reply.
type span struct{ from, to int }

func (s span) inside(o span) bool {
	return o.from <= s.from && s.to <= o.to && (o.to-o.from) > (s.to-s.from)
}

func dropInside(a, b []span) []span {
	var out []span
	for _, s := range a {
		hidden := false
		for _, o := range b {
			hidden = hidden || s.inside(o)
		}
		if !hidden {
			out = append(out, s)
		}
	}
	return out
}

// matches finds keyword w (normalised) in the reply.
func matches(reply, bare, w string) []span {
	if w == "" {
		return nil
	}
	if reply == w || bare == w {
		return []span{{0, len(reply)}}
	}
	if utf8.RuneCountInString(w) == 1 || allDigits(w) {
		return nil
	}
	var out []span
	latin := isASCII(w)
	for i := 0; ; {
		j := strings.Index(reply[i:], w)
		if j < 0 {
			return out
		}
		from, to := i+j, i+j+len(w)
		if !latin || (boundary(reply, from-1) && boundary(reply, to)) {
			out = append(out, span{from, to})
		}
		i = from + 1
	}
}

// boundary reports whether the byte at i is not an ASCII letter or digit (or out of range).
func boundary(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return true
	}
	c := s[i]
	return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9')
}

func negated(reply string, s span) bool {
	before := strings.TrimRight(reply[:s.from], " ")
	if before == "" {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(before)
	for _, n := range cjkNegations {
		if r == n {
			return true
		}
	}
	words := strings.Fields(before)
	return latinNegations[words[len(words)-1]]
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// normalize trims, lower-cases, folds full-width forms to half-width, drops
// apostrophes, turns punctuation, symbols and emoji into spaces and collapses
// spaces.
func normalize(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		}
		if r == '\'' || r == '’' || r == '‘' || r == '`' {
			continue
		}
		r = unicode.ToLower(r)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		if unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Cf, r) {
			continue // variation selectors, zero-width joiners: part of the emoji
		}
		space = true
	}
	return b.String()
}
