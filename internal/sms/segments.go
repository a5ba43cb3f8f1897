// Package sms holds what ordercare knows about text messages before any
// provider is called: a buyer's number parsed and checked (E.164, region,
// mobile or not, with nyaruka/phonenumbers, the libphonenumber port), and
// a text's encoding and billed segments (GSM-7 or UCS-2). It has no I/O.
package sms

import (
	"unicode/utf16"
)

// Encodings of a text message.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// Segment sizes (3GPP TS 23.040): one message holds 160 GSM-7 septets or 70
// UCS-2 code units; a concatenated one gives up 7 septets (6 octets of
// user data header) per part: 153 or 67.
const (
	gsmSingle  = 160
	gsmPart    = 153
	ucs2Single = 70
	ucs2Part   = 67
)

// gsmBasic is the GSM 03.38 default alphabet (one septet each).
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExt is the default alphabet's extension table (escape + char: two septets).
const gsmExt = "\f^{}\\[~]|€"

var gsmWidth = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExt {
		m[r] = 2
	}
	return m
}()

// Count is a text's size as a text message.
type Count struct {
	Encoding string `json:"encoding"` // GSM7 or UCS2
	Units    int    `json:"units"`    // septets (GSM-7) or UTF-16 code units (UCS-2)
	Segments int    `json:"segments"` // billed segments; 0 for an empty text
}

// Segments counts text: GSM-7 when every character is in the default
// alphabet or its extension, else UCS-2. A concatenated message never
// splits an escape sequence or a surrogate pair across segments, so a part
// may hold one unit less than its size.
func Segments(text string) Count {
	gsm := true
	for _, r := range text {
		if gsmWidth[r] == 0 {
			gsm = false
			break
		}
	}
	var widths []int
	c := Count{Encoding: GSM7}
	single, part := gsmSingle, gsmPart
	if gsm {
		for _, r := range text {
			widths = append(widths, gsmWidth[r])
		}
	} else {
		c.Encoding, single, part = UCS2, ucs2Single, ucs2Part
		for _, r := range text {
			widths = append(widths, len(utf16.Encode([]rune{r})))
		}
	}
	for _, w := range widths {
		c.Units += w
	}
	switch {
	case c.Units == 0:
		return c
	case c.Units <= single:
		c.Segments = 1
		return c
	}
	used := 0
	c.Segments = 1
	for _, w := range widths {
		if used+w > part {
			c.Segments++
			used = 0
		}
		used += w
	}
	return c
}
