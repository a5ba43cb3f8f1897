package localruntime_test

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// The order mix BenchmarkCostPer1000Orders prices, per order. Every order
// that ships (online paid at once, chased and then paid, COD confirmed) gets
// one preship_check and, per parcel, one shipping_notice and one
// stalled_parcel; a parcel left at a pickup point also gets a pickup_nudge.
//
//	share of orders                           | runs
//	60% online, paid at once                  | preship_check
//	10% unpaid, paid after one reminder       | unpaid_chase, preship_check
//	10% unpaid, 3 reminders + call, never pay | unpaid_chase (nothing ships)
//	10% COD, confirmed by the buyer's reply   | cod_confirm, preship_check
//	 5% COD, confirmed by an agent            | cod_confirm, preship_check
//	 5% of all orders flagged by preship (confirmed by reply), the rest clear
//	1.3 parcels per order that ships (85% ship: 1.105 parcels per order)
//	 5% of parcels stall once, 95% scan on (20 scans) to delivery
//	 8% of parcels go to a pickup point, a quarter of them perishable;
//	    90% are picked up after the first reminder, 10% are not (ordinary:
//	    reminder, expiry, reissue task; perishable: 2 reminders, call, reissue)
//	83% of orders are delivered (those that ship, less a few returned or
//	    lost): each gets a delivery_care and a review_request run;
//	10% of delivered buyers reply to the care message (a task, done)
//	20% of delivered orders are reviewed after the ask (the run ends
//	    reviewed); the rest get the ask, one reminder, and the window closes
//	 2% of delivered orders get a bad review (task, resolution, revise ask,
//	    revised); the other reviews (18%) end their bad_review run at once
const (
	shareDelivered  = 0.83
	shareCareReply  = 0.10
	shareReviewed   = 0.20
	shareBadReview  = 0.02
	shareGoodReview = 0.18
)

const (
	shareOnline      = 0.60
	shareChasePaid   = 0.10
	shareChaseUnpaid = 0.10
	shareCODReply    = 0.10
	shareCODAgent    = 0.05
	shareFlagged     = 0.05
	parcelsPerOrder  = 1.3
	shareStall       = 0.05
	sharePickup      = 0.08
	sharePerishable  = 0.25
	sharePickedUp    = 0.90
)

// Prices (USD, us-east-1), stated in the benchmark's output and README.
const (
	priceTransition = 0.025 / 1000       // Step Functions Standard, per state transition
	priceLambdaGBs  = 0.0000133334       // Lambda arm64, per GB-second
	priceLambdaReq  = 0.20 / 1e6         // Lambda, per request
	lambdaMemoryGB  = 128.0 / 1024       // the step function's memory
	lambdaSeconds   = 0.100              // assumed average duration of one step invocation
	priceWRU        = 1.25 / 1e6         // DynamoDB on-demand, per write request unit
	priceRRU        = 0.25 / 1e6         // DynamoDB on-demand, per read request unit
	readsPerStep    = 5                  // GetShop, GetOrder, ListOrderMessages, OptedOut, GetRun (strongly consistent, <= 4 KB; templates cached)
	writesPerStep   = 8                  // WRU (<= 1 KB items, each GSI written too): ReserveMessage + UpdateMessage (or CreateTask + UpdateTask), 3 each (GSI1, GSI2), + UpdateRun, 2 (GSI1)
	routerWritesRun = 6                  // WRU of the router's run record, 3 each (GSI1, GSI2 while scheduled): put (scheduled), update when started or stopped
	moveWRU         = 3                  // WRU of one move of a scheduled start: a stall watch whose deadline passed after newer scans (once per parcel in the mix: 20 scans over 5 days, a 3-day threshold)
	routerReadsRun  = 9                  // order, shop, ledger when it plans the start (Starter); when due: the due list, the run, order, shop, ledger; the order again to stop it
	targetPer1000   = 0.25               // issues 10 and 11's target per 1,000 orders
	costWFUnknown   = care.Workflow("?") // placeholder for a run without a workflow
)

