package group

import "errors"

// Errors the coordinator returns; package creek exports each under the
// same name and maps it to its Kafka error code.
var (
	ErrUnknownMemberID           = errors.New("creek: unknown group member")
	ErrIllegalGeneration         = errors.New("creek: illegal group generation")
	ErrRebalanceInProgress       = errors.New("creek: group rebalance in progress")
	ErrMemberIDRequired          = errors.New("creek: member id required")
	ErrFencedInstanceID          = errors.New("creek: group instance id fenced by a newer member")
	ErrInconsistentGroupProtocol = errors.New("creek: inconsistent group protocol")
	ErrInvalidSessionTimeout     = errors.New("creek: invalid session timeout")
	ErrNonEmptyGroup             = errors.New("creek: group has members")
	ErrInvalidGroupID            = errors.New("creek: invalid group id")
	ErrClosed                    = errors.New("creek: closed")
	ErrNotCoordinator            = errors.New("creek: not the group's coordinator")
)
