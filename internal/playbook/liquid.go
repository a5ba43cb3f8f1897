package playbook

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/osteele/liquid/expressions"
	"github.com/osteele/liquid/filters"
	"github.com/osteele/liquid/parser"
	"github.com/osteele/liquid/render"
	"github.com/osteele/liquid/tags"
)

// The bounds of rendering one script. A template is ops' input: whatever it
// says, rendering it takes at most RenderTimeout, MaxLoopIterations loop
// turns, and values and output of bounded size, else it fails with a
// *LimitError. Parse renders every script against sample orders under the
// same bounds, so a template that exceeds them is refused before it is stored.
const (
	// MaxLoopIterations is how many loop iterations one render may run, all
	// loops together (nested loops multiply).
	MaxLoopIterations = 10_000
	// MaxValueLength is the longest string (in characters) or array (in
	// elements) a filter may take or make while rendering.
	MaxValueLength = 10_000
	// RenderTimeout is the most wall time one render may take.
	RenderTimeout = 500 * time.Millisecond
)

// renderTimeout is RenderTimeout; tests shorten it.
var renderTimeout = RenderTimeout

// maxLength is the longest text, in characters (Unicode code points), a
// rendered script may have, per channel: the one table of message limits.
// Channels still to come have their row here: "sms" 670 (ten UCS-2
// segments), "email" 20000.
var maxLength = map[string]int{
	ChannelOutbox:  2000,
	ChannelWebhook: 2000,
	ChannelEmail:   20000,
	ChannelSMS:     1600, // ten concatenated GSM-7 segments
}

// Limits of texts that go to people other than the buyer.
const (
	maxTaskText  = 2000 // a call step's script and reason (what an agent reads)
	maxShopNotes = 2000 // a notify_shop step's note (sent to the shop's callback)
)

// MaxLength returns the longest message, in characters, the channel
// carries; 2000 for a channel it does not know.
func MaxLength(channel string) int {
	if n, ok := maxLength[channel]; ok {
		return n
	}
	return 2000
}

// maxLen is the limit of one step's field and what to call it in errors.
func (t *Template) maxLen(s Step, field string) (int, string) {
	switch {
	case s.Action == ActionMessage:
		ch := t.StepChannel(s)
		for _, c := range t.StepChannels(s) {
			if MaxLength(c) < MaxLength(ch) {
				ch = c
			}
		}
		return MaxLength(ch), "the most a message on the " + ch + " channel may have"
	case s.Action == ActionCall:
		return maxTaskText, "the most an agent task's " + field + " may have"
	default:
		return maxShopNotes, "the most a note to the shop may have"
	}
}

// LimitError says a render went past one of its bounds.
type LimitError struct {
	Reason string // e.g. "rendering exceeded 2000 characters"
}

func (e *LimitError) Error() string { return e.Reason }

// ---- engine ------------------------------------------------------------------

// stateKey binds the render state; Liquid names cannot spell it.
const stateKey = "\x00ordercare"

// tickTag is inserted at the head of every loop body; it counts iterations.
// guardTag follows every capture block; it checks the captured length.
const (
	tickTag  = "ordercare_loop_tick"
	guardTag = "ordercare_capture_guard"
)

type liquidEngine struct {
	cfg  render.Config
	tick render.Node
}

var engine = sync.OnceValue(func() *liquidEngine {
	cfg := render.NewConfig()
	cfg.StrictVariables = true
	filters.AddStandardFilters(boundedFilters{&cfg})
	tags.AddStandardTags(cfg)
	// include reads files from disk: never from an ops-edited template.
	cfg.AddTag("include", func(string) (func(io.Writer, render.Context) error, error) {
		return nil, errors.New("the include tag is not allowed in care templates")
	})
	cfg.AddTag(tickTag, func(string) (func(io.Writer, render.Context) error, error) {
		return func(_ io.Writer, ctx render.Context) error {
			st, _ := ctx.Get(stateKey).(*renderState)
			if st == nil {
				return nil
			}
			return st.tick()
		}, nil
	})
	cfg.AddTag(guardTag, func(name string) (func(io.Writer, render.Context) error, error) {
		return func(_ io.Writer, ctx render.Context) error {
			if v, ok := ctx.Get(name).(string); ok && len(v) > MaxValueLength && utf8.RuneCountInString(v) > MaxValueLength {
				return &LimitError{fmt.Sprintf("capture %s made a value longer than %d characters", name, MaxValueLength)}
			}
			return nil
		}, nil
	})
	tick, err := cfg.Compile("{% "+tickTag+" %}", parser.SourceLoc{})
	if err != nil {
		panic("playbook: loop tick does not compile: " + err.Error()) // impossible: constant source
	}
	return &liquidEngine{cfg: cfg, tick: tick}
})

