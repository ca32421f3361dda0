package catalog

import (
	"net/http"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/apijson"
	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store"
)

// WithdrawalRequest names the TA to withdraw (POST /api/v1/withdrawals)
// or whose withdrawal to end (POST /api/v1/withdrawals/cancel).
type WithdrawalRequest struct {
	Component string `json:"component"`
}

// WithdrawalJSON is a withdrawal.
type WithdrawalJSON struct {
	Component string    `json:"component"`
	By        string    `json:"by"`
	Created   time.Time `json:"created"`
}

// WithdrawalStatusJSON is a withdrawal in force (GET /api/v1/withdrawals):
// RunningCount devices' last tc-list still lists the TA; Running are the
// first MaxRunningListed of them, by ID.
type WithdrawalStatusJSON struct {
	WithdrawalJSON
	RunningCount int      `json:"running_count"`
	Running      []string `json:"running"`
}

// HandleWithdraw is POST /api/v1/withdrawals (an operator, or a TA author
// within its prefixes).
func (c *Catalog) HandleWithdraw(w http.ResponseWriter, r *http.Request) {
	tc, ok := readWithdrawal(w, r)
	if !ok {
		return
	}
	wd, err := c.Withdraw(r.Context(), tc)
	if err != nil {
		api.Error(w, err)
		return
	}
	apijson.WriteJSON(w, http.StatusCreated, withdrawalJSON(wd))
}

// HandleCancelWithdrawal is POST /api/v1/withdrawals/cancel (as
// HandleWithdraw).
func (c *Catalog) HandleCancelWithdrawal(w http.ResponseWriter, r *http.Request) {
	tc, ok := readWithdrawal(w, r)
	if !ok {
		return
	}
	wd, err := c.CancelWithdrawal(r.Context(), tc)
	if err != nil {
		api.Error(w, err)
		return
	}
	apijson.WriteJSON(w, http.StatusOK, withdrawalJSON(wd))
}

// HandleListWithdrawals is GET /api/v1/withdrawals.
func (c *Catalog) HandleListWithdrawals(w http.ResponseWriter, r *http.Request) {
	all, err := c.Withdrawals(r.Context())
	if err != nil {
		api.Error(w, err)
		return
	}
	out := make([]WithdrawalStatusJSON, 0, len(all))
	for _, s := range all {
		running := s.RunningIDs
		if running == nil {
			running = []string{}
		}
		out = append(out, WithdrawalStatusJSON{WithdrawalJSON: withdrawalJSON(s.Withdrawal), RunningCount: s.Running, Running: running})
	}
	apijson.WriteJSON(w, http.StatusOK, out)
}

// readWithdrawal reads a withdrawal request's component, bounded, and
// names it in the request's audit row, or answers the error.
func readWithdrawal(w http.ResponseWriter, r *http.Request) (suit.ComponentID, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxWithdrawalBody)
	tc, err := ReadWithdrawal(r)
	if err != nil {
		api.Error(w, err)
		return nil, false
	}
	auth.SetAuditTarget(r.Context(), tc.String())
	return tc, true
}

// ReadWithdrawal reads a withdrawal request's body (WithdrawalRequest) and
// the component it names. The caller bounds the body.
func ReadWithdrawal(r *http.Request) (suit.ComponentID, error) {
	var req WithdrawalRequest
	if err := apijson.Decode(r.Body, &req); err != nil {
		return nil, err
	}
	return ParseComponentID(req.Component)
}

func withdrawalJSON(w store.Withdrawal) WithdrawalJSON {
	return WithdrawalJSON{Component: w.Component.String(), By: w.By, Created: w.Created}
}
