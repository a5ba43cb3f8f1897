package source_test

import (
	"strings"
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

func FuzzAfterShip(f *testing.F) {
	body := readTestdata(f, "aftership_tracking_update.json")
	f.Add(body)
	f.Add([]byte(strings.Replace(string(body), `"tag":"AvailableForPickup","subtag":"AvailableForPickup_001"`, `"tag":"Exception","subtag":"Exception_011"`, 1)))
	f.Add([]byte(`{"event":"tracking_update","event_id":"e1","msg":{"tracking_number":"SF1","tag":"Delivered","order_id":"1","checkpoints":[{"checkpoint_time":"2026-11-11T10:00:00"}]},"ts":1800000000}`))
	f.Add([]byte(`{"event":"edd_revise","event_id":"e2","msg":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := asReq(body)
		cred := care.Source{Secret: asSecret}
		res, err := source.AfterShip{}.Handle(cred, req, fuzzNow)
		checkHandled(t, res, err)
		checkTampered(t, source.AfterShip{}, cred, req, fuzzNow)
	})
}

func FuzzTrack17(f *testing.F) {
	body := readTestdata(f, "17track_tracking_updated.json")
	f.Add(body)
	f.Add([]byte(`{"event":"TRACKING_STOPPED","data":{"number":"1Z2346","carrier":100002,"tag":"1"}}`))
	f.Add([]byte(`{"event":"TRACKING_UPDATED","data":{"number":"YT1","carrier":"190008","tag":"o1","track_info":{"latest_status":{"status":"AvailableForPickup","sub_status":"AvailableForPickup_Other"},"latest_event":{"time_iso":"2026-11-11T10:00:00+08:00","location":"菜鸟驿站"}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := t17Req(body)
		cred := care.Source{Secret: t17Secret}
		res, err := source.Track17{}.Handle(cred, req, fuzzNow)
		checkHandled(t, res, err)
		checkTampered(t, source.Track17{}, cred, req, fuzzNow)
	})
}

func FuzzVerifyAfterShip(f *testing.F) {
	fuzzVerifyBody(f, func(sig string, body []byte) error {
		return source.VerifyAfterShip(asSecret, header(source.HeaderAfterShipHMAC, sig), body)
	}, func(body []byte) string { return source.AfterShipSign(asSecret, body) }, equal)
}

func FuzzVerifyTrack17(f *testing.F) {
	fuzzVerifyBody(f, func(sig string, body []byte) error {
		return source.VerifyTrack17(t17Secret, header(source.Header17TrackSign, sig), body)
	}, func(body []byte) string { return source.Track17Sign(t17Secret, body) }, strings.EqualFold) // hex: either case
}
