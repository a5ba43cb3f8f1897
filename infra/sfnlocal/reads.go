package sfnlocal

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"sort"
	"strconv"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func sortBy[T any](s []T, less func(a, b T) bool) {
	sort.Slice(s, func(i, j int) bool { return less(s[i], s[j]) })
}

func nullStr(n sql.NullString) *string {
	if !n.Valid {
		return nil
	}
	s := n.String
	return &s
}

// DescribeExecution describes an execution as last committed. Errors:
// InvalidArn, ExecutionDoesNotExist.
func (e *Engine) DescribeExecution(ctx context.Context, in *DescribeExecutionInput) (*DescribeExecutionOutput, error) {
	if in == nil {
		return nil, apiErr(ErrCodeValidationException, "missing input")
	}
	smArn, name, err := e.parseExecArn(in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	var status, input string
	var output, errName, cause, trace sql.NullString
	var start int64
	var stop sql.NullInt64
	err = e.db.QueryRowContext(ctx, `SELECT sm_arn, status, input, output, error, cause, start, stop, trace FROM executions WHERE h=? AND arn=?`, arnKey(in.ExecutionArn), in.ExecutionArn).
		Scan(&smArn, &status, &input, &output, &errName, &cause, &start, &stop, &trace)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apiErr(ErrCodeExecutionDoesNotExist, "Execution Does Not Exist: '%s'", in.ExecutionArn)
	}
	if err != nil {
		return nil, err
	}
	out := &DescribeExecutionOutput{ExecutionArn: in.ExecutionArn, StateMachineArn: smArn, Name: name, Status: status,
		StartDate: TS(msTime(start)), Input: &input, InputDetails: &CloudWatchEventsExecutionDataDetails{Included: true},
		Output: nullStr(output), Error: nullStr(errName), Cause: nullStr(cause), TraceHeader: trace.String}
	if stop.Valid {
		out.StopDate = TSPtr(msTime(stop.Int64))
	}
	if status == StatusSucceeded {
		out.OutputDetails = &CloudWatchEventsExecutionDataDetails{Included: true}
	}
	if status != StatusRunning {
		out.RedriveStatus = "NOT_REDRIVABLE"
		if status != StatusSucceeded {
			out.RedriveStatus = "REDRIVABLE"
		}
	}
	return out, nil
}

// ListExecutions lists a state machine's executions, newest first.
// nextToken is opaque. Errors: InvalidArn, StateMachineDoesNotExist.
func (e *Engine) ListExecutions(ctx context.Context, in *ListExecutionsInput) (*ListExecutionsOutput, error) {
	if in == nil {
		return nil, apiErr(ErrCodeValidationException, "missing input")
	}
	if err := checkSMArn(in.StateMachineArn); err != nil {
		return nil, err
	}
	e.smMu.RLock()
	_, ok := e.sms[in.StateMachineArn]
	e.smMu.RUnlock()
	if !ok {
		return nil, apiErr(ErrCodeStateMachineDoesNotExist, "State Machine Does Not Exist: '%s'", in.StateMachineArn)
	}
	max := in.MaxResults
	if max <= 0 || max > 1000 {
		max = 100
	}
	off := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 {
			return nil, apiErr("InvalidToken", "Invalid Token: '%s'", in.NextToken)
		}
		off = n
	}
	q := `SELECT arn, name, status, start, stop FROM executions WHERE sm_arn=?`
	args := []any{in.StateMachineArn}
	if in.StatusFilter != "" {
		q += ` AND status=?`
		args = append(args, in.StatusFilter)
	}
	q += ` ORDER BY start DESC, arn DESC LIMIT ? OFFSET ?`
	args = append(args, max+1, off)
	rows, err := e.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &ListExecutionsOutput{Executions: []ExecutionListItem{}}
	for rows.Next() {
		var it ExecutionListItem
		var start int64
		var stop sql.NullInt64
		if err := rows.Scan(&it.ExecutionArn, &it.Name, &it.Status, &start, &stop); err != nil {
			return nil, err
		}
		if len(out.Executions) == max {
			out.NextToken = strconv.Itoa(off + max)
			break
		}
		it.StateMachineArn = in.StateMachineArn
		it.StartDate = TS(msTime(start))
		if stop.Valid {
			it.StopDate = TSPtr(msTime(stop.Int64))
		}
		out.Executions = append(out.Executions, it)
	}
	return out, rows.Err()
}

