// Package health checks external services for the Nimbus server: Checker
// performs one HTTP GET of an endpoint's health path (2xx is healthy; the
// detail never shows a token, a password or a secret-named query value),
// and Monitor runs checks on an interval for many services, timed by an
// internal/clock.Clock.
package health
