package storetest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/store"
)

func testReports(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add device", s.AddDevice(ctx, device("01")), nil)
		wantErr(t, "add device", s.AddDevice(ctx, device("02")), nil)
		reports := []store.Report{ // oldest first
			{Device: "01", Time: at(1), Success: true, Envelopes: [][]byte{sum([]byte("a"))}, SUITReports: [][]byte{{0xa0}, {}}},
			{Device: "01", Time: at(2), ErrCode: math.MaxUint64, ErrMsg: "unsupported", Envelopes: [][]byte{}, SUITReports: [][]byte{}},
			{Device: "01", Time: at(3), Success: true},
			{Device: "01", Time: at(3), ErrCode: 1, ErrMsg: "same time, added later"},
		}
		for _, r := range reports {
			wantErr(t, "add", s.AddReport(ctx, r), nil)
		}
		wantErr(t, "add for another device", s.AddReport(ctx, store.Report{Device: "02", Time: at(9), Success: true}), nil)
		newest := []store.Report{reports[3], reports[2], reports[1], reports[0]}
		for _, limit := range []int{1, 3, 4, 100} {
			got, err := s.Reports(ctx, "01", limit)
			wantErr(t, "reports", err, nil)
			same(t, fmt.Sprint("reports, limit ", limit), got, newest[:min(limit, len(newest))])
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add", s.AddReport(ctx, store.Report{Device: "nobody", Time: at(1)}), store.ErrNotFound)
		_, err := s.Reports(ctx, "nobody", 10)
		wantErr(t, "reports", err, store.ErrNotFound)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add device", s.AddDevice(ctx, device("01")), nil)
		for _, tc := range []struct {
			name string
			r    store.Report
		}{
			{"no device", store.Report{Time: at(1)}},
			{"too many SUIT reports", store.Report{Device: "01", SUITReports: make([][]byte, store.MaxSUITReports+1)}},
			{"SUIT report over MaxBlob", store.Report{Device: "01", SUITReports: [][]byte{make([]byte, store.MaxBlob+1)}}},
			{"envelope digest short", store.Report{Device: "01", Envelopes: [][]byte{{1}}}},
			{"message over MaxText", store.Report{Device: "01", ErrMsg: string(make([]byte, store.MaxText+1))}},
		} {
			wantErr(t, tc.name, s.AddReport(ctx, tc.r), store.ErrInvalid)
		}
		for _, limit := range []int{0, -1} {
			_, err := s.Reports(ctx, "01", limit)
			wantErr(t, fmt.Sprint("limit ", limit), err, store.ErrInvalid)
		}
		got, err := s.Reports(ctx, "01", 10)
		wantErr(t, "reports", err, nil)
		if len(got) != 0 {
			t.Fatalf("refused reports were stored: %v", got)
		}
	})
	t.Run("Clamped", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add device", s.AddDevice(ctx, device("01")), nil)
		for i := range store.MaxPage + 1 {
			wantErr(t, "add", s.AddReport(ctx, store.Report{Device: "01", Time: at(time.Duration(i))}), nil)
		}
		got, err := s.Reports(ctx, "01", store.MaxPage+1)
		wantErr(t, "reports", err, nil)
		if len(got) != store.MaxPage {
			t.Fatalf("%d reports, want MaxPage = %d", len(got), store.MaxPage)
		}
	})
}
