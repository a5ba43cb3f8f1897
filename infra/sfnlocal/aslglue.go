package sfnlocal

// This file is the only place that calls the parts of package asl whose
// signatures are still settling; keep adapters small.

import (
	"time"

	"github.com/ordercare/ordercare/infra/sfnlocal/asl"
)

func parseDefinition(def string) (*asl.Machine, error) { return asl.Parse([]byte(def)) }

// taskTimeouts returns the task's TimeoutSeconds and HeartbeatSeconds (0 = none).
func taskTimeouts(s *asl.Task, in any) (timeout, heartbeat int64, err error) {
	t, h, err := s.Timeouts(in)
	return int64(t / time.Second), int64(h / time.Second), err
}

func waitDue(s *asl.Wait, in any, entered time.Time) (time.Time, any, error) {
	return s.Due(in, entered)
}

// failResolve returns the Fail state's error and cause (nil when absent).
func failResolve(s *asl.Fail, in any, env *asl.Env) (errName, cause *string, err error) {
	fo, err := s.Resolve(in, env)
	if err != nil {
		return nil, nil, err
	}
	if fo.HasError {
		v := fo.Error
		errName = &v
	}
	if fo.HasCause {
		v := fo.Cause
		cause = &v
	}
	return errName, cause, nil
}

func mapItems(s *asl.Map, eff any) ([]any, error) { return s.Items(eff) }

func mapItemInput(s *asl.Map, eff any, i int, item any, env *asl.Env) (any, error) {
	return s.ItemInput(eff, i, item, env)
}

func mapConcurrency(s *asl.Map, eff any) (int, error) {
	return s.Concurrency(eff)
}

// decideRetry returns whether to retry, which retrier, and the delay.
func decideRetry(rs []asl.Retrier, attempts []int, errName string, rnd func() float64) (bool, int, time.Duration) {
	d := asl.DecideRetry(rs, attempts, errName, rnd)
	return d.Retry, d.Index, d.Delay
}

func matchCatch(cs []asl.Catcher, errName string) (int, bool) { return asl.MatchCatch(cs, errName) }

func catchOutput(c *asl.Catcher, in any, errName, cause string) (any, error) {
	return c.Output(in, errName, cause)
}
