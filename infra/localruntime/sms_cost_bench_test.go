package localruntime_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/infra/mototest"
	"github.com/ordercare/ordercare/infra/snssms"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/sms"
)

// BenchmarkSMSPer1000Orders (make cost-sms) prices the SMS part of
// care per 1,000 orders, and what the ledger's deduplication and the
// quiet-hour deferral save against a naive sender.
//
// Which steps go by SMS (every other message stays on the outbox): the
// unpaid chase's reminders, the COD ask, the pre-ship ask, the shipping
// notice and the stalled-parcel message; pickup reminders, delivery care
// and review requests do not (email or the shop's IM suit them better).
// Texts are the default templates' (zh-CN to a Chinese mobile, en to a US
// one), sent through the real sms channel (SNS on moto_server), so the
// segments are the ones billed: counted at the provider call, UCS-2 or
// GSM-7, the refusal suffix included where it applies.
//
// The mix per order (the shares of make cost's mix): 10% chased and paid
// after one reminder, 10% chased and never paid (every reminder), 15% COD
// (one ask), 5% flagged by the pre-ship check (one ask; China only: its
// rules are Chinese provinces), 1.105 shipped parcels (one notice each),
// 5% of parcels stall once (one message).
//
// Each journey runs three times: as is; with every webhook delivered three
// times (the same delivery again, and the platform's resend with a new
// delivery id); and with the first text's answer lost after it went out
// (the call times out: the kernel records outcome_unknown and never sends
// it again). The provider calls must not change: that is measured. A naive
// sender (no ledger) sends once per delivery and again on a retry: what it
// would pay at the stated redelivery and retry rates is computed from the
// measured texts. The night journey (an order placed at 22:50 buyer time
// and paid at 07:30) measures the deferral: the reminder a naive sender
// sends at 23:00 is deferred to 08:00 and then skipped, paid.
//
//	go test -run '^$' -bench SMSPer1000Orders -benchtime 1x ./infra/localruntime/
func BenchmarkSMSPer1000Orders(b *testing.B) {
	var out io.Writer = os.Stdout
	moto := mototest.Start(b)
	markets := []smsMarket{marketCN, marketUS}
	measured := map[string]map[string]smsResult{} // market → journey → as is
	fmt.Fprintf(out, "\nSMS per journey (provider calls / segments billed), as is, webhooks delivered 3 times, first answer lost:\n\n")
	fmt.Fprintf(out, "| market | journey | as is | redelivered x3 | answer lost | its workflow's texts (ledger) | their segments |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, m := range markets {
		measured[m.name] = map[string]smsResult{}
		for _, j := range smsJourneys {
			if j.cnOnly && m.name != marketCN.name {
				continue
			}
			var got [3]smsResult
			var sent, segs int // the journey's workflow's texts, from the ledger
			for mode := range 3 {
				h, counter := smsCostHarness(b, moto)
				d := &deliverer{h: h, times: 1}
				if mode == 1 {
					d.times = 3
				}
				if mode == 2 {
					counter.loseNext()
				}
				id := j.run(h, d, m)
				got[mode] = smsResult{counter.calls(), counter.segments()}
				if mode == 0 {
					for _, msg := range h.messages(id) {
						if msg.Channel == "sms" && msg.Status == care.MessageSent && msg.Workflow == j.wf {
							sent++
							segs += msg.Segments
						}
					}
				}
			}
			if got[1] != got[0] || got[2] != got[0] {
				b.Errorf("%s %s: provider calls/segments %v as is, %v redelivered, %v answer lost: the ledger let a text go twice", m.name, j.name, got[0], got[1], got[2])
			}
			measured[m.name][j.name] = smsResult{sent, segs}
			fmt.Fprintf(out, "| %s | %s | %d / %d | %d / %d | %d / %d | %d | %d |\n", m.name, j.name,
				got[0].calls, got[0].segments, got[1].calls, got[1].segments, got[2].calls, got[2].segments, sent, segs)
		}
	}

	fmt.Fprintf(out, "\nStated inputs: redelivered webhooks %.1f%% of deliveries; sends whose answer is lost (timeouts, crashes) %.1f%%;\n", 100*rateRedelivered, 100*rateAnswerLost)
	fmt.Fprintf(out, "orders placed at night (21:00-08:00 buyer time) %.0f%% of chased orders, %.0f%% of them paid before 08:00;\n", 100*shareNight, 100*shareNightPaid)
	fmt.Fprintf(out, "AWS compute and storage $%.4f per 1,000 orders (make cost, all nine workflows: an input here, not re-measured).\n", awsComputePer1000)
	fmt.Fprintf(out, "Price per segment (AWS End User Messaging SMS, outbound; ASSUMED: its pricing page, aws.amazon.com/end-user-messaging/pricing/, could not be read\n")
	fmt.Fprintf(out, "from this machine; set smsPrice* to today's figures): China $%.4f per part; US $%.5f (per part $%.5f + carrier fee $%.5f, 10DLC).\n\n", smsPriceCN, smsPriceUSBase+smsPriceUSCarrier, smsPriceUSBase, smsPriceUSCarrier)
	fmt.Fprintf(out, "| per 1,000 orders | China (zh-CN) | US (en) |\n|---|---:|---:|\n")
	type priced struct{ segments, naive, smsUSD, naiveUSD, total, naiveTotal, dedupeShare, quietShare float64 }
	var rows [2]priced
	for i, m := range markets {
		var seg float64
		for _, l := range smsMix {
			if l.cnOnly && m.name != marketCN.name {
				continue
			}
			seg += 1000 * l.perOrder * float64(measured[m.name][l.journey].segments)
		}
		if n := measured[m.name][journeyNight].segments; n != 0 {
			b.Errorf("%s: the night journey sent %d segments; its reminder should have been deferred, then skipped", m.name, n)
		}
		dedupe := seg * (rateRedelivered + rateAnswerLost)
		naive := seg + dedupe + nightNaive(m, measured)*1000*shareChased*shareNight*shareNightPaid
		price := m.price
		r := priced{segments: seg, naive: naive, smsUSD: seg * price, naiveUSD: naive * price}
		r.total = awsComputePer1000 + r.smsUSD
		r.naiveTotal = awsComputePer1000 + r.naiveUSD
		r.dedupeShare = dedupe * price / r.naiveTotal
		r.quietShare = (naive - seg - dedupe) * price / r.naiveTotal
		rows[i] = r
	}
	row := func(what, format string, f func(p priced) float64) {
		fmt.Fprintf(out, "| %s | "+format+" | "+format+" |\n", what, f(rows[0]), f(rows[1]))
	}
	row("SMS segments (ordercare)", "%.0f", func(p priced) float64 { return p.segments })
	row("SMS segments (naive sender)", "%.0f", func(p priced) float64 { return p.naive })
	row("SMS USD (ordercare)", "%.2f", func(p priced) float64 { return p.smsUSD })
	row("total USD with AWS compute (ordercare)", "%.2f", func(p priced) float64 { return p.total })
	row("total USD with AWS compute (naive sender)", "%.2f", func(p priced) float64 { return p.naiveTotal })
	row("SMS share of the total (ordercare)", "%.1f%%", func(p priced) float64 { return 100 * p.smsUSD / p.total })
	row("saved by ledger dedupe (share of naive total)", "%.2f%%", func(p priced) float64 { return 100 * p.dedupeShare })
	row("saved by quiet-hour deferral (share of naive total)", "%.2f%%", func(p priced) float64 { return 100 * p.quietShare })
	b.ReportMetric(rows[0].total, "USD/1000orders-CN")
	b.ReportMetric(rows[1].total, "USD/1000orders-US")
}