// renderState is the budget of one render.
type renderState struct {
	deadline   time.Time
	iterations int
}

func (st *renderState) tick() error {
	st.iterations++
	if st.iterations > MaxLoopIterations {
		return &LimitError{fmt.Sprintf("loops ran more than %d iterations", MaxLoopIterations)}
	}
	return st.checkTime()
}

func (st *renderState) checkTime() error {
	if time.Now().After(st.deadline) {
		return &LimitError{fmt.Sprintf("rendering took longer than %s", renderTimeout)}
	}
	return nil
}

// limitWriter keeps at most max characters and fails the render beyond.
type limitWriter struct {
	b     strings.Builder
	n     int // characters written
	max   int
	st    *renderState
	limit string // what max is, for the error
}

func (w *limitWriter) Write(p []byte) (int, error) {
	w.n += utf8.RuneCount(p)
	if w.n > w.max {
		return 0, &LimitError{fmt.Sprintf("rendering exceeded %d characters (%s)", w.max, w.limit)}
	}
	if err := w.st.checkTime(); err != nil {
		return 0, err
	}
	return w.b.Write(p)
}

// compileScript parses src and prepares it for bounded rendering: every
// loop body counts its iterations. Errors are *syntaxError with a position.
func compileScript(src string) (render.Node, error) {
	if err := checkMarkup(src); err != nil {
		return nil, err
	}
	e := engine()
	root, perr := e.cfg.Compile(src, parser.SourceLoc{LineNo: 1})
	if perr != nil {
		return nil, liquidSyntaxError(src, perr)
	}
	if err := instrument(root, e); err != nil {
		return nil, err
	}
	return root, nil
}

// instrument puts the tick at the head of every for loop body, checks the
// variable of every capture block right after it (a capture renders into a
// variable, not the bounded writer), and refuses a loop inside a capture
// (its output would be unbounded before that check), tablerow (HTML) and
// the engine's own tags.
func instrument(root render.Node, e *liquidEngine) error {
	seq, ok := root.(*render.SeqNode)
	if !ok {
		return nil
	}
	var err error
	seq.Children, err = instrumentSeq(seq.Children, e, false)
	return err
}

