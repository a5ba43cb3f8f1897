package httpapi

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/http"
	"sync"
	"time"

	"github.com/ordercare/ordercare/internal/care"
)

// TaskEvents tunes GET /v1/tasks/events; a zero field takes its default.
type TaskEvents struct {
	// Poll is how often a shop's open and claimed tasks are looked at
	// while at least one of its streams is open (one read per shop, however
	// many listen). Default 1 s. Task actions through this server are
	// announced at once.
	Poll time.Duration
	// Heartbeat is how often an idle stream gets a comment line, so that
	// proxies keep it open and a dead client is noticed. Default 25 s.
	Heartbeat time.Duration
	// MaxAge ends a stream after this long; EventSource reconnects, and the
	// new request is authenticated afresh (a replaced key or deactivated
	// agent is shut out). Default 10 min.
	MaxAge time.Duration
	// MaxPerShop bounds the open streams of one shop; more are refused with
	// 429. Default 100.
	MaxPerShop int
}

func (c TaskEvents) withDefaults() TaskEvents {
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 25 * time.Second
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 10 * time.Minute
	}
	if c.MaxPerShop <= 0 {
		c.MaxPerShop = 100
	}
	return c
}

// taskHub fans "the shop's tasks changed" out to the shop's open streams.
// A shop with listeners has one watcher goroutine that compares a
// fingerprint of its open and claimed tasks every Poll; task actions
// through the API notify directly. Safe for concurrent use.
type taskHub struct {
	cfg    TaskEvents
	look   func(ctx context.Context, shop string) (uint64, error) // the shop's task fingerprint
	mu     sync.Mutex
	shops  map[string]*shopStreams
	closed chan struct{} // closed by close: every stream ends, new ones are refused
	once   sync.Once
}

type shopStreams struct {
	subs map[chan struct{}]struct{}
	stop context.CancelFunc
}

func newTaskHub(cfg TaskEvents, look func(context.Context, string) (uint64, error)) *taskHub {
	return &taskHub{cfg: cfg.withDefaults(), look: look, shops: map[string]*shopStreams{}, closed: make(chan struct{})}
}

var (
	errStreamsFull = &apiError{Status: http.StatusTooManyRequests, Code: "too_many_requests", Reason: "streams",
		Message: "this shop has too many open task streams: close other console tabs, or poll GET /v1/tasks"}
	errStreamsClosed = &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Reason: "shutting_down",
		Message: "the server is shutting down: reconnect in a moment"}
	errNoStreaming = &apiError{Status: http.StatusNotImplemented, Code: "not_implemented", Reason: "no_streaming",
		Message: "this deployment cannot stream responses (API Gateway and Lambda buffer them): poll GET /v1/tasks"}
)

// subscribe adds a listener to shop's changes; the channel (capacity 1)
// receives a value after each change. cancel removes it.
func (h *taskHub) subscribe(shop string) (ch chan struct{}, cancel func(), err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.closed:
		return nil, nil, errStreamsClosed
	default:
	}
	ss := h.shops[shop]
	if ss == nil {
		// The first listener: what it will be told about starts from now,
		// so the baseline is read before it is answered.
		ctx, stop := context.WithCancel(context.Background())
		last, err := h.look(ctx, shop)
		ss = &shopStreams{subs: map[chan struct{}]struct{}{}, stop: stop}
		h.shops[shop] = ss
		go h.watch(ctx, shop, last, err == nil)
	}
	if len(ss.subs) >= h.cfg.MaxPerShop {
		return nil, nil, errStreamsFull
	}
	ch = make(chan struct{}, 1)
	ss.subs[ch] = struct{}{}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(ss.subs, ch)
		if len(ss.subs) == 0 && h.shops[shop] == ss {
			ss.stop()
			delete(h.shops, shop)
		}
	}, nil
}