// runCount is what one execution cost: states entered (billed transitions)
// and Task states entered (Lambda invocations of the step function).
type runCount struct {
	transitions, tasks int
}

// counts reads the execution history of r through the Step Functions API.
func (h *harness) counts(r care.Run) runCount {
	h.t.Helper()
	var c runCount
	// Every execution the run had: one per generation (a run that rests
	// between steps, steps.Handler.Rest, has one per stretch of steps); the
	// current one only once it exists (a scheduled run has none yet).
	for gen := 0; gen <= r.Gen; gen++ {
		if gen == r.Gen && r.Execution == "" {
			break
		}
		name := steps.RunRef{Shop: r.ShopID, Order: r.OrderID, Workflow: r.Workflow, Subject: r.Subject, Gen: gen}.Execution()
		arn := fmt.Sprintf("arn:aws:states:us-east-1:111111111111:execution:%s:%s", r.Workflow, name)
		p := sfn.NewGetExecutionHistoryPaginator(h.sfn, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
		for p.HasMorePages() {
			page, err := p.NextPage(h.t.Context())
			if err != nil {
				h.t.Fatal(err)
			}
			for _, ev := range page.Events {
				typ := string(ev.Type)
				if strings.HasSuffix(typ, "StateEntered") {
					c.transitions++
				}
				if typ == "TaskStateEntered" {
					c.tasks++
				}
			}
		}
	}
	return c
}

// costCase is one journey of one order, driven through the HTTP API on the
// virtual clock; it returns the order's id.
type costCase struct {
	name string
	run  func(h *harness) string
}

var costCases = []costCase{
	{"online paid, unflagged, 1 parcel, 20 scans, delivered", func(h *harness) string {
		h.webhook(h.shop, "", paidOrderAt("C1", hangzhou, false, h.now()))
		h.advance("1m")
		h.webhook(h.shop, "", event("order.paid", "C1", h.now(), nil))
		h.advance("2h")
		h.webhook(h.shop, "", event("order.shipped", "C1", h.now(), map[string]any{"parcels": []map[string]any{
			{"tracking_number": "YT300", "carrier": "YTO", "status": "in_transit", "last_scan_at": h.now()}}}))
		h.advance("0s")
		for i := 0; i < 20; i++ {
			h.advance("6h")
			h.scan("C1", "YT300", "in_transit")
		}
		h.advance("6h")
		h.scan("C1", "YT300", "delivered")
		h.advance("0s")
		return "C1"
	}},
	{"unpaid, one reminder, then paid", func(h *harness) string {
		h.webhook(h.shop, "", order("C2", "129.90", false, 72*time.Hour, start))
		h.advance("10m")
		h.webhook(h.shop, "", event("order.paid", "C2", h.now(), nil))
		h.advance("72h")
		return "C2"
	}},
	{"unpaid, 3 reminders and a call, agent's outcome", func(h *harness) string {
		h.webhook(h.shop, "", order("C3", "899.00", false, 24*time.Hour, start))
		h.advance("13h")
		for _, task := range h.tasks(h.agent(), "open") {
			h.must("POST", "/v1/tasks/"+task.ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "will_pay"}, 200, nil)
		}
		h.advance("24h")
		return "C3"
	}},
	{"COD, confirmed by reply", func(h *harness) string {
		h.webhook(h.shop, "", order("C4", "129.90", true, 0, start))
		h.advance("5m")
		h.webhook(h.shop, "", event("buyer.replied", "C4", h.now(), map[string]any{"reply": map[string]string{"text": "是的，确认"}}))
		h.advance("0s")
		return "C4"
	}},
	{"COD, confirmed by an agent after silence", func(h *harness) string {
		h.webhook(h.shop, "", order("C5", "129.90", true, 0, start))
		h.advance("3h")
		for _, task := range h.tasks(h.agent(), "open") {
			h.must("POST", "/v1/tasks/"+task.ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "confirmed"}, 200, nil)
		}
		h.advance("0s")
		return "C5"
	}},
	{"preship flagged, confirmed by reply", func(h *harness) string {
		h.webhook(h.shop, "", paidOrderAt("C6", lhasa, true, start))
		h.advance("1m")
		h.webhook(h.shop, "", event("order.paid", "C6", h.now(), nil))
		h.advance("10m")
		h.webhook(h.shop, "", event("buyer.replied", "C6", h.now(), map[string]any{"reply": map[string]string{"text": "是的，没问题"}}))
		h.advance("0s")
		return "C6"
	}},
	{"parcel stalls once (task, message, re-check), then a scan", func(h *harness) string {
		h.shippedOrder("C7", "YT301", start)
		h.advance("78h")
		h.advance("1h")
		h.scan("C7", "YT301", "in_transit")
		h.advance("6h")
		return "C7"
	}},
	{"pickup, ordinary, picked up after the reminder", func(h *harness) string {
		avail := start.Add(25 * time.Hour)
		h.shippedToPickup("C8", "SF300", 0, start.Add(5*time.Minute), avail, avail.Add(48*time.Hour))
		h.advance("25h")
		h.scan("C8", "SF300", "delivered")
		h.advance("72h")
		return "C8"
	}},
	{"pickup, ordinary, not picked up, reissue task done", func(h *harness) string {
		avail := start.Add(25 * time.Hour)
		h.shippedToPickup("C9", "SF301", 0, start.Add(5*time.Minute), avail, avail.Add(48*time.Hour))
		h.advance("49h")
		for _, task := range h.tasks(h.agent(), "open") {
			h.must("POST", "/v1/tasks/"+task.ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "refunded"}, 200, nil)
		}
		h.advance("0s")
		return "C9"
	}},
	{"pickup, perishable, picked up after one reminder", func(h *harness) string {
		avail := start.Add(24*time.Hour + 5*time.Minute)
		h.shippedToPickup("C10", "SF302", 48, start.Add(5*time.Minute), avail, avail.Add(72*time.Hour))
		h.advance("1h")
		h.scan("C10", "SF302", "delivered")
		h.advance("72h")
		return "C10"
	}},
	{"pickup, perishable, 2 reminders, call, reissue task done", func(h *harness) string {
		shipped := start.Add(5 * time.Minute)
		avail := start.Add(24*time.Hour + 5*time.Minute)
		h.shippedToPickup("C11", "SF303", 48, shipped, avail, avail.Add(72*time.Hour))
		h.advance(shipped.Add(48 * time.Hour).Sub(h.now()).String())
		h.advance("0s")
		for _, task := range h.tasks(h.agent(), "open") {
			if task.Tag == care.TagReissue {
				h.must("POST", "/v1/tasks/"+task.ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "reshipped"}, 200, nil)
			}
		}
		h.advance("0s")
		return "C11"
	}},
	{"delivered: care unanswered, ask + reminder, no review", func(h *harness) string {
		h.deliveredOrder("C12", "c12@example.com", "")
		h.advance("1000h")
		return "C12"
	}},
	{"delivered: care reply (task done), reviewed 4 stars after the ask", func(h *harness) string {
		h.deliveredOrder("C13", "c13@example.com", "")
		h.advance("36h")
		h.reply("C13", "盒子压坏了")
		for _, task := range h.tasks(h.agent(), "open") {
			h.must("POST", "/v1/tasks/"+task.ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "explained"}, 200, nil)
		}
		h.advance("180h")
		h.review("C13", "rv-13", "shopify", 4, "不错")
		h.advance("800h")
		return "C13"
	}},
	{"bad review: task, reissued, revise ask, revised", func(h *harness) string {
		h.deliveredOrder("C14", "c14@example.com", "")
		h.advance("30h")
		h.review("C14", "rv-14", "shopify", 1, "盒子压坏了")
		for _, task := range h.tasks(h.agent(), "open") {
			if task.Workflow == "bad_review" {
				h.must("POST", "/v1/tasks/"+task.ID+"/complete", h.agent(), map[string]string{"agent": "xiaoli", "outcome": "reissued"}, 200, nil)
			}
		}
		h.advance("72h")
		h.review("C14", "rv-14", "shopify", 4, "补发很快")
		h.advance("800h")
		return "C14"
	}},
}