func instrumentSeq(nodes []render.Node, e *liquidEngine, inCapture bool) ([]render.Node, error) {
	out := make([]render.Node, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n)
		var err error
		switch n := n.(type) {
		case *render.SeqNode:
			n.Children, err = instrumentSeq(n.Children, e, inCapture)
		case *render.TagNode:
			if n.Name == tickTag || n.Name == guardTag {
				return nil, &syntaxError{line: n.SourceLoc.LineNo, msg: fmt.Sprintf("unknown tag %q", n.Name)}
			}
		case *render.BlockNode:
			switch {
			case n.Name == "tablerow":
				return nil, &syntaxError{line: n.SourceLoc.LineNo, bound: true, msg: "the tablerow tag is not allowed in care templates"}
			case n.Name == "for" && inCapture:
				return nil, &syntaxError{line: n.SourceLoc.LineNo, bound: true, msg: "a for loop inside a capture block is not allowed in care templates"}
			}
			capture := n.Name == "capture"
			n.Body, err = instrumentSeq(n.Body, e, inCapture || capture)
			for _, c := range n.Clauses {
				if err == nil {
					c.Body, err = instrumentSeq(c.Body, e, inCapture || capture)
				}
			}
			switch {
			case err != nil:
			case n.Name == "for":
				n.Body = append([]render.Node{e.tick}, n.Body...)
			case capture:
				g, gerr := e.cfg.Compile("{% "+guardTag+" "+strings.TrimSpace(n.Args)+" %}", n.SourceLoc)
				if gerr != nil {
					return nil, &syntaxError{line: n.SourceLoc.LineNo, msg: fmt.Sprintf("capture needs a variable name, not %q", n.Args)}
				}
				out = append(out, g)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// renderScript renders a compiled script with bindings b into at most
// maxLen characters (limit names that bound), within the budget.
func renderScript(root render.Node, b map[string]any, maxLen int, limit string) (out string, err error) {
	st := &renderState{deadline: time.Now().Add(renderTimeout)}
	vars := make(map[string]any, len(b)+1)
	for k, v := range b {
		vars[k] = v
	}
	vars[stateKey] = st
	w := &limitWriter{max: maxLen, st: st, limit: limit}
	defer func() {
		// The engine panics on some write errors and on failing filters.
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok {
				e = fmt.Errorf("%v", r)
			}
			out, err = "", renderFailure(e)
		}
	}()
	if rerr := render.Render(root, w, vars, engine().cfg); rerr != nil {
		return "", renderFailure(rerr)
	}
	return w.b.String(), nil
}

// renderFailure returns the *LimitError under err, else err without the
// engine's stack traces.
func renderFailure(err error) error {
	for e := err; e != nil; {
		var le *LimitError
		if errors.As(e, &le) {
			return le
		}
		switch x := e.(type) {
		case expressions.FilterError:
			e = x.Err
		case interface{ Cause() error }:
			e = x.Cause()
		default:
			e = errors.Unwrap(e)
		}
	}
	msg, _, _ := strings.Cut(err.Error(), "\nOriginal stacktrace")
	return errors.New(msg)
}

// ---- filters -------------------------------------------------------------------

// boundedFilters registers every standard filter wrapped so that it
// refuses to make a value longer than MaxValueLength, and refuses before
// the work the inputs of join and replace that would make one.
type boundedFilters struct{ c *render.Config }

func (b boundedFilters) AddFilter(name string, fn any) {
	b.c.AddFilter(name, boundFilter(name, fn))
}

func boundFilter(name string, fn any) any {
	rf := reflect.ValueOf(fn)
	ft := rf.Type()
	return reflect.MakeFunc(ft, func(in []reflect.Value) []reflect.Value {
		if err := precheck(name, in); err != nil {
			panic(expressions.FilterError{FilterName: name, Err: err})
		}
		var out []reflect.Value
		if ft.IsVariadic() {
			out = rf.CallSlice(in)
		} else {
			out = rf.Call(in)
		}
		if len(out) > 0 && out[0].IsValid() {
			if err := checkSize(name, out[0].Interface()); err != nil {
				panic(expressions.FilterError{FilterName: name, Err: err})
			}
		}
		return out
	}).Interface()
}

func tooLong(filter string) error {
	return &LimitError{fmt.Sprintf("the %s filter would make a value longer than %d characters or elements", filter, MaxValueLength)}
}

// checkSize refuses a string or array longer than MaxValueLength.
func checkSize(filter string, v any) error {
	switch x := v.(type) {
	case string:
		if len(x) > MaxValueLength && utf8.RuneCountInString(x) > MaxValueLength {
			return tooLong(filter)
		}
	case []byte:
		if len(x) > MaxValueLength && utf8.RuneCount(x) > MaxValueLength {
			return tooLong(filter)
		}
	default:
		if rv := reflect.ValueOf(v); rv.IsValid() && (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array) && rv.Len() > MaxValueLength {
			return tooLong(filter)
		}
	}
	return nil
}

// precheck refuses the inputs of the filters whose output grows as the
// product of their inputs, before they allocate it.
func precheck(name string, in []reflect.Value) error {
	strArg := func(i int) (string, bool) {
		if i >= len(in) || in[i].Kind() != reflect.String {
			return "", false
		}
		return in[i].String(), true
	}
	switch name {
	case "join":
		if len(in) < 2 || (in[0].Kind() != reflect.Slice && in[0].Kind() != reflect.Array) {
			return nil
		}
		sep := " "
		if in[1].Kind() == reflect.Func {
			if r := in[1].Call([]reflect.Value{reflect.ValueOf(" ")}); len(r) == 1 && r[0].Kind() == reflect.String {
				sep = r[0].String()
			}
		}
		if n := in[0].Len(); n > MaxValueLength || n*len(sep) > 4*MaxValueLength {
			return tooLong(name)
		}
	case "replace", "replace_first":
		s, ok1 := strArg(0)
		old, ok2 := strArg(1)
		repl, ok3 := strArg(2)
		if ok1 && ok2 && ok3 && old == "" && (len(s)+1)*len(repl) > 4*MaxValueLength {
			return tooLong(name)
		}
	}
	return nil
}

// ---- syntax --------------------------------------------------------------------

// syntaxError is a Liquid syntax error at a position of the script, or
// (bound) a construct refused because it cannot be rendered within bounds.
type syntaxError struct {
	line, col int // 1-based; col 0 when unknown
	msg       string
	bound     bool
}

func (e *syntaxError) Error() string {
	what := "Liquid syntax error "
	if e.bound {
		what = ""
	}
	switch {
	case e.line <= 0:
		return what + e.msg
	case e.col <= 0:
		return fmt.Sprintf("%sat line %d: %s", what, e.line, e.msg)
	}
	return fmt.Sprintf("%sat line %d, column %d: %s", what, e.line, e.col, e.msg)
}

// tokenRE is the engine's own tokenizer pattern (default delimiters):
// outputs never span lines, tags may.
var tokenRE = regexp.MustCompile(`\{\{-?\s*(.+?)\s*-?\}\}|\{%-?\s*(\w+)(?:\s+((?:[^%]|%[^}])+?))?\s*-?%\}`)

// literalRangeRE is a range of two integer literals.
var literalRangeRE = regexp.MustCompile(`\(\s*(-?\d{1,12})\s*\.\.\s*(-?\d{1,12})\s*\)`)

// lineCol is the 1-based line and column (in characters) of byte offset i.
func lineCol(src string, i int) (int, int) {
	before := src[:i]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndex(before, "\n")+1:]) + 1
	return line, col
}

