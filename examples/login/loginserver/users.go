package loginserver

import (
	"errors"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// DemoEmail and DemoPassword are the user the store is seeded with.
const (
	DemoEmail    = "test@email.com"
	DemoPassword = "creek-demo-password"
)

// Users is a user store: email → bcrypt hash. It never holds a password.
type Users struct {
	mu     sync.RWMutex
	hashes map[string][]byte
}

// NewUsers returns a store seeded with the demo user.
func NewUsers() (*Users, error) {
	u := &Users{hashes: map[string][]byte{}}
	return u, u.Add(DemoEmail, DemoPassword)
}

// Add stores a user's password as a bcrypt hash.
func (u *Users) Add(email, password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.hashes[normalize(email)] = hash
	return nil
}

// Check reports whether the password is the user's. An unknown email
// costs the same bcrypt comparison, so timing does not tell which emails
// exist.
func (u *Users) Check(email, password string) bool {
	u.mu.RLock()
	hash, ok := u.hashes[normalize(email)]
	u.mu.RUnlock()
	if !ok {
		hash = unknownUserHash
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	return ok && err == nil
}

func normalize(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// unknownUserHash is compared against for unknown emails.
var unknownUserHash = func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("no user has this password"), bcrypt.DefaultCost)
	if err != nil {
		panic(errors.Join(errors.New("bcrypt"), err))
	}
	return h
}()