// measured is the cost of each (case, workflow), summed over the case
// order's runs of that workflow (each case ships at most one parcel).
type measured map[string]map[care.Workflow]runCount

func (m measured) get(tb testing.TB, name string, wf care.Workflow) runCount {
	c, ok := m[name][wf]
	if !ok {
		tb.Fatalf("case %q ran no %s", name, wf)
	}
	return c
}

// BenchmarkCostPer1000Orders drives each journey of the mix above through
// the local runtime (HTTP API, virtual clock), counts from the execution
// histories the state transitions and Task states (Lambda invocations) of
// every run of the order, prints them per workflow per case, then prices
// 1,000 orders of the mix: Step Functions transitions, Lambda requests and
// GB-seconds, and DynamoDB request units (derived: readsPerStep and
// writesPerStep per step invocation, from the step handler's store calls,
// plus the router's reads and writes of each run, scheduled or not; these
// are upper bounds, a step that sends nothing writes less). A run the
// router scheduled and that ended before it was due (paid before the first
// reminder, a parcel delivered without stalling) shows 0 transitions: it
// never had an execution. SMS, and ingest (API Gateway, the ingest function,
// event writes), are excluded. Run it once:
//
//	go test -run '^$' -bench CostPer1000Orders -benchtime 1x ./infra/localruntime/
func BenchmarkCostPer1000Orders(b *testing.B) {
	var out io.Writer = os.Stdout
	if os.Getenv("DYNAMODB_ENDPOINT") == "" {
		fmt.Fprintf(out, "\nDYNAMODB_ENDPOINT is not set: DynamoDB request units are DERIVED below (an upper bound per step and per run), not measured; make cost starts DynamoDB Local and measures them.\n")
	}
	m := measured{}
	fmt.Fprintf(out, "\nState transitions (Lambda invocations) per run, from the execution histories:\n\n")
	fmt.Fprintf(out, "| case | workflow | transitions | lambda |\n|---|---|---:|---:|\n")
	ddb := map[string]map[care.Workflow]units{} // by case, measured on DynamoDB Local
	for _, c := range costCases {
		meter, opts, onDynamo := dynamoOptions(b)
		h := newHarnessWith(b, opts, markAPI)
		id := c.run(h)
		if onDynamo {
			ddb[c.name] = meter.snapshot()
		}
		m[c.name] = map[care.Workflow]runCount{}
		runs := h.runs(id)
		sort.Slice(runs, func(i, j int) bool { return runs[i].Workflow < runs[j].Workflow })
		for _, r := range runs {
			n := h.counts(r)
			wf := r.Workflow
			if wf == "" {
				wf = costWFUnknown
			}
			sum := m[c.name][wf]
			sum.transitions += n.transitions
			sum.tasks += n.tasks
			m[c.name][wf] = sum
			fmt.Fprintf(out, "| %s | `%s` %s | %d | %d |\n", c.name, wf, r.Outcome, n.transitions, n.tasks)
		}
	}

	ships := shareOnline + shareChasePaid + shareCODReply + shareCODAgent
	parcels := ships * parcelsPerOrder
	pickups := parcels * sharePickup
	const (
		online   = "online paid, unflagged, 1 parcel, 20 scans, delivered"
		shipping = care.Workflow("shipping_notice")
	)
	const (
		pickOrdUp   = "pickup, ordinary, picked up after the reminder"
		pickOrdLost = "pickup, ordinary, not picked up, reissue task done"
		pickPerUp   = "pickup, perishable, picked up after one reminder"
		pickPerLost = "pickup, perishable, 2 reminders, call, reissue task done"
		careQuiet   = "delivered: care unanswered, ask + reminder, no review"
		careReply   = "delivered: care reply (task done), reviewed 4 stars after the ask"
		badCase     = "bad review: task, reissued, revise ask, revised"
	)
	var (
		ordUp   = pickups * (1 - sharePerishable) * sharePickedUp
		ordLost = pickups * (1 - sharePerishable) * (1 - sharePickedUp)
		perUp   = pickups * sharePerishable * sharePickedUp
		perLost = pickups * sharePerishable * (1 - sharePickedUp)
	)
	mix := []line{
		{"unpaid_chase, paid before its first reminder", shareOnline, online, care.UnpaidChase},
		{"unpaid_chase, paid after a reminder", shareChasePaid, "unpaid, one reminder, then paid", care.UnpaidChase},
		{"unpaid_chase, 3 reminders + call", shareChaseUnpaid, "unpaid, 3 reminders and a call, agent's outcome", care.UnpaidChase},
		{"cod_confirm by reply", shareCODReply, "COD, confirmed by reply", care.CODConfirm},
		{"cod_confirm by agent", shareCODAgent, "COD, confirmed by an agent after silence", care.CODConfirm},
		{"preship_check clear", ships - shareFlagged, online, preship},
		{"preship_check flagged", shareFlagged, "preship flagged, confirmed by reply", preship},
		{"shipping_notice per parcel", parcels, online, shipping},
		{"stalled_parcel, no stall (20 scans)", parcels * (1 - shareStall - sharePickup), online, stalled},
		{"stalled_parcel, one stall", parcels * shareStall, "parcel stalls once (task, message, re-check), then a scan", stalled},
		{"pickup_nudge ordinary, picked up", ordUp, pickOrdUp, pickup},
		{"stalled_parcel of it", ordUp, pickOrdUp, stalled},
		{"pickup_nudge ordinary, reissue", ordLost, pickOrdLost, pickup},
		{"stalled_parcel of it", ordLost, pickOrdLost, stalled},
		{"pickup_nudge perishable, picked up", perUp, pickPerUp, pickup},
		{"stalled_parcel of it", perUp, pickPerUp, stalled},
		{"pickup_nudge perishable, call + reissue", perLost, pickPerLost, pickup},
		{"stalled_parcel of it", perLost, pickPerLost, stalled},
		{"delivery_care, unanswered", shareDelivered * (1 - shareCareReply), careQuiet, deliveryCare},
		{"delivery_care, reply task", shareDelivered * shareCareReply, careReply, deliveryCare},
		{"review_request, ask + reminder, no review", shareDelivered * (1 - shareReviewed), careQuiet, reviewRequest},
		{"review_request, reviewed after the ask", shareDelivered * shareReviewed, careReply, reviewRequest},
		{"bad_review, good review (no execution)", shareDelivered * shareGoodReview, careReply, badReview},
		{"bad_review, task + revise ask + revised", shareDelivered * shareBadReview, badCase, badReview},
	}
	var trans, tasks, runs, stallWatches float64
	var ful usage // the six fulfilment workflows alone (issue 10's mix, before the after-delivery ones)
	byWF := map[care.Workflow]float64{}
	fmt.Fprintf(out, "\nMix per order (runs per order x measured run):\n\n")
	fmt.Fprintf(out, "| run | runs/order | transitions | lambda | transitions/order |\n|---|---:|---:|---:|---:|\n")
	for _, l := range mix {
		c := m.get(b, l.cs, l.wf)
		trans += l.perOrd * float64(c.transitions)
		tasks += l.perOrd * float64(c.tasks)
		runs += l.perOrd
		if l.wf == stalled {
			stallWatches += l.perOrd
		}
		byWF[l.wf] += l.perOrd * float64(c.transitions)
		if !afterDelivery[l.wf] {
			ful.trans += l.perOrd * float64(c.transitions)
			ful.tasks += l.perOrd * float64(c.tasks)
			ful.runs += l.perOrd
			if l.wf == stalled {
				ful.stallWatches += l.perOrd
			}
		}
		fmt.Fprintf(out, "| %s | %.4f | %d | %d | %.3f |\n", l.what, l.perOrd, c.transitions, c.tasks, l.perOrd*float64(c.transitions))
	}
	wfs := make([]string, 0, len(byWF))
	for wf := range byWF {
		wfs = append(wfs, string(wf))
	}
	sort.Strings(wfs)
	fmt.Fprintf(out, "\nTransitions per order by workflow:")
	for _, wf := range wfs {
		fmt.Fprintf(out, " %s %.2f;", wf, byWF[care.Workflow(wf)])
	}
	fmt.Fprintln(out)

	const k = 1000.0
	all := usage{trans: trans, tasks: tasks, runs: runs, stallWatches: stallWatches}
	if len(ddb) > 0 {
		all.ddb, ful.ddb = measuredDDB(out, mix, ddb)
	}
	sfnCost, lambdaCost, ddbCost, wru, rru := all.cost()
	total := sfnCost + lambdaCost + ddbCost
	fmt.Fprintf(out, "\nPrices: Step Functions Standard $0.025/1,000 transitions; Lambda arm64 $0.0000133334/GB-s at %.0f MB, %.0f ms average, $0.20/1M requests;\n", lambdaMemoryGB*1024, lambdaSeconds*1000)
	if all.ddb != (units{}) {
		fmt.Fprintf(out, "DynamoDB on-demand $1.25/1M WRU, $0.25/1M RRU, the units measured above. SMS and ingest excluded.\n\n")
	} else {
		fmt.Fprintf(out, "DynamoDB on-demand $1.25/1M WRU, $0.25/1M RRU, units DERIVED (%d RRU + %d WRU per step invocation, %d + %d per run for the router, %d WRU per move of a stall watch's start; a write counts once more per index it touches). SMS and ingest excluded.\n\n", readsPerStep, writesPerStep, routerReadsRun, routerWritesRun, moveWRU)
	}
	fmt.Fprintf(out, "| per 1,000 orders | amount | USD |\n|---|---:|---:|\n")
	fmt.Fprintf(out, "| Step Functions transitions | %.0f | %.4f |\n", k*trans, sfnCost)
	fmt.Fprintf(out, "| Lambda invocations | %.0f | %.4f |\n", k*tasks, lambdaCost)
	fmt.Fprintf(out, "| DynamoDB WRU / RRU | %.0f / %.0f | %.4f |\n", wru, rru, ddbCost)
	fmt.Fprintf(out, "| total | %.2f runs/order | %.4f |\n", runs, total)
	fs, fl, fd, _, _ := ful.cost()
	fmt.Fprintf(out, "\nOf which the six fulfilment workflows alone (issue 10's mix): %.2f transitions per order, $%.4f per 1,000 orders.\n", ful.trans, fs+fl+fd)
	if total > targetPer1000 {
		fmt.Fprintf(out, "\nTarget $%.2f per 1,000 orders MISSED by $%.4f (%.0f%%): transitions are %.0f%% of the cost.\n", targetPer1000, total-targetPer1000, 100*(total-targetPer1000)/targetPer1000, 100*sfnCost/total)
	} else {
		fmt.Fprintf(out, "\nTarget $%.2f per 1,000 orders met (%.0f%% of it).\n", targetPer1000, 100*total/targetPer1000)
	}
	b.ReportMetric(trans, "transitions/order")
	b.ReportMetric(total, "USD/1000orders")
}