// checkMarkup refuses what the engine would pass through as text: an
// opening {{ or {% that nothing closes, or a closing }} or %} that nothing
// opened (outside raw and comment blocks); and a range (a..b) anywhere but
// as the collection of a for loop, where it is iterated lazily.
func checkMarkup(src string) error {
	p, skip := 0, ""
	check := func(text string, at int) error {
		if skip != "" {
			return nil
		}
		for _, d := range []struct{ tok, msg string }{
			{"{{", "{{ is not closed by }} on the same line"},
			{"{%", "{% is not closed by %}"},
			{"}}", "}} closes nothing: no {{ before it"},
			{"%}", "%} closes nothing: no {% before it"},
		} {
			if i := strings.Index(text, d.tok); i >= 0 {
				l, c := lineCol(src, at+i)
				return &syntaxError{line: l, col: c, msg: d.msg}
			}
		}
		return nil
	}
	for _, m := range tokenRE.FindAllStringSubmatchIndex(src, -1) {
		if err := check(src[p:m[0]], p); err != nil {
			return err
		}
		p = m[1]
		tag := ""
		if m[4] >= 0 {
			tag = src[m[4]:m[5]]
		}
		switch {
		case skip == "" && (tag == "raw" || tag == "comment"):
			skip = tag
			continue
		case skip != "" && tag == "end"+skip:
			skip = ""
			continue
		case skip != "":
			continue
		}
		body := quotedRE.ReplaceAllString(src[m[0]:m[1]], `""`)
		if strings.Contains(body, "..") && tag != "for" {
			l, c := lineCol(src, m[0])
			return &syntaxError{line: l, col: c, bound: true, msg: "a range (a..b) may only be the collection of a for loop"}
		}
		// A literal range too long for the budget fails on every order,
		// even in a branch the sample orders do not take.
		if r := literalRangeRE.FindStringSubmatch(body); r != nil && tag == "for" {
			a, _ := strconv.Atoi(r[1])
			b, _ := strconv.Atoi(r[2])
			if int64(b)-int64(a)+1 > MaxLoopIterations {
				l, c := lineCol(src, m[0])
				return &syntaxError{line: l, col: c, bound: true, msg: fmt.Sprintf("the loop over (%s..%s) runs more than %d iterations", r[1], r[2], MaxLoopIterations)}
			}
		}
	}
	return check(src[p:], p)
}

// liquidSyntaxError adds the column to the engine's error: the engine names
// the line and quotes the markup at fault.
func liquidSyntaxError(src string, err parser.Error) error {
	msg := err.Error()
	line := err.LineNumber()
	msg = strings.TrimPrefix(msg, "Liquid error")
	msg = strings.TrimPrefix(msg, fmt.Sprintf(" (line %d)", line))
	msg = strings.TrimPrefix(msg, ": ")
	col := 0
	if i := strings.LastIndex(msg, " in "); i >= 0 {
		markup := msg[i+len(" in "):]
		lines := strings.Split(src, "\n")
		if line >= 1 && line <= len(lines) {
			if j := strings.Index(lines[line-1], markup); j >= 0 {
				col = utf8.RuneCountInString(lines[line-1][:j]) + 1
			}
		}
		if j := strings.Index(src, markup); col == 0 && j >= 0 && !strings.Contains(markup, "\n") {
			line, col = lineCol(src, j)
		}
	}
	return &syntaxError{line: line, col: col, msg: msg}
}

// ---- sanitising ----------------------------------------------------------------

// StripControls removes from s the characters that must never reach a
// message: C0 controls other than tab and newline, DEL, C1 controls, the
// bidirectional marks and overrides (U+061C, U+200E, U+200F, U+202A–U+202E,
// U+2066–U+2069) and U+FEFF. Everything else is kept as it is.
func StripControls(s string) string {
	clean := true
	for _, r := range s {
		if stripped(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if stripped(r) {
			return -1
		}
		return r
	}, s)
}

func stripped(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0xfeff:
		return true
	}
	return false
}