// GetExecutionHistory returns the committed history of an execution,
// paginated (maxResults default 100, max 1000; nextToken opaque).
// includeExecutionData=false omits inputs and outputs. Errors: InvalidArn,
// ExecutionDoesNotExist, InvalidToken (bad nextToken).
func (e *Engine) GetExecutionHistory(ctx context.Context, in *GetExecutionHistoryInput) (*GetExecutionHistoryOutput, error) {
	if in == nil {
		return nil, apiErr(ErrCodeValidationException, "missing input")
	}
	if _, _, err := e.parseExecArn(in.ExecutionArn); err != nil {
		return nil, err
	}
	max := in.MaxResults
	if max <= 0 || max > 1000 {
		max = 100
	}
	off := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 {
			return nil, apiErr(ErrCodeInvalidToken, "Invalid Token: '%s'", in.NextToken)
		}
		off = n
	}
	rows, err := e.db.QueryContext(ctx, `SELECT hist0 FROM executions WHERE h=? AND arn=? UNION ALL SELECT events FROM (SELECT events FROM history WHERE h=? AND arn=? ORDER BY seq)`, arnKey(in.ExecutionArn), in.ExecutionArn, arnKey(in.ExecutionArn), in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var chunks [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		if len(b) > 0 {
			chunks = append(chunks, b)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(chunks) == 0 {
		return nil, apiErr(ErrCodeExecutionDoesNotExist, "Execution Does Not Exist: '%s'", in.ExecutionArn)
	}
	// Event ids are 1..total, contiguous and in order across chunks: find
	// the id range of this page and decode only the chunks it overlaps.
	firsts := make([]int64, len(chunks))
	for i, b := range chunks {
		if firsts[i] = firstEventID(b); firsts[i] == 0 {
			firsts = nil // not the compact format: decode everything
			break
		}
	}
	var total int64
	var lastEvs []HistoryEvent
	if firsts != nil {
		if lastEvs, err = decodeEvents(chunks[len(chunks)-1]); err != nil {
			return nil, err
		}
		total = firsts[len(firsts)-1] - 1 + int64(len(lastEvs))
	}
	// (The last chunk is decoded in full to learn the total; chunks are
	// one commit each, so it is usually small.)
	out := &GetExecutionHistoryOutput{Events: []HistoryEvent{}}
	var lo, hi int64 // ids of this page, inclusive
	if firsts == nil {
		var all []HistoryEvent
		for _, b := range chunks {
			evs, err := decodeEvents(b)
			if err != nil {
				return nil, err
			}
			all = append(all, evs...)
		}
		total = int64(len(all))
		firsts = []int64{1}
		chunks = nil
		lastEvs = all
	}
	if int64(off) < total {
		n := min(int64(max), total-int64(off))
		if in.ReverseOrder {
			hi = total - int64(off)
			lo = hi - n + 1
		} else {
			lo = int64(off) + 1
			hi = lo + n - 1
		}
		if int64(off)+n < total {
			out.NextToken = strconv.FormatInt(int64(off)+n, 10)
		}
		page := make([]HistoryEvent, 0, n)
		for i := range firsts {
			end := total + 1
			if i+1 < len(firsts) {
				end = firsts[i+1]
			}
			if end <= lo || firsts[i] > hi {
				continue
			}
			evs := lastEvs
			if chunks != nil && i != len(firsts)-1 {
				if evs, err = decodeRange(chunks[i], lo, hi); err != nil {
					return nil, err
				}
			}
			for _, ev := range evs {
				if ev.ID >= lo && ev.ID <= hi {
					page = append(page, ev)
				}
			}
		}
		if in.ReverseOrder {
			for i, j := 0, len(page)-1; i < j; i, j = i+1, j-1 {
				page[i], page[j] = page[j], page[i]
			}
		}
		out.Events = page
	}
	if in.IncludeExecutionData != nil && !*in.IncludeExecutionData {
		for i := range out.Events {
			stripData(&out.Events[i])
		}
	}
	return out, nil
}

// stripData removes inputs and outputs from ev (includeExecutionData=false).
func stripData(ev *HistoryEvent) {
	if d := ev.ExecutionStartedEventDetails; d != nil {
		d.Input, d.InputDetails = nil, nil
	}
	if d := ev.ExecutionSucceededEventDetails; d != nil {
		d.Output, d.OutputDetails = nil, nil
	}
	if d := ev.StateEnteredEventDetails; d != nil {
		d.Input, d.InputDetails = nil, nil
	}
	if d := ev.StateExitedEventDetails; d != nil {
		d.Output, d.OutputDetails = nil, nil
	}
	if d := ev.LambdaFunctionScheduledEventDetails; d != nil {
		d.Input, d.InputDetails = nil, nil
	}
	if d := ev.LambdaFunctionSucceededEventDetails; d != nil {
		d.Output, d.OutputDetails = nil, nil
	}
	if d := ev.TaskSucceededEventDetails; d != nil {
		d.Output, d.OutputDetails = nil, nil
	}
	if d := ev.TaskSubmittedEventDetails; d != nil {
		d.Output, d.OutputDetails = nil, nil
	}
}