// line is one row of the mix: runs per order of workflow wf, each costing
// what wf's run cost in case cs.
type line struct {
	what   string
	perOrd float64 // runs per order
	cs     string
	wf     care.Workflow
}

// measuredDDB prices the mix's DynamoDB use from the request units the
// cases consumed on DynamoDB Local (ddb, by case and whom they were charged
// to): each line's runs per order times what its workflow consumed in its
// case; and the router's shared work per order (an event's reads of the
// order, shop and ledger, not tied to one run), counted once per case at
// the weight of the case's heaviest line, at most 1: an overcount, as cases
// overlap (several go through shipping). It prints the units by workflow
// and returns them per order, all nine workflows and the six of issue 10.
func measuredDDB(out io.Writer, mix []line, ddb map[string]map[care.Workflow]units) (all, ful units) {
	byWF := map[care.Workflow]units{}
	weight := map[string]float64{}
	for _, l := range mix {
		u := ddb[l.cs][l.wf]
		w := byWF[l.wf]
		w.read += l.perOrd * u.read
		w.write += l.perOrd * u.write
		byWF[l.wf] = w
		weight[l.cs] = min(1, max(weight[l.cs], l.perOrd))
	}
	var shared, fixed, api units
	for cs, w := range weight {
		shared.read += w * ddb[cs][meterShared].read
		shared.write += w * ddb[cs][meterShared].write
		fixed.read += ddb[cs][meterFixed].read
		fixed.write += ddb[cs][meterFixed].write
		api.read += ddb[cs][meterAPI].read
		api.write += ddb[cs][meterAPI].write
	}
	fmt.Fprintf(out, "\nDynamoDB request units per order, MEASURED on DynamoDB Local (ConsumedCapacity of every call, table and indexes), by whom they are charged to:\n\n")
	fmt.Fprintf(out, "| charged to | RRU/order | WRU/order |\n|---|---:|---:|\n")
	wfs := make([]string, 0, len(byWF))
	for wf := range byWF {
		wfs = append(wfs, string(wf))
	}
	sort.Strings(wfs)
	for _, name := range wfs {
		u := byWF[care.Workflow(name)]
		fmt.Fprintf(out, "| `%s` (its steps, its run's reads and writes) | %.1f | %.1f |\n", name, u.read, u.write)
		all.read += u.read
		all.write += u.write
		if !afterDelivery[care.Workflow(name)] {
			ful.read += u.read
			ful.write += u.write
		}
	}
	fmt.Fprintf(out, "| the router's shared reads and writes per event | %.1f | %.1f |\n", shared.read, shared.write)
	all.read += shared.read
	all.write += shared.write
	ful.read += shared.read
	ful.write += shared.write
	fmt.Fprintf(out, "\nNot per order, not priced: the due-run scan, templates and the daily retention sweep %.0f RRU + %.0f WRU over all cases (on AWS the scan is 8 queries a minute, ~$0.04 a month); the HTTP API (ingest, agents' actions, this benchmark's reads) %.0f RRU + %.0f WRU over all cases.\n",
		fixed.read, fixed.write, api.read, api.write)
	return all, ful
}

