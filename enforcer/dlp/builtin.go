package dlp

import "sort"

// builtins are patterns a policy may use by name alone ({name: aws_access_key}).
// They favour precision: each matches a documented, prefixed token format.
var builtins = map[string]string{ //nolint:gosec // detection patterns, not credentials
	// AWS access key ids (long-term AKIA, temporary ASIA).
	"aws_access_key": `\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`,
	// GitHub tokens: personal, OAuth, user-to-server, server-to-server, refresh; and fine-grained PATs.
	"github_token": `\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b`,
	// Slack bot, user, app and refresh tokens.
	"slack_token": `\bxox[abeprs]-[A-Za-z0-9-]{10,250}\b`,
	// Google API keys.
	"google_api_key": `\bAIza[0-9A-Za-z_-]{35}\b`,
	// Stripe live secret and restricted keys.
	"stripe_key": `\b[sr]k_live_[0-9A-Za-z]{20,247}\b`,
	// OpenAI and Anthropic API keys.
	"openai_key":    `\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}\b`,
	"anthropic_key": `\bsk-ant-[A-Za-z0-9_-]{32,}\b`,
	// PEM private keys of any type, header to footer.
	"private_key": `-----BEGIN[A-Z ]{0,20} PRIVATE KEY(?: BLOCK)?-----[\s\S]+?-----END[A-Z ]{0,20} PRIVATE KEY(?: BLOCK)?-----`,
	// JSON Web Tokens (three base64url parts, header and payload JSON objects).
	"jwt": `\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}`,
}

// Builtins returns the names of the built-in patterns, sorted.
func Builtins() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
