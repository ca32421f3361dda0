package postgres

import "time"

// Bounds of one call.
const (
	// statementTimeout bounds one statement on the server.
	statementTimeout = 30 * time.Second
	// lockTimeout bounds how long a statement waits for a row or table
	// lock another transaction holds.
	lockTimeout = 10 * time.Second
	// connectTimeout bounds opening one connection.
	connectTimeout = 10 * time.Second
	// maxAttempts bounds the runs of a transaction that meets
	// serialization failures or deadlocks.
	maxAttempts = 5
)