// afterDelivery are the workflows of the mix that follow delivery; the
// others are the six fulfilment workflows, priced apart too.
var afterDelivery = map[care.Workflow]bool{"delivery_care": true, "review_request": true, "bad_review": true}

// usage is a mix's per-order use: transitions, Task states (Lambda
// invocations), runs and stall watches.
type usage struct {
	trans, tasks, runs, stallWatches float64
	ddb                              units // measured DynamoDB units per order; zero: derived
}

// cost prices 1,000 orders of u: Step Functions, Lambda and DynamoDB in USD,
// and the DynamoDB write and read units.
func (u usage) cost() (sfnCost, lambdaCost, ddbCost, wru, rru float64) {
	const k = 1000.0
	sfnCost = k * u.trans * priceTransition
	lambdaCost = k * u.tasks * (priceLambdaReq + lambdaMemoryGB*lambdaSeconds*priceLambdaGBs)
	wru = k * (u.tasks*writesPerStep + u.runs*routerWritesRun + u.stallWatches*moveWRU)
	rru = k * (u.tasks*readsPerStep + u.runs*routerReadsRun)
	if u.ddb != (units{}) {
		wru, rru = k*u.ddb.write, k*u.ddb.read
	}
	ddbCost = wru*priceWRU + rru*priceRRU
	return sfnCost, lambdaCost, ddbCost, wru, rru
}