// nightNaive is the segments a naive sender pays for the night journey's
// reminder (ordercare deferred it, then skipped it: paid): the first
// reminder, as the day journey (paid after it) sent it.
func nightNaive(m smsMarket, measured map[string]map[string]smsResult) float64 {
	return float64(measured[m.name][journeyChasePaid].segments)
}

// smsResult is what a journey cost at the provider: calls and segments.
type smsResult struct{ calls, segments int }

// Stated inputs (see the benchmark's comment and README).
const (
	rateRedelivered   = 0.02    // share of webhook deliveries a platform delivers again (assumed)
	rateAnswerLost    = 0.005   // share of provider calls whose answer is lost (assumed)
	shareChased       = 0.20    // orders not paid at once (the mix)
	shareNight        = 0.20    // of those, placed 21:00-08:00 buyer time (assumed)
	shareNightPaid    = 0.50    // of those, paid before 08:00 (assumed)
	awsComputePer1000 = 0.2363  // make cost, all nine workflows, DynamoDB measured (README, Figures)
	smsPriceCN        = 0.03200 // USD per message part to China: assumed (international A2P to China), not checked here
	smsPriceUSBase    = 0.00581 // USD per message part to the US: AWS's published price as recalled, not checked here
	smsPriceUSCarrier = 0.00302 // USD carrier fee per part, US 10DLC: a rough average of the carriers' fees, not checked here
)

