// Package loginserver is the server half of the login application: it
// answers login requests that arrive on a Kafka topic with replies on
// another, checking passwords against bcrypt hashes.
package loginserver

// Topics the login flow uses. Requests are keyed by their correlation ID,
// so a reply can be matched to its request.
const (
	RequestsTopic = "login.requests"
	RepliesTopic  = "login.replies"
	// Group is the consumer group of the login servers: several servers
	// share the requests' partitions.
	Group = "login-server"
)

// Request is a login attempt, the JSON value of a record on RequestsTopic.
type Request struct {
	CorrelationID string `json:"correlationId"`
	Email         string `json:"email"`
	Password      string `json:"password"`
}

// Reply answers a Request, the JSON value of a record on RepliesTopic.
type Reply struct {
	CorrelationID string `json:"correlationId"`
	OK            bool   `json:"ok"`
	Message       string `json:"message"`
}
