package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/ordercare/ordercare/infra/sfnlocal"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/ordercare/ordercare/internal/clock"
)

// handlerFunc adapts a function to lambda.Handler (raw payload in and out).
type handlerFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f handlerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

var _ lambda.Handler = handlerFunc(nil)

// pyError builds the error a Python 3.12 Lambda reports for an uncaught
// exception raised at line `line` of /var/task/handler.py by `code`.
func pyError(typ, msg string, line int32, code string) messages.InvokeResponse_Error {
	return messages.InvokeResponse_Error{
		Type:    typ,
		Message: msg,
		StackTrace: []*messages.InvokeResponse_Error_StackFrame{{
			Path:  "/var/task/handler.py",
			Line:  line,
			Label: "handler\n    " + code,
		}},
	}
}

// pyResult is what the Python Lambda runtime sends back for a handler's
// return value: json.dumps(value) (", "/": " separators, non-ASCII escaped).
func pyResult(jsonText []byte) ([]byte, error) {
	s, err := PyDumps(jsonText)
	return []byte(s), err
}

// helperHandler returns the Go handler for a case's Lambda helper (the part
// of the lambdas description before ':'). vc is the case's virtual clock;
// done is closed when the case is over (a handler that "sleeps" returns then).
func helperHandler(helper string, vc *clock.Virtual, done <-chan struct{}) (any, error) {
	switch helper {
	case "id_function":
		return handlerFunc(func(_ context.Context, p []byte) ([]byte, error) { return pyResult(p) }), nil
	case "echo_function":
		return handlerFunc(func(context.Context, []byte) ([]byte, error) {
			return []byte(`{"Return": "HelloWorld"}`), nil
		}), nil
	case "raise_exception":
		return handlerFunc(func(context.Context, []byte) ([]byte, error) {
			return nil, pyError("Exception", "Some exception was raised.", 2, `raise Exception("Some exception was raised.")`)
		}), nil
	case "raise_custom_exception":
		return handlerFunc(func(context.Context, []byte) ([]byte, error) {
			return nil, pyError("CustomException", "", 9, "raise CustomException()")
		}), nil
	case "large_output_string":
		return handlerFunc(func(context.Context, []byte) ([]byte, error) {
			return json.Marshal(strings.Repeat("a", 263168))
		}), nil
	case "return_bytes_str":
		return handlerFunc(func(context.Context, []byte) ([]byte, error) {
			return []byte(`"HelloWorld!"`), nil
		}), nil
	case "return_decorated_input":
		return handlerFunc(func(_ context.Context, p []byte) ([]byte, error) {
			s, err := PyRepr(p)
			if err != nil {
				return nil, err
			}
			b, err := json.Marshal("input-event-" + s)
			if err != nil {
				return nil, err
			}
			return pyResult(b)
		}), nil
	case "wait_60_seconds":
		// Sleeps 60 s on the engine's clock: with SkipIdle the engine moves
		// the virtual clock past the sleep (and past any timeout due first).
		// A plain function, not a lambda.Handler: the engine runs those
		// concurrently, as Lambda runs concurrent invocations.
		return func(ctx context.Context, p json.RawMessage) (json.RawMessage, error) {
			if err := sfnlocal.Sleep(ctx, 60*time.Second); err != nil {
				return nil, err
			}
			return p, nil
		}, nil
	}
	return nil, fmt.Errorf("unknown Lambda helper %q", helper)
}