const (
	journeyChasePaid = "chase, paid after one reminder"
	journeyNight     = "chase, placed 22:50, paid 07:30 (night)"
)

// smsMix is the mix per order: journey runs per order.
var smsMix = []struct {
	journey  string
	perOrder float64
	cnOnly   bool
}{
	{journeyChasePaid, 0.10, false},
	{"chase, never paid (every reminder)", 0.10, false},
	{"COD ask, confirmed by reply", 0.15, false},
	{"pre-ship ask, flagged address", 0.05, true},
	{"shipping notice, one parcel", 0.85 * 1.3, false},
	{"parcel stalls once", 0.85 * 1.3 * 0.05, false},
}

// smsMarket is where the buyers are.
type smsMarket struct {
	name  string
	buyer map[string]any // the order's buyer
	price float64        // USD per segment
	reply string         // a confirming reply
	tz    *time.Location
}

var (
	shanghaiTZ, _ = time.LoadLocation("Asia/Shanghai")
	newYorkTZ, _  = time.LoadLocation("America/New_York")
	marketCN      = smsMarket{name: "China", buyer: map[string]any{"name": "陈晓燕", "phone": "+8613912345678", "locale": "zh-CN", "timezone": "Asia/Shanghai"},
		price: smsPriceCN, reply: "是的，确认", tz: shanghaiTZ}
	marketUS = smsMarket{name: "US", buyer: map[string]any{"name": "Ann Lee", "phone": "+12015550123", "locale": "en", "timezone": "America/New_York"},
		price: smsPriceUSBase + smsPriceUSCarrier, reply: "yes", tz: newYorkTZ}
)

// as sets ev's buyer to the market's.
func (m smsMarket) as(ev map[string]any) map[string]any {
	b := map[string]any{}
	for k, v := range m.buyer {
		b[k] = v
	}
	ev["order"].(map[string]any)["buyer"] = b
	return ev
}

// deliverer delivers each webhook times times: again as the same
// delivery, then as the platform's resend under a new delivery id.
type deliverer struct {
	h     *harness
	times int
	n     int
}

func (d *deliverer) send(ev map[string]any) {
	d.n++
	id := fmt.Sprintf("sms-cost-%d", d.n)
	for i := range d.times {
		if i == 2 {
			id += "-resent"
		}
		d.h.webhook(d.h.shop, id, ev)
	}
}

type smsJourney struct {
	name   string
	wf     care.Workflow // the workflow whose texts the mix prices (a shipped parcel also gets its notice)
	cnOnly bool
	run    func(h *harness, d *deliverer, m smsMarket) string
}

var smsJourneys = []smsJourney{
	{name: journeyChasePaid, wf: care.UnpaidChase, run: func(h *harness, d *deliverer, m smsMarket) string {
		d.send(m.as(order("S1", "129.90", false, 72*time.Hour, h.now())))
		h.advance("20m")
		d.send(event("order.paid", "S1", h.now(), nil))
		h.advance("72h")
		return "S1"
	}},
	{name: "chase, never paid (every reminder)", wf: care.UnpaidChase, run: func(h *harness, d *deliverer, m smsMarket) string {
		d.send(m.as(order("S2", "899.00", false, 24*time.Hour, h.now())))
		h.advance("30h")
		return "S2"
	}},
	{name: "COD ask, confirmed by reply", wf: care.CODConfirm, run: func(h *harness, d *deliverer, m smsMarket) string {
		d.send(m.as(order("S3", "129.90", true, 0, h.now())))
		h.advance("5m")
		h.advance("12h") // a US buyer's ask waits for 08:00
		d.send(event("buyer.replied", "S3", h.now(), map[string]any{"reply": map[string]string{"text": m.reply, "channel": "sms"}}))
		h.advance("1m")
		return "S3"
	}},
	{name: "pre-ship ask, flagged address", wf: "preship_check", cnOnly: true, run: func(h *harness, d *deliverer, m smsMarket) string {
		d.send(m.as(paidOrderAt("S4", lhasa, true, h.now())))
		h.advance("1m")
		d.send(event("order.paid", "S4", h.now(), nil))
		h.advance("10m")
		d.send(event("buyer.replied", "S4", h.now(), map[string]any{"reply": map[string]string{"text": m.reply, "channel": "sms"}}))
		h.advance("1m")
		return "S4"
	}},
	{name: "shipping notice, one parcel", wf: "shipping_notice", run: func(h *harness, d *deliverer, m smsMarket) string {
		d.send(m.as(paidOrderAt("S5", hangzhou, false, h.now())))
		d.send(event("order.paid", "S5", h.now(), nil))
		h.advance("1h")
		d.send(shipEvent("ship-S5", "S5", h.now(), "YT500", "FR-1"))
		h.advance("14h") // the digest window, and a US buyer's night
		return "S5"
	}},
	{name: "parcel stalls once", wf: "stalled_parcel", run: func(h *harness, d *deliverer, m smsMarket) string {
		d.send(m.as(paidOrderAt("S6", hangzhou, false, h.now())))
		d.send(event("order.paid", "S6", h.now(), nil))
		d.send(event("order.shipped", "S6", h.now(), map[string]any{"parcels": []map[string]any{
			{"tracking_number": "YT600", "carrier": "YTO", "status": "in_transit", "last_scan_at": h.now()}}}))
		h.advance("80h")
		h.advance("14h")
		return "S6"
	}},
	{name: journeyNight, wf: care.UnpaidChase, run: func(h *harness, d *deliverer, m smsMarket) string {
		placed := nextAt(h.now(), m.tz, 22, 50)
		h.advance(placed.Sub(h.now()).String())
		d.send(m.as(order("S7", "129.90", false, 72*time.Hour, h.now())))
		h.advance((8*time.Hour + 40*time.Minute).String()) // 07:30
		d.send(event("order.paid", "S7", h.now(), nil))
		h.advance("24h")
		return "S7"
	}},
}

