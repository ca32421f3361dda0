package client

import (
	"context"
	"net/http"

	"github.com/teeup/teeup/tam/catalog"
)

// Withdraw withdraws a TA (TA/AUTHOR/NAME or ['TA','AUTHOR','NAME']):
// devices running it unlink it at their next session.
func (c *Client) Withdraw(ctx context.Context, component string) (catalog.WithdrawalJSON, error) {
	var out catalog.WithdrawalJSON
	return out, c.Do(ctx, http.MethodPost, "/api/v1/withdrawals", catalog.WithdrawalRequest{Component: component}, &out)
}

// Withdrawals lists the withdrawals in force, each with the devices that
// still run its TA.
func (c *Client) Withdrawals(ctx context.Context) ([]catalog.WithdrawalStatusJSON, error) {
	var out []catalog.WithdrawalStatusJSON
	return out, c.Do(ctx, http.MethodGet, "/api/v1/withdrawals", nil, &out)
}

// CancelWithdrawal ends a TA's withdrawal and returns it.
func (c *Client) CancelWithdrawal(ctx context.Context, component string) (catalog.WithdrawalJSON, error) {
	var out catalog.WithdrawalJSON
	return out, c.Do(ctx, http.MethodPost, "/api/v1/withdrawals/cancel", catalog.WithdrawalRequest{Component: component}, &out)
}
