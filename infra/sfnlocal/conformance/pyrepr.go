package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PyRepr returns Python 3's str() of the value json.loads(data) produces:
// dicts keep the key order of the text, integers stay integers (any size),
// other numbers print as Python floats, strings use Python's quoting rules.
// It is what the Lambda helper return_decorated_input prints.
func PyRepr(data []byte) (string, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var b strings.Builder
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte(`"`)) {
		// str() of a str is the string itself.
		var s string
		if err := d.Decode(&s); err != nil {
			return "", err
		}
		b.WriteString(s)
	} else if err := reprValue(d, &b); err != nil {
		return "", err
	}
	if _, err := d.Token(); err == nil {
		return "", fmt.Errorf("trailing data after JSON value")
	}
	return b.String(), nil
}

func reprValue(d *json.Decoder, b *strings.Builder) error {
	t, err := d.Token()
	if err != nil {
		return err
	}
	switch x := t.(type) {
	case json.Delim:
		switch x {
		case '{':
			b.WriteByte('{')
			first := true
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return err
				}
				if !first {
					b.WriteString(", ")
				}
				first = false
				b.WriteString(PyStrRepr(kt.(string)))
				b.WriteString(": ")
				if err := reprValue(d, b); err != nil {
					return err
				}
			}
			if _, err := d.Token(); err != nil {
				return err
			}
			b.WriteByte('}')
		case '[':
			b.WriteByte('[')
			first := true
			for d.More() {
				if !first {
					b.WriteString(", ")
				}
				first = false
				if err := reprValue(d, b); err != nil {
					return err
				}
			}
			if _, err := d.Token(); err != nil {
				return err
			}
			b.WriteByte(']')
		default:
			return fmt.Errorf("unexpected %v", x)
		}
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		b.WriteString(PyStrRepr(x))
	case json.Number:
		b.WriteString(pyNumberRepr(string(x)))
	default:
		return fmt.Errorf("unexpected token %T", t)
	}
	return nil
}

func pyNumberRepr(lit string) string {
	if !strings.ContainsAny(lit, ".eE") {
		// Python int: arbitrary precision; "-0" is 0.
		if strings.TrimLeft(lit, "-0") == "" {
			return "0"
		}
		return lit
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil { // out of range: Python gives inf
		if strings.HasPrefix(lit, "-") {
			return "-inf"
		}
		return "inf"
	}
	return pyFloatRepr(f)
}

// pyFloatRepr is Python's repr(float): shortest round-trip digits, fixed
// notation for decimal exponents in [-4, 16), scientific otherwise.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expS, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expS)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -4 && exp < 16 {
		if exp >= 0 {
			if len(digits) <= exp+1 {
				out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
			} else {
				out = digits[:exp+1] + "." + digits[exp+1:]
			}
		} else {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		}
	} else {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		out = fmt.Sprintf("%se%s%02d", m, sign, exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}

// PyStrRepr is Python 3's repr(str).
func PyStrRepr(s string) string {
	quote := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// PyDumps re-prints a JSON text the way Python's json.dumps does by default
// (", " and ": " separators, non-ASCII escaped), keeping key order and number
// literals. The recorded tests passed their execution input through
// json.dumps, and AWS keeps input texts verbatim.
func PyDumps(data []byte) (string, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var b strings.Builder
	if err := dumpValue(d, &b); err != nil {
		return "", err
	}
	if _, err := d.Token(); err == nil {
		return "", fmt.Errorf("trailing data after JSON value")
	}
	return b.String(), nil
}

func dumpValue(d *json.Decoder, b *strings.Builder) error {
	t, err := d.Token()
	if err != nil {
		return err
	}
	switch x := t.(type) {
	case json.Delim:
		closeWith := byte('}')
		if x == '[' {
			closeWith = ']'
		}
		b.WriteByte(byte(x))
		first := true
		for d.More() {
			if !first {
				b.WriteString(", ")
			}
			first = false
			if x == '{' {
				kt, err := d.Token()
				if err != nil {
					return err
				}
				writePyJSONString(b, kt.(string))
				b.WriteString(": ")
			}
			if err := dumpValue(d, b); err != nil {
				return err
			}
		}
		if _, err := d.Token(); err != nil {
			return err
		}
		b.WriteByte(closeWith)
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writePyJSONString(b, x)
	case json.Number:
		b.WriteString(x.String())
	}
	return nil
}
