package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// Mail is one message to compose.
type Mail struct {
	From, FromName string
	To             string
	Subject        string
	Text           string    // the rendered script; the HTML part is made from it
	ID             string    // the ledger entry id: Message-ID is derived from it
	Date           time.Time // the Date header
	// Unsubscribe, when set (marketing), is the one-click unsubscribe URL:
	// List-Unsubscribe and List-Unsubscribe-Post (RFC 8058) are added.
	Unsubscribe string
	Lang        string // Content-Language, e.g. zh-CN
}

// MessageID is the Message-ID of the ledger entry id: the same on every
// retry, so receivers that dedupe on it see one message.
func MessageID(ledgerID, fromAddr string) string {
	sum := sha256.Sum256([]byte(ledgerID))
	domain := "ordercare.invalid"
	if _, d, ok := strings.Cut(fromAddr, "@"); ok && d != "" {
		domain = d
	}
	return "<oc." + hex.EncodeToString(sum[:16]) + "@" + domain + ">"
}

// Bytes returns the message as RFC 5322 text with CRLF line ends:
// multipart/alternative with a quoted-printable text/plain part and a
// text/html part (the text escaped, lines kept, links not made).
func (m Mail) Bytes() []byte {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", (&mail.Address{Name: m.FromName, Address: m.From}).String())
	h("To", (&mail.Address{Address: m.To}).String())
	h("Subject", mime.BEncoding.Encode("utf-8", m.Subject))
	h("Date", m.Date.Format(time.RFC1123Z))
	h("Message-ID", MessageID(m.ID, m.From))
	h("MIME-Version", "1.0")
	if m.Lang != "" {
		h("Content-Language", m.Lang)
	}
	if m.Unsubscribe != "" {
		h("List-Unsubscribe", "<"+m.Unsubscribe+">")
		h("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	mw := multipart.NewWriter(&b)
	h("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	part := func(ctype, body string) {
		w, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ctype + "; charset=utf-8"}, "Content-Transfer-Encoding": {"quoted-printable"}})
		qp := quotedprintable.NewWriter(w)
		_, _ = qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
		_ = qp.Close()
	}
	part("text/plain", m.Text)
	part("text/html", m.HTML())
	_ = mw.Close()
	return b.Bytes()
}

// HTML is the HTML part: the text escaped, paragraphs on blank lines,
// line breaks kept, and for marketing a visible unsubscribe link.
func (m Mail) HTML() string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html`)
	if m.Lang != "" {
		b.WriteString(` lang="` + html.EscapeString(m.Lang) + `"`)
	}
	b.WriteString(`><body>`)
	for _, p := range strings.Split(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(p), "\n", "<br>") + "</p>")
	}
	if m.Unsubscribe != "" {
		b.WriteString(`<p style="font-size:small"><a href="` + html.EscapeString(m.Unsubscribe) + `">Unsubscribe / 退订</a></p>`)
	}
	b.WriteString("</body></html>")
	return b.String()
}

// Subject is the subject of a message from shop whose text is text: the
// shop's name and the text's first line, at most 78 characters.
func Subject(shop, text string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	s := strings.TrimSpace(first)
	if shop != "" {
		s = shop + ": " + s
	}
	if utf8.RuneCountInString(s) > 78 {
		r := []rune(s)
		s = string(r[:77]) + "…"
	}
	return s
}
