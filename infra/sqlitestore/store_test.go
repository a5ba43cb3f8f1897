package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/infra/storetest"
	"github.com/ordercare/ordercare/internal/care"
)

// open opens a fresh database file in t.TempDir and closes it at cleanup.
func open(t testing.TB, opts ...sqlitestore.Option) (*sqlitestore.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "care.db")
	db, err := sqlitestore.Open(t.Context(), path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) care.Store {
		db, _ := open(t)
		return db
	})
}

func TestCareConformance(t *testing.T) {
	storetest.RunCare(t, func(t *testing.T) care.CareStore {
		db, _ := open(t)
		return db
	})
}

func TestConsentConformance(t *testing.T) {
	storetest.RunConsent(t, func(t *testing.T) storetest.ConsentStore {
		db, _ := open(t)
		return db
	})
}

func TestErasureConformance(t *testing.T) {
	storetest.RunErasure(t, func(t *testing.T) storetest.ErasureStore {
		db, _ := open(t)
		return db
	})
}

func TestRefsConformance(t *testing.T) {
	db, _ := open(t)
	storetest.RunRefs(t, db)
}