// notify tells shop's listeners that its tasks changed.
func (h *taskHub) notify(shop string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ss := h.shops[shop]; ss != nil {
		for ch := range ss.subs {
			select {
			case ch <- struct{}{}:
			default: // one pending notice says it all
			}
		}
	}
}

// watch compares shop's task fingerprint every Poll until ctx ends.
func (h *taskHub) watch(ctx context.Context, shop string, last uint64, known bool) {
	tick := time.NewTicker(h.cfg.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.closed:
			return
		case <-tick.C:
		}
		fp, err := h.look(ctx, shop)
		if err != nil {
			continue // the store hiccuped: look again next tick
		}
		if known && fp != last {
			h.notify(shop)
		}
		last, known = fp, true
	}
}

// close ends every stream and refuses new ones.
func (h *taskHub) close() { h.once.Do(func() { close(h.closed) }) }

// taskFingerprint sums up what the queue shows of a shop's open and
// claimed tasks (ids, status, holder, lease, priority, breach): it changes
// when a task appears, is claimed, lapses, breaches or closes.
func (s *Server) taskFingerprint(ctx context.Context, shop string) (uint64, error) {
	f := fnv.New64a()
	for _, st := range []care.TaskStatus{care.TaskOpen, care.TaskClaimed} {
		tasks, err := s.queue.List(ctx, shop, st)
		if err != nil {
			return 0, err
		}
		for _, t := range tasks {
			fmt.Fprintf(f, "%s\x00%s\x00%s\x00%d\x00%t\x00", t.ID, t.Status, t.Agent, t.Priority, t.Breached)
			if t.LeaseUntil != nil {
				_ = binary.Write(f, binary.LittleEndian, t.LeaseUntil.UnixNano())
			}
		}
	}
	return f.Sum64(), nil
}

// CloseStreams ends every open GET /v1/tasks/events stream and refuses new
// ones (503): register it with http.Server.RegisterOnShutdown, since
// Shutdown otherwise waits for streams that never go idle.
func (s *Server) CloseStreams() { s.events.close() }

// taskEvents is GET /v1/tasks/events (ops and agents, like GET /v1/tasks):
// a Server-Sent Events stream of the caller's shop. It sends "ready" once,
// then "changed" whenever the shop's open or claimed tasks change; the data
// is {"at": server time} and never a task or buyer detail: the client then
// reads GET /v1/tasks. Comment lines keep it alive every Heartbeat; it ends
// after MaxAge, on CloseStreams, or when the client goes. Where responses
// cannot be streamed (API Gateway and Lambda) it answers 501 at once.
func (s *Server) taskEvents(w http.ResponseWriter, r *http.Request) {
	p, err := s.shopPrincipal(r, "", care.RoleOps, care.RoleAgent)
	if err == nil && !canFlush(w) {
		err = errNoStreaming
	}
	var changed chan struct{}
	var cancel func()
	if err == nil {
		changed, cancel, err = s.events.subscribe(p.ShopID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer cancel()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a server WriteTimeout would cut every stream
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(format string, args ...any) bool {
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: 3000\nevent: ready\ndata: {\"at\":%q}\n\n", s.now().UTC().Format(time.RFC3339Nano)) {
		return
	}
	cfg := s.events.cfg
	beat := time.NewTicker(cfg.Heartbeat)
	defer beat.Stop()
	age := time.NewTimer(cfg.MaxAge)
	defer age.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.events.closed:
			send("event: bye\ndata: {}\n\n")
			return
		case <-age.C:
			return
		case <-beat.C:
			if !send(": ping\n\n") {
				return
			}
		case <-changed:
			if !send("event: changed\ndata: {\"at\":%q}\n\n", s.now().UTC().Format(time.RFC3339Nano)) {
				return
			}
		}
	}
}

// canFlush reports whether w (or a writer it wraps) can flush a partial
// response to the client.
func canFlush(w http.ResponseWriter) bool {
	for {
		switch t := w.(type) {
		case http.Flusher:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return false
		}
	}
}
