package sqlitestore

import (
	"fmt"
	"testing"
)

func TestCacheBounds(t *testing.T) {
	w := &writer{cache: map[string]*cached{}}
	check := func(when string) {
		t.Helper()
		n := 0
		for _, c := range w.cache {
			n += len(c.json)
		}
		if n != w.cacheBytes || len(w.cache) > cacheSize || w.cacheBytes > cacheBytes {
			t.Fatalf("%s: %d entries, %d bytes counted, %d real; limits %d entries, %d bytes",
				when, len(w.cache), w.cacheBytes, n, cacheSize, cacheBytes)
		}
	}
	for i := range 3 * cacheSize {
		w.remember("shop", fmt.Sprint(i), &cached{json: make([]byte, 1+i%5000)})
	}
	check("after many small")
	w.remember("shop", "7", &cached{json: make([]byte, 10)}) // replace
	check("after replace")
	w.remember("shop", "huge", &cached{json: make([]byte, cacheBytes)})
	if _, ok := w.cache[cacheKey("shop", "huge")]; ok {
		t.Errorf("an order larger than cacheBytes/8 was cached")
	}
	check("after huge")
	w.forget()
	if len(w.cache) != 0 || w.cacheBytes != 0 {
		t.Errorf("forget left %d entries, %d bytes", len(w.cache), w.cacheBytes)
	}
}