// nextAt is the first hh:mm in loc after t.
func nextAt(t time.Time, loc *time.Location, hh, mm int) time.Time {
	l := t.In(loc)
	at := time.Date(l.Year(), l.Month(), l.Day(), hh, mm, 0, 0, loc)
	if !at.After(t) {
		at = at.AddDate(0, 0, 1)
	}
	return at
}

// smsCounter is the SNS client the sms channel calls: it counts calls and
// the segments of each text, and can lose the answer to the next call
// after the text went out (a timeout).
type smsCounter struct {
	api  snssms.API
	mu   sync.Mutex
	n    int
	segs int
	lose bool
}

func (c *smsCounter) Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error) {
	out, err := c.api.Publish(ctx, in, opts...)
	c.mu.Lock()
	lose := c.lose && err == nil
	if err == nil {
		c.n++
		c.segs += sms.Segments(aws.ToString(in.Message)).Segments
		c.lose = false
	}
	c.mu.Unlock()
	if lose {
		return nil, context.DeadlineExceeded
	}
	return out, err
}

func (c *smsCounter) loseNext()     { c.mu.Lock(); c.lose = true; c.mu.Unlock() }
func (c *smsCounter) calls() int    { c.mu.Lock(); defer c.mu.Unlock(); return c.n }
func (c *smsCounter) segments() int { c.mu.Lock(); defer c.mu.Unlock(); return c.segs }

// smsCostHarness is newHarness with the sms channel on SNS at moto (a
// server the benchmark shares), counted, and every message step of the
// SMS workflows sending by SMS.
func smsCostHarness(tb testing.TB, moto string) (*harness, *smsCounter) {
	tb.Helper()
	counter := &smsCounter{api: sns.NewFromConfig(mototest.Config(), func(o *sns.Options) { o.BaseEndpoint = aws.String(moto) })}
	rt, err := localruntime.Open(tb.Context(), localruntime.Options{DataDir: tb.TempDir(), Clock: localruntime.ClockVirtual, Start: start,
		SMS: &snssms.Channel{Client: counter}})
	if err != nil {
		tb.Fatal(err)
	}
	h := &harness{t: tb, rt: rt, api: httptest.NewServer(rt.API)}
	sfnSrv := httptest.NewServer(rt.SFN)
	tb.Cleanup(func() {
		h.api.Close()
		sfnSrv.Close()
		rt.Close()
	})
	h.sfn = sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(sfnSrv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(rt.SFNCredentials.AccessKeyID, rt.SFNCredentials.SecretAccessKey, "")})
	h.shop = h.newShop("tea")
	for _, wf := range []care.Workflow{care.UnpaidChase, care.CODConfirm, "preship_check", "shipping_notice", "stalled_parcel"} {
		h.editSteps(wf, func(st map[string]any) { st["channels"] = []any{"sms"} })
	}
	return h, counter
}
